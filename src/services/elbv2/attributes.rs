//! Load balancer, target group and listener attributes: AWS's default lists and the
//! Describe/Modify calls.
//!
//! Defaults are those a new load balancer or target group of the kind shows in
//! DescribeLoadBalancerAttributes / DescribeTargetGroupAttributes (Elastic Load Balancing API
//! Reference, the attribute tables of LoadBalancerAttribute and TargetGroupAttribute). Every
//! value is stored; the ones Updraft acts on are `deletion_protection.enabled`,
//! `deregistration_delay.timeout_seconds`, `stickiness.*` and `load_balancing.algorithm.type`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::errors::{ArnKind, invalid_configuration, missing};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, Topic};

/// One attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

fn map(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The attributes of a new load balancer of `kind`.
pub fn default_lb_attributes(kind: &str) -> IndexMap<String, String> {
    let common = [
        ("access_logs.s3.enabled", "false"),
        ("access_logs.s3.bucket", ""),
        ("access_logs.s3.prefix", ""),
        ("deletion_protection.enabled", "false"),
        ("zonal_shift.config.enabled", "false"),
    ];
    let mut m = map(&common);
    if kind == "network" {
        m.extend(map(&[
            ("load_balancing.cross_zone.enabled", "false"),
            ("ipv6.deny_all_igw_traffic", "false"),
            ("dns_record.client_routing_policy", "any_availability_zone"),
        ]));
    } else {
        m.extend(map(&[
            ("idle_timeout.timeout_seconds", "60"),
            ("client_keep_alive.seconds", "3600"),
            ("connection_logs.s3.enabled", "false"),
            ("connection_logs.s3.bucket", ""),
            ("connection_logs.s3.prefix", ""),
            ("health_check_logs.s3.enabled", "false"),
            ("health_check_logs.s3.bucket", ""),
            ("health_check_logs.s3.prefix", ""),
            ("routing.http2.enabled", "true"),
            ("routing.http.drop_invalid_header_fields.enabled", "false"),
            ("routing.http.preserve_host_header.enabled", "false"),
            (
                "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
                "false",
            ),
            ("routing.http.xff_client_port.enabled", "false"),
            ("routing.http.xff_header_processing.mode", "append"),
            ("routing.http.desync_mitigation_mode", "defensive"),
            ("load_balancing.cross_zone.enabled", "true"),
            ("waf.fail_open.enabled", "false"),
        ]));
    }
    m
}

/// The attributes of a new target group of `target_type` and `protocol`.
pub fn default_tg_attributes(
    target_type: &str,
    protocol: Option<&str>,
) -> IndexMap<String, String> {
    if target_type == "lambda" {
        return map(&[("lambda.multi_value_headers.enabled", "false")]);
    }
    let mut m = map(&[("deregistration_delay.timeout_seconds", "300")]);
    if matches!(protocol, Some("HTTP" | "HTTPS")) {
        m.extend(map(&[
            ("stickiness.enabled", "false"),
            ("stickiness.type", "lb_cookie"),
            ("stickiness.lb_cookie.duration_seconds", "86400"),
            ("stickiness.app_cookie.cookie_name", ""),
            ("stickiness.app_cookie.duration_seconds", "86400"),
            ("slow_start.duration_seconds", "0"),
            ("load_balancing.algorithm.type", "round_robin"),
            ("load_balancing.algorithm.anomaly_mitigation", "off"),
            (
                "load_balancing.cross_zone.enabled",
                "use_load_balancer_configuration",
            ),
            (
                "target_group_health.dns_failover.minimum_healthy_targets.count",
                "1",
            ),
            (
                "target_group_health.dns_failover.minimum_healthy_targets.percentage",
                "off",
            ),
            (
                "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
                "1",
            ),
            (
                "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
                "off",
            ),
        ]));
    } else {
        m.extend(map(&[
            ("stickiness.enabled", "false"),
            ("stickiness.type", "source_ip"),
            ("proxy_protocol_v2.enabled", "false"),
            ("preserve_client_ip.enabled", "true"),
            (
                "deregistration_delay.connection_termination.enabled",
                "false",
            ),
            (
                "load_balancing.cross_zone.enabled",
                "use_load_balancer_configuration",
            ),
        ]));
    }
    m
}

fn bad_value(key: &str, value: &str) -> ApiError {
    invalid_configuration(format!("The value of '{key}' cannot be '{value}'"))
}

fn int_in(key: &str, value: &str, lo: i64, hi: i64) -> Result<(), ApiError> {
    match value.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(invalid_configuration(format!(
            "The value of '{key}' must be an integer between {lo} and {hi}"
        ))),
    }
}

/// Check one attribute against its allowed values (for keys Updraft acts on or knows).
fn check_value(key: &str, value: &str) -> Result<(), ApiError> {
    match key {
        k if k.ends_with(".enabled") && k != "load_balancing.cross_zone.enabled" => {
            if matches!(value, "true" | "false") {
                Ok(())
            } else {
                Err(bad_value(key, value))
            }
        }
        "idle_timeout.timeout_seconds" => int_in(key, value, 1, 4000),
        "tcp.idle_timeout.seconds" => int_in(key, value, 60, 6000),
        "load_balancing.cross_zone.enabled"
            if !matches!(value, "true" | "false" | "use_load_balancer_configuration") =>
        {
            Err(bad_value(key, value))
        }
        "client_keep_alive.seconds" => int_in(key, value, 60, 604_800),
        "deregistration_delay.timeout_seconds" => int_in(key, value, 0, 3600),
        "stickiness.lb_cookie.duration_seconds" | "stickiness.app_cookie.duration_seconds" => {
            int_in(key, value, 1, 604_800)
        }
        "slow_start.duration_seconds" => {
            if value == "0" {
                Ok(())
            } else {
                int_in(key, value, 30, 900)
            }
        }
        "stickiness.type" if matches!(value, "lb_cookie" | "app_cookie" | "source_ip") => Ok(()),
        "load_balancing.algorithm.type"
            if matches!(
                value,
                "round_robin" | "least_outstanding_requests" | "weighted_random"
            ) =>
        {
            Ok(())
        }
        "stickiness.app_cookie.cookie_name" => {
            let reserved = ["AWSALB", "AWSALBAPP", "AWSALBTG"];
            if reserved.iter().any(|r| value.starts_with(r)) {
                Err(invalid_configuration(format!(
                    "The cookie name '{value}' is reserved by the load balancer"
                )))
            } else {
                Ok(())
            }
        }
        "stickiness.type" | "load_balancing.algorithm.type" => Err(bad_value(key, value)),
        _ => Ok(()),
    }
}

/// Apply `changes` to `current`: unknown keys and bad values fail the whole call. `lb_level`:
/// the attributes are a load balancer's (its cross-zone switch is on or off; a target group's
/// may also defer to its load balancer's).
fn apply(
    current: &mut IndexMap<String, String>,
    changes: &[Attribute],
    lb_level: bool,
) -> Result<(), ApiError> {
    let mut next = current.clone();
    for a in changes {
        let key = a.key.clone().unwrap_or_default();
        let value = a.value.clone().unwrap_or_default();
        if !next.contains_key(&key) {
            return Err(invalid_configuration(format!(
                "Key '{key}' not valid for this resource"
            )));
        }
        if lb_level
            && key == "load_balancing.cross_zone.enabled"
            && !matches!(value.as_str(), "true" | "false")
        {
            return Err(bad_value(&key, &value));
        }
        check_value(&key, &value)?;
        next.insert(key, value);
    }
    if next
        .get("slow_start.duration_seconds")
        .is_some_and(|v| v != "0")
        && next
            .get("load_balancing.algorithm.type")
            .map(String::as_str)
            == Some("least_outstanding_requests")
    {
        return Err(invalid_configuration(
            "Slow start cannot be used with the least outstanding requests algorithm",
        ));
    }
    *current = next;
    Ok(())
}

fn list(attrs: &IndexMap<String, String>) -> Vec<Attribute> {
    attrs
        .iter()
        .map(|(k, v)| Attribute {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

/// The output of every Describe/Modify…Attributes operation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributesOutput {
    attributes: Vec<Attribute>,
}

/// The input of every Describe/Modify…Attributes operation (each reads its ARN).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributesInput {
    load_balancer_arn: Option<String>,
    target_group_arn: Option<String>,
    listener_arn: Option<String>,
    #[serde(default)]
    attributes: Vec<Attribute>,
}

enum Which {
    Lb,
    Tg,
    Listener,
}

fn run(
    ctx: &RequestContext,
    state: &AppState,
    req: AttributesInput,
    which: Which,
    modify: bool,
) -> Result<AttributesOutput, ApiError> {
    let attrs = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        let arn = req
            .load_balancer_arn
            .as_deref()
            .or(req.target_group_arn.as_deref())
            .or(req.listener_arn.as_deref())
            .unwrap_or_default();
        let lb_level = matches!(which, Which::Lb);
        let target = match which {
            Which::Lb => store
                .load_balancers
                .get_mut(req.load_balancer_arn.as_deref().unwrap_or_default())
                .map(|l| &mut l.attributes)
                .ok_or_else(|| missing(&ctx.scope, arn, ArnKind::LoadBalancer))?,
            Which::Tg => store
                .target_groups
                .get_mut(req.target_group_arn.as_deref().unwrap_or_default())
                .map(|t| &mut t.attributes)
                .ok_or_else(|| missing(&ctx.scope, arn, ArnKind::TargetGroup))?,
            Which::Listener => store
                .listeners
                .get_mut(req.listener_arn.as_deref().unwrap_or_default())
                .map(|l| &mut l.attributes)
                .ok_or_else(|| missing(&ctx.scope, arn, ArnKind::Listener))?,
        };
        if modify {
            apply(target, &req.attributes, lb_level)?;
            // AWS answers a modify with the attributes it changed.
            let changed: IndexMap<String, String> = req
                .attributes
                .iter()
                .filter_map(|a| {
                    let k = a.key.clone()?;
                    target.get(&k).map(|v| (k, v.clone()))
                })
                .collect();
            Ok(list(&changed))
        } else {
            Ok::<_, ApiError>(list(target))
        }
    })?;
    if modify {
        state.touched(Topic::Elbv2);
    }
    Ok(AttributesOutput { attributes: attrs })
}

/// DescribeLoadBalancerAttributes.
pub fn describe_load_balancer_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: AttributesInput,
) -> Result<AttributesOutput, ApiError> {
    run(ctx, state, req, Which::Lb, false)
}

/// ModifyLoadBalancerAttributes.
pub fn modify_load_balancer_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: AttributesInput,
) -> Result<AttributesOutput, ApiError> {
    run(ctx, state, req, Which::Lb, true)
}

/// DescribeTargetGroupAttributes.
pub fn describe_target_group_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: AttributesInput,
) -> Result<AttributesOutput, ApiError> {
    run(ctx, state, req, Which::Tg, false)
}

/// ModifyTargetGroupAttributes.
pub fn modify_target_group_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: AttributesInput,
) -> Result<AttributesOutput, ApiError> {
    run(ctx, state, req, Which::Tg, true)
}

/// DescribeListenerAttributes.
pub fn describe_listener_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: AttributesInput,
) -> Result<AttributesOutput, ApiError> {
    run(ctx, state, req, Which::Listener, false)
}

/// ModifyListenerAttributes.
pub fn modify_listener_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: AttributesInput,
) -> Result<AttributesOutput, ApiError> {
    run(ctx, state, req, Which::Listener, true)
}
