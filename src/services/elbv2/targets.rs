//! RegisterTargets, DeregisterTargets, DescribeTargetHealth, and the same operations for
//! other parts of Updraft (Auto Scaling registers its instances with its target groups).

use serde::{Deserialize, Serialize};

use super::errors::Elbv2Error;
use super::errors::{ArnKind, invalid_target, missing, target_group_not_found, validation};
use super::health::{self, HealthView};
use super::store::{Health, Target, TargetGroup};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::ec2::store::InstanceState;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, RegionStores, Scope, Topic};

/// Targets per target group.
const MAX_TARGETS: usize = 1000;

/// A target as the API names it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetDescription {
    /// Instance id or IP address.
    pub id: String,
    /// Port (defaults to the group's).
    pub port: Option<i64>,
    /// Availability Zone (ip targets).
    pub availability_zone: Option<String>,
}

fn port_of(tg: &TargetGroup, t: &TargetDescription) -> Result<u16, ApiError> {
    let p = t.port.or(tg.port).unwrap_or(80);
    u16::try_from(p).ok().filter(|p| *p > 0).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value '{p}' at 'targets.member.port' failed to satisfy constraint: Member must have value between 1 and 65535"
        ))
    })
}

/// Register targets (all or nothing). Re-registering a draining target brings it back.
pub fn register(
    s: &mut RegionStores,
    tg_arn: &str,
    targets: &[TargetDescription],
    now: f64,
) -> Result<(), ApiError> {
    let tg = s
        .elbv2
        .target_groups
        .get(tg_arn)
        .ok_or_else(target_group_not_found)?;
    let mut ready = Vec::new();
    for t in targets {
        let port = port_of(tg, t)?;
        if tg.target_type == "instance" {
            let i = s.ec2.instances.get(&t.id).ok_or_else(|| {
                invalid_target(format!(
                    "The following targets are not valid instances: '{}'",
                    t.id
                ))
            })?;
            if i.state != InstanceState::Running {
                return Err(invalid_target(format!(
                    "The following targets are not in a running state and cannot be registered: '{}'",
                    t.id
                )));
            }
            if tg.vpc_id.as_deref() != Some(i.vpc_id.as_str()) {
                return Err(invalid_target(format!(
                    "The following targets are not in the target group VPC '{}': '{}'",
                    tg.vpc_id.as_deref().unwrap_or_default(),
                    t.id
                )));
            }
        } else if t.id.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid_target(format!(
                "The IP address '{}' is not a valid IPv4 address",
                t.id
            )));
        }
        ready.push((t.id.clone(), port, t.availability_zone.clone()));
    }
    let tg = s
        .elbv2
        .target_groups
        .get_mut(tg_arn)
        .ok_or_else(target_group_not_found)?;
    let new = ready
        .iter()
        .filter(|(id, port, _)| !tg.targets.contains_key(&(id.clone(), *port)))
        .count();
    if tg.targets.len() + new > MAX_TARGETS {
        return Err(Elbv2Error::TooManyTargets
            .with("You've reached the limit on the number of targets per target group"));
    }
    for (id, port, az) in ready {
        let key = (id.clone(), port);
        match tg.targets.get_mut(&key) {
            Some(existing) if existing.draining_until.is_some() => {
                existing.draining_until = None;
                health::restart(existing, now);
            }
            Some(_) => {}
            None => {
                tracing::info!(target_group = %tg.arn, target = %id, port, "target registered");
                tg.targets.insert(
                    key,
                    Target {
                        id,
                        port,
                        availability_zone: az,
                        registered_at: now,
                        health: Health::Initial,
                        next_check: now + health::REGISTRATION_SECONDS,
                        passes: 0,
                        failures: 0,
                        draining_until: None,
                        in_flight: 0,
                    },
                );
            }
        }
    }
    Ok(())
}

/// Deregister targets: they drain for the group's deregistration delay (at once when the
/// group is not in use or the delay is 0). A target given without a port matches every
/// registration of its id.
pub fn deregister(
    s: &mut RegionStores,
    tg_arn: &str,
    targets: &[TargetDescription],
    now: f64,
) -> Result<(), ApiError> {
    let in_use = s.elbv2.target_group_in_use(tg_arn);
    let tg = s
        .elbv2
        .target_groups
        .get_mut(tg_arn)
        .ok_or_else(target_group_not_found)?;
    let delay: f64 = tg
        .attribute("deregistration_delay.timeout_seconds")
        .parse()
        .unwrap_or(300.0);
    let mut keys = Vec::new();
    for t in targets {
        let matching: Vec<(String, u16)> = tg
            .targets
            .keys()
            .filter(|(id, port)| *id == t.id && t.port.is_none_or(|p| i64::from(*port) == p))
            .cloned()
            .collect();
        if matching.is_empty() {
            return Err(invalid_target(format!(
                "The following targets are not registered in target group '{}': '{}'",
                tg.name, t.id
            )));
        }
        keys.extend(matching);
    }
    for key in keys {
        if !in_use || delay <= 0.0 {
            tg.targets.shift_remove(&key);
        } else if let Some(t) = tg.targets.get_mut(&key)
            && t.draining_until.is_none()
        {
            t.draining_until = Some(now + delay);
        }
        tracing::info!(target_group = %tg.arn, target = %key.0, port = key.1, "target deregistered");
    }
    Ok(())
}

/// The input of register_targets.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetsInput {
    target_group_arn: String,
    #[serde(default)]
    targets: Vec<TargetDescription>,
}

/// RegisterTargets.
pub fn register_targets(
    ctx: &RequestContext,
    state: &AppState,
    req: TargetsInput,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        register(s, &req.target_group_arn, &req.targets, now)
    })?;
    state.touched(Topic::Elbv2);
    Ok(())
}

/// DeregisterTargets.
pub fn deregister_targets(
    ctx: &RequestContext,
    state: &AppState,
    req: TargetsInput,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        deregister(s, &req.target_group_arn, &req.targets, now)
    })?;
    state.touched(Topic::Elbv2);
    Ok(())
}

/// The health of one registered target of a group, as DescribeTargetHealth shows it.
pub fn health_of(s: &RegionStores, tg: &TargetGroup, t: &Target, now: f64) -> HealthView {
    let in_use = s.elbv2.target_group_in_use(&tg.arn);
    let instance = (tg.target_type == "instance")
        .then(|| s.ec2.instances.get(&t.id).map(|i| i.state))
        .flatten();
    health::view(t, in_use, zone_enabled(s, tg, &t.id), instance, now)
}

/// Whether an instance target is in a zone one of the group's load balancers is enabled in
/// (other targets, and groups without load balancers, always are).
pub fn zone_enabled(s: &RegionStores, tg: &TargetGroup, id: &str) -> bool {
    if tg.target_type != "instance" {
        return true;
    }
    let Some(instance) = s.ec2.instances.get(id) else {
        return true;
    };
    let lbs = s.elbv2.load_balancers_of(&tg.arn);
    lbs.is_empty()
        || lbs.iter().any(|lb| {
            s.elbv2.load_balancers.get(lb).is_some_and(|l| {
                l.zones
                    .iter()
                    .any(|(z, _)| *z == instance.availability_zone)
            })
        })
}

/// `TargetHealthDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetHealthOut {
    target: TargetOut,
    health_check_port: Option<String>,
    target_health: HealthOut,
}

/// `TargetDescription` as DescribeTargetHealth shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TargetOut {
    id: String,
    port: Option<u16>,
    availability_zone: Option<String>,
}

/// `TargetHealth`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct HealthOut {
    state: &'static str,
    reason: Option<&'static str>,
    description: Option<String>,
}

/// DescribeTargetHealth's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTargetHealthOutput {
    target_health_descriptions: Vec<TargetHealthOut>,
}

fn entry(
    tg: &TargetGroup,
    id: &str,
    port: Option<u16>,
    az: Option<&str>,
    h: &HealthView,
) -> TargetHealthOut {
    let health_check_port = match (tg.health.port.as_str(), port) {
        ("traffic-port", Some(p)) => Some(p.to_string()),
        ("traffic-port", None) => None,
        (p, _) => Some(p.to_owned()),
    };
    TargetHealthOut {
        target: TargetOut {
            id: id.to_owned(),
            port,
            availability_zone: az.map(str::to_owned),
        },
        health_check_port,
        target_health: HealthOut {
            state: h.state,
            reason: h.reason,
            description: h.description.clone(),
        },
    }
}

/// DescribeTargetHealth: every registered target, or the ones asked about (those not
/// registered are `unused` / `Target.NotRegistered`).
pub fn describe_target_health(
    ctx: &RequestContext,
    state: &AppState,
    req: TargetsInput,
) -> Result<DescribeTargetHealthOutput, ApiError> {
    let now = state.clock.now();
    let out = state.stores.with(&ctx.scope, |s| {
        let tg = s
            .elbv2
            .target_groups
            .get(&req.target_group_arn)
            .ok_or_else(|| missing(&ctx.scope, &req.target_group_arn, ArnKind::TargetGroup))?;
        let live = |t: &&Target| t.draining_until.is_none_or(|u| u > now);
        if req.targets.is_empty() {
            return Ok::<_, ApiError>(
                tg.targets
                    .values()
                    .filter(live)
                    .map(|t| {
                        entry(
                            tg,
                            &t.id,
                            Some(t.port),
                            t.availability_zone.as_deref(),
                            &health_of(s, tg, t, now),
                        )
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let mut out = Vec::new();
        for want in &req.targets {
            let found: Vec<&Target> = tg
                .targets
                .values()
                .filter(live)
                .filter(|t| t.id == want.id && want.port.is_none_or(|p| i64::from(t.port) == p))
                .collect();
            if found.is_empty() {
                let port = want.port.and_then(|p| u16::try_from(p).ok());
                out.push(entry(
                    tg,
                    &want.id,
                    port,
                    want.availability_zone.as_deref(),
                    &HealthView::not_registered(),
                ));
            }
            for t in found {
                out.push(entry(
                    tg,
                    &t.id,
                    Some(t.port),
                    t.availability_zone.as_deref(),
                    &health_of(s, tg, t, now),
                ));
            }
        }
        Ok(out)
    })?;
    Ok(DescribeTargetHealthOutput {
        target_health_descriptions: out,
    })
}

/// Whether a target group exists (Auto Scaling checks `TargetGroupARNs`).
pub fn target_group_exists(state: &AppState, scope: &Scope, arn: &str) -> bool {
    state
        .stores
        .with(scope, |s| s.elbv2.target_groups.contains_key(arn))
}

fn descriptions(instance_ids: &[String]) -> Vec<TargetDescription> {
    instance_ids
        .iter()
        .map(|id| TargetDescription {
            id: id.clone(),
            port: None,
            availability_zone: None,
        })
        .collect()
}

/// Register instances on the group's port (what Auto Scaling does for its instances).
pub fn register_internal(
    state: &AppState,
    scope: &Scope,
    tg_arn: &str,
    instance_ids: &[String],
) -> Result<(), ApiError> {
    let now = state.clock.now();
    state.stores.with(scope, |s| {
        register(s, tg_arn, &descriptions(instance_ids), now)
    })?;
    state.touched(Topic::Elbv2);
    Ok(())
}

/// Deregister instances (they drain for the group's deregistration delay). Instances that
/// are not registered are skipped, so that Auto Scaling may call this unconditionally.
pub fn deregister_internal(
    state: &AppState,
    scope: &Scope,
    tg_arn: &str,
    instance_ids: &[String],
) -> Result<(), ApiError> {
    let now = state.clock.now();
    state.stores.with(scope, |s| {
        let tg = s
            .elbv2
            .target_groups
            .get(tg_arn)
            .ok_or_else(target_group_not_found)?;
        let present: Vec<String> = instance_ids
            .iter()
            .filter(|id| tg.targets.keys().any(|(t, _)| t == *id))
            .cloned()
            .collect();
        deregister(s, tg_arn, &descriptions(&present), now)
    })?;
    state.touched(Topic::Elbv2);
    Ok(())
}

/// The health verdict of an instance in a group: `Some(true)` healthy, `Some(false)`
/// unhealthy, `None` when there is no verdict (initial, unused, draining, not registered).
pub fn target_healthy(
    state: &AppState,
    scope: &Scope,
    tg_arn: &str,
    instance_id: &str,
) -> Option<bool> {
    let now = state.clock.now();
    state
        .stores
        .with(scope, |s| target_healthy_in(s, tg_arn, instance_id, now))
}

/// [`target_healthy`] inside the caller's lock on the region's stores.
pub fn target_healthy_in(
    s: &RegionStores,
    tg_arn: &str,
    instance_id: &str,
    now: f64,
) -> Option<bool> {
    let tg = s.elbv2.target_groups.get(tg_arn)?;
    let t = tg
        .targets
        .values()
        .find(|t| t.id == instance_id && t.draining_until.is_none())?;
    match health_of(s, tg, t, now).state {
        "healthy" => Some(true),
        "unhealthy" => Some(false),
        _ => None,
    }
}

/// Whether an instance is draining from a group (deregistered, delay not yet over).
pub fn target_draining(state: &AppState, scope: &Scope, tg_arn: &str, instance_id: &str) -> bool {
    let now = state.clock.now();
    state
        .stores
        .with(scope, |s| target_draining_in(s, tg_arn, instance_id, now))
}

/// [`target_draining`] inside the caller's lock on the region's stores.
pub fn target_draining_in(s: &RegionStores, tg_arn: &str, instance_id: &str, now: f64) -> bool {
    s.elbv2.target_groups.get(tg_arn).is_some_and(|tg| {
        tg.targets
            .values()
            .any(|t| t.id == instance_id && t.draining_until.is_some_and(|u| u > now))
    })
}
