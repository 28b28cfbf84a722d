//! The instance lifecycle controller: drives the instance backend so that EC2's records move
//! as AWS shows them.
//!
//! - `pending` → the backend launches (or starts) the instance → `running` once the backend says
//!   it is up (the simulated backend after its boot delay on the clock);
//! - `stopping` → backend stop → `stopped` after [`STOP_SECONDS`];
//! - `shutting-down` → backend terminate → `terminated` after [`TERMINATE_SECONDS`]; the private
//!   address goes back to the subnet, and the record stays visible for
//!   [`TERMINATED_VISIBLE_SECONDS`], as on AWS;
//! - pending reboots (RebootInstances, CreateImage without NoReboot) go to the backend;
//! - the backend's images of deregistered AMIs are deleted once no instance uses them, and
//!   machines whose records are gone (admin reset) are terminated;
//! - `pending` images are captured by the backend, then `available` (and their snapshots
//!   `completed`) after [`crate::services::ec2::images::IMAGE_SECONDS`];
//! - an instance whose machine stopped or vanished without Updraft asking (a container that
//!   exited or was removed behind its back, [`crate::backend::Vanished`]) goes `stopping` →
//!   `stopped` with the backend's `StateReason`, or `shutting-down` → `terminated` with
//!   `Server.InternalError` when it is gone; one that dies while `pending` ends terminated with
//!   `Server.InternalError`, as a failed launch does on AWS.
//!
//! - a machine whose status check fails or passes again without Updraft asking (a paused
//!   container, [`crate::backend::InstanceBackend::take_impaired`]) marks its instance as the
//!   admin impair call does (`impaired_since`), so the group's EC2 health check replaces it;
//! - at start with a state directory, [`adopt_restored`] hands the restored records to the
//!   backend, which takes over their machines.
//!
//! Each pass copies the work out under the lock, calls the backend without it, then applies
//! the outcomes only where the record is still in the state the work was planned for (an API
//! call may have changed it meanwhile).

use crate::backend::{BackendStatus, Expect, LaunchSpec, Restored, Vanished};
use crate::services::autoscaling::attach_detach::GROUP_TAG;
use crate::services::ec2::images::IMAGE_SECONDS;
use crate::services::ec2::instance_types;
use crate::services::ec2::instance_view::reason_time;
use crate::services::ec2::instances::public_ip;
use crate::services::ec2::internal;
use crate::services::ec2::network;
use crate::services::ec2::security_groups;
use crate::services::ec2::store::{Ec2Store, InstanceState};
use crate::state::{AppState, Scope, Topic, Topics};

use super::{Controller, ControllerError, Next};

/// Virtual seconds from `stopping` to `stopped`.
pub const STOP_SECONDS: f64 = 5.0;
/// Virtual seconds from `shutting-down` to `terminated`.
pub const TERMINATE_SECONDS: f64 = 5.0;
/// Virtual seconds a terminated instance stays visible.
pub const TERMINATED_VISIBLE_SECONDS: f64 = 3600.0;
/// Longest sleep between passes when nothing is in flight.
const IDLE_SECONDS: f64 = 60.0;
/// Poll interval while something waits on the backend.
const POLL_SECONDS: f64 = 1.0;

/// Drives instances and images through their states.
#[derive(Debug, Default)]
pub struct InstanceLifecycle;

/// One thing to ask the backend.
#[derive(Debug)]
enum Work {
    Launch(Scope, LaunchSpec),
    Start(Scope, String),
    Poll(Scope, String),
    Stop(Scope, String),
    Terminate(Scope, String),
    Reboot(Scope, String),
    Capture(Scope, String, String),
    /// The backend says this running instance stopped or vanished: confirm.
    Check(Scope, String, &'static str),
}

/// What the backend said.
#[derive(Debug)]
enum Outcome {
    Asked(Scope, String, InstanceState),
    Up(Scope, String, String),
    Rebooted(Scope, String),
    Captured(Scope, String, bool),
    /// Stopped (false) or gone (true) without Updraft asking, with the `StateReason` code.
    Died(Scope, String, &'static str, bool),
}

fn plan(
    scope: &Scope,
    s: &mut Ec2Store,
    now: f64,
    vanished: &[Vanished],
    work: &mut Vec<Work>,
) -> f64 {
    let mut next = IDLE_SECONDS;
    let mut forgotten = Vec::new();
    s.instances.retain(|_, i| {
        let keep = !(i.state == InstanceState::Terminated
            && now - i.state_since >= TERMINATED_VISIBLE_SECONDS);
        if !keep {
            forgotten.push(i.id.clone());
            forgotten.push(i.root_volume_id.clone());
        }
        keep
    });
    for id in forgotten {
        s.clear_tags(&id);
    }
    for i in s.instances.values() {
        let (id, sc) = (i.id.clone(), scope.clone());
        match i.state {
            InstanceState::Pending if !i.backend_done && !i.launched => {
                let (vcpus, memory_mib) = instance_types::find(&i.instance_type)
                    .map_or((1, 1024), |t| (t.vcpus, t.memory_mib));
                let user_data = i.user_data.as_deref().and_then(|u| {
                    use base64::Engine;
                    let bytes = base64::engine::general_purpose::STANDARD.decode(u).ok()?;
                    Some(String::from_utf8_lossy(&bytes).into_owned())
                });
                work.push(Work::Launch(
                    sc,
                    LaunchSpec {
                        instance_id: id,
                        image_id: i.image_id.clone(),
                        instance_type: i.instance_type.clone(),
                        vcpus,
                        memory_mib,
                        account: scope.account.clone(),
                        region: scope.region.clone(),
                        group: s.tags_of(&i.id).get(GROUP_TAG).cloned(),
                        availability_zone: i.availability_zone.clone(),
                        private_ip: i.private_ip.to_string(),
                        vpc_id: i.vpc_id.clone(),
                        vpc_cidr: s
                            .vpcs
                            .get(&i.vpc_id)
                            .map(|v| v.cidr.to_string())
                            .unwrap_or_default(),
                        ingress_tcp_ports: security_groups::ingress_tcp_ports(
                            s,
                            &i.security_groups,
                        ),
                        user_data,
                        now,
                    },
                ));
                next = next.min(POLL_SECONDS);
            }
            InstanceState::Pending if !i.backend_done => {
                work.push(Work::Start(sc, id));
                next = next.min(POLL_SECONDS);
            }
            InstanceState::Pending => {
                work.push(Work::Poll(sc, id));
                next = next.min(POLL_SECONDS);
            }
            InstanceState::Stopping if !i.backend_done => {
                work.push(Work::Stop(sc, id));
                next = next.min(STOP_SECONDS);
            }
            InstanceState::ShuttingDown if !i.backend_done => {
                work.push(Work::Terminate(sc, id));
                next = next.min(TERMINATE_SECONDS);
            }
            InstanceState::Stopping => {
                next = next.min((i.state_since + STOP_SECONDS - now).max(0.0))
            }
            InstanceState::ShuttingDown => {
                next = next.min((i.state_since + TERMINATE_SECONDS - now).max(0.0))
            }
            InstanceState::Terminated => {
                next = next.min((i.state_since + TERMINATED_VISIBLE_SECONDS - now).max(0.0));
            }
            InstanceState::Running if i.reboot_pending => work.push(Work::Reboot(sc, id)),
            _ => {}
        }
        // Stopped or vanished behind Updraft's back: worth a look while Updraft thinks the
        // instance runs; a removed machine also ends a stopping or stopped instance.
        if let Some(v) = vanished
            .iter()
            .filter(|v| v.instance_id == i.id)
            .max_by_key(|v| v.gone)
        {
            let applies = match i.state {
                InstanceState::Running => !i.reboot_pending,
                InstanceState::Stopping | InstanceState::Stopped => v.gone,
                _ => false,
            };
            if applies {
                work.push(Work::Check(scope.clone(), i.id.clone(), v.reason));
            }
        }
    }
    for image in s.images.values().filter(|i| i.state == "pending") {
        if !image.backend_done
            && let Some(source) = &image.source_instance_id
        {
            work.push(Work::Capture(
                scope.clone(),
                source.clone(),
                image.id.clone(),
            ));
        }
        next = next.min((image.creation_date + IMAGE_SECONDS - now).max(0.0));
    }
    next
}

/// Finish timed transitions; returns whether anything changed.
fn settle(s: &mut Ec2Store, now: f64) -> bool {
    let mut changed = false;
    let mut released = Vec::new();
    for i in s.instances.values_mut() {
        match i.state {
            InstanceState::Stopping if i.backend_done && now >= i.state_since + STOP_SECONDS => {
                i.state = InstanceState::Stopped;
                i.state_since = now;
                i.public_ip = None;
                i.running_since = None;
                // A stop and start moves the instance to new hardware: the check passes again.
                i.impaired_since = None;
                changed = true;
                tracing::info!(instance_id = %i.id, "instance stopped");
            }
            InstanceState::ShuttingDown
                if i.backend_done && now >= i.state_since + TERMINATE_SECONDS =>
            {
                i.state = InstanceState::Terminated;
                i.state_since = now;
                i.public_ip = None;
                i.running_since = None;
                released.push((i.subnet_id.clone(), i.private_ip));
                changed = true;
                tracing::info!(instance_id = %i.id, "instance terminated");
            }
            _ => {}
        }
    }
    for (subnet, ip) in released {
        if let Some(subnet) = s.subnets.get_mut(&subnet) {
            network::release_ip(subnet, ip);
        }
    }
    let mut completed = Vec::new();
    for image in s.images.values_mut() {
        if image.state == "pending"
            && image.backend_done
            && now >= image.creation_date + IMAGE_SECONDS
        {
            image.state = "available".into();
            completed.extend(image.snapshot_id.clone());
            changed = true;
            tracing::info!(image_id = %image.id, "image available");
        }
    }
    for snap in completed {
        if let Some(snap) = s.snapshots.get_mut(&snap) {
            snap.state = "completed".into();
        }
    }
    changed
}

impl Controller for InstanceLifecycle {
    fn name(&self) -> &'static str {
        "instance-lifecycle"
    }

    fn watches(&self) -> Topics {
        Topic::Ec2 | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let now = state.clock.now();
        let mut work = Vec::new();
        let mut next = IDLE_SECONDS;
        let mut changed = false;
        let vanished = state.backend.take_vanished();
        let impaired = state.backend.take_impaired();
        state.stores.for_each(|scope, stores| {
            for (id, on) in &impaired {
                changed |= internal::set_impaired(&mut stores.ec2, id, *on, now);
            }
            changed |= settle(&mut stores.ec2, now);
            next = next.min(plan(scope, &mut stores.ec2, now, &vanished, &mut work));
        });
        let backend = &state.backend;
        let mut outcomes = Vec::new();
        let mut failures = Vec::new();
        // Backend calls of one pass run concurrently: ten launches of real containers take
        // about as long as one.
        let calls = work.into_iter().map(|w| async move {
            let result = match w {
                Work::Launch(scope, spec) => {
                    let id = spec.instance_id.clone();
                    backend
                        .launch(spec)
                        .await
                        .map(|()| Outcome::Asked(scope, id, InstanceState::Pending))
                }
                Work::Start(scope, id) => backend
                    .start(&id, now)
                    .await
                    .map(|()| Outcome::Asked(scope, id, InstanceState::Pending)),
                Work::Stop(scope, id) => backend
                    .stop(&id)
                    .await
                    .map(|()| Outcome::Asked(scope, id, InstanceState::Stopping)),
                Work::Terminate(scope, id) => backend
                    .terminate(&id)
                    .await
                    .map(|()| Outcome::Asked(scope, id, InstanceState::ShuttingDown)),
                Work::Reboot(scope, id) => backend
                    .reboot(&id, now)
                    .await
                    .map(|()| Outcome::Rebooted(scope, id)),
                Work::Poll(scope, id) => match backend.status(&id, now).await {
                    Ok(BackendStatus::Running) => backend
                        .console_output(&id)
                        .await
                        .map(|c| Outcome::Up(scope, id, c)),
                    // It died while booting: a failed launch.
                    Ok(BackendStatus::Gone) => {
                        Ok(Outcome::Died(scope, id, "Server.InternalError", true))
                    }
                    Ok(BackendStatus::Stopped) => {
                        Ok(Outcome::Died(scope, id, "Server.InternalError", false))
                    }
                    Ok(BackendStatus::Booting) => return None,
                    Err(e) => Err(e),
                },
                Work::Check(scope, id, reason) => match backend.status(&id, now).await {
                    Ok(BackendStatus::Stopped) => Ok(Outcome::Died(scope, id, reason, false)),
                    Ok(BackendStatus::Gone) => {
                        Ok(Outcome::Died(scope, id, "Server.InternalError", true))
                    }
                    Ok(_) => return None,
                    Err(e) => Err(e),
                },
                Work::Capture(scope, instance, image) => {
                    match backend.create_image(&instance, &image).await {
                        Ok(()) => Ok(Outcome::Captured(scope, image, true)),
                        // The instance went away before capture: the image fails, as on AWS.
                        Err(crate::backend::BackendError::UnknownInstance(_)) => {
                            Ok(Outcome::Captured(scope, image, false))
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            Some(result)
        });
        for result in futures_util::future::join_all(calls)
            .await
            .into_iter()
            .flatten()
        {
            match result {
                Ok(o) => outcomes.push(o),
                Err(e) => failures.push(e.to_string()),
            }
        }
        for outcome in outcomes {
            changed = true;
            apply(state, outcome, now);
        }
        // Machines whose records are gone (an admin reset emptied the stores) are destroyed.
        let running = backend.instance_ids();
        if !running.is_empty() {
            let mut orphans = running;
            state.stores.for_each(|_, stores| {
                orphans.retain(|id| !stores.ec2.instances.contains_key(id));
            });
            for id in orphans {
                tracing::info!(instance_id = %id, "no record left: terminating its machine");
                if let Err(e) = backend.terminate(&id).await {
                    failures.push(e.to_string());
                }
            }
        }
        // Images of deregistered AMIs go once nothing uses them.
        let held = backend.images();
        if !held.is_empty() {
            let mut orphans = held;
            state.stores.for_each(|_, stores| {
                orphans.retain(|ami| !stores.ec2.images.contains_key(ami));
            });
            for ami in orphans {
                if let Err(e) = backend.delete_image(&ami).await {
                    failures.push(e.to_string());
                }
            }
        }
        state
            .stores
            .for_each(|_, stores| changed |= settle(&mut stores.ec2, now));
        if changed {
            state.touched(Topic::Ec2);
        }
        if let Some(first) = failures.first() {
            return Err(ControllerError(format!(
                "{} backend call(s) failed; first: {first}",
                failures.len()
            )));
        }
        Ok(Next::after_secs(next))
    }
}

/// What each restored record expects of its machine.
fn expectation(i: &crate::services::ec2::store::Instance) -> Expect {
    match i.state {
        InstanceState::Running => Expect::Up,
        InstanceState::Pending if i.launched => Expect::Up,
        InstanceState::Stopped => Expect::Down,
        InstanceState::Pending | InstanceState::Stopping => Expect::AsIs,
        InstanceState::ShuttingDown | InstanceState::Terminated => Expect::Gone,
    }
}

/// After the state directory was loaded and the backend prepared: let the backend take over
/// the machines of the restored instances (the Docker backend's containers an earlier run
/// left). Without a state directory there is nothing restored and nothing to adopt.
pub async fn adopt_restored(state: &AppState) -> Result<(), crate::backend::BackendError> {
    if state.config.state_dir.is_none() {
        return Ok(());
    }
    let mut restored = Vec::new();
    state.stores.for_each(|_, stores| {
        restored.extend(stores.ec2.instances.values().map(|i| Restored {
            instance_id: i.id.clone(),
            expect: expectation(i),
        }));
    });
    state.backend.adopt(restored).await
}

fn apply(state: &AppState, outcome: Outcome, now: f64) {
    match outcome {
        Outcome::Asked(scope, id, expected) => state.stores.with(&scope, |s| {
            if let Some(i) = s.ec2.instances.get_mut(&id).filter(|i| i.state == expected) {
                i.backend_done = true;
                if expected == InstanceState::Pending {
                    i.launched = true;
                }
            }
        }),
        Outcome::Up(scope, id, console) => state.stores.with(&scope, |s| {
            if let Some(i) = s
                .ec2
                .instances
                .get_mut(&id)
                .filter(|i| i.state == InstanceState::Pending)
            {
                i.state = InstanceState::Running;
                i.state_since = now;
                i.running_since = Some(now);
                i.state_reason = None;
                if i.wants_public_ip {
                    i.public_ip = Some(public_ip());
                }
                i.console_output = Some(console);
                tracing::info!(instance_id = %i.id, "instance running");
            }
        }),
        Outcome::Rebooted(scope, id) => state.stores.with(&scope, |s| {
            if let Some(i) = s.ec2.instances.get_mut(&id) {
                i.reboot_pending = false;
            }
        }),
        Outcome::Died(scope, id, reason, gone) => state.stores.with(&scope, |s| {
            if let Some(i) = s.ec2.instances.get_mut(&id).filter(|i| {
                matches!(i.state, InstanceState::Running | InstanceState::Pending)
                    || (gone && matches!(i.state, InstanceState::Stopping | InstanceState::Stopped))
            }) {
                // The machine is already down: the backend has nothing left to do.
                i.state = if gone {
                    InstanceState::ShuttingDown
                } else {
                    InstanceState::Stopping
                };
                i.state_since = now;
                i.backend_done = true;
                i.reboot_pending = false;
                i.state_reason = Some(reason);
                i.transition_reason = if reason.starts_with("Client.") {
                    format!("User initiated ({})", reason_time(now))
                } else {
                    format!("Service initiated ({})", reason_time(now))
                };
                tracing::warn!(instance_id = %i.id, reason, gone, "instance died behind Updraft's back");
            }
        }),
        Outcome::Captured(scope, image, ok) => state.stores.with(&scope, |s| {
            if let Some(img) = s.ec2.images.get_mut(&image) {
                img.backend_done = true;
                if !ok {
                    img.state = "failed".into();
                }
            }
        }),
    }
}

#[cfg(test)]
#[path = "instances_vanish_tests.rs"]
mod vanish_tests;

#[cfg(test)]
#[path = "instances_tests.rs"]
mod tests;
