//! The seed chapter through the Rust SDK on a frozen clock: key pair, security group, two
//! instances behind a classic load balancer, an IAM instance profile, a launch configuration
//! that uses it, a group of 1–3 behind the load balancer, +1/−1 simple policies and CPU alarms
//! created over rpc-v2-cbor. Stressing the group's instance through the admin API scales it
//! out as the test advances the clock.

use aws_sdk_autoscaling::types::InstanceMonitoring;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, HistoryItemType, Statistic};
use aws_sdk_ec2::types::{InstanceType, IpPermission, IpRange};
use aws_sdk_elasticloadbalancing::types::{Instance as LbInstance, Listener};
use updraft_sdk_tests::Clients;

use crate::autoscaling::{Asg, count_in_service};

const GROUP: &str = "ExampleAutoScalingGroup";
const LB: &str = "ExampleLoadBalancer";
const PROFILE: &str = "ExampleEC2Role";
const ADD_ALARM: &str = "AutoScaling-Add-Alarm";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test]
async fn the_chapter_scales_out_through_the_rust_sdk() {
    let t = Asg::start();
    let c = Clients::new(&t.server.url, "test");

    // The AMI through SSM's public parameter, as modern tutorials find it.
    let ami = c
        .ssm
        .get_parameter()
        .name("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
        .send()
        .await
        .expect("public parameter")
        .parameter
        .and_then(|p| p.value)
        .expect("value");

    let key = c
        .ec2
        .create_key_pair()
        .key_name("ExampleKeyPair")
        .send()
        .await
        .expect("key pair");
    assert!(key.key_material().unwrap_or("").contains("PRIVATE KEY"));
    let sg = c
        .ec2
        .create_security_group()
        .group_name("ExampleWebServers")
        .description("HTTP from anywhere")
        .send()
        .await
        .expect("security group")
        .group_id
        .expect("group id");
    c.ec2
        .authorize_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .expect("ingress");

    let run = c
        .ec2
        .run_instances()
        .image_id(&ami)
        .instance_type(InstanceType::T3Micro)
        .min_count(2)
        .max_count(2)
        .key_name("ExampleKeyPair")
        .security_group_ids(&sg)
        .send()
        .await
        .expect("run instances");
    let ids: Vec<String> = run
        .instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);

    c.elb
        .create_load_balancer()
        .load_balancer_name(LB)
        .listeners(
            Listener::builder()
                .protocol("HTTP")
                .load_balancer_port(80)
                .instance_protocol("HTTP")
                .instance_port(80)
                .build()
                .expect("listener"),
        )
        .availability_zones("us-east-1a")
        .availability_zones("us-east-1b")
        .send()
        .await
        .expect("load balancer");
    let registered = c
        .elb
        .register_instances_with_load_balancer()
        .load_balancer_name(LB)
        .set_instances(Some(
            ids.iter()
                .map(|id| LbInstance::builder().instance_id(id).build())
                .collect(),
        ))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.instances().len(), 2);

    // The instance profile the launch configuration names.
    c.iam
        .create_role()
        .role_name(PROFILE)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .expect("role");
    let profile = c
        .iam
        .create_instance_profile()
        .instance_profile_name(PROFILE)
        .send()
        .await
        .expect("instance profile")
        .instance_profile
        .expect("profile");
    c.iam
        .add_role_to_instance_profile()
        .instance_profile_name(PROFILE)
        .role_name(PROFILE)
        .send()
        .await
        .expect("add role");

    c.autoscaling
        .create_launch_configuration()
        .launch_configuration_name("ExampleAutoScalingConfig")
        .image_id(&ami)
        .instance_type("t3.micro")
        .key_name("ExampleKeyPair")
        .security_groups(&sg)
        .iam_instance_profile(PROFILE)
        .instance_monitoring(InstanceMonitoring::builder().enabled(true).build())
        .send()
        .await
        .expect("launch configuration");
    c.autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(GROUP)
        .launch_configuration_name("ExampleAutoScalingConfig")
        .min_size(1)
        .max_size(3)
        .desired_capacity(1)
        .availability_zones("us-east-1a")
        .availability_zones("us-east-1b")
        .load_balancer_names(LB)
        .health_check_grace_period(300)
        .send()
        .await
        .expect("group");
    let mut policies = Vec::new();
    for (name, adjustment) in [("Increase Group Size", 1), ("Decrease Group Size", -1)] {
        let arn = c
            .autoscaling
            .put_scaling_policy()
            .auto_scaling_group_name(GROUP)
            .policy_name(name)
            .adjustment_type("ChangeInCapacity")
            .scaling_adjustment(adjustment)
            .cooldown(300)
            .send()
            .await
            .expect("policy")
            .policy_arn
            .expect("policy arn");
        policies.push(arn);
    }

    // The alarms, over rpc-v2-cbor.
    for (name, op, threshold, arn) in [
        (
            ADD_ALARM,
            ComparisonOperator::GreaterThanOrEqualToThreshold,
            80.0,
            &policies[0],
        ),
        (
            "AutoScaling-Remove-Alarm",
            ComparisonOperator::LessThanOrEqualToThreshold,
            5.0,
            &policies[1],
        ),
    ] {
        c.cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(threshold)
            .comparison_operator(op)
            .dimensions(
                Dimension::builder()
                    .name("AutoScalingGroupName")
                    .value(GROUP)
                    .build(),
            )
            .alarm_actions(arn)
            .send()
            .await
            .expect("alarm");
    }
    let alarms = c
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix("AutoScaling-")
        .send()
        .await
        .expect("describe alarms");
    let add = &alarms.metric_alarms()[0];
    assert_eq!(alarms.metric_alarms().len(), 2);
    assert_eq!(add.alarm_name(), Some(ADD_ALARM));
    assert_eq!(add.threshold(), Some(80.0));
    assert_eq!(add.alarm_actions(), [policies[0].clone()]);
    assert_eq!(add.dimensions()[0].value(), Some(GROUP));
    let wire = c.cloudwatch_wire.exchanges();
    assert_eq!(wire.len(), 3, "{wire:#?}");
    for (x, op) in wire
        .iter()
        .zip(["PutMetricAlarm", "PutMetricAlarm", "DescribeAlarms"])
    {
        assert_eq!(
            x.path,
            format!("/service/GraniteServiceVersion20100801/operation/{op}")
        );
        assert_eq!(x.smithy_protocol.as_deref(), Some("rpc-v2-cbor"), "{x:?}");
        assert_eq!(x.request_content_type.as_deref(), Some("application/cbor"));
        assert_eq!(x.status, 200, "{x:?}");
        assert_eq!(x.response_content_type.as_deref(), Some("application/cbor"));
        assert_eq!(x.response_smithy_protocol.as_deref(), Some("rpc-v2-cbor"));
    }

    // The group's first instance launches with the profile and joins the load balancer.
    t.run_until(120, |s| count_in_service(s, GROUP) == 1);
    let group = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(GROUP)
        .send()
        .await
        .expect("describe groups");
    let first = group.auto_scaling_groups()[0].instances()[0]
        .instance_id()
        .expect("instance id")
        .to_owned();
    let described = c
        .ec2
        .describe_instances()
        .instance_ids(&first)
        .send()
        .await
        .expect("describe instances");
    let instance = &described.reservations()[0].instances()[0];
    assert_eq!(
        instance.iam_instance_profile().and_then(|p| p.arn()),
        Some(profile.arn())
    );
    let health = c
        .elb
        .describe_instance_health()
        .load_balancer_name(LB)
        .send()
        .await
        .expect("instance health");
    let members: Vec<&str> = health
        .instance_states()
        .iter()
        .filter_map(|s| s.instance_id())
        .collect();
    assert_eq!(members.len(), 3, "{members:?}");
    assert!(members.contains(&first.as_str()), "{members:?}");

    // Stress: the Add alarm fires over CBOR-created settings and the group reaches 2.
    let stressed_at = t.now();
    t.stress(&first, 100.0);
    let reached = t.run_until(300, |s| count_in_service(s, GROUP) == 2);
    assert!(
        reached - stressed_at <= 180.0,
        "scaled out after {} s",
        reached - stressed_at
    );
    let group = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(GROUP)
        .send()
        .await
        .expect("describe groups");
    assert_eq!(group.auto_scaling_groups()[0].desired_capacity(), Some(2));
    let activities = c
        .autoscaling
        .describe_scaling_activities()
        .auto_scaling_group_name(GROUP)
        .send()
        .await
        .expect("activities");
    let newest = &activities.activities()[0];
    assert!(
        newest.cause().unwrap_or("").contains(
            "a monitor alarm AutoScaling-Add-Alarm in state ALARM triggered policy Increase Group Size changing the desired capacity from 1 to 2."
        ),
        "{newest:?}"
    );
    let history = c
        .cloudwatch
        .describe_alarm_history()
        .alarm_name(ADD_ALARM)
        .history_item_type(HistoryItemType::StateUpdate)
        .send()
        .await
        .expect("alarm history");
    assert!(
        history
            .alarm_history_items()
            .iter()
            .any(|h| h.history_summary().unwrap_or("").ends_with("to ALARM")),
        "{history:?}"
    );
}
