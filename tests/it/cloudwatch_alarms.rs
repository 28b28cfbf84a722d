//! CloudWatch alarms through real clients on a frozen clock: exact evaluation timing, M of N,
//! missing-data treatments, SetAlarmState and re-evaluation, composite alarms, history, tags
//! and AWS's errors — over JSON, query and CBOR.

use serde_json::{Value, json};

use crate::cli::forced_model;
use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

/// Python helpers shared by the alarm scripts: `get`, `wait` (bounded polling of the
/// evaluator), `walk` (one evaluation per minute at :05, recording the state each time).
const ALARM_PRELUDE: &str = r#"
c = client('cloudwatch')
out = {'proto': c.meta.service_model.resolved_protocol}
now = clock()
A = now - now % 60 + 60
def get(name):
    r = c.describe_alarms(AlarmNames=[name], AlarmTypes=['MetricAlarm', 'CompositeAlarm'])
    return (r['MetricAlarms'] + r['CompositeAlarms'])[0]
def wait(name, want, tries=150):
    for _ in range(tries):
        a = get(name)
        if a['StateValue'] == want:
            return a
        time.sleep(0.02)
    return a
def walk(name, minutes, expected):
    seen = []
    for m, want in zip(minutes, expected):
        advance_to(A + 60 * m + 5)
        seen.append(wait(name, want)['StateValue'])
    return seen
def stamp(t):
    return at(t).strftime('%d/%m/%y %H:%M:%S')
def reason(a):
    return {'state': a['StateValue'], 'reason': a['StateReason'], 'data': json.loads(a['StateReasonData']) if a.get('StateReasonData') else None}
"#;

fn run(script: &str, data_path: Option<&str>) -> Value {
    let server = frozen_server();
    let env: Vec<(&str, &str)> = data_path
        .map(|p| vec![("AWS_DATA_PATH", p)])
        .unwrap_or_default();
    server.boto3_with_env(
        &format!("{BOTO3_PRELUDE}{CW_PRELUDE}{ALARM_PRELUDE}\n{script}\nprint(json.dumps(out, default=str))\n"),
        &env,
    )
}

/// Period 60, one evaluation period: created at :30, a datapoint for minute 1, ALARM exactly
/// at 2:05 (not 2:04), OK exactly at 3:05 after a low point; history, actions, describe
/// filters, tags and errors along the way (JSON protocol).
#[test]
fn period_60_alarm_fires_and_clears_on_time() {
    let out = run(
        r#"
import urllib.request
sns = client('sns')
topic = sns.create_topic(Name='alerts')['TopicArn']
sns.subscribe(TopicArn=topic, Protocol='email-json', Endpoint='ops@example.com')
advance_to(A + 30)
c.put_metric_alarm(AlarmName='cpu-high', MetricName='CPU', Namespace='App', Statistic='Average', Period=60,
    EvaluationPeriods=1, Threshold=80.0, ComparisonOperator='GreaterThanOrEqualToThreshold',
    AlarmActions=[topic], OKActions=[topic], Tags=[{'Key': 'team', 'Value': 'web'}])
time.sleep(0.1)
a = get('cpu-high')
out['created'] = [a['StateValue'], a['StateReason'], 'StateReasonData' in a, a['AlarmArn'], a['ActionsEnabled'], a['Dimensions'], a['InsufficientDataActions'], 'TreatMissingData' in a]
c.put_metric_data(Namespace='App', MetricData=[{'MetricName': 'CPU', 'Value': 85.0, 'Timestamp': at(A + 70)}])
advance_to(A + 65); out['at_1_05'] = get('cpu-high')['StateValue']
advance_to(A + 124); time.sleep(0.15); out['at_2_04'] = get('cpu-high')['StateValue']
advance_to(A + 125); out['at_2_05'] = reason(wait('cpu-high', 'ALARM'))
out['stamp_1'] = stamp(A + 60)
c.put_metric_data(Namespace='App', MetricData=[{'MetricName': 'CPU', 'Value': 10.0, 'Timestamp': at(A + 130)}])
advance_to(A + 184); time.sleep(0.15); out['at_3_04'] = get('cpu-high')['StateValue']
advance_to(A + 185); out['at_3_05'] = reason(wait('cpu-high', 'OK'))
out['stamp_2'] = stamp(A + 120)
h = c.describe_alarm_history(AlarmName='cpu-high', ScanBy='TimestampAscending')['AlarmHistoryItems']
out['history'] = [[i['HistoryItemType'], i['HistorySummary']] for i in h]
out['history_data'] = json.loads([i for i in h if i['HistoryItemType'] == 'StateUpdate'][0]['HistoryData'])
out['history_metric_only'] = len(c.describe_alarm_history()['AlarmHistoryItems'])
out['history_actions'] = len(c.describe_alarm_history(AlarmName='cpu-high', HistoryItemType='Action')['AlarmHistoryItems'])
action = c.describe_alarm_history(AlarmName='cpu-high', HistoryItemType='Action', ScanBy='TimestampAscending')['AlarmHistoryItems'][0]
out['action_data'] = json.loads(action['HistoryData'])
# Deliveries are asynchronous: wait (bounded) for both notifications.
for _ in range(200):
    inbox = json.load(urllib.request.urlopen(os.environ['ENDPOINT'] + '/_updraft/sns/inbox?endpoint=ops@example.com'))
    if len(inbox) >= 2:
        break
    time.sleep(0.05)
# email-json gets SNS's JSON envelope around the `default` alarm JSON.
out['inbox'] = [[m['subject'], json.loads(json.loads(m['message'])['Message'])] for m in inbox if m['topic_arn'] == topic]
# An update replaces the configuration but keeps the state.
c.put_metric_alarm(AlarmName='cpu-high', MetricName='CPU', Namespace='App', Statistic='Maximum', Period=60,
    EvaluationPeriods=1, Threshold=90.0, ComparisonOperator='GreaterThanThreshold')
a = get('cpu-high')
out['updated'] = [a['StateValue'], a['Statistic'], a['AlarmActions'], a['Threshold']]
for i in range(3):
    c.put_metric_alarm(AlarmName='page-%d' % i, MetricName='Other', Namespace='App', Statistic='Sum', Period=300,
        EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=1.0, ComparisonOperator='LessThanThreshold',
        AlarmActions=['arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:0c3b9c3a-1d2e-4f5a-8b7c-6d5e4f3a2b1c:autoScalingGroupName/web:policyName/up'] if i == 0 else [])
p1 = c.describe_alarms(AlarmNamePrefix='page-', MaxRecords=2)
p2 = c.describe_alarms(AlarmNamePrefix='page-', MaxRecords=2, NextToken=p1['NextToken'])
out['pages'] = [[a['AlarmName'] for a in p1['MetricAlarms']], [a['AlarmName'] for a in p2['MetricAlarms']], 'NextToken' in p2, p1['CompositeAlarms']]
out['by_state'] = sorted(a['AlarmName'] for a in c.describe_alarms(StateValue='OK')['MetricAlarms'])
out['by_action'] = [a['AlarmName'] for a in c.describe_alarms(ActionPrefix='arn:aws:autoscaling')['MetricAlarms']]
out['for_metric'] = [a['AlarmName'] for a in c.describe_alarms_for_metric(MetricName='Other', Namespace='App', Period=300)['MetricAlarms']]
arn = get('cpu-high')['AlarmArn']
out['tags'] = c.list_tags_for_resource(ResourceARN=arn)['Tags']
c.tag_resource(ResourceARN=arn, Tags=[{'Key': 'env', 'Value': 'dev'}, {'Key': 'team', 'Value': 'ops'}])
c.untag_resource(ResourceARN=arn, TagKeys=['env'])
out['tags2'] = c.list_tags_for_resource(ResourceARN=arn)['Tags']
out['tag_missing'] = err(c, lambda: c.list_tags_for_resource(ResourceARN=arn + 'nope'))
base = dict(MetricName='CPU', Namespace='App', Statistic='Average', Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator='GreaterThanThreshold')
out['err_region'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', AlarmActions=['arn:aws:sns:us-west-2:000000000000:t'], **base))
out['err_arn'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', AlarmActions=['my-policy'], **base))
out['err_m'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', DatapointsToAlarm=3, **base))
out['err_anomaly'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', **dict(base, ComparisonOperator='LessThanLowerThreshold')))
out['err_stat'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', **dict(base, Statistic='Median')))
out['err_day'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', **dict(base, EvaluationPeriods=1441)))
out['err_set_missing'] = err(c, lambda: c.set_alarm_state(AlarmName='nope', StateValue='OK', StateReason='x'))
out['err_set_state'] = err(c, lambda: c.set_alarm_state(AlarmName='cpu-high', StateValue='INVALID', StateReason='x'))
out['err_set_json'] = err(c, lambda: c.set_alarm_state(AlarmName='cpu-high', StateValue='OK', StateReason='x', StateReasonData='{no'))
out['names_after_failures'] = sorted(a['AlarmName'] for a in c.describe_alarms()['MetricAlarms'])
c.delete_alarms(AlarmNames=['page-1', 'never-existed'])
out['after_delete'] = sorted(a['AlarmName'] for a in c.describe_alarms()['MetricAlarms'])
"#,
        None,
    );
    assert_eq!(out["proto"], "json");
    assert_eq!(
        out["created"],
        json!([
            "INSUFFICIENT_DATA",
            "Unchecked: Initial alarm creation",
            false,
            "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high",
            true,
            [],
            [],
            false
        ]),
        "{out}"
    );
    assert_eq!(out["at_1_05"], "INSUFFICIENT_DATA", "{out}");
    assert_eq!(out["at_2_04"], "INSUFFICIENT_DATA", "{out}");
    let s1 = out["stamp_1"].as_str().unwrap();
    assert_eq!(out["at_2_05"]["state"], "ALARM", "{out}");
    assert_eq!(
        out["at_2_05"]["reason"],
        format!(
            "Threshold Crossed: 1 datapoint [85.0 ({s1})] was greater than or equal to the threshold (80.0)."
        )
    );
    let data = &out["at_2_05"]["data"];
    assert_eq!(data["version"], "1.0");
    assert_eq!(data["statistic"], "Average");
    assert_eq!(data["period"], 60);
    assert_eq!(data["recentDatapoints"], json!([85.0]));
    assert_eq!(data["threshold"], 80.0);
    assert_eq!(data["evaluatedDatapoints"][0]["value"], 85.0);
    assert!(
        data["queryDate"]
            .as_str()
            .unwrap()
            .ends_with(":05.000+0000"),
        "{data}"
    );
    assert_eq!(out["at_3_04"], "ALARM", "{out}");
    let s2 = out["stamp_2"].as_str().unwrap();
    assert_eq!(
        out["at_3_05"]["reason"],
        format!(
            "Threshold Crossed: 1 datapoint [10.0 ({s2})] was not greater than or equal to the threshold (80.0)."
        )
    );
    let topic = "arn:aws:sns:us-east-1:000000000000:alerts";
    let delivered = format!("Successfully executed action {topic}");
    assert_eq!(
        out["history"],
        json!([
            ["ConfigurationUpdate", "Alarm \"cpu-high\" created"],
            [
                "StateUpdate",
                "Alarm updated from INSUFFICIENT_DATA to ALARM"
            ],
            ["Action", delivered],
            ["StateUpdate", "Alarm updated from ALARM to OK"],
            ["Action", delivered],
        ]),
        "{out}"
    );
    let hd = &out["history_data"];
    assert_eq!(hd["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(
        hd["oldState"]["stateReason"],
        "Unchecked: Initial alarm creation"
    );
    assert_eq!(
        hd["newState"]["stateReasonData"]["recentDatapoints"],
        json!([85.0])
    );
    assert_eq!(out["history_actions"], 2);
    // The alarm's notifications reached the topic's email-json subscriber, as AWS writes them.
    assert_eq!(out["action_data"]["actionState"], "Succeeded", "{out}");
    assert_eq!(out["action_data"]["notificationResource"], topic);
    // The history records the message-structure JSON that was published.
    let published: Value =
        serde_json::from_str(out["action_data"]["publishedMessage"].as_str().unwrap()).unwrap();
    assert_eq!(
        published["sms"],
        "ALARM: \"cpu-high\" in US East (N. Virginia)"
    );
    assert!(
        published["email"]
            .as_str()
            .unwrap()
            .starts_with("You are receiving this email because"),
        "{published}"
    );
    let inbox = out["inbox"].as_array().unwrap();
    assert_eq!(inbox.len(), 2, "{out}");
    assert_eq!(inbox[0][0], "ALARM: \"cpu-high\" in US East (N. Virginia)");
    assert_eq!(inbox[1][0], "OK: \"cpu-high\" in US East (N. Virginia)");
    let alarm = &inbox[0][1];
    let default: Value = serde_json::from_str(published["default"].as_str().unwrap()).unwrap();
    assert_eq!(&default, alarm);
    assert_eq!(alarm["AlarmName"], "cpu-high");
    assert_eq!(alarm["AWSAccountId"], "000000000000");
    assert_eq!(alarm["NewStateValue"], "ALARM");
    assert_eq!(alarm["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(alarm["NewStateReason"], out["at_2_05"]["reason"]);
    assert_eq!(alarm["Region"], "US East (N. Virginia)");
    assert_eq!(
        alarm["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high"
    );
    assert_eq!(alarm["AlarmActions"], json!([topic]));
    assert!(
        alarm["StateChangeTime"]
            .as_str()
            .unwrap()
            .ends_with("+0000"),
        "{alarm}"
    );
    let trigger = &alarm["Trigger"];
    assert_eq!(
        (
            &trigger["MetricName"],
            &trigger["Namespace"],
            &trigger["Statistic"],
            &trigger["StatisticType"]
        ),
        (
            &json!("CPU"),
            &json!("App"),
            &json!("AVERAGE"),
            &json!("Statistic")
        )
    );
    assert_eq!(trigger["Period"], 60);
    assert_eq!(trigger["Threshold"], 80.0);
    assert_eq!(
        trigger["ComparisonOperator"],
        "GreaterThanOrEqualToThreshold"
    );
    assert_eq!(trigger["Unit"], Value::Null);
    assert_eq!(trigger["TreatMissingData"], "");
    assert_eq!(inbox[1][1]["NewStateValue"], "OK");
    assert_eq!(out["history_metric_only"], 5);
    assert_eq!(out["updated"], json!(["OK", "Maximum", [], 90.0]), "{out}");
    assert_eq!(
        out["pages"],
        json!([["page-0", "page-1"], ["page-2"], false, []]),
        "{out}"
    );
    assert_eq!(out["by_state"], json!(["cpu-high"]), "{out}");
    assert_eq!(out["by_action"], json!(["page-0"]), "{out}");
    assert_eq!(
        out["for_metric"],
        json!(["page-0", "page-1", "page-2"]),
        "{out}"
    );
    assert_eq!(out["tags"], json!([{"Key": "team", "Value": "web"}]));
    assert_eq!(out["tags2"], json!([{"Key": "team", "Value": "ops"}]));
    assert_eq!(out["tag_missing"]["code"], "ResourceNotFoundException");
    assert_eq!(
        (&out["err_region"]["code"], &out["err_region"]["message"]),
        (
            &json!("ValidationError"),
            &json!("Invalid region us-west-2 specified. Only us-east-1 is supported.")
        ),
        "{out}"
    );
    assert_eq!(out["err_arn"]["code"], "ValidationError");
    assert_eq!(out["err_arn"]["message"], "");
    assert_eq!(out["err_m"]["code"], "ValidationError");
    assert!(
        out["err_anomaly"]["message"]
            .as_str()
            .unwrap()
            .contains("requires ThresholdMetricId"),
        "{out}"
    );
    assert_eq!(
        out["err_stat"]["message"],
        "1 validation error detected: Value 'Median' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [SampleCount, Average, Sum, Minimum, Maximum]"
    );
    assert_eq!(out["err_day"]["code"], "InvalidParameterCombination");
    assert_eq!(out["err_set_missing"]["code"], "ResourceNotFound");
    assert_eq!(out["err_set_missing"]["status"], 404);
    assert_eq!(
        out["err_set_state"]["message"],
        "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
    );
    assert_eq!(out["err_set_json"]["code"], "InvalidFormat");
    assert_eq!(
        out["err_set_json"]["modelled"],
        json!(["InvalidFormatFault"])
    );
    assert_eq!(
        out["names_after_failures"],
        json!(["cpu-high", "page-0", "page-1", "page-2"]),
        "a failed call changes nothing"
    );
    assert_eq!(out["after_delete"], json!(["cpu-high", "page-0", "page-2"]));
}

/// Period 300, 2 of 3 (query protocol): one breaching period is too young to alarm; the second
/// one makes it ALARM exactly at the minute its 5-minute window first holds both; a low
/// average in the newest window brings it back to OK.
#[test]
fn period_300_two_of_three_over_query() {
    let query = forced_model("query");
    let out = run(
        r#"
advance_to(A + 30)
c.put_metric_alarm(AlarmName='p300', MetricName='Load', Namespace='App', Statistic='Average', Period=300,
    EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=50.0, ComparisonOperator='GreaterThanThreshold')
c.put_metric_data(Namespace='App', MetricData=[
    {'MetricName': 'Load', 'Value': 90.0, 'Timestamp': at(A + 60)},
    {'MetricName': 'Load', 'Value': 95.0, 'Timestamp': at(A + 360)}])
out['walk'] = walk('p300', range(1, 7), ['INSUFFICIENT_DATA'] * 6)
advance_to(A + 424); time.sleep(0.15); out['at_7_04'] = get('p300')['StateValue']
advance_to(A + 425); out['at_7_05'] = reason(wait('p300', 'ALARM'))
out['stamps'] = [stamp(A + 120), stamp(A - 180), stamp(A + 180)]
c.put_metric_data(Namespace='App', MetricData=[
    {'MetricName': 'Load', 'Value': 10.0, 'Timestamp': at(A + 420)},
    {'MetricName': 'Load', 'Value': 10.0, 'Timestamp': at(A + 450)}])
advance_to(A + 484); time.sleep(0.15); out['at_8_04'] = get('p300')['StateValue']
advance_to(A + 485); out['at_8_05'] = reason(wait('p300', 'OK'))
out['avg'] = repr((95.0 + 10.0 + 10.0) / 3)
"#,
        Some(query.path()),
    );
    assert_eq!(out["proto"], "query");
    assert_eq!(out["walk"], json!(vec!["INSUFFICIENT_DATA"; 6]), "{out}");
    assert_eq!(out["at_7_04"], "INSUFFICIENT_DATA");
    let st = |i: usize| out["stamps"][i].as_str().unwrap().to_owned();
    assert_eq!(
        out["at_7_05"]["reason"],
        format!(
            "Threshold Crossed: 2 out of the last 3 datapoints [95.0 ({}), 90.0 ({})] were greater than the threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition).",
            st(0),
            st(1)
        ),
        "{out}"
    );
    assert_eq!(
        out["at_7_05"]["data"]["recentDatapoints"],
        json!([90.0, 95.0])
    );
    assert_eq!(out["at_8_04"], "ALARM");
    assert_eq!(
        out["at_8_05"]["reason"],
        format!(
            "Threshold Crossed: 1 out of the last 3 datapoints [{} ({})] was not greater than the threshold (50.0) (minimum 2 datapoints for ALARM -> OK transition).",
            out["avg"].as_str().unwrap(),
            st(2)
        ),
        "{out}"
    );
}

/// Each TreatMissingData value with no data at all, and a metric that stops (CBOR protocol).
#[test]
fn missing_data_treatments_over_cbor() {
    let cbor = forced_model("smithy-rpc-v2-cbor");
    let out = run(
        r#"
advance_to(A + 30)
def alarm(name, tmd, **kw):
    args = dict(AlarmName=name, MetricName=name, Namespace='Gaps', Statistic='Maximum', Period=60,
        EvaluationPeriods=1, Threshold=50.0, ComparisonOperator='GreaterThanOrEqualToThreshold', **kw)
    if tmd:
        args['TreatMissingData'] = tmd
    c.put_metric_alarm(**args)
for tmd in ['missing', 'ignore', 'breaching', 'notBreaching']:
    alarm('none-' + tmd, tmd)
time.sleep(0.1)
out['none'] = {t: [get('none-' + t)['StateValue'], get('none-' + t)['StateReason'], get('none-' + t).get('TreatMissingData')]
               for t in ['missing', 'ignore', 'breaching', 'notBreaching']}
alarm('none-breaching', 'breaching')
out['none_breaching_again'] = get('none-breaching')['StateValue']
alarm('stops', None)
alarm('stops-ignore', 'ignore')
c.put_metric_data(Namespace='Gaps', MetricData=[{'MetricName': 'stops', 'Value': 85.0, 'Timestamp': at(A + 40)},
                                                 {'MetricName': 'stops-ignore', 'Value': 85.0, 'Timestamp': at(A + 40)}])
out['stops'] = walk('stops', range(1, 8), ['ALARM'] * 6 + ['INSUFFICIENT_DATA'])
a = get('stops')
out['stops_reason'] = reason(a)
out['stops_ignore'] = get('stops-ignore')['StateValue']
out['stops_tmd'] = 'TreatMissingData' in a
"#,
        Some(cbor.path()),
    );
    assert_eq!(out["proto"], "smithy-rpc-v2-cbor");
    assert_eq!(
        out["none"],
        json!({
            "missing": ["INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", "missing"],
            "ignore": ["INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", "ignore"],
            "breaching": ["ALARM", "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].", "breaching"],
            "notBreaching": ["OK", "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].", "notBreaching"],
        }),
        "{out}"
    );
    assert_eq!(out["none_breaching_again"], "ALARM");
    assert_eq!(
        out["stops"],
        json!([
            "ALARM",
            "ALARM",
            "ALARM",
            "ALARM",
            "ALARM",
            "ALARM",
            "INSUFFICIENT_DATA"
        ]),
        "{out}"
    );
    assert_eq!(
        out["stops_reason"]["reason"],
        "Insufficient Data: 1 datapoint was unknown."
    );
    assert_eq!(out["stops_reason"]["data"]["recentDatapoints"], json!([]));
    assert_eq!(
        out["stops_reason"]["data"]["evaluatedDatapoints"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(out["stops_ignore"], "ALARM");
    assert_eq!(
        out["stops_tmd"], false,
        "TreatMissingData is not returned when unset"
    );
}

/// SetAlarmState is a real transition that the next evaluation overrides (unless the data is
/// all missing and ignored); composite alarms follow their children (JSON protocol).
#[test]
fn set_alarm_state_and_composite_alarms() {
    let out = run(
        r#"
advance_to(A + 30)
base = dict(Namespace='Set', Statistic='Average', Period=60, EvaluationPeriods=1, Threshold=80.0,
    ComparisonOperator='GreaterThanOrEqualToThreshold')
c.put_metric_alarm(AlarmName='quiet', MetricName='quiet', **base)
c.put_metric_alarm(AlarmName='held', MetricName='held', TreatMissingData='ignore', **base)
c.put_metric_data(Namespace='Set', MetricData=[{'MetricName': 'quiet', 'Value': 10.0, 'Timestamp': at(A + 60 * m)} for m in range(0, 5)])
advance_to(A + 65); wait('quiet', 'OK')
c.set_alarm_state(AlarmName='quiet', StateValue='ALARM', StateReason='testing')
c.set_alarm_state(AlarmName='held', StateValue='ALARM', StateReason='by hand', StateReasonData='{"k": 1}')
a = get('quiet')
out['set'] = [a['StateValue'], a['StateReason']]
advance_to(A + 125)
out['quiet_after'] = wait('quiet', 'OK')['StateValue']
out['held_walk'] = walk('held', range(3, 6), ['ALARM'] * 3)
out['held_data'] = json.loads(get('held')['StateReasonData'])
out['quiet_history'] = [i['HistorySummary'] for i in c.describe_alarm_history(AlarmName='quiet', HistoryItemType='StateUpdate', ScanBy='TimestampAscending')['AlarmHistoryItems']]
# Composite alarms.
c.put_metric_alarm(AlarmName='c1', MetricName='c1', TreatMissingData='ignore', **base)
c.put_metric_alarm(AlarmName='c2', MetricName='c2', TreatMissingData='ignore', **base)
c.set_alarm_state(AlarmName='c1', StateValue='OK', StateReason='start')
c.set_alarm_state(AlarmName='c2', StateValue='OK', StateReason='start')
c.put_composite_alarm(AlarmName='either', AlarmRule='ALARM(c1) OR ALARM("c2")', AlarmActions=['arn:aws:sns:us-east-1:000000000000:page'])
out['composite_start'] = wait('either', 'OK')['StateValue']
c.set_alarm_state(AlarmName='c1', StateValue='ALARM', StateReason='boom')
a = wait('either', 'ALARM')
out['composite_alarm'] = reason(a)
out['c1_arn'] = get('c1')['AlarmArn']
c.set_alarm_state(AlarmName='c1', StateValue='OK', StateReason='fine')
out['composite_ok'] = wait('either', 'OK')['StateValue']
r = c.describe_alarms(AlarmTypes=['CompositeAlarm'])
out['listed'] = [[x['AlarmName'], x['AlarmRule']] for x in r['CompositeAlarms']] + [len(r['MetricAlarms'])]
out['default_types'] = len(c.describe_alarms()['CompositeAlarms'])
out['parents'] = [x['AlarmName'] for x in c.describe_alarms(ParentsOfAlarmName='c1')['CompositeAlarms']]
out['composite_history'] = [i['HistorySummary'] for i in c.describe_alarm_history(AlarmName='either', ScanBy='TimestampAscending')['AlarmHistoryItems']]
out['err_delete_child'] = err(c, lambda: c.delete_alarms(AlarmNames=['c1']))
out['err_rule'] = err(c, lambda: c.put_composite_alarm(AlarmName='bad', AlarmRule=')'))
out['err_child'] = err(c, lambda: c.put_composite_alarm(AlarmName='bad', AlarmRule='ALARM(ghost)'))
out['err_asg'] = err(c, lambda: c.put_composite_alarm(AlarmName='bad', AlarmRule='ALARM(c1)', AlarmActions=['arn:aws:automate:us-east-1:ec2:stop']))
c.delete_alarms(AlarmNames=['either'])
c.delete_alarms(AlarmNames=['c1'])
out['left'] = sorted(x['AlarmName'] for x in c.describe_alarms(AlarmTypes=['MetricAlarm', 'CompositeAlarm'])['MetricAlarms'])
"#,
        None,
    );
    assert_eq!(out["set"], json!(["ALARM", "testing"]), "{out}");
    assert_eq!(
        out["quiet_after"], "OK",
        "the next evaluation overrides SetAlarmState"
    );
    assert_eq!(
        out["held_walk"],
        json!(["ALARM", "ALARM", "ALARM"]),
        "{out}"
    );
    assert_eq!(out["held_data"], json!({"k": 1}));
    assert_eq!(
        out["quiet_history"],
        json!([
            "Alarm updated from INSUFFICIENT_DATA to OK",
            "Alarm updated from OK to ALARM",
            "Alarm updated from ALARM to OK"
        ]),
        "{out}"
    );
    assert_eq!(out["composite_start"], "OK", "{out}");
    let arn = out["c1_arn"].as_str().unwrap();
    let r = out["composite_alarm"]["reason"].as_str().unwrap();
    assert!(
        r.starts_with(&format!("{arn} transitioned to ALARM at ")),
        "{r}"
    );
    assert!(r.ends_with(" UTC"), "{r}");
    let trig = &out["composite_alarm"]["data"]["triggeringAlarms"][0];
    assert_eq!(trig["arn"], arn);
    assert_eq!(trig["state"]["value"], "ALARM");
    assert_eq!(out["composite_ok"], "OK", "{out}");
    assert_eq!(
        out["listed"],
        json!([["either", "ALARM(c1) OR ALARM(\"c2\")"], 0])
    );
    assert_eq!(out["default_types"], 0);
    assert_eq!(out["parents"], json!(["either"]));
    assert_eq!(
        out["composite_history"],
        json!([
            "Alarm \"either\" created",
            "Alarm updated from INSUFFICIENT_DATA to OK",
            "Alarm updated from OK to ALARM",
            "Failed to execute action arn:aws:sns:us-east-1:000000000000:page. Received error: \"Topic does not exist\"",
            "Alarm updated from ALARM to OK"
        ]),
        "{out}"
    );
    assert_eq!(
        (
            &out["err_delete_child"]["code"],
            &out["err_delete_child"]["message"]
        ),
        (
            &json!("ValidationError"),
            &json!("Cannot delete c1 as there are composite alarm(s) depending on it.")
        ),
    );
    assert_eq!(
        out["err_rule"]["message"],
        "Error in AlarmRule [Unsupported token ')' at char 1]"
    );
    assert_eq!(out["err_child"]["code"], "ValidationError");
    assert_eq!(out["err_asg"]["code"], "ValidationError");
    assert_eq!(out["left"], json!(["c2", "held", "quiet"]));
}
