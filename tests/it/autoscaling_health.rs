//! EC2 status checks in Auto Scaling health, through the pinned aws CLI on a frozen clock: an
//! instance impaired through the admin knob shows `impaired` in DescribeInstanceStatus,
//! publishes `StatusCheckFailed` 1, and once the group's grace period is over its group marks
//! it unhealthy and replaces it with AWS's activity causes.

use serde_json::json;

use crate::autoscaling::{Asg, count_in_service};

fn impair(t: &Asg, id: &str, body: &str) -> (u16, serde_json::Value) {
    let r = t.server.http(
        "POST",
        &format!("/_updraft/instances/{id}/impair"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    (r.status, r.json())
}

#[test]
fn an_impaired_instance_fails_its_status_check_and_is_replaced() {
    let t = Asg::start();
    t.group("sick", 2, 2, 2);
    t.cli(&[
        "autoscaling",
        "update-auto-scaling-group",
        "--auto-scaling-group-name",
        "sick",
        "--health-check-grace-period",
        "300",
    ]);
    t.run_until(180, |s| count_in_service(s, "sick") == 2);
    let ids: Vec<String> = t.server.state.stores.with(&Asg::scope(), |s| {
        s.autoscaling.groups["sick"]
            .instances
            .keys()
            .cloned()
            .collect()
    });
    let (bad, good) = (&ids[0], &ids[1]);
    // Past the first minute, when the checks still say `initializing`.
    t.run_for(60);

    // The knob refuses what it cannot do.
    assert_eq!(
        impair(&t, "i-00000000000000000", r#"{"impaired": true}"#).0,
        404
    );
    assert_eq!(impair(&t, bad, r#"{"broken": 1}"#).0, 400);
    let (status, body) = impair(&t, bad, r#"{"impaired": true}"#);
    assert_eq!(
        (status, body),
        (200, json!({"instance_id": bad, "impaired": true}))
    );
    let impaired_at = t.now();

    let statuses = t.cli(&[
        "ec2",
        "describe-instance-status",
        "--instance-ids",
        bad,
        good,
    ])["InstanceStatuses"]
        .clone();
    let of = |id: &str| {
        statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["InstanceId"] == id)
            .unwrap()
            .clone()
    };
    let sick = of(bad);
    assert_eq!(sick["InstanceStatus"]["Status"], "impaired", "{sick}");
    assert_eq!(sick["InstanceStatus"]["Details"][0]["Status"], "failed");
    assert!(
        sick["InstanceStatus"]["Details"][0]["ImpairedSince"].is_string(),
        "{sick}"
    );
    assert_eq!(sick["SystemStatus"]["Status"], "ok");
    assert_eq!(of(good)["InstanceStatus"]["Status"], "ok");
    let filtered = t.cli(&[
        "ec2",
        "describe-instance-status",
        "--filters",
        "Name=instance-status.status,Values=impaired",
    ]);
    let listed: Vec<&str> = filtered["InstanceStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["InstanceId"].as_str())
        .collect();
    assert_eq!(listed, [bad.as_str()]);

    // Inside the grace period the group keeps it; CloudWatch already sees the failed check.
    t.run_for(150);
    let kept = t.server.state.stores.with(&Asg::scope(), |s| {
        s.autoscaling.groups["sick"]
            .instances
            .get(bad.as_str())
            .is_some_and(|i| i.healthy)
    });
    assert!(kept, "grace period respected");
    let stats = |id: &str| {
        let r = t.cli(&[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "AWS/EC2",
            "--metric-name",
            "StatusCheckFailed",
            "--dimensions",
            &format!("Name=InstanceId,Value={id}"),
            "--start-time",
            &format!("{}", (impaired_at - 600.0) as i64),
            "--end-time",
            &format!("{}", (impaired_at + 600.0) as i64),
            "--period",
            "60",
            "--statistics",
            "Maximum",
        ]);
        r["Datapoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Maximum"].as_f64().unwrap())
            .fold(0.0, f64::max)
    };
    assert_eq!(stats(bad), 1.0);
    assert_eq!(stats(good), 0.0);

    // After the grace period: unhealthy, terminated and replaced.
    t.run_until(400, |s| {
        let g = &s.autoscaling.groups["sick"];
        !g.instances.contains_key(bad.as_str()) && count_in_service(s, "sick") == 2
    });
    let activities = t.activities("sick");
    let terminate = activities
        .iter()
        .find(|a| a["Description"] == format!("Terminating EC2 instance: {bad}"))
        .expect("a terminate activity");
    assert!(
        terminate["Cause"].as_str().unwrap().ends_with(
            "an instance was taken out of service in response to an EC2 instance status checks failure."
        ),
        "{terminate}"
    );
    assert!(
        activities.iter().any(|a| a["Cause"]
            .as_str()
            .unwrap()
            .ends_with("an instance was launched in response to an unhealthy instance needing to be replaced.")),
        "{activities:#?}"
    );
    // A terminated instance has no status check to fail.
    assert_eq!(impair(&t, bad, r#"{"impaired": false}"#).0, 409);
}
