//! Every interaction of Auto Scaling with load balancers goes through this file, and the
//! attachment operations: Attach/Detach/Describe LoadBalancers, LoadBalancerTargetGroups and
//! TrafficSources (attachment states from the Auto Scaling API Reference: LoadBalancerState,
//! LoadBalancerTargetGroupState and TrafficSourceState).
//!
//! The six functions at the top are the seam to the load-balancer services: Classic ELB
//! (`services::elb`) and ELBv2 target groups (`services::elbv2`). Callers use them at the right
//! moments: registration before `InService`, deregistration before termination, waiting while
//! draining, and ELB health after the grace period when `HealthCheckType` includes ELB.

use serde::{Deserialize, Serialize};

use super::describe::page;
use super::groups::{TrafficSourceIn, traffic_sources};
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, RegionStores, Scope, Topic};

/// Whether a Classic Load Balancer of this name exists.
pub fn classic_exists(state: &AppState, scope: &Scope, name: &str) -> bool {
    crate::services::elb::exists(state, scope, name)
}

/// Whether a target group with this ARN exists.
pub fn target_group_exists(state: &AppState, scope: &Scope, arn: &str) -> bool {
    crate::services::elbv2::target_group_exists(state, scope, arn)
}

/// Register instances with classic load balancers and target groups. A load balancer deleted
/// behind the group's back is logged and skipped, as AWS keeps the attachment and moves on.
pub fn register(
    state: &AppState,
    scope: &Scope,
    lbs: &[String],
    tgs: &[String],
    instance_ids: &[String],
) {
    for lb in lbs {
        if let Err(err) = crate::services::elb::register_internal(state, scope, lb, instance_ids) {
            tracing::warn!(load_balancer = %lb, error = %err.message, "registration failed");
        }
    }
    for tg in tgs {
        if let Err(err) = crate::services::elbv2::register_internal(state, scope, tg, instance_ids)
        {
            tracing::warn!(target_group = %tg, error = %err.message, "registration failed");
        }
    }
}

/// Deregister instances from classic load balancers and target groups (they drain there).
pub fn deregister(
    state: &AppState,
    scope: &Scope,
    lbs: &[String],
    tgs: &[String],
    instance_ids: &[String],
) {
    for lb in lbs {
        if let Err(err) = crate::services::elb::deregister_internal(state, scope, lb, instance_ids)
        {
            tracing::warn!(load_balancer = %lb, error = %err.message, "deregistration failed");
        }
    }
    for tg in tgs {
        if let Err(err) =
            crate::services::elbv2::deregister_internal(state, scope, tg, instance_ids)
        {
            tracing::warn!(target_group = %tg, error = %err.message, "deregistration failed");
        }
    }
}

/// Whether the instance is still draining from any of these target groups (read inside the
/// caller's lock, like the verdict below).
pub fn draining(s: &RegionStores, tgs: &[String], instance_id: &str, now: f64) -> bool {
    tgs.iter()
        .any(|tg| crate::services::elbv2::target_draining_in(s, tg, instance_id, now))
}

/// The load balancers' verdict on an instance: `Some(false)` when any says unhealthy,
/// `Some(true)` when all say healthy, `None` while any has no verdict yet.
pub fn elb_healthy(
    s: &RegionStores,
    lbs: &[String],
    tgs: &[String],
    instance_id: &str,
    now: f64,
) -> Option<bool> {
    let verdicts = lbs
        .iter()
        .map(|lb| crate::services::elb::instance_in_service_in(s, lb, instance_id))
        .chain(
            tgs.iter()
                .map(|tg| crate::services::elbv2::target_healthy_in(s, tg, instance_id, now)),
        );
    let mut all_healthy = true;
    for verdict in verdicts {
        match verdict {
            Some(false) => return Some(false),
            Some(true) => {}
            None => all_healthy = false,
        }
    }
    all_healthy.then_some(true)
}

/// Register `ids` with everything the group has attached (not while `AddToLoadBalancer` is
/// suspended: those instances are never registered, EC2 Auto Scaling User Guide, "Suspend and
/// resume Amazon EC2 Auto Scaling processes").
pub fn register_with_group(
    state: &AppState,
    scope: &Scope,
    lbs: &[String],
    tgs: &[String],
    ids: &[String],
) {
    if ids.is_empty() || (lbs.is_empty() && tgs.is_empty()) {
        return;
    }
    tracing::info!(
        ?lbs,
        ?tgs,
        ?ids,
        "registering instances with load balancers"
    );
    register(state, scope, lbs, tgs, ids);
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AttachInput {
    auto_scaling_group_name: String,
    load_balancer_names: Vec<String>,
    #[serde(rename = "TargetGroupARNs")]
    target_group_arns: Vec<String>,
    traffic_sources: Vec<TrafficSourceIn>,
}

/// Attach sources: new ones start `Adding` and register the group's InService instances
/// (the reconciler moves them on to `Added`/`InService`).
fn attach(ctx: &RequestContext, state: &AppState, req: AttachInput) -> Result<(), ApiError> {
    let scope = &ctx.scope;
    let sources = traffic_sources(
        state,
        scope,
        &req.load_balancer_names,
        &req.target_group_arns,
        &req.traffic_sources,
        "Adding",
    )?;
    let (lbs, tgs, ids) = state.stores.with(scope, |s| {
        let g = s.autoscaling.group_mut(&req.auto_scaling_group_name)?;
        let mut lbs = Vec::new();
        let mut tgs = Vec::new();
        for src in sources {
            if let Some(old) = g
                .traffic_sources
                .iter_mut()
                .find(|t| t.identifier == src.identifier)
            {
                if matches!(old.state.as_str(), "Removing" | "Removed") {
                    old.state = "Adding".into();
                } else {
                    continue;
                }
            } else {
                g.traffic_sources.push(src.clone());
            }
            match src.kind.as_str() {
                "elb" => lbs.push(src.identifier),
                "elbv2" => tgs.push(src.identifier),
                _ => {}
            }
        }
        let ids: Vec<String> = g
            .instances
            .values()
            .filter(|i| i.lifecycle_state == super::store::LifecycleState::InService)
            .map(|i| i.id.clone())
            .collect();
        Ok::<_, ApiError>((lbs, tgs, ids))
    })?;
    register_with_group(state, scope, &lbs, &tgs, &ids);
    state.touched(Topic::AutoScaling | Topic::Elb | Topic::Elbv2);
    Ok(())
}

/// Detach sources: they go `Removing` and the group's instances are deregistered.
fn detach(ctx: &RequestContext, state: &AppState, req: AttachInput) -> Result<(), ApiError> {
    let scope = &ctx.scope;
    let wanted: Vec<String> = req
        .load_balancer_names
        .iter()
        .chain(&req.target_group_arns)
        .cloned()
        .chain(req.traffic_sources.iter().map(|t| t.identifier.clone()))
        .collect();
    let (lbs, tgs, ids) = state.stores.with(scope, |s| {
        let g = s.autoscaling.group_mut(&req.auto_scaling_group_name)?;
        let (mut lbs, mut tgs) = (Vec::new(), Vec::new());
        for t in g
            .traffic_sources
            .iter_mut()
            .filter(|t| wanted.contains(&t.identifier))
        {
            if matches!(t.state.as_str(), "Removing" | "Removed") {
                continue;
            }
            t.state = "Removing".into();
            match t.kind.as_str() {
                "elb" => lbs.push(t.identifier.clone()),
                "elbv2" => tgs.push(t.identifier.clone()),
                _ => {}
            }
        }
        let ids: Vec<String> = g.instances.keys().cloned().collect();
        Ok::<_, ApiError>((lbs, tgs, ids))
    })?;
    if (!lbs.is_empty() || !tgs.is_empty()) && !ids.is_empty() {
        deregister(state, scope, &lbs, &tgs, &ids);
    }
    state.touched(Topic::AutoScaling | Topic::Elb | Topic::Elbv2);
    Ok(())
}

/// AttachLoadBalancers.
pub fn attach_load_balancers(
    ctx: &RequestContext,
    state: &AppState,
    req: AttachInput,
) -> Result<(), ApiError> {
    attach(ctx, state, req)
}

/// AttachLoadBalancerTargetGroups.
pub fn attach_load_balancer_target_groups(
    ctx: &RequestContext,
    state: &AppState,
    req: AttachInput,
) -> Result<(), ApiError> {
    attach(ctx, state, req)
}

/// AttachTrafficSources.
pub fn attach_traffic_sources(
    ctx: &RequestContext,
    state: &AppState,
    req: AttachInput,
) -> Result<(), ApiError> {
    attach(ctx, state, req)
}

/// DetachLoadBalancers.
pub fn detach_load_balancers(
    ctx: &RequestContext,
    state: &AppState,
    req: AttachInput,
) -> Result<(), ApiError> {
    detach(ctx, state, req)
}

/// DetachLoadBalancerTargetGroups.
pub fn detach_load_balancer_target_groups(
    ctx: &RequestContext,
    state: &AppState,
    req: AttachInput,
) -> Result<(), ApiError> {
    detach(ctx, state, req)
}

/// DetachTrafficSources.
pub fn detach_traffic_sources(
    ctx: &RequestContext,
    state: &AppState,
    req: AttachInput,
) -> Result<(), ApiError> {
    detach(ctx, state, req)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    auto_scaling_group_name: String,
    traffic_source_type: Option<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// The attachments of one kind (`None` = all) as `(identifier, kind, state)`.
fn attachments(
    ctx: &RequestContext,
    state: &AppState,
    req: &DescribeInput,
    kind: Option<&str>,
) -> Result<Vec<(String, String, String)>, ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let g = s.autoscaling.group(&req.auto_scaling_group_name)?;
        Ok(g.traffic_sources
            .iter()
            .filter(|t| kind.is_none_or(|k| t.kind == k))
            .filter(|t| t.state != "Removed")
            .map(|t| (t.identifier.clone(), t.kind.clone(), t.state.clone()))
            .collect())
    })
}

/// A page of `rows` and the token of the next.
fn paged<T>(
    rows: Vec<T>,
    req: &DescribeInput,
    default: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    page(rows, req.max_records, req.next_token.as_deref(), default)
}

/// `LoadBalancerState`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerState {
    load_balancer_name: String,
    state: String,
}

/// `DescribeLoadBalancersResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancersOut {
    load_balancers: Vec<LoadBalancerState>,
    next_token: Option<String>,
}

/// DescribeLoadBalancers (the group's classic load balancers and their attachment state).
pub fn describe_load_balancers(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<LoadBalancersOut, ApiError> {
    let rows = attachments(ctx, state, &req, Some("elb"))?
        .into_iter()
        .map(|(load_balancer_name, _, state)| LoadBalancerState {
            load_balancer_name,
            state,
        })
        .collect();
    let (load_balancers, next_token) = paged(rows, &req, 100)?;
    Ok(LoadBalancersOut {
        load_balancers,
        next_token,
    })
}

/// `LoadBalancerTargetGroupState`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupState {
    #[serde(rename = "LoadBalancerTargetGroupARN")]
    load_balancer_target_group_arn: String,
    state: String,
}

/// `DescribeLoadBalancerTargetGroupsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupsOut {
    load_balancer_target_groups: Vec<TargetGroupState>,
    next_token: Option<String>,
}

/// DescribeLoadBalancerTargetGroups.
pub fn describe_load_balancer_target_groups(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<TargetGroupsOut, ApiError> {
    let rows = attachments(ctx, state, &req, Some("elbv2"))?
        .into_iter()
        .map(
            |(load_balancer_target_group_arn, _, state)| TargetGroupState {
                load_balancer_target_group_arn,
                state,
            },
        )
        .collect();
    let (load_balancer_target_groups, next_token) = paged(rows, &req, 100)?;
    Ok(TargetGroupsOut {
        load_balancer_target_groups,
        next_token,
    })
}

/// `TrafficSourceState`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrafficSourceState {
    traffic_source: String,
    state: String,
    identifier: String,
    #[serde(rename = "Type")]
    kind: String,
}

/// `DescribeTrafficSourcesResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrafficSourcesOut {
    traffic_sources: Vec<TrafficSourceState>,
    next_token: Option<String>,
}

/// DescribeTrafficSources.
pub fn describe_traffic_sources(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<TrafficSourcesOut, ApiError> {
    if let Some(t) = &req.traffic_source_type
        && !matches!(t.as_str(), "elb" | "elbv2" | "vpc-lattice")
    {
        return Err(validation(format!("Invalid traffic source type: {t}")));
    }
    let rows = attachments(ctx, state, &req, req.traffic_source_type.as_deref())?
        .into_iter()
        .map(|(id, kind, state)| TrafficSourceState {
            traffic_source: id.clone(),
            state,
            identifier: id,
            kind,
        })
        .collect();
    let (traffic_sources, next_token) = paged(rows, &req, 50)?;
    Ok(TrafficSourcesOut {
        traffic_sources,
        next_token,
    })
}
