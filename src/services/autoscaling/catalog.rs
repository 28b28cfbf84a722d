//! The fixed catalogues Auto Scaling describes: adjustment types, processes, termination
//! policies, notification and lifecycle-hook types, metric collection types.
//! Console wizards likely call these first, to fill their fixed lists.
//!
//! Typed handlers: they take no input ([`IgnoredAny`]) and return their output structs.

use serde::Serialize;
use serde::de::IgnoredAny;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// `DescribeAdjustmentTypesAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdjustmentTypes {
    adjustment_types: Vec<AdjustmentType>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AdjustmentType {
    adjustment_type: &'static str,
}

/// DescribeAdjustmentTypes.
pub fn describe_adjustment_types(
    _: &RequestContext,
    _: &AppState,
    _: IgnoredAny,
) -> Result<AdjustmentTypes, ApiError> {
    let types = [
        "ChangeInCapacity",
        "ExactCapacity",
        "PercentChangeInCapacity",
    ];
    Ok(AdjustmentTypes {
        adjustment_types: types
            .into_iter()
            .map(|adjustment_type| AdjustmentType { adjustment_type })
            .collect(),
    })
}

/// `ProcessesType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Processes {
    processes: Vec<ProcessType>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessType {
    process_name: &'static str,
}

/// DescribeScalingProcessTypes.
pub fn describe_scaling_process_types(
    _: &RequestContext,
    _: &AppState,
    _: IgnoredAny,
) -> Result<Processes, ApiError> {
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
    Ok(Processes {
        processes: processes
            .into_iter()
            .map(|process_name| ProcessType { process_name })
            .collect(),
    })
}

/// `DescribeTerminationPolicyTypesAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TerminationPolicyTypes {
    termination_policy_types: &'static [&'static str],
}

/// DescribeTerminationPolicyTypes.
pub fn describe_termination_policy_types(
    _: &RequestContext,
    _: &AppState,
    _: IgnoredAny,
) -> Result<TerminationPolicyTypes, ApiError> {
    Ok(TerminationPolicyTypes {
        termination_policy_types: &[
            "ClosestToNextInstanceHour",
            "Default",
            "NewestInstance",
            "OldestInstance",
            "OldestLaunchConfiguration",
            "OldestLaunchTemplate",
            "AllocationStrategy",
        ],
    })
}

/// `DescribeAutoScalingNotificationTypesAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationTypes {
    auto_scaling_notification_types: &'static [&'static str],
}

/// DescribeAutoScalingNotificationTypes.
pub fn describe_auto_scaling_notification_types(
    _: &RequestContext,
    _: &AppState,
    _: IgnoredAny,
) -> Result<NotificationTypes, ApiError> {
    Ok(NotificationTypes {
        auto_scaling_notification_types: &[
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
            "autoscaling:EC2_INSTANCE_TERMINATE",
            "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
            "autoscaling:TEST_NOTIFICATION",
        ],
    })
}

/// `DescribeLifecycleHookTypesAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleHookTypes {
    lifecycle_hook_types: &'static [&'static str],
}

/// DescribeLifecycleHookTypes.
pub fn describe_lifecycle_hook_types(
    _: &RequestContext,
    _: &AppState,
    _: IgnoredAny,
) -> Result<LifecycleHookTypes, ApiError> {
    Ok(LifecycleHookTypes {
        lifecycle_hook_types: &[
            "autoscaling:EC2_INSTANCE_LAUNCHING",
            "autoscaling:EC2_INSTANCE_TERMINATING",
        ],
    })
}

/// `DescribeMetricCollectionTypesAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricCollectionTypes {
    metrics: Vec<MetricCollectionType>,
    granularities: [MetricGranularityType; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricCollectionType {
    metric: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricGranularityType {
    granularity: &'static str,
}

/// DescribeMetricCollectionTypes.
pub fn describe_metric_collection_types(
    _: &RequestContext,
    _: &AppState,
    _: IgnoredAny,
) -> Result<MetricCollectionTypes, ApiError> {
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
    Ok(MetricCollectionTypes {
        metrics: metrics
            .into_iter()
            .map(|metric| MetricCollectionType { metric })
            .collect(),
        granularities: [MetricGranularityType {
            granularity: "1Minute",
        }],
    })
}
