//! Each loop runs again only for writes that touch what it watches.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use super::asg_reconciler::AsgReconciler;
use super::sns_delivery::SnsDelivery;
use super::{Controller, ControllerError, Next, spawn};
use crate::config::Config;
use crate::context::RequestContext;
use crate::protocol::Protocol;
use crate::state::wake::WakeStats;
use crate::state::{AppState, Scope, Topic, Topics};

fn frozen() -> Arc<AppState> {
    AppState::deterministic(
        Config {
            time_scale: 0.0,
            ..Config::default()
        },
        1_800_000_000.0,
    )
}

fn sns(state: &AppState, op: &str, input: Value) -> Value {
    let ctx = RequestContext {
        request_id: "r".into(),
        scope: Scope::new("000000000000", "eu-west-1"),
        service: "sns",
        operation: op.into(),
        protocol: Protocol::Query,
        access_key_id: None,
    };
    crate::services::dispatch(&ctx, state, input).expect(op)
}

fn stats(state: &AppState, name: &str) -> WakeStats {
    state.wake.stats_of(name).expect(name)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(start_paused = true)]
async fn a_write_to_sns_does_not_wake_the_asg_reconciler() {
    let state = frozen();
    let (_stop, shutdown) = watch::channel(false);
    let _asg = spawn(AsgReconciler, state.clone(), shutdown.clone());
    let _sns = spawn(SnsDelivery::new(state.clone()), state.clone(), shutdown);
    settle().await;
    let (asg, delivery) = (
        stats(&state, "asg_reconciler"),
        stats(&state, "sns_delivery"),
    );
    assert_eq!((asg.passes, delivery.passes), (1, 1));

    let topic = sns(&state, "CreateTopic", json!({"Name": "news"}));
    let arn = topic["TopicArn"].as_str().unwrap();
    for n in 0..5 {
        sns(
            &state,
            "Publish",
            json!({"TopicArn": arn, "Message": format!("hello {n}")}),
        );
        settle().await;
    }
    let (asg, delivery) = (
        stats(&state, "asg_reconciler"),
        stats(&state, "sns_delivery"),
    );
    assert_eq!(
        (asg.wakeups, asg.passes),
        (0, 1),
        "SNS writes left it asleep"
    );
    assert_eq!((delivery.wakeups, delivery.passes), (5, 6));

    // What it watches wakes it; the delivery loop sleeps on.
    state.touched(Topic::AutoScaling);
    settle().await;
    let (asg, delivery) = (
        stats(&state, "asg_reconciler"),
        stats(&state, "sns_delivery"),
    );
    assert_eq!((asg.wakeups, asg.passes), (1, 2));
    assert_eq!(delivery.passes, 6);
}

#[tokio::test(start_paused = true)]
async fn a_clock_change_wakes_time_driven_loops_only() {
    let state = frozen();
    let (_stop, shutdown) = watch::channel(false);
    let _asg = spawn(AsgReconciler, state.clone(), shutdown.clone());
    let _sns = spawn(SnsDelivery::new(state.clone()), state.clone(), shutdown);
    settle().await;
    state.touched(Topic::Clock);
    settle().await;
    assert_eq!(stats(&state, "asg_reconciler").passes, 2);
    assert_eq!(stats(&state, "sns_delivery").passes, 1);
}

/// Runs only when woken.
struct Waiter(Arc<AtomicU32>);

impl Controller for Waiter {
    fn name(&self) -> &'static str {
        "waiter"
    }
    fn watches(&self) -> Topics {
        Topic::Elb.into()
    }
    async fn reconcile(&self, _state: &AppState) -> Result<Next, ControllerError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Next::OnChange)
    }
}

#[tokio::test(start_paused = true)]
async fn on_change_waits_for_a_write_not_for_time() {
    let state = frozen();
    let runs = Arc::new(AtomicU32::new(0));
    let (_stop, shutdown) = watch::channel(false);
    let _task = spawn(Waiter(runs.clone()), state.clone(), shutdown);
    settle().await;
    state.clock.advance(86_400.0);
    tokio::time::sleep(Duration::from_secs(86_400)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Three writes in a row: the first ends its wait, the other two leave one permit behind,
    // so two passes, not three.
    state.touched(Topic::Elb);
    state.touched(Topic::Elb | Topic::Sns);
    state.touched(Topic::Elb);
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(stats(&state, "waiter").wakeups, 3);
}

#[test]
fn next_after_clamps_what_it_cannot_wait() {
    assert_eq!(Next::after_secs(0.0), Next::Now);
    assert_eq!(Next::after_secs(-3.0), Next::Now);
    assert_eq!(Next::after_secs(f64::NAN), Next::Now);
    assert_eq!(
        Next::after_secs(1.5),
        Next::After(Duration::from_millis(1500))
    );
    assert_eq!(Next::after_secs(f64::INFINITY), Next::After(Duration::MAX));
}
