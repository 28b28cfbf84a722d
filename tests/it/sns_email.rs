//! SNS e-mail with the aws CLI: a subscription confirmed by its link receives publishes in the
//! local inbox, and `--sns-auto-confirm` skips the confirmation (`email-json` gets the
//! envelope).

use serde_json::{Value, json};
use updraft::Config;

use crate::common::{BOTO3_PRELUDE, TestServer};
use crate::sns::wait_inbox;

#[test]
fn sns_email_subscription_confirms_by_link_and_receives_publishes_in_the_inbox() {
    let server = TestServer::start();
    let topic = server
        .aws(&["sns", "create-topic", "--name", "AutoScalingTopic"])
        .json()["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let sub = server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "admin@example.com",
        ])
        .json();
    assert_eq!(sub["SubscriptionArn"], "pending confirmation");

    let inbox = wait_inbox(&server, "?endpoint=admin%40example.com", 1);
    let confirmation = &inbox[0];
    assert_eq!(confirmation["type"], "SubscriptionConfirmation");
    assert_eq!(confirmation["topic_arn"], topic.as_str());
    assert_eq!(
        confirmation["subject"],
        "AWS Notification - Subscription Confirmation"
    );
    let link = confirmation["confirm_url"].as_str().unwrap();
    assert!(
        confirmation["message"].as_str().unwrap().contains(link),
        "the message carries the link: {confirmation}"
    );
    let path = link
        .strip_prefix(&server.url)
        .expect("a link back to Updraft");
    let confirmed = server.http("GET", path, &[], b"");
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    let arn = confirmed.json()["SubscriptionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(arn.starts_with(&format!("{topic}:")), "{arn}");
    assert_eq!(
        server.http("GET", path, &[], b"").status,
        200,
        "links may be clicked twice"
    );
    let bad = server.http("GET", "/_updraft/sns/confirm?TopicArn=x&Token=y", &[], b"");
    assert_eq!(bad.status, 404, "{}", bad.text());

    let listed = server
        .aws(&["sns", "list-subscriptions-by-topic", "--topic-arn", &topic])
        .json();
    assert_eq!(listed["Subscriptions"][0]["SubscriptionArn"], arn.as_str());

    let message = r#"{"Event":"autoscaling:EC2_INSTANCE_LAUNCH","AutoScalingGroupName":"web"}"#;
    server
        .aws(&[
            "sns",
            "publish",
            "--topic-arn",
            &topic,
            "--subject",
            "Auto Scaling: launch for group \"web\"",
            "--message",
            message,
        ])
        .json();
    let inbox = wait_inbox(&server, &format!("?topic_arn={topic}"), 2);
    let note = &inbox[1];
    assert_eq!(note["type"], "Notification");
    assert_eq!(note["subject"], "Auto Scaling: launch for group \"web\"");
    assert_eq!(note["message"], message);
    assert_eq!(note["endpoint"], "admin@example.com");
    assert_eq!(note["subscription_arn"], arn.as_str());
    let ts = note["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
    assert_eq!(
        wait_inbox(&server, "?endpoint=other%40example.com", 0).len(),
        0
    );

    // ConfirmSubscription with the token; AuthenticateOnUnsubscribe disables the link.
    server
        .aws(&[
            "sns",
            "subscribe",
            "--topic-arn",
            &topic,
            "--protocol",
            "email",
            "--notification-endpoint",
            "auditor@example.com",
        ])
        .json();
    let auditor = wait_inbox(&server, "?endpoint=auditor%40example.com", 1);
    let url = auditor[0]["confirm_url"].as_str().unwrap();
    let token = url.rsplit_once("Token=").unwrap().1;
    let confirmed = server
        .aws(&[
            "sns",
            "confirm-subscription",
            "--topic-arn",
            &topic,
            "--token",
            token,
            "--authenticate-on-unsubscribe",
            "true",
        ])
        .json();
    let auditor_arn = confirmed["SubscriptionArn"].as_str().unwrap();
    let link = format!(
        "/_updraft/sns/unsubscribe?SubscriptionArn={}",
        auditor_arn.replace(':', "%3A")
    );
    let refused = server.http("GET", &link, &[], b"");
    assert_eq!(refused.status, 403, "{}", refused.text());
    server
        .aws(&["sns", "unsubscribe", "--subscription-arn", auditor_arn])
        .json();

    // The unsubscribe link in the message ends the subscription.
    let unsub = note["unsubscribe_url"].as_str().unwrap();
    let gone = server.http("GET", unsub.strip_prefix(&server.url).unwrap(), &[], b"");
    assert_eq!(gone.status, 200, "{}", gone.text());
    let listed = server
        .aws(&["sns", "list-subscriptions-by-topic", "--topic-arn", &topic])
        .json();
    assert_eq!(listed["Subscriptions"], json!([]));
    assert_eq!(
        server
            .http("DELETE", "/_updraft/sns/inbox", &[], b"")
            .status,
        200
    );
    assert_eq!(wait_inbox(&server, "", 0).len(), 0);
}

const AUTO_CONFIRM_SCRIPT: &str = r#"
c = client('sns')
t = c.create_topic(Name='workshop')['TopicArn']
sub = c.subscribe(TopicArn=t, Protocol='email', Endpoint='student@example.com')['SubscriptionArn']
j = c.subscribe(TopicArn=t, Protocol='email-json', Endpoint='robot@example.com')['SubscriptionArn']
attrs = c.get_subscription_attributes(SubscriptionArn=sub)['Attributes']
c.publish(TopicArn=t, Message='hello', Subject='Hi', MessageAttributes={'k': {'DataType': 'String', 'StringValue': 'v'}})
b = c.subscribe(TopicArn=t, Protocol='email', Endpoint='launches@example.com', Attributes={
    'FilterPolicyScope': 'MessageBody',
    'FilterPolicy': json.dumps({'Event': ['autoscaling:EC2_INSTANCE_LAUNCH'], 'Details': {'Zone': [{'prefix': 'us-'}]}})})
for event in ['autoscaling:EC2_INSTANCE_TERMINATE', 'autoscaling:EC2_INSTANCE_LAUNCH']:
    c.publish(TopicArn=t, Message=json.dumps({'Event': event, 'Details': {'Zone': 'us-east-1a'}}))
c.publish(TopicArn=t, MessageStructure='json',
          Message=json.dumps({'default': 'plain', 'email': 'for email', 'email-json': 'for robots'}))
print(json.dumps({'topic': t, 'sub': sub, 'json_sub': j, 'attrs': attrs}))
"#;

#[test]
fn sns_auto_confirm_skips_the_confirmation_and_email_json_gets_the_envelope() {
    let server = TestServer::with_config(Config {
        sns_auto_confirm: true,
        ..Config::default()
    });
    let out = server.boto3(&format!("{BOTO3_PRELUDE}\n{AUTO_CONFIRM_SCRIPT}"));
    let topic = out["topic"].as_str().unwrap();
    assert!(out["sub"].as_str().unwrap().starts_with(topic), "{out}");
    assert_eq!(out["attrs"]["PendingConfirmation"], "false");

    let mail = wait_inbox(&server, "?endpoint=student%40example.com", 4);
    assert_eq!(mail[0]["type"], "Notification");
    assert_eq!(mail[0]["message"], "hello");
    assert_eq!(mail[0]["subject"], "Hi");
    assert_eq!(
        mail[3]["message"], "for email",
        "MessageStructure=json, email entry"
    );
    assert_eq!(
        mail[3]["subject"], "AWS Notification Message",
        "e-mail's subject when Publish has none"
    );

    // FilterPolicyScope=MessageBody: only the launch in a us- zone gets through.
    let launches = wait_inbox(&server, "?endpoint=launches%40example.com", 1);
    let body: Value = serde_json::from_str(launches[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(body["Event"], "autoscaling:EC2_INSTANCE_LAUNCH");

    let robot = wait_inbox(&server, "?endpoint=robot%40example.com", 4);
    let last: Value = serde_json::from_str(robot[3]["message"].as_str().unwrap()).unwrap();
    assert_eq!(last["Message"], "for robots");
    let envelope: Value = serde_json::from_str(robot[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["Message"], "hello");
    assert_eq!(envelope["Subject"], "Hi");
    assert_eq!(envelope["TopicArn"], topic);
    assert_eq!(envelope["SignatureVersion"], "1");
    assert_eq!(
        envelope["MessageAttributes"],
        json!({"k": {"Type": "String", "Value": "v"}})
    );
    crate::sns_http::assert_signed(&server, &envelope);
}
