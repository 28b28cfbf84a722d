//! Snapshot figures (issue #18), printed, not asserted:
//! - the state of 1,000 groups of 10 instances (10,000 EC2 instances, their Auto Scaling
//!   members and activities) plus 1,000,000 per-minute datapoints (1,000 metrics × 1,000
//!   minutes);
//! - capture (the copy taken under the stores' lock: the longest a request can wait), encode,
//!   size, decode and restore times;
//! - the longest wait a stream of store accesses saw while the writer snapshotted;
//! - the start-up cost of an empty state directory.
//!
//! Run with `cargo bench --bench persist` (release; `cargo test --benches` runs it once in a
//! debug build, whose times mean nothing).

mod common;

use common::quick;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft::Config;
use updraft::context::RequestContext;
use updraft::controllers::asg_reconciler::reconcile_scope;
use updraft::protocol::Protocol;
use updraft::services::autoscaling::{groups, launch_configs};
use updraft::services::cloudwatch::stats::Agg;
use updraft::services::cloudwatch::store::MetricKey;
use updraft::services::ec2::images;
use updraft::services::ec2::store::InstanceState;
use updraft::services::parse_input;
use updraft::state::persist::{self, Mode, format};
use updraft::state::{AppState, Scope};

fn typed<T: serde::de::DeserializeOwned>(input: Value) -> T {
    parse_input(input).expect("input")
}

fn ctx(scope: &Scope) -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        scope: scope.clone(),
        service: "autoscaling",
        operation: "CreateAutoScalingGroup".into(),
        protocol: Protocol::Query,
        access_key_id: None,
    }
}

fn world(groups_n: usize, metrics: usize, minutes: usize) -> (Arc<AppState>, Scope) {
    let state = AppState::new(Config {
        time_scale: 0.0,
        ..Config::default()
    });
    let scope = Scope::new("000000000000", "us-east-1");
    state
        .stores
        .with(&scope, |s| s.ec2.ensure_defaults(&scope, &state));
    let c = ctx(&scope);
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    launch_configs::create_launch_configuration(
        &c,
        &state,
        typed(json!({"LaunchConfigurationName": "lc", "ImageId": ami, "InstanceType": "t3.micro"})),
    )
    .expect("launch configuration");
    for n in 0..groups_n {
        groups::create_auto_scaling_group(
            &c,
            &state,
            typed(
                json!({"AutoScalingGroupName": format!("g{n}"), "LaunchConfigurationName": "lc",
                "MinSize": 0, "MaxSize": 10, "DesiredCapacity": 10,
                "AvailabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]}),
            ),
        )
        .expect("group");
    }
    reconcile_scope(&state, &scope);
    state.stores.with(&scope, |s| {
        for i in s.ec2.instances.values_mut() {
            i.state = InstanceState::Running;
        }
    });
    reconcile_scope(&state, &scope);
    let now = state.clock.now();
    state.stores.with(&scope, |s| {
        for m in 0..metrics {
            let key = MetricKey::new("App", "Latency", vec![("Host".into(), format!("h{m}"))]);
            for t in 0..minutes {
                let ts = now - 60.0 * (minutes - t) as f64;
                let v = (m * 7 + t) as f64 * 0.37;
                s.cloudwatch
                    .metrics
                    .put(&key, "Milliseconds", ts, &Agg::value(v), false, now);
            }
        }
    });
    (state, scope)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let (groups_n, metrics, minutes) = if quick() {
        (10, 10, 100)
    } else {
        (1_000, 1_000, 1_000)
    };
    let started = Instant::now();
    let (state, scope) = world(groups_n, metrics, minutes);
    let (instances, buckets) = state.stores.with(&scope, |s| {
        (s.ec2.instances.len(), s.cloudwatch.metrics.bucket_count())
    });
    println!(
        "world: {instances} instances, {groups_n} groups, {} datapoints ({buckets} stored buckets), built in {:.1} s",
        metrics * minutes,
        started.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let copied = state.stores.cloned(&scope).expect("scope");
    println!(
        "for comparison, the whole scope copied in one hold of the lock: {:.1} ms (snapshots copy metric data in slices)",
        ms(t.elapsed())
    );
    drop(copied);
    let t = Instant::now();
    let body = persist::capture(&state, None);
    let capture = t.elapsed();
    let t = Instant::now();
    let bytes = format::encode(&body);
    let encode = t.elapsed();
    println!(
        "snapshot: capture {:.1} ms, encode {:.1} ms, {:.1} MiB ({:.1} bytes per stored bucket)",
        ms(capture),
        ms(encode),
        bytes.len() as f64 / 1048576.0,
        bytes.len() as f64 / buckets.max(1) as f64
    );
    let t = Instant::now();
    let decoded = format::decode(&bytes).expect("decodes");
    let decode = t.elapsed();
    let other = AppState::new(Config::default());
    let t = Instant::now();
    persist::restore(&other, decoded, Mode::Replace);
    println!(
        "restore: decode {:.1} ms, install {:.1} ms",
        ms(decode),
        ms(t.elapsed())
    );

    // Requests (store accesses) during a snapshot: the longest wait.
    let running = Arc::new(AtomicBool::new(true));
    let prober = {
        let (state, scope, running) = (state.clone(), scope.clone(), running.clone());
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while running.load(Ordering::Relaxed) {
                let t = Instant::now();
                state.stores.with(&scope, |s| s.ec2.instances.len());
                worst = worst.max(t.elapsed());
                std::thread::sleep(Duration::from_micros(200));
            }
            worst
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let t = Instant::now();
    let body = persist::capture(&state, None);
    let bytes = format::encode(&body);
    let snap = t.elapsed();
    std::thread::sleep(Duration::from_millis(20));
    running.store(false, Ordering::Relaxed);
    let worst = prober.join().expect("prober");
    println!(
        "under load: a snapshot of {:.1} MiB took {:.1} ms; the longest a store access waited: {:.2} ms",
        bytes.len() as f64 / 1048576.0,
        ms(snap),
        ms(worst)
    );

    // Start-up with an empty state directory: open() on a fresh directory.
    let dir = std::env::temp_dir().join(format!("updraft-bench-empty-{}", std::process::id()));
    let fresh = AppState::new(Config {
        state_dir: Some(dir.clone()),
        ..Config::default()
    });
    let t = Instant::now();
    persist::disk::open(&fresh).expect("opens");
    println!(
        "start-up with an empty state dir: {:.3} ms",
        ms(t.elapsed())
    );
    let _ = std::fs::remove_dir_all(&dir); // a temp dir; nothing to keep
}
