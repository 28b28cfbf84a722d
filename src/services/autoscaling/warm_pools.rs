//! Warm pools (EC2 Auto Scaling User Guide, "Warm pools for Amazon EC2 Auto Scaling"; Auto Scaling
//! API Reference, PutWarmPool): PutWarmPool, DescribeWarmPool, DeleteWarmPool, and the pool states
//! the scheduler moves.
//!
//! The pool's size is `MaxGroupPreparedCapacity` (or the group's `MaxSize`) less the desired
//! capacity, never below its `MinSize`. Warmed instances sit in `Warmed:Stopped` or
//! `Warmed:Running` (the pool state) and do not count toward the desired capacity. Deleting
//! the pool marks it `PendingDelete`; its instances go `Warmed:Terminating` →
//! `Warmed:Terminated` and then the pool is gone.
//!
//! The scheduler fills the pool: [`fill_requests`] builds the launches (they go through
//! `ec2::internal::launch` inside the scope's lock), [`record_fill`] takes each new instance in as
//! `Warmed:Pending`, and [`step`] settles it — a `Stopped` pool stops the EC2 instance first —
//! and shrinks the pool by terminating warmed instances. Scale-out draws from the pool and
//! `ReuseOnScaleIn` returns instances to it (`warm_moves`, called by the reconciler).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::activities::ActivityDetails;
use super::launching::{Launch, launch_request};
use super::metrics_collection::warm_pool_desired;
use super::store::{
    AutoScalingStore, Group, GroupInstance, LifecycleState, WarmPool, finish_activity,
    is_suspended, iso_seconds, record_activity, update_activity,
};
use super::views::{InstanceOut, WarmPoolOut};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::ec2::store::{Ec2Store, InstanceState};
use crate::services::errors::validation;
use crate::state::{AppState, Topic};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    auto_scaling_group_name: String,
    max_group_prepared_capacity: Option<i64>,
    min_size: Option<i64>,
    pool_state: Option<String>,
    instance_reuse_policy: Option<Value>,
}

/// PutWarmPool: create or replace the group's pool configuration.
pub fn put_warm_pool(
    ctx: &RequestContext,
    state: &AppState,
    input: PutInput,
) -> Result<(), ApiError> {
    let pool_state = input.pool_state.unwrap_or_else(|| "Stopped".to_owned());
    if !["Stopped", "Running", "Hibernated"].contains(&pool_state.as_str()) {
        return Err(validation(format!(
            "Invalid value for PoolState: {pool_state}"
        )));
    }
    let min_size = input.min_size.unwrap_or(0);
    if min_size < 0 {
        return Err(validation("MinSize must be greater than or equal to 0"));
    }
    if let Some(m) = input.max_group_prepared_capacity
        && m < -1
    {
        return Err(validation(
            "MaxGroupPreparedCapacity must be greater than or equal to -1",
        ));
    }
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        if group
            .warm_pool
            .as_ref()
            .is_some_and(|p| p.status.as_deref() == Some("PendingDelete"))
        {
            // Text not captured from AWS.
            return Err(validation(format!(
                "The warm pool of AutoScalingGroup {} is being deleted",
                group.name
            )));
        }
        group.warm_pool = Some(WarmPool {
            max_group_prepared_capacity: input.max_group_prepared_capacity,
            min_size,
            pool_state,
            status: None,
            instance_reuse_policy: input.instance_reuse_policy.clone(),
        });
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInput {
    auto_scaling_group_name: String,
    next_token: Option<String>,
    max_records: Option<i64>,
}

/// DescribeWarmPool: the configuration (absent when the group has no pool) and the warmed
/// instances, paginated.
pub fn describe_warm_pool(
    ctx: &RequestContext,
    state: &AppState,
    input: DescribeInput,
) -> Result<DescribeWarmPoolOut, ApiError> {
    let (config, rows) = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group(&input.auto_scaling_group_name)?;
        let config = group.warm_pool.as_ref().map(WarmPoolOut::new);
        let rows: Vec<InstanceOut> = group
            .instances
            .values()
            .filter(|i| i.lifecycle_state.is_warmed())
            .map(InstanceOut::warmed)
            .collect();
        Ok::<_, ApiError>((config, rows))
    })?;
    let (instances, next_token) =
        super::limits::paginate(rows, input.next_token.as_deref(), input.max_records, 50)?;
    Ok(DescribeWarmPoolOut {
        warm_pool_configuration: config,
        instances,
        next_token,
    })
}

/// `DescribeWarmPoolAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeWarmPoolOut {
    warm_pool_configuration: Option<WarmPoolOut>,
    instances: Vec<InstanceOut>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    force_delete: bool,
}

/// DeleteWarmPool: the pool goes `PendingDelete` while its instances terminate.
pub fn delete_warm_pool(
    ctx: &RequestContext,
    state: &AppState,
    input: DeleteInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        let Some(pool) = group.warm_pool.as_mut() else {
            // Text not captured from AWS.
            return Err(validation(format!(
                "No warm pool found for AutoScalingGroup {}",
                group.name
            )));
        };
        pool.status = Some("PendingDelete".to_owned());
        tracing::info!(group = %group.name, force = input.force_delete, "warm pool delete requested");
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

/// How many instances the pool should launch (positive) or let go (negative) now.
pub fn pool_delta(group: &Group) -> i64 {
    let Some(pool) = &group.warm_pool else {
        return 0;
    };
    let current = group
        .instances
        .values()
        .filter(|i| i.lifecycle_state.is_warmed() && !i.lifecycle_state.is_leaving())
        .count() as i64;
    if pool.status.as_deref() == Some("PendingDelete") {
        return -current;
    }
    let delta = warm_pool_desired(group) - current;
    if delta >= 0 {
        return delta;
    }
    // A scale-out shrinks the pool's size and draws from it: the instances the group is short
    // of are the group's to draw, not surplus to terminate.
    let short = (group.desired_capacity - group.counted_capacity()).max(0);
    (delta + short).min(0)
}

/// The launches the pools need now (made under the same lock, see `ec2::internal::launch`).
pub fn fill_requests(store: &AutoScalingStore, now: f64) -> Vec<Launch> {
    let mut out = Vec::new();
    for g in store.groups.values() {
        let delta = pool_delta(g);
        if delta <= 0 || g.status.is_some() || is_suspended(g, "Launch") || now < g.next_launch_at {
            continue;
        }
        // Cause text not captured from AWS.
        let cause = format!(
            "At {} an instance was launched in response to a warm pool capacity change.",
            iso_seconds(now)
        );
        for (zone, subnet) in super::plan::choose_zones(g, delta as usize) {
            out.extend(launch_request(store, g, zone, subnet, &cause, None));
        }
    }
    out
}

/// Take a pool launch's outcome in: the instance joins as `Warmed:Pending` with its
/// activity, or a failed activity and a short pause before the next try.
pub fn record_fill(
    state: &AppState,
    s: &mut crate::state::RegionStores,
    l: &Launch,
    outcome: Result<Vec<String>, ApiError>,
    now: f64,
) {
    let a = &mut s.autoscaling;
    let Some(g) = a.groups.get(&l.group).cloned() else {
        return;
    };
    let details = ActivityDetails::at(l.subnet.as_deref(), &l.zone);
    let activity = state.ids.uuid();
    let id = outcome.as_ref().ok().and_then(|ids| ids.first().cloned());
    let description = match &id {
        Some(id) => format!("Launching a new EC2 instance into warm pool: {id}"),
        None => "Launching a new EC2 instance into warm pool".to_owned(),
    };
    record_activity(
        a,
        activity.clone(),
        &g,
        description,
        l.cause.clone(),
        "InProgress",
        30,
        &details,
        id.as_deref(),
        now,
    );
    let Some(id) = id else {
        let msg = match &outcome {
            Err(e) => format!("{} Launching EC2 instance failed.", e.message),
            Ok(_) => "Launching EC2 instance failed.".to_owned(),
        };
        update_activity(a, &activity, "Failed", 100, Some(&msg), now);
        if let Some(g) = a.groups.get_mut(&l.group) {
            g.next_launch_at = now + 30.0;
        }
        return;
    };
    let Some(inst) = s.ec2.instances.get(&id) else {
        return;
    };
    let member = GroupInstance {
        id: id.clone(),
        instance_type: inst.instance_type.clone(),
        availability_zone: inst.availability_zone.clone(),
        subnet_id: Some(inst.subnet_id.clone()).filter(|s| !s.is_empty()),
        lifecycle_state: LifecycleState::WarmedPending,
        state_since: now,
        healthy: true,
        unhealthy_reason: None,
        launch_configuration_name: g.launch_configuration_name.clone(),
        launch_template: g.launch_template.clone(),
        image_id: inst.image_id.clone(),
        protected_from_scale_in: false,
        weighted_capacity: None,
        spot: false,
        launched_at: now,
        in_service_since: None,
        activity_id: Some(activity),
        lifecycle_action: None,
        launch_hooks_done: false,
        terminate_hooks_done: false,
        deregistered: false,
        termination_reason: None,
        attached: false,
        existing_ec2: false,
    };
    if let Some(g) = s.autoscaling.groups.get_mut(&l.group) {
        g.instances.insert(id, member);
    }
}

/// Stop an EC2 instance on the pool's behalf, as StopInstances would (the instance lifecycle
/// controller finishes it).
fn stop(ec2: &mut Ec2Store, id: &str, now: f64) {
    if let Some(i) = ec2.instances.get_mut(id)
        && i.state == InstanceState::Running
    {
        tracing::info!(instance_id = %id, from = "running", to = "stopping", "instance state change (warm pool)");
        i.state = InstanceState::Stopping;
        i.state_since = now;
        i.backend_done = false;
    }
}

/// The scheduler's pass over warm pools: new warmed instances settle in the pool state (a
/// `Stopped` pool stops them first), a pool over its size (or being deleted) terminates
/// warmed instances, terminated ones leave, and a deleted pool goes once empty. Returns
/// whether anything changed.
pub fn step(store: &mut AutoScalingStore, ec2: &mut Ec2Store, now: f64) -> bool {
    let mut changed = false;
    let mut finished = Vec::new();
    for group in store.groups.values_mut() {
        let Some(pool) = group.warm_pool.clone() else {
            continue;
        };
        let group = &mut **group;
        let settled = match pool.pool_state.as_str() {
            "Running" => LifecycleState::WarmedRunning,
            "Hibernated" => LifecycleState::WarmedHibernated,
            _ => LifecycleState::WarmedStopped,
        };
        let surplus = (-pool_delta(group)).max(0) as usize;
        // Shrink from the newest warmed instances.
        let victims: Vec<String> = group
            .instances
            .values()
            .rev()
            .filter(|i| i.lifecycle_state.is_warmed() && !i.lifecycle_state.is_leaving())
            .take(surplus)
            .map(|i| i.id.clone())
            .collect();
        for i in group.instances.values_mut() {
            let ec2_state = ec2.instances.get(&i.id).map(|e| e.state);
            let next = if victims.contains(&i.id) {
                super::super::ec2::internal::terminate(ec2, &i.id, now);
                Some(LifecycleState::WarmedTerminating)
            } else {
                match (i.lifecycle_state, ec2_state) {
                    (
                        LifecycleState::WarmedPending | LifecycleState::WarmedPendingProceed,
                        Some(InstanceState::Running),
                    ) => {
                        if settled == LifecycleState::WarmedRunning {
                            Some(settled)
                        } else {
                            stop(ec2, &i.id, now);
                            None
                        }
                    }
                    (
                        LifecycleState::WarmedPending | LifecycleState::WarmedPendingProceed,
                        Some(InstanceState::Stopped),
                    ) => Some(settled),
                    (
                        LifecycleState::WarmedTerminating
                        | LifecycleState::WarmedTerminatingProceed,
                        None | Some(InstanceState::Terminated),
                    ) => Some(LifecycleState::WarmedTerminated),
                    _ => None,
                }
            };
            if let Some(next) = next {
                tracing::info!(group = %group.name, instance = %i.id, from = i.lifecycle_state.as_str(), to = next.as_str(), "warm pool instance moved");
                i.lifecycle_state = next;
                i.state_since = now;
                if !matches!(next, LifecycleState::WarmedTerminating) {
                    finished.extend(i.activity_id.take());
                }
                changed = true;
            }
        }
        let before = group.instances.len();
        group
            .instances
            .retain(|_, i| i.lifecycle_state != LifecycleState::WarmedTerminated);
        changed |= group.instances.len() != before;
        if pool.status.as_deref() == Some("PendingDelete")
            && !group
                .instances
                .values()
                .any(|i| i.lifecycle_state.is_warmed())
        {
            group.warm_pool = None;
            changed = true;
        }
    }
    for id in finished {
        finish_activity(store, &id, now);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_size_follows_prepared_capacity_and_min_size() {
        let mut g = Group {
            min_size: 1,
            max_size: 5,
            desired_capacity: 2,
            ..Group::default()
        };
        assert_eq!(pool_delta(&g), 0);
        g.warm_pool = Some(WarmPool {
            max_group_prepared_capacity: None,
            min_size: 0,
            pool_state: "Stopped".into(),
            status: None,
            instance_reuse_policy: None,
        });
        assert_eq!(pool_delta(&g), 3);
        if let Some(p) = g.warm_pool.as_mut() {
            p.max_group_prepared_capacity = Some(2);
            p.min_size = 1;
        }
        // 2 - 2 = 0, but never below MinSize 1.
        assert_eq!(pool_delta(&g), 1);
    }
}
