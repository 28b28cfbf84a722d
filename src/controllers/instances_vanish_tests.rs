//! The lifecycle controller with a backend whose machines die behind Updraft's back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;
use crate::backend::simulated::SimulatedBackend;
use crate::backend::{BackendError, BoxFuture, HttpAddress, InstanceBackend, MetricsSample};
use crate::config::Config;
use crate::services::ec2::instances;

/// The simulated backend, except for the machines marked dead here.
#[derive(Debug, Default)]
struct Dying {
    sim: SimulatedBackend,
    dead: Mutex<HashMap<String, BackendStatus>>,
    vanished: Mutex<Vec<Vanished>>,
    impaired: Mutex<Vec<(String, bool)>>,
}

impl Dying {
    fn kill(&self, id: &str, status: BackendStatus, reason: &'static str) {
        self.dead.lock().unwrap().insert(id.into(), status);
        self.vanished.lock().unwrap().push(Vanished {
            instance_id: id.into(),
            reason,
            gone: status == BackendStatus::Gone,
        });
    }
}

impl InstanceBackend for Dying {
    fn name(&self) -> &'static str {
        "dying"
    }
    fn take_vanished(&self) -> Vec<Vanished> {
        std::mem::take(&mut self.vanished.lock().unwrap())
    }
    fn take_impaired(&self) -> Vec<(String, bool)> {
        std::mem::take(&mut self.impaired.lock().unwrap())
    }
    fn launch(&self, spec: LaunchSpec) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.launch(spec)
    }
    fn start(&self, id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.start(id, now)
    }
    fn stop(&self, id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.stop(id)
    }
    fn reboot(&self, id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.reboot(id, now)
    }
    fn terminate(&self, id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.terminate(id)
    }
    fn status(&self, id: &str, now: f64) -> BoxFuture<'_, Result<BackendStatus, BackendError>> {
        match self.dead.lock().unwrap().get(id) {
            Some(s) => Box::pin(std::future::ready(Ok(*s))),
            None => self.sim.status(id, now),
        }
    }
    fn console_output(&self, id: &str) -> BoxFuture<'_, Result<String, BackendError>> {
        self.sim.console_output(id)
    }
    fn create_image(&self, id: &str, image: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.create_image(id, image)
    }
    fn metrics_sample(
        &self,
        id: &str,
        now: f64,
    ) -> BoxFuture<'_, Result<MetricsSample, BackendError>> {
        self.sim.metrics_sample(id, now)
    }
    fn http_address(&self, id: &str, port: u16) -> Option<HttpAddress> {
        self.sim.http_address(id, port)
    }
    fn generation(&self) -> u64 {
        self.sim.generation()
    }
    fn set_stress(&self, id: &str, cpu: f64) -> Result<(), BackendError> {
        self.sim.set_stress(id, cpu)
    }
}

fn state_with(backend: Arc<Dying>) -> Arc<AppState> {
    AppState::with_backend(
        Config {
            time_scale: 0.0,
            ..Config::default()
        },
        backend,
    )
}

fn launch_one(state: &AppState, scope: &Scope) -> String {
    instances::launch_one(state, scope, json!({}))
}

fn seen(state: &AppState, scope: &Scope, id: &str) -> (&'static str, Option<&'static str>) {
    state.stores.with(scope, |s| {
        let i = &s.ec2.instances[id];
        (i.state.name(), i.state_reason)
    })
}

#[tokio::test(start_paused = true)]
async fn machines_dying_behind_updrafts_back_stop_or_terminate_their_instances() {
    let backend = Arc::new(Dying::default());
    let state = state_with(backend.clone());
    let scope = Scope::new("000000000000", "us-east-1");
    let (a, b) = (launch_one(&state, &scope), launch_one(&state, &scope));
    let c = InstanceLifecycle;
    c.reconcile(&state).await.unwrap();
    state.clock.advance(10.0);
    c.reconcile(&state).await.unwrap();
    assert_eq!(seen(&state, &scope, &a).0, "running");

    // `a` exits by itself; `b` is removed.
    backend.kill(
        &a,
        BackendStatus::Stopped,
        "Client.InstanceInitiatedShutdown",
    );
    backend.kill(&b, BackendStatus::Gone, "Server.InternalError");
    c.reconcile(&state).await.unwrap();
    assert_eq!(
        seen(&state, &scope, &a),
        ("stopping", Some("Client.InstanceInitiatedShutdown"))
    );
    assert_eq!(
        seen(&state, &scope, &b),
        ("shutting-down", Some("Server.InternalError"))
    );
    state.clock.advance(STOP_SECONDS.max(TERMINATE_SECONDS));
    c.reconcile(&state).await.unwrap();
    assert_eq!(seen(&state, &scope, &a).0, "stopped");
    assert_eq!(seen(&state, &scope, &b).0, "terminated");

    // A report about a machine that still runs (a reboot's restart) changes nothing.
    let d = launch_one(&state, &scope);
    c.reconcile(&state).await.unwrap();
    state.clock.advance(10.0);
    c.reconcile(&state).await.unwrap();
    backend.vanished.lock().unwrap().push(Vanished {
        instance_id: d.clone(),
        reason: "Client.UserInitiatedShutdown",
        gone: false,
    });
    c.reconcile(&state).await.unwrap();
    assert_eq!(seen(&state, &scope, &d), ("running", None));

    // A machine that dies while booting is a failed launch.
    let e = launch_one(&state, &scope);
    c.reconcile(&state).await.unwrap();
    backend
        .dead
        .lock()
        .unwrap()
        .insert(e.clone(), BackendStatus::Gone);
    c.reconcile(&state).await.unwrap();
    assert_eq!(
        seen(&state, &scope, &e),
        ("shutting-down", Some("Server.InternalError"))
    );
}

#[tokio::test(start_paused = true)]
async fn machines_frozen_behind_updrafts_back_fail_their_status_check() {
    let backend = Arc::new(Dying::default());
    let state = state_with(backend.clone());
    let scope = Scope::new("000000000000", "us-east-1");
    let a = launch_one(&state, &scope);
    let c = InstanceLifecycle;
    c.reconcile(&state).await.unwrap();
    // Reported while still pending: a booting instance has no status check yet.
    backend.impaired.lock().unwrap().push((a.clone(), true));
    c.reconcile(&state).await.unwrap();
    let since = |state: &AppState| {
        state
            .stores
            .with(&scope, |s| internal::impaired_since(&s.ec2, &a))
    };
    assert_eq!(since(&state), None);
    state.clock.advance(10.0);
    c.reconcile(&state).await.unwrap();
    assert_eq!(seen(&state, &scope, &a).0, "running");

    backend.impaired.lock().unwrap().push((a.clone(), true));
    c.reconcile(&state).await.unwrap();
    let at = state.clock.now();
    assert_eq!(since(&state), Some(at));
    // A second report keeps the first time; a pass clears it.
    state.clock.advance(30.0);
    backend.impaired.lock().unwrap().push((a.clone(), true));
    c.reconcile(&state).await.unwrap();
    assert_eq!(since(&state), Some(at));
    backend.impaired.lock().unwrap().push((a.clone(), false));
    c.reconcile(&state).await.unwrap();
    assert_eq!(since(&state), None);
}

#[test]
fn restored_records_say_what_they_expect_of_their_machines() {
    use crate::backend::Expect;
    let state = state_with(Arc::new(Dying::default()));
    let scope = Scope::new("000000000000", "us-east-1");
    let a = launch_one(&state, &scope);
    let expect = |st: InstanceState, launched: bool| {
        state.stores.with(&scope, |s| {
            let i = s.ec2.instances.get_mut(&a).unwrap();
            i.state = st;
            i.launched = launched;
            expectation(i)
        })
    };
    assert_eq!(expect(InstanceState::Pending, false), Expect::AsIs);
    assert_eq!(expect(InstanceState::Pending, true), Expect::Up);
    assert_eq!(expect(InstanceState::Running, true), Expect::Up);
    assert_eq!(expect(InstanceState::Stopping, true), Expect::AsIs);
    assert_eq!(expect(InstanceState::Stopped, true), Expect::Down);
    assert_eq!(expect(InstanceState::ShuttingDown, true), Expect::Gone);
    assert_eq!(expect(InstanceState::Terminated, true), Expect::Gone);
}
