//! Controllers make things happen over time: idempotent reconcile passes on the clock.
//!
//! A controller reads state, decides with pure functions, applies the decision, and says when
//! it wants to run next ([`Next`]). It keeps no progress of its own: what it already did is
//! marked on the records it did it to, so any pass (after a restart, after a reset) decides
//! from state alone. The runner also wakes it when a write touches one of the topics it
//! [`Controller::watches`] (`AppState::touched`, see `state::wake`), and backs off, in real
//! time, when a pass fails. kube-runtime's controller is the model: a reconciler watches the
//! kinds it reads, returns an action ("requeue after", "await change"), and the runner
//! schedules it. The alarm evaluator, the Auto Scaling reconciler, the health checkers and the
//! metric publishers all run here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;
use crate::state::wake::{Subscription, Topics};

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

/// When a controller wants its next pass (a write it watches may always wake it sooner).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// After this much virtual time (the clock's, so a frozen clock waits for an advance).
    After(Duration),
    /// Only when a write it watches wakes it.
    OnChange,
    /// At once: more work is ready.
    Now,
}

impl Next {
    /// After `seconds` of virtual time; zero, negative or NaN is at once.
    pub fn after_secs(seconds: f64) -> Next {
        if seconds > 0.0 {
            Next::After(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
        } else {
            Next::Now
        }
    }
}

/// A reconcile loop.
pub trait Controller: Send + Sync + 'static {
    /// Name for logs and wake-up counts.
    fn name(&self) -> &'static str;

    /// The topics whose writes wake it: the parts of the state its pass reads. Time-driven
    /// loops watch `Topic::Clock` too, so an admin clock change runs them at once.
    fn watches(&self) -> Topics;

    /// One idempotent pass. Says when the next pass is wanted.
    fn reconcile(
        &self,
        state: &AppState,
    ) -> impl Future<Output = Result<Next, ControllerError>> + Send;
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
        spawn(ec2_metrics::Ec2Metrics, state.clone(), shutdown.clone()),
        spawn(asg_scheduler::AsgScheduler, state.clone(), shutdown.clone()),
        spawn(asg_metrics::AsgMetrics, state.clone(), shutdown.clone()),
        spawn(elbv2_health::Elbv2Health, state.clone(), shutdown.clone()),
        spawn(elb_health::ElbHealth, state.clone(), shutdown.clone()),
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
    // Subscribed before the task starts, so a write right after `spawn` is not missed.
    let wake = state
        .wake
        .subscribe(controller.name(), controller.watches());
    tokio::spawn(async move {
        let mut backoff = MIN_BACKOFF;
        while !*shutdown.borrow() {
            wake.count_pass();
            match controller.reconcile(&state).await {
                Ok(next) => {
                    backoff = MIN_BACKOFF;
                    wait(&state, &wake, next, &mut shutdown).await;
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

/// Wait for what `next` asks, a wake-up, or shutdown. A write made during the pass left a
/// permit in `wake`, so it ends the wait at once.
async fn wait(
    state: &AppState,
    wake: &Subscription,
    next: Next,
    shutdown: &mut watch::Receiver<bool>,
) {
    match next {
        Next::Now => tokio::task::yield_now().await,
        Next::After(after) => tokio::select! {
            () = state.clock.sleep(after.as_secs_f64()) => {}
            () = wake.woken() => {}
            _ = shutdown.changed() => {}
        },
        Next::OnChange => tokio::select! {
            () = wake.woken() => {}
            _ = shutdown.changed() => {}
        },
    }
}

#[cfg(test)]
#[path = "progress_tests.rs"]
mod progress_tests;

#[cfg(test)]
#[path = "wake_tests.rs"]
mod wake_tests;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::config::Config;
    use crate::state::Topic;

    struct Counter {
        runs: Arc<AtomicU32>,
        fail_first: u32,
    }

    impl Controller for Counter {
        fn name(&self) -> &'static str {
            "counter"
        }
        fn watches(&self) -> Topics {
            Topic::AutoScaling.into()
        }
        async fn reconcile(&self, _state: &AppState) -> Result<Next, ControllerError> {
            let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            if n <= self.fail_first {
                Err(ControllerError("boom".into()))
            } else {
                Ok(Next::after_secs(60.0))
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
        // An API write to what it watches wakes it early...
        state.touched(Topic::AutoScaling);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        // ...a write to anything else does not.
        state.touched(Topic::Sns | Topic::Ec2);
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
