//! Composite alarm action suppression on a frozen clock (boto3 for the timing, the aws CLI for
//! what a user reads), DescribeAnomalyDetectors, and the extended statistics besides
//! percentiles through the aws CLI; the alarm e-mail `email` subscribers get.

use serde_json::{Value, json};

use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;
use crate::sns::wait_inbox;

#[test]
fn composite_actions_wait_and_are_suppressed() {
    let server = frozen_server();
    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}\n{}",
        r#"
c = client('cloudwatch')
out = {}
base = dict(Namespace='Sup', Statistic='Average', Period=60, EvaluationPeriods=1, Threshold=1.0,
    ComparisonOperator='GreaterThanThreshold', TreatMissingData='ignore')
for name in ['child', 'maint', 'child2']:
    c.put_metric_alarm(AlarmName=name, MetricName=name, **base)
    c.set_alarm_state(AlarmName=name, StateValue='OK', StateReason='start')
topic = client('sns').create_topic(Name='pager')['TopicArn']
def comp(name, rule):
    c.put_composite_alarm(AlarmName=name, AlarmRule=rule, AlarmActions=[topic],
        ActionsSuppressor='maint', ActionsSuppressorWaitPeriod=120, ActionsSuppressorExtensionPeriod=180)
def get(name):
    return c.describe_alarms(AlarmNames=[name], AlarmTypes=['CompositeAlarm'])['CompositeAlarms'][0]
def wait(name, key, want):
    for _ in range(150):
        a = get(name)
        if a.get(key) == want:
            return a
        time.sleep(0.02)
    return a
def actions(name):
    return len(c.describe_alarm_history(AlarmName=name, HistoryItemType='Action')['AlarmHistoryItems'])
comp('page', 'ALARM(child)')
wait('page', 'StateValue', 'OK')
# 1. The composite enters ALARM: actions wait 120 s, then run.
c.set_alarm_state(AlarmName='child', StateValue='ALARM', StateReason='boom')
a = wait('page', 'ActionsSuppressedBy', 'WaitPeriod')
out['waiting'] = [a['StateValue'], a.get('ActionsSuppressedBy'), a.get('ActionsSuppressedReason'), actions('page')]
out['config'] = [a['ActionsSuppressor'], a['ActionsSuppressorWaitPeriod'], a['ActionsSuppressorExtensionPeriod']]
clock(60); time.sleep(0.2)
out['after_60'] = actions('page')
clock(70)
for _ in range(150):
    if actions('page') == 1:
        break
    time.sleep(0.02)
out['after_130'] = [actions('page'), get('page').get('ActionsSuppressedBy')]
# 2. The suppressor goes into ALARM during the wait: the actions are dropped.
comp('page2', 'ALARM(child2)')
wait('page2', 'StateValue', 'OK')
c.set_alarm_state(AlarmName='child2', StateValue='ALARM', StateReason='boom')
wait('page2', 'ActionsSuppressedBy', 'WaitPeriod')
c.set_alarm_state(AlarmName='maint', StateValue='ALARM', StateReason='maintenance')
a = wait('page2', 'ActionsSuppressedBy', 'Alarm')
out['by_alarm'] = [a.get('ActionsSuppressedBy'), a.get('ActionsSuppressedReason')]
clock(200); time.sleep(0.2)
out['dropped'] = actions('page2')
# 3. The suppressor leaves ALARM: suppression extends for 180 s, then ends.
c.set_alarm_state(AlarmName='maint', StateValue='OK', StateReason='done')
out['extension'] = wait('page2', 'ActionsSuppressedBy', 'ExtensionPeriod').get('ActionsSuppressedBy')
clock(200)
for _ in range(150):
    if 'ActionsSuppressedBy' not in get('page2'):
        break
    time.sleep(0.02)
out['after_extension'] = [get('page2').get('ActionsSuppressedBy'), actions('page2')]
print(json.dumps(out))
"#
    ));
    assert_eq!(
        out["waiting"],
        json!(["ALARM", "WaitPeriod", "Actions suppressed by WaitPeriod", 0]),
        "{out}"
    );
    assert_eq!(out["config"], json!(["maint", 120, 180]), "{out}");
    assert_eq!(out["after_60"], 0, "{out}");
    assert_eq!(out["after_130"], json!([1, null]), "{out}");
    assert_eq!(
        out["by_alarm"],
        json!(["Alarm", "Actions suppressed by Alarm"]),
        "{out}"
    );
    assert_eq!(out["dropped"], 0, "{out}");
    assert_eq!(out["extension"], "ExtensionPeriod", "{out}");
    assert_eq!(out["after_extension"], json!([null, 0]), "{out}");

    // What the aws CLI shows of a composite while it waits, and the anomaly detectors.
    let cli = |args: &[&str]| {
        let r = server.aws(args);
        assert!(r.ok, "{args:?}: {}", r.stderr);
        r.json()
    };
    let listed = cli(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-names",
        "page2",
        "--alarm-types",
        "CompositeAlarm",
    ]);
    assert_eq!(listed["CompositeAlarms"][0]["ActionsSuppressor"], "maint");
    let detectors = cli(&["cloudwatch", "describe-anomaly-detectors"]);
    assert_eq!(detectors["AnomalyDetectors"], Value::Array(vec![]));
    let bad = server.aws(&[
        "cloudwatch",
        "describe-anomaly-detectors",
        "--anomaly-detector-types",
        "SOMETHING",
    ]);
    assert_eq!(bad.error_code(), "ValidationError");
}

#[test]
fn trimmed_statistics_through_the_cli() {
    let server = frozen_server();
    let now = server.http("GET", "/_updraft/clock", &[], b"").json()["epoch_seconds"]
        .as_f64()
        .expect("clock");
    let minute = (now / 60.0).floor() * 60.0 - 120.0;
    let stamp = |t: f64| format!("{}", t as i64);
    let values: Vec<String> = (1..=10).map(|v| v.to_string()).collect();
    let data = format!(
        "MetricName=lat,Timestamp={},Values=[{}]",
        stamp(minute + 10.0),
        values.join(",")
    );
    let put = server.aws(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "Trim",
        "--metric-data",
        &data,
    ]);
    assert!(put.ok, "{}", put.stderr);
    let got = server.aws(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "Trim",
        "--metric-name",
        "lat",
        "--start-time",
        &stamp(minute),
        "--end-time",
        &stamp(minute + 60.0),
        "--period",
        "60",
        "--extended-statistics",
        "tm90",
        "IQM",
        "TM(2:5)",
        "wm80",
        "tc90",
        "PR(:3)",
    ]);
    assert!(got.ok, "{}", got.stderr);
    let point = &got.json()["Datapoints"][0]["ExtendedStatistics"];
    assert_eq!(
        *point,
        json!({"tm90": 5.0, "IQM": 5.5, "TM(2:5)": 4.0, "wm80": 5.2, "tc90": 9.0, "PR(:3)": 30.0}),
        "{point}"
    );
    let bad = server.aws(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "Trim",
        "--metric-name",
        "lat",
        "--start-time",
        &stamp(minute),
        "--end-time",
        &stamp(minute + 60.0),
        "--period",
        "60",
        "--extended-statistics",
        "TM(10%:90)",
    ]);
    assert_eq!(bad.error_code(), "InvalidParameterValue");
    // Alarms take them too.
    let alarm = server.aws(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "trimmed",
        "--namespace",
        "Trim",
        "--metric-name",
        "lat",
        "--extended-statistic",
        "tm90",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "4",
        "--comparison-operator",
        "GreaterThanThreshold",
    ]);
    assert!(alarm.ok, "{}", alarm.stderr);
}

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
