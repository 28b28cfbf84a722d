//! EC2 `DescribeInstances` over 10,000 instances:
//! - `describe_instances/all` and `describe_instances/tag_filter_10` (`tag:team=bench`, matching
//!   10): the handler alone, its typed output made a value tree (as callers inside Updraft get
//!   it through `services::dispatch`);
//! - `request/all` (target < 50 ms), `request/tag_filter_10` (target < 2 ms) and
//!   `request/one_id` (`InstanceId.1`, one of the 10,000; a small query, target well under
//!   100 µs): the whole request as the server runs it without the socket — form body parsed,
//!   input decoded by the ec2 codec, dispatched, output rendered as ec2Query XML.
//!
//! Before the runs it prints the memory per instance: the growth of the process's resident
//! set while the 10,000 instances (records, tags, addresses) are created, divided by 10,000
//! (target < 4 KiB).
//!
//! Run with `cargo bench --bench ec2`; `cargo test --benches` runs each once.

mod common;

use common::query::{frozen_region, respond_body};
use common::{rss_kib, timed};
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use updraft::context::RequestContext;
use updraft::protocol::Protocol;
use updraft::services::{self, ec2::images, ec2::instances};
use updraft::state::AppState;

const N: usize = 10_000;
const BATCH: usize = 50;

fn setup() -> (std::sync::Arc<AppState>, RequestContext) {
    // The default VPC and images are made first, so that only instances count.
    let (state, scope) = frozen_region();
    let ctx = RequestContext {
        request_id: "bench".into(),
        scope: scope.clone(),
        service: "ec2",
        operation: "DescribeInstances".into(),
        protocol: Protocol::Ec2,
        access_key_id: None,
    };
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let before = rss_kib();
    let mut first_ids = Vec::new();
    for batch in 0..N / BATCH {
        let out = instances::launch(
            &state,
            &scope,
            json!({"ImageId": ami, "InstanceType": "t3.micro", "MinCount": BATCH, "MaxCount": BATCH,
                   "TagSpecifications": [{"ResourceType": "instance", "Tags": [
                       {"Key": "Name", "Value": format!("web-{batch}")},
                       {"Key": "env", "Value": "prod"}]}]}),
            vec![(
                "aws:autoscaling:groupName".into(),
                format!("asg-{}", batch % 7),
            )],
        )
        .expect("launch");
        if batch == 0 {
            first_ids = out["Instances"]
                .as_array()
                .expect("instances")
                .iter()
                .take(10)
                .map(|i| i["InstanceId"].as_str().expect("id").to_owned())
                .collect();
        }
    }
    let after = rss_kib();
    state.stores.with(&scope, |s| {
        for id in &first_ids {
            s.ec2
                .set_tags(id, [("team".to_owned(), "bench".to_owned())]);
        }
    });
    let count = state.stores.with(&scope, |s| s.ec2.instances.len());
    assert_eq!(count, N);
    println!(
        "memory per instance: {:.2} KiB (resident set {} KiB -> {} KiB for {N} instances)",
        (after.saturating_sub(before)) as f64 / N as f64,
        before,
        after
    );
    (state, ctx)
}

fn describe(c: &mut Criterion) {
    let (state, ctx) = setup();
    let started = std::time::Instant::now();
    let all = services::dispatch(&ctx, &state, json!({})).expect("describe");
    let built = started.elapsed();
    println!(
        "one whole-list call: {built:?}; output as JSON text: {} KiB",
        all.to_string().len() / 1024
    );
    let listed: usize = all["Reservations"]
        .as_array()
        .expect("reservations")
        .iter()
        .map(|r| r["Instances"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(listed, N);
    let filter = json!({"Filters": [{"Name": "tag:team", "Values": ["bench"]}]});
    let tagged = services::dispatch(&ctx, &state, filter.clone()).expect("describe");
    assert_eq!(
        tagged["Reservations"][0]["Instances"]
            .as_array()
            .map(Vec::len),
        Some(10)
    );

    let mut group = c.benchmark_group("describe_instances");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("all", |b| {
        b.iter(|| black_box(services::dispatch(&ctx, &state, json!({}))))
    });
    group.bench_function("tag_filter_10", |b| {
        b.iter(|| black_box(services::dispatch(&ctx, &state, filter.clone())))
    });
    group.finish();

    let mut group = c.benchmark_group("request");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let all_body = "Action=DescribeInstances&Version=2016-11-15";
    let tag_body = "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Ateam&Filter.1.Value.1=bench";
    let one_id = all["Reservations"][0]["Instances"][0]["InstanceId"]
        .as_str()
        .expect("id");
    let one_body = format!("Action=DescribeInstances&Version=2016-11-15&InstanceId.1={one_id}");
    let bytes = respond_body(&state, &ctx, all_body).len();
    println!("whole-list response: {} KiB of XML", bytes / 1024);
    let (wall, cpu) = timed(5, || drop(black_box(respond_body(&state, &ctx, all_body))));
    println!("request/all over 5 calls: {wall:.1} ms wall, {cpu:.1} ms CPU per call");
    let (wall, cpu) = timed(5, || {
        drop(black_box(services::dispatch(&ctx, &state, json!({}))));
    });
    println!("handler alone over 5 calls: {wall:.1} ms wall, {cpu:.1} ms CPU per call");
    let (wall, cpu) = timed(200, || {
        drop(black_box(respond_body(&state, &ctx, tag_body)))
    });
    println!("request/tag_filter_10 over 200 calls: {wall:.3} ms wall, {cpu:.3} ms CPU per call");
    let (wall, cpu) = timed(2000, || {
        drop(black_box(respond_body(&state, &ctx, &one_body)))
    });
    println!(
        "request/one_id over 2000 calls: {:.1} µs wall, {:.1} µs CPU per call",
        wall * 1000.0,
        cpu * 1000.0
    );
    group.bench_function("all", |b| {
        b.iter(|| black_box(respond_body(&state, &ctx, all_body)))
    });
    group.bench_function("tag_filter_10", |b| {
        b.iter(|| black_box(respond_body(&state, &ctx, tag_body)))
    });
    group.bench_function("one_id", |b| {
        b.iter(|| black_box(respond_body(&state, &ctx, &one_body)))
    });
    group.finish();
}

criterion_group!(benches, describe);
criterion_main!(benches);
