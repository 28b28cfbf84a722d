//! Warm pools (research §6.7): PutWarmPool, DescribeWarmPool, DeleteWarmPool, and the pool
//! states the scheduler moves.
//!
//! The pool's size is `MaxGroupPreparedCapacity` (or the group's `MaxSize`) less the desired
//! capacity, never below its `MinSize`. Warmed instances sit in `Warmed:Stopped` or
//! `Warmed:Running` (the pool state) and do not count toward the desired capacity. Deleting
//! the pool marks it `PendingDelete`; its instances go `Warmed:Terminating` →
//! `Warmed:Terminated` and then the pool is gone.

use serde::Deserialize;
use serde_json::{Value, json};

use super::metrics_collection::warm_pool_desired;
use super::store::{AutoScalingStore, Group, LifecycleState, WarmPool};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::AppState;

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::client("ValidationError", message)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutInput {
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
    input: Value,
) -> Result<Value, ApiError> {
    let input: PutInput = parse_input(input)?;
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
    state.changed.notify_waiters();
    Ok(json!({}))
}

/// The Describe view of a group instance (the `Instance` shape).
pub fn instance_json(i: &super::store::GroupInstance) -> Value {
    let mut v = json!({
        "InstanceId": i.id,
        "InstanceType": i.instance_type,
        "AvailabilityZone": i.availability_zone,
        "LifecycleState": i.lifecycle_state.as_str(),
        "HealthStatus": if i.healthy { "Healthy" } else { "Unhealthy" },
        "ProtectedFromScaleIn": i.protected_from_scale_in,
    });
    if let Some(lc) = &i.launch_configuration_name {
        v["LaunchConfigurationName"] = json!(lc);
    }
    if let Some(t) = &i.launch_template {
        v["LaunchTemplate"] = json!({
            "LaunchTemplateId": t.id,
            "LaunchTemplateName": t.name,
            "Version": t.version.clone().unwrap_or_else(|| "$Default".to_owned()),
        });
    }
    if !i.image_id.is_empty() {
        v["ImageId"] = json!(i.image_id);
    }
    if let Some(w) = &i.weighted_capacity {
        v["WeightedCapacity"] = json!(w);
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInput {
    auto_scaling_group_name: String,
    next_token: Option<String>,
    max_records: Option<i64>,
}

/// DescribeWarmPool: the configuration (absent when the group has no pool) and the warmed
/// instances, paginated.
pub fn describe_warm_pool(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let input: DescribeInput = parse_input(input)?;
    let (config, rows) = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group(&input.auto_scaling_group_name)?;
        let config = group.warm_pool.as_ref().map(|p| {
            let mut c = json!({ "MinSize": p.min_size, "PoolState": p.pool_state });
            if let Some(m) = p.max_group_prepared_capacity {
                c["MaxGroupPreparedCapacity"] = json!(m);
            }
            if let Some(st) = &p.status {
                c["Status"] = json!(st);
            }
            if let Some(r) = &p.instance_reuse_policy {
                c["InstanceReusePolicy"] = r.clone();
            }
            c
        });
        let rows: Vec<Value> = group
            .instances
            .values()
            .filter(|i| i.lifecycle_state.is_warmed())
            .map(instance_json)
            .collect();
        Ok::<_, ApiError>((config, rows))
    })?;
    let (page, next) =
        super::limits::paginate(rows, input.next_token.as_deref(), input.max_records, 50)?;
    let mut out = json!({ "Instances": page });
    if let Some(c) = config {
        out["WarmPoolConfiguration"] = c;
    }
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    force_delete: bool,
}

/// DeleteWarmPool: the pool goes `PendingDelete` while its instances terminate.
pub fn delete_warm_pool(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let input: DeleteInput = parse_input(input)?;
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
    state.changed.notify_waiters();
    Ok(json!({}))
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
    warm_pool_desired(group) - current
}

/// The scheduler's pass over warm pools: warmed instances that finished launching settle in
/// the pool state, pools being deleted drop instances that finished terminating and go away
/// when empty. Returns whether anything changed.
pub fn step(store: &mut AutoScalingStore, now: f64) -> bool {
    let mut changed = false;
    for group in store.groups.values_mut() {
        let Some(pool) = group.warm_pool.clone() else {
            continue;
        };
        let settled = match pool.pool_state.as_str() {
            "Running" => LifecycleState::WarmedRunning,
            "Hibernated" => LifecycleState::WarmedHibernated,
            _ => LifecycleState::WarmedStopped,
        };
        for i in group.instances.values_mut() {
            let next = match i.lifecycle_state {
                LifecycleState::WarmedPendingProceed => Some(settled),
                LifecycleState::WarmedTerminatingProceed => Some(LifecycleState::WarmedTerminated),
                _ => None,
            };
            if let Some(next) = next {
                i.lifecycle_state = next;
                i.state_since = now;
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
