//! Instances moving between a warm pool and its group (EC2 Auto Scaling User Guide, "Warm pools for
//! Amazon EC2 Auto Scaling" and "Use lifecycle hooks with a warm pool in Auto Scaling group"): a
//! scale-out draws prepared instances from the pool before it launches new ones, and with
//! `InstanceReusePolicy.ReuseOnScaleIn` a scale-in sends instances back to the pool instead of
//! terminating them.
//!
//! Decisions only: the reconciler calls [`draw`] with the launches its plan wants and launches
//! what is left, and [`return_to_pool`] for each scale-in victim when [`reuses_on_scale_in`].
//! From there the usual passes carry on: a drawn instance is `Pending` (the reconciler puts it
//! `InService` once EC2 runs it, firing launch hooks again as AWS does on leaving the pool), a
//! returned one `Warmed:Pending` (the warm-pool step stops it for a `Stopped` pool).

use serde_json::Value;

use super::activities::ActivityDetails;
use super::store::{AutoScalingStore, Group, LifecycleState, record_activity};
use crate::services::ec2::store::{Ec2Store, InstanceState};

/// Whether an instance has settled in the pool and can be drawn now.
fn ready(state: LifecycleState) -> bool {
    matches!(
        state,
        LifecycleState::WarmedStopped
            | LifecycleState::WarmedRunning
            | LifecycleState::WarmedHibernated
    )
}

/// Start a stopped (or hibernated) EC2 instance on the group's behalf, as StartInstances would
/// (the instance lifecycle controller finishes the boot).
fn start(ec2: &mut Ec2Store, id: &str, now: f64) {
    if let Some(i) = ec2.instances.get_mut(id)
        && i.state == InstanceState::Stopped
    {
        tracing::info!(instance_id = %id, from = "stopped", to = "pending", "instance state change (warm pool exit)");
        i.state = InstanceState::Pending;
        i.state_since = now;
        i.launch_time = now;
        i.backend_done = false;
        i.transition_reason = String::new();
        i.state_reason = None;
    }
}

/// Pick the warmed instance to draw for one launch: one in the launch's zone first (so the
/// zone balance the plan chose holds), else the oldest ready one.
fn pick(g: &Group, zone: &str, taken: &[String]) -> Option<String> {
    let candidates = || {
        g.instances
            .values()
            .filter(|i| ready(i.lifecycle_state) && !taken.contains(&i.id))
    };
    candidates()
        .find(|i| i.availability_zone == zone)
        .or_else(|| candidates().next())
        .map(|i| i.id.clone())
}

/// Draw instances from the warm pool for the planned launches. Each drawn instance becomes
/// `Pending` with its own launch activity (`Cause` the plan's), and its EC2 instance starts
/// if the pool had stopped it. Returns the launches the pool could not serve.
pub fn draw(
    a: &mut AutoScalingStore,
    g: &mut Group,
    ec2: &mut Ec2Store,
    launches: Vec<(String, Option<String>)>,
    cause: &str,
    now: f64,
    mut new_id: impl FnMut() -> String,
) -> Vec<(String, Option<String>)> {
    if g.warm_pool
        .as_ref()
        .is_none_or(|p| p.status.as_deref() == Some("PendingDelete"))
    {
        return launches;
    }
    let mut rest = Vec::new();
    let mut taken = Vec::new();
    for (zone, subnet) in launches {
        let Some(id) = pick(g, &zone, &taken) else {
            rest.push((zone, subnet));
            continue;
        };
        taken.push(id.clone());
        start(ec2, &id, now);
        let activity = new_id();
        let Some(i) = g.instances.get_mut(&id) else {
            continue;
        };
        tracing::info!(group = %g.name, instance = %id, from = i.lifecycle_state.as_str(), "drawn from warm pool");
        i.lifecycle_state = LifecycleState::Pending;
        i.state_since = now;
        i.launch_hooks_done = false;
        i.terminate_hooks_done = false;
        i.deregistered = false;
        i.healthy = true;
        i.unhealthy_reason = None;
        i.termination_reason = None;
        i.activity_id = Some(activity.clone());
        let details = ActivityDetails::at(i.subnet_id.as_deref(), &i.availability_zone);
        // Description not captured from AWS; the Origin/Destination of its notification
        // (WarmPool → AutoScalingGroup) are documented (EC2 Auto Scaling User Guide, "Warm
        // pool example events and patterns").
        let description = format!("Launching a new EC2 instance from warm pool: {id}");
        record_activity(
            a,
            activity,
            g,
            description,
            cause.to_owned(),
            "PreInService",
            30,
            &details,
            Some(&id),
            now,
        );
    }
    rest
}

/// Whether the group's warm pool takes scale-in victims back (`ReuseOnScaleIn`).
pub fn reuses_on_scale_in(g: &Group) -> bool {
    g.warm_pool.as_ref().is_some_and(|p| {
        p.status.as_deref() != Some("PendingDelete")
            && p.instance_reuse_policy
                .as_ref()
                .and_then(|r| r.get("ReuseOnScaleIn"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
    })
}

/// Send a scale-in victim back to the warm pool: `Warmed:Pending` with its activity; the
/// warm-pool step settles it in the pool state. Returns whether it moved (an instance that
/// is not in service, e.g. still launching, is terminated as usual instead).
pub fn return_to_pool(
    a: &mut AutoScalingStore,
    g: &mut Group,
    id: &str,
    cause: String,
    now: f64,
    activity: String,
) -> bool {
    let Some(i) = g.instances.get_mut(id) else {
        return false;
    };
    if i.lifecycle_state != LifecycleState::InService {
        return false;
    }
    tracing::info!(group = %g.name, instance = %id, "returned to warm pool on scale-in");
    i.lifecycle_state = LifecycleState::WarmedPending;
    i.state_since = now;
    i.in_service_since = None;
    i.activity_id = Some(activity.clone());
    let details = ActivityDetails::at(i.subnet_id.as_deref(), &i.availability_zone);
    // Description not captured from AWS; the notification goes AutoScalingGroup → WarmPool.
    let description = format!("Moving EC2 instance to warm pool: {id}");
    record_activity(
        a,
        activity,
        g,
        description,
        cause,
        "InProgress",
        50,
        &details,
        Some(id),
        now,
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::autoscaling::store::{GroupInstance, WarmPool};

    fn member(id: &str, zone: &str, state: LifecycleState) -> GroupInstance {
        GroupInstance {
            lifecycle_state: state,
            ..crate::services::autoscaling::plan::tests::inst(id, zone)
        }
    }

    fn pooled(reuse: bool) -> Group {
        let mut g = Group {
            name: "g".into(),
            max_size: 4,
            desired_capacity: 1,
            availability_zones: vec!["a".into(), "b".into()],
            warm_pool: Some(WarmPool {
                max_group_prepared_capacity: None,
                min_size: 0,
                pool_state: "Stopped".into(),
                status: None,
                instance_reuse_policy: Some(serde_json::json!({ "ReuseOnScaleIn": reuse })),
            }),
            ..Group::default()
        };
        for m in [
            member("i-1", "a", LifecycleState::InService),
            member("i-2", "a", LifecycleState::WarmedStopped),
            member("i-3", "b", LifecycleState::WarmedRunning),
            member("i-4", "b", LifecycleState::WarmedPending),
        ] {
            g.instances.insert(m.id.clone(), m);
        }
        g
    }

    #[test]
    fn draw_prefers_the_zone_then_any_ready_and_leaves_the_rest() {
        let mut g = pooled(false);
        let (mut a, mut ec2) = (AutoScalingStore::default(), Ec2Store::default());
        let launches = vec![
            ("b".to_owned(), None),
            ("b".to_owned(), None),
            ("a".to_owned(), None),
        ];
        let mut n = 0;
        let rest = draw(&mut a, &mut g, &mut ec2, launches, "why", 10.0, || {
            n += 1;
            format!("act-{n}")
        });
        // i-3 serves zone b, i-2 (zone a) the second b launch, nothing is left for a:
        // Warmed:Pending instances are not ready to be drawn.
        assert_eq!(rest, vec![("a".to_owned(), None)]);
        assert_eq!(g.instances["i-3"].lifecycle_state, LifecycleState::Pending);
        assert_eq!(g.instances["i-2"].lifecycle_state, LifecycleState::Pending);
        assert_eq!(
            g.instances["i-4"].lifecycle_state,
            LifecycleState::WarmedPending
        );
        assert_eq!(a.activities.len(), 2);
        assert_eq!(
            a.activities[0].description,
            "Launching a new EC2 instance from warm pool: i-3"
        );
        assert_eq!(a.activities[0].cause, "why");
    }

    #[test]
    fn reuse_sends_in_service_victims_back_only_when_asked() {
        let g = pooled(false);
        assert!(!reuses_on_scale_in(&g));
        let mut g = pooled(true);
        assert!(reuses_on_scale_in(&g));
        let mut a = AutoScalingStore::default();
        assert!(return_to_pool(
            &mut a,
            &mut g,
            "i-1",
            "c".into(),
            5.0,
            "x".into()
        ));
        assert_eq!(
            g.instances["i-1"].lifecycle_state,
            LifecycleState::WarmedPending
        );
        assert!(!return_to_pool(
            &mut a,
            &mut g,
            "i-2",
            "c".into(),
            5.0,
            "y".into()
        ));
    }
}
