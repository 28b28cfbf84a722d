//! The fixed catalogues Auto Scaling describes: adjustment types, processes, termination
//! policies, notification and lifecycle-hook types, metric collection types.
//! Console wizards call these first (seed-chapter.md, "Wizard static lists").

use serde_json::{Value, json};

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

fn wrap(member: &str, values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!({ member: v })).collect()
}

/// DescribeAdjustmentTypes.
pub fn describe_adjustment_types(
    _: &RequestContext,
    _: &AppState,
    _: Value,
) -> Result<Value, ApiError> {
    let types = [
        "ChangeInCapacity",
        "ExactCapacity",
        "PercentChangeInCapacity",
    ];
    Ok(json!({ "AdjustmentTypes": wrap("AdjustmentType", &types) }))
}

/// DescribeScalingProcessTypes.
pub fn describe_scaling_process_types(
    _: &RequestContext,
    _: &AppState,
    _: Value,
) -> Result<Value, ApiError> {
    let processes = [
        "AZRebalance",
        "AddToLoadBalancer",
        "AlarmNotification",
        "HealthCheck",
        "InstanceRefresh",
        "Launch",
        "ReplaceUnhealthy",
        "ScheduledActions",
        "Terminate",
    ];
    Ok(json!({ "Processes": wrap("ProcessName", &processes) }))
}

/// DescribeTerminationPolicyTypes.
pub fn describe_termination_policy_types(
    _: &RequestContext,
    _: &AppState,
    _: Value,
) -> Result<Value, ApiError> {
    Ok(json!({ "TerminationPolicyTypes": [
        "ClosestToNextInstanceHour", "Default", "NewestInstance", "OldestInstance",
        "OldestLaunchConfiguration", "OldestLaunchTemplate", "AllocationStrategy"
    ]}))
}

/// DescribeAutoScalingNotificationTypes.
pub fn describe_auto_scaling_notification_types(
    _: &RequestContext,
    _: &AppState,
    _: Value,
) -> Result<Value, ApiError> {
    Ok(json!({ "AutoScalingNotificationTypes": [
        "autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
        "autoscaling:EC2_INSTANCE_TERMINATE", "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
        "autoscaling:TEST_NOTIFICATION"
    ]}))
}

/// DescribeLifecycleHookTypes.
pub fn describe_lifecycle_hook_types(
    _: &RequestContext,
    _: &AppState,
    _: Value,
) -> Result<Value, ApiError> {
    Ok(
        json!({ "LifecycleHookTypes": ["autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"] }),
    )
}

/// DescribeMetricCollectionTypes.
pub fn describe_metric_collection_types(
    _: &RequestContext,
    _: &AppState,
    _: Value,
) -> Result<Value, ApiError> {
    let metrics = [
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
    Ok(
        json!({ "Metrics": wrap("Metric", &metrics), "Granularities": [{ "Granularity": "1Minute" }] }),
    )
}
