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

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::services::autoscaling::lb;
use crate::services::autoscaling::notifications::{self, Notice};
use crate::services::autoscaling::{
    lifecycle_hooks, refresh_rolling, scheduled, standby, warm_pools,
};
use crate::services::ec2::internal;
use crate::state::{AppState, Scope};

use super::{Controller, ControllerError};

/// The longest sleep: ended activities are noticed within this (virtual seconds).
const POLL_SECONDS: f64 = 5.0;

/// Load-balancer work: (classic load balancers, target groups, instance ids).
type Deregister = (Vec<String>, Vec<String>, Vec<String>);

/// What the scheduler remembers between passes, per scope.
#[derive(Debug, Default)]
struct Memory {
    /// Activities before this index are finished and announced.
    cursor: usize,
    /// Finished activities at or after the cursor that were already announced.
    announced: HashSet<String>,
    /// Lifecycle action tokens whose wait notice was sent.
    waits_notified: HashSet<String>,
}

/// Fires scheduled actions, times out lifecycle hooks, settles moves, sends notifications.
#[derive(Debug, Default)]
pub struct AsgScheduler {
    memory: Mutex<HashMap<Scope, Memory>>,
}

fn finished(status: &str) -> bool {
    matches!(status, "Successful" | "Failed" | "Cancelled")
}

impl AsgScheduler {
    /// One pass over one scope's store; returns the notices to publish and the next due time.
    fn pass(
        &self,
        state: &AppState,
        scope: &Scope,
        s: &mut crate::state::RegionStores,
        now: f64,
    ) -> (Vec<Notice>, Option<f64>, bool, Vec<Deregister>) {
        let mut memory = self
            .memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mem = memory.entry(scope.clone()).or_default();
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
        let store = &s.autoscaling;

        let mut notices = Vec::new();
        // Lifecycle waits that started since the last pass.
        let mut live_tokens = HashSet::new();
        for g in store.groups.values() {
            for i in g.instances.values() {
                let Some(a) = &i.lifecycle_action else {
                    continue;
                };
                live_tokens.insert(a.token.clone());
                if a.result.is_none()
                    && mem.waits_notified.insert(a.token.clone())
                    && let Some(h) = g.lifecycle_hooks.get(&a.hook_name)
                {
                    notices.extend(lifecycle_hooks::wait_notice(
                        &scope.account,
                        g,
                        h,
                        &i.id,
                        a,
                        notifications::hook_route(store, i, &a.transition),
                        &state.ids.uuid(),
                        now,
                    ));
                }
            }
        }
        mem.waits_notified.retain(|t| live_tokens.contains(t));

        // Launch/terminate activities that have ended since the last pass.
        if mem.cursor > store.activities.len() {
            *mem = Memory::default();
        }
        for a in &store.activities[mem.cursor..] {
            if finished(&a.status_code) && !mem.announced.contains(&a.id) {
                notices.extend(notifications::notices_for(store, &scope.account, a, now));
                mem.announced.insert(a.id.clone());
            }
        }
        while let Some(a) = store.activities.get(mem.cursor) {
            if !finished(&a.status_code) {
                break;
            }
            mem.announced.remove(&a.id);
            mem.cursor += 1;
        }

        let next = [next_action, next_deadline]
            .into_iter()
            .flatten()
            .reduce(f64::min);
        let changed = ran || expired || !settled.detached.is_empty() || refreshing || warming;
        (notices, next, changed, settled.deregister)
    }
}

impl Controller for AsgScheduler {
    fn name(&self) -> &'static str {
        "asg-scheduler"
    }

    async fn reconcile(&self, state: &AppState) -> Result<f64, ControllerError> {
        let now = state.clock.now();
        let mut all = Vec::new();
        let mut next = now + POLL_SECONDS;
        let mut changed = false;
        let mut leaving = Vec::new();
        state.stores.for_each(|scope, s| {
            if s.autoscaling.groups.is_empty() && s.autoscaling.activities.is_empty() {
                return;
            }
            let (notices, due, c, deregister) = self.pass(state, scope, s, now);
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
            state.changed.notify_waiters();
        }
        Ok((next - now).max(0.001))
    }
}
