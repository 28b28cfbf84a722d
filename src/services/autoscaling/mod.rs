//! The `autoscaling` service: operation table. Handlers land here with the issue that
//! implements them; every other operation of the model answers `NotImplemented` naming it.

pub mod attach_detach;
mod catalog;
pub mod instance_refresh;
pub mod lifecycle_hooks;
pub mod limits;
pub mod metrics_collection;
pub mod notifications;
pub mod processes;
pub mod resources;
pub mod scheduled;
pub mod standby;
pub mod store;
pub mod warm_pools;

pub use store::AutoScalingStore;
pub mod cron;

use super::Handler;

/// Implemented operations and their handlers.
pub const OPERATIONS: &[(&str, Handler)] = &[
    (
        "DescribeAdjustmentTypes",
        catalog::describe_adjustment_types,
    ),
    (
        "DescribeAutoScalingNotificationTypes",
        catalog::describe_auto_scaling_notification_types,
    ),
    (
        "DescribeLifecycleHookTypes",
        catalog::describe_lifecycle_hook_types,
    ),
    (
        "DescribeMetricCollectionTypes",
        catalog::describe_metric_collection_types,
    ),
    (
        "DescribeScalingProcessTypes",
        catalog::describe_scaling_process_types,
    ),
    (
        "DescribeTerminationPolicyTypes",
        catalog::describe_termination_policy_types,
    ),
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
