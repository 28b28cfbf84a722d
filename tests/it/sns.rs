//! SNS through boto3: topics, subscriptions, publishing and their errors (one script); and the
//! local inbox poll the e-mail tests (`sns_email.rs`) share.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{BOTO3_PRELUDE, TestServer};

/// Poll the inbox (with `query`, e.g. `?endpoint=…`) until it holds `n` messages.
pub fn wait_inbox(server: &TestServer, query: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let resp = server.http("GET", &format!("/_updraft/sns/inbox{query}"), &[], b"");
        assert_eq!(resp.status, 200, "{}", resp.text());
        let list = resp.json().as_array().cloned().expect("a JSON list");
        if list.len() >= n || Instant::now() > deadline {
            assert_eq!(list.len(), n, "inbox{query}: {list:#?}");
            return list;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const API_SCRIPT: &str = r#"
c = client('sns')
nv = client('sns', config=Config(parameter_validation=False, retries={'max_attempts': 1}))
out = {}
t = c.create_topic(Name='orders', Attributes={'DisplayName': 'Orders'},
                   Tags=[{'Key': 'team', 'Value': 'web'}])['TopicArn']
out['arn'] = t
out['again'] = c.create_topic(Name='orders', Attributes={'DisplayName': 'Orders'})['TopicArn']
out['conflict'] = err(c, lambda: c.create_topic(Name='orders', Attributes={'DisplayName': 'Other'}))
out['bad_name'] = err(c, lambda: c.create_topic(Name='bad name'))
c.create_topic(Name='other')
out['topics'] = [x['TopicArn'] for x in c.list_topics()['Topics']]
c.set_topic_attributes(TopicArn=t, AttributeName='DisplayName', AttributeValue='Orders!')
out['attrs'] = c.get_topic_attributes(TopicArn=t)['Attributes']
out['bad_attr'] = err(c, lambda: c.set_topic_attributes(TopicArn=t, AttributeName='Bogus', AttributeValue='x'))
missing = t.replace('orders', 'missing')
out['missing_attrs'] = err(c, lambda: c.get_topic_attributes(TopicArn=missing))
out['missing_publish'] = err(c, lambda: c.publish(TopicArn=missing, Message='x'))
out['other_region'] = err(c, lambda: c.get_topic_attributes(TopicArn=t.replace('us-east-1', 'eu-west-1')))
out['other_account'] = err(c, lambda: c.publish(TopicArn=t.replace('000000000000', '111111111111'), Message='x'))

c.tag_resource(ResourceArn=t, Tags=[{'Key': 'env', 'Value': 'dev'}, {'Key': 'team', 'Value': 'ops'}])
c.untag_resource(ResourceArn=t, TagKeys=['env'])
out['tags'] = c.list_tags_for_resource(ResourceArn=t)['Tags']
out['tags_missing'] = err(c, lambda: c.list_tags_for_resource(ResourceArn=missing))
out['too_many_tags'] = err(c, lambda: c.tag_resource(ResourceArn=t,
    Tags=[{'Key': 'k%d' % i, 'Value': 'v'} for i in range(50)]))
out['tags_after_failure'] = c.list_tags_for_resource(ResourceArn=t)['Tags']

out['pending'] = c.subscribe(TopicArn=t, Protocol='email', Endpoint='ops@example.com')['SubscriptionArn']
sub = c.subscribe(TopicArn=t, Protocol='email', Endpoint='ops@example.com',
                  ReturnSubscriptionArn=True)['SubscriptionArn']
out['sub'] = sub
out['sub_attrs'] = c.get_subscription_attributes(SubscriptionArn=sub)['Attributes']
out['listed'] = c.list_subscriptions_by_topic(TopicArn=t)['Subscriptions']
out['bad_protocol'] = err(c, lambda: c.subscribe(TopicArn=t, Protocol='pigeon', Endpoint='x'))
out['bad_email'] = err(c, lambda: c.subscribe(TopicArn=t, Protocol='email', Endpoint='nobody'))
out['raw_on_email_subscribe'] = err(c, lambda: c.subscribe(TopicArn=t, Protocol='email',
    Endpoint='raw@example.com', Attributes={'RawMessageDelivery': 'true'}))
out['dup_tags'] = err(c, lambda: c.tag_resource(ResourceArn=t, Tags=[{'Key': 'a', 'Value': '1'}, {'Key': 'a', 'Value': '2'}]))
out['bad_attr_name'] = err(c, lambda: c.publish(TopicArn=t, Message='m',
    MessageAttributes={'a..b': {'DataType': 'String', 'StringValue': '1'}}))
out['short_arn'] = err(c, lambda: c.publish(TopicArn='arn:aws:sns', Message='m'))
out['raw_on_email'] = err(c, lambda: c.set_subscription_attributes(SubscriptionArn=sub,
    AttributeName='RawMessageDelivery', AttributeValue='true'))
out['bad_filter'] = err(c, lambda: c.set_subscription_attributes(SubscriptionArn=sub,
    AttributeName='FilterPolicy', AttributeValue='{"a": "b"}'))
c.set_subscription_attributes(SubscriptionArn=sub, AttributeName='FilterPolicy',
                              AttributeValue='{"event": ["launch"]}')
out['filter_attrs'] = c.get_subscription_attributes(SubscriptionArn=sub)['Attributes']
out['bad_token'] = err(c, lambda: c.confirm_subscription(TopicArn=t, Token='nope'))
out['sqs'] = c.subscribe(TopicArn=t, Protocol='sqs', Endpoint='arn:aws:sqs:us-east-1:000000000000:q')['SubscriptionArn']
out['sms'] = err(c, lambda: c.subscribe(TopicArn=t, Protocol='sms', Endpoint='+15555550100'))
out['counts'] = c.get_topic_attributes(TopicArn=t)['Attributes']

out['empty'] = err(c, lambda: c.publish(TopicArn=t, Message=''))
out['bad_subject'] = err(c, lambda: c.publish(TopicArn=t, Message='m', Subject='a\nb'))
out['no_default'] = err(c, lambda: c.publish(TopicArn=t, Message='{"email": "x"}', MessageStructure='json'))
out['bad_attr_type'] = err(c, lambda: c.publish(TopicArn=t, Message='m',
    MessageAttributes={'a': {'DataType': 'Integer', 'StringValue': '1'}}))
out['published'] = c.publish(TopicArn=t, Message='{"default": "d", "email": "e"}', MessageStructure='json')

out['batch'] = c.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
    {'Id': 'a', 'Message': 'one'}, {'Id': 'b', 'Message': 'two', 'Subject': 'S'}, {'Id': 'c', 'Message': ''}])
out['batch_dup'] = err(c, lambda: c.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
    {'Id': 'a', 'Message': '1'}, {'Id': 'a', 'Message': '2'}]))
out['batch_many'] = err(c, lambda: c.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
    {'Id': 'i%d' % i, 'Message': 'm'} for i in range(11)]))
out['batch_bad_id'] = err(c, lambda: c.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
    {'Id': 'a b', 'Message': '1'}]))
out['batch_missing'] = err(c, lambda: c.publish_batch(TopicArn=missing, PublishBatchRequestEntries=[
    {'Id': 'a', 'Message': '1'}]))

f = c.create_topic(Name='jobs.fifo', Attributes={'FifoTopic': 'true'})['TopicArn']
out['fifo_no_group'] = err(c, lambda: c.publish(TopicArn=f, Message='m'))
out['fifo_no_dedup'] = err(c, lambda: c.publish(TopicArn=f, Message='m', MessageGroupId='g'))
out['fifo'] = [c.publish(TopicArn=f, Message='m', MessageGroupId='g', MessageDeduplicationId='d%d' % i)
               for i in range(2)]
out['fifo_dup'] = c.publish(TopicArn=f, Message='m', MessageGroupId='g', MessageDeduplicationId='d0')
out['fifo_bad_name'] = err(c, lambda: c.create_topic(Name='jobs', Attributes={'FifoTopic': 'true'}))
out['dedup_on_standard'] = err(c, lambda: c.publish(TopicArn=t, Message='m', MessageDeduplicationId='x'))

c.unsubscribe(SubscriptionArn=out['sqs'])
c.unsubscribe(SubscriptionArn=out['sqs'])
out['deleted_count'] = c.get_topic_attributes(TopicArn=t)['Attributes']['SubscriptionsDeleted']
out['bad_unsubscribe'] = err(c, lambda: c.unsubscribe(SubscriptionArn='nope'))
c.delete_topic(TopicArn=t)
c.delete_topic(TopicArn=t)
out['after_delete'] = {'topics': [x['TopicArn'] for x in c.list_topics()['Topics']],
                       'subs': c.list_subscriptions()['Subscriptions']}
out['sub_gone'] = err(c, lambda: c.get_subscription_attributes(SubscriptionArn=sub))
out['list_by_missing'] = err(c, lambda: c.list_subscriptions_by_topic(TopicArn=t))
out['unimplemented'] = err(c, lambda: c.list_platform_applications())
for i in range(105):
    c.create_topic(Name='page-%03d' % i)
pages = [[x['TopicArn'] for x in p['Topics']] for p in c.get_paginator('list_topics').paginate()]
out['pages'] = [len(p) for p in pages]
out['paged_unique'] = len(set(sum(pages, [])))
print(json.dumps(out))
"#;

fn assert_err(out: &Value, key: &str, code: &str, status: u64, message: Option<&str>) {
    let e = &out[key];
    assert_eq!(e["code"], code, "{key}: {e}");
    assert_eq!(e["status"], status, "{key}: {e}");
    if let Some(m) = message {
        assert_eq!(e["message"], m, "{key}: {e}");
    }
}

#[test]
fn sns_topics_subscriptions_publishing_and_errors_through_boto3() {
    let server = TestServer::start();
    let out = server.boto3(&format!("{BOTO3_PRELUDE}\n{API_SCRIPT}"));
    let t = out["arn"].as_str().unwrap();
    assert_eq!(t, "arn:aws:sns:us-east-1:000000000000:orders");
    assert_eq!(out["again"], t, "CreateTopic is idempotent");
    assert_err(
        &out,
        "conflict",
        "InvalidParameter",
        400,
        Some(
            "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
        ),
    );
    assert_eq!(
        out["conflict"]["modelled"],
        json!(["InvalidParameterException"])
    );
    assert_err(
        &out,
        "bad_name",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Topic Name"),
    );
    assert_eq!(
        out["topics"],
        json!([t, "arn:aws:sns:us-east-1:000000000000:other"])
    );
    let attrs = &out["attrs"];
    assert_eq!(attrs["DisplayName"], "Orders!");
    assert_eq!(attrs["Owner"], "000000000000");
    assert_eq!(attrs["TopicArn"], t);
    assert_eq!(attrs["SubscriptionsPending"], "0");
    let policy: Value = serde_json::from_str(attrs["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Resource"], t);
    let delivery: Value =
        serde_json::from_str(attrs["EffectiveDeliveryPolicy"].as_str().unwrap()).unwrap();
    assert_eq!(
        delivery["http"]["defaultHealthyRetryPolicy"]["numRetries"],
        3
    );
    assert_err(
        &out,
        "bad_attr",
        "InvalidParameter",
        400,
        Some("Invalid parameter: AttributeName"),
    );
    assert_err(
        &out,
        "missing_attrs",
        "NotFound",
        404,
        Some("Topic does not exist"),
    );
    assert_eq!(
        out["missing_attrs"]["modelled"],
        json!(["NotFoundException"])
    );
    assert_err(
        &out,
        "missing_publish",
        "NotFound",
        404,
        Some("Topic does not exist"),
    );
    assert_err(
        &out,
        "other_region",
        "InvalidParameter",
        400,
        Some("Invalid parameter: TopicArn"),
    );
    assert_err(&out, "other_account", "AuthorizationError", 403, None);

    assert_eq!(out["tags"], json!([{"Key": "team", "Value": "ops"}]));
    assert_err(
        &out,
        "tags_missing",
        "ResourceNotFound",
        404,
        Some("Resource does not exist"),
    );
    assert_err(&out, "too_many_tags", "TagLimitExceeded", 400, None);
    assert_eq!(
        out["tags_after_failure"], out["tags"],
        "a failed call changes nothing"
    );

    assert_eq!(out["pending"], "pending confirmation");
    let sub = out["sub"].as_str().unwrap();
    assert!(sub.starts_with(&format!("{t}:")), "{sub}");
    assert_eq!(out["sub_attrs"]["PendingConfirmation"], "true");
    assert_eq!(out["sub_attrs"]["Protocol"], "email");
    assert_eq!(out["sub_attrs"]["RawMessageDelivery"], "false");
    assert_eq!(
        out["listed"],
        json!([{"SubscriptionArn": "PendingConfirmation", "Owner": "000000000000",
                "Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": t}]),
        "subscribing the same endpoint again returns the same subscription"
    );
    assert_err(
        &out,
        "bad_protocol",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Amazon SNS does not support this protocol string: pigeon"),
    );
    assert_err(
        &out,
        "bad_email",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Email address"),
    );
    assert_err(&out, "raw_on_email", "InvalidParameter", 400, None);
    assert_err(
        &out,
        "raw_on_email_subscribe",
        "InvalidParameter",
        400,
        Some(
            "Invalid parameter: Attributes Reason: Delivery protocol [email] does not support raw message delivery.",
        ),
    );
    assert_err(
        &out,
        "dup_tags",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Duplicated keys are not allowed."),
    );
    assert_err(
        &out,
        "bad_attr_name",
        "ParameterValueInvalid",
        400,
        Some("Message attribute name can not have successive '.' character."),
    );
    assert_err(
        &out,
        "short_arn",
        "InvalidParameter",
        400,
        Some("Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 3"),
    );
    assert_err(&out, "bad_filter", "InvalidParameter", 400, None);
    assert_eq!(
        out["filter_attrs"]["FilterPolicy"],
        r#"{"event": ["launch"]}"#
    );
    assert_eq!(
        out["filter_attrs"]["FilterPolicyScope"],
        "MessageAttributes"
    );
    assert_err(
        &out,
        "bad_token",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Token"),
    );
    assert!(
        out["sqs"].as_str().unwrap().starts_with(t),
        "sqs is confirmed at once"
    );
    assert_err(&out, "sms", "NotImplemented", 501, None);
    assert_eq!(out["counts"]["SubscriptionsPending"], "1");
    assert_eq!(out["counts"]["SubscriptionsConfirmed"], "1");

    assert_err(
        &out,
        "empty",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Empty message"),
    );
    assert_err(
        &out,
        "bad_subject",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Subject"),
    );
    assert_err(
        &out,
        "no_default",
        "InvalidParameter",
        400,
        Some("Invalid parameter: Message Structure - No default entry in JSON message body"),
    );
    assert_err(&out, "bad_attr_type", "ParameterValueInvalid", 400, None);
    assert_eq!(
        out["bad_attr_type"]["modelled"],
        json!(["InvalidParameterValueException"])
    );
    assert_eq!(out["published"]["MessageId"].as_str().unwrap().len(), 36);

    let batch = &out["batch"];
    let ok: Vec<&str> = batch["Successful"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ok, ["a", "b"]);
    assert_eq!(batch["Failed"][0]["Id"], "c");
    assert_eq!(batch["Failed"][0]["Code"], "InvalidParameter");
    assert_eq!(batch["Failed"][0]["SenderFault"], true);
    assert_err(&out, "batch_dup", "BatchEntryIdsNotDistinct", 400, None);
    assert_err(
        &out,
        "batch_many",
        "TooManyEntriesInBatchRequest",
        400,
        None,
    );
    assert_err(&out, "batch_bad_id", "InvalidBatchEntryId", 400, None);
    assert_err(&out, "batch_missing", "NotFound", 404, None);

    assert_err(
        &out,
        "fifo_no_group",
        "InvalidParameter",
        400,
        Some("Invalid parameter: The MessageGroupId parameter is required for FIFO topics"),
    );
    assert_err(&out, "fifo_no_dedup", "InvalidParameter", 400, None);
    let seq: Vec<&str> = out["fifo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SequenceNumber"].as_str().unwrap())
        .collect();
    assert!(seq[0] < seq[1] && seq[0].len() == 20, "{seq:?}");
    for k in ["MessageId", "SequenceNumber"] {
        assert_eq!(
            out["fifo_dup"][k], out["fifo"][0][k],
            "a repeated deduplication id within five minutes is the same message"
        );
    }
    assert_err(&out, "fifo_bad_name", "InvalidParameter", 400, None);
    assert_err(&out, "dedup_on_standard", "InvalidParameter", 400, None);

    assert_eq!(out["deleted_count"], "1");
    assert_err(&out, "bad_unsubscribe", "InvalidParameter", 400, None);
    assert_eq!(
        out["after_delete"],
        json!({"topics": ["arn:aws:sns:us-east-1:000000000000:jobs.fifo",
                          "arn:aws:sns:us-east-1:000000000000:other"], "subs": []}),
        "DeleteTopic removes the topic's subscriptions"
    );
    assert_err(
        &out,
        "sub_gone",
        "NotFound",
        404,
        Some("Subscription does not exist"),
    );
    assert_err(&out, "list_by_missing", "NotFound", 404, None);
    assert_err(&out, "unimplemented", "NotImplemented", 501, None);
    assert_eq!(out["pages"], json!([100, 7]), "ListTopics pages by 100");
    assert_eq!(out["paged_unique"], 107);
}
