//! Auto Scaling figures:
//! - `asg_reconcile/steady_1000x10`: one reconciler pass over 1,000 groups of 10 in-service
//!   instances each (target < 20 ms), calling `asg_reconciler::reconcile_scope` directly;
//! - the resident-set growth while those 1,000 groups launch their 10,000 instances (Auto
//!   Scaling members *and* the EC2 instance records they launch), per instance;
//! - alarm → InService: a real server at `--time-scale 60` with a group of 1 and a +1 simple
//!   policy on an alarm; the alarm is put into ALARM (SetAlarmState) and the bench measures the
//!   virtual and real time until the new instance is InService.
//!
//! Run with `cargo bench --bench autoscaling`; `cargo test --benches` runs each once.

mod common;

use common::query::frozen_region;
use common::rss_kib;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use updraft::Config;
use updraft::context::RequestContext;
use updraft::controllers::asg_reconciler::reconcile_scope;
use updraft::protocol::Protocol;
use updraft::services::autoscaling::store::LifecycleState;
use updraft::services::autoscaling::{groups, launch_configs, policies};
use updraft::services::cloudwatch::{alarms, put_alarm};
use updraft::services::ec2::images;
use updraft::services::ec2::store::InstanceState;
use updraft::services::{parse_input, to_output};
use updraft::state::{AppState, Scope};

const GROUPS: usize = 1_000;

/// A handler's typed input from its request tree.
fn typed<T: serde::de::DeserializeOwned>(input: Value) -> T {
    parse_input(input).expect("input")
}
const PER_GROUP: i64 = 10;

fn ctx(scope: &Scope, service: &'static str, op: &str) -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        scope: scope.clone(),
        service,
        operation: op.into(),
        protocol: Protocol::Query,
        access_key_id: None,
    }
}

fn ami() -> String {
    images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    )
}

/// Make every EC2 instance `running` (the lifecycle controller's job, not running here).
fn boot_all(state: &AppState, scope: &Scope) {
    state.stores.with(scope, |s| {
        for i in s.ec2.instances.values_mut() {
            if i.state == InstanceState::Pending {
                i.state = InstanceState::Running;
            }
        }
    });
}

fn setup() -> (Arc<AppState>, Scope) {
    let (state, scope) = frozen_region();
    let c = ctx(&scope, "autoscaling", "CreateLaunchConfiguration");
    launch_configs::create_launch_configuration(
        &c,
        &state,
        typed(
            json!({"LaunchConfigurationName": "lc", "ImageId": ami(), "InstanceType": "t3.micro"}),
        ),
    )
    .expect("launch configuration");
    for n in 0..GROUPS {
        groups::create_auto_scaling_group(
            &c,
            &state,
            typed(
                json!({"AutoScalingGroupName": format!("g{n}"), "LaunchConfigurationName": "lc",
                   "MinSize": 0, "MaxSize": PER_GROUP, "DesiredCapacity": PER_GROUP,
                   "AvailabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"],
                   "Tags": [{"Key": "team", "Value": "bench", "PropagateAtLaunch": true}]}),
            ),
        )
        .expect("group");
    }
    let before = rss_kib();
    let started = Instant::now();
    reconcile_scope(&state, &scope);
    let launching = started.elapsed();
    boot_all(&state, &scope);
    reconcile_scope(&state, &scope);
    let after = rss_kib();
    let (members, in_service) = state.stores.with(&scope, |s| {
        let all = s
            .autoscaling
            .groups
            .values()
            .flat_map(|g| g.instances.values());
        let members = all.clone().count();
        let ok = all
            .filter(|i| i.lifecycle_state == LifecycleState::InService)
            .count();
        (members, ok)
    });
    assert_eq!(members, GROUPS * PER_GROUP as usize);
    assert_eq!(in_service, members);
    println!(
        "launch pass for {members} instances: {launching:?}; memory per instance (Auto Scaling member + EC2 record + activity): {:.2} KiB (resident set {before} KiB -> {after} KiB)",
        after.saturating_sub(before) as f64 / members as f64
    );
    (state, scope)
}

fn steady(c: &mut Criterion) {
    let (state, scope) = setup();
    let mut group = c.benchmark_group("asg_reconcile");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("steady_1000x10", |b| {
        b.iter(|| black_box(reconcile_scope(&state, &scope)))
    });
    group.finish();
}

/// Alarm → InService on a real server at time scale 60.
fn alarm_to_in_service(_: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let state = AppState::new(Config {
        time_scale: 60.0,
        ..Config::default()
    });
    let scope = Scope::new("000000000000", "us-east-1");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    let server = rt.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let shutdown = async {
            let _ = stopped.await; // a dropped sender stops the server too
        };
        updraft::run_with_state(listener, server_state, shutdown)
            .await
            .expect("server");
    });
    let a = ctx(&scope, "autoscaling", "Bench");
    launch_configs::create_launch_configuration(
        &a,
        &state,
        typed(
            json!({"LaunchConfigurationName": "lc", "ImageId": ami(), "InstanceType": "t3.micro"}),
        ),
    )
    .expect("lc");
    groups::create_auto_scaling_group(
        &a,
        &state,
        typed(
            json!({"AutoScalingGroupName": "web", "LaunchConfigurationName": "lc", "MinSize": 1,
               "MaxSize": 3, "AvailabilityZones": ["us-east-1a", "us-east-1b"]}),
        ),
    )
    .expect("group");
    let in_service = |state: &AppState| {
        state.stores.with(&scope, |s| {
            s.autoscaling.groups["web"]
                .instances
                .values()
                .filter(|i| i.lifecycle_state == LifecycleState::InService)
                .count()
        })
    };
    let wait = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while in_service(&state) < n {
            assert!(Instant::now() < deadline, "no InService instance");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wait(1);
    let arn = policies::put_scaling_policy(
        &a,
        &state,
        typed(json!({"AutoScalingGroupName": "web", "PolicyName": "up",
               "AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": 1})),
    )
    .map(|out| to_output(&out).expect("output"))
    .expect("policy")["PolicyARN"]
        .as_str()
        .expect("arn")
        .to_owned();
    let cw = ctx(&scope, "cloudwatch", "Bench");
    put_alarm::put_metric_alarm(
        &cw,
        &state,
        typed(
            json!({"AlarmName": "high", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
               "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 80.0,
               "ComparisonOperator": "GreaterThanOrEqualToThreshold",
               "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web"}],
               "AlarmActions": [arn]}),
        ),
    )
    .expect("alarm");
    let (v0, r0) = (state.clock.now(), Instant::now());
    alarms::set_alarm_state(
        &cw,
        &state,
        typed(json!({"AlarmName": "high", "StateValue": "ALARM", "StateReason": "bench"})),
    )
    .expect("set alarm state");
    wait(2);
    println!(
        "alarm ALARM -> new instance InService at --time-scale 60: {:.1} virtual s ({} s boot + reconciler ticks), {:?} real",
        state.clock.now() - v0,
        Config::default().boot_seconds,
        r0.elapsed()
    );
    let _ = stop.send(()); // the server may have stopped already
    rt.block_on(server).expect("server task");
}

criterion_group!(benches, alarm_to_in_service, steady);
criterion_main!(benches);
