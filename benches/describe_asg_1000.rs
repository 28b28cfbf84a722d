//! DescribeAutoScalingGroups over 1,000 Auto Scaling groups, walked page by page (100 per
//! page, the largest `MaxRecords`: ten requests) through the whole request as the server runs
//! it without the socket: input decoded by the query codec, dispatched, output rendered as
//! awsQuery XML (`server::respond`, as `benches/describe_1000.rs` does).
//!
//! The launch configuration and the 1,000 groups are made through the API (dispatch), each
//! group in three zones with a propagated tag and no instances (desired capacity 0; no
//! controller runs).
//!
//! Run with `cargo bench --bench describe_asg_1000`; `cargo test --benches` runs it once.
//! Besides criterion's figures it prints the mean wall and CPU time of a whole walk.

mod common;

use common::query::{frozen_region, query_ctx, respond_form, walk_pages};
use common::timed;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use updraft::context::RequestContext;
use updraft::services;
use updraft::state::{AppState, Scope};

const N: usize = 1_000;

fn ctx(scope: &Scope, operation: &str) -> RequestContext {
    query_ctx(scope, "autoscaling", operation)
}

fn setup() -> (std::sync::Arc<AppState>, Scope) {
    let (state, scope) = frozen_region();
    let ami = updraft::services::ec2::images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    services::dispatch(
        &ctx(&scope, "CreateLaunchConfiguration"),
        &state,
        json!({"LaunchConfigurationName": "lc", "ImageId": ami, "InstanceType": "t3.micro"}),
    )
    .expect("launch configuration");
    let create = ctx(&scope, "CreateAutoScalingGroup");
    for n in 0..N {
        services::dispatch(
            &create,
            &state,
            json!({"AutoScalingGroupName": format!("g{n:04}"), "LaunchConfigurationName": "lc",
                   "MinSize": 0, "MaxSize": 10, "DesiredCapacity": 0,
                   "AvailabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"],
                   "Tags": [{"Key": "team", "Value": "bench", "PropagateAtLaunch": true}]}),
        )
        .expect("group");
    }
    (state, scope)
}

/// Every page of DescribeAutoScalingGroups: (pages, bytes, groups listed).
fn walk(state: &AppState, ctx: &RequestContext) -> (usize, usize, usize) {
    walk_pages("NextToken", "AutoScalingGroupName", |token| {
        let mut form = vec![
            ("Action".to_owned(), "DescribeAutoScalingGroups".to_owned()),
            ("Version".to_owned(), "2011-01-01".to_owned()),
            ("MaxRecords".to_owned(), "100".to_owned()),
        ];
        if let Some(t) = token {
            form.push(("NextToken".to_owned(), t.to_owned()));
        }
        respond_form(state, ctx, &form)
    })
}

fn describe(c: &mut Criterion) {
    let (state, scope) = setup();
    let ctx = ctx(&scope, "DescribeAutoScalingGroups");
    let (pages, bytes, listed) = walk(&state, &ctx);
    assert_eq!(listed, N, "every group listed once");
    let (wall, cpu) = timed(10, || {
        black_box(walk(&state, &ctx));
    });
    println!(
        "autoscaling: {listed} groups in {pages} pages, {} KiB of XML; whole walk over 10 runs: {wall:.2} ms wall, {cpu:.2} ms CPU",
        bytes / 1024
    );
    let mut group = c.benchmark_group("describe_auto_scaling_groups_1000");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("query", |b| b.iter(|| black_box(walk(&state, &ctx))));
    group.finish();
}

criterion_group!(benches, describe);
criterion_main!(benches);
