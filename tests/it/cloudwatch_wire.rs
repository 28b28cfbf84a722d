//! Every CloudWatch operation, with inputs that fill the optional members of its output, in
//! every protocol CloudWatch speaks: the answer the server writes (typed output into the
//! protocol's sink) is byte for byte the one the value tree of the same output renders, so
//! members come in the model's order and scalars have their shape's types. Errors are the same
//! both ways.
//!
//! With `CW_WIRE_DUMP=<dir>` the answers are also written there, one file per step and
//! protocol, to compare two builds' bytes.

use serde_json::{Value, json};

use updraft::Config;
use updraft::context::RequestContext;
use updraft::protocol::{Protocol, models, render};
use updraft::server;
use updraft::services;
use updraft::state::{AppState, Scope};

const NOW: f64 = 1_795_838_400.0;
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:alerts";

fn ctx(operation: &str, protocol: Protocol) -> RequestContext {
    RequestContext {
        request_id: "req-1".into(),
        scope: Scope::new("123456789012", "us-east-1"),
        service: "cloudwatch",
        operation: operation.into(),
        protocol,
        access_key_id: None,
    }
}

/// The steps: every operation, most of them more than once.
fn steps() -> Vec<(&'static str, Value)> {
    let datum = |name: &str, host: &str, at: f64, value: f64| {
        json!({"MetricName": name, "Dimensions": [{"Name": "Host", "Value": host}],
               "Timestamp": at, "Value": value, "Unit": "Percent"})
    };
    let mut data = Vec::new();
    for m in 0..10 {
        let at = NOW - 600.0 + f64::from(m) * 60.0;
        data.push(datum("CPU", "a", at, f64::from(m * 10)));
        data.push(datum("CPU", "b", at, 95.0));
    }
    data.push(
        json!({"MetricName": "Latency", "Timestamp": NOW - 90.0, "Unit": "Milliseconds",
        "StatisticValues": {"SampleCount": 4.0, "Sum": 100.0, "Minimum": 5.0, "Maximum": 60.0}}),
    );
    data.push(
        json!({"MetricName": "Latency", "Timestamp": NOW - 30.0, "Unit": "Milliseconds",
        "Values": [1.0, 2.0, 3.0], "Counts": [1.0, 2.0, 1.0]}),
    );
    let cpu = |host: &str| {
        json!({"Id": "m1", "ReturnData": true, "MetricStat": {"Metric": {"Namespace": "App",
            "MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": host}]},
            "Period": 60, "Stat": "Average", "Unit": "Percent"}})
    };
    let alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high";
    let single = json!({"Namespace": "App", "MetricName": "CPU",
        "Dimensions": [{"Name": "Host", "Value": "a"}], "Stat": "Average"});
    vec![
        (
            "PutMetricData",
            json!({"Namespace": "App", "MetricData": data}),
        ),
        (
            "PutMetricAlarm",
            json!({"AlarmName": "cpu-high", "AlarmDescription": "CPU <high> & \"hot\"",
                "Namespace": "App", "MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "b"}],
                "Statistic": "Average", "Period": 60, "Unit": "Percent", "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2, "Threshold": 80.5, "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "breaching", "AlarmActions": [TOPIC], "OKActions": [TOPIC],
                "Tags": [{"Key": "team", "Value": "web"}]}),
        ),
        (
            "PutMetricAlarm",
            json!({"AlarmName": "p99", "Namespace": "App", "MetricName": "Latency",
                "ExtendedStatistic": "p99", "Period": 60, "EvaluationPeriods": 1, "Threshold": 50.0,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "EvaluateLowSampleCountPercentile": "ignore", "InsufficientDataActions": [TOPIC]}),
        ),
        (
            "PutMetricAlarm",
            json!({"AlarmName": "math", "EvaluationPeriods": 1, "Threshold": 10.0,
                "ComparisonOperator": "LessThanThreshold", "ActionsEnabled": false,
                "Metrics": [
                    {"Id": "e", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "App",
                        "MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}]},
                        "Period": 60, "Stat": "Sum"}},
                    {"Id": "x", "Expression": "e * 2", "Label": "Doubled", "ReturnData": true}]}),
        ),
        (
            "PutMetricAlarm",
            json!({"AlarmName": "band", "EvaluationPeriods": 1, "ThresholdMetricId": "ad1",
                "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
                "Metrics": [cpu("a"), {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)",
                    "Label": "CPU (expected)", "ReturnData": true}]}),
        ),
        (
            "PutCompositeAlarm",
            json!({"AlarmName": "any-hot", "AlarmRule": "ALARM(cpu-high) OR ALARM(p99)",
                "AlarmDescription": "either", "AlarmActions": [TOPIC],
                "ActionsSuppressor": "math", "ActionsSuppressorWaitPeriod": 60,
                "ActionsSuppressorExtensionPeriod": 120}),
        ),
        (
            "SetAlarmState",
            json!({"AlarmName": "cpu-high", "StateValue": "ALARM", "StateReason": "testing",
                "StateReasonData": "{\"why\":\"test\"}"}),
        ),
        (
            "SetAlarmState",
            json!({"AlarmName": "nope", "StateValue": "OK", "StateReason": "x"}),
        ),
        ("DescribeAlarms", json!({})),
        (
            "DescribeAlarms",
            json!({"AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "MaxRecords": 3}),
        ),
        (
            "DescribeAlarms",
            json!({"AlarmTypes": ["CompositeAlarm", "MetricAlarm"], "NextToken": "3"}),
        ),
        ("DescribeAlarms", json!({"ChildrenOfAlarmName": "any-hot"})),
        ("DescribeAlarms", json!({"NextToken": "not a token"})),
        (
            "DescribeAlarmsForMetric",
            json!({"Namespace": "App", "MetricName": "CPU",
                "Dimensions": [{"Name": "Host", "Value": "b"}]}),
        ),
        (
            "DescribeAlarmHistory",
            json!({"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}),
        ),
        (
            "DescribeAlarmHistory",
            json!({"AlarmName": "cpu-high", "MaxRecords": 1, "ScanBy": "TimestampAscending"}),
        ),
        ("DescribeAlarmHistory", json!({"NextToken": "x"})),
        (
            "DisableAlarmActions",
            json!({"AlarmNames": ["cpu-high", "any-hot"]}),
        ),
        ("EnableAlarmActions", json!({"AlarmNames": ["cpu-high"]})),
        (
            "TagResource",
            json!({"ResourceARN": alarm, "Tags": [{"Key": "env", "Value": "prod"}]}),
        ),
        ("ListTagsForResource", json!({"ResourceARN": alarm})),
        (
            "UntagResource",
            json!({"ResourceARN": alarm, "TagKeys": ["team"]}),
        ),
        (
            "ListTagsForResource",
            json!({"ResourceARN": format!("{alarm}-gone")}),
        ),
        (
            "PutDashboard",
            json!({"DashboardName": "main", "DashboardBody": "{\"widgets\":[]}"}),
        ),
        (
            "PutDashboard",
            json!({"DashboardName": "second", "DashboardBody": "{\"widgets\":[{\"type\":\"text\"}]}"}),
        ),
        (
            "PutDashboard",
            json!({"DashboardName": "bad", "DashboardBody": "[]"}),
        ),
        ("GetDashboard", json!({"DashboardName": "main"})),
        ("ListDashboards", json!({})),
        ("ListDashboards", json!({"DashboardNamePrefix": "s"})),
        ("DeleteDashboards", json!({"DashboardNames": ["main"]})),
        ("GetDashboard", json!({"DashboardName": "main"})),
        ("ListMetrics", json!({})),
        (
            "ListMetrics",
            json!({"Namespace": "App", "Dimensions": [{"Name": "Host", "Value": "a"}]}),
        ),
        ("ListMetrics", json!({"NextToken": "1"})),
        (
            "GetMetricStatistics",
            json!({"Namespace": "App", "MetricName": "CPU",
                "Dimensions": [{"Name": "Host", "Value": "a"}], "StartTime": NOW - 900.0,
                "EndTime": NOW, "Period": 60,
                "Statistics": ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]}),
        ),
        (
            "GetMetricStatistics",
            json!({"Namespace": "App", "MetricName": "Latency", "StartTime": NOW - 900.0,
                "EndTime": NOW, "Period": 300, "ExtendedStatistics": ["p50", "p99"]}),
        ),
        (
            "GetMetricData",
            json!({"StartTime": NOW - 900.0, "EndTime": NOW, "MaxDatapoints": 8,
                "MetricDataQueries": [cpu("a"),
                    {"Id": "twice", "Expression": "m1 * 2", "Label": "Twice"},
                    {"Id": "b", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "CPU",
                        "Dimensions": [{"Name": "Host", "Value": "b"}]}, "Period": 60, "Stat": "Maximum"}}]}),
        ),
        (
            "GetMetricData",
            json!({"StartTime": NOW - 900.0, "EndTime": NOW, "NextToken": "8",
                "ScanBy": "TimestampAscending", "MetricDataQueries": [cpu("a")]}),
        ),
        (
            "PutAnomalyDetector",
            json!({"SingleMetricAnomalyDetector": single.clone()}),
        ),
        ("DescribeAnomalyDetectors", json!({})),
        (
            "DeleteAnomalyDetector",
            json!({"SingleMetricAnomalyDetector": single.clone()}),
        ),
        (
            "DeleteAnomalyDetector",
            json!({"SingleMetricAnomalyDetector": single}),
        ),
        ("DeleteAlarms", json!({"AlarmNames": ["cpu-high"]})),
        (
            "DeleteAlarms",
            json!({"AlarmNames": ["any-hot", "cpu-high", "p99"]}),
        ),
        (
            "DescribeAlarms",
            json!({"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}),
        ),
    ]
}

/// Run every step on a fresh store per protocol: the server's answer against the tree's.
#[test]
fn every_operation_writes_the_bytes_its_tree_renders() {
    let service = models::by_name("cloudwatch").expect("cloudwatch is registered");
    let dump = std::env::var_os("CW_WIRE_DUMP").map(std::path::PathBuf::from);
    for protocol in [Protocol::Query, Protocol::Json, Protocol::Cbor] {
        let config = Config {
            time_scale: 0.0,
            ..Config::default()
        };
        // Two stores in step: one answers through the server, one through the tree.
        let served = AppState::deterministic(config.clone(), NOW);
        let treed = AppState::deterministic(config, NOW);
        for (n, (op, input)) in steps().into_iter().enumerate() {
            let ctx = ctx(op, protocol);
            let operation = service.operation(op).expect("modelled");
            let answer =
                server::respond(&served, &ctx, service, protocol, operation, input.clone());
            let tree = services::dispatch(&ctx, &treed, input)
                .map(|value| render::output(service, protocol, operation, &value, &ctx.request_id));
            let body = match (answer, tree) {
                (Ok(a), Ok(t)) => {
                    assert_eq!(
                        String::from_utf8_lossy(&a.body),
                        String::from_utf8_lossy(&t.body),
                        "step {n} {op} {protocol:?}"
                    );
                    assert_eq!(a.body, t.body, "step {n} {op} {protocol:?}");
                    assert_eq!(a.status, t.status, "step {n} {op} {protocol:?}");
                    a.body
                }
                (Err(a), Err(t)) => {
                    assert_eq!(
                        (&a.code, &a.message, a.status),
                        (&t.code, &t.message, t.status),
                        "step {n} {op} {protocol:?}"
                    );
                    format!("{} {} {}", a.status, a.code, a.message).into_bytes()
                }
                (a, t) => panic!("step {n} {op} {protocol:?}: {:?} vs {:?}", a.err(), t.err()),
            };
            if let Some(dir) = &dump {
                std::fs::create_dir_all(dir).expect("dump dir");
                let file = dir.join(format!("{n:02}-{op}-{protocol:?}.bin"));
                std::fs::write(file, body).expect("dump");
            }
        }
    }
}
