//! The world the persistence tests build and compare: the seed chapter's resources plus an
//! ALB, a scheduled action, a lifecycle hook, an SSM parameter and metrics, made through the
//! pinned aws CLI; and every Describe/List/Get it answers, read through boto3.

use std::time::Duration;

use serde_json::{Value, json};

use crate::persist::Node;

/// Every Describe/List/Get the world answers, through boto3 (response metadata, which
/// holds the request id, left out).
pub const READ_EVERYTHING: &str = r#"
out = {}
def put(name, resp):
    resp.pop("ResponseMetadata", None)
    out[name] = resp
ec2, asg, elb, elbv2, cw, sns, ssm = (client(n) for n in ["ec2", "autoscaling", "elb", "elbv2", "cloudwatch", "sns", "ssm"])
for op in ["describe_instances", "describe_key_pairs", "describe_security_groups", "describe_vpcs",
           "describe_subnets", "describe_launch_templates", "describe_tags", "describe_volumes"]:
    put(op, getattr(ec2, op)())
put("describe_images", ec2.describe_images(Owners=["self"]))
for op in ["describe_auto_scaling_groups", "describe_launch_configurations", "describe_policies",
           "describe_scheduled_actions", "describe_scaling_activities", "describe_notification_configurations",
           "describe_auto_scaling_instances"]:
    put("asg." + op, getattr(asg, op)())
put("asg.hooks", asg.describe_lifecycle_hooks(AutoScalingGroupName="web"))
put("elb.lbs", elb.describe_load_balancers())
put("elb.health", elb.describe_instance_health(LoadBalancerName="chapter"))
put("elbv2.lbs", elbv2.describe_load_balancers())
tgs = elbv2.describe_target_groups(); put("elbv2.tgs", tgs)
for tg in tgs["TargetGroups"]:
    put("elbv2.health." + tg["TargetGroupName"], elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"]))
for lb in out["elbv2.lbs"]["LoadBalancers"]:
    put("elbv2.listeners", elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"]))
put("cw.alarms", cw.describe_alarms())
put("cw.history", cw.describe_alarm_history())
put("cw.metrics", cw.list_metrics())
import urllib.request
now = json.load(urllib.request.urlopen(os.environ["ENDPOINT"] + "/_updraft/clock"))["epoch_seconds"]
put("cw.stats", cw.get_metric_statistics(Namespace="App", MetricName="Orders", StartTime=now - 86400,
    EndTime=now + 3600, Period=3600, Statistics=["Sum", "Maximum", "SampleCount"]))
put("sns.topics", sns.list_topics())
put("sns.subs", sns.list_subscriptions())
for t in out["sns.topics"]["Topics"]:
    put("sns.attrs", sns.get_topic_attributes(TopicArn=t["TopicArn"]))
put("ssm.param", ssm.get_parameter(Name="/chapter/greeting"))
print(json.dumps(out, default=str, sort_keys=True))
"#;

fn arg(s: &str) -> String {
    s.to_owned()
}

/// The chapter's world plus an ALB, a scheduled action, a lifecycle hook and metrics.
/// Returns the group's first instance.
pub fn build_world(n: &Node) -> String {
    let ami = n.aws(&[
        "ec2",
        "describe-images",
        "--owners",
        "amazon",
        "--filters",
        "Name=name,Values=al2023-ami-*",
    ])["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let subnets: Vec<String> = n.aws(&[
        "ec2",
        "describe-subnets",
        "--filters",
        "Name=default-for-az,Values=true",
    ])["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["SubnetId"].as_str().unwrap().to_owned())
        .collect();
    let vpc = n.aws(&["ec2", "describe-vpcs"])["Vpcs"][0]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    n.aws(&["ec2", "create-key-pair", "--key-name", "chapter-key"]);
    let sg = n.aws(&[
        "ec2",
        "create-security-group",
        "--group-name",
        "web",
        "--description",
        "web servers",
    ])["GroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    n.aws(&[
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        &sg,
        "--protocol",
        "tcp",
        "--port",
        "80",
        "--cidr",
        "0.0.0.0/0",
    ]);
    let seed = n.aws(&[
        "ec2",
        "run-instances",
        "--image-id",
        &ami,
        "--instance-type",
        "t3.micro",
        "--key-name",
        "chapter-key",
        "--security-group-ids",
        &sg,
    ])["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    n.clock(json!({"advance_seconds": 30}));
    std::thread::sleep(Duration::from_millis(300));
    let image = n.aws(&[
        "ec2",
        "create-image",
        "--instance-id",
        &seed,
        "--name",
        "web-image",
    ])["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    n.aws(&[
        "elb",
        "create-load-balancer",
        "--load-balancer-name",
        "chapter",
        "--listeners",
        "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80",
        "--subnets",
        &subnets[0],
        &subnets[1],
        "--security-groups",
        &sg,
    ]);
    n.aws(&[
        "autoscaling",
        "create-launch-configuration",
        "--launch-configuration-name",
        "web-lc",
        "--image-id",
        &image,
        "--instance-type",
        "t3.micro",
        "--key-name",
        "chapter-key",
        "--security-groups",
        &sg,
    ]);
    let tg = n.aws(&[
        "elbv2",
        "create-target-group",
        "--name",
        "web-tg",
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--vpc-id",
        &vpc,
    ])["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let alb = n.aws(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        "web-alb",
        "--subnets",
        &subnets[0],
        &subnets[1],
    ])["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_owned();
    n.aws(&[
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        &alb,
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--default-actions",
        &format!("Type=forward,TargetGroupArn={tg}"),
    ]);
    n.aws(&[
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "web",
        "--launch-configuration-name",
        "web-lc",
        "--min-size",
        "1",
        "--max-size",
        "3",
        "--desired-capacity",
        "1",
        "--vpc-zone-identifier",
        &subnets.join(","),
        "--load-balancer-names",
        "chapter",
        "--target-group-arns",
        &tg,
        "--health-check-grace-period",
        "300",
    ]);
    let topic = n.aws(&["sns", "create-topic", "--name", "scaling-news"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    n.aws(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic,
        "--protocol",
        "email",
        "--notification-endpoint",
        "teacher@example.com",
    ]);
    n.aws(&[
        "autoscaling",
        "put-notification-configuration",
        "--auto-scaling-group-name",
        "web",
        "--topic-arn",
        &topic,
        "--notification-types",
        "autoscaling:EC2_INSTANCE_LAUNCH",
        "autoscaling:EC2_INSTANCE_TERMINATE",
    ]);
    for (name, adj, alarm, op, threshold) in [
        ("up", "1", "cpu-high", "GreaterThanOrEqualToThreshold", "80"),
        ("down", "-1", "cpu-low", "LessThanOrEqualToThreshold", "5"),
    ] {
        let policy = n.aws(&[
            "autoscaling",
            "put-scaling-policy",
            "--auto-scaling-group-name",
            "web",
            "--policy-name",
            name,
            "--adjustment-type",
            "ChangeInCapacity",
            "--scaling-adjustment",
            adj,
            "--cooldown",
            "60",
        ])["PolicyARN"]
            .as_str()
            .unwrap()
            .to_owned();
        n.aws(&[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            alarm,
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
            "Name=AutoScalingGroupName,Value=web",
            "--alarm-actions",
            &policy,
        ]);
    }
    n.aws(&[
        "autoscaling",
        "put-scheduled-update-group-action",
        "--auto-scaling-group-name",
        "web",
        "--scheduled-action-name",
        "nightly",
        "--recurrence",
        "0 22 * * *",
        "--desired-capacity",
        "1",
    ]);
    n.aws(&[
        "autoscaling",
        "put-lifecycle-hook",
        "--auto-scaling-group-name",
        "web",
        "--lifecycle-hook-name",
        "drain",
        "--lifecycle-transition",
        "autoscaling:EC2_INSTANCE_TERMINATING",
        "--heartbeat-timeout",
        "120",
    ]);
    n.aws(&[
        "ssm",
        "put-parameter",
        "--name",
        "/chapter/greeting",
        "--value",
        "안녕하세요",
        "--type",
        "String",
    ]);
    let data: Vec<String> = (0..5)
        .map(|i| {
            format!(
                "MetricName=Orders,Value={},Unit=Count",
                1.5 + f64::from(i) / 3.0
            )
        })
        .collect();
    let mut args = vec![
        arg("cloudwatch"),
        arg("put-metric-data"),
        arg("--namespace"),
        arg("App"),
        arg("--metric-data"),
    ];
    args.extend(data);
    n.aws(&args.iter().map(String::as_str).collect::<Vec<_>>());
    // The group's instance launches, boots and goes InService; alarms evaluate.
    for _ in 0..8 {
        n.clock(json!({"advance_seconds": 20}));
        std::thread::sleep(Duration::from_millis(250));
    }
    let groups = n.aws(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        "web",
    ]);
    let first = &groups["AutoScalingGroups"][0]["Instances"][0];
    assert_eq!(first["LifecycleState"], "InService", "{groups}");
    first["InstanceId"].as_str().unwrap().to_owned()
}

/// The comparison means something only if the world is all there.
pub fn assert_world_is_whole(w: &Value) {
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    assert_eq!(
        len(&w["cw.alarms"]["MetricAlarms"]),
        2,
        "{}",
        w["cw.alarms"]
    );
    assert_eq!(len(&w["sns.subs"]["Subscriptions"]), 1);
    assert_eq!(len(&w["describe_images"]["Images"]), 1);
    assert_eq!(len(&w["describe_key_pairs"]["KeyPairs"]), 1);
    assert_eq!(len(&w["asg.hooks"]["LifecycleHooks"]), 1);
    assert_eq!(
        len(&w["asg.describe_scheduled_actions"]["ScheduledUpdateGroupActions"]),
        1
    );
    assert_eq!(len(&w["asg.describe_policies"]["ScalingPolicies"]), 2);
    assert_eq!(len(&w["elbv2.tgs"]["TargetGroups"]), 1);
    assert_eq!(len(&w["elb.health"]["InstanceStates"]), 1);
    assert!(len(&w["cw.stats"]["Datapoints"]) >= 1, "{}", w["cw.stats"]);
    assert!(len(&w["cw.history"]["AlarmHistoryItems"]) >= 2);
    assert!(len(&w["asg.describe_scaling_activities"]["Activities"]) >= 1);
    assert_eq!(w["ssm.param"]["Parameter"]["Value"], "안녕하세요");
}
