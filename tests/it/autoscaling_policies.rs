//! Scaling policies through the pinned aws CLI on a frozen clock: put, describe, execute and
//! delete, with the alarms a target tracking policy owns.

use serde_json::json;

use crate::autoscaling::{Asg, count_in_service, desired};

#[test]
fn policies_put_describe_execute_and_delete() {
    let t = Asg::start();
    t.group("p", 1, 5, 1);
    let arn = t.cli(&[
        "autoscaling",
        "put-scaling-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "pct",
        "--adjustment-type",
        "PercentChangeInCapacity",
        "--scaling-adjustment",
        "50",
        "--min-adjustment-magnitude",
        "2",
    ])["PolicyARN"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.starts_with("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:")
            && arn.ends_with(":autoScalingGroupName/p:policyName/pct"),
        "{arn}"
    );
    t.cli(&[
        "autoscaling",
        "execute-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "pct",
    ]);
    assert_eq!(desired(&t, "p"), 3);
    t.run_until(120, |s| count_in_service(s, "p") == 3);
    let (code, msg) = t.cli_err(&[
        "autoscaling",
        "execute-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "pct",
        "--honor-cooldown",
    ]);
    assert_eq!(code, "ScalingActivityInProgress");
    assert!(
        msg.ends_with("is in progress and blocks this action"),
        "{msg}"
    );
    // Step policy: MetricValue/BreachThreshold required; steps relative to the threshold.
    t.cli(&[
        "autoscaling",
        "put-scaling-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "step",
        "--policy-type",
        "StepScaling",
        "--adjustment-type",
        "ChangeInCapacity",
        "--estimated-instance-warmup",
        "0",
        "--step-adjustments",
        "MetricIntervalLowerBound=0,MetricIntervalUpperBound=10,ScalingAdjustment=0",
        "MetricIntervalLowerBound=10,ScalingAdjustment=2",
    ]);
    let (code, _) = t.cli_err(&[
        "autoscaling",
        "execute-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "step",
    ]);
    assert_eq!(code, "ValidationError");
    t.cli(&[
        "autoscaling",
        "execute-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "step",
        "--metric-value",
        "75",
        "--breach-threshold",
        "60",
    ]);
    assert_eq!(desired(&t, "p"), 5);
    // Target tracking: two alarms named as AWS names them, gone with the policy.
    let tt = t.cli(&["autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "p", "--policy-name", "cpu50", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-configuration", r#"{"PredefinedMetricSpecification":{"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":50}"#]);
    let alarms: Vec<String> = tt["Alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AlarmName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(alarms.len(), 2, "{tt}");
    assert!(
        alarms[0].starts_with("TargetTracking-p-AlarmHigh-")
            && alarms[1].starts_with("TargetTracking-p-AlarmLow-"),
        "{alarms:?}"
    );
    let high = t.cli(&["cloudwatch", "describe-alarms", "--alarm-names", &alarms[0]]);
    let h = &high["MetricAlarms"][0];
    assert_eq!(
        (
            h["Period"].as_i64(),
            h["EvaluationPeriods"].as_i64(),
            h["Threshold"].as_f64(),
            h["ComparisonOperator"].as_str()
        ),
        (Some(60), Some(3), Some(50.0), Some("GreaterThanThreshold")),
        "{h}"
    );
    assert_eq!(
        h["AlarmDescription"].as_str().unwrap(),
        format!(
            "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {}.",
            tt["PolicyARN"].as_str().unwrap()
        )
    );
    let d = t.cli(&[
        "autoscaling",
        "describe-policies",
        "--auto-scaling-group-name",
        "p",
    ]);
    assert_eq!(d["ScalingPolicies"].as_array().unwrap().len(), 3);
    t.cli(&[
        "autoscaling",
        "delete-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "cpu50",
    ]);
    let left = t.cli(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-name-prefix",
        "TargetTracking-p-",
    ]);
    assert!(
        left["MetricAlarms"].as_array().unwrap().is_empty(),
        "{left}"
    );
    // A simple policy's own alarm stays when the policy goes; its action does not.
    t.cli(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "mine",
        "--namespace",
        "AWS/EC2",
        "--metric-name",
        "CPUUtilization",
        "--statistic",
        "Average",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "80",
        "--comparison-operator",
        "GreaterThanThreshold",
        "--alarm-actions",
        &arn,
    ]);
    t.cli(&[
        "autoscaling",
        "delete-policy",
        "--auto-scaling-group-name",
        "p",
        "--policy-name",
        "pct",
    ]);
    let mine = t.cli(&["cloudwatch", "describe-alarms", "--alarm-names", "mine"]);
    assert_eq!(mine["MetricAlarms"][0]["AlarmActions"], json!([]));
}
