//! The sub-resources of groups: lifecycle hooks and actions, warm pools, instance refreshes,
//! scheduled actions and scaling policies (plain data; [`super::store`] re-exports them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::store::TemplateRef;

/// A lifecycle action in progress on one instance (a hook holding it in a `:Wait` state).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LifecycleAction {
    /// LifecycleActionToken (a UUID).
    pub token: String,
    /// The hook's name.
    pub hook_name: String,
    /// `autoscaling:EC2_INSTANCE_LAUNCHING` or `…TERMINATING`.
    pub transition: String,
    /// When the wait began.
    pub started: f64,
    /// When the heartbeat timeout fires (moved by RecordLifecycleActionHeartbeat).
    pub heartbeat_deadline: f64,
    /// When the global timeout fires (min(48 h, 100 × heartbeat) after `started`).
    pub global_deadline: f64,
    /// `CONTINUE` / `ABANDON` once completed (the reconciler moves on to `:Proceed`).
    pub result: Option<String>,
    /// Why it ended (`Heartbeat Timeout`, or how it was completed), for activity messages.
    pub ended_by: Option<String>,
    /// The hook's notification target was told the wait began (set by the scheduler).
    pub wait_notified: bool,
}

/// A lifecycle hook (PutLifecycleHook).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LifecycleHook {
    /// LifecycleHookName.
    pub name: String,
    /// LifecycleTransition.
    pub transition: String,
    /// NotificationTargetARN.
    pub notification_target_arn: Option<String>,
    /// RoleARN.
    pub role_arn: Option<String>,
    /// NotificationMetadata.
    pub notification_metadata: Option<String>,
    /// HeartbeatTimeout (seconds, default 3600).
    pub heartbeat_timeout: i64,
    /// GlobalTimeout (seconds).
    pub global_timeout: i64,
    /// DefaultResult (`ABANDON` by default).
    pub default_result: String,
}

/// The warm pool of a group (PutWarmPool).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WarmPool {
    /// MaxGroupPreparedCapacity (-1 = use the group's max).
    pub max_group_prepared_capacity: Option<i64>,
    /// MinSize.
    pub min_size: i64,
    /// PoolState: `Stopped`, `Running`, `Hibernated`.
    pub pool_state: String,
    /// `PendingDelete` while being deleted.
    pub status: Option<String>,
    /// InstanceReusePolicy as given.
    pub instance_reuse_policy: Option<Value>,
}

/// An instance refresh (StartInstanceRefresh). The lists and objects AWS echoes are kept as
/// given; the counters drive the refresh.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstanceRefresh {
    /// InstanceRefreshId.
    pub id: String,
    /// Status: `Pending`, `InProgress`, `Successful`, `Failed`, `Cancelling`, `Cancelled`,
    /// `RollbackInProgress`, `RollbackFailed`, `RollbackSuccessful`, `Baking`.
    pub status: String,
    /// StatusReason.
    pub status_reason: Option<String>,
    /// StartTime.
    pub start_time: f64,
    /// EndTime.
    pub end_time: Option<f64>,
    /// PercentageComplete.
    pub percentage_complete: i64,
    /// InstancesToUpdate.
    pub instances_to_update: i64,
    /// Preferences as given, with AWS's defaults filled in.
    pub preferences: RefreshPreferences,
    /// DesiredConfiguration as given.
    pub desired_configuration: Option<Value>,
    /// Strategy (`Rolling`, `ReplaceRootVolume`).
    pub strategy: String,
    /// Instances already replaced (ids of the old ones).
    pub replaced: Vec<String>,
    /// Where the rolling replacement is, and what Rollback restores.
    pub progress: RefreshProgress,
}

/// `RefreshPreferences` (StartInstanceRefresh's input, echoed by DescribeInstanceRefreshes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RefreshPreferences {
    /// MinHealthyPercentage (0–100, default 90).
    pub min_healthy_percentage: Option<i64>,
    /// InstanceWarmup (seconds; default the group's warm-up or grace period).
    pub instance_warmup: Option<i64>,
    /// CheckpointPercentages (ascending, 1–100).
    pub checkpoint_percentages: Option<Vec<i64>>,
    /// CheckpointDelay (seconds; default 3600 when there are checkpoints).
    pub checkpoint_delay: Option<i64>,
    /// SkipMatching.
    pub skip_matching: Option<bool>,
    /// AutoRollback.
    pub auto_rollback: Option<bool>,
    /// ScaleInProtectedInstances (`Refresh`, `Ignore`, `Wait`).
    pub scale_in_protected_instances: Option<String>,
    /// StandbyInstances (`Terminate`, `Ignore`, `Wait`).
    pub standby_instances: Option<String>,
    /// AlarmSpecification (`{"Alarms": [...]}`), kept as given.
    pub alarm_specification: Option<Value>,
    /// MaxHealthyPercentage (100–200).
    pub max_healthy_percentage: Option<i64>,
    /// BakeTime (seconds).
    pub bake_time: Option<i64>,
}

/// What an instance refresh remembers between the scheduler's passes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefreshProgress {
    /// The group's launch template before the refresh (what Rollback restores).
    pub previous_template: Option<TemplateRef>,
    /// The group's mixed instances policy before the refresh.
    pub previous_mixed_instances_policy: Option<Value>,
    /// The instances to replace, chosen when the refresh (or its rollback) starts rolling.
    pub to_replace: Option<Vec<String>>,
    /// How many were chosen.
    pub total: i64,
    /// The last checkpoint passed (percent; 0 before the first).
    pub checkpoint: i64,
    /// No new batch before this time (a checkpoint's delay).
    pub paused_until: Option<f64>,
    /// When the rollback started: instances launched since the refresh began are replaced.
    pub rollback_from: Option<f64>,
    /// Instances launched above the desired capacity for the current batch (MaxHealthyPercentage
    /// above 100: launch before terminate); the reconciler plans for desired + surge.
    pub surge: i64,
    /// The old instances the surge replaces, terminated once the surge is in service.
    pub surge_victims: Vec<String>,
    /// When baking started (BakeTime after the last replacement).
    pub baking_since: Option<f64>,
    /// Since when only protected or standby instances (preference `Wait`) are left to replace.
    pub blocked_since: Option<f64>,
}

/// A scheduled action (PutScheduledUpdateGroupAction).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScheduledAction {
    /// AutoScalingGroupName.
    pub group_name: String,
    /// ScheduledActionName.
    pub name: String,
    /// ScheduledActionARN.
    pub arn: String,
    /// StartTime (also `Time`).
    pub start_time: Option<f64>,
    /// EndTime.
    pub end_time: Option<f64>,
    /// Recurrence (cron).
    pub recurrence: Option<String>,
    /// TimeZone.
    pub time_zone: Option<String>,
    /// MinSize.
    pub min_size: Option<i64>,
    /// MaxSize.
    pub max_size: Option<i64>,
    /// DesiredCapacity.
    pub desired_capacity: Option<i64>,
    /// The next time it fires (epoch seconds), kept by the scheduler.
    pub next_run: Option<f64>,
}

/// A scaling policy (PutScalingPolicy).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    /// PolicyARN.
    pub arn: String,
    /// AutoScalingGroupName.
    pub group_name: String,
    /// PolicyName.
    pub name: String,
    /// `SimpleScaling`, `StepScaling`, `TargetTrackingScaling`, `PredictiveScaling`.
    pub policy_type: String,
    /// AdjustmentType.
    pub adjustment_type: Option<String>,
    /// MinAdjustmentMagnitude.
    pub min_adjustment_magnitude: Option<i64>,
    /// ScalingAdjustment.
    pub scaling_adjustment: Option<i64>,
    /// Cooldown.
    pub cooldown: Option<i64>,
    /// StepAdjustments: (lower, upper, adjustment).
    pub step_adjustments: Vec<StepAdjustment>,
    /// MetricAggregationType.
    pub metric_aggregation_type: Option<String>,
    /// EstimatedInstanceWarmup.
    pub estimated_instance_warmup: Option<i64>,
    /// TargetTrackingConfiguration as given.
    pub target_tracking: Option<Value>,
    /// PredictiveScalingConfiguration as given (accepted, not acted on).
    pub predictive: Option<Value>,
    /// Enabled.
    pub enabled: bool,
    /// The alarms that invoke it: (name, ARN).
    pub alarms: Vec<(String, String)>,
}

/// One step of a step scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepAdjustment {
    /// MetricIntervalLowerBound (None = −∞).
    pub lower: Option<f64>,
    /// MetricIntervalUpperBound (None = +∞).
    pub upper: Option<f64>,
    /// ScalingAdjustment.
    pub adjustment: i64,
}
