//! The Auto Scaling store of one (account, region): launch configurations, groups with their
//! instances and sub-resources, scaling policies, scheduled actions and the activity log.
//!
//! API handlers change *intent* here (desired capacity, health, protection, hooks); the
//! reconciler (`controllers::asg_reconciler`) launches and terminates to match. The small
//! functions at the bottom ([`set_desired_capacity`], [`record_activity`], [`finish_activity`],
//! [`is_suspended`], [`hook_for`], ...) are the internal API every part of the service uses, so
//! causes and activities read the same whichever operation produced them.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde_json::Value;

use super::errors::AutoScalingError;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::Shared;

pub use super::resources::{
    InstanceRefresh, LifecycleAction, LifecycleHook, Policy, RefreshPreferences, RefreshProgress,
    ScheduledAction, StepAdjustment, WarmPool,
};

pub use super::activities::{
    Activity, ActivityDetails, finish_activity, record_activity, update_activity,
};
pub use super::launch_configs::LaunchConfiguration;

/// Everything Auto Scaling keeps for one (account, region).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct AutoScalingStore {
    /// Launch configurations by name.
    pub launch_configurations: IndexMap<String, LaunchConfiguration>,
    /// Groups by name.
    pub groups: IndexMap<String, Shared<Group>>,
    /// Scaling policies by ARN.
    pub policies: IndexMap<String, Policy>,
    /// Scheduled actions by (group name, action name).
    pub scheduled_actions: IndexMap<(String, String), ScheduledAction>,
    /// Every activity, oldest first (including those of deleted groups).
    pub activities: Vec<Shared<Activity>>,
    /// Activities before this index have ended and were announced (the scheduler's cursor;
    /// activities are never removed, so an index stays valid).
    pub announced_through: usize,
}

/// `LaunchTemplateSpecification` as a group stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateRef {
    /// `lt-…`.
    pub id: String,
    /// Template name.
    pub name: String,
    /// Version as given (`$Latest`, `$Default` or a number); `None` = `$Default`.
    pub version: Option<String>,
}

/// An attached traffic source (`TrafficSources`, also the home of classic load balancers and
/// target groups, which AWS reports through both APIs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrafficSource {
    /// Identifier: a CLB name, a target group ARN, a VPC Lattice ARN.
    pub identifier: String,
    /// `elb`, `elbv2` or `vpc-lattice`.
    pub kind: String,
    /// `Adding`, `Added`, `InService`, `Removing`, `Removed`.
    pub state: String,
}

/// Instance lifecycle states (Auto Scaling API Reference, `LifecycleState`; EC2 Auto Scaling
/// User Guide, "Amazon EC2 Auto Scaling instance lifecycle"), as AWS spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LifecycleState {
    /// Launch requested.
    Pending,
    /// A launch hook is waiting.
    PendingWait,
    /// A launch hook finished.
    PendingProceed,
    /// Serving.
    InService,
    /// Being taken out.
    Terminating,
    /// A terminate hook is waiting.
    TerminatingWait,
    /// A terminate hook finished.
    TerminatingProceed,
    /// Gone (shown briefly before the instance leaves the group).
    Terminated,
    /// DetachInstances in progress.
    Detaching,
    /// Detached (leaves the group).
    Detached,
    /// EnterStandby in progress.
    EnteringStandby,
    /// In standby.
    Standby,
    /// Warm pool: launching.
    WarmedPending,
    /// Warm pool: launch hook waiting.
    WarmedPendingWait,
    /// Warm pool: launch hook done.
    WarmedPendingProceed,
    /// Warm pool: stopped.
    WarmedStopped,
    /// Warm pool: running.
    WarmedRunning,
    /// Warm pool: hibernated.
    WarmedHibernated,
    /// Warm pool: terminating.
    WarmedTerminating,
    /// Warm pool: terminate hook waiting.
    WarmedTerminatingWait,
    /// Warm pool: terminate hook done.
    WarmedTerminatingProceed,
    /// Warm pool: terminated.
    WarmedTerminated,
}

impl LifecycleState {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::PendingWait => "Pending:Wait",
            Self::PendingProceed => "Pending:Proceed",
            Self::InService => "InService",
            Self::Terminating => "Terminating",
            Self::TerminatingWait => "Terminating:Wait",
            Self::TerminatingProceed => "Terminating:Proceed",
            Self::Terminated => "Terminated",
            Self::Detaching => "Detaching",
            Self::Detached => "Detached",
            Self::EnteringStandby => "EnteringStandby",
            Self::Standby => "Standby",
            Self::WarmedPending => "Warmed:Pending",
            Self::WarmedPendingWait => "Warmed:Pending:Wait",
            Self::WarmedPendingProceed => "Warmed:Pending:Proceed",
            Self::WarmedStopped => "Warmed:Stopped",
            Self::WarmedRunning => "Warmed:Running",
            Self::WarmedHibernated => "Warmed:Hibernated",
            Self::WarmedTerminating => "Warmed:Terminating",
            Self::WarmedTerminatingWait => "Warmed:Terminating:Wait",
            Self::WarmedTerminatingProceed => "Warmed:Terminating:Proceed",
            Self::WarmedTerminated => "Warmed:Terminated",
        }
    }

    /// Whether the instance counts toward the group's current capacity: the `Pending*` states
    /// and `InService` (our reading of the EC2 Auto Scaling User Guide: standby, terminating
    /// and warm-pool instances do not count).
    pub fn counts(self) -> bool {
        matches!(
            self,
            Self::Pending | Self::PendingWait | Self::PendingProceed | Self::InService
        )
    }

    /// Whether this is a warm-pool state (`Warmed:*`).
    pub fn is_warmed(self) -> bool {
        self.as_str().starts_with("Warmed:")
    }

    /// Whether the instance is on its way out of the group.
    pub fn is_leaving(self) -> bool {
        matches!(
            self,
            Self::Terminating
                | Self::TerminatingWait
                | Self::TerminatingProceed
                | Self::Terminated
                | Self::Detaching
                | Self::Detached
                | Self::WarmedTerminating
                | Self::WarmedTerminatingWait
                | Self::WarmedTerminatingProceed
                | Self::WarmedTerminated
        )
    }
}

/// Why an instance is about to be terminated; picks the Cause sentence (EC2 Auto Scaling User
/// Guide, "Verifying a scaling activity for an Auto Scaling group", and real activities).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TerminationReason {
    /// Scale-in to meet desired capacity.
    ScaleIn,
    /// The EC2 instance is not running.
    Ec2NotRunning,
    /// EC2 status checks failed.
    Ec2StatusChecks,
    /// The load balancer says unhealthy (HealthCheckType ELB).
    ElbHealth,
    /// SetInstanceHealth Unhealthy.
    UserHealth,
    /// TerminateInstanceInAutoScalingGroup (the whole cause, already written).
    UserRequest(String),
    /// Instance refresh / rebalance / anything else: the whole cause, already written.
    Other(String),
}

/// One instance of a group.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GroupInstance {
    /// `i-…`.
    pub id: String,
    /// InstanceType.
    pub instance_type: String,
    /// AvailabilityZone.
    pub availability_zone: String,
    /// The subnet it was launched into (`None` for EC2-Classic-style zone groups).
    pub subnet_id: Option<String>,
    /// LifecycleState.
    pub lifecycle_state: LifecycleState,
    /// When `lifecycle_state` last changed.
    pub state_since: f64,
    /// `Healthy` (true) or `Unhealthy`.
    pub healthy: bool,
    /// Why it became unhealthy (picks the terminate cause).
    pub unhealthy_reason: Option<TerminationReason>,
    /// Launch configuration it was launched from.
    pub launch_configuration_name: Option<String>,
    /// Launch template it was launched from (version resolved to a number).
    pub launch_template: Option<TemplateRef>,
    /// ImageId.
    pub image_id: String,
    /// ProtectedFromScaleIn.
    pub protected_from_scale_in: bool,
    /// WeightedCapacity (mixed instances overrides), as given.
    pub weighted_capacity: Option<String>,
    /// A Spot Instance (a mixed instances policy's Spot share); else On-Demand.
    #[serde(default)]
    pub spot: bool,
    /// When it was launched (or attached).
    pub launched_at: f64,
    /// When it entered InService (the grace period and warm-up start here).
    pub in_service_since: Option<f64>,
    /// The activity that is launching / terminating / moving it, if still in progress.
    pub activity_id: Option<String>,
    /// The hook wait in progress, if any (owned by the lifecycle hook code).
    pub lifecycle_action: Option<LifecycleAction>,
    /// Whether a launch hook already ran (so `Pending:Proceed` is not re-entered).
    pub launch_hooks_done: bool,
    /// Whether the terminate hooks already ran.
    pub terminate_hooks_done: bool,
    /// Whether deregistration from load balancers was requested (termination/standby/detach).
    pub deregistered: bool,
    /// Why it is terminating (set when chosen).
    pub termination_reason: Option<TerminationReason>,
    /// AttachInstances: lifecycle hooks do not fire for it on the way in.
    pub attached: bool,
    /// Set by ExitStandby/AttachInstances etc. when `Pending` must not launch a new EC2
    /// instance (the instance exists already).
    pub existing_ec2: bool,
}

/// A group tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupTag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// PropagateAtLaunch.
    pub propagate_at_launch: bool,
}

/// An Auto Scaling group.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Group {
    /// AutoScalingGroupName.
    pub name: String,
    /// AutoScalingGroupARN.
    pub arn: String,
    /// CreatedTime.
    pub created_time: f64,
    /// LaunchConfigurationName.
    pub launch_configuration_name: Option<String>,
    /// LaunchTemplate.
    pub launch_template: Option<TemplateRef>,
    /// MixedInstancesPolicy as given (its template and overrides are honoured at launch).
    pub mixed_instances_policy: Option<Value>,
    /// MinSize.
    pub min_size: i64,
    /// MaxSize.
    pub max_size: i64,
    /// DesiredCapacity.
    pub desired_capacity: i64,
    /// DefaultCooldown.
    pub default_cooldown: i64,
    /// AvailabilityZones (derived from the subnets when VPCZoneIdentifier is used).
    pub availability_zones: Vec<String>,
    /// Subnets of VPCZoneIdentifier, in the given order, with their zones.
    pub subnets: Vec<(String, String)>,
    /// VPCZoneIdentifier as given.
    pub vpc_zone_identifier: Option<String>,
    /// Attached traffic sources (classic LBs are kind `elb`, target groups `elbv2`).
    pub traffic_sources: Vec<TrafficSource>,
    /// HealthCheckType.
    pub health_check_type: String,
    /// HealthCheckGracePeriod.
    pub health_check_grace_period: i64,
    /// TerminationPolicies.
    pub termination_policies: Vec<String>,
    /// NewInstancesProtectedFromScaleIn.
    pub new_instances_protected_from_scale_in: bool,
    /// PlacementGroup.
    pub placement_group: Option<String>,
    /// ServiceLinkedRoleARN.
    pub service_linked_role_arn: String,
    /// MaxInstanceLifetime.
    pub max_instance_lifetime: Option<i64>,
    /// CapacityRebalance.
    pub capacity_rebalance: bool,
    /// Context.
    pub context: Option<String>,
    /// DesiredCapacityType.
    pub desired_capacity_type: Option<String>,
    /// DefaultInstanceWarmup.
    pub default_instance_warmup: Option<i64>,
    /// DeletionProtection.
    pub deletion_protection: Option<String>,
    /// Members accepted and echoed as given (InstanceMaintenancePolicy,
    /// AvailabilityZoneDistribution, ...).
    pub passthrough: BTreeMap<String, Value>,
    /// Instances, in launch order.
    pub instances: IndexMap<String, GroupInstance>,
    /// Tags, in the order they were added.
    pub tags: Vec<GroupTag>,
    /// Suspended processes: name -> SuspensionReason.
    pub suspended_processes: BTreeMap<String, String>,
    /// Enabled metrics: name -> granularity.
    pub enabled_metrics: BTreeMap<String, String>,
    /// Lifecycle hooks by name.
    pub lifecycle_hooks: IndexMap<String, LifecycleHook>,
    /// Notification configurations: (topic ARN, notification type).
    pub notification_configurations: Vec<(String, String)>,
    /// The warm pool.
    pub warm_pool: Option<WarmPool>,
    /// Instance refreshes, newest last.
    pub instance_refreshes: Vec<InstanceRefresh>,
    /// `Delete in progress` while a force delete runs.
    pub status: Option<String>,
    /// The desired-change sentence the next launch/terminate activities start their Cause
    /// with (set by [`set_desired_capacity`], consumed by the reconciler).
    pub pending_cause: Option<String>,
    /// Simple policies are blocked until this time (EC2 Auto Scaling User Guide, "Scaling
    /// cooldowns for Amazon EC2 Auto Scaling").
    pub cooldown_until: f64,
    /// Whether a simple-policy activity is still running (the cooldown starts when it ends).
    pub cooldown_pending: Option<i64>,
    /// Consecutive failed launches (for backoff).
    pub launch_failures: u32,
    /// No launch before this time (backoff after failures).
    pub next_launch_at: f64,
    /// Start of the last minute whose `AWS/AutoScaling` metrics were published (or the minute
    /// before collection began); `None` while collection is off (the metric publisher's).
    pub metrics_published_through: Option<f64>,
    /// LaunchInstances calls by `ClientToken` (answered again for the same token).
    #[serde(default)]
    pub launch_tokens: BTreeMap<String, super::launch_instances::Remembered>,
}

/// `yyyy-MM-ddTHH:mm:ssZ` (whole seconds, UTC), the timestamp inside Cause sentences and
/// SuspensionReason texts.
pub fn iso_seconds(epoch: f64) -> String {
    let text = crate::iso8601::format_iso8601(epoch.floor());
    text.replace(".000Z", "Z")
}

/// `AutoScalingGroup name not found - AutoScalingGroup {name} not found`.
pub fn group_not_found(name: &str) -> ApiError {
    AutoScalingError::ValidationError.with(format!(
        "AutoScalingGroup name not found - AutoScalingGroup {name} not found"
    ))
}

/// `Instance Id not found - No managed instance found for instance ID: {id}`.
pub fn instance_not_found(id: &str) -> ApiError {
    AutoScalingError::ValidationError.with(format!(
        "Instance Id not found - No managed instance found for instance ID: {id}"
    ))
}

impl AutoScalingStore {
    /// A group by name, or AWS's not-found error.
    pub fn group(&self, name: &str) -> Result<&Group, ApiError> {
        self.groups
            .get(name)
            .map(|g| &**g)
            .ok_or_else(|| group_not_found(name))
    }

    /// A group by name for changing, or AWS's not-found error.
    pub fn group_mut(&mut self, name: &str) -> Result<&mut Group, ApiError> {
        self.groups
            .get_mut(name)
            .map(|g| &mut **g)
            .ok_or_else(|| group_not_found(name))
    }

    /// The group holding an instance (any lifecycle state), with the instance.
    pub fn find_instance(&self, id: &str) -> Option<(&Group, &GroupInstance)> {
        self.groups
            .values()
            .find_map(|g| g.instances.get(id).map(|i| (&**g, i)))
    }

    /// The name of the group holding an instance, or AWS's not-found error.
    pub fn group_of_instance(&self, id: &str) -> Result<String, ApiError> {
        self.find_instance(id)
            .map(|(g, _)| g.name.clone())
            .ok_or_else(|| instance_not_found(id))
    }

    /// An activity by id.
    pub fn activity_mut(&mut self, id: &str) -> Option<&mut Activity> {
        // Recent activities are at the end; in-progress ones are almost always recent.
        self.activities
            .iter_mut()
            .rev()
            .find(|a| a.id == id)
            .map(|a| &mut **a)
    }

    /// Policies of a group.
    pub fn policies_of<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Policy> + 'a {
        self.policies
            .values()
            .filter(move |p| p.group_name == group)
    }
}

impl Group {
    /// Capacity units of the instances counting toward current capacity (`Pending*`,
    /// `InService`): one each, or their `WeightedCapacity` (see `mixed`).
    pub fn counted_capacity(&self) -> i64 {
        self.instances
            .values()
            .filter(|i| i.lifecycle_state.counts())
            .map(super::mixed::member_units)
            .sum()
    }

    /// Whether the counted capacity meets desired with nothing a scale-in could take: equal,
    /// or (mixed instances policy) above by less than the lightest member a scale-in may take
    /// (the overage weights leave).
    pub fn capacity_met(&self) -> bool {
        let excess = self.counted_capacity() - self.desired_capacity;
        if self.mixed_instances_policy.is_none() {
            return excess == 0;
        }
        let lightest = self
            .instances
            .values()
            .filter(|i| i.lifecycle_state.counts() && !i.protected_from_scale_in)
            .map(super::mixed::member_units)
            .min()
            .unwrap_or(i64::MAX);
        excess == 0 || (excess > 0 && excess < lightest)
    }

    /// Classic load balancer names attached (not being removed).
    pub fn load_balancer_names(&self) -> Vec<String> {
        self.sources_of("elb")
    }

    /// Target group ARNs attached (not being removed).
    pub fn target_group_arns(&self) -> Vec<String> {
        self.sources_of("elbv2")
    }

    fn sources_of(&self, kind: &str) -> Vec<String> {
        self.traffic_sources
            .iter()
            .filter(|t| t.kind == kind && t.state != "Removing" && t.state != "Removed")
            .map(|t| t.identifier.clone())
            .collect()
    }

    /// Whether any activity of this group is in progress (its instances carry the ids).
    pub fn activity_in_progress(&self) -> Option<&str> {
        self.instances
            .values()
            .find_map(|i| i.activity_id.as_deref())
    }
}

/// Whether `process` (`Launch`, `Terminate`, `HealthCheck`, `ReplaceUnhealthy`, `AZRebalance`,
/// `AlarmNotification`, `ScheduledActions`, `AddToLoadBalancer`, `InstanceRefresh`) is
/// suspended for the group. The reconciler consults it before each kind of action.
pub fn is_suspended(group: &Group, process: &str) -> bool {
    group.suspended_processes.contains_key(process)
}

/// The first lifecycle hook of the group for a transition
/// (`autoscaling:EC2_INSTANCE_LAUNCHING` / `autoscaling:EC2_INSTANCE_TERMINATING`).
/// The reconciler moves an instance to `Pending:Wait` / `Terminating:Wait` when one exists.
pub fn hook_for<'a>(group: &'a Group, transition: &str) -> Option<&'a LifecycleHook> {
    group
        .lifecycle_hooks
        .values()
        .find(|h| h.transition == transition)
}

/// Change a group's desired capacity and remember why: `trigger` is the middle of AWS's
/// sentence (`a user request explicitly set group desired capacity`, `a monitor alarm X in
/// state ALARM triggered policy Y`, `a scheduled action update of AutoScalingGroup constraints
/// to min: 1, max: 3, desired: 2`, ...). The reconciler's launch/terminate activities start their
/// Cause with `At {now} {trigger} changing the desired capacity from {old} to {new}.`
/// Returns whether the capacity changed (no change writes no cause, as on AWS). The caller has
/// validated `new` against min/max and wakes the controllers (`state.touched`).
pub fn set_desired_capacity(group: &mut Group, new: i64, trigger: &str, now: f64) -> bool {
    let old = group.desired_capacity;
    if old == new {
        return false;
    }
    group.desired_capacity = new;
    group.pending_cause = Some(format!(
        "At {} {trigger} changing the desired capacity from {old} to {new}.",
        iso_seconds(now)
    ));
    tracing::info!(group = %group.name, from = old, to = new, "desired capacity change");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desired_changes_write_awss_sentence_and_no_change_writes_none() {
        let mut g = Group {
            name: "web".into(),
            desired_capacity: 1,
            ..Group::default()
        };
        assert!(!set_desired_capacity(&mut g, 1, "a user request", 0.0));
        assert!(g.pending_cause.is_none());
        assert!(set_desired_capacity(
            &mut g,
            2,
            "a user request explicitly set group desired capacity",
            1_795_838_460.0
        ));
        assert_eq!(
            g.pending_cause.as_deref(),
            Some(
                "At 2026-11-28T04:01:00Z a user request explicitly set group desired capacity changing the desired capacity from 1 to 2."
            )
        );
    }

    #[test]
    fn counting_follows_the_lifecycle_state() {
        assert!(LifecycleState::PendingWait.counts());
        assert!(LifecycleState::InService.counts());
        assert!(!LifecycleState::Standby.counts());
        assert!(!LifecycleState::TerminatingWait.counts());
        assert!(!LifecycleState::WarmedRunning.counts());
        assert!(LifecycleState::WarmedStopped.is_warmed());
        assert!(LifecycleState::Detaching.is_leaving());
    }
}
