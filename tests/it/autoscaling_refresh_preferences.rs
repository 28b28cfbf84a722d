//! Instance refresh options through boto3 on a frozen clock: `MaxHealthyPercentage` 200
//! launches the new instances before it terminates the old (capacity never drops below the
//! desired), `BakeTime` holds the refresh in `Baking` before it succeeds, and an alarm of the
//! `AlarmSpecification` going to ALARM rolls the next refresh back (`AutoRollback`) or fails
//! it (without).

use serde_json::{Value, json};

use crate::autoscaling_boto3::ASG_PRELUDE;
use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

const SCRIPT: &str = r#"
out = {}
cw = client('cloudwatch')
ec2.create_launch_template(LaunchTemplateName='web', LaunchTemplateData={'ImageId': AMI, 'InstanceType': 't3.micro'})
for t in ('t3.small', 't3.medium'):
    ec2.create_launch_template_version(LaunchTemplateName='web', LaunchTemplateData={'ImageId': AMI, 'InstanceType': t})
asg.create_auto_scaling_group(AutoScalingGroupName='r', LaunchTemplate={'LaunchTemplateName': 'web', 'Version': '1'},
    MinSize=1, MaxSize=4, DesiredCapacity=2, AvailabilityZones=['us-east-1a'])
until(lambda: states('r') == ['InService', 'InService'])
cw.put_metric_alarm(AlarmName='refresh-errors', Namespace='App', MetricName='Errors', Statistic='Maximum',
    Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator='GreaterThanThreshold')
def latest():
    return asg.describe_instance_refreshes(AutoScalingGroupName='r')['InstanceRefreshes'][0]
def types():
    return sorted(i['InstanceType'] for i in describe('r')['Instances'] if i['LifecycleState'] == 'InService')
def watch(stop, limit=900):
    seen = {'max': 0, 'min': 99, 'statuses': []}
    def poll():
        r = latest()
        n = len(types())
        seen['max'] = max(seen['max'], n); seen['min'] = min(seen['min'], n)
        if r['Status'] not in seen['statuses']:
            seen['statuses'].append(r['Status'])
        return stop(r)
    seen['ended'] = bool(until(poll, step=5, limit=limit))
    return seen

# 1. Launch before terminate, then bake.
spec = {'Alarms': ['refresh-errors']}
asg.start_instance_refresh(AutoScalingGroupName='r', DesiredConfiguration={'LaunchTemplate': {'LaunchTemplateName': 'web', 'Version': '2'}},
    Preferences={'MinHealthyPercentage': 100, 'MaxHealthyPercentage': 200, 'InstanceWarmup': 30, 'BakeTime': 300,
                 'AutoRollback': True, 'AlarmSpecification': spec})
out['prefs'] = {k: latest()['Preferences'].get(k) for k in ('MaxHealthyPercentage', 'BakeTime', 'AutoRollback', 'AlarmSpecification')}
def baking(r):
    return r['Status'] == 'Baking'
out['first'] = watch(baking)
baked_at = clock()
out['bake'] = watch(lambda r: r['Status'] == 'Successful')
out['bake_waited'] = clock() - baked_at
out['types_after_first'] = types()

# 2. The alarm goes off during the next refresh: it rolls back to version 2.
asg.start_instance_refresh(AutoScalingGroupName='r', DesiredConfiguration={'LaunchTemplate': {'LaunchTemplateName': 'web', 'Version': '3'}},
    Preferences={'MinHealthyPercentage': 100, 'MaxHealthyPercentage': 200, 'InstanceWarmup': 300,
                 'AutoRollback': True, 'AlarmSpecification': spec})
# A long warm-up leaves the alarm time to evaluate before the batch finishes.
until(lambda: 't3.medium' in types(), step=5, limit=300)
out['version_during'] = describe('r')['LaunchTemplate']['Version']
now = clock()
cw.put_metric_data(Namespace='App', MetricData=[{'MetricName': 'Errors', 'Value': 50, 'Timestamp': at(now - 30)},
                                                {'MetricName': 'Errors', 'Value': 50, 'Timestamp': at(now + 30)}])
out['second'] = watch(lambda r: r['Status'] in ('RollbackSuccessful', 'RollbackFailed', 'Failed', 'Successful'))
out['second_final'] = {k: latest().get(k) for k in ('Status', 'StatusReason')}
out['version_after_rollback'] = describe('r')['LaunchTemplate']['Version']
out['types_after_rollback'] = types()

# 3. Without AutoRollback the alarm fails the refresh.
now = clock()
cw.put_metric_data(Namespace='App', MetricData=[{'MetricName': 'Errors', 'Value': 50, 'Timestamp': at(now + k)} for k in (-30, 30, 90)])
until(lambda: cw.describe_alarms(AlarmNames=['refresh-errors'])['MetricAlarms'][0]['StateValue'] == 'ALARM', step=5, limit=120)
asg.start_instance_refresh(AutoScalingGroupName='r', DesiredConfiguration={'LaunchTemplate': {'LaunchTemplateName': 'web', 'Version': '3'}},
    Preferences={'MinHealthyPercentage': 100, 'InstanceWarmup': 30, 'AlarmSpecification': spec})
out['third'] = until(lambda: latest()['Status'] in ('Failed', 'Successful') and latest()['Status'], step=5, limit=120)
print(json.dumps(out, default=str))
"#;

#[test]
fn refresh_launches_before_terminating_bakes_and_rolls_back_on_an_alarm() {
    let server = frozen_server();
    let out: Value = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{SCRIPT}"
    ));
    assert_eq!(
        out["prefs"],
        json!({"MaxHealthyPercentage": 200, "BakeTime": 300, "AutoRollback": true,
               "AlarmSpecification": {"Alarms": ["refresh-errors"]}})
    );
    let first = &out["first"];
    assert_eq!(first["ended"], true, "{out}");
    assert_eq!(
        first["max"], 4,
        "new instances came up beside the old: {out}"
    );
    assert_eq!(first["min"], 2, "never below the desired capacity: {out}");
    assert!(
        first["statuses"]
            .as_array()
            .unwrap()
            .contains(&json!("Baking")),
        "{out}"
    );
    assert_eq!(
        out["bake"]["statuses"],
        json!(["Baking", "Successful"]),
        "{out}"
    );
    assert!(out["bake_waited"].as_f64().unwrap() >= 295.0, "{out}");
    assert_eq!(out["types_after_first"], json!(["t3.small", "t3.small"]));

    assert_eq!(out["version_during"], "3");
    assert_eq!(out["second"]["ended"], true, "{out}");
    assert_eq!(out["second_final"]["Status"], "RollbackSuccessful", "{out}");
    assert!(
        out["second"]["statuses"]
            .as_array()
            .unwrap()
            .contains(&json!("RollbackInProgress")),
        "{out}"
    );
    assert_eq!(out["version_after_rollback"], "2");
    assert_eq!(
        out["types_after_rollback"],
        json!(["t3.small", "t3.small"]),
        "{out}"
    );
    assert_eq!(out["third"], "Failed", "{out}");
}

const PREFERENCES: &str = r#"
out = {}
ec2.create_launch_template(LaunchTemplateName='app', LaunchTemplateData={'ImageId': AMI, 'InstanceType': 't3.micro'})
for t in ('t3.small', 't3.medium'):
    ec2.create_launch_template_version(LaunchTemplateName='app', LaunchTemplateData={'ImageId': AMI, 'InstanceType': t})
asg.create_auto_scaling_group(AutoScalingGroupName='p', LaunchTemplate={'LaunchTemplateName': 'app', 'Version': '1'},
    MinSize=0, MaxSize=4, DesiredCapacity=3, AvailabilityZones=['us-east-1a'])
until(lambda: states('p') == ['InService'] * 3)
a, b, c = sorted(i['InstanceId'] for i in describe('p')['Instances'])
asg.set_instance_protection(AutoScalingGroupName='p', InstanceIds=[a], ProtectedFromScaleIn=True)
asg.enter_standby(AutoScalingGroupName='p', InstanceIds=[b], ShouldDecrementDesiredCapacity=False)
until(lambda: states('p') == ['InService'] * 3 + ['Standby'])
def latest():
    return asg.describe_instance_refreshes(AutoScalingGroupName='p')['InstanceRefreshes'][0]
def members():
    return {i['InstanceId']: (i['InstanceType'], i['LifecycleState']) for i in describe('p')['Instances']}
asg.start_instance_refresh(AutoScalingGroupName='p', DesiredConfiguration={'LaunchTemplate': {'LaunchTemplateName': 'app', 'Version': '2'}},
    Preferences={'MinHealthyPercentage': 50, 'InstanceWarmup': 0, 'ScaleInProtectedInstances': 'Ignore', 'StandbyInstances': 'Terminate'})
out['first'] = until(lambda: latest()['Status'] in ('Successful', 'Failed') and latest()['Status'], step=5, limit=900)
m = members()
out['protected_kept'] = m.get(a)
out['standby_gone'] = b not in m
out['standby_ec2'] = ec2.describe_instances(InstanceIds=[b])['Reservations'][0]['Instances'][0]['State']['Name']
out['others'] = sorted(t for i, (t, s) in m.items() if i != a)
# Defaults (Wait): the protected instance holds the refresh, which fails after an hour.
asg.start_instance_refresh(AutoScalingGroupName='p', DesiredConfiguration={'LaunchTemplate': {'LaunchTemplateName': 'app', 'Version': '3'}},
    Preferences={'MinHealthyPercentage': 50, 'InstanceWarmup': 0})
out['waiting'] = until(lambda: (latest().get('StatusReason') or '').startswith('Waiting for instances in Standby') and latest()['Status'], step=5, limit=900)
start = clock()
out['second'] = until(lambda: latest()['Status'] in ('Successful', 'Failed') and latest()['Status'], step=60, limit=4000)
out['failed_after'] = clock() - start
out['reason'] = latest().get('StatusReason')
out['protected_still'] = members().get(a)
print(json.dumps(out, default=str))
"#;

#[test]
fn refresh_preferences_for_protected_and_standby_instances() {
    let server = frozen_server();
    let out: Value = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{PREFERENCES}"
    ));
    assert_eq!(out["first"], "Successful", "{out}");
    assert_eq!(
        out["protected_kept"],
        json!(["t3.micro", "InService"]),
        "Ignore keeps it: {out}"
    );
    assert_eq!(out["standby_gone"], true, "Terminate ends it: {out}");
    assert!(
        matches!(
            out["standby_ec2"].as_str(),
            Some("shutting-down" | "terminated")
        ),
        "{out}"
    );
    assert_eq!(out["others"], json!(["t3.small", "t3.small"]), "{out}");
    assert_eq!(out["waiting"], "InProgress", "{out}");
    assert_eq!(out["second"], "Failed", "{out}");
    let waited = out["failed_after"].as_f64().unwrap();
    assert!((3500.0..=3700.0).contains(&waited), "about an hour: {out}");
    assert!(
        out["reason"].as_str().unwrap().contains("within one hour"),
        "{out}"
    );
    assert_eq!(out["protected_still"], json!(["t3.micro", "InService"]));
}
