//! The seed chapter (ch. 19, Auto Scaling, of the 2014 Korean book
//! "아마존 웹 서비스를 다루는 기술" by Lee Jae-hong), driven by the pinned aws CLI on a frozen
//! clock: a group of 1–3 with +1/−1 simple policies and CPU alarms at ≥ 80 % / ≤ 5 % over one
//! minute. Stressing the one instance scales the group to 2 within an alarm period plus boot
//! time; the average then sits between the thresholds and the group holds at 2; clearing the
//! stress brings it back to 1 after the cooldown; the activities tell the story in AWS's
//! words. Run once with a launch configuration and once with a launch template.

use serde_json::{Value, json};

use crate::autoscaling::{Asg, count_in_service, desired};

const GROUP: &str = "ExampleAutoScalingGroup";

fn chapter(with_template: bool) {
    let t = Asg::start();
    let ami = t.ami();
    let subnets = t.default_subnets();
    if with_template {
        let data =
            json!({"ImageId": ami, "InstanceType": "t3.micro", "Monitoring": {"Enabled": true}});
        t.cli(&[
            "ec2",
            "create-launch-template",
            "--launch-template-name",
            "ExampleAutoScalingConfig",
            "--launch-template-data",
            &data.to_string(),
        ]);
        t.cli(&[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            GROUP,
            "--launch-template",
            "LaunchTemplateName=ExampleAutoScalingConfig,Version=$Latest",
            "--min-size",
            "1",
            "--max-size",
            "3",
            "--desired-capacity",
            "1",
            "--vpc-zone-identifier",
            &subnets.join(","),
            "--health-check-grace-period",
            "300",
        ]);
    } else {
        t.cli(&[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "ExampleAutoScalingConfig",
            "--image-id",
            &ami,
            "--instance-type",
            "t3.micro",
            "--instance-monitoring",
            "Enabled=true",
        ]);
        t.cli(&[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            GROUP,
            "--launch-configuration-name",
            "ExampleAutoScalingConfig",
            "--min-size",
            "1",
            "--max-size",
            "3",
            "--desired-capacity",
            "1",
            "--vpc-zone-identifier",
            &subnets.join(","),
            "--health-check-grace-period",
            "300",
        ]);
    }
    let up = t.cli(&[
        "autoscaling",
        "put-scaling-policy",
        "--auto-scaling-group-name",
        GROUP,
        "--policy-name",
        "Increase Group Size",
        "--adjustment-type",
        "ChangeInCapacity",
        "--scaling-adjustment",
        "1",
        "--cooldown",
        "300",
    ])["PolicyARN"]
        .as_str()
        .unwrap()
        .to_owned();
    let down = t.cli(&[
        "autoscaling",
        "put-scaling-policy",
        "--auto-scaling-group-name",
        GROUP,
        "--policy-name",
        "Decrease Group Size",
        "--adjustment-type",
        "ChangeInCapacity",
        "--scaling-adjustment",
        "-1",
        "--cooldown",
        "300",
    ])["PolicyARN"]
        .as_str()
        .unwrap()
        .to_owned();
    for (name, op, threshold, arn) in [
        (
            "AutoScaling-Add-Alarm",
            "GreaterThanOrEqualToThreshold",
            "80",
            &up,
        ),
        (
            "AutoScaling-Remove-Alarm",
            "LessThanOrEqualToThreshold",
            "5",
            &down,
        ),
    ] {
        t.cli(&[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            name,
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
            threshold,
            "--comparison-operator",
            op,
            "--dimensions",
            &format!("Name=AutoScalingGroupName,Value={GROUP}"),
            "--alarm-actions",
            arn,
        ]);
    }
    // The first instance launches and boots.
    t.run_until(120, |s| count_in_service(s, GROUP) == 1);
    let groups = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        GROUP,
    ]);
    let g = &groups["AutoScalingGroups"][0];
    let first = g["Instances"][0]["InstanceId"].as_str().unwrap().to_owned();
    assert_eq!(g["Instances"][0]["LifecycleState"], "InService", "{g}");
    assert_eq!(g["Instances"][0]["HealthStatus"], "Healthy", "{g}");
    let tags = t.cli(&[
        "ec2",
        "describe-tags",
        "--filters",
        &format!("Name=resource-id,Values={first}"),
    ]);
    assert!(
        tags["Tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["Key"] == "aws:autoscaling:groupName" && x["Value"] == GROUP),
        "{tags}"
    );
    // Idle: the Remove alarm sits in ALARM and re-invokes the decrease policy at min — a
    // quiet no-op (no activity).
    t.run_for(180);
    assert_eq!(desired(&t, GROUP), 1);
    assert_eq!(t.activities(GROUP).len(), 1);

    // Stress: within an alarm period (plus evaluation) the group goes to 2, and the new
    // instance is InService after its boot.
    let stressed_at = t.now();
    t.stress(&first, 100.0);
    let reached = t.run_until(300, |s| count_in_service(s, GROUP) == 2);
    assert!(
        reached - stressed_at <= 180.0,
        "scaled out after {} s",
        reached - stressed_at
    );
    // The average now sits near 50 %: the group holds at 2 (and never reaches max 3).
    t.run_for(600);
    assert_eq!(desired(&t, GROUP), 2);
    t.state_check(|s| assert_eq!(count_in_service(s, GROUP), 2));

    // Clear the stress: after the cooldown the decrease policy takes the group back to 1.
    t.stress(&first, 0.0);
    t.run_until(900, |s| {
        s.autoscaling.groups[GROUP].instances.len() == 1 && count_in_service(s, GROUP) == 1
    });
    assert_eq!(desired(&t, GROUP), 1);

    let acts = t.activities(GROUP);
    let text: Vec<String> = acts
        .iter()
        .map(|a| {
            format!(
                "{} | {} | {}",
                a["StatusCode"], a["Description"], a["Cause"]
            )
        })
        .collect();
    assert_eq!(acts.len(), 3, "{text:#?}");
    // Newest first: terminate, launch, launch.
    assert!(
        acts.iter()
            .all(|a| a["StatusCode"] == "Successful" && a["Progress"] == 100),
        "{text:#?}"
    );
    let (term, out, create) = (&acts[0], &acts[1], &acts[2]);
    let cause = |a: &Value| a["Cause"].as_str().unwrap().to_owned();
    assert!(
        create["Description"]
            .as_str()
            .unwrap()
            .starts_with("Launching a new EC2 instance: i-")
    );
    assert!(cause(create).contains("a user request created an AutoScalingGroup changing the desired capacity from 0 to 1.  At "), "{text:#?}");
    assert!(cause(create).ends_with("an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 1."), "{text:#?}");
    assert!(cause(out).contains("a monitor alarm AutoScaling-Add-Alarm in state ALARM triggered policy Increase Group Size changing the desired capacity from 1 to 2.  At "), "{text:#?}");
    assert!(
        cause(out).ends_with("increasing the capacity from 1 to 2."),
        "{text:#?}"
    );
    assert!(
        term["Description"]
            .as_str()
            .unwrap()
            .starts_with("Terminating EC2 instance: i-")
    );
    assert!(cause(term).contains("a monitor alarm AutoScaling-Remove-Alarm in state ALARM triggered policy Decrease Group Size changing the desired capacity from 2 to 1."), "{text:#?}");
    assert!(cause(term).contains("an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from 2 to 1.  At "), "{text:#?}");
    assert!(
        cause(term).ends_with("was selected for termination."),
        "{text:#?}"
    );
    let details: Value = serde_json::from_str(out["Details"].as_str().unwrap()).unwrap();
    assert!(
        details["Subnet ID"]
            .as_str()
            .unwrap()
            .starts_with("subnet-"),
        "{details}"
    );
    assert!(details["Availability Zone"].is_string(), "{details}");
    // The scale-out happened once the cooldown allowed; the scale-in waited for it.
    let started = |a: &Value| a["StartTime"].as_str().unwrap().to_owned();
    assert!(started(term) > started(out));
    // The alarm history shows the policy action as executed.
    let hist = t.cli(&[
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "AutoScaling-Add-Alarm",
        "--history-item-type",
        "Action",
    ]);
    let summaries: Vec<&str> = hist["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["HistorySummary"].as_str())
        .collect();
    assert!(
        summaries
            .iter()
            .any(|s| *s == format!("Successfully executed action {up}")),
        "{summaries:?}"
    );
}

#[test]
fn chapter_with_a_launch_configuration() {
    chapter(false);
}

#[test]
fn chapter_with_a_launch_template() {
    chapter(true);
}

/// A target-tracking group at 50 % CPU under a synthetic load of 140 "CPU percent" spread
/// over its in-service instances: 100 % on one → 2 → 70 % each → 3 → about 47 % each, where
/// it stays (above AlarmLow's 35 %).
#[test]
fn target_tracking_converges_on_fifty_percent() {
    let t = Asg::start();
    t.group("tt", 1, 6, 1);
    t.cli(&[
        "autoscaling",
        "update-auto-scaling-group",
        "--auto-scaling-group-name",
        "tt",
        "--default-instance-warmup",
        "60",
    ]);
    t.cli(&[
        "autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "tt",
        "--policy-name", "cpu50", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-configuration",
        r#"{"PredefinedMetricSpecification":{"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":50}"#,
    ]);
    t.run_until(120, |s| count_in_service(s, "tt") == 1);
    let spread = |t: &Asg| {
        let ids: Vec<String> = t.server.state.stores.with(&Asg::scope(), |s| {
            s.autoscaling.groups["tt"]
                .instances
                .values()
                .filter(|i| {
                    i.lifecycle_state
                        == updraft::services::autoscaling::store::LifecycleState::InService
                })
                .map(|i| i.id.clone())
                .collect()
        });
        for id in &ids {
            t.stress(id, (140.0 / ids.len() as f64).min(100.0));
        }
    };
    let mut reached = None;
    for _ in 0..(40 * 60 / 30) {
        spread(&t);
        t.run_for(30);
        let n = t
            .server
            .state
            .stores
            .with(&Asg::scope(), |s| count_in_service(s, "tt"));
        if n == 3 && reached.is_none() {
            reached = Some(t.now());
        }
        if let Some(at) = reached
            && t.now() - at >= 20.0 * 60.0
        {
            break;
        }
    }
    assert!(
        reached.is_some(),
        "never reached 3: {:#?} {:#?}",
        t.activities("tt"),
        t.cli(&[
            "cloudwatch",
            "describe-alarms",
            "--alarm-name-prefix",
            "TargetTracking-tt"
        ])
    );
    // Held at 3 for 20 minutes (longer than AlarmLow's 15), never overshooting.
    assert_eq!(desired(&t, "tt"), 3);
    let causes: Vec<String> = t
        .activities("tt")
        .iter()
        .map(|a| a["Cause"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(causes.len(), 3, "{causes:#?}");
    assert!(
        causes[0].contains(
            "in state ALARM triggered policy cpu50 changing the desired capacity from 2 to 3."
        ),
        "{causes:#?}"
    );
    assert!(
        causes[1].contains("a monitor alarm TargetTracking-tt-AlarmHigh-"),
        "{causes:#?}"
    );
    assert!(
        causes[1].contains("triggered policy cpu50 changing the desired capacity from 1 to 2."),
        "{causes:#?}"
    );
}
