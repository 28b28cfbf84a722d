//! The alarm e-mail: an alarm's notification as `email` and `email-json` subscribers get it,
//! through the aws CLI.

use serde_json::{Value, json};

use crate::cloudwatch::frozen_server;
use crate::sns::wait_inbox;

/// An alarm's notification is published per protocol, through the aws CLI: the `email`
/// subscriber gets AWS's plain-text alarm e-mail, the `email-json` subscriber the alarm JSON.
#[test]
fn alarm_email_subscribers_get_the_text_email() {
    let server = frozen_server();
    let topic = server
        .aws(&["sns", "create-topic", "--name", "alarm-mail"])
        .json()["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    for (protocol, endpoint) in [
        ("email", "text@example.com"),
        ("email-json", "json@example.com"),
    ] {
        server
            .aws(&[
                "sns",
                "subscribe",
                "--topic-arn",
                &topic,
                "--protocol",
                protocol,
                "--notification-endpoint",
                endpoint,
            ])
            .json();
    }
    server
        .aws(&[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "disk-full",
            "--alarm-description",
            "Disk almost full",
            "--namespace",
            "App",
            "--metric-name",
            "Disk",
            "--dimensions",
            "Name=Host,Value=web-1",
            "--statistic",
            "Maximum",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "90",
            "--comparison-operator",
            "GreaterThanThreshold",
            "--alarm-actions",
            &topic,
        ])
        .json();
    server
        .aws(&[
            "cloudwatch",
            "set-alarm-state",
            "--alarm-name",
            "disk-full",
            "--state-value",
            "ALARM",
            "--state-reason",
            "manual test",
        ])
        .json();
    let text = wait_inbox(&server, "?endpoint=text%40example.com", 1);
    assert_eq!(
        text[0]["subject"],
        "ALARM: \"disk-full\" in US East (N. Virginia)"
    );
    let body = text[0]["message"].as_str().unwrap();
    assert!(
        body.starts_with(
            "You are receiving this email because your Amazon CloudWatch Alarm \"disk-full\" in the US East (N. Virginia) region has entered the ALARM state, because \"manual test\" at \""
        ),
        "{body}"
    );
    for line in [
        "- Description:                Disk almost full\n",
        "- State Change:               INSUFFICIENT_DATA -> ALARM\n",
        "- The alarm is in the ALARM state when the metric is GreaterThanThreshold 90.0 for at least 1 of the last 1 period(s) of 60 seconds.\n",
        "- Dimensions:                          [Host = web-1]\n",
        &format!("- ALARM: [{topic}]\n"),
    ] {
        assert!(body.contains(line), "{line:?} in {body}");
    }
    let json = wait_inbox(&server, "?endpoint=json%40example.com", 1);
    // email-json gets SNS's JSON envelope; its Message is the `default` variant.
    let envelope: Value = serde_json::from_str(json[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    let alarm: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(alarm["AlarmName"], "disk-full");
    assert_eq!(alarm["NewStateValue"], "ALARM");
    assert_eq!(alarm["NewStateReason"], "manual test");
    assert_eq!(
        alarm["Trigger"]["Dimensions"],
        json!([{"value": "web-1", "name": "Host"}])
    );
}
