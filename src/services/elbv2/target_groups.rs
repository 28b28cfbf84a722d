//! Target groups: Create/Describe/Modify/DeleteTargetGroup, with health check defaults per
//! protocol (Elastic Load Balancing API Reference, CreateTargetGroup; User Guide for
//! Application Load Balancers, "Health checks for your target groups"): HTTP(S) groups check
//! `HTTP(S) traffic-port /` every 30 s with a 5 s (HTTP) or 10 s (HTTPS) timeout, healthy after
//! 5 and unhealthy after 2, matcher `200`; TCP-family groups check `TCP traffic-port` every
//! 30 s with a 10 s timeout.

use serde::{Deserialize, Serialize};

use super::attributes::default_tg_attributes;
use super::errors::Elbv2Error;
use super::errors::{
    ArnKind, invalid_configuration, missing, page_size, paginate, target_group_not_found,
    validation,
};
use super::load_balancers::{check_resource_name, hex16};
use super::store::{Elbv2Store, HealthCheck, TargetGroup};
use super::tags::{Tag, check_tags, set_tags};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::ids::arn;
use crate::state::{AppState, Topic};

const PROTOCOLS: &[&str] = &["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Matcher {
    http_code: Option<String>,
    grpc_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HealthInput {
    health_check_protocol: Option<String>,
    health_check_port: Option<String>,
    health_check_enabled: Option<bool>,
    health_check_path: Option<String>,
    health_check_interval_seconds: Option<i64>,
    health_check_timeout_seconds: Option<i64>,
    healthy_threshold_count: Option<i64>,
    unhealthy_threshold_count: Option<i64>,
    matcher: Option<Matcher>,
}

/// The input of create_target_group.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    name: String,
    protocol: Option<String>,
    protocol_version: Option<String>,
    port: Option<i64>,
    vpc_id: Option<String>,
    target_type: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    ip_address_type: Option<String>,
    #[serde(flatten)]
    health: HealthInput,
}

/// The health check a new group of `protocol` gets.
pub fn default_health(protocol: &str) -> HealthCheck {
    let l7 = matches!(protocol, "HTTP" | "HTTPS");
    HealthCheck {
        enabled: true,
        protocol: if l7 {
            protocol.to_owned()
        } else {
            "TCP".into()
        },
        port: "traffic-port".into(),
        path: l7.then(|| "/".to_owned()),
        interval: 30,
        timeout: if protocol == "HTTP" { 5 } else { 10 },
        healthy_threshold: 5,
        unhealthy_threshold: 2,
        matcher: l7.then(|| "200".to_owned()),
    }
}

/// Whether a matcher (`200`, `200,202`, `200-299`) is well formed with codes in 200–499.
pub fn matcher_ok(m: &str) -> bool {
    let code = |s: &str| s.parse::<u16>().is_ok_and(|c| (200..=499).contains(&c));
    !m.is_empty()
        && m.split(',').all(|part| match part.split_once('-') {
            Some((a, b)) => code(a) && code(b) && a.parse::<u16>().ok() <= b.parse::<u16>().ok(),
            None => code(part),
        })
}

/// Apply requested health check settings to `h` for a group of `protocol`, with AWS's checks.
fn apply_health(h: &mut HealthCheck, req: &HealthInput, protocol: &str) -> Result<(), ApiError> {
    let l7 = matches!(protocol, "HTTP" | "HTTPS");
    if let Some(p) = &req.health_check_protocol {
        if !matches!(p.as_str(), "HTTP" | "HTTPS" | "TCP") {
            return Err(validation(format!(
                "Health check protocol '{p}' must be one of [HTTP, HTTPS, TCP]"
            )));
        }
        if l7 && p == "TCP" {
            return Err(invalid_configuration(format!(
                "Health check protocol 'TCP' is not supported for target groups with the {protocol} protocol"
            )));
        }
        h.protocol = p.clone();
        if p == "TCP" {
            h.path = None;
            h.matcher = None;
        } else {
            h.path.get_or_insert_with(|| "/".into());
            h.matcher.get_or_insert_with(|| "200".into());
        }
    }
    if let Some(enabled) = req.health_check_enabled {
        if !enabled {
            return Err(invalid_configuration(
                "Health checks cannot be disabled for target groups with target type 'instance' or 'ip'",
            ));
        }
        h.enabled = true;
    }
    if let Some(port) = &req.health_check_port {
        if port != "traffic-port" && !port.parse::<u16>().is_ok_and(|p| p > 0) {
            return Err(validation(format!(
                "Health check port '{port}' must be 'traffic-port' or a number between 1 and 65535"
            )));
        }
        h.port = port.clone();
    }
    if let Some(path) = &req.health_check_path {
        if h.protocol == "TCP" {
            return Err(invalid_configuration(
                "A health check path cannot be specified for the TCP health check protocol",
            ));
        }
        if !path.starts_with('/') || path.len() > 1024 {
            return Err(validation(format!(
                "Health check path '{path}' must begin with '/' and be at most 1024 characters"
            )));
        }
        h.path = Some(path.clone());
    }
    let range = |v: Option<i64>, lo: i64, hi: i64, name: &str| -> Result<Option<i64>, ApiError> {
        match v {
            Some(n) if !(lo..=hi).contains(&n) => Err(validation(format!(
                "1 validation error detected: Value '{n}' at '{name}' failed to satisfy constraint: Member must have value between {lo} and {hi}"
            ))),
            v => Ok(v),
        }
    };
    if let Some(n) = range(
        req.health_check_interval_seconds,
        5,
        300,
        "healthCheckIntervalSeconds",
    )? {
        h.interval = n;
    }
    if let Some(n) = range(
        req.health_check_timeout_seconds,
        2,
        120,
        "healthCheckTimeoutSeconds",
    )? {
        h.timeout = n;
    }
    if let Some(n) = range(req.healthy_threshold_count, 2, 10, "healthyThresholdCount")? {
        h.healthy_threshold = n;
    }
    if let Some(n) = range(
        req.unhealthy_threshold_count,
        2,
        10,
        "unhealthyThresholdCount",
    )? {
        h.unhealthy_threshold = n;
    }
    if h.timeout >= h.interval {
        return Err(invalid_configuration(
            "Health check interval must be greater than the timeout.",
        ));
    }
    if let Some(m) = &req.matcher {
        if m.grpc_code.is_some() {
            return Err(invalid_configuration(
                "Updraft does not support gRPC health checks; use Matcher HttpCode",
            ));
        }
        if let Some(code) = &m.http_code {
            if h.protocol == "TCP" {
                return Err(invalid_configuration(
                    "A matcher cannot be specified for the TCP health check protocol",
                ));
            }
            if !matcher_ok(code) {
                return Err(validation(format!(
                    "Health check matcher HTTP code '{code}' must be a value between 200 and 499, a list or a range"
                )));
            }
            h.matcher = Some(code.clone());
        }
    }
    Ok(())
}

/// `TargetGroup` as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupOut {
    target_group_arn: String,
    target_group_name: String,
    protocol: Option<String>,
    port: Option<i64>,
    vpc_id: Option<String>,
    health_check_protocol: String,
    health_check_port: String,
    health_check_enabled: bool,
    health_check_interval_seconds: i64,
    health_check_timeout_seconds: i64,
    healthy_threshold_count: i64,
    unhealthy_threshold_count: i64,
    health_check_path: Option<String>,
    matcher: Option<MatcherOut>,
    load_balancer_arns: Vec<String>,
    target_type: String,
    protocol_version: Option<String>,
    ip_address_type: String,
}

/// `Matcher`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MatcherOut {
    http_code: String,
}

/// The output of Create/Modify/DescribeTargetGroups.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupsOutput {
    target_groups: Vec<TargetGroupOut>,
    next_marker: Option<String>,
}

/// The API view of a target group.
pub fn view(store: &Elbv2Store, tg: &TargetGroup) -> TargetGroupOut {
    let h = &tg.health;
    TargetGroupOut {
        target_group_arn: tg.arn.clone(),
        target_group_name: tg.name.clone(),
        protocol: tg.protocol.clone(),
        port: tg.port,
        vpc_id: tg.vpc_id.clone(),
        health_check_protocol: h.protocol.clone(),
        health_check_port: h.port.clone(),
        health_check_enabled: h.enabled,
        health_check_interval_seconds: h.interval,
        health_check_timeout_seconds: h.timeout,
        healthy_threshold_count: h.healthy_threshold,
        unhealthy_threshold_count: h.unhealthy_threshold,
        health_check_path: h.path.clone(),
        matcher: h.matcher.as_ref().map(|m| MatcherOut {
            http_code: m.clone(),
        }),
        load_balancer_arns: store.load_balancers_of(&tg.arn),
        target_type: tg.target_type.clone(),
        protocol_version: tg.protocol_version.clone(),
        ip_address_type: tg.ip_address_type.clone(),
    }
}

/// CreateTargetGroup: idempotent on the name when the settings are the same.
pub fn create_target_group(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateInput,
) -> Result<TargetGroupsOutput, ApiError> {
    check_resource_name(&req.name, "Target group")?;
    check_tags(&req.tags)?;
    let target_type = req.target_type.clone().unwrap_or_else(|| "instance".into());
    if matches!(target_type.as_str(), "lambda" | "alb") {
        return Err(validation(format!(
            "Updraft does not support target type '{target_type}'; use instance or ip"
        )));
    }
    let protocol = req
        .protocol
        .clone()
        .ok_or_else(|| validation("A protocol must be specified"))?;
    if !PROTOCOLS.contains(&protocol.as_str()) {
        return Err(validation(format!(
            "Protocol '{protocol}' is not supported; use one of {}",
            PROTOCOLS.join(", ")
        )));
    }
    let port = req
        .port
        .ok_or_else(|| validation("A port must be specified"))?;
    if !(1..=65535).contains(&port) {
        return Err(validation(format!(
            "1 validation error detected: Value '{port}' at 'port' failed to satisfy constraint: Member must have value between 1 and 65535"
        )));
    }
    let vpc_id = req
        .vpc_id
        .clone()
        .ok_or_else(|| validation("A VPC ID must be specified"))?;
    let l7 = matches!(protocol.as_str(), "HTTP" | "HTTPS");
    let protocol_version = match (&req.protocol_version, l7) {
        (Some(v), true) if matches!(v.as_str(), "HTTP1" | "HTTP2" | "GRPC") => Some(v.clone()),
        (Some(v), _) => {
            return Err(validation(format!(
                "Protocol version '{v}' is not valid for protocol '{protocol}'"
            )));
        }
        (None, true) => Some("HTTP1".into()),
        (None, false) => None,
    };
    let mut health = default_health(&protocol);
    apply_health(&mut health, &req.health, &protocol)?;
    let scope = ctx.scope.clone();
    let out = state.stores.with(&scope, |s| {
        s.ec2.ensure_defaults(&scope, state);
        if !s.ec2.vpcs.contains_key(&vpc_id) {
            return Err(validation(format!("The VPC ID '{vpc_id}' is not found")));
        }
        if let Some(existing) = s.elbv2.target_groups.values().find(|t| t.name == req.name) {
            let same = existing.protocol.as_deref() == Some(protocol.as_str())
                && existing.port == Some(port)
                && existing.vpc_id.as_deref() == Some(vpc_id.as_str())
                && existing.target_type == target_type
                && existing.health == health;
            if !same {
                return Err(Elbv2Error::DuplicateTargetGroupName.with(format!(
                    "A target group with the same name '{}' exists, but with different settings",
                    req.name
                )));
            }
            return Ok(view(&s.elbv2, existing));
        }
        if s.elbv2.target_groups.len() >= 3000 {
            return Err(Elbv2Error::TooManyTargetGroups
                .with("The quota for the number of target groups has been reached"));
        }
        let tg_arn = arn(
            "elasticloadbalancing",
            &scope.region,
            &scope.account,
            &format!("targetgroup/{}/{}", req.name, hex16(state)),
        );
        let tg = TargetGroup {
            arn: tg_arn.clone(),
            name: req.name.clone(),
            protocol: Some(protocol.clone()),
            protocol_version,
            port: Some(port),
            vpc_id: Some(vpc_id.clone()),
            attributes: default_tg_attributes(&target_type, Some(&protocol)),
            target_type,
            ip_address_type: req.ip_address_type.clone().unwrap_or_else(|| "ipv4".into()),
            health,
            targets: Default::default(),
        };
        s.elbv2.target_groups.insert(tg_arn.clone(), tg);
        set_tags(&mut s.elbv2, &tg_arn, &req.tags);
        tracing::info!(target_group = %tg_arn, "target group created");
        Ok(view(&s.elbv2, &s.elbv2.target_groups[&tg_arn]))
    })?;
    Ok(TargetGroupsOutput {
        target_groups: vec![out],
        next_marker: None,
    })
}

/// The input of describe_target_groups.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    load_balancer_arn: Option<String>,
    target_group_arns: Vec<String>,
    names: Vec<String>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// DescribeTargetGroups: by ARN (≤ 20), by name, by load balancer, or all.
pub fn describe_target_groups(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<TargetGroupsOutput, ApiError> {
    let given = [
        req.load_balancer_arn.is_some(),
        !req.target_group_arns.is_empty(),
        !req.names.is_empty(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(validation(
            "Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time",
        ));
    }
    if req.target_group_arns.len() > 20 {
        return Err(validation(
            "You cannot describe more than '20' target groups at a time",
        ));
    }
    let page = page_size(req.page_size, 400)?;
    let views = state.stores.with(&ctx.scope, |s| {
        let store = &s.elbv2;
        if let Some(lb) = &req.load_balancer_arn {
            if !store.load_balancers.contains_key(lb) {
                return Err(super::errors::load_balancer_not_found());
            }
            let arns = store.target_groups_of(lb);
            return Ok(store
                .target_groups
                .values()
                .filter(|t| arns.contains(&t.arn))
                .map(|t| view(store, t))
                .collect());
        }
        if !req.target_group_arns.is_empty() {
            return req
                .target_group_arns
                .iter()
                .map(|a| {
                    store
                        .target_groups
                        .get(a)
                        .map(|t| view(store, t))
                        .ok_or_else(|| missing(&ctx.scope, a, ArnKind::TargetGroup))
                })
                .collect::<Result<Vec<_>, _>>();
        }
        if !req.names.is_empty() {
            let missing: Vec<&str> = req
                .names
                .iter()
                .filter(|n| !store.target_groups.values().any(|t| t.name == **n))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(Elbv2Error::TargetGroupNotFound.with(format!(
                    "Target groups '[{}]' not found",
                    missing.join(", ")
                )));
            }
            return Ok(store
                .target_groups
                .values()
                .filter(|t| req.names.contains(&t.name))
                .map(|t| view(store, t))
                .collect());
        }
        Ok(store
            .target_groups
            .values()
            .map(|t| view(store, t))
            .collect())
    })?;
    let (items, next) = paginate(views, req.marker.as_deref(), page)?;
    Ok(TargetGroupsOutput {
        target_groups: items,
        next_marker: next,
    })
}

/// The input of modify_target_group.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyInput {
    target_group_arn: String,
    #[serde(flatten)]
    health: HealthInput,
}

/// ModifyTargetGroup: health check settings.
pub fn modify_target_group(
    ctx: &RequestContext,
    state: &AppState,
    req: ModifyInput,
) -> Result<TargetGroupsOutput, ApiError> {
    let out = state.stores.with(&ctx.scope, |s| {
        let tg = s
            .elbv2
            .target_groups
            .get_mut(&req.target_group_arn)
            .ok_or_else(target_group_not_found)?;
        let mut health = tg.health.clone();
        let protocol = tg.protocol.clone().unwrap_or_default();
        apply_health(&mut health, &req.health, &protocol)?;
        tg.health = health;
        Ok::<_, ApiError>(view(
            &s.elbv2,
            &s.elbv2.target_groups[&req.target_group_arn],
        ))
    })?;
    state.touched(Topic::Elbv2);
    Ok(TargetGroupsOutput {
        target_groups: vec![out],
        next_marker: None,
    })
}

/// The input of delete_target_group.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    target_group_arn: String,
}

/// DeleteTargetGroup: refused while a listener or rule forwards to it; an unknown ARN
/// succeeds (the model lists no NotFound error for this call).
pub fn delete_target_group(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        if store.target_group_in_use(&req.target_group_arn) {
            return Err(Elbv2Error::ResourceInUse.with(format!(
                "Target group '{}' is currently in use by a listener or a rule",
                req.target_group_arn
            )));
        }
        if store
            .target_groups
            .shift_remove(&req.target_group_arn)
            .is_some()
        {
            store.tags.remove(&req.target_group_arn);
            store.cursors.remove(&req.target_group_arn);
            tracing::info!(target_group = %req.target_group_arn, "target group deleted");
        }
        Ok(())
    })?;
    state.touched(Topic::Elbv2);
    Ok(())
}
