//! Policies (stickiness and the generic kind) and policy types.

use serde::{Deserialize, Serialize};

use super::errors::ElbError;
use super::ssl_negotiation::{self, NEGOTIATION_TYPE};
use super::store::Policy;
use super::{invalid_configuration, not_found, validation, with_lb};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// Duration-based (load balancer cookie) stickiness.
pub const LB_COOKIE_TYPE: &str = "LBCookieStickinessPolicyType";
/// Application-controlled stickiness.
pub const APP_COOKIE_TYPE: &str = "AppCookieStickinessPolicyType";

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
        NEGOTIATION_TYPE,
        "Listener policy that defines the ciphers and protocols that will be accepted by the load balancer. This policy can be associated only with HTTPS/SSL listeners.",
        // Also one Boolean attribute per cipher (`ssl_negotiation::is_attribute`).
        &[
            ("Reference-Security-Policy", "String", "ZERO_OR_ONE"),
            ("Protocol-SSLv3", "Boolean", "ZERO_OR_ONE"),
            ("Protocol-TLSv1", "Boolean", "ZERO_OR_ONE"),
            ("Protocol-TLSv1.1", "Boolean", "ZERO_OR_ONE"),
            ("Protocol-TLSv1.2", "Boolean", "ZERO_OR_ONE"),
            ("Server-Defined-Cipher-Order", "Boolean", "ZERO_OR_ONE"),
        ],
    ),
];

/// `PolicyTypeDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyTypeOut {
    policy_type_name: &'static str,
    description: &'static str,
    policy_attribute_type_descriptions: Vec<AttributeTypeOut>,
}

/// `PolicyAttributeTypeDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeTypeOut {
    attribute_name: &'static str,
    attribute_type: &'static str,
    cardinality: &'static str,
}

fn type_description(t: &PolicyType) -> PolicyTypeOut {
    PolicyTypeOut {
        policy_type_name: t.0,
        description: t.1,
        policy_attribute_type_descriptions: t
            .2
            .iter()
            .map(
                |(attribute_name, attribute_type, cardinality)| AttributeTypeOut {
                    attribute_name,
                    attribute_type,
                    cardinality,
                },
            )
            .collect(),
    }
}

fn duplicate(policy: &str, lb: &str) -> ApiError {
    ElbError::DuplicatePolicyName.with(format!(
        "Policy name {policy} already exists for load balancer {lb}"
    ))
}

fn policy_not_found(policy: &str) -> ApiError {
    ElbError::PolicyNotFound.with(format!(
        "There is no policy with name {policy} for load balancer"
    ))
}

fn policy_type_not_found(name: &str) -> ApiError {
    ElbError::PolicyTypeNotFound.with(format!("There is no policy type named {name}"))
}

fn add_policy(
    ctx: &RequestContext,
    state: &AppState,
    lb_name: &str,
    policy_name: &str,
    policy: Policy,
) -> Result<(), ApiError> {
    if policy_name.is_empty() {
        return Err(validation("PolicyName must not be empty."));
    }
    with_lb(state, &ctx.scope, lb_name, |lb, _| {
        if lb.policies.contains_key(policy_name) {
            return Err(duplicate(policy_name, &lb.name));
        }
        if lb.policies.len() >= 100 {
            return Err(ElbError::TooManyPolicies
                .with("Exceeded the number of policies for this load balancer."));
        }
        lb.policies.insert(policy_name.to_owned(), policy);
        Ok(())
    })
}

/// The input of Create{LB,App}CookieStickinessPolicy.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CookiePolicyInput {
    load_balancer_name: String,
    policy_name: String,
    cookie_expiration_period: Option<i64>,
    cookie_name: String,
}

/// CreateLBCookieStickinessPolicy.
pub fn create_lb_cookie_stickiness_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: CookiePolicyInput,
) -> Result<(), ApiError> {
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
pub fn create_app_cookie_stickiness_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: CookiePolicyInput,
) -> Result<(), ApiError> {
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

/// The input of the policy operations (each reads the members it has).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PolicyInput {
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
pub fn create_load_balancer_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: PolicyInput,
) -> Result<(), ApiError> {
    let t = POLICY_TYPES
        .iter()
        .find(|t| t.0 == req.policy_type_name)
        .ok_or_else(|| policy_type_not_found(&req.policy_type_name))?;
    let mut attributes = Vec::new();
    for a in &req.policy_attributes {
        let name = a.attribute_name.clone().unwrap_or_default();
        let known = if t.0 == NEGOTIATION_TYPE {
            ssl_negotiation::is_attribute(&name)
        } else {
            t.2.iter().any(|(n, _, _)| *n == name)
        };
        if !known {
            return Err(invalid_configuration(format!(
                "Attribute {name} is not valid for policy type {}",
                t.0
            )));
        }
        let value = a.attribute_value.clone().unwrap_or_default();
        if name == ssl_negotiation::REFERENCE && !ssl_negotiation::is_predefined(&value) {
            return Err(invalid_configuration(format!(
                "Reference-Security-Policy {value} is not a predefined security policy"
            )));
        }
        attributes.push((name, value));
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
pub fn delete_load_balancer_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: PolicyInput,
) -> Result<(), ApiError> {
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
        Ok(())
    })
}

/// SetLoadBalancerPoliciesOfListener (an empty list removes them all).
pub fn set_load_balancer_policies_of_listener(
    ctx: &RequestContext,
    state: &AppState,
    req: PolicyInput,
) -> Result<(), ApiError> {
    let name = req.load_balancer_name.clone().unwrap_or_default();
    with_lb(state, &ctx.scope, &name, |lb, _| {
        let port = req.load_balancer_port;
        let index = lb
            .listeners
            .iter()
            .position(|l| i64::from(l.lb_port) == port)
            .ok_or_else(|| {
                ElbError::ListenerNotFound.with(format!(
                    "There is no ACTIVE listener on port {port} for load balancer {name}"
                ))
            })?;
        let mut sticky = 0;
        let mut negotiation = 0;
        for p in &req.policy_names {
            let policy = lb.policies.get(p).ok_or_else(|| policy_not_found(p))?;
            if policy.type_name == NEGOTIATION_TYPE {
                negotiation += 1;
                let proto = &lb.listeners[index].protocol;
                if proto != "HTTPS" && proto != "SSL" {
                    return Err(invalid_configuration(format!(
                        "SSL negotiation policies can be set only on HTTPS/SSL listeners; port {port} is {proto}."
                    )));
                }
            }
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
        if negotiation > 1 {
            return Err(invalid_configuration(
                "A listener can have at most one SSL negotiation policy.",
            ));
        }
        lb.listeners[index].policy_names = req.policy_names.clone();
        Ok(())
    })
}

/// SetLoadBalancerPoliciesForBackendServer (an empty list removes them all).
pub fn set_load_balancer_policies_for_backend_server(
    ctx: &RequestContext,
    state: &AppState,
    req: PolicyInput,
) -> Result<(), ApiError> {
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
        Ok(())
    })
}

/// `PolicyDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyOut {
    policy_name: String,
    policy_type_name: String,
    policy_attribute_descriptions: Vec<AttributeOut>,
}

/// `PolicyAttributeDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeOut {
    attribute_name: String,
    attribute_value: String,
}

fn policy_description(name: &str, p: &Policy) -> PolicyOut {
    PolicyOut {
        policy_name: name.to_owned(),
        policy_type_name: p.type_name.clone(),
        policy_attribute_descriptions: p
            .attributes
            .iter()
            .map(|(k, v)| AttributeOut {
                attribute_name: k.clone(),
                attribute_value: v.clone(),
            })
            .collect(),
    }
}

/// DescribeLoadBalancerPolicies' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLoadBalancerPoliciesOutput {
    policy_descriptions: Vec<PolicyOut>,
}

/// DescribeLoadBalancerPolicies: a load balancer's policies, or (no name) the predefined
/// security policies AWS offers every account.
pub fn describe_load_balancer_policies(
    ctx: &RequestContext,
    state: &AppState,
    req: PolicyInput,
) -> Result<DescribeLoadBalancerPoliciesOutput, ApiError> {
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
        _ => ssl_negotiation::predefined(),
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
    Ok(DescribeLoadBalancerPoliciesOutput {
        policy_descriptions: out,
    })
}

/// DescribeLoadBalancerPolicyTypes' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLoadBalancerPolicyTypesOutput {
    policy_type_descriptions: Vec<PolicyTypeOut>,
}

/// DescribeLoadBalancerPolicyTypes.
pub fn describe_load_balancer_policy_types(
    _: &RequestContext,
    _: &AppState,
    req: PolicyInput,
) -> Result<DescribeLoadBalancerPolicyTypesOutput, ApiError> {
    let mut out = Vec::new();
    if req.policy_type_names.is_empty() {
        out.extend(POLICY_TYPES.iter().map(type_description));
    } else {
        for n in &req.policy_type_names {
            let t = POLICY_TYPES
                .iter()
                .find(|t| t.0 == n)
                .ok_or_else(|| policy_type_not_found(n))?;
            out.push(type_description(t));
        }
    }
    Ok(DescribeLoadBalancerPolicyTypesOutput {
        policy_type_descriptions: out,
    })
}
