//! Instance refresh through boto3 on a frozen clock: a rolling replacement that keeps
//! MinHealthyPercentage (on a group that first goes through metrics collection, account limits
//! and a warm pool's life), cancellation, checkpoints, SkipMatching and rollback to the previous
//! launch template version.

use crate::autoscaling_boto3::run_boto3;

const ROLLING: &str = r#"
out = {}
group('m', mn=1, mx=3, desired=1)
out['limits'] = asg.describe_account_limits()
del out['limits']['ResponseMetadata']
out['bad_granularity'] = err(asg, lambda: asg.enable_metrics_collection(AutoScalingGroupName='m', Granularity='5Minute'))
asg.enable_metrics_collection(AutoScalingGroupName='m', Granularity='1Minute', Metrics=['GroupMaxSize', 'GroupDesiredCapacity', 'GroupInServiceInstances', 'GroupTotalInstances'])
out['enabled'] = sorted(m['Metric'] for m in describe('m')['EnabledMetrics'])
until(lambda: states('m') == ['InService'])
t = clock()
advance_to(t - t % 60 + 190)
time.sleep(0.3)
cw = client('cloudwatch')
def stat(name):
    pts = cw.get_metric_statistics(Namespace='AWS/AutoScaling', MetricName=name, Dimensions=[{'Name': 'AutoScalingGroupName', 'Value': 'm'}],
        StartTime=at(t - 600), EndTime=at(t + 600), Period=60, Statistics=['Maximum'])['Datapoints']
    return sorted(p['Maximum'] for p in pts)
out['max_size'] = stat('GroupMaxSize')
out['in_service'] = stat('GroupInServiceInstances')
out['not_enabled'] = stat('GroupMinSize')
asg.disable_metrics_collection(AutoScalingGroupName='m')
out['disabled'] = describe('m')['EnabledMetrics']

# Warm pool.
out['no_pool'] = asg.describe_warm_pool(AutoScalingGroupName='m')
del out['no_pool']['ResponseMetadata']
out['bad_state'] = err(asg, lambda: asg.put_warm_pool(AutoScalingGroupName='m', PoolState='Frozen'))
asg.put_warm_pool(AutoScalingGroupName='m', MinSize=1, PoolState='Stopped')
out['pool'] = asg.describe_warm_pool(AutoScalingGroupName='m')['WarmPoolConfiguration']
def warmed():
    return sorted(i['LifecycleState'] for i in asg.describe_warm_pool(AutoScalingGroupName='m')['Instances'])
# MaxSize 3 - desired 1: two instances wait in the pool, stopped.
out['warmed'] = until(lambda: warmed() == ['Warmed:Stopped', 'Warmed:Stopped'] and warmed(), limit=300)
pool_ids = [i['InstanceId'] for i in asg.describe_warm_pool(AutoScalingGroupName='m')['Instances']]
out['pool_ec2'] = sorted(i['State']['Name'] for r in ec2.describe_instances(InstanceIds=pool_ids)['Reservations'] for i in r['Instances'])
out['group_states'] = states('m')
asg.delete_warm_pool(AutoScalingGroupName='m')
out['pool_gone'] = bool(until(lambda: 'WarmPoolConfiguration' not in asg.describe_warm_pool(AutoScalingGroupName='m')))
out['delete_none'] = err(asg, lambda: asg.delete_warm_pool(AutoScalingGroupName='m'))

# Instance refresh: four instances, MinHealthyPercentage 50 -> two at a time.
asg.update_auto_scaling_group(AutoScalingGroupName='m', MaxSize=4, DesiredCapacity=4)
until(lambda: states('m') == ['InService'] * 4)
old = sorted(i['InstanceId'] for i in describe('m')['Instances'])
out['no_active'] = err(asg, lambda: asg.cancel_instance_refresh(AutoScalingGroupName='m'))
rid = asg.start_instance_refresh(AutoScalingGroupName='m', Preferences={'MinHealthyPercentage': 50, 'InstanceWarmup': 30})['InstanceRefreshId']
out['second'] = err(asg, lambda: asg.start_instance_refresh(AutoScalingGroupName='m'))
out['irreversible'] = err(asg, lambda: asg.rollback_instance_refresh(AutoScalingGroupName='m'))
seen_in_service = []
def refresh():
    r = asg.describe_instance_refreshes(AutoScalingGroupName='m')['InstanceRefreshes'][0]
    seen_in_service.append(sum(1 for i in describe('m')['Instances'] if i['LifecycleState'] == 'InService'))
    return r if r['Status'] == 'Successful' else None
first = asg.describe_instance_refreshes(AutoScalingGroupName='m')['InstanceRefreshes'][0]
out['first'] = {k: first[k] for k in ('InstanceRefreshId', 'Status', 'PercentageComplete')}
out['prefs'] = first['Preferences']
done = until(refresh, step=5, limit=900)
out['done'] = {k: done[k] for k in ('Status', 'PercentageComplete', 'InstancesToUpdate')} if done else None
out['min_in_service'] = min(seen_in_service)
new = sorted(i['InstanceId'] for i in describe('m')['Instances'])
out['replaced_all'] = not set(old) & set(new) and len(new) == 4
out['refresh_causes'] = sum(1 for a in activities('m') if 'in response to an instance refresh' in a['Cause'])
# Cancel.
rid2 = asg.start_instance_refresh(AutoScalingGroupName='m', Preferences={'MinHealthyPercentage': 100})['InstanceRefreshId']
out['cancel'] = asg.cancel_instance_refresh(AutoScalingGroupName='m')['InstanceRefreshId'] == rid2
out['cancelled'] = until(lambda: asg.describe_instance_refreshes(AutoScalingGroupName='m', InstanceRefreshIds=[rid2])['InstanceRefreshes'][0]['Status'] == 'Cancelled', step=5, limit=300)
print(json.dumps(out, default=str))
"#;

#[test]
fn asg_metrics_limits_warm_pool_and_instance_refresh() {
    let out = run_boto3(ROLLING);
    assert_eq!(
        out["limits"],
        serde_json::json!({"MaxNumberOfAutoScalingGroups": 500, "MaxNumberOfLaunchConfigurations": 200,
            "NumberOfAutoScalingGroups": 1, "NumberOfLaunchConfigurations": 1})
    );
    assert_eq!(out["bad_granularity"]["code"], "ValidationError");
    assert_eq!(
        out["enabled"],
        serde_json::json!([
            "GroupDesiredCapacity",
            "GroupInServiceInstances",
            "GroupMaxSize",
            "GroupTotalInstances"
        ])
    );
    let max = out["max_size"].as_array().unwrap();
    assert!(!max.is_empty() && max.iter().all(|v| v == 3.0), "{out}");
    assert!(
        out["in_service"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(1.0)),
        "{out}"
    );
    assert_eq!(out["not_enabled"], serde_json::json!([]));
    assert_eq!(out["disabled"], serde_json::json!([]));

    assert_eq!(out["no_pool"], serde_json::json!({"Instances": []}));
    assert_eq!(out["bad_state"]["code"], "ValidationError");
    assert_eq!(out["pool"]["MinSize"], 1);
    assert_eq!(out["pool"]["PoolState"], "Stopped");
    assert_eq!(
        out["warmed"],
        serde_json::json!(["Warmed:Stopped", "Warmed:Stopped"]),
        "{out}"
    );
    assert_eq!(out["pool_ec2"], serde_json::json!(["stopped", "stopped"]));
    assert_eq!(
        out["group_states"],
        serde_json::json!(["InService"]),
        "warmed instances are not members in service"
    );
    assert_eq!(out["pool_gone"], true);
    assert_eq!(out["delete_none"]["code"], "ValidationError");

    assert_eq!(out["no_active"]["code"], "ActiveInstanceRefreshNotFound");
    assert_eq!(out["second"]["code"], "InstanceRefreshInProgress");
    assert_eq!(out["irreversible"]["code"], "IrreversibleInstanceRefresh");
    assert_eq!(out["prefs"]["MinHealthyPercentage"], 50);
    assert_eq!(out["prefs"]["InstanceWarmup"], 30);
    assert_eq!(out["prefs"]["SkipMatching"], false);
    assert_eq!(
        out["done"],
        serde_json::json!({"Status": "Successful", "PercentageComplete": 100, "InstancesToUpdate": 0}),
        "{out}"
    );
    assert_eq!(out["replaced_all"], true, "{out}");
    assert!(
        out["min_in_service"].as_i64().unwrap() >= 2,
        "MinHealthyPercentage kept: {out}"
    );
    assert_eq!(out["refresh_causes"], 4, "{out}");
    assert_eq!(out["cancel"], true);
    assert_eq!(out["cancelled"], true, "{out}");
}

const REFRESH: &str = r#"
out = {}
lt = ec2.create_launch_template(LaunchTemplateName='web', LaunchTemplateData={'ImageId': AMI, 'InstanceType': 't3.micro'})['LaunchTemplate']
ec2.create_launch_template_version(LaunchTemplateName='web', LaunchTemplateData={'ImageId': AMI, 'InstanceType': 't3.small'})
asg.create_auto_scaling_group(AutoScalingGroupName='r', LaunchTemplate={'LaunchTemplateName': 'web', 'Version': '1'},
    MinSize=1, MaxSize=4, DesiredCapacity=2, AvailabilityZones=['us-east-1a'])
until(lambda: states('r') == ['InService', 'InService'])
def latest():
    return asg.describe_instance_refreshes(AutoScalingGroupName='r')['InstanceRefreshes'][0]
asg.start_instance_refresh(AutoScalingGroupName='r', DesiredConfiguration={'LaunchTemplate': {'LaunchTemplateName': 'web', 'Version': '2'}},
    Preferences={'MinHealthyPercentage': 50, 'InstanceWarmup': 0, 'CheckpointPercentages': [50, 100], 'CheckpointDelay': 600, 'SkipMatching': True})
def at_checkpoint():
    r = latest()
    return r if r['PercentageComplete'] == 50 else None
paused = until(at_checkpoint, step=5, limit=300)
out['paused'] = {k: paused.get(k) for k in ('Status', 'PercentageComplete', 'InstancesToUpdate', 'StatusReason')}
t = clock()
advance_to(t + 300)
time.sleep(0.2)
out['still_paused'] = latest()['PercentageComplete']
done = until(lambda: latest()['Status'] == 'Successful' and latest(), step=10, limit=900)
out['done'] = {k: done.get(k) for k in ('Status', 'PercentageComplete')}
out['waited'] = clock() - t >= 600
out['types'] = sorted(i['InstanceType'] for i in describe('r')['Instances'])
out['group_version'] = describe('r')['LaunchTemplate']['Version']
# Everything already matches: nothing to replace.
asg.start_instance_refresh(AutoScalingGroupName='r', Preferences={'SkipMatching': True})
out['skip'] = {k: v for k, v in until(lambda: latest()['Status'] == 'Successful' and latest(), step=5, limit=60).items() if k in ('Status', 'PercentageComplete', 'InstancesToUpdate')}
# Roll back a refresh: the previous template version comes back.
asg.start_instance_refresh(AutoScalingGroupName='r', DesiredConfiguration={'LaunchTemplate': {'LaunchTemplateName': 'web', 'Version': '1'}}, Preferences={'MinHealthyPercentage': 50, 'InstanceWarmup': 0})
out['version_during'] = describe('r')['LaunchTemplate']['Version']
asg.rollback_instance_refresh(AutoScalingGroupName='r')
out['rolled_back'] = until(lambda: latest()['Status'] == 'RollbackSuccessful' and latest()['Status'], step=5, limit=900)
out['version_after'] = describe('r')['LaunchTemplate']['Version']
out['types_after'] = sorted(i['InstanceType'] for i in describe('r')['Instances'])
out['no_active'] = err(asg, lambda: asg.rollback_instance_refresh(AutoScalingGroupName='r'))['code']
print(json.dumps(out, default=str))
"#;

#[test]
fn asg_instance_refresh_to_a_new_template_version_with_checkpoints_and_rollback() {
    let out = run_boto3(REFRESH);
    assert_eq!(out["paused"]["Status"], "InProgress", "{out}");
    assert_eq!(out["paused"]["InstancesToUpdate"], 1);
    assert_eq!(out["still_paused"], 50, "the checkpoint delay holds: {out}");
    assert_eq!(
        out["done"],
        serde_json::json!({"Status": "Successful", "PercentageComplete": 100})
    );
    assert_eq!(out["waited"], true, "{out}");
    assert_eq!(out["types"], serde_json::json!(["t3.small", "t3.small"]));
    assert_eq!(out["group_version"], "2");
    assert_eq!(
        out["skip"],
        serde_json::json!({"Status": "Successful", "PercentageComplete": 100, "InstancesToUpdate": 0}),
        "{out}"
    );
    assert_eq!(out["version_during"], "1");
    assert_eq!(out["rolled_back"], "RollbackSuccessful", "{out}");
    assert_eq!(out["version_after"], "2");
    assert_eq!(
        out["types_after"],
        serde_json::json!(["t3.small", "t3.small"])
    );
    assert_eq!(out["no_active"], "ActiveInstanceRefreshNotFound");
}
