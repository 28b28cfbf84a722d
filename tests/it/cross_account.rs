//! Cross-account actions (issue #20, finding 6): an alarm in account A reaches a topic in
//! account B only when B's topic policy allows A, never another account's scaling policy;
//! refused actions are recorded in the alarm history as AWS does.

use serde_json::{Value, json};
use updraft::Config;

use crate::common::TestServer;

const A: &str = "123456789012";
const B: &str = "000000000000";

fn server() -> TestServer {
    TestServer::with_config(Config {
        sns_auto_confirm: true,
        ..Config::default()
    })
}

fn as_a(server: &TestServer, args: &[&str]) -> Value {
    let out = server.aws_with_env(args, &[("AWS_ACCESS_KEY_ID", A)]);
    out.json()
}

fn as_b(server: &TestServer, args: &[&str]) -> Value {
    server.aws(args).json()
}

fn mails(server: &TestServer, endpoint: &str) -> usize {
    let inbox = server
        .http(
            "GET",
            &format!("/_updraft/sns/inbox?endpoint={endpoint}"),
            &[],
            b"",
        )
        .json();
    inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "Notification")
        .count()
}

/// Flip an alarm of account A to OK then ALARM (SetAlarmState runs the actions).
fn fire(server: &TestServer, alarm: &str) {
    for state in ["OK", "ALARM"] {
        as_a(
            server,
            &[
                "cloudwatch",
                "set-alarm-state",
                "--alarm-name",
                alarm,
                "--state-value",
                state,
                "--state-reason",
                "test",
            ],
        );
    }
}

fn action_history(server: &TestServer, alarm: &str) -> Vec<String> {
    let h = as_a(
        server,
        &[
            "cloudwatch",
            "describe-alarm-history",
            "--alarm-name",
            alarm,
            "--history-item-type",
            "Action",
        ],
    );
    h["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["HistorySummary"].as_str().unwrap().to_owned())
        .collect()
}

fn put_alarm(server: &TestServer, name: &str, action: &str) {
    as_a(
        server,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            name,
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
            "1",
            "--comparison-operator",
            "GreaterThanThreshold",
            "--alarm-actions",
            action,
        ],
    );
}

#[test]
fn an_alarm_reaches_another_accounts_topic_only_when_its_policy_allows() {
    let server = server();
    let topic = as_b(&server, &["sns", "create-topic", "--name", "a-topic"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(topic.contains(B));
    as_b(
        &server,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "b@example.com",
        ],
    );

    put_alarm(&server, "cross", &topic);
    fire(&server, "cross");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        mails(&server, "b@example.com"),
        0,
        "delivered across accounts"
    );
    // AWS's wording for an alarm action refused by the topic's access policy, as AWS's
    // knowledge-center article "Why didn't I receive an SNS notification for my CloudWatch
    // alarm trigger?" (repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger)
    // quotes it from the alarm history.
    let history = action_history(&server, "cross");
    let alarm_arn = format!("arn:aws:cloudwatch:us-east-1:{A}:alarm:cross");
    let failed = format!(
        "Failed to execute action {topic}. Received error: \"Resource: {alarm_arn} is not \
         authorized to perform: SNS:Publish on resource: {topic}\""
    );
    assert!(history.contains(&failed), "{history:?}");

    // B lets A publish: now it is delivered.
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")},
        "Action": "SNS:Publish", "Resource": topic}]})
    .to_string();
    as_b(
        &server,
        &[
            "sns",
            "set-topic-attributes",
            "--topic-arn",
            &topic,
            "--attribute-name",
            "Policy",
            "--attribute-value",
            &policy,
        ],
    );
    fire(&server, "cross");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while mails(&server, "b@example.com") == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(mails(&server, "b@example.com"), 1);
    let history = action_history(&server, "cross");
    assert!(
        history.contains(&format!("Successfully executed action {topic}")),
        "{history:?}"
    );
}

#[test]
fn an_alarm_cannot_run_another_accounts_scaling_policy() {
    let server = server();
    as_b(
        &server,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "lc",
            "--image-id",
            "ami-12345678",
            "--instance-type",
            "t2.micro",
        ],
    );
    as_b(
        &server,
        &[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            "g",
            "--launch-configuration-name",
            "lc",
            "--min-size",
            "0",
            "--max-size",
            "2",
            "--desired-capacity",
            "0",
            "--availability-zones",
            "us-east-1a",
        ],
    );
    let policy = as_b(
        &server,
        &[
            "autoscaling",
            "put-scaling-policy",
            "--auto-scaling-group-name",
            "g",
            "--policy-name",
            "up",
            "--adjustment-type",
            "ChangeInCapacity",
            "--scaling-adjustment",
            "1",
        ],
    )["PolicyARN"]
        .as_str()
        .unwrap()
        .to_owned();

    put_alarm(&server, "foreign-policy", &policy);
    fire(&server, "foreign-policy");
    let history = action_history(&server, "foreign-policy");
    assert!(
        history
            .iter()
            .any(|h| h.starts_with(&format!("Failed to execute action {policy}."))),
        "{history:?}"
    );
    let groups = as_b(&server, &["autoscaling", "describe-auto-scaling-groups"]);
    assert_eq!(groups["AutoScalingGroups"][0]["DesiredCapacity"], 0);
}

#[test]
fn auto_scaling_notifications_reach_another_accounts_topic_only_when_allowed() {
    let server = server();
    let topic = as_b(&server, &["sns", "create-topic", "--name", "asg-topic"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    as_b(
        &server,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "ops@example.com",
        ],
    );
    as_a(
        &server,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "lc",
            "--image-id",
            "ami-12345678",
            "--instance-type",
            "t2.micro",
        ],
    );
    as_a(
        &server,
        &[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            "g",
            "--launch-configuration-name",
            "lc",
            "--min-size",
            "0",
            "--max-size",
            "1",
            "--availability-zones",
            "us-east-1a",
        ],
    );
    let configure = |server: &TestServer| {
        as_a(
            server,
            &[
                "autoscaling",
                "put-notification-configuration",
                "--auto-scaling-group-name",
                "g",
                "--topic-arn",
                &topic,
                "--notification-types",
                "autoscaling:EC2_INSTANCE_LAUNCH",
            ],
        )
    };
    // The test notification is refused under B's default policy...
    configure(&server);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(mails(&server, "ops@example.com"), 0);
    // ...and delivered once B lets Auto Scaling publish for A's groups.
    let policy = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"Service": "autoscaling.amazonaws.com"}, "Action": "sns:Publish",
        "Resource": topic, "Condition": {"StringEquals": {"aws:SourceAccount": A}}}]})
    .to_string();
    as_b(
        &server,
        &[
            "sns",
            "set-topic-attributes",
            "--topic-arn",
            &topic,
            "--attribute-name",
            "Policy",
            "--attribute-value",
            &policy,
        ],
    );
    configure(&server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while mails(&server, "ops@example.com") == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(mails(&server, "ops@example.com"), 1);
}
