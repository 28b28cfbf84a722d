//! EnterStandby and ExitStandby (EC2 Auto Scaling User Guide, "Temporarily remove instances
//! from your Auto Scaling group"), plus the pieces the attach/detach calls share: the activity
//! JSON these calls return and the "please update the sizes" capacity check.
//!
//! EnterStandby moves `InService` instances to `EnteringStandby` (deregistered from load
//! balancers; the scheduler then sets `Standby` and ends the activity); with
//! `ShouldDecrementDesiredCapacity` the desired capacity drops, otherwise the reconciler
//! launches replacements. ExitStandby moves `Standby` instances to `Pending` (the EC2 instance
//! exists already) and raises the desired capacity; the reconciler takes them to `InService`.
//! Lifecycle hooks do not fire for either.

use serde::Deserialize;

use super::activities::{ActivitiesOut, ActivityDetails, ActivityOut};
use super::store::{AutoScalingStore, Group, LifecycleState, iso_seconds, record_activity};
use crate::context::RequestContext;
use crate::error::ApiError;
pub(super) use crate::services::errors::validation;
use crate::state::{AppState, Topic};

/// At most this many instance ids per call (EC2 Auto Scaling User Guide, "Quotas for Amazon
/// EC2 Auto Scaling").
pub(super) const MAX_IDS: usize = 20;

/// The check AWS makes before a call moves capacity: the desired capacity after it must stay
/// within [min, max]. Captured for EnterStandby:
/// `AutoScalingGroup g has min-size=1, max-size=1, and desired-size=1. To place into standby 1
/// instance, please update the AutoScalingGroup sizes appropriately.` (`verb` = `place into
/// standby`; the other verbs are by analogy).
pub(super) fn check_capacity(
    group: &Group,
    new_desired: i64,
    verb: &str,
    n: usize,
) -> Result<(), ApiError> {
    if new_desired < group.min_size || new_desired > group.max_size {
        return Err(validation(format!(
            "AutoScalingGroup {} has min-size={}, max-size={}, and desired-size={}. To {verb} {n} instance{}, please update the AutoScalingGroup sizes appropriately.",
            group.name,
            group.min_size,
            group.max_size,
            group.desired_capacity,
            if n == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// The details of an activity about the member `id` of `group`.
pub(super) fn details_of(group: &Group, id: &str) -> ActivityDetails {
    group
        .instances
        .get(id)
        .map_or_else(ActivityDetails::default, |i| {
            ActivityDetails::at(i.subnet_id.as_deref(), &i.availability_zone)
        })
}

/// Check the ids of a call: at most 20, each a member of `group`, each in one of `allowed`
/// states (else `The instance {id} is not in {names}.`).
pub(super) fn check_members(
    group: &Group,
    ids: &[String],
    allowed: &[LifecycleState],
    names: &str,
) -> Result<(), ApiError> {
    if ids.len() > MAX_IDS {
        return Err(validation(format!(
            "The number of instance ids that may be passed in is limited to {MAX_IDS}"
        )));
    }
    for id in ids {
        let Some(inst) = group.instances.get(id) else {
            return Err(validation(format!(
                "The instance {id} is not part of Auto Scaling group {}.",
                group.name
            )));
        };
        if !allowed.contains(&inst.lifecycle_state) {
            return Err(validation(format!("The instance {id} is not in {names}.")));
        }
    }
    Ok(())
}

/// How DetachInstances and EnterStandby take instances out of service.
pub(super) struct TakeOut<'a> {
    pub group_name: &'a str,
    pub ids: &'a [String],
    /// Desired capacity before and after.
    pub old: i64,
    pub new: i64,
    /// The caller asked to decrement the desired capacity (the cause then says so).
    pub shrink: bool,
    /// Where the instances go.
    pub to: LifecycleState,
    /// The activity's description, before `: <id>`.
    pub description: &'a str,
    /// What happened to the instance, in the cause (`detached`, `moved to standby`).
    pub verb: &'a str,
    /// Detached instances lose their scale-in protection; instances in standby keep it.
    pub unprotect: bool,
}

/// Set the new desired capacity, let load balancers deregister the instances, and move them
/// with one activity each (AWS's cause texts); returns the activities.
pub(super) fn take_out_of_service(
    store: &mut AutoScalingStore,
    state: &AppState,
    t: &TakeOut<'_>,
    now: f64,
) -> Result<Vec<ActivityOut>, ApiError> {
    let group = store.group_mut(t.group_name)?;
    group.desired_capacity = t.new;
    for id in t.ids {
        if let Some(i) = group.instances.get_mut(id) {
            i.deregistered = true;
            if t.unprotect {
                i.protected_from_scale_in = false;
            }
        }
    }
    let at = iso_seconds(now);
    let shrinking = if t.shrink {
        format!(", shrinking the capacity from {} to {}", t.old, t.new)
    } else {
        String::new()
    };
    Ok(move_with_activities(
        store,
        state,
        t.group_name,
        t.ids,
        (t.to, "InProgress", 50),
        |id| {
            (
                format!("{}: {id}", t.description),
                format!(
                    "At {at} instance {id} was {} in response to a user request{shrinking}.",
                    t.verb
                ),
            )
        },
        now,
    ))
}

/// Move `ids` to `state`, recording one activity each (built by `text(id) -> (description,
/// cause)`), and return the activities.
pub(super) fn move_with_activities(
    store: &mut AutoScalingStore,
    state: &AppState,
    group_name: &str,
    ids: &[String],
    (to, status, progress): (LifecycleState, &str, i64),
    text: impl Fn(&str) -> (String, String),
    now: f64,
) -> Vec<ActivityOut> {
    let mut out = Vec::new();
    for id in ids {
        let Some(group) = store.groups.get(group_name).cloned() else {
            break;
        };
        let (description, cause) = text(id);
        let details = details_of(&group, id);
        let activity = record_activity(
            store,
            state.ids.uuid(),
            &group,
            description,
            cause,
            status,
            progress,
            &details,
            Some(id),
            now,
        );
        if let Some(inst) = store
            .groups
            .get_mut(group_name)
            .and_then(|g| g.instances.get_mut(id))
        {
            tracing::info!(instance = %id, from = inst.lifecycle_state.as_str(), to = to.as_str(), "instance moved");
            inst.lifecycle_state = to;
            inst.state_since = now;
            inst.activity_id = Some(activity.clone());
        }
        if let Some(a) = store.activities.last() {
            out.push(ActivityOut::new(a, false));
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnterInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    instance_ids: Vec<String>,
    should_decrement_desired_capacity: bool,
}

/// EnterStandby.
pub fn enter_standby(
    ctx: &RequestContext,
    state: &AppState,
    input: EnterInput,
) -> Result<ActivitiesOut, ApiError> {
    let now = state.clock.now();
    let activities = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.autoscaling;
        let group = store.group(&input.auto_scaling_group_name)?;
        check_members(
            group,
            &input.instance_ids,
            &[LifecycleState::InService],
            "InService",
        )?;
        let n = input.instance_ids.len();
        let old = group.desired_capacity;
        let new = if input.should_decrement_desired_capacity {
            old - n as i64
        } else {
            old
        };
        check_capacity(group, new, "place into standby", n)?;
        let take_out = TakeOut {
            group_name: &input.auto_scaling_group_name,
            ids: &input.instance_ids,
            old,
            new,
            shrink: input.should_decrement_desired_capacity,
            to: LifecycleState::EnteringStandby,
            description: "Moving EC2 instance to Standby",
            verb: "moved to standby",
            unprotect: false,
        };
        take_out_of_service(store, state, &take_out, now)
    })?;
    state.touched(Topic::AutoScaling);
    Ok(ActivitiesOut::new(activities))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExitInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    instance_ids: Vec<String>,
}

/// ExitStandby.
pub fn exit_standby(
    ctx: &RequestContext,
    state: &AppState,
    input: ExitInput,
) -> Result<ActivitiesOut, ApiError> {
    let now = state.clock.now();
    let activities = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.autoscaling;
        let group = store.group(&input.auto_scaling_group_name)?;
        check_members(group, &input.instance_ids, &[LifecycleState::Standby], "Standby")?;
        if super::store::is_suspended(group, "Launch") {
            // Text not captured from AWS.
            return Err(validation(format!(
                "The Launch process is suspended for AutoScalingGroup {}",
                group.name
            )));
        }
        let n = input.instance_ids.len();
        let old = group.desired_capacity;
        let new = old + n as i64;
        check_capacity(group, new, "exit standby", n)?;
        let group = store.group_mut(&input.auto_scaling_group_name)?;
        group.desired_capacity = new;
        for id in &input.instance_ids {
            if let Some(i) = group.instances.get_mut(id) {
                // The EC2 instance is there already: the reconciler registers and marks it
                // InService without launching.
                i.existing_ec2 = true;
                i.deregistered = false;
                // Lifecycle hooks do not fire for ExitStandby (EC2 Auto Scaling User Guide,
                // "Amazon EC2 Auto Scaling lifecycle hooks").
                i.launch_hooks_done = true;
            }
        }
        let t = iso_seconds(now);
        Ok::<_, ApiError>(move_with_activities(
            store,
            state,
            &input.auto_scaling_group_name,
            &input.instance_ids,
            (LifecycleState::Pending, "PreInService", 30),
            |id| {
                (
                    format!("Moving EC2 instance out of Standby: {id}"),
                    format!("At {t} instance {id} was moved out of standby in response to a user request, increasing the capacity from {old} to {new}."),
                )
            },
            now,
        ))
    })?;
    state.touched(Topic::AutoScaling);
    Ok(ActivitiesOut::new(activities))
}

/// What [`settle`] did: instances that left the group (their EC2 `aws:autoscaling:groupName`
/// tag goes), and per group the load balancers and target groups to deregister instances from.
#[derive(Debug, Default)]
pub struct Settled {
    /// (group, instance) of detached instances.
    pub detached: Vec<(String, String)>,
    /// (classic load balancers, target groups, instance ids) to deregister.
    pub deregister: Vec<(Vec<String>, Vec<String>, Vec<String>)>,
}

/// Finish the moves the API calls started, on the scheduler's pass: `EnteringStandby` →
/// `Standby` and `Detaching` → `Detached` (the instance then leaves the group), ending their
/// activities. Both leave the load balancers (the caller deregisters, outside the lock).
pub fn settle(store: &mut AutoScalingStore, now: f64) -> Settled {
    let mut finished = Vec::new();
    let mut out = Settled::default();
    for group in store.groups.values_mut() {
        let moving = |s: LifecycleState| {
            matches!(
                s,
                LifecycleState::EnteringStandby | LifecycleState::Detaching
            )
        };
        if !group.instances.values().any(|i| moving(i.lifecycle_state)) {
            continue; // nothing to settle: the group is not written (nor copied, see Shared)
        }
        let group = &mut **group;
        let mut moved = Vec::new();
        for inst in group.instances.values_mut() {
            match inst.lifecycle_state {
                LifecycleState::EnteringStandby => {
                    inst.lifecycle_state = LifecycleState::Standby;
                    inst.state_since = now;
                    finished.extend(inst.activity_id.take());
                    moved.push(inst.id.clone());
                }
                LifecycleState::Detaching => {
                    inst.lifecycle_state = LifecycleState::Detached;
                    inst.state_since = now;
                    finished.extend(inst.activity_id.take());
                    out.detached.push((group.name.clone(), inst.id.clone()));
                    moved.push(inst.id.clone());
                }
                _ => {}
            }
        }
        group
            .instances
            .retain(|_, i| i.lifecycle_state != LifecycleState::Detached);
        let (lbs, tgs) = (group.load_balancer_names(), group.target_group_arns());
        if !moved.is_empty() && (!lbs.is_empty() || !tgs.is_empty()) {
            out.deregister.push((lbs, tgs, moved));
        }
    }
    for id in finished {
        super::store::finish_activity(store, &id, now);
    }
    out
}
