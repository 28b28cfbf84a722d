//! The `autoscaling` service: operation table. Handlers land here with the issue that
//! implements them; every other operation of the model answers `NotImplemented` naming it.

mod catalog;
pub mod resources;
pub mod store;

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
];
