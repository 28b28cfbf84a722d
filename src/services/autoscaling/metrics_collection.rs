//! EnableMetricsCollection / DisableMetricsCollection and the values of the `AWS/AutoScaling`
//! group metrics. The `asg_metrics` controller publishes the enabled ones every minute under
//! the `AutoScalingGroupName` dimension (unit `None`), as AWS does at `1Minute` granularity.

use serde::Deserialize;

use super::store::{Group, LifecycleState};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::validation;
use crate::state::{AppState, Topic};

/// The namespace.
pub const NAMESPACE: &str = "AWS/AutoScaling";

/// Every metric a group can collect (DescribeMetricCollectionTypes).
pub const METRICS: [&str; 20] = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupInServiceCapacity",
    "GroupPendingInstances",
    "GroupPendingCapacity",
    "GroupStandbyInstances",
    "GroupStandbyCapacity",
    "GroupTerminatingInstances",
    "GroupTerminatingCapacity",
    "GroupTotalInstances",
    "GroupTotalCapacity",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
    "WarmPoolPendingCapacity",
    "WarmPoolTerminatingCapacity",
    "WarmPoolTotalCapacity",
    "GroupAndWarmPoolDesiredCapacity",
    "GroupAndWarmPoolTotalCapacity",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    metrics: Vec<String>,
    granularity: String,
}

fn chosen(metrics: &[String]) -> Result<Vec<String>, ApiError> {
    if metrics.is_empty() {
        return Ok(METRICS.iter().map(|m| (*m).to_owned()).collect());
    }
    if let Some(bad) = metrics.iter().find(|m| !METRICS.contains(&m.as_str())) {
        // Text not captured from AWS.
        return Err(validation(format!("Invalid metric name: {bad}")));
    }
    Ok(metrics.to_vec())
}

/// EnableMetricsCollection: only `1Minute` granularity exists; no metrics means all.
pub fn enable_metrics_collection(
    ctx: &RequestContext,
    state: &AppState,
    input: EnableInput,
) -> Result<(), ApiError> {
    if input.granularity != "1Minute" {
        return Err(validation(format!(
            "Invalid granularity: {}. Valid granularity is 1Minute",
            input.granularity
        )));
    }
    let metrics = chosen(&input.metrics)?;
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        for m in metrics {
            group.enabled_metrics.insert(m, input.granularity.clone());
        }
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DisableInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    metrics: Vec<String>,
}

/// DisableMetricsCollection: no metrics means all.
pub fn disable_metrics_collection(
    ctx: &RequestContext,
    state: &AppState,
    input: DisableInput,
) -> Result<(), ApiError> {
    let metrics = chosen(&input.metrics)?;
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        for m in metrics {
            group.enabled_metrics.remove(&m);
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(())
}

fn weight(i: &super::store::GroupInstance) -> f64 {
    i.weighted_capacity
        .as_deref()
        .and_then(|w| w.parse::<f64>().ok())
        .unwrap_or(1.0)
}

/// The warm pool's desired size: `MaxGroupPreparedCapacity` (or the group's max) less the
/// group's desired capacity, never below the pool's `MinSize`.
pub fn warm_pool_desired(group: &Group) -> i64 {
    group.warm_pool.as_ref().map_or(0, |p| {
        let prepared = p
            .max_group_prepared_capacity
            .filter(|m| *m >= 0)
            .unwrap_or(group.max_size);
        (prepared - group.desired_capacity).max(p.min_size).max(0)
    })
}

/// The value of every metric for a group now, in [`METRICS`] order.
pub fn values(group: &Group) -> Vec<(&'static str, f64)> {
    use LifecycleState as S;
    let (mut in_service, mut pending, mut standby, mut terminating) = (0.0, 0.0, 0.0, 0.0);
    let (mut in_service_n, mut pending_n, mut standby_n, mut terminating_n) = (0, 0, 0, 0);
    let (mut warmed, mut warm_pending, mut warm_terminating) = (0.0, 0.0, 0.0);
    for i in group.instances.values() {
        let w = weight(i);
        match i.lifecycle_state {
            S::InService => {
                in_service += w;
                in_service_n += 1;
            }
            S::Pending | S::PendingWait | S::PendingProceed => {
                pending += w;
                pending_n += 1;
            }
            S::Standby | S::EnteringStandby => {
                standby += w;
                standby_n += 1;
            }
            S::Terminating | S::TerminatingWait | S::TerminatingProceed => {
                terminating += w;
                terminating_n += 1;
            }
            S::WarmedStopped | S::WarmedRunning | S::WarmedHibernated => warmed += w,
            S::WarmedPending | S::WarmedPendingWait | S::WarmedPendingProceed => {
                warm_pending += w;
            }
            S::WarmedTerminating | S::WarmedTerminatingWait | S::WarmedTerminatingProceed => {
                warm_terminating += w;
            }
            S::Terminated | S::Detaching | S::Detached | S::WarmedTerminated => {}
        }
    }
    let total = in_service + pending + standby + terminating;
    let total_n = in_service_n + pending_n + standby_n + terminating_n;
    let warm_total = warmed + warm_pending + warm_terminating;
    let warm_desired = warm_pool_desired(group) as f64;
    let desired = group.desired_capacity as f64;
    vec![
        ("GroupMinSize", group.min_size as f64),
        ("GroupMaxSize", group.max_size as f64),
        ("GroupDesiredCapacity", desired),
        ("GroupInServiceInstances", f64::from(in_service_n)),
        ("GroupInServiceCapacity", in_service),
        ("GroupPendingInstances", f64::from(pending_n)),
        ("GroupPendingCapacity", pending),
        ("GroupStandbyInstances", f64::from(standby_n)),
        ("GroupStandbyCapacity", standby),
        ("GroupTerminatingInstances", f64::from(terminating_n)),
        ("GroupTerminatingCapacity", terminating),
        ("GroupTotalInstances", f64::from(total_n)),
        ("GroupTotalCapacity", total),
        ("WarmPoolDesiredCapacity", warm_desired),
        ("WarmPoolWarmedCapacity", warmed),
        ("WarmPoolPendingCapacity", warm_pending),
        ("WarmPoolTerminatingCapacity", warm_terminating),
        ("WarmPoolTotalCapacity", warm_total),
        ("GroupAndWarmPoolDesiredCapacity", desired + warm_desired),
        ("GroupAndWarmPoolTotalCapacity", total + warm_total),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_metrics_when_none_named_and_unknown_refused() {
        assert_eq!(chosen(&[]).unwrap().len(), 20);
        assert!(chosen(&["GroupMinSize".into(), "Nope".into()]).is_err());
    }

    #[test]
    fn sizes_of_an_empty_group() {
        let g = Group {
            min_size: 1,
            max_size: 3,
            desired_capacity: 2,
            ..Group::default()
        };
        let v = values(&g);
        assert_eq!(v.len(), METRICS.len());
        for ((name, _), expected) in v.iter().zip(METRICS) {
            assert_eq!(*name, expected);
        }
        assert_eq!(v[0].1, 1.0);
        assert_eq!(v[1].1, 3.0);
        assert_eq!(v[2].1, 2.0);
        assert_eq!(v[11].1, 0.0);
    }
}
