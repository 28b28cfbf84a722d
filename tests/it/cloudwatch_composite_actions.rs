//! Composite alarm action suppression on a frozen clock: boto3 for the timing, the aws CLI for
//! what a user reads (and for DescribeAnomalyDetectors).

use serde_json::{Value, json};

use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

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
