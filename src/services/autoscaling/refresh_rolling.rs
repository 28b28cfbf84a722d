//! The rolling replacement of an instance refresh, advanced by the scheduler ([`step`]).
//!
//! While healthy `InService` capacity stays at or above `MinHealthyPercentage` of the
//! desired capacity, take a batch of old instances out of service (the reconciler terminates
//! them and launches replacements from the group's — possibly new — configuration); wait
//! until nothing is pending and every replacement has warmed up (`InstanceWarmup`); repeat.
//! `PercentageComplete` counts replacements only once warmed up. Checkpoints pause for
//! `CheckpointDelay`. A suspended `InstanceRefresh` (or `Launch`/`Terminate`) process pauses
//! the refresh without cancelling it.

use super::activities::ActivityDetails;
use super::instance_refresh::is_active;
use super::refresh_preferences;
use super::store::{
    AutoScalingStore, Group, InstanceRefresh, LifecycleState, TerminationReason, iso_seconds,
    record_activity,
};

/// Whether an instance already runs the group's configuration (SkipMatching).
fn matches_config(group: &Group, i: &super::store::GroupInstance) -> bool {
    match (&group.launch_template, &i.launch_template) {
        (Some(g), Some(t)) => {
            (g.id == t.id || g.name == t.name)
                && g.version
                    .as_deref()
                    .is_none_or(|v| v.starts_with('$') || Some(v) == t.version.as_deref())
        }
        (None, None) => group.launch_configuration_name == i.launch_configuration_name,
        _ => false,
    }
}

/// Advance every group's active refresh by one decision at `now`. Chosen instances go
/// `Terminating` with a `Terminating EC2 instance` activity carrying AWS's refresh cause; the
/// reconciler deregisters, runs hooks, terminates them and launches replacements. Returns
/// whether anything changed.
pub fn step(
    store: &mut AutoScalingStore,
    now: f64,
    new_id: impl Fn() -> String,
    in_alarm: impl Fn(&str) -> bool,
) -> bool {
    let mut changed = false;
    let names: Vec<String> = store.groups.keys().cloned().collect();
    for name in names {
        let Some(group) = store.groups.get_mut(&name) else {
            continue;
        };
        let Some(idx) = group.instance_refreshes.iter().rposition(is_active) else {
            continue;
        };
        if ["InstanceRefresh", "Launch", "Terminate"]
            .iter()
            .any(|p| super::store::is_suspended(group, p))
        {
            continue;
        }
        if refresh_preferences::on_alarms(group, idx, &in_alarm, now) {
            changed = true;
            continue;
        }
        let (c, victims) = advance(group, idx, now);
        changed |= c;
        if victims.is_empty() {
            continue;
        }
        let snapshot = group.clone();
        let t = iso_seconds(now);
        for id in victims {
            let Some(i) = snapshot.instances.get(&id) else {
                continue;
            };
            let cause = format!(
                "At {t} an instance was taken out of service in response to an instance refresh.  At {t} instance {id} was selected for termination."
            );
            let activity = record_activity(
                store,
                new_id(),
                &snapshot,
                format!("Terminating EC2 instance: {id}"),
                cause.clone(),
                "InProgress",
                0,
                &ActivityDetails::at(i.subnet_id.as_deref(), &i.availability_zone),
                Some(&id),
                now,
            );
            if let Some(i) = store
                .groups
                .get_mut(&name)
                .and_then(|g| g.instances.get_mut(&id))
            {
                i.termination_reason = Some(TerminationReason::Other(cause));
                i.lifecycle_state = LifecycleState::Terminating;
                i.state_since = now;
                i.activity_id = Some(activity);
            }
        }
    }
    changed
}

/// One decision for the refresh at `idx` of `group`: whether it changed, and the instances
/// to take out of service now.
fn advance(group: &mut Group, idx: usize, now: f64) -> (bool, Vec<String>) {
    let r = group.instance_refreshes[idx].clone();
    let warmup = r.preferences.instance_warmup.unwrap_or(0) as f64;
    let in_flight = group.instances.values().any(|i| {
        matches!(
            i.lifecycle_state,
            LifecycleState::Pending
                | LifecycleState::PendingWait
                | LifecycleState::PendingProceed
                | LifecycleState::Terminating
                | LifecycleState::TerminatingWait
                | LifecycleState::TerminatingProceed
        ) || (i.lifecycle_state == LifecycleState::InService
            && i.in_service_since.is_some_and(|t| t + warmup > now))
    });
    let mut r = r;
    let mut taken = Vec::new();
    let rolling_back = r.status == "RollbackInProgress";
    if r.status == "Pending" || (rolling_back && r.progress.to_replace.is_none()) {
        let skip = !rolling_back && r.preferences.skip_matching.unwrap_or(false);
        let since = r.progress.rollback_from.unwrap_or(0.0);
        let ids: Vec<String> = group
            .instances
            .values()
            .filter(|i| refresh_preferences::to_replace(&r.preferences, i))
            .filter(|i| !skip || !matches_config(group, i))
            .filter(|i| !rolling_back || i.launched_at >= r.start_time.min(since))
            .map(|i| i.id.clone())
            .collect();
        r.instances_to_update = ids.len() as i64;
        r.progress.total = ids.len() as i64;
        r.progress.to_replace = Some(ids);
        if r.status == "Pending" {
            r.status = "InProgress".to_owned();
        }
    }
    let to_replace: Vec<String> = r.progress.to_replace.clone().unwrap_or_default();
    let remaining: Vec<&String> = to_replace
        .iter()
        .filter(|id| {
            group
                .instances
                .get(*id)
                .is_some_and(|i| !i.lifecycle_state.is_leaving())
        })
        .collect();
    let total = r.progress.total.max(0);
    let not_warm = group
        .instances
        .values()
        .filter(|i| {
            i.launched_at >= r.start_time
                && !to_replace.contains(&i.id)
                && (!matches!(i.lifecycle_state, LifecycleState::InService)
                    || i.in_service_since.is_none_or(|t| t + warmup > now))
                && i.lifecycle_state.counts()
        })
        .count() as i64;
    let gone = total - remaining.len() as i64;
    let done = (gone - not_warm).clamp(0, total);
    r.instances_to_update = total - done;
    r.percentage_complete = if total == 0 { 100 } else { done * 100 / total };

    if r.status == "Cancelling" {
        if !in_flight {
            r.status = "Cancelled".to_owned();
            r.end_time = Some(now);
        }
    } else if remaining.is_empty()
        && !in_flight
        && !rolling_back
        && refresh_preferences::still_baking(&mut r, now) == Some(true)
    {
        r.status = "Baking".to_owned();
        r.status_reason = None;
        r.percentage_complete = 100;
        r.instances_to_update = 0;
    } else if remaining.is_empty() && !in_flight {
        r.status = if rolling_back {
            "RollbackSuccessful"
        } else {
            "Successful"
        }
        .to_owned();
        r.status_reason = None;
        r.percentage_complete = 100;
        r.instances_to_update = 0;
        r.end_time = Some(now);
        tracing::info!(group = %group.name, refresh = %r.id, status = %r.status, "instance refresh finished");
    } else if r.progress.paused_until.is_some_and(|t| t > now) {
        r.status_reason =
            Some("Waiting for the checkpoint delay to elapse before continuing.".to_owned());
    } else if in_flight {
        r.status_reason = group
            .instances
            .values()
            .find(|i| i.lifecycle_state == LifecycleState::InService && i.in_service_since.is_some_and(|t| t + warmup > now))
            .map(|i| {
                format!(
                    "Waiting for instances to warm up before continuing. For example: {} is warming up.",
                    i.id.trim_start_matches("i-")
                )
            });
    } else {
        // Checkpoint reached since the last batch?
        let checkpoints = r
            .preferences
            .checkpoint_percentages
            .clone()
            .unwrap_or_default();
        let passed = r.progress.checkpoint;
        if let Some(c) = checkpoints
            .iter()
            .rev()
            .find(|c| **c > passed && **c <= r.percentage_complete && **c < 100)
        {
            let delay = r.preferences.checkpoint_delay.unwrap_or(3600);
            r.progress.checkpoint = *c;
            r.progress.paused_until = Some(now + delay as f64);
            r.status_reason =
                Some("Waiting for the checkpoint delay to elapse before continuing.".to_owned());
        } else {
            taken = next_batch(group, &mut r, &remaining, now);
        }
    }
    let changed = r.status != group.instance_refreshes[idx].status
        || r.replaced.len() != group.instance_refreshes[idx].replaced.len()
        || r.percentage_complete != group.instance_refreshes[idx].percentage_complete
        || r.progress != group.instance_refreshes[idx].progress;
    group.instance_refreshes[idx] = r;
    (changed, taken)
}

/// The instances to take out now, as far as the preferences allow: standby ones to terminate
/// (`StandbyInstances` `Terminate`), and a batch of the in-service ones that may go, sized by
/// `MinHealthyPercentage` (or launched before they go, `MaxHealthyPercentage` above 100).
/// With only waiting instances left, the refresh waits, and fails after an hour.
fn next_batch(
    group: &Group,
    r: &mut InstanceRefresh,
    remaining: &[&String],
    now: f64,
) -> Vec<String> {
    let member = |id: &&String| group.instances.get(id.as_str());
    let standby_out: Vec<String> = remaining
        .iter()
        .filter(|id| {
            member(id).is_some_and(|i| refresh_preferences::standby_to_terminate(&r.preferences, i))
        })
        .map(|id| (*id).clone())
        .collect();
    let eligible: Vec<&String> = remaining
        .iter()
        .filter(|id| {
            member(id).is_some_and(|i| refresh_preferences::may_replace_now(&r.preferences, i))
        })
        .copied()
        .collect();
    r.replaced.extend(standby_out.iter().cloned());
    if eligible.is_empty() && r.progress.surge == 0 {
        if standby_out.is_empty() {
            match refresh_preferences::blocked(r, now) {
                Ok(reason) => r.status_reason = Some(reason),
                Err(reason) => {
                    tracing::info!(group = %group.name, refresh = %r.id, "instance refresh failed waiting");
                    r.status = "Failed".to_owned();
                    r.status_reason = Some(reason);
                    r.end_time = Some(now);
                }
            }
        }
        return standby_out;
    }
    r.progress.blocked_since = None;
    r.status_reason = None;
    let max_pct = r.preferences.max_healthy_percentage.unwrap_or(100);
    let mut taken = if max_pct > 100 {
        launch_before_terminate(group, r, &eligible, max_pct)
    } else {
        let min_pct = r.preferences.min_healthy_percentage.unwrap_or(90);
        let healthy = group
            .instances
            .values()
            .filter(|i| i.lifecycle_state == LifecycleState::InService && i.healthy)
            .count() as i64;
        let min_healthy = (group.desired_capacity * min_pct + 99) / 100;
        let batch = (healthy - min_healthy).max(1) as usize;
        let victims: Vec<String> = eligible
            .iter()
            .take(batch)
            .map(|id| (*id).clone())
            .collect();
        r.replaced.extend(victims.iter().cloned());
        victims
    };
    taken.extend(standby_out);
    taken
}

/// One batch with `MaxHealthyPercentage` above 100: first raise the group by a surge of new
/// instances (the reconciler launches them), and once they are in service and warmed up (the
/// refresh waits while anything is in flight) take the old ones out. Returns the instances to
/// terminate now.
fn launch_before_terminate(
    group: &Group,
    r: &mut InstanceRefresh,
    remaining: &[&String],
    max_pct: i64,
) -> Vec<String> {
    if r.progress.surge > 0 {
        let counted = group.counted_capacity();
        if counted < group.desired_capacity + r.progress.surge {
            return Vec::new();
        }
        r.progress.surge = 0;
        return std::mem::take(&mut r.progress.surge_victims)
            .into_iter()
            .filter(|id| {
                group
                    .instances
                    .get(id)
                    .is_some_and(|i| i.lifecycle_state == LifecycleState::InService)
            })
            .collect();
    }
    let room = refresh_preferences::surge_room(group.desired_capacity, max_pct) as usize;
    let victims: Vec<String> = remaining
        .iter()
        .filter(|id| {
            group
                .instances
                .get(**id)
                .is_some_and(|i| i.lifecycle_state == LifecycleState::InService)
        })
        .take(room)
        .map(|id| (*id).clone())
        .collect();
    r.progress.surge = victims.len() as i64;
    r.progress.surge_victims.clone_from(&victims);
    r.replaced.extend(victims);
    r.status_reason = None;
    Vec::new()
}
