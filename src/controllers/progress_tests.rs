//! Controllers keep their progress in state: a pass run twice (even by a fresh controller, as
//! after a restart) publishes nothing twice, and an admin reset forgets the progress with the
//! records it was about.

use serde_json::{Value, json};

use super::Controller;
use super::asg_metrics::AsgMetrics;
use super::asg_scheduler::AsgScheduler;
use super::ec2_metrics::Ec2Metrics;
use super::instances::InstanceLifecycle;
use crate::config::Config;
use crate::context::RequestContext;
use crate::protocol::Protocol;
use crate::services::autoscaling::store::{ActivityDetails, Group, record_activity};
use crate::services::cloudwatch::store::MetricKey;
use crate::services::ec2::instances;
use crate::state::{AppState, Scope};

const T0: f64 = 1_800_000_000.0;

fn state() -> std::sync::Arc<AppState> {
    AppState::deterministic(
        Config {
            time_scale: 0.0,
            sns_auto_confirm: true,
            ..Config::default()
        },
        T0,
    )
}

fn scope() -> Scope {
    Scope::new("000000000000", "eu-west-1")
}

fn call(state: &AppState, service: &'static str, op: &str, input: Value) -> Value {
    let ctx = RequestContext {
        request_id: "r".into(),
        scope: scope(),
        service,
        operation: op.into(),
        protocol: Protocol::Query,
        access_key_id: None,
    };
    crate::services::dispatch(&ctx, state, input).expect(op)
}

/// An SNS topic with a confirmed e-mail subscription, and a group that notifies it of launches.
fn group_notifying_a_topic(state: &AppState) {
    let topic = call(state, "sns", "CreateTopic", json!({"Name": "scaling"}));
    let arn = topic["TopicArn"].as_str().unwrap().to_owned();
    call(
        state,
        "sns",
        "Subscribe",
        json!({"TopicArn": arn, "Protocol": "email", "Endpoint": "ops@example.com"}),
    );
    state.stores.with(&scope(), |s| {
        s.sns.outbox.clear();
        s.autoscaling.groups.insert(
            "web".into(),
            Group {
                name: "web".into(),
                notification_configurations: vec![(arn, "autoscaling:EC2_INSTANCE_LAUNCH".into())],
                ..Group::default()
            }
            .into(),
        );
    });
}

/// A launch activity of group `web` that ended now.
fn launch_ended(state: &AppState, instance: &str) {
    let now = state.clock.now();
    state.stores.with(&scope(), |s| {
        let group = s.autoscaling.groups["web"].clone();
        record_activity(
            &mut s.autoscaling,
            state.ids.uuid(),
            &group,
            format!("Launching a new EC2 instance: {instance}"),
            "At 2027-01-15T08:00:00Z a user request created an AutoScalingGroup.".into(),
            "Successful",
            100,
            &ActivityDetails::default(),
            Some(instance),
            now,
        );
    });
}

fn queued_notifications(state: &AppState) -> usize {
    state.stores.with(&scope(), |s| s.sns.outbox.len())
}

#[tokio::test]
async fn a_scheduler_pass_run_twice_announces_an_activity_once() {
    let state = state();
    group_notifying_a_topic(&state);
    launch_ended(&state, "i-1");
    AsgScheduler.reconcile(&state).await.unwrap();
    assert_eq!(queued_notifications(&state), 1);
    // A fresh scheduler (as after a restart) reads what was announced from the activity.
    AsgScheduler.reconcile(&state).await.unwrap();
    assert_eq!(queued_notifications(&state), 1);
    launch_ended(&state, "i-2");
    AsgScheduler.reconcile(&state).await.unwrap();
    AsgScheduler.reconcile(&state).await.unwrap();
    assert_eq!(queued_notifications(&state), 2);
}

#[tokio::test]
async fn reset_forgets_what_the_scheduler_announced() {
    let state = state();
    let scheduler = AsgScheduler;
    group_notifying_a_topic(&state);
    launch_ended(&state, "i-1");
    scheduler.reconcile(&state).await.unwrap();
    assert_eq!(queued_notifications(&state), 1);
    state.reset();
    // The same world again: its first activity is announced as the first one was.
    group_notifying_a_topic(&state);
    launch_ended(&state, "i-1");
    scheduler.reconcile(&state).await.unwrap();
    assert_eq!(queued_notifications(&state), 1);
    assert_eq!(
        state
            .stores
            .with(&scope(), |s| s.autoscaling.announced_through),
        1
    );
}

fn group_collecting_metrics(state: &AppState) {
    state.stores.with(&scope(), |s| {
        s.autoscaling.groups.insert(
            "web".into(),
            Group {
                name: "web".into(),
                desired_capacity: 2,
                enabled_metrics: [("GroupDesiredCapacity".into(), "1Minute".into())].into(),
                ..Group::default()
            }
            .into(),
        );
    });
}

/// SampleCount of every datapoint of a series, by minute.
fn samples(state: &AppState, key: &MetricKey) -> Vec<(i64, f64)> {
    let start = T0 as i64 - 3600;
    state.stores.with(&scope(), |s| {
        s.cloudwatch
            .metrics
            .buckets(key, None, start, start + 7200, 60, false)
            .into_iter()
            .flat_map(|(_, b)| b.into_iter().map(|(t, a)| (t, a.count)))
            .collect()
    })
}

fn desired_capacity_key() -> MetricKey {
    MetricKey::new(
        "AWS/AutoScaling",
        "GroupDesiredCapacity",
        vec![("AutoScalingGroupName".into(), "web".into())],
    )
}

#[tokio::test]
async fn a_group_metrics_pass_run_twice_publishes_a_minute_once() {
    let state = state();
    group_collecting_metrics(&state);
    AsgMetrics.reconcile(&state).await.unwrap();
    assert!(samples(&state, &desired_capacity_key()).is_empty());
    state.clock.advance(60.0);
    AsgMetrics.reconcile(&state).await.unwrap();
    AsgMetrics.reconcile(&state).await.unwrap();
    assert_eq!(samples(&state, &desired_capacity_key()), [(T0 as i64, 1.0)]);
}

#[tokio::test]
async fn reset_forgets_which_minutes_were_published() {
    let state = state();
    group_collecting_metrics(&state);
    let publisher = AsgMetrics;
    publisher.reconcile(&state).await.unwrap();
    state.reset();
    group_collecting_metrics(&state);
    state.clock.advance(60.0);
    // Collection began again after the reset: its first minute has not ended yet.
    publisher.reconcile(&state).await.unwrap();
    assert!(samples(&state, &desired_capacity_key()).is_empty());
    state.clock.advance(60.0);
    publisher.reconcile(&state).await.unwrap();
    assert_eq!(
        samples(&state, &desired_capacity_key()),
        [(T0 as i64 + 60, 1.0)]
    );
}

#[tokio::test]
async fn an_instance_metrics_pass_run_twice_publishes_a_period_once() {
    let state = state();
    let id = instances::launch_one(&state, &scope(), json!({"Monitoring": {"Enabled": true}}));
    InstanceLifecycle.reconcile(&state).await.unwrap();
    state.clock.advance(10.0);
    InstanceLifecycle.reconcile(&state).await.unwrap();
    Ec2Metrics.reconcile(&state).await.unwrap();
    state.clock.advance(60.0);
    Ec2Metrics.reconcile(&state).await.unwrap();
    Ec2Metrics.reconcile(&state).await.unwrap();
    let key = MetricKey::new("AWS/EC2", "CPUUtilization", vec![("InstanceId".into(), id)]);
    assert_eq!(samples(&state, &key), [(T0 as i64, 1.0)]);
}
