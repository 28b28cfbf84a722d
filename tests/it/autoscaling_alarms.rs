//! An alarm that stays in ALARM invokes its Auto Scaling policy again at every evaluation, as
//! AWS does: with no cooldown a +1 simple policy adds one instance a minute until the group's
//! maximum, and each step is an activity whose Cause names the alarm. Driven by the pinned aws
//! CLI on a frozen clock; the metric is a custom one put ahead of time.

use serde_json::json;

use crate::autoscaling::{Asg, desired};

#[test]
fn a_lasting_alarm_invokes_its_policy_every_minute_until_the_maximum() {
    let t = Asg::start();
    t.group("busy", 1, 4, 1);
    t.run_until(60, |s| crate::autoscaling::count_in_service(s, "busy") == 1);
    let arn = t.cli(&[
        "autoscaling",
        "put-scaling-policy",
        "--auto-scaling-group-name",
        "busy",
        "--policy-name",
        "add-one",
        "--adjustment-type",
        "ChangeInCapacity",
        "--scaling-adjustment",
        "1",
        "--cooldown",
        "0",
    ])["PolicyARN"]
        .as_str()
        .unwrap()
        .to_owned();
    // A busy metric for the next 15 minutes, one datapoint a minute.
    let now = t.now();
    let data: Vec<_> = (0..15)
        .map(|k| json!({"MetricName": "Load", "Value": 100.0, "Timestamp": now + 60.0 * k as f64}))
        .collect();
    t.cli(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "App",
        "--metric-data",
        &serde_json::Value::Array(data).to_string(),
    ]);
    t.cli(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "load-high",
        "--namespace",
        "App",
        "--metric-name",
        "Load",
        "--statistic",
        "Average",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "50",
        "--comparison-operator",
        "GreaterThanOrEqualToThreshold",
        "--alarm-actions",
        &arn,
    ]);
    // Capacity climbs one a minute: 1 → 4 takes three invocations (the change and two
    // repeats); the repeats after that are quiet no-ops at the maximum.
    t.run_until(600, |s| {
        s.autoscaling
            .groups
            .get("busy")
            .is_some_and(|g| g.desired_capacity == 4)
    });
    t.run_for(300);
    assert_eq!(desired(&t, "busy"), 4);
    let from_alarm: Vec<String> = t
        .activities("busy")
        .iter()
        .filter_map(|a| a["Cause"].as_str())
        .filter(|c| c.contains("a monitor alarm load-high in state ALARM triggered policy add-one"))
        .map(str::to_owned)
        .collect();
    assert_eq!(from_alarm.len(), 3, "{from_alarm:#?}");
    for (i, step) in ["from 3 to 4", "from 2 to 3", "from 1 to 2"]
        .iter()
        .enumerate()
    {
        assert!(
            from_alarm[i].contains(&format!("changing the desired capacity {step}")),
            "{from_alarm:#?}"
        );
    }
    // One ALARM state change in the history, one Action item for it: repeats are not logged.
    let history = t.cli(&[
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "load-high",
        "--history-item-type",
        "Action",
    ]);
    let items = history["AlarmHistoryItems"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert!(
        items[0]["HistorySummary"]
            .as_str()
            .unwrap()
            .starts_with("Successfully executed action"),
        "{items:#?}"
    );
}
