//! Helpers for the boto3 Auto Scaling tests (`autoscaling_scheduled.rs`,
//! `autoscaling_instance_refresh.rs`, ...): a script prelude and a runner on a frozen-clock
//! server.

use serde_json::Value;

use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

/// boto3 helpers: a launch configuration and a group in us-east-1a, and a poll that advances
/// the frozen clock until a condition holds.
pub const ASG_PRELUDE: &str = r#"
asg = client('autoscaling')
ec2 = client('ec2')
AMI = ec2.describe_images(Owners=['amazon'], Filters=[{'Name': 'name', 'Values': ['al2023-ami-*']}])['Images'][0]['ImageId']
def group(name, mn=1, mx=3, desired=1, **kw):
    asg.create_launch_configuration(LaunchConfigurationName=name + '-lc', ImageId=AMI, InstanceType='t3.micro')
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=name + '-lc',
        MinSize=mn, MaxSize=mx, DesiredCapacity=desired, AvailabilityZones=['us-east-1a'], **kw)
def describe(name):
    return asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])['AutoScalingGroups'][0]
def states(name):
    return sorted(i['LifecycleState'] for i in describe(name)['Instances'])
def until(fn, step=5, limit=600):
    # Advance the frozen clock in small steps until fn() is truthy; return its value.
    waited = 0
    while True:
        v = fn()
        if v or waited >= limit:
            return v
        clock(step); time.sleep(0.03); waited += step
def activities(name):
    return asg.describe_scaling_activities(AutoScalingGroupName=name)['Activities']
"#;

/// Runs a boto3 script after the common, CloudWatch and Auto Scaling preludes on a fresh
/// frozen-clock server; the script prints its JSON result.
pub fn run_boto3(script: &str) -> Value {
    let server = frozen_server();
    server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{script}"
    ))
}
