//! The Auto Scaling scheduler: the clock-driven parts of Auto Scaling other than convergence.
//! Each pass, per account and region, it
//!
//! - fires scheduled actions that are due ([`scheduled::run_due`]);
//! - applies lifecycle-hook heartbeat/global timeouts ([`lifecycle_hooks::expire`]) and sends
//!   the hook's SNS target a message when an instance starts waiting;
//! - settles standby and detach moves ([`standby::settle`]);
//! - advances instance refreshes, and fills, settles and shrinks warm pools;
//! - publishes the SNS notifications of launch/terminate activities that have ended
//!   ([`notifications::notices_for`]), so the reconciler never has to.
//!
//! Decisions are the pure functions of those modules; this file only gathers and applies.

use std::collections::HashMap;

use crate::services::autoscaling::lb;
use crate::services::autoscaling::notifications::{self, Notice};
use crate::services::autoscaling::store::AutoScalingStore;
use crate::services::autoscaling::{
    lifecycle_hooks, refresh_rolling, scheduled, standby, warm_pools,
};
use crate::services::ec2::internal;
use crate::state::{AppState, Scope, Topic, Topics};

use super::{Controller, ControllerError, Next};

/// The longest sleep: ended activities are noticed within this (virtual seconds).
const POLL_SECONDS: f64 = 5.0;

/// Load-balancer work: (classic load balancers, target groups, instance ids).
type Deregister = (Vec<String>, Vec<String>, Vec<String>);

/// Fires scheduled actions, times out lifecycle hooks, settles moves, sends notifications.
/// It keeps nothing between passes: what it announced is marked on the activities and
/// lifecycle actions themselves (`Activity::announced`, `LifecycleAction::wait_notified`,
/// `AutoScalingStore::announced_through`), so a pass decides from state alone.
#[derive(Debug, Default)]
pub struct AsgScheduler;

fn finished(status: &str) -> bool {
    matches!(status, "Successful" | "Failed" | "Cancelled")
}

impl AsgScheduler {
    /// One pass over one scope's store; returns the notices to publish and the next due time.
    fn pass(
        state: &AppState,
        scope: &Scope,
        s: &mut crate::state::RegionStores,
        now: f64,
    ) -> (Vec<Notice>, Option<f64>, bool, Vec<Deregister>) {
        let store = &mut s.autoscaling;
        let (ran, next_action) = scheduled::run_due(store, now);
        let (expired, next_deadline) = lifecycle_hooks::expire(store, now);
        let settled = standby::settle(store, now);
        for (_, id) in &settled.detached {
            s.ec2.delete_tag(
                id,
                crate::services::autoscaling::attach_detach::GROUP_TAG,
                None,
            );
        }
        let alarms = &s.cloudwatch.alarms;
        let in_alarm = |name: &str| {
            alarms.get(name).is_some_and(|a| {
                a.core.state_value == crate::services::cloudwatch::evaluate::StateValue::Alarm
            })
        };
        let refreshing = refresh_rolling::step(store, now, || state.ids.uuid(), in_alarm);
        let warming = warm_pools::step(store, &mut s.ec2, now);
        let mut notices = wait_notices(state, scope, &mut s.autoscaling, now);
        notices.extend(activity_notices(scope, &mut s.autoscaling, now));

        let next = [next_action, next_deadline]
            .into_iter()
            .flatten()
            .reduce(f64::min);
        let changed = ran || expired || !settled.detached.is_empty() || refreshing || warming;
        (notices, next, changed, settled.deregister)
    }
}

/// Notices to hooks' targets for lifecycle waits not yet announced; marks them announced.
fn wait_notices(
    state: &AppState,
    scope: &Scope,
    store: &mut AutoScalingStore,
    now: f64,
) -> Vec<Notice> {
    let mut notices = Vec::new();
    // Where each waiting instance came from or goes to (Origin/Destination), read before the
    // groups are borrowed to mark what was announced.
    let routes: HashMap<String, (&'static str, &'static str)> = store
        .groups
        .values()
        .flat_map(|g| g.instances.values())
        .filter_map(|i| {
            let a = i.lifecycle_action.as_ref()?;
            (a.result.is_none() && !a.wait_notified).then(|| {
                (
                    i.id.clone(),
                    notifications::hook_route(store, i, &a.transition),
                )
            })
        })
        .collect();
    for g in store.groups.values_mut() {
        let unannounced: Vec<String> = g
            .instances
            .values()
            .filter(|i| {
                i.lifecycle_action
                    .as_ref()
                    .is_some_and(|a| a.result.is_none() && !a.wait_notified)
            })
            .map(|i| i.id.clone())
            .collect();
        for id in unannounced {
            let waiting = g
                .instances
                .get(&id)
                .and_then(|i| i.lifecycle_action.as_ref());
            if let Some(a) = waiting
                && let Some(h) = g.lifecycle_hooks.get(&a.hook_name)
            {
                notices.extend(lifecycle_hooks::wait_notice(
                    &scope.account,
                    g,
                    h,
                    &id,
                    a,
                    routes
                        .get(&id)
                        .copied()
                        .unwrap_or(("EC2", "AutoScalingGroup")),
                    &state.ids.uuid(),
                    now,
                ));
            }
            if let Some(a) = g
                .instances
                .get_mut(&id)
                .and_then(|i| i.lifecycle_action.as_mut())
            {
                a.wait_notified = true;
            }
        }
    }
    notices
}

/// Notices of launch/terminate activities that ended and were not yet announced; marks them
/// announced and moves `announced_through` past the finished ones at the front.
fn activity_notices(scope: &Scope, store: &mut AutoScalingStore, now: f64) -> Vec<Notice> {
    let mut notices = Vec::new();
    let from = store.announced_through.min(store.activities.len());
    for index in from..store.activities.len() {
        let a = &store.activities[index];
        if finished(&a.status_code) && !a.announced {
            notices.extend(notifications::notices_for(store, &scope.account, a, now));
            store.activities[index].announced = true;
        }
    }
    let mut through = from;
    while store.activities.get(through).is_some_and(|a| a.announced) {
        through += 1;
    }
    store.announced_through = through;
    notices
}

impl Controller for AsgScheduler {
    fn name(&self) -> &'static str {
        "asg-scheduler"
    }

    fn watches(&self) -> Topics {
        Topic::AutoScaling | Topic::Ec2 | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let now = state.clock.now();
        let mut all = Vec::new();
        let mut next = now + POLL_SECONDS;
        let mut changed = false;
        let mut leaving = Vec::new();
        state.stores.for_each(|scope, s| {
            if s.autoscaling.groups.is_empty() && s.autoscaling.activities.is_empty() {
                return;
            }
            let (notices, due, c, deregister) = Self::pass(state, scope, s, now);
            changed |= c;
            if !deregister.is_empty() {
                leaving.push((scope.clone(), deregister));
            }
            if let Some(due) = due {
                next = next.min(due);
            }
            if !notices.is_empty() {
                all.push((scope.clone(), notices));
            }
        });
        // Warm pools below their size launch, each launch recorded under the lock that
        // makes it.
        for scope in state.stores.scopes() {
            let wanted = state.stores.with(&scope, |s| {
                !warm_pools::fill_requests(&s.autoscaling, now).is_empty()
            });
            if !wanted {
                continue;
            }
            let env = internal::LaunchEnv::gather(state, &scope);
            state.stores.with(&scope, |s| {
                for l in warm_pools::fill_requests(&s.autoscaling, now) {
                    let outcome = internal::launch(s, state, &scope, &env, &l.request);
                    let now = state.clock.now();
                    warm_pools::record_fill(state, s, &l, outcome, now);
                    changed = true;
                }
            });
        }
        // Standby and detached instances leave their load balancers (outside the lock: the
        // load-balancer services take it too).
        for (scope, work) in leaving {
            for (lbs, tgs, ids) in work {
                lb::deregister(state, &scope, &lbs, &tgs, &ids);
            }
        }
        for (scope, notices) in all {
            notifications::publish(state, &scope, notices);
        }
        if changed {
            // The reconciler acts on what this pass changed (desired capacity, hook results).
            state.touched(Topic::AutoScaling | Topic::Ec2);
        }
        Ok(Next::after_secs((next - now).max(0.001)))
    }
}
