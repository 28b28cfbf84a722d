//! The `autoscaling` service: operation table. Every handler is typed (see `services::Typed`);
//! output shapes several operations share are in [`views`], the service's error codes in
//! [`errors`]. Every other operation of the model answers `NotImplemented` naming it.

pub mod activities;
mod catalog;
pub mod describe;
pub mod errors;
pub mod execute;
pub mod forecast;
pub mod group_config;
pub mod groups;
pub mod instances;
pub mod launch_configs;
pub mod launch_instances;
pub mod launching;
pub mod lb;
pub mod mixed;
pub mod plan;
pub mod policies;
pub mod resources;
pub mod scaling;
pub mod store;
pub mod tags;
pub mod target_tracking;
pub mod termination;
pub mod tt_agree;
pub mod views;

pub use store::AutoScalingStore;
pub mod attach_detach;
pub mod cron;
pub mod instance_refresh;
pub mod lifecycle_hooks;
pub mod limits;
pub mod metrics_collection;
pub mod notifications;
mod notify_routes;
pub mod processes;
pub mod refresh_preferences;
pub mod refresh_rolling;
pub mod scheduled;
pub mod standby;
pub mod warm_moves;
pub mod warm_pools;

use super::{Handler, Typed, TypedOperation};

/// `ValidationError` (400): the one helper all services share.
pub use crate::services::errors::validation;

/// Operations with typed handlers (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    ("AttachInstances", &Typed(attach_detach::attach_instances)),
    (
        "AttachLoadBalancerTargetGroups",
        &Typed(lb::attach_load_balancer_target_groups),
    ),
    ("AttachLoadBalancers", &Typed(lb::attach_load_balancers)),
    ("AttachTrafficSources", &Typed(lb::attach_traffic_sources)),
    (
        "BatchDeleteScheduledAction",
        &Typed(scheduled::batch_delete_scheduled_action),
    ),
    (
        "BatchPutScheduledUpdateGroupAction",
        &Typed(scheduled::batch_put_scheduled_update_group_action),
    ),
    (
        "CancelInstanceRefresh",
        &Typed(instance_refresh::cancel_instance_refresh),
    ),
    (
        "CompleteLifecycleAction",
        &Typed(lifecycle_hooks::complete_lifecycle_action),
    ),
    (
        "CreateAutoScalingGroup",
        &Typed(groups::create_auto_scaling_group),
    ),
    (
        "CreateLaunchConfiguration",
        &Typed(launch_configs::create_launch_configuration),
    ),
    ("CreateOrUpdateTags", &Typed(tags::create_or_update_tags)),
    (
        "DeleteAutoScalingGroup",
        &Typed(groups::delete_auto_scaling_group),
    ),
    (
        "DeleteLaunchConfiguration",
        &Typed(launch_configs::delete_launch_configuration),
    ),
    (
        "DeleteLifecycleHook",
        &Typed(lifecycle_hooks::delete_lifecycle_hook),
    ),
    (
        "DeleteNotificationConfiguration",
        &Typed(notifications::delete_notification_configuration),
    ),
    ("DeletePolicy", &Typed(policies::delete_policy)),
    (
        "DeleteScheduledAction",
        &Typed(scheduled::delete_scheduled_action),
    ),
    ("DeleteTags", &Typed(tags::delete_tags)),
    ("DeleteWarmPool", &Typed(warm_pools::delete_warm_pool)),
    (
        "DescribeAccountLimits",
        &Typed(limits::describe_account_limits),
    ),
    (
        "DescribeAdjustmentTypes",
        &Typed(catalog::describe_adjustment_types),
    ),
    (
        "DescribeAutoScalingGroups",
        &Typed(describe::describe_auto_scaling_groups),
    ),
    (
        "DescribeAutoScalingInstances",
        &Typed(describe::describe_auto_scaling_instances),
    ),
    (
        "DescribeAutoScalingNotificationTypes",
        &Typed(catalog::describe_auto_scaling_notification_types),
    ),
    (
        "DescribeInstanceRefreshes",
        &Typed(instance_refresh::describe_instance_refreshes),
    ),
    (
        "DescribeLaunchConfigurations",
        &Typed(launch_configs::describe_launch_configurations),
    ),
    (
        "DescribeLifecycleHookTypes",
        &Typed(catalog::describe_lifecycle_hook_types),
    ),
    (
        "DescribeLifecycleHooks",
        &Typed(lifecycle_hooks::describe_lifecycle_hooks),
    ),
    (
        "DescribeLoadBalancerTargetGroups",
        &Typed(lb::describe_load_balancer_target_groups),
    ),
    ("DescribeLoadBalancers", &Typed(lb::describe_load_balancers)),
    (
        "DescribeMetricCollectionTypes",
        &Typed(catalog::describe_metric_collection_types),
    ),
    (
        "DescribeNotificationConfigurations",
        &Typed(notifications::describe_notification_configurations),
    ),
    ("DescribePolicies", &Typed(policies::describe_policies)),
    (
        "DescribeScalingActivities",
        &Typed(activities::describe_scaling_activities),
    ),
    (
        "DescribeScalingProcessTypes",
        &Typed(catalog::describe_scaling_process_types),
    ),
    (
        "DescribeScheduledActions",
        &Typed(scheduled::describe_scheduled_actions),
    ),
    ("DescribeTags", &Typed(tags::describe_tags)),
    (
        "DescribeTerminationPolicyTypes",
        &Typed(catalog::describe_termination_policy_types),
    ),
    (
        "DescribeTrafficSources",
        &Typed(lb::describe_traffic_sources),
    ),
    ("DescribeWarmPool", &Typed(warm_pools::describe_warm_pool)),
    ("DetachInstances", &Typed(attach_detach::detach_instances)),
    (
        "DetachLoadBalancerTargetGroups",
        &Typed(lb::detach_load_balancer_target_groups),
    ),
    ("DetachLoadBalancers", &Typed(lb::detach_load_balancers)),
    ("DetachTrafficSources", &Typed(lb::detach_traffic_sources)),
    (
        "DisableMetricsCollection",
        &Typed(metrics_collection::disable_metrics_collection),
    ),
    (
        "EnableMetricsCollection",
        &Typed(metrics_collection::enable_metrics_collection),
    ),
    ("EnterStandby", &Typed(standby::enter_standby)),
    ("ExecutePolicy", &Typed(policies::execute_policy)),
    ("ExitStandby", &Typed(standby::exit_standby)),
    (
        "GetPredictiveScalingForecast",
        &Typed(forecast::get_predictive_scaling_forecast),
    ),
    (
        "LaunchInstances",
        &Typed(launch_instances::launch_instances),
    ),
    (
        "PutLifecycleHook",
        &Typed(lifecycle_hooks::put_lifecycle_hook),
    ),
    (
        "PutNotificationConfiguration",
        &Typed(notifications::put_notification_configuration),
    ),
    ("PutScalingPolicy", &Typed(policies::put_scaling_policy)),
    (
        "PutScheduledUpdateGroupAction",
        &Typed(scheduled::put_scheduled_update_group_action),
    ),
    ("PutWarmPool", &Typed(warm_pools::put_warm_pool)),
    (
        "RecordLifecycleActionHeartbeat",
        &Typed(lifecycle_hooks::record_lifecycle_action_heartbeat),
    ),
    ("ResumeProcesses", &Typed(processes::resume_processes)),
    (
        "RollbackInstanceRefresh",
        &Typed(instance_refresh::rollback_instance_refresh),
    ),
    (
        "SetDesiredCapacity",
        &Typed(instances::set_desired_capacity_op),
    ),
    ("SetInstanceHealth", &Typed(instances::set_instance_health)),
    (
        "SetInstanceProtection",
        &Typed(instances::set_instance_protection),
    ),
    (
        "StartInstanceRefresh",
        &Typed(instance_refresh::start_instance_refresh),
    ),
    ("SuspendProcesses", &Typed(processes::suspend_processes)),
    (
        "TerminateInstanceInAutoScalingGroup",
        &Typed(instances::terminate_instance_in_auto_scaling_group),
    ),
    (
        "UpdateAutoScalingGroup",
        &Typed(groups::update_auto_scaling_group),
    ),
];

/// Operations still answering with value trees: none.
pub const OPERATIONS: &[(&str, Handler)] = &[];
