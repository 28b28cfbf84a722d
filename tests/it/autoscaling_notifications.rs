//! Auto Scaling notifications with the aws CLI on a frozen clock: the chapter's step, where an
//! SNS topic with an e-mail subscription receives AWS's launch and termination messages.

use serde_json::Value;

use crate::cloudwatch::frozen_server;

/// The chapter's notification step with the aws CLI: a topic with an e-mail subscription
/// (auto-confirmed), PutNotificationConfiguration for the four event types, then a scale-out
/// and a scale-in put AWS's launch and termination messages into the local inbox.
#[test]
fn asg_chapter_notifications_reach_the_email_inbox() {
    use crate::sns::wait_inbox;
    let server = frozen_server();
    let aws = |args: &[&str]| server.aws(args).json();
    let topic = aws(&["sns", "create-topic", "--name", "AutoScalingTopic"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic,
        "--protocol",
        "email",
        "--notification-endpoint",
        "student@example.com",
    ]);
    let ami = aws(&[
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
    aws(&[
        "autoscaling",
        "create-launch-configuration",
        "--launch-configuration-name",
        "ExampleAutoScalingConfig",
        "--image-id",
        &ami,
        "--instance-type",
        "t3.micro",
    ]);
    aws(&[
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--launch-configuration-name",
        "ExampleAutoScalingConfig",
        "--min-size",
        "1",
        "--max-size",
        "3",
        "--availability-zones",
        "us-east-1a",
    ]);
    let types = [
        "autoscaling:EC2_INSTANCE_LAUNCH",
        "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
        "autoscaling:EC2_INSTANCE_TERMINATE",
        "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
    ];
    let mut put = vec![
        "autoscaling",
        "put-notification-configuration",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--topic-arn",
        &topic,
        "--notification-types",
    ];
    put.extend(types);
    aws(&put);
    let bad = server.aws(&[
        "autoscaling",
        "put-notification-configuration",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--topic-arn",
        &topic,
        "--notification-types",
        "autoscaling:NOPE",
    ]);
    assert_eq!(bad.error_code(), "ValidationError");
    let configs = aws(&[
        "autoscaling",
        "describe-notification-configurations",
        "--auto-scaling-group-names",
        "ExampleAutoScalingGroup",
    ]);
    let listed: Vec<&str> = configs["NotificationConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["TopicARN"], topic.as_str());
            c["NotificationType"].as_str().unwrap()
        })
        .collect();
    assert_eq!(listed, types);

    // The test notification arrives first.
    let mail = wait_inbox(&server, "?endpoint=student%40example.com", 1);
    assert_eq!(
        mail[0]["subject"],
        "Auto Scaling: test notification for group \"ExampleAutoScalingGroup\""
    );
    let test: Value = serde_json::from_str(mail[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(test["Event"], "autoscaling:TEST_NOTIFICATION");
    assert_eq!(test["AutoScalingGroupName"], "ExampleAutoScalingGroup");
    assert_eq!(test["Service"], "AWS Auto Scaling");

    let advance_until = |n: usize| {
        for _ in 0..120 {
            let got = server
                .http(
                    "GET",
                    "/_updraft/sns/inbox?endpoint=student%40example.com",
                    &[],
                    b"",
                )
                .json();
            if got.as_array().unwrap().len() >= n {
                break;
            }
            server.state.clock.advance(5.0);
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        wait_inbox(&server, "?endpoint=student%40example.com", n)
    };
    // The first instance's launch, then a scale-out and a scale-in.
    let mail = advance_until(2);
    aws(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--desired-capacity",
        "2",
    ]);
    let mail3 = advance_until(3);
    aws(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--desired-capacity",
        "1",
    ]);
    let mail4 = advance_until(4);
    let body =
        |m: &Value| -> Value { serde_json::from_str(m["message"].as_str().unwrap()).unwrap() };
    for (m, event, subject) in [
        (
            &mail[1],
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "Auto Scaling: launch for group \"ExampleAutoScalingGroup\"",
        ),
        (
            &mail3[2],
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "Auto Scaling: launch for group \"ExampleAutoScalingGroup\"",
        ),
        (
            &mail4[3],
            "autoscaling:EC2_INSTANCE_TERMINATE",
            "Auto Scaling: termination for group \"ExampleAutoScalingGroup\"",
        ),
    ] {
        assert_eq!(m["subject"], subject, "{m}");
        let b = body(m);
        assert_eq!(b["Event"], event, "{b}");
        assert_eq!(b["AutoScalingGroupName"], "ExampleAutoScalingGroup");
        assert_eq!(b["RequestId"], b["ActivityId"]);
        assert_eq!(b["Time"], b["EndTime"]);
        assert_eq!(b["StatusCode"], "InProgress");
        assert_eq!(b["Progress"], 50);
        assert_eq!(b["StatusMessage"], "");
        assert_eq!(b["Details"]["Availability Zone"], "us-east-1a");
        let id = b["EC2InstanceId"].as_str().unwrap();
        assert!(id.starts_with("i-"), "{b}");
        assert!(b["Description"].as_str().unwrap().ends_with(id));
        assert!(
            b["AutoScalingGroupARN"]
                .as_str()
                .unwrap()
                .ends_with(":autoScalingGroupName/ExampleAutoScalingGroup")
        );
    }
    let scale_out = body(&mail3[2]);
    assert!(
        scale_out["Cause"].as_str().unwrap().contains("a user request explicitly set group desired capacity changing the desired capacity from 1 to 2."),
        "{scale_out}"
    );
    let scale_in = body(&mail4[3]);
    assert!(
        scale_in["Cause"]
            .as_str()
            .unwrap()
            .contains("was selected for termination."),
        "{scale_in}"
    );

    // Deleting the configuration stops the messages.
    aws(&[
        "autoscaling",
        "delete-notification-configuration",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--topic-arn",
        &topic,
    ]);
    let configs = aws(&["autoscaling", "describe-notification-configurations"]);
    assert_eq!(configs["NotificationConfigurations"], serde_json::json!([]));
}
