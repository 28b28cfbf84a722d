//! The Auto Scaling reconciler: brings every group to its desired capacity and walks its
//! instances through AWS's lifecycle (EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling
//! instance lifecycle", "Amazon EC2 Auto Scaling lifecycle hooks" and "Health checks for Auto
//! Scaling instances").
//!
//! Each pass, per account and region:
//! 1. under the lock, find what needs a load balancer's opinion (ELB health of in-service
//!    instances, draining of deregistered ones);
//! 2. under the same lock, read those opinions from the region's ELB and ELBv2 stores
//!    (`autoscaling::lb`);
//! 3. under the same lock, step every instance (`Pending` → `Pending:Wait` when a launch hook
//!    exists → `InService` once EC2 runs; health checks; `Terminating` → deregistered →
//!    drained → `Terminating:Wait` when a terminate hook exists → EC2 terminate → gone), then
//!    plan capacity with the pure [`plan::plan_capacity`] and start terminations;
//! 4. without the lock, register/deregister with load balancers;
//! 5. under the lock, launch through the typed `ec2::internal::launch` and record each
//!    outcome (instances `Pending`, activities) or failure (failed activities, backoff).
//!
//! Lifecycle hook waits and their timeouts belong to the hook code (`lifecycle_hooks`), which
//! sets a wait's result; this file only makes the transitions. Suspended processes are
//! consulted through `store::is_suspended`.

use std::collections::HashMap;

use crate::services::autoscaling::activities::ActivityDetails;
use crate::services::autoscaling::launching::{Launch, launch_request, record_launch};
use crate::services::autoscaling::store::{
    AutoScalingStore, Group, LifecycleState, TerminationReason, finish_activity, hook_for,
    is_suspended, record_activity, update_activity,
};
use crate::services::autoscaling::{lb, lifecycle_hooks, plan, refresh_preferences, warm_moves};
use crate::services::ec2::internal;
use crate::services::ec2::store::{Ec2Store, InstanceState};
use crate::state::{AppState, Scope, Topic, Topics};

use super::{Controller, ControllerError, Next};

/// Poll interval while anything is in flight (virtual seconds).
const BUSY: f64 = 2.0;
/// Poll interval when every group is settled.
const IDLE: f64 = 30.0;
/// A launch hook transition.
const LAUNCHING: &str = "autoscaling:EC2_INSTANCE_LAUNCHING";
/// A terminate hook transition.
const TERMINATING: &str = "autoscaling:EC2_INSTANCE_TERMINATING";

/// Converges Auto Scaling groups.
#[derive(Debug, Default)]
pub struct AsgReconciler;

/// Load-balancer work for outside the lock: (lbs, tgs, instance ids).
type LbWork = Vec<(Vec<String>, Vec<String>, Vec<String>)>;

impl Controller for AsgReconciler {
    fn name(&self) -> &'static str {
        "asg_reconciler"
    }

    fn watches(&self) -> Topics {
        Topic::AutoScaling | Topic::Ec2 | Topic::Elb | Topic::Elbv2 | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let mut next = IDLE;
        for scope in state.stores.scopes() {
            next = next.min(reconcile_scope(state, &scope));
        }
        Ok(Next::after_secs(next))
    }
}

/// One pass over one scope; returns when it wants the next.
pub fn reconcile_scope(state: &AppState, scope: &Scope) -> f64 {
    // 1–3: decide under one lock: the load balancers' opinions come from the same region's
    // stores, then every instance steps and capacity is planned.
    let now = state.clock.now();
    let decided = state.stores.with(scope, |s| {
        if s.autoscaling.groups.is_empty() {
            return None;
        }
        let (elb, draining) = lb_opinions(s, now);
        Some(step_all(
            state,
            &mut s.autoscaling,
            &mut s.ec2,
            &elb,
            &draining,
            now,
        ))
    });
    let Some((launches, register, deregister, busy)) = decided else {
        return IDLE;
    };
    // 4: effects outside the lock.
    for (lbs, tgs, ids) in &register {
        lb::register_with_group(state, scope, lbs, tgs, ids);
    }
    for (lbs, tgs, ids) in &deregister {
        lb::deregister(state, scope, lbs, tgs, ids);
    }
    let launched = !launches.is_empty();
    if launched {
        // Images shared by other accounts and IAM's profiles live under other locks.
        let env = internal::LaunchEnv::gather(state, scope);
        state.stores.with(scope, |s| {
            for l in &launches {
                let outcome = internal::launch(s, state, scope, &env, &l.request);
                record_launch(state, s, l, outcome, state.clock.now());
            }
        });
    }
    if launched || !register.is_empty() || !deregister.is_empty() {
        state.touched(Topic::AutoScaling | Topic::Ec2 | Topic::Elb | Topic::Elbv2);
    }
    if busy || launched { BUSY } else { IDLE }
}

/// The load balancers' verdicts on in-service instances of ELB-checked groups, and whether
/// deregistered terminating instances still drain.
fn lb_opinions(
    s: &crate::state::RegionStores,
    now: f64,
) -> (HashMap<String, Option<bool>>, HashMap<String, bool>) {
    let mut elb = HashMap::new();
    let mut draining = HashMap::new();
    for (id, lbs, tgs, is_draining_check) in lb_questions(&s.autoscaling) {
        if is_draining_check {
            let d = lb::draining(s, &tgs, &id, now);
            draining.insert(id, d);
        } else {
            let verdict = lb::elb_healthy(s, &lbs, &tgs, &id, now);
            elb.insert(id, verdict);
        }
    }
    (elb, draining)
}

/// Instances whose load balancers must be asked: (id, lbs, tgs, draining-check?).
fn lb_questions(a: &AutoScalingStore) -> Vec<(String, Vec<String>, Vec<String>, bool)> {
    let mut out = Vec::new();
    for g in a.groups.values() {
        let (lbs, tgs) = (g.load_balancer_names(), g.target_group_arns());
        if lbs.is_empty() && tgs.is_empty() {
            continue;
        }
        let elb_checked = g.health_check_type.contains("ELB");
        for i in g.instances.values() {
            match i.lifecycle_state {
                LifecycleState::InService if elb_checked => {
                    out.push((i.id.clone(), lbs.clone(), tgs.clone(), false));
                }
                LifecycleState::Terminating if i.deregistered => {
                    out.push((i.id.clone(), lbs.clone(), tgs.clone(), true));
                }
                _ => {}
            }
        }
    }
    out
}

/// Step every group; returns launches, registrations, deregistrations and "still busy".
fn step_all(
    state: &AppState,
    a: &mut AutoScalingStore,
    ec2: &mut Ec2Store,
    elb: &HashMap<String, Option<bool>>,
    draining: &HashMap<String, bool>,
    now: f64,
) -> (Vec<Launch>, LbWork, LbWork, bool) {
    let mut launches = Vec::new();
    let (mut register, mut deregister) = (Vec::new(), Vec::new());
    let mut busy = false;
    let mut deleted = Vec::new();
    for idx in 0..a.groups.len() {
        if quiet(&a.groups[idx], ec2) {
            continue;
        }
        // Taken out in place (the store is needed alongside it) and put back at its index,
        // so the groups keep their creation order.
        let mut g = std::mem::take(&mut a.groups[idx]);
        let (lbs, tgs) = (g.load_balancer_names(), g.target_group_arns());
        let mut to_register = Vec::new();
        let mut to_deregister = Vec::new();
        let ids: Vec<String> = g.instances.keys().cloned().collect();
        for id in ids {
            busy |= step_instance(
                state,
                a,
                ec2,
                &mut g,
                &id,
                elb,
                draining,
                now,
                &mut to_register,
                &mut to_deregister,
            );
        }
        if !is_suspended(&g, "AddToLoadBalancer") && !to_register.is_empty() {
            register.push((lbs.clone(), tgs.clone(), to_register));
        }
        if (!lbs.is_empty() || !tgs.is_empty()) && !to_deregister.is_empty() {
            deregister.push((lbs.clone(), tgs.clone(), to_deregister));
        }
        settle_traffic_sources(&mut g);
        // Capacity.
        let p = plan::plan_capacity(&g, now);
        let mut pooled = Vec::new();
        for (id, reason, cause) in p.terminations {
            busy = true;
            if reason == TerminationReason::ScaleIn && warm_moves::reuses_on_scale_in(&g) {
                let cause = cause.clone();
                if warm_moves::return_to_pool(a, &mut g, &id, cause, now, state.ids.uuid()) {
                    pooled.push(id);
                    continue;
                }
            }
            start_termination(state, a, &mut g, &id, reason, cause, now);
        }
        if (!lbs.is_empty() || !tgs.is_empty()) && !pooled.is_empty() {
            deregister.push((lbs.clone(), tgs.clone(), pooled));
        }
        if !p.launches.is_empty() {
            g.pending_cause = None;
            let fresh = warm_moves::draw(a, &mut g, ec2, p.launches, &p.launch_cause, now, || {
                state.ids.uuid()
            });
            // A mixed group has no warm pool, so its picks line up with the fresh launches.
            for (k, (zone, subnet)) in fresh.into_iter().enumerate() {
                let pick = p.picks.get(k);
                if let Some(l) = launch_request(a, &g, zone, subnet, &p.launch_cause, pick) {
                    launches.push(l);
                }
            }
        }
        // The simple-policy cooldown starts once the scaling it caused has finished.
        let settled = g.activity_in_progress().is_none() && g.capacity_met();
        if settled && let Some(c) = g.cooldown_pending.take() {
            g.cooldown_until = now + c as f64;
        }
        busy |= !settled || g.cooldown_until > now;
        if g.status.is_some() && g.instances.is_empty() {
            tracing::info!(group = %g.name, "auto scaling group deleted");
            deleted.push(idx);
        }
        a.groups[idx] = g;
    }
    for idx in deleted.into_iter().rev() {
        a.groups.shift_remove_index(idx);
    }
    (launches, register, deregister, busy)
}

/// A group with nothing to do this pass: every member InService, healthy and running on EC2,
/// capacity met, zones balanced, no pending cause, cooldown start, deletion, attachment change
/// or ELB health check. Most groups are quiet most of the time; skipping them keeps a pass
/// over thousands of groups cheap.
fn quiet(g: &Group, ec2: &Ec2Store) -> bool {
    if g.status.is_some()
        || g.pending_cause.is_some()
        || refresh_preferences::surge(g) > 0
        || g.cooldown_pending.is_some()
        || !g.capacity_met()
        || g.traffic_sources
            .iter()
            .any(|t| t.state == "Adding" || t.state == "Removing")
        || (g.health_check_type.contains("ELB") && !g.traffic_sources.is_empty())
    {
        return false;
    }
    let mut zones = [0usize; 8];
    for i in g.instances.values() {
        if i.lifecycle_state != LifecycleState::InService
            || !i.healthy
            || !internal::is_running(ec2, &i.id)
            || internal::impaired_since(ec2, &i.id).is_some()
        {
            return false;
        }
        if let Some(z) = g
            .availability_zones
            .iter()
            .position(|z| *z == i.availability_zone)
            && z < zones.len()
        {
            zones[z] += 1;
        }
    }
    let used = &zones[..g.availability_zones.len().min(zones.len())];
    let (max, min) = (used.iter().max(), used.iter().min());
    matches!((max, min), (Some(max), Some(min)) if max - min <= 1) || used.is_empty()
}

/// Move `Adding` attachments on to `Added`/`InService` (the LB code reports real states once
/// wired), and drop `Removing` ones.
fn settle_traffic_sources(g: &mut Group) {
    let elb = g.health_check_type.contains("ELB");
    g.traffic_sources.retain(|t| t.state != "Removing");
    for t in &mut g.traffic_sources {
        if t.state == "Adding" {
            t.state = if elb {
                "InService".into()
            } else {
                "Added".into()
            };
        }
    }
}

/// Take an instance out: `Terminating`, with its activity (unless it has one already).
fn start_termination(
    state: &AppState,
    a: &mut AutoScalingStore,
    g: &mut Group,
    id: &str,
    reason: TerminationReason,
    cause: String,
    now: f64,
) {
    let Some(i) = g.instances.get_mut(id) else {
        return;
    };
    i.lifecycle_state = LifecycleState::Terminating;
    i.state_since = now;
    i.termination_reason = Some(reason);
    if i.activity_id.is_none() {
        let activity = state.ids.uuid();
        i.activity_id = Some(activity.clone());
        let details = ActivityDetails::at(i.subnet_id.as_deref(), &i.availability_zone);
        let desc = format!("Terminating EC2 instance: {id}");
        record_activity(
            a,
            activity,
            g,
            desc,
            cause,
            "InProgress",
            0,
            &details,
            Some(id),
            now,
        );
    }
}

/// One instance's lifecycle step; returns whether it is still in flight.
#[allow(clippy::too_many_arguments)] // reason: the pass's context, passed down once
fn step_instance(
    state: &AppState,
    a: &mut AutoScalingStore,
    ec2: &mut Ec2Store,
    g: &mut Group,
    id: &str,
    elb: &HashMap<String, Option<bool>>,
    draining: &HashMap<String, bool>,
    now: f64,
    to_register: &mut Vec<String>,
    to_deregister: &mut Vec<String>,
) -> bool {
    let ec2_state = internal::instance_state(ec2, id);
    let Some(lifecycle) = g.instances.get(id).map(|i| i.lifecycle_state) else {
        return false;
    };
    match lifecycle {
        LifecycleState::Pending | LifecycleState::PendingProceed => {
            let gone = matches!(
                ec2_state,
                None | Some(InstanceState::Terminated | InstanceState::ShuttingDown)
            );
            if gone {
                fail_launch(
                    a,
                    g,
                    id,
                    "The instance was terminated before it entered service.",
                    now,
                );
                return true;
            }
            let hook = hook_for(g, LAUNCHING).cloned();
            let i = g.instances.get_mut(id).expect("present");
            if lifecycle == LifecycleState::Pending
                && let Some(hook) = hook.filter(|_| !i.launch_hooks_done && !i.attached)
            {
                i.lifecycle_state = LifecycleState::PendingWait;
                i.state_since = now;
                i.lifecycle_action =
                    Some(lifecycle_hooks::begin_wait(&hook, state.ids.uuid(), now));
                if let Some(act) = i.activity_id.clone() {
                    update_activity(a, &act, "MidLifecycleAction", 40, None, now);
                }
                return true;
            }
            if ec2_state != Some(InstanceState::Running) {
                return true;
            }
            // Registered with the load balancers (outside the lock, this pass) before the
            // instance reports InService; the grace period starts now.
            i.lifecycle_state = LifecycleState::InService;
            i.state_since = now;
            i.in_service_since = Some(now);
            i.protected_from_scale_in |= g.new_instances_protected_from_scale_in && !i.attached;
            to_register.push(id.to_owned());
            if let Some(act) = i.activity_id.take() {
                finish_activity(a, &act, now);
            }
            tracing::info!(group = %g.name, instance = %id, "instance InService");
            false
        }
        LifecycleState::PendingWait => {
            let action = g.instances[id].lifecycle_action.clone();
            match action.as_ref().and_then(|x| x.result.as_deref()) {
                Some("CONTINUE") => {
                    let i = g.instances.get_mut(id).expect("present");
                    i.lifecycle_state = LifecycleState::PendingProceed;
                    i.state_since = now;
                    i.launch_hooks_done = true;
                    i.lifecycle_action = None;
                }
                Some(_) => {
                    let msg = action
                        .as_ref()
                        .map(lifecycle_hooks::abandon_message)
                        .unwrap_or_default();
                    cancel_launch(a, g, id, &msg, now);
                    internal::terminate(ec2, id, now);
                }
                None => {}
            }
            true
        }
        LifecycleState::InService => {
            let i = &g.instances[id];
            if !i.healthy {
                return true;
            }
            let verdict = plan::health_verdict(
                g,
                ec2_state,
                internal::impaired_since(ec2, id),
                elb.get(id).copied().flatten(),
                i.in_service_since,
                now,
            );
            if let Some(reason) = verdict {
                tracing::info!(group = %g.name, instance = %id, ?reason, "instance unhealthy");
                let i = g.instances.get_mut(id).expect("present");
                i.healthy = false;
                i.unhealthy_reason = Some(reason);
                return true;
            }
            false
        }
        LifecycleState::Terminating | LifecycleState::TerminatingProceed => {
            let has_lbs = !(g.load_balancer_names().is_empty() && g.target_group_arns().is_empty());
            let i = g.instances.get_mut(id).expect("present");
            if !i.deregistered {
                // Deregister (and drain) before the terminate hook and EC2 (EC2 Auto Scaling
                // User Guide, "Amazon EC2 Auto Scaling instance lifecycle", scale in).
                i.deregistered = true;
                if has_lbs {
                    to_deregister.push(id.to_owned());
                    if let Some(act) = i.activity_id.clone() {
                        update_activity(a, &act, "WaitingForELBConnectionDraining", 50, None, now);
                    }
                    return true;
                }
            } else if draining.get(id).copied().unwrap_or(false) {
                return true;
            }
            let hook = hook_for(g, TERMINATING).cloned();
            let i = g.instances.get_mut(id).expect("present");
            if lifecycle == LifecycleState::Terminating
                && let Some(hook) = hook.filter(|_| !i.terminate_hooks_done)
            {
                i.lifecycle_state = LifecycleState::TerminatingWait;
                i.state_since = now;
                i.lifecycle_action =
                    Some(lifecycle_hooks::begin_wait(&hook, state.ids.uuid(), now));
                if let Some(act) = i.activity_id.clone() {
                    update_activity(a, &act, "MidLifecycleAction", 60, None, now);
                }
                return true;
            }
            match ec2_state {
                None | Some(InstanceState::Terminated) => {
                    let i = g.instances.shift_remove(id).expect("present");
                    if let Some(act) = i.activity_id {
                        finish_activity(a, &act, now);
                    }
                    tracing::info!(group = %g.name, instance = %id, "instance terminated and left the group");
                }
                Some(InstanceState::ShuttingDown) => {}
                Some(_) => {
                    internal::terminate(ec2, id, now);
                }
            }
            true
        }
        LifecycleState::TerminatingWait => {
            let i = g.instances.get_mut(id).expect("present");
            if i.lifecycle_action
                .as_ref()
                .is_some_and(|x| x.result.is_some())
            {
                i.lifecycle_state = LifecycleState::TerminatingProceed;
                i.state_since = now;
                i.terminate_hooks_done = true;
                i.lifecycle_action = None;
            }
            true
        }
        // Standby, detach and warm-pool moves are settled by the scheduler.
        _ => false,
    }
}

/// A launch that ended before InService (the EC2 instance went away): the activity fails and
/// the instance leaves the group, so the next pass launches again.
fn fail_launch(a: &mut AutoScalingStore, g: &mut Group, id: &str, msg: &str, now: f64) {
    if let Some(i) = g.instances.shift_remove(id)
        && let Some(act) = i.activity_id
    {
        update_activity(a, &act, "Failed", 100, Some(msg), now);
    }
}

/// A launch a hook abandoned: the activity is `Cancelled` with AWS's message.
fn cancel_launch(a: &mut AutoScalingStore, g: &mut Group, id: &str, msg: &str, now: f64) {
    if let Some(i) = g.instances.shift_remove(id)
        && let Some(act) = i.activity_id
    {
        update_activity(a, &act, "Cancelled", 100, Some(msg), now);
    }
}
