//! The extended statistics besides percentiles (trimmed mean, IQM, winsorized mean, trimmed
//! count, percentile rank) through the aws CLI on a frozen clock.

use serde_json::json;

use crate::cloudwatch::frozen_server;

#[test]
fn trimmed_statistics_through_the_cli() {
    let server = frozen_server();
    let now = server.http("GET", "/_updraft/clock", &[], b"").json()["epoch_seconds"]
        .as_f64()
        .expect("clock");
    let minute = (now / 60.0).floor() * 60.0 - 120.0;
    let stamp = |t: f64| format!("{}", t as i64);
    let values: Vec<String> = (1..=10).map(|v| v.to_string()).collect();
    let data = format!(
        "MetricName=lat,Timestamp={},Values=[{}]",
        stamp(minute + 10.0),
        values.join(",")
    );
    let put = server.aws(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "Trim",
        "--metric-data",
        &data,
    ]);
    assert!(put.ok, "{}", put.stderr);
    let got = server.aws(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "Trim",
        "--metric-name",
        "lat",
        "--start-time",
        &stamp(minute),
        "--end-time",
        &stamp(minute + 60.0),
        "--period",
        "60",
        "--extended-statistics",
        "tm90",
        "IQM",
        "TM(2:5)",
        "wm80",
        "tc90",
        "PR(:3)",
    ]);
    assert!(got.ok, "{}", got.stderr);
    let point = &got.json()["Datapoints"][0]["ExtendedStatistics"];
    assert_eq!(
        *point,
        json!({"tm90": 5.0, "IQM": 5.5, "TM(2:5)": 4.0, "wm80": 5.2, "tc90": 9.0, "PR(:3)": 30.0}),
        "{point}"
    );
    let bad = server.aws(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "Trim",
        "--metric-name",
        "lat",
        "--start-time",
        &stamp(minute),
        "--end-time",
        &stamp(minute + 60.0),
        "--period",
        "60",
        "--extended-statistics",
        "TM(10%:90)",
    ]);
    assert_eq!(bad.error_code(), "InvalidParameterValue");
    // Alarms take them too.
    let alarm = server.aws(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "trimmed",
        "--namespace",
        "Trim",
        "--metric-name",
        "lat",
        "--extended-statistic",
        "tm90",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "4",
        "--comparison-operator",
        "GreaterThanThreshold",
    ]);
    assert!(alarm.ok, "{}", alarm.stderr);
}
