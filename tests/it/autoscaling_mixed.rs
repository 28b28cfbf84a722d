//! Mixed instances groups and predictive scaling forecasts, through boto3 on a frozen clock:
//! weighted overrides fill the desired capacity in units, the On-Demand base and percentage
//! split the group between On-Demand and Spot (Spot instances say so in EC2), scale-in takes
//! members by weight without going below desired, and GetPredictiveScalingForecast repeats a
//! daily load profile from the metric history.

use serde_json::{Value, json};

use crate::autoscaling_boto3::ASG_PRELUDE;
use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

const MIXED: &str = r#"
out = {}
lt = ec2.create_launch_template(LaunchTemplateName='mx-lt',
    LaunchTemplateData={'ImageId': AMI, 'InstanceType': 't3.micro'})['LaunchTemplate']['LaunchTemplateId']
def policy(overrides, dist):
    return {'LaunchTemplate': {'LaunchTemplateSpecification': {'LaunchTemplateId': lt, 'Version': '$Latest'},
            'Overrides': overrides}, 'InstancesDistribution': dist}
weighted = [{'InstanceType': 't3.small', 'WeightedCapacity': '2'},
            {'InstanceType': 't3.micro', 'WeightedCapacity': '1'}]
def create(name, overrides, dist, **kw):
    return err(asg, lambda: asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=6,
        AvailabilityZones=['us-east-1a'], MixedInstancesPolicy=policy(overrides, dist), **kw))
out['bad_weight'] = create('bad1', [{'InstanceType': 't3.micro', 'WeightedCapacity': '0'}], {})
out['partial_weights'] = create('bad2', [{'InstanceType': 't3.micro', 'WeightedCapacity': '1'}, {'InstanceType': 't3.small'}], {})
out['bad_strategy'] = create('bad3', weighted, {'SpotAllocationStrategy': 'cheapest'})
out['bad_percent'] = create('bad4', weighted, {'OnDemandPercentageAboveBaseCapacity': 101})
out['bad_groups'] = [g['AutoScalingGroupName'] for g in asg.describe_auto_scaling_groups()['AutoScalingGroups']]

create('mx', weighted, {'OnDemandBaseCapacity': 1, 'OnDemandPercentageAboveBaseCapacity': 50,
    'SpotAllocationStrategy': 'price-capacity-optimized'}, DesiredCapacity=4, CapacityRebalance=True)
def members():
    return describe('mx')['Instances']
def units():
    return sum(int(i.get('WeightedCapacity', '1')) for i in members() if i['LifecycleState'] in ('Pending', 'InService'))
out['filled'] = bool(until(lambda: len(members()) > 0 and states('mx') == ['InService'] * len(members()) and units() >= 4, limit=300))
clock(60); time.sleep(0.2)
g = describe('mx')
out['rebalance'] = g['CapacityRebalance']
out['distribution'] = g['MixedInstancesPolicy']['InstancesDistribution']
ids = [i['InstanceId'] for i in g['Instances']]
lifecycle = {}
for r in ec2.describe_instances(InstanceIds=ids)['Reservations']:
    for i in r['Instances']:
        lifecycle[i['InstanceId']] = i.get('InstanceLifecycle', 'on-demand')
out['members'] = sorted([i['InstanceType'], i.get('WeightedCapacity'), lifecycle[i['InstanceId']]] for i in g['Instances'])
out['spot_filter'] = sorted(i['InstanceType'] for r in ec2.describe_instances(Filters=[
    {'Name': 'instance-lifecycle', 'Values': ['spot']}, {'Name': 'instance-state-name', 'Values': ['running']}])['Reservations'] for i in r['Instances'])
out['details_weights'] = sorted(i.get('WeightedCapacity') for i in asg.describe_auto_scaling_instances(InstanceIds=ids)['AutoScalingInstances'])

# Scale in by one unit: the On-Demand share drops to 2, so an On-Demand unit of weight 1 goes.
asg.set_desired_capacity(AutoScalingGroupName='mx', DesiredCapacity=3)
out['in1'] = bool(until(lambda: len(members()) == 2, limit=300))
out['after_in1'] = sorted([i['InstanceType'], lifecycle[i['InstanceId']]] for i in members())
# Then the Spot unit: the On-Demand base and share (2 units) are exactly the small instance.
asg.set_desired_capacity(AutoScalingGroupName='mx', DesiredCapacity=2)
out['in2'] = bool(until(lambda: len(members()) == 1, limit=300))
out['after_in2'] = sorted([i['InstanceType'], lifecycle[i['InstanceId']]] for i in members())
clock(120); time.sleep(0.2)
out['settled'] = [describe('mx')['DesiredCapacity'], units(), len(members())]

# RunInstances takes the Spot market too; other markets are refused.
run = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType='t3.nano',
    InstanceMarketOptions={'MarketType': 'spot'})['Instances'][0]
out['run_spot'] = [run.get('InstanceLifecycle'), run.get('SpotInstanceRequestId', '')[:4]]
out['run_bad_market'] = err(ec2, lambda: ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
    InstanceMarketOptions={'MarketType': 'moon'}))
print(json.dumps(out, default=str))
"#;

#[test]
fn mixed_weighted_group_fills_in_units_with_an_on_demand_spot_split() {
    let server = frozen_server();
    let out: Value = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{MIXED}"
    ));
    for bad in [
        "bad_weight",
        "partial_weights",
        "bad_strategy",
        "bad_percent",
    ] {
        assert_eq!(out[bad]["code"], "ValidationError", "{bad}: {out}");
    }
    assert_eq!(out["bad_groups"], json!([]), "state untouched: {out}");
    assert_eq!(out["filled"], true, "{out}");
    assert_eq!(out["rebalance"], true);
    assert_eq!(
        out["distribution"],
        json!({
            "OnDemandAllocationStrategy": "prioritized",
            "OnDemandBaseCapacity": 1,
            "OnDemandPercentageAboveBaseCapacity": 50,
            "SpotAllocationStrategy": "price-capacity-optimized"
        }),
        "{out}"
    );
    // Desired 4 units; On-Demand 1 + ceil(50 % of 3) = 3 units: the prioritized first type
    // (weight 2), then weight 1 to fit; the Spot unit by price per unit (a tie, order kept,
    // only weight 1 fits).
    assert_eq!(
        out["members"],
        json!([
            ["t3.micro", "1", "on-demand"],
            ["t3.micro", "1", "spot"],
            ["t3.small", "2", "on-demand"]
        ]),
        "{out}"
    );
    assert_eq!(out["spot_filter"], json!(["t3.micro"]), "{out}");
    assert_eq!(out["details_weights"], json!(["1", "1", "2"]), "{out}");
    assert_eq!(out["in1"], true, "{out}");
    assert_eq!(
        out["after_in1"],
        json!([["t3.micro", "spot"], ["t3.small", "on-demand"]]),
        "{out}"
    );
    assert_eq!(out["in2"], true, "{out}");
    assert_eq!(
        out["after_in2"],
        json!([["t3.small", "on-demand"]]),
        "{out}"
    );
    assert_eq!(out["settled"], json!([2, 2, 1]), "{out}");
    assert_eq!(out["run_spot"], json!(["spot", "sir-"]), "{out}");
    assert_eq!(
        out["run_bad_market"]["code"], "InvalidParameterValue",
        "{out}"
    );
}

const FORECAST: &str = r#"
out = {}
group('fc', mn=1, mx=4, desired=1)
cw = client('cloudwatch')
now = clock()
day = now - now % 86400
dims = [{'Name': 'AutoScalingGroupName', 'Value': 'fc'}]
# The last 24 hours, every 10 minutes: load 300 during 10:00-11:00 UTC, 100 otherwise.
points = []
for k in range(144):
    t = now - 86400 + k * 600
    hour = int(t % 86400) // 3600
    points.append({'MetricName': 'Load', 'Dimensions': dims, 'Timestamp': at(t), 'Value': 300.0 if hour == 10 else 100.0})
for i in range(0, len(points), 500):
    cw.put_metric_data(Namespace='App', MetricData=points[i:i + 500])
spec = {'TargetValue': 100.0,
    'CustomizedLoadMetricSpecification': {'MetricDataQueries': [
        {'Id': 'load', 'MetricStat': {'Metric': {'Namespace': 'App', 'MetricName': 'Load', 'Dimensions': dims}, 'Stat': 'Sum'}}]},
    'CustomizedScalingMetricSpecification': {'MetricDataQueries': [
        {'Id': 'scaling', 'MetricStat': {'Metric': {'Namespace': 'App', 'MetricName': 'Load', 'Dimensions': dims}, 'Stat': 'Average'}}]}}
asg.put_scaling_policy(AutoScalingGroupName='fc', PolicyName='predict', PolicyType='PredictiveScaling',
    PredictiveScalingConfiguration={'MetricSpecifications': [spec], 'Mode': 'ForecastOnly'})
out['bad_config'] = err(asg, lambda: asg.put_scaling_policy(AutoScalingGroupName='fc', PolicyName='bad',
    PolicyType='PredictiveScaling', PredictiveScalingConfiguration={'MetricSpecifications': []}))
pol = asg.describe_policies(AutoScalingGroupName='fc')['ScalingPolicies']
out['described'] = [[p['PolicyName'], p['PolicyType'], p['PredictiveScalingConfiguration']['Mode']] for p in pol]
start = day + 86400
f = asg.get_predictive_scaling_forecast(AutoScalingGroupName='fc', PolicyName='predict',
    StartTime=at(start), EndTime=at(start + 86400))
load = f['LoadForecast'][0]
out['hours'] = len(load['Timestamps'])
out['first'] = epoch(load['Timestamps'][0]) - start
out['load'] = [load['Values'][9], load['Values'][10], load['Values'][11]]
out['capacity'] = [f['CapacityForecast']['Values'][9], f['CapacityForecast']['Values'][10]]
out['cap_hours'] = len(f['CapacityForecast']['Timestamps'])
out['spec_target'] = load['MetricSpecification']['TargetValue']
out['update'] = epoch(f['UpdateTime']) <= clock()
group('plain', mn=1, mx=2, desired=1)
asg.put_scaling_policy(AutoScalingGroupName='plain', PolicyName='simple', AdjustmentType='ChangeInCapacity', ScalingAdjustment=1)
out['not_predictive'] = err(asg, lambda: asg.get_predictive_scaling_forecast(AutoScalingGroupName='plain',
    PolicyName='simple', StartTime=at(start), EndTime=at(start + 3600)))
out['no_policy'] = err(asg, lambda: asg.get_predictive_scaling_forecast(AutoScalingGroupName='fc',
    PolicyName='nope', StartTime=at(start), EndTime=at(start + 3600)))
out['backwards'] = err(asg, lambda: asg.get_predictive_scaling_forecast(AutoScalingGroupName='fc',
    PolicyName='predict', StartTime=at(start), EndTime=at(start - 3600)))
out['no_group'] = err(asg, lambda: asg.get_predictive_scaling_forecast(AutoScalingGroupName='nope',
    PolicyName='predict', StartTime=at(start), EndTime=at(start + 3600)))
print(json.dumps(out, default=str))
"#;

#[test]
fn mixed_predictive_forecast_follows_the_daily_load_profile() {
    let server = frozen_server();
    let out: Value = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{FORECAST}"
    ));
    assert_eq!(out["bad_config"]["code"], "ValidationError", "{out}");
    assert_eq!(
        out["described"],
        json!([["predict", "PredictiveScaling", "ForecastOnly"]]),
        "{out}"
    );
    assert_eq!(out["hours"], 24, "{out}");
    assert_eq!(out["first"], 0.0, "{out}");
    assert_eq!(out["load"], json!([100.0, 300.0, 100.0]), "{out}");
    assert_eq!(out["capacity"], json!([1.0, 3.0]), "{out}");
    assert_eq!(out["cap_hours"], 24, "{out}");
    assert_eq!(out["spec_target"], 100.0);
    assert_eq!(out["update"], true);
    for e in ["not_predictive", "no_policy", "backwards", "no_group"] {
        assert_eq!(out[e]["code"], "ValidationError", "{e}: {out}");
    }
}

const LAUNCH: &str = r#"
out = {}
lt = ec2.create_launch_template(LaunchTemplateName='li-lt',
    LaunchTemplateData={'ImageId': AMI, 'InstanceType': 't3.micro'})['LaunchTemplate']['LaunchTemplateId']
asg.create_auto_scaling_group(AutoScalingGroupName='li', MinSize=0, MaxSize=4, DesiredCapacity=0,
    LaunchTemplate={'LaunchTemplateId': lt}, AvailabilityZones=['us-east-1a'])
r = asg.launch_instances(AutoScalingGroupName='li', RequestedCapacity=2, ClientToken='tok-1')
out['collections'] = [[c['InstanceType'], c['MarketType'], c['AvailabilityZone'], len(c['InstanceIds'])] for c in r['Instances']]
out['errors'] = r['Errors']
ids = sorted(i for c in r['Instances'] for i in c['InstanceIds'])
g = describe('li')
out['desired'] = g['DesiredCapacity']
out['members'] = sorted(i['InstanceId'] for i in g['Instances']) == ids
out['states_now'] = sorted(i['LifecycleState'] for i in g['Instances'])
again = asg.launch_instances(AutoScalingGroupName='li', RequestedCapacity=2, ClientToken='tok-1')
out['same_token'] = sorted(i for c in again['Instances'] for i in c['InstanceIds']) == ids
out['mismatch'] = err(asg, lambda: asg.launch_instances(AutoScalingGroupName='li', RequestedCapacity=1, ClientToken='tok-1'))['code']
out['above_max'] = err(asg, lambda: asg.launch_instances(AutoScalingGroupName='li', RequestedCapacity=3, ClientToken='tok-2'))['code']
out['wrong_zone'] = err(asg, lambda: asg.launch_instances(AutoScalingGroupName='li', RequestedCapacity=1, ClientToken='tok-3', AvailabilityZones=['us-east-1b']))['code']
out['no_group'] = err(asg, lambda: asg.launch_instances(AutoScalingGroupName='nope', RequestedCapacity=1, ClientToken='tok-4'))['code']
out['in_service'] = bool(until(lambda: states('li') == ['InService', 'InService'], limit=200))
out['desired_after'] = describe('li')['DesiredCapacity']
out['activities'] = sorted(a['StatusCode'] for a in activities('li'))
group('lc', mn=0, mx=2, desired=0)
out['launch_config'] = err(asg, lambda: asg.launch_instances(AutoScalingGroupName='lc', RequestedCapacity=1, ClientToken='tok-5'))['code']
def mixed_group(name, dist):
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=6, DesiredCapacity=0,
        AvailabilityZones=['us-east-1a'], MixedInstancesPolicy={'LaunchTemplate': {
            'LaunchTemplateSpecification': {'LaunchTemplateId': lt},
            'Overrides': [{'InstanceType': 't3.small', 'WeightedCapacity': '2'}, {'InstanceType': 't3.micro', 'WeightedCapacity': '1'}]},
            'InstancesDistribution': dist})
mixed_group('half', {'OnDemandPercentageAboveBaseCapacity': 50})
out['half'] = err(asg, lambda: asg.launch_instances(AutoScalingGroupName='half', RequestedCapacity=1, ClientToken='tok-6'))['code']
mixed_group('spot', {'OnDemandPercentageAboveBaseCapacity': 0, 'SpotAllocationStrategy': 'capacity-optimized'})
r = asg.launch_instances(AutoScalingGroupName='spot', RequestedCapacity=3, ClientToken='tok-7')
out['spot_collections'] = sorted([c['InstanceType'], c['MarketType'], len(c['InstanceIds'])] for c in r['Instances'])
out['spot_desired'] = describe('spot')['DesiredCapacity']
print(json.dumps(out, default=str))
"#;

#[test]
fn mixed_launch_instances_provisions_synchronously_into_the_group() {
    let server = frozen_server();
    let out: Value = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{LAUNCH}"
    ));
    assert_eq!(
        out["collections"],
        json!([["t3.micro", "OnDemand", "us-east-1a", 2]]),
        "{out}"
    );
    assert_eq!(out["errors"], json!([]), "{out}");
    assert_eq!(out["desired"], 2, "{out}");
    assert_eq!(out["members"], true, "{out}");
    assert_eq!(out["states_now"], json!(["Pending", "Pending"]), "{out}");
    assert_eq!(out["same_token"], true, "{out}");
    assert_eq!(out["mismatch"], "IdempotentParameterMismatch", "{out}");
    for e in [
        "above_max",
        "wrong_zone",
        "no_group",
        "launch_config",
        "half",
    ] {
        assert_eq!(out[e], "ValidationError", "{e}: {out}");
    }
    assert_eq!(out["in_service"], true, "{out}");
    assert_eq!(out["desired_after"], 2, "{out}");
    assert_eq!(
        out["activities"],
        json!(["Successful", "Successful"]),
        "{out}"
    );
    // Fully Spot, capacity-optimized (order given): weight 2 first, then weight 1 to fit.
    assert_eq!(
        out["spot_collections"],
        json!([["t3.micro", "Spot", 1], ["t3.small", "Spot", 1]]),
        "{out}"
    );
    assert_eq!(out["spot_desired"], 3, "{out}");
}
