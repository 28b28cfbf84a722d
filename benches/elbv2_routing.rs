//! The ALB rule matcher on every proxied request: `select_rule` over a listener with 100 rules
//! (AWS's default quota per load balancer), each with a host-header and a path-pattern
//! condition using wildcards.
//! - `select_rule/first`: the request matches the first rule by priority;
//! - `select_rule/default`: no rule matches, every condition of every rule is evaluated and the
//!   default rule answers (the worst case; target < 50 µs so routing stays far below the
//!   proxy's < 1 ms added latency budget).
//!
//! Run with `cargo bench --bench elbv2_routing`; `cargo test --benches` runs each once.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use updraft::services::elbv2::actions::{Condition, ValuesConfig};
use updraft::services::elbv2::routing::{RequestView, select_rule};
use updraft::services::elbv2::store::Rule;

fn condition(field: &str, values: &[String]) -> Condition {
    let cfg = Some(ValuesConfig {
        values: values.to_vec(),
        regex_values: None,
    });
    Condition {
        field: Some(field.into()),
        values: None,
        host_header_config: if field == "host-header" {
            cfg.clone()
        } else {
            None
        },
        path_pattern_config: if field == "path-pattern" { cfg } else { None },
        http_header_config: None,
        query_string_config: None,
        http_request_method_config: None,
        source_ip_config: None,
        regex_values: None,
    }
}

fn rules() -> Vec<Rule> {
    let mut rules: Vec<Rule> = (1..=100u32)
        .map(|i| Rule {
            arn: format!("rule-{i}"),
            listener_arn: "l".into(),
            priority: Some(i),
            conditions: vec![
                condition("host-header", &[format!("svc{i}.*.example.com")]),
                condition(
                    "path-pattern",
                    &[format!("/api/v{i}/*"), format!("/static/{i}/*.js")],
                ),
            ],
            actions: Vec::new(),
        })
        .collect();
    rules.push(Rule {
        arn: "default".into(),
        listener_arn: "l".into(),
        priority: None,
        conditions: Vec::new(),
        actions: Vec::new(),
    });
    rules
}

fn request<'a>(host: &'a str, path: &'a str) -> RequestView<'a> {
    RequestView {
        method: "GET",
        host,
        path,
        ..RequestView::default()
    }
}

fn bench(c: &mut Criterion) {
    let owned = rules();
    let rules: Vec<&Rule> = owned.iter().collect();
    let first = request("svc1.eu.example.com", "/api/v1/users/42");
    let none = request("www.example.org", "/index.html");
    assert_eq!(
        select_rule(&rules, &first).map(|r| r.arn.as_str()),
        Some("rule-1")
    );
    assert_eq!(
        select_rule(&rules, &none).map(|r| r.arn.as_str()),
        Some("default")
    );
    let mut group = c.benchmark_group("select_rule");
    group.bench_function("first", |b| {
        b.iter(|| select_rule(black_box(&rules), black_box(&first)))
    });
    group.bench_function("default", |b| {
        b.iter(|| select_rule(black_box(&rules), black_box(&none)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
