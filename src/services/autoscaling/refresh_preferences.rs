//! Instance refresh options beyond the plain rolling replacement (Auto Scaling API Reference,
//! RefreshPreferences; EC2 Auto Scaling User Guide, "Use an instance refresh to update
//! instances in an Auto Scaling group"): launch before terminate (`MaxHealthyPercentage` above
//! 100), `BakeTime`, and the alarm specification with `AutoRollback`. Decisions as functions
//! over a group; the scheduler's refresh step and the reconciler's plan call them.

use super::instance_refresh::is_active;
use super::store::{Group, GroupInstance, InstanceRefresh, LifecycleState, RefreshPreferences};

/// Instances the active refresh wants above the desired capacity now (its surge batch).
pub fn surge(g: &Group) -> i64 {
    g.instance_refreshes
        .iter()
        .rev()
        .find(|r| is_active(r))
        .map_or(0, |r| r.progress.surge.max(0))
}

/// How many instances a launch-before-terminate batch may add: capacity up to
/// `MaxHealthyPercentage` of the desired capacity (at least one).
pub fn surge_room(desired: i64, max_healthy_percentage: i64) -> i64 {
    (desired * max_healthy_percentage / 100 - desired).max(1)
}

/// The first alarm of the refresh's `AlarmSpecification` that is in ALARM, if any.
pub fn breached_alarm(r: &InstanceRefresh, in_alarm: &impl Fn(&str) -> bool) -> Option<String> {
    r.preferences
        .alarm_specification
        .as_ref()?
        .get("Alarms")?
        .as_array()?
        .iter()
        .filter_map(|a| a.as_str())
        .find(|name| in_alarm(name))
        .map(str::to_owned)
}

/// Whether a refresh can be rolled back: it set a desired configuration and the previous
/// launch template named a fixed version (AWS's `IrreversibleInstanceRefresh` otherwise).
pub fn reversible(r: &InstanceRefresh) -> bool {
    r.desired_configuration.is_some()
        && r.progress
            .previous_template
            .as_ref()
            .is_some_and(|t| !matches!(t.version.as_deref(), None | Some("$Latest" | "$Default")))
}

/// Start rolling back the refresh at `idx`: the previous configuration comes back and the
/// instances the refresh launched are the ones to replace. The caller checked [`reversible`].
pub fn begin_rollback(g: &mut Group, idx: usize, reason: Option<String>, now: f64) {
    let previous = g.instance_refreshes[idx].progress.clone();
    g.launch_template = previous.previous_template;
    g.mixed_instances_policy = previous.previous_mixed_instances_policy;
    let r = &mut g.instance_refreshes[idx];
    r.status = "RollbackInProgress".to_owned();
    r.status_reason = reason;
    r.progress.rollback_from = Some(now);
    r.progress.to_replace = None;
    r.progress.surge = 0;
    r.progress.surge_victims.clear();
    r.progress.baking_since = None;
    tracing::info!(group = %g.name, refresh = %r.id, "instance refresh rolling back");
}

/// An alarm of the refresh's specification went to ALARM: roll back when `AutoRollback` is
/// on and the refresh is reversible, else fail. Returns whether it acted.
pub fn on_alarms(g: &mut Group, idx: usize, in_alarm: &impl Fn(&str) -> bool, now: f64) -> bool {
    let r = &g.instance_refreshes[idx];
    if !matches!(r.status.as_str(), "InProgress" | "Baking") {
        return false;
    }
    let Some(alarm) = breached_alarm(r, in_alarm) else {
        return false;
    };
    // Status reasons not captured from AWS.
    if r.preferences.auto_rollback == Some(true) && reversible(r) {
        let reason = format!(
            "Instance refresh failed and is rolling back: alarm {alarm} is in ALARM state."
        );
        begin_rollback(g, idx, Some(reason), now);
    } else {
        let r = &mut g.instance_refreshes[idx];
        r.status = "Failed".to_owned();
        r.status_reason = Some(format!(
            "Instance refresh failed: alarm {alarm} is in ALARM state."
        ));
        r.end_time = Some(now);
        r.progress.surge = 0;
        tracing::info!(group = %g.name, refresh = %r.id, %alarm, "instance refresh failed on alarm");
    }
    true
}

/// How long a refresh waits for protected or standby instances (preference `Wait`) before it
/// fails: "one hour" (API RefreshPreferences).
pub const WAIT_SECONDS: f64 = 3600.0;

/// Whether an instance is one to replace when the refresh starts rolling: in service or on
/// its way in, or in `Standby` unless `StandbyInstances` is `Ignore`; never a scale-in
/// protected one when `ScaleInProtectedInstances` is `Ignore`.
pub fn to_replace(p: &RefreshPreferences, i: &GroupInstance) -> bool {
    let standby = p.standby_instances.as_deref().unwrap_or("Wait");
    let protected = p.scale_in_protected_instances.as_deref().unwrap_or("Wait");
    let in_group = i.lifecycle_state.counts()
        || (i.lifecycle_state == LifecycleState::Standby && standby != "Ignore");
    in_group && !(i.protected_from_scale_in && protected == "Ignore")
}

/// Whether an in-service instance may be taken out now: not protected, or protected and
/// `ScaleInProtectedInstances` is `Refresh`.
pub fn may_replace_now(p: &RefreshPreferences, i: &GroupInstance) -> bool {
    i.lifecycle_state == LifecycleState::InService
        && (!i.protected_from_scale_in
            || p.scale_in_protected_instances.as_deref() == Some("Refresh"))
}

/// Standby instances the refresh terminates outright (`StandbyInstances` `Terminate`; they
/// do not count toward capacity, so nothing replaces them).
pub fn standby_to_terminate(p: &RefreshPreferences, i: &GroupInstance) -> bool {
    i.lifecycle_state == LifecycleState::Standby
        && p.standby_instances.as_deref() == Some("Terminate")
}

/// Only waiting instances are left: the status reason while the wait lasts, or `Err` with
/// the failure reason once it has lasted [`WAIT_SECONDS`]. Texts not captured from AWS.
pub fn blocked(r: &mut InstanceRefresh, now: f64) -> Result<String, String> {
    let since = *r.progress.blocked_since.get_or_insert(now);
    if now >= since + WAIT_SECONDS {
        Err("Instance refresh failed: instances in Standby or protected from scale in were not made available for replacement within one hour.".to_owned())
    } else {
        Ok("Waiting for instances in Standby or protected from scale in to be made available for replacement.".to_owned())
    }
}

/// Whether a finished replacement must still bake: `Some(true)` while `BakeTime` runs (the
/// refresh shows `Baking`), `Some(false)` once it is over, `None` without a bake time.
pub fn still_baking(r: &mut InstanceRefresh, now: f64) -> Option<bool> {
    let bake = r.preferences.bake_time.filter(|b| *b > 0)? as f64;
    let since = *r.progress.baking_since.get_or_insert(now);
    Some(now < since + bake)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::autoscaling::store::{RefreshPreferences, TemplateRef};

    fn refresh(alarms: serde_json::Value, auto_rollback: bool) -> InstanceRefresh {
        InstanceRefresh {
            id: "r".into(),
            status: "InProgress".into(),
            status_reason: None,
            start_time: 0.0,
            end_time: None,
            percentage_complete: 0,
            instances_to_update: 0,
            preferences: RefreshPreferences {
                alarm_specification: Some(serde_json::json!({ "Alarms": alarms })),
                auto_rollback: Some(auto_rollback),
                bake_time: Some(120),
                ..RefreshPreferences::default()
            },
            desired_configuration: Some(serde_json::json!({})),
            strategy: "Rolling".into(),
            replaced: Vec::new(),
            progress: crate::services::autoscaling::store::RefreshProgress {
                previous_template: Some(TemplateRef {
                    id: "lt-1".into(),
                    name: "web".into(),
                    version: Some("1".into()),
                }),
                surge: 2,
                ..Default::default()
            },
        }
    }

    #[test]
    fn surge_room_follows_max_healthy_percentage() {
        assert_eq!(surge_room(4, 200), 4);
        assert_eq!(surge_room(4, 150), 2);
        assert_eq!(surge_room(4, 110), 1);
    }

    #[test]
    fn an_alarm_in_alarm_rolls_back_or_fails() {
        let in_alarm = |n: &str| n == "errors";
        let mut g = Group {
            instance_refreshes: vec![refresh(serde_json::json!(["quiet", "errors"]), true)],
            ..Group::default()
        };
        assert_eq!(surge(&g), 2);
        assert!(on_alarms(&mut g, 0, &in_alarm, 10.0));
        let r = &g.instance_refreshes[0];
        assert_eq!(r.status, "RollbackInProgress");
        assert_eq!(r.progress.surge, 0);
        assert_eq!(
            g.launch_template.as_ref().map(|t| t.id.as_str()),
            Some("lt-1")
        );
        let mut g = Group {
            instance_refreshes: vec![refresh(serde_json::json!(["errors"]), false)],
            ..Group::default()
        };
        assert!(on_alarms(&mut g, 0, &in_alarm, 10.0));
        assert_eq!(g.instance_refreshes[0].status, "Failed");
        let mut g = Group {
            instance_refreshes: vec![refresh(serde_json::json!(["quiet"]), true)],
            ..Group::default()
        };
        assert!(!on_alarms(&mut g, 0, &in_alarm, 10.0));
    }

    #[test]
    fn baking_lasts_bake_time_from_the_first_look() {
        let mut r = refresh(serde_json::json!([]), false);
        assert_eq!(still_baking(&mut r, 100.0), Some(true));
        assert_eq!(still_baking(&mut r, 219.0), Some(true));
        assert_eq!(still_baking(&mut r, 220.0), Some(false));
        r.preferences.bake_time = None;
        assert_eq!(still_baking(&mut r, 0.0), None);
    }
}
