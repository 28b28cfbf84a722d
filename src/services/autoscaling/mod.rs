//! The `autoscaling` service: operation table. Handlers land here with the issue that
//! implements them; every other operation of the model answers `NotImplemented` naming it.

pub mod activities;
mod catalog;
pub mod describe;
pub mod execute;
pub mod group_config;
pub mod groups;
pub mod instances;
pub mod launch_configs;
pub mod launching;
pub mod lb;
pub mod plan;
pub mod policies;
pub mod resources;
pub mod scaling;
pub mod store;
pub mod tags;
pub mod target_tracking;
pub mod termination;

pub use store::AutoScalingStore;
pub mod attach_detach;
pub mod cron;
pub mod instance_refresh;
pub mod lifecycle_hooks;
pub mod limits;
pub mod metrics_collection;
pub mod notifications;
pub mod processes;
pub mod scheduled;
pub mod standby;
pub mod warm_pools;

use super::{Handler, Typed, TypedOperation};

/// `ValidationError` (400): the one helper all services share.
pub use crate::services::errors::validation;

/// A `LifecycleHookSpecification` of CreateAutoScalingGroup as a hook (defaults: heartbeat
/// 3600 s, `ABANDON`); `None` when it names no transition.
pub fn lifecycle_spec(spec: &serde_json::Value) -> Option<store::LifecycleHook> {
    let text = |k: &str| spec.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let heartbeat = spec
        .get("HeartbeatTimeout")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(3600);
    Some(store::LifecycleHook {
        name: text("LifecycleHookName")?,
        transition: text("LifecycleTransition")?,
        notification_target_arn: text("NotificationTargetARN"),
        role_arn: text("RoleARN"),
        notification_metadata: text("NotificationMetadata"),
        heartbeat_timeout: heartbeat,
        global_timeout: lifecycle_hooks::global_timeout(heartbeat),
        default_result: text("DefaultResult").unwrap_or_else(|| "ABANDON".into()),
    })
}

/// Operations with typed handlers (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    (
        "DescribeAdjustmentTypes",
        &Typed(catalog::describe_adjustment_types),
    ),
    (
        "DescribeAutoScalingNotificationTypes",
        &Typed(catalog::describe_auto_scaling_notification_types),
    ),
    (
        "DescribeLifecycleHookTypes",
        &Typed(catalog::describe_lifecycle_hook_types),
    ),
    (
        "DescribeMetricCollectionTypes",
        &Typed(catalog::describe_metric_collection_types),
    ),
    (
        "DescribeScalingActivities",
        &Typed(activities::describe_scaling_activities),
    ),
    (
        "DescribeScalingProcessTypes",
        &Typed(catalog::describe_scaling_process_types),
    ),
    (
        "DescribeTerminationPolicyTypes",
        &Typed(catalog::describe_termination_policy_types),
    ),
];

/// Operations still answering with value trees.
pub const OPERATIONS: &[(&str, Handler)] = &[
    // Operations of asg-core (launch configurations, groups, instances, policies, LBs).
    (
        "AttachLoadBalancerTargetGroups",
        lb::attach_load_balancer_target_groups,
    ),
    ("AttachLoadBalancers", lb::attach_load_balancers),
    ("AttachTrafficSources", lb::attach_traffic_sources),
    ("CreateAutoScalingGroup", groups::create_auto_scaling_group),
    (
        "CreateLaunchConfiguration",
        launch_configs::create_launch_configuration,
    ),
    ("CreateOrUpdateTags", tags::create_or_update_tags),
    ("DeleteAutoScalingGroup", groups::delete_auto_scaling_group),
    (
        "DeleteLaunchConfiguration",
        launch_configs::delete_launch_configuration,
    ),
    ("DeletePolicy", policies::delete_policy),
    ("DeleteTags", tags::delete_tags),
    (
        "DescribeAutoScalingGroups",
        describe::describe_auto_scaling_groups,
    ),
    (
        "DescribeAutoScalingInstances",
        describe::describe_auto_scaling_instances,
    ),
    (
        "DescribeLaunchConfigurations",
        launch_configs::describe_launch_configurations,
    ),
    (
        "DescribeLoadBalancerTargetGroups",
        lb::describe_load_balancer_target_groups,
    ),
    ("DescribeLoadBalancers", lb::describe_load_balancers),
    ("DescribePolicies", policies::describe_policies),
    ("DescribeTags", tags::describe_tags),
    ("DescribeTrafficSources", lb::describe_traffic_sources),
    (
        "DetachLoadBalancerTargetGroups",
        lb::detach_load_balancer_target_groups,
    ),
    ("DetachLoadBalancers", lb::detach_load_balancers),
    ("DetachTrafficSources", lb::detach_traffic_sources),
    ("ExecutePolicy", policies::execute_policy),
    ("PutScalingPolicy", policies::put_scaling_policy),
    ("SetDesiredCapacity", instances::set_desired_capacity_op),
    ("SetInstanceHealth", instances::set_instance_health),
    ("SetInstanceProtection", instances::set_instance_protection),
    (
        "TerminateInstanceInAutoScalingGroup",
        instances::terminate_instance_in_auto_scaling_group,
    ),
    ("UpdateAutoScalingGroup", groups::update_auto_scaling_group),
    // Operations of asg-ext (scheduled actions, hooks, notifications, standby, refresh, ...).
    ("AttachInstances", attach_detach::attach_instances),
    (
        "BatchDeleteScheduledAction",
        scheduled::batch_delete_scheduled_action,
    ),
    (
        "BatchPutScheduledUpdateGroupAction",
        scheduled::batch_put_scheduled_update_group_action,
    ),
    (
        "CancelInstanceRefresh",
        instance_refresh::cancel_instance_refresh,
    ),
    (
        "CompleteLifecycleAction",
        lifecycle_hooks::complete_lifecycle_action,
    ),
    (
        "DeleteLifecycleHook",
        lifecycle_hooks::delete_lifecycle_hook,
    ),
    (
        "DeleteNotificationConfiguration",
        notifications::delete_notification_configuration,
    ),
    ("DeleteScheduledAction", scheduled::delete_scheduled_action),
    ("DeleteWarmPool", warm_pools::delete_warm_pool),
    ("DescribeAccountLimits", limits::describe_account_limits),
    (
        "DescribeInstanceRefreshes",
        instance_refresh::describe_instance_refreshes,
    ),
    (
        "DescribeLifecycleHooks",
        lifecycle_hooks::describe_lifecycle_hooks,
    ),
    (
        "DescribeNotificationConfigurations",
        notifications::describe_notification_configurations,
    ),
    (
        "DescribeScheduledActions",
        scheduled::describe_scheduled_actions,
    ),
    ("DescribeWarmPool", warm_pools::describe_warm_pool),
    ("DetachInstances", attach_detach::detach_instances),
    (
        "DisableMetricsCollection",
        metrics_collection::disable_metrics_collection,
    ),
    (
        "EnableMetricsCollection",
        metrics_collection::enable_metrics_collection,
    ),
    ("EnterStandby", standby::enter_standby),
    ("ExitStandby", standby::exit_standby),
    ("PutLifecycleHook", lifecycle_hooks::put_lifecycle_hook),
    (
        "PutNotificationConfiguration",
        notifications::put_notification_configuration,
    ),
    (
        "PutScheduledUpdateGroupAction",
        scheduled::put_scheduled_update_group_action,
    ),
    ("PutWarmPool", warm_pools::put_warm_pool),
    (
        "RecordLifecycleActionHeartbeat",
        lifecycle_hooks::record_lifecycle_action_heartbeat,
    ),
    ("ResumeProcesses", processes::resume_processes),
    (
        "RollbackInstanceRefresh",
        instance_refresh::rollback_instance_refresh,
    ),
    (
        "StartInstanceRefresh",
        instance_refresh::start_instance_refresh,
    ),
    ("SuspendProcesses", processes::suspend_processes),
];
