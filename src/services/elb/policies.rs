//! Policies (stickiness and the generic kind), policy types, and tags.

use serde::Deserialize;
use serde_json::{Value, json};

use super::store::Policy;
use super::{invalid_configuration, not_found, validation, with_lb};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::AppState;

/// Duration-based (load balancer cookie) stickiness.
pub const LB_COOKIE_TYPE: &str = "LBCookieStickinessPolicyType";
/// Application-controlled stickiness.
pub const APP_COOKIE_TYPE: &str = "AppCookieStickinessPolicyType";
/// Tags per load balancer.
const MAX_TAGS: usize = 10;

/// A policy type: name, description, attributes (name, type, cardinality).
type PolicyType = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

/// The policy types.
const POLICY_TYPES: &[PolicyType] = &[
    (
        APP_COOKIE_TYPE,
        "Stickiness policy with session lifetimes controlled by the lifetime of the application-generated cookie. This policy can be associated only with HTTP/HTTPS listeners.",
        &[("CookieName", "String", "ONE")],
    ),
    (
        LB_COOKIE_TYPE,
        "Stickiness policy with session lifetimes controlled by the browser (user-agent) or a specified expiration period. This policy can be associated only with HTTP/HTTPS listeners.",
        &[("CookieExpirationPeriod", "Long", "ZERO_OR_ONE")],
    ),
    (
        "ProxyProtocolPolicyType",
        "Policy that controls whether to include the IP address and port of the originating request for TCP messages. This policy operates on TCP/SSL listeners only",
        &[("ProxyProtocol", "Boolean", "ONE")],
    ),
    (
        "PublicKeyPolicyType",
        "Policy containing a list of public keys to accept when authenticating the back-end server(s). This policy cannot be applied directly to back-end servers or listeners but must be part of a BackendServerAuthenticationPolicyType.",
        &[("PublicKey", "String", "ONE")],
    ),
    (
        "BackendServerAuthenticationPolicyType",
        "Policy that controls authentication to back-end server(s) and contains one or more policies, such as an instance of a PublicKeyPolicyType. This policy can be associated only with back-end servers that are using HTTPS/SSL.",
        &[("PublicKeyPolicyName", "PolicyName", "ONE_OR_MORE")],
    ),
    (
        "SSLNegotiationPolicyType",
        "Listener policy that defines the ciphers and protocols that will be accepted by the load balancer. This policy can be associated only with HTTPS/SSL listeners.",
        &[
            ("Reference-Security-Policy", "String", "ZERO_OR_ONE"),
            ("Protocol-TLSv1.2", "Boolean", "ZERO_OR_ONE"),
            ("Server-Defined-Cipher-Order", "Boolean", "ZERO_OR_ONE"),
        ],
    ),
];

fn type_description(t: &PolicyType) -> Value {
    json!({
        "PolicyTypeName": t.0,
        "Description": t.1,
        "PolicyAttributeTypeDescriptions": t.2.iter().map(|(n, ty, card)| json!({
            "AttributeName": n, "AttributeType": ty, "Cardinality": card,
        })).collect::<Vec<_>>(),
    })
}

fn duplicate(policy: &str, lb: &str) -> ApiError {
    ApiError::client(
        "DuplicatePolicyName",
        format!("Policy name {policy} already exists for load balancer {lb}"),
    )
}

fn policy_not_found(policy: &str) -> ApiError {
    ApiError::client(
        "PolicyNotFound",
        format!("There is no policy with name {policy} for load balancer"),
    )
}

fn add_policy(
    ctx: &RequestContext,
    state: &AppState,
    lb_name: &str,
    policy_name: &str,
    policy: Policy,
) -> Result<Value, ApiError> {
    if policy_name.is_empty() {
        return Err(validation("PolicyName must not be empty."));
    }
    with_lb(state, &ctx.scope, lb_name, |lb, _| {
        if lb.policies.contains_key(policy_name) {
            return Err(duplicate(policy_name, &lb.name));
        }
        if lb.policies.len() >= 100 {
            return Err(ApiError::client(
                "TooManyPolicies",
                "Exceeded the number of policies for this load balancer.",
            ));
        }
        lb.policies.insert(policy_name.to_owned(), policy);
        Ok(json!({}))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CookiePolicyInput {
    load_balancer_name: String,
    policy_name: String,
    cookie_expiration_period: Option<i64>,
    cookie_name: String,
}

/// CreateLBCookieStickinessPolicy.
pub fn create_lb_cookie_policy(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: CookiePolicyInput = parse_input(input)?;
    if req.cookie_expiration_period.is_some_and(|p| p < 0) {
        return Err(validation("CookieExpirationPeriod must not be negative."));
    }
    let attributes = req
        .cookie_expiration_period
        .map(|p| vec![("CookieExpirationPeriod".to_owned(), p.to_string())])
        .unwrap_or_default();
    add_policy(
        ctx,
        state,
        &req.load_balancer_name,
        &req.policy_name,
        Policy {
            type_name: LB_COOKIE_TYPE.into(),
            attributes,
        },
    )
}

/// CreateAppCookieStickinessPolicy.
pub fn create_app_cookie_policy(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: CookiePolicyInput = parse_input(input)?;
    if req.cookie_name.is_empty() {
        return Err(validation("CookieName must not be empty."));
    }
    add_policy(
        ctx,
        state,
        &req.load_balancer_name,
        &req.policy_name,
        Policy {
            type_name: APP_COOKIE_TYPE.into(),
            attributes: vec![("CookieName".into(), req.cookie_name.clone())],
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AttributeInput {
    attribute_name: Option<String>,
    attribute_value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PolicyInput {
    load_balancer_name: Option<String>,
    policy_name: String,
    policy_type_name: String,
    policy_attributes: Vec<AttributeInput>,
    policy_names: Vec<String>,
    policy_type_names: Vec<String>,
    load_balancer_port: i64,
    instance_port: i64,
}

/// CreateLoadBalancerPolicy.
pub fn create_policy(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: PolicyInput = parse_input(input)?;
    let t = POLICY_TYPES
        .iter()
        .find(|t| t.0 == req.policy_type_name)
        .ok_or_else(|| {
            ApiError::client(
                "PolicyTypeNotFound",
                format!("There is no policy type named {}", req.policy_type_name),
            )
        })?;
    let mut attributes = Vec::new();
    for a in &req.policy_attributes {
        let name = a.attribute_name.clone().unwrap_or_default();
        if !t.2.iter().any(|(n, _, _)| *n == name) {
            return Err(invalid_configuration(format!(
                "Attribute {name} is not valid for policy type {}",
                t.0
            )));
        }
        attributes.push((name, a.attribute_value.clone().unwrap_or_default()));
    }
    add_policy(
        ctx,
        state,
        req.load_balancer_name.as_deref().unwrap_or(""),
        &req.policy_name,
        Policy {
            type_name: t.0.to_owned(),
            attributes,
        },
    )
}

/// DeleteLoadBalancerPolicy (refused while a listener or back end uses it).
pub fn delete_policy(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: PolicyInput = parse_input(input)?;
    let name = req.load_balancer_name.clone().unwrap_or_default();
    with_lb(state, &ctx.scope, &name, |lb, _| {
        let used = lb
            .listeners
            .iter()
            .any(|l| l.policy_names.contains(&req.policy_name))
            || lb
                .backend_policies
                .values()
                .any(|p| p.contains(&req.policy_name));
        if used {
            return Err(invalid_configuration(format!(
                "Cannot delete policy {} because it is in use",
                req.policy_name
            )));
        }
        lb.policies.shift_remove(&req.policy_name);
        Ok(json!({}))
    })
}

/// SetLoadBalancerPoliciesOfListener (an empty list removes them all).
pub fn set_listener_policies(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: PolicyInput = parse_input(input)?;
    let name = req.load_balancer_name.clone().unwrap_or_default();
    with_lb(state, &ctx.scope, &name, |lb, _| {
        let port = req.load_balancer_port;
        let index = lb
            .listeners
            .iter()
            .position(|l| i64::from(l.lb_port) == port)
            .ok_or_else(|| {
                ApiError::client(
                    "ListenerNotFound",
                    format!("There is no ACTIVE listener on port {port} for load balancer {name}"),
                )
            })?;
        let mut sticky = 0;
        for p in &req.policy_names {
            let policy = lb.policies.get(p).ok_or_else(|| policy_not_found(p))?;
            if policy.type_name == LB_COOKIE_TYPE || policy.type_name == APP_COOKIE_TYPE {
                sticky += 1;
                let proto = &lb.listeners[index].protocol;
                if proto != "HTTP" && proto != "HTTPS" {
                    return Err(invalid_configuration(format!(
                        "Stickiness policies can be set only on HTTP/HTTPS listeners; port {port} is {proto}."
                    )));
                }
            }
        }
        if sticky > 1 {
            return Err(invalid_configuration(
                "A listener can have at most one stickiness policy.",
            ));
        }
        lb.listeners[index].policy_names = req.policy_names.clone();
        Ok(json!({}))
    })
}

/// SetLoadBalancerPoliciesForBackendServer (an empty list removes them all).
pub fn set_backend_policies(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: PolicyInput = parse_input(input)?;
    let name = req.load_balancer_name.clone().unwrap_or_default();
    let port = u16::try_from(req.instance_port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| validation("InstancePort must be between 1 and 65535."))?;
    with_lb(state, &ctx.scope, &name, |lb, _| {
        for p in &req.policy_names {
            if !lb.policies.contains_key(p) {
                return Err(policy_not_found(p));
            }
        }
        if req.policy_names.is_empty() {
            lb.backend_policies.remove(&port);
        } else {
            lb.backend_policies.insert(port, req.policy_names.clone());
        }
        Ok(json!({}))
    })
}

fn policy_description(name: &str, p: &Policy) -> Value {
    json!({
        "PolicyName": name,
        "PolicyTypeName": p.type_name,
        "PolicyAttributeDescriptions": p.attributes.iter()
            .map(|(k, v)| json!({ "AttributeName": k, "AttributeValue": v }))
            .collect::<Vec<_>>(),
    })
}

/// DescribeLoadBalancerPolicies: a load balancer's policies, or (no name) the samples AWS
/// offers every account.
pub fn describe_policies(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: PolicyInput = parse_input(input)?;
    let policies: Vec<(String, Policy)> = match req.load_balancer_name.as_deref() {
        Some(name) if !name.is_empty() => state.stores.with(&ctx.scope, |s| {
            s.elb
                .load_balancers
                .get(name)
                .map(|lb| {
                    lb.policies
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .ok_or_else(|| not_found(name))
        })?,
        _ => vec![(
            "ELBSample-ELBDefaultNegotiationPolicy".to_owned(),
            Policy {
                type_name: "SSLNegotiationPolicyType".into(),
                attributes: vec![(
                    "Reference-Security-Policy".into(),
                    "ELBSecurityPolicy-2016-08".into(),
                )],
            },
        )],
    };
    let mut out = Vec::new();
    if req.policy_names.is_empty() {
        out.extend(policies.iter().map(|(n, p)| policy_description(n, p)));
    } else {
        for n in &req.policy_names {
            let (_, p) = policies
                .iter()
                .find(|(k, _)| k == n)
                .ok_or_else(|| policy_not_found(n))?;
            out.push(policy_description(n, p));
        }
    }
    Ok(json!({ "PolicyDescriptions": out }))
}

/// DescribeLoadBalancerPolicyTypes.
pub fn describe_policy_types(
    _: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: PolicyInput = parse_input(input)?;
    let mut out = Vec::new();
    if req.policy_type_names.is_empty() {
        out.extend(POLICY_TYPES.iter().map(type_description));
    } else {
        for n in &req.policy_type_names {
            let t = POLICY_TYPES.iter().find(|t| t.0 == n).ok_or_else(|| {
                ApiError::client(
                    "PolicyTypeNotFound",
                    format!("There is no policy type named {n}"),
                )
            })?;
            out.push(type_description(t));
        }
    }
    Ok(json!({ "PolicyTypeDescriptions": out }))
}

/// A tag as given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagInput {
    key: String,
    value: Option<String>,
}

/// Check tags to add to a load balancer that has `existing` other keys.
pub fn check_new_tags(
    tags: &[TagInput],
    existing: usize,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 || t.key.starts_with("aws:") {
            return Err(validation(format!("Invalid tag key: {:?}", t.key)));
        }
        let value = t.value.clone().unwrap_or_default();
        if value.chars().count() > 256 {
            return Err(validation(format!("Invalid tag value for key {}", t.key)));
        }
        if out.iter().any(|(k, _)| k == &t.key) {
            return Err(ApiError::client(
                "DuplicateTagKeys",
                format!("Tag key {} is given more than once", t.key),
            ));
        }
        out.push((t.key.clone(), value));
    }
    if existing + out.len() > MAX_TAGS {
        return Err(ApiError::client(
            "TooManyTags",
            format!("A load balancer can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct TagsInput {
    load_balancer_names: Vec<String>,
    tags: Vec<TagInput>,
}

/// AddTags (one load balancer per call, as the API documents).
pub fn add_tags(ctx: &RequestContext, state: &AppState, input: Value) -> Result<Value, ApiError> {
    let req: TagsInput = parse_input(input)?;
    if req.load_balancer_names.len() != 1 {
        return Err(validation("AddTags takes exactly one load balancer name."));
    }
    with_lb(state, &ctx.scope, &req.load_balancer_names[0], |lb, _| {
        let new = check_new_tags(&req.tags, 0)?;
        let added = new.iter().filter(|(k, _)| !lb.tags.contains_key(k)).count();
        if lb.tags.len() + added > MAX_TAGS {
            return Err(ApiError::client(
                "TooManyTags",
                format!("A load balancer can have at most {MAX_TAGS} tags."),
            ));
        }
        lb.tags.extend(new);
        Ok(json!({}))
    })
}

/// RemoveTags.
pub fn remove_tags(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: TagsInput = parse_input(input)?;
    if req.load_balancer_names.len() != 1 {
        return Err(validation(
            "RemoveTags takes exactly one load balancer name.",
        ));
    }
    with_lb(state, &ctx.scope, &req.load_balancer_names[0], |lb, _| {
        for t in &req.tags {
            lb.tags.shift_remove(&t.key);
        }
        Ok(json!({}))
    })
}

/// DescribeTags (up to 20 load balancers).
pub fn describe_tags(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: TagsInput = parse_input(input)?;
    if req.load_balancer_names.is_empty() || req.load_balancer_names.len() > 20 {
        return Err(validation(
            "DescribeTags takes between 1 and 20 load balancer names.",
        ));
    }
    state.stores.with(&ctx.scope, |s| {
        let mut out = Vec::new();
        for n in &req.load_balancer_names {
            let lb = s.elb.load_balancers.get(n).ok_or_else(|| not_found(n))?;
            out.push(json!({
                "LoadBalancerName": lb.name,
                "Tags": lb.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>(),
            }));
        }
        Ok(json!({ "TagDescriptions": out }))
    })
}
