//! Controllers make things happen over time: idempotent reconcile passes on the clock.
//!
//! A controller reads state, decides with pure functions, applies the decision, and says when
//! it wants to run next (in virtual seconds). The runner also wakes it after every API write
//! (`AppState::changed`) and backs off, in real time, when a pass fails. The alarm evaluator,
//! the Auto Scaling reconciler, the health checker and the metric publisher all run here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

pub mod alarm_evaluator;
pub mod asg_metrics;
pub mod asg_reconciler;
pub mod asg_scheduler;
pub mod ec2_metrics;
pub mod elb_health;
pub mod elbv2_health;
pub mod instances;
pub mod sns_delivery;
pub mod sns_http;

/// Why a reconcile pass failed; the runner logs it and retries with backoff.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ControllerError(pub String);

/// A reconcile loop.
pub trait Controller: Send + Sync + 'static {
    /// Name for logs.
    fn name(&self) -> &'static str;

    /// One idempotent pass. Returns the virtual seconds until the next pass is wanted.
    fn reconcile(
        &self,
        state: &AppState,
    ) -> impl Future<Output = Result<f64, ControllerError>> + Send;
}

/// Start every controller Updraft runs. Each service issue adds its loops here.
pub fn start_all(state: &Arc<AppState>, shutdown: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![
        spawn(
            sns_delivery::SnsDelivery::new(state.clone()),
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            alarm_evaluator::AlarmEvaluator,
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            instances::InstanceLifecycle,
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            asg_reconciler::AsgReconciler,
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            ec2_metrics::Ec2Metrics::default(),
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            asg_scheduler::AsgScheduler::default(),
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            asg_metrics::AsgMetrics::default(),
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            elbv2_health::Elbv2Health::default(),
            state.clone(),
            shutdown.clone(),
        ),
        spawn(
            elb_health::ElbHealth::default(),
            state.clone(),
            shutdown.clone(),
        ),
    ];
    if state.config.lb_listener_ports {
        tasks.push(spawn(
            crate::dataplane::listeners::ListenerPorts::new(state.clone()),
            state.clone(),
            shutdown.clone(),
        ));
    }
    tasks
}

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Run `controller` until `shutdown` turns true.
pub fn spawn<C: Controller>(
    controller: C,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = MIN_BACKOFF;
        while !*shutdown.borrow() {
            // Armed before the pass, so a write during the pass still wakes the next one.
            let woken = state.changed.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match controller.reconcile(&state).await {
                Ok(next) => {
                    backoff = MIN_BACKOFF;
                    tokio::select! {
                        () = state.clock.sleep(next.max(0.0)) => {}
                        () = &mut woken => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(err) => {
                    tracing::warn!(controller = controller.name(), error = %err, retry_in_ms = backoff.as_millis() as u64, "reconcile failed");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    })
}

#[cfg(test)]
#[path = "progress_tests.rs"]
mod progress_tests;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::config::Config;

    struct Counter {
        runs: Arc<AtomicU32>,
        fail_first: u32,
    }

    impl Controller for Counter {
        fn name(&self) -> &'static str {
            "counter"
        }
        async fn reconcile(&self, _state: &AppState) -> Result<f64, ControllerError> {
            let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            if n <= self.fail_first {
                Err(ControllerError("boom".into()))
            } else {
                Ok(60.0)
            }
        }
    }

    fn frozen_state() -> Arc<AppState> {
        AppState::new(Config {
            time_scale: 0.0,
            ..Config::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn runs_on_the_clock_and_on_writes() {
        let state = frozen_state();
        let runs = Arc::new(AtomicU32::new(0));
        let (stop, shutdown) = watch::channel(false);
        let task = spawn(
            Counter {
                runs: runs.clone(),
                fail_first: 0,
            },
            state.clone(),
            shutdown,
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Real time passing does nothing on a frozen clock...
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // ...virtual time does.
        state.clock.advance(60.0);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        // An API write wakes it early.
        state.changed.notify_waiters();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        stop.send(true).unwrap();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_then_recover() {
        let state = frozen_state();
        let runs = Arc::new(AtomicU32::new(0));
        let (_stop, shutdown) = watch::channel(false);
        let _task = spawn(
            Counter {
                runs: runs.clone(),
                fail_first: 3,
            },
            state,
            shutdown,
        );
        // Failures retry after 100, 200 and 400 ms; then the pass succeeds and waits on the clock.
        tokio::time::sleep(Duration::from_millis(650)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
    }
}
