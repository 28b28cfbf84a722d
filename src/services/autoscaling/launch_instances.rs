//! LaunchInstances: synchronous provisioning. The requested capacity is launched inside the
//! call, in one zone or subnet, honouring the group's launch template or mixed instances
//! policy (types, weights and market from `mixed`), and the new members join `Pending` with
//! their launch activities; the group's desired capacity grows by the capacity launched (and,
//! with `RetryStrategy` `retry-with-group-configuration`, by the capacity that failed too, so the
//! reconciler keeps trying it in the background, as the group's normal scaling would).
//!
//! As on AWS: groups with a launch configuration are refused, and so are mixed policies that
//! combine On-Demand and Spot; a group in several zones needs a zone or subnet; the same
//! `ClientToken` answers the first call's result again (different parameters:
//! `IdempotentParameterMismatch`). Error wording not captured from AWS is marked UNVERIFIED.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::errors::AutoScalingError;
use super::launching::{launch_request, record_launch};
use super::mixed::{self, Mixed};
use super::store::iso_seconds;
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::ec2::internal;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

/// At most this many instances per call (the API reference's limit).
const MAX_INSTANCES: usize = 100;

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchInput {
    auto_scaling_group_name: String,
    requested_capacity: i64,
    client_token: Option<String>,
    availability_zones: Vec<String>,
    availability_zone_ids: Vec<String>,
    subnet_ids: Vec<String>,
    retry_strategy: Option<String>,
}

/// `InstanceCollection`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CollectionOut {
    instance_type: String,
    market_type: String,
    subnet_id: Option<String>,
    availability_zone: String,
    availability_zone_id: Option<String>,
    instance_ids: Vec<String>,
}

/// `LaunchInstancesError`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorOut {
    instance_type: Option<String>,
    market_type: String,
    subnet_id: Option<String>,
    availability_zone: String,
    availability_zone_id: Option<String>,
    error_code: String,
    error_message: String,
}

/// `LaunchInstancesResult`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchOut {
    auto_scaling_group_name: String,
    client_token: Option<String>,
    instances: Vec<CollectionOut>,
    errors: Vec<ErrorOut>,
}

/// A call remembered for its `ClientToken`: its input and answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remembered {
    input: LaunchInput,
    output: LaunchOut,
}

/// The zone and subnet of the launch: the one given, or the group's only zone.
fn target(
    g: &super::store::Group,
    ec2: &crate::services::ec2::store::Ec2Store,
    req: &LaunchInput,
) -> Result<(String, Option<String>), ApiError> {
    let given = [
        !req.availability_zones.is_empty(),
        !req.availability_zone_ids.is_empty(),
    ];
    if given.iter().all(|g| *g) {
        return Err(validation(
            "You cannot specify both AvailabilityZones and AvailabilityZoneIds.",
        ));
    }
    if req.availability_zones.len() > 1
        || req.availability_zone_ids.len() > 1
        || req.subnet_ids.len() > 1
    {
        // UNVERIFIED wording (the model allows one item).
        return Err(validation(
            "Only one Availability Zone or subnet can be specified.",
        ));
    }
    let zone_of_id = |id: &str| {
        ec2.subnets
            .values()
            .find(|s| s.availability_zone_id == id)
            .map(|s| s.availability_zone.clone())
    };
    let zone =
        match (
            req.availability_zones.first(),
            req.availability_zone_ids.first(),
        ) {
            (Some(z), _) => Some(z.clone()),
            (None, Some(id)) => Some(zone_of_id(id).ok_or_else(|| {
                validation(format!("The Availability Zone ID {id} is not valid."))
            })?),
            (None, None) => None,
        };
    if let Some(s) = req.subnet_ids.first() {
        let Some((_, az)) = g.subnets.iter().find(|(id, _)| id == s) else {
            return Err(validation(format!(
                "The subnet {s} is not part of the Auto Scaling group's VPCZoneIdentifier."
            )));
        };
        if zone.as_ref().is_some_and(|z| z != az) {
            return Err(validation(format!(
                "The subnet {s} is not in the Availability Zone {}.",
                zone.unwrap_or_default()
            )));
        }
        return Ok((az.clone(), Some(s.clone())));
    }
    let zone = match zone {
        Some(z) => z,
        None if g.availability_zones.len() == 1 => g.availability_zones[0].clone(),
        None => {
            return Err(validation(
                "Either AvailabilityZones or SubnetIds must be specified for an Auto Scaling group with multiple Availability Zones.",
            ));
        }
    };
    if !g.availability_zones.contains(&zone) {
        return Err(validation(format!(
            "The Availability Zone {zone} is not enabled for the Auto Scaling group."
        )));
    }
    let subnet = g
        .subnets
        .iter()
        .find(|(_, az)| *az == zone)
        .map(|(s, _)| s.clone());
    Ok((zone, subnet))
}

/// LaunchInstances.
pub fn launch_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: LaunchInput,
) -> Result<LaunchOut, ApiError> {
    if req.requested_capacity < 1 {
        return Err(validation("RequestedCapacity must be at least 1."));
    }
    if let Some(r) = &req.retry_strategy
        && !matches!(r.as_str(), "retry-with-group-configuration" | "none")
    {
        return Err(validation(format!(
            "Invalid RetryStrategy {r}. Valid values are retry-with-group-configuration and none."
        )));
    }
    let retry = req.retry_strategy.as_deref() != Some("none");
    let scope = &ctx.scope;
    let env = internal::LaunchEnv::gather(state, scope);
    let out = state.stores.with(scope, |s| {
        let a = &s.autoscaling;
        let g = a.group(&req.auto_scaling_group_name)?;
        if let Some(token) = &req.client_token
            && let Some(seen) = g.launch_tokens.get(token)
        {
            if seen.input != req {
                return Err(AutoScalingError::IdempotentParameterMismatch.with(
                    "The ClientToken was used before with different parameters.",
                ));
            }
            return Ok(seen.output.clone());
        }
        if g.launch_template.is_none() && g.mixed_instances_policy.is_none() {
            return Err(validation(
                "LaunchInstances is not supported for Auto Scaling groups that use a launch configuration.",
            ));
        }
        if let Some(m) = Mixed::of(g) {
            let all_on_demand = m.on_demand_percent == 100;
            let all_spot = m.on_demand_percent == 0 && m.on_demand_base == 0;
            if !all_on_demand && !all_spot {
                return Err(validation(
                    "LaunchInstances supports mixed instances policies that are fully On-Demand or fully Spot only.",
                ));
            }
        }
        if g.status.is_some() {
            return Err(AutoScalingError::ScalingActivityInProgress
                .with("The Auto Scaling group is being deleted."));
        }
        let (zone, subnet) = target(g, &s.ec2, &req)?;
        let zone_id = s
            .ec2
            .subnets
            .values()
            .find(|n| n.availability_zone == zone)
            .map(|n| n.availability_zone_id.clone());
        let counted = g.counted_capacity();
        let mut picks = mixed::plan_launches(g, counted, counted + req.requested_capacity);
        picks.truncate(MAX_INSTANCES);
        if g.desired_capacity + req.requested_capacity > g.max_size {
            return Err(validation(format!(
                "New SetDesiredCapacity value {} is above max value {} for the AutoScalingGroup.",
                g.desired_capacity + req.requested_capacity,
                g.max_size
            )));
        }
        let now = state.clock.now();
        let cause = format!(
            "At {} an instance was launched in response to a LaunchInstances request.",
            iso_seconds(now)
        );
        let mut collections: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
        let mut errors = Vec::new();
        let (mut launched, mut failed) = (0, 0);
        for pick in &picks {
            let g = s.autoscaling.group(&req.auto_scaling_group_name)?;
            let Some(l) = launch_request(&s.autoscaling, g, zone.clone(), subnet.clone(), &cause, Some(pick)) else {
                return Err(validation("The group's launch template could not be found."));
            };
            let outcome = internal::launch(s, state, scope, &env, &l.request);
            let units = mixed::units(pick.weight.as_deref());
            let itype = l.request.instance_type.clone();
            match &outcome {
                Ok(ids) if !ids.is_empty() => {
                    let ty = itype
                        .clone()
                        .or_else(|| s.ec2.instances.get(&ids[0]).map(|i| i.instance_type.clone()))
                        .unwrap_or_default();
                    collections.entry((ty, pick.spot)).or_default().extend(ids.clone());
                    launched += units;
                }
                Ok(_) => failed += units,
                Err(e) => {
                    failed += units;
                    errors.push(ErrorOut {
                        instance_type: itype,
                        market_type: market(pick.spot).into(),
                        subnet_id: subnet.clone(),
                        availability_zone: zone.clone(),
                        availability_zone_id: zone_id.clone(),
                        error_code: e.code.to_string(),
                        error_message: e.message.clone(),
                    });
                }
            }
            record_launch(state, s, &l, outcome, now);
        }
        let out = LaunchOut {
            auto_scaling_group_name: req.auto_scaling_group_name.clone(),
            client_token: req.client_token.clone(),
            instances: collections
                .into_iter()
                .map(|((ty, spot), ids)| CollectionOut {
                    instance_type: ty,
                    market_type: market(spot).into(),
                    subnet_id: subnet.clone(),
                    availability_zone: zone.clone(),
                    availability_zone_id: zone_id.clone(),
                    instance_ids: ids,
                })
                .collect(),
            errors,
        };
        let g = s.autoscaling.group_mut(&req.auto_scaling_group_name)?;
        // Desired grows by what was asked (weights may overshoot it, as scaling's launches
        // do); without retries, by no more than what was launched.
        let grow = if retry || failed == 0 {
            req.requested_capacity
        } else {
            launched.min(req.requested_capacity)
        };
        g.desired_capacity += grow;
        if let Some(token) = &req.client_token {
            g.launch_tokens.insert(
                token.clone(),
                Remembered {
                    input: req.clone(),
                    output: out.clone(),
                },
            );
        }
        tracing::info!(group = %g.name, launched, failed, "LaunchInstances");
        Ok(out)
    })?;
    state.touched(Topic::AutoScaling | Topic::Ec2);
    Ok(out)
}

/// `MarketType` as LaunchInstances spells it.
fn market(spot: bool) -> &'static str {
    if spot { "Spot" } else { "OnDemand" }
}
