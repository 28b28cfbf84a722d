//! Typed outputs, the two ways a server can write them, side by side in one run: through a
//! value tree (`serde_json::to_value`, then the protocol's tree codec: the path unconverted
//! operations take) and straight into the protocol's sink (`protocol::output`: the path of
//! typed operations). Payload: CloudWatch `DescribeAlarms` with 1,000 `MetricAlarms`, the
//! largest listing of a service that speaks awsQuery, awsJson 1.0 and rpc-v2-cbor.
//!
//! Run with `cargo bench --bench typed_output` (about 30 s); `cargo test --benches` runs each
//! once. Both paths must give the same bytes: checked before measuring.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use serde::Serialize;
use updraft::protocol::Protocol;
use updraft::protocol::models;
use updraft::protocol::output::{Timestamp, write_output};
use updraft::protocol::render;

const N: usize = 1_000;
const EPOCH: f64 = 1_700_000_000.0;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Dimension {
    name: &'static str,
    value: String,
}

/// A `MetricAlarm`, members in model order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricAlarm {
    alarm_name: String,
    alarm_arn: String,
    alarm_description: &'static str,
    alarm_configuration_updated_timestamp: Timestamp,
    actions_enabled: bool,
    #[serde(rename = "OKActions")]
    ok_actions: Vec<String>,
    alarm_actions: Vec<String>,
    insufficient_data_actions: Vec<String>,
    state_value: &'static str,
    state_reason: &'static str,
    state_updated_timestamp: Timestamp,
    metric_name: &'static str,
    namespace: &'static str,
    statistic: &'static str,
    dimensions: Vec<Dimension>,
    period: i64,
    unit: &'static str,
    evaluation_periods: i64,
    datapoints_to_alarm: i64,
    threshold: f64,
    comparison_operator: &'static str,
    treat_missing_data: &'static str,
    state_transitioned_timestamp: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAlarmsOutput {
    composite_alarms: Vec<()>,
    metric_alarms: Vec<MetricAlarm>,
}

fn output() -> DescribeAlarmsOutput {
    let metric_alarms = (0..N)
        .map(|i| {
            let name = format!("TargetTracking-web-asg-{i:04}-AlarmHigh-{:08x}", 0x5eed_0000 + i);
            MetricAlarm {
                alarm_arn: format!("arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"),
                alarm_name: name,
                alarm_description: "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy.",
                alarm_configuration_updated_timestamp: Timestamp(EPOCH + i as f64 + 0.123),
                actions_enabled: true,
                ok_actions: Vec::new(),
                alarm_actions: vec![format!(
                    "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:{:08x}-1234-4abc-8def-0123456789ab:autoScalingGroupName/web-asg-{i:04}:policyName/cpu50",
                    0x1000_0000 + i
                )],
                insufficient_data_actions: Vec::new(),
                state_value: ["OK", "ALARM", "INSUFFICIENT_DATA"][i % 3],
                state_reason: "Threshold Crossed: 3 datapoints were greater than the threshold (50.0).",
                state_updated_timestamp: Timestamp(EPOCH + i as f64 + 0.456),
                metric_name: "CPUUtilization",
                namespace: "AWS/EC2",
                statistic: "Average",
                dimensions: vec![Dimension {
                    name: "AutoScalingGroupName",
                    value: format!("web-asg-{i:04}"),
                }],
                period: 60,
                unit: "Percent",
                evaluation_periods: 3,
                datapoints_to_alarm: 3,
                threshold: 50.0,
                comparison_operator: "GreaterThanThreshold",
                treat_missing_data: "missing",
                state_transitioned_timestamp: Timestamp(EPOCH + i as f64 + 0.456),
            }
        })
        .collect();
    DescribeAlarmsOutput {
        composite_alarms: Vec::new(),
        metric_alarms,
    }
}

fn typed_output(c: &mut Criterion) {
    let service = models::by_name("cloudwatch").expect("cloudwatch is registered");
    let operation = service
        .operation("DescribeAlarms")
        .expect("DescribeAlarms is modelled");
    let output = output();
    let by_tree = |protocol| {
        let tree = serde_json::to_value(&output).expect("serializes");
        render::output(service, protocol, operation, &tree, "rid").body
    };
    let by_sink = |protocol| {
        render::streamed_output(service, protocol, operation, "rid", |sink| {
            write_output(&output, sink).expect("fits the sink");
            Ok(())
        })
        .expect("renders")
        .body
    };
    let mut g = c.benchmark_group("typed_output");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, protocol) in [
        ("query", Protocol::Query),
        ("json", Protocol::Json),
        ("cbor", Protocol::Cbor),
    ] {
        assert!(by_tree(protocol) == by_sink(protocol), "{name}: same bytes");
        g.bench_function(format!("{name}/tree"), |b| {
            b.iter(|| by_tree(black_box(protocol)))
        });
        g.bench_function(format!("{name}/sink"), |b| {
            b.iter(|| by_sink(black_box(protocol)))
        });
    }
    g.finish();
}

criterion_group!(benches, typed_output);
criterion_main!(benches);
