//! Two target-tracking policies on one group, through the pinned aws CLI on a frozen clock:
//! average CPU (target 50) and a customized metric `App/Depth` (target 10). AWS's rule: the
//! group scales in only when every policy is ready to, no lower than any would keep, and
//! scales out to the largest proposal.

use serde_json::json;

use crate::autoscaling::{Asg, count_in_service, desired};

/// Put `App/Depth` = `depth` for `minutes` minutes from now, one datapoint a minute; returns
/// the end of that stretch.
fn feed(t: &Asg, depth: f64, minutes: usize) -> f64 {
    let now = t.now();
    let data: Vec<_> = (0..minutes)
        .map(|k| json!({"MetricName": "Depth", "Value": depth, "Timestamp": now + 60.0 * k as f64}))
        .collect();
    t.cli(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "App",
        "--metric-data",
        &serde_json::Value::Array(data).to_string(),
    ]);
    now + 60.0 * minutes as f64
}

/// The group's desired capacity, read from the store (cheap enough to poll).
fn desired_now(t: &Asg) -> i64 {
    t.server.state.stores.with(&Asg::scope(), |s| {
        s.autoscaling.groups["two"].desired_capacity
    })
}

/// The state of the group's AlarmLow for a policy.
fn low_alarm_state(t: &Asg, policy: &str) -> String {
    let p = t.cli(&[
        "autoscaling",
        "describe-policies",
        "--auto-scaling-group-name",
        "two",
        "--policy-names",
        policy,
    ]);
    let name = p["ScalingPolicies"][0]["Alarms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["AlarmName"].as_str())
        .find(|n| n.contains("-AlarmLow-"))
        .unwrap()
        .to_owned();
    let a = t.cli(&["cloudwatch", "describe-alarms", "--alarm-names", &name]);
    a["MetricAlarms"][0]["StateValue"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn causes(t: &Asg) -> Vec<String> {
    t.activities("two")
        .iter()
        .filter_map(|a| a["Cause"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn two_target_tracking_policies_scale_in_only_together_and_out_to_the_largest() {
    let t = Asg::start();
    t.group("two", 1, 6, 3);
    t.cli(&[
        "autoscaling",
        "update-auto-scaling-group",
        "--auto-scaling-group-name",
        "two",
        "--default-instance-warmup",
        "60",
    ]);
    t.run_until(120, |s| count_in_service(s, "two") == 3);
    t.cli(&[
        "autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "two",
        "--policy-name", "cpu", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-configuration",
        r#"{"PredefinedMetricSpecification":{"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":50}"#,
    ]);
    t.cli(&[
        "autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "two",
        "--policy-name", "depth", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-configuration",
        r#"{"CustomizedMetricSpecification":{"MetricName":"Depth","Namespace":"App","Statistic":"Average"},"TargetValue":10}"#,
    ]);

    // Idle CPU (about 2 %) wants in; the queue sits at its target and does not.
    let end = feed(&t, 10.0, 20);
    t.run_for(20 * 60);
    assert_eq!(low_alarm_state(&t, "cpu"), "ALARM", "{:#?}", causes(&t));
    assert_ne!(low_alarm_state(&t, "depth"), "ALARM");
    assert_eq!(
        desired(&t, "two"),
        3,
        "one policy vetoes scale-in: {:#?}",
        causes(&t)
    );

    // The queue drains to 5: after AlarmLow's 15 minutes both agree. The first step keeps
    // what the queue policy still needs (3 × 5 / 10 → 2), not CPU's 1.
    assert!(t.now() >= end);
    let start = t.now();
    let end = feed(&t, 5.0, 22);
    let scaled_in = t.run_until(21 * 60, |s| {
        s.autoscaling.groups["two"].desired_capacity < 3
    });
    assert!(
        scaled_in - start >= 14.0 * 60.0,
        "scaled in after {} s: {:#?}",
        scaled_in - start,
        causes(&t)
    );
    let first_in = causes(&t)
        .into_iter()
        .find(|c| c.contains("changing the desired capacity from 3 to"))
        .expect("a scale-in");
    assert!(
        first_in.contains("from 3 to 2."),
        "the queue policy's floor: {first_in}"
    );
    t.run_until((end - t.now()) as u32, |s| {
        s.autoscaling.groups["two"].desired_capacity == 1
    });
    t.run_until(300, |s| {
        s.autoscaling.groups["two"].instances.len() == 1 && count_in_service(s, "two") == 1
    });
    // Past the drained stretch, so the next datapoints are the only ones in their minutes.
    t.run_for((end - t.now()).max(0.0) as u32 + 60);
    assert_eq!(desired_now(&t), 1, "{:#?}", causes(&t));

    // Scale-out: CPU at ~90 % proposes 2, the queue at 30 proposes 3; the group goes to 3.
    // A long warm-up keeps the repeats from compounding on a metric that never falls.
    t.cli(&[
        "autoscaling",
        "update-auto-scaling-group",
        "--auto-scaling-group-name",
        "two",
        "--default-instance-warmup",
        "3600",
    ]);
    let id = t.server.state.stores.with(&Asg::scope(), |s| {
        s.autoscaling.groups["two"]
            .instances
            .keys()
            .next()
            .unwrap()
            .clone()
    });
    t.stress(&id, 88.0);
    feed(&t, 30.0, 8);
    t.run_for(8 * 60);
    assert_eq!(desired(&t, "two"), 3, "{:#?}", causes(&t));
    assert!(
        causes(&t).iter().any(|c| c
            .contains("triggered policy depth changing the desired capacity from")
            && c.contains("to 3.")),
        "{:#?}",
        causes(&t)
    );
}
