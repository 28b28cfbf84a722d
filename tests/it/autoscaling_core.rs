//! Auto Scaling through the pinned aws CLI: validation texts, groups, tags, instances and the
//! reconciler on a frozen clock (policies are in `autoscaling_policies.rs`).

use serde_json::json;

use crate::autoscaling::{Asg, count_in_service, desired};

#[test]
fn capacity_validation_and_name_errors_use_awss_texts() {
    let t = Asg::start();
    let ami = t.ami();
    t.cli(&[
        "autoscaling",
        "create-launch-configuration",
        "--launch-configuration-name",
        "lc",
        "--image-id",
        &ami,
        "--instance-type",
        "t3.micro",
    ]);
    let (code, msg) = t.cli_err(&[
        "autoscaling",
        "create-launch-configuration",
        "--launch-configuration-name",
        "lc",
        "--image-id",
        &ami,
        "--instance-type",
        "t3.micro",
    ]);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "AlreadyExists",
            "Launch Configuration by this name already exists - A launch configuration already exists with the name lc"
        )
    );
    let base = [
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "g",
        "--launch-configuration-name",
        "lc",
        "--availability-zones",
        "us-east-1a",
    ];
    let with = |extra: &[&'static str]| [&base[..], extra].concat();
    let (code, msg) = t.cli_err(&with(&["--min-size", "5", "--max-size", "3"]));
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ValidationError",
            "Max bound, 3, must be greater than or equal to min bound, 5"
        )
    );
    let (_, msg) = t.cli_err(&with(&[
        "--min-size",
        "1",
        "--max-size",
        "4",
        "--desired-capacity",
        "9",
    ]));
    assert_eq!(
        msg,
        "Desired capacity:9 must be between the specified min size:1 and max size:4"
    );
    let (_, msg) = t.cli_err(&[
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "g",
        "--launch-configuration-name",
        "nope",
        "--availability-zones",
        "us-east-1a",
        "--min-size",
        "0",
        "--max-size",
        "1",
    ]);
    assert_eq!(
        msg,
        "Launch configuration name not found - Launch configuration nope not found"
    );
    let (_, msg) = t.cli_err(&[
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "g",
        "--launch-template",
        "LaunchTemplateName=missing",
        "--availability-zones",
        "us-east-1a",
        "--min-size",
        "0",
        "--max-size",
        "1",
    ]);
    assert!(
        msg.starts_with("You must use a valid fully-formed launch template. "),
        "{msg}"
    );
    t.cli(&with(&["--min-size", "0", "--max-size", "2"]));
    let (code, msg) = t.cli_err(&with(&["--min-size", "0", "--max-size", "2"]));
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "AlreadyExists",
            "AutoScalingGroup by this name already exists - A group with the name g already exists"
        )
    );
    let g = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        "g",
    ]);
    let g = &g["AutoScalingGroups"][0];
    assert_eq!(
        (
            g["DesiredCapacity"].as_i64(),
            g["DefaultCooldown"].as_i64(),
            g["HealthCheckGracePeriod"].as_i64()
        ),
        (Some(0), Some(300), Some(0)),
        "{g}"
    );
    assert_eq!(
        (
            g["HealthCheckType"].as_str(),
            g["TerminationPolicies"].clone()
        ),
        (Some("EC2"), json!(["Default"]))
    );
    let (_, msg) = t.cli_err(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "g",
        "--desired-capacity",
        "3",
    ]);
    assert_eq!(
        msg,
        "New SetDesiredCapacity value 3 is above max value 2 for the AutoScalingGroup."
    );
    let (_, msg) = t.cli_err(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "nope",
        "--desired-capacity",
        "1",
    ]);
    assert_eq!(
        msg,
        "AutoScalingGroup name not found - AutoScalingGroup nope not found"
    );
    let (code, msg) = t.cli_err(&[
        "autoscaling",
        "delete-launch-configuration",
        "--launch-configuration-name",
        "lc",
    ]);
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ResourceInUse",
            "Cannot delete launch configuration lc because it is attached to AutoScalingGroup g"
        )
    );
    let (_, msg) = t.cli_err(&[
        "autoscaling",
        "terminate-instance-in-auto-scaling-group",
        "--instance-id",
        "i-0123456789abcdef0",
        "--should-decrement-desired-capacity",
    ]);
    assert_eq!(
        msg,
        "Instance Id not found - No managed instance found for instance ID: i-0123456789abcdef0"
    );
    // Nothing half-made: the failed creates left one group and one configuration.
    let all = t.cli(&["autoscaling", "describe-auto-scaling-groups"]);
    assert_eq!(all["AutoScalingGroups"].as_array().unwrap().len(), 1);
}

#[test]
fn groups_converge_spread_over_zones_and_delete_as_aws_does() {
    let t = Asg::start();
    t.group("web", 0, 4, 3);
    t.run_until(120, |s| count_in_service(s, "web") == 3);
    let g = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        "web",
    ]);
    let zones: Vec<&str> = g["AutoScalingGroups"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["AvailabilityZone"].as_str().unwrap())
        .collect();
    assert_eq!(
        zones.iter().filter(|z| **z == "us-east-1a").count(),
        2,
        "{zones:?}"
    );
    assert_eq!(
        zones.iter().filter(|z| **z == "us-east-1b").count(),
        1,
        "{zones:?}"
    );
    let acts = t.activities("web");
    assert_eq!(acts.len(), 3);
    for a in &acts {
        assert!(
            a["Cause"]
                .as_str()
                .unwrap()
                .ends_with("increasing the capacity from 0 to 3."),
            "{a}"
        );
        assert!(
            a["Details"]
                .as_str()
                .unwrap()
                .starts_with("{\"Availability Zone\":"),
            "{a}"
        );
    }
    let inst = t.cli(&["autoscaling", "describe-auto-scaling-instances"]);
    assert_eq!(inst["AutoScalingInstances"][0]["HealthStatus"], "HEALTHY");
    let (code, _) = t.cli_err(&[
        "autoscaling",
        "delete-auto-scaling-group",
        "--auto-scaling-group-name",
        "web",
    ]);
    assert_eq!(code, "ResourceInUse");
    // Scale in to 1 with the CLI, then terminate one instance by hand with decrement at min.
    t.cli(&[
        "autoscaling",
        "update-auto-scaling-group",
        "--auto-scaling-group-name",
        "web",
        "--max-size",
        "1",
    ]);
    t.run_until(120, |s| s.autoscaling.groups["web"].instances.len() == 1);
    let acts = t.activities("web");
    assert!(acts[0]["Cause"].as_str().unwrap().contains("a user request update of AutoScalingGroup constraints to min: 0, max: 1, desired: 1 changing the desired capacity from 3 to 1."), "{}", acts[0]);
    t.cli(&[
        "autoscaling",
        "delete-auto-scaling-group",
        "--auto-scaling-group-name",
        "web",
        "--force-delete",
    ]);
    t.run_until(120, |s| !s.autoscaling.groups.contains_key("web"));
    let gone = t.cli(&[
        "autoscaling",
        "describe-scaling-activities",
        "--auto-scaling-group-name",
        "web",
        "--include-deleted-groups",
    ]);
    assert_eq!(gone["Activities"][0]["AutoScalingGroupState"], "Deleted");
}

#[test]
fn unhealthy_instances_are_replaced_and_protection_holds_scale_in() {
    let t = Asg::start();
    t.group("h", 1, 3, 2);
    t.run_until(120, |s| count_in_service(s, "h") == 2);
    let g = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        "h",
    ]);
    let ids: Vec<String> = g["AutoScalingGroups"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect();
    // A user health check.
    t.cli(&[
        "autoscaling",
        "set-instance-health",
        "--instance-id",
        &ids[0],
        "--health-status",
        "Unhealthy",
    ]);
    t.run_until(120, |s| {
        !s.autoscaling.groups["h"].instances.contains_key(&ids[0]) && count_in_service(s, "h") == 2
    });
    // An instance stopped behind the group's back.
    t.cli(&["ec2", "stop-instances", "--instance-ids", &ids[1]]);
    t.run_until(180, |s| {
        !s.autoscaling.groups["h"].instances.contains_key(&ids[1]) && count_in_service(s, "h") == 2
    });
    let causes: Vec<String> = t
        .activities("h")
        .iter()
        .map(|a| a["Cause"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        causes.iter().any(|c| c
            .ends_with("an instance was taken out of service in response to a user health-check.")),
        "{causes:#?}"
    );
    assert!(causes.iter().any(|c| c.ends_with("an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.")), "{causes:#?}");
    assert!(causes.iter().filter(|c| c.ends_with("an instance was launched in response to an unhealthy instance needing to be replaced.")).count() == 2, "{causes:#?}");
    // Protect every instance: a scale-in lowers desired but terminates nothing.
    let g = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        "h",
    ]);
    let ids: Vec<String> = g["AutoScalingGroups"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect();
    let mut args = vec![
        "autoscaling",
        "set-instance-protection",
        "--auto-scaling-group-name",
        "h",
        "--protected-from-scale-in",
        "--instance-ids",
    ];
    args.extend(ids.iter().map(String::as_str));
    t.cli(&args);
    t.cli(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "h",
        "--desired-capacity",
        "1",
    ]);
    t.run_for(60);
    t.state_check(|s| assert_eq!(s.autoscaling.groups["h"].instances.len(), 2));
    assert_eq!(desired(&t, "h"), 1);
}
#[test]
fn tags_propagate_and_describe_with_filters() {
    let t = Asg::start();
    t.group("tg", 0, 2, 0);
    t.cli(&[
        "autoscaling",
        "create-or-update-tags",
        "--tags",
        "ResourceId=tg,ResourceType=auto-scaling-group,Key=team,Value=web,PropagateAtLaunch=true",
        "ResourceId=tg,ResourceType=auto-scaling-group,Key=cost,Value=1,PropagateAtLaunch=false",
    ]);
    let d = t.cli(&[
        "autoscaling",
        "describe-tags",
        "--filters",
        "Name=key,Values=team",
    ]);
    assert_eq!(d["Tags"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d["Tags"][0]["PropagateAtLaunch"], true);
    let f = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--filters",
        "Name=tag:team,Values=web",
    ]);
    assert_eq!(f["AutoScalingGroups"].as_array().unwrap().len(), 1);
    t.cli(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "tg",
        "--desired-capacity",
        "1",
    ]);
    t.run_until(60, |s| count_in_service(s, "tg") == 1);
    let id = t.server.state.stores.with(&Asg::scope(), |s| {
        s.autoscaling.groups["tg"]
            .instances
            .keys()
            .next()
            .unwrap()
            .clone()
    });
    let tags = t.cli(&[
        "ec2",
        "describe-tags",
        "--filters",
        &format!("Name=resource-id,Values={id}"),
    ]);
    let keys: Vec<&str> = tags["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["Key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"team")
            && keys.contains(&"aws:autoscaling:groupName")
            && !keys.contains(&"cost"),
        "{keys:?}"
    );
    t.cli(&[
        "autoscaling",
        "delete-tags",
        "--tags",
        "ResourceId=tg,ResourceType=auto-scaling-group,Key=team",
    ]);
    let d = t.cli(&["autoscaling", "describe-tags"]);
    assert_eq!(d["Tags"].as_array().unwrap().len(), 1);
}
