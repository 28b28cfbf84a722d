//! DescribeLoadBalancers over 1,000 load balancers, Classic (`elb`) and ELBv2, each walked
//! page by page (400 per page, AWS's largest: three requests) through the whole request as
//! the server runs it without the socket: form body parsed, input decoded by the query codec,
//! dispatched, output rendered as awsQuery XML (`server::respond`, as `benches/ec2.rs` does).
//!
//! The first load balancer of each kind is made through the API; the other 999 are copies of
//! it under new names put straight into the store, past the per-region quotas (20 Classic, 50
//! ELBv2) that would stop the API.
//!
//! Run with `cargo bench --bench describe_1000`; `cargo test --benches` runs each once. Besides
//! criterion's figures it prints the mean wall and CPU time of a whole walk (the machine may
//! be shared: CPU time is the cost).

mod common;

use common::query::{frozen_region, query_ctx, respond_body, walk_pages};
use common::timed;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use updraft::context::RequestContext;
use updraft::services;
use updraft::state::{AppState, Scope};

const N: usize = 1_000;

fn setup() -> (std::sync::Arc<AppState>, Scope) {
    let (state, scope) = frozen_region();
    let subnets: Vec<String> = state.stores.with(&scope, |s| {
        let mut by_zone: Vec<(String, String)> = s
            .ec2
            .subnets
            .values()
            .filter(|n| n.default_for_az)
            .map(|n| (n.availability_zone.clone(), n.id.clone()))
            .collect();
        by_zone.sort();
        by_zone.into_iter().map(|(_, id)| id).take(2).collect()
    });
    let classic = query_ctx(&scope, "elb", "CreateLoadBalancer");
    services::dispatch(
        &classic,
        &state,
        json!({"LoadBalancerName": "classic-0",
               "Listeners": [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
               "AvailabilityZones": ["us-east-1a", "us-east-1b"]}),
    )
    .expect("classic load balancer");
    let v2 = query_ctx(&scope, "elbv2", "CreateLoadBalancer");
    services::dispatch(&v2, &state, json!({"Name": "alb-0", "Subnets": subnets}))
        .expect("application load balancer");
    state.stores.with(&scope, |s| {
        let first = s.elb.load_balancers[0].clone();
        for i in 1..N {
            let mut lb = first.clone();
            lb.name = format!("classic-{i}");
            lb.dns_name = first.dns_name.replacen("classic-0", &lb.name, 1);
            s.elb.load_balancers.insert(lb.name.clone(), lb);
        }
        let first = s.elbv2.load_balancers[0].clone();
        for i in 1..N {
            let mut lb = first.clone();
            lb.name = format!("alb-{i}");
            lb.arn = first.arn.replacen("/alb-0/", &format!("/{}/", lb.name), 1);
            lb.dns_name = first.dns_name.replacen("alb-0", &lb.name, 1);
            s.elbv2.load_balancers.insert(lb.arn.clone(), lb);
        }
    });
    (state, scope)
}

/// Every page of DescribeLoadBalancers: (pages, bytes, load balancers listed).
fn walk(state: &AppState, ctx: &RequestContext, version: &str) -> (usize, usize, usize) {
    walk_pages("NextMarker", "LoadBalancerName", |marker| {
        let mut body = format!("Action=DescribeLoadBalancers&Version={version}");
        if let Some(m) = marker {
            body.push_str("&Marker=");
            body.push_str(m);
        }
        respond_body(state, ctx, &body)
    })
}

fn describe(c: &mut Criterion) {
    let (state, scope) = setup();
    let kinds = [
        (
            "classic",
            query_ctx(&scope, "elb", "DescribeLoadBalancers"),
            "2012-06-01",
        ),
        (
            "elbv2",
            query_ctx(&scope, "elbv2", "DescribeLoadBalancers"),
            "2015-12-01",
        ),
    ];
    for (name, ctx, version) in &kinds {
        let (pages, bytes, listed) = walk(&state, ctx, version);
        assert_eq!(listed, N, "{name}: every load balancer listed once");
        let (wall, cpu) = timed(10, || {
            black_box(walk(&state, ctx, version));
        });
        println!(
            "{name}: {listed} load balancers in {pages} pages, {} KiB of XML; whole walk over 10 runs: {wall:.2} ms wall, {cpu:.2} ms CPU",
            bytes / 1024
        );
    }
    let mut group = c.benchmark_group("describe_load_balancers_1000");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (name, ctx, version) in &kinds {
        group.bench_function(*name, |b| b.iter(|| black_box(walk(&state, ctx, version))));
    }
    group.finish();
}

criterion_group!(benches, describe);
criterion_main!(benches);
