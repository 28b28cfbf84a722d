//! Standby, detach and attach through boto3 on a frozen clock: instances move in and out of a
//! group with the activities AWS records.

use crate::autoscaling_boto3::run_boto3;

const STANDBY: &str = r#"
out = {}
group('sb', mn=1, mx=3, desired=2)
until(lambda: states('sb') == ['InService', 'InService'])
a, b = [i['InstanceId'] for i in describe('sb')['Instances']]
r = asg.enter_standby(AutoScalingGroupName='sb', InstanceIds=[a], ShouldDecrementDesiredCapacity=True)['Activities'][0]
out['enter'] = {k: r[k] for k in ('Description', 'StatusCode', 'Progress', 'Cause')}
out['enter_desired'] = describe('sb')['DesiredCapacity']
out['standby'] = bool(until(lambda: states('sb') == ['InService', 'Standby']))
out['at_min'] = err(asg, lambda: asg.enter_standby(AutoScalingGroupName='sb', InstanceIds=[b], ShouldDecrementDesiredCapacity=True))
out['not_standby'] = err(asg, lambda: asg.exit_standby(AutoScalingGroupName='sb', InstanceIds=[b]))
r = asg.exit_standby(AutoScalingGroupName='sb', InstanceIds=[a])['Activities'][0]
out['exit'] = {k: r[k] for k in ('Description', 'StatusCode', 'Progress', 'Cause')}
out['exit_desired'] = describe('sb')['DesiredCapacity']
out['back'] = bool(until(lambda: states('sb') == ['InService', 'InService']))
r = asg.detach_instances(AutoScalingGroupName='sb', InstanceIds=[a], ShouldDecrementDesiredCapacity=True)['Activities'][0]
out['detach'] = {k: r[k] for k in ('Description', 'StatusCode', 'Progress', 'Cause')}
out['gone'] = bool(until(lambda: a not in [i['InstanceId'] for i in describe('sb')['Instances']]))
out['detached_desired'] = describe('sb')['DesiredCapacity']
inst = ec2.describe_instances(InstanceIds=[a])['Reservations'][0]['Instances'][0]
out['still_running'] = inst['State']['Name']
out['tag_gone'] = 'aws:autoscaling:groupName' not in [t['Key'] for t in inst.get('Tags', [])]
out['not_member'] = err(asg, lambda: asg.detach_instances(AutoScalingGroupName='sb', InstanceIds=[a], ShouldDecrementDesiredCapacity=False))
asg.attach_instances(AutoScalingGroupName='sb', InstanceIds=[a])
out['attached_desired'] = describe('sb')['DesiredCapacity']
out['attached'] = bool(until(lambda: states('sb') == ['InService', 'InService']))
out['attach_activity'] = [x for x in activities('sb') if x['Description'] == 'Attaching an existing EC2 instance: ' + a][0]
out['again'] = err(asg, lambda: asg.attach_instances(AutoScalingGroupName='sb', InstanceIds=[a]))
inst = ec2.describe_instances(InstanceIds=[a])['Reservations'][0]['Instances'][0]
out['tag_back'] = {t['Key']: t['Value'] for t in inst.get('Tags', [])}.get('aws:autoscaling:groupName')
# Without decrement, a detached instance is replaced.
asg.detach_instances(AutoScalingGroupName='sb', InstanceIds=[b], ShouldDecrementDesiredCapacity=False)
out['replaced'] = bool(until(lambda: b not in [i['InstanceId'] for i in describe('sb')['Instances']] and states('sb') == ['InService', 'InService']))
out['a'] = a
out['b'] = b
print(json.dumps(out, default=str))
"#;

#[test]
fn asg_standby_detach_and_attach_move_instances_with_activities() {
    let out = run_boto3(STANDBY);
    let (a, b) = (out["a"].as_str().unwrap(), out["b"].as_str().unwrap());
    assert_eq!(
        out["enter"]["Description"],
        format!("Moving EC2 instance to Standby: {a}")
    );
    assert_eq!(out["enter"]["StatusCode"], "InProgress");
    assert_eq!(out["enter"]["Progress"], 50);
    let cause = out["enter"]["Cause"].as_str().unwrap();
    assert!(
        cause.starts_with("At ")
            && cause.ends_with(&format!(
                "instance {a} was moved to standby in response to a user request, shrinking the capacity from 2 to 1."
            )),
        "{cause}"
    );
    assert_eq!(out["enter_desired"], 1);
    assert_eq!(out["standby"], true, "{out}");
    assert_eq!(
        out["at_min"]["message"],
        "AutoScalingGroup sb has min-size=1, max-size=3, and desired-size=1. To place into standby 1 instance, please update the AutoScalingGroup sizes appropriately."
    );
    assert_eq!(out["not_standby"]["code"], "ValidationError");
    assert_eq!(
        out["exit"]["Description"],
        format!("Moving EC2 instance out of Standby: {a}")
    );
    assert_eq!(out["exit"]["StatusCode"], "PreInService");
    assert_eq!(out["exit"]["Progress"], 30);
    assert!(out["exit"]["Cause"].as_str().unwrap().ends_with(&format!(
        "instance {a} was moved out of standby in response to a user request, increasing the capacity from 1 to 2."
    )));
    assert_eq!(out["exit_desired"], 2);
    assert_eq!(out["back"], true, "{out}");
    assert_eq!(
        out["detach"]["Description"],
        format!("Detaching EC2 instance: {a}")
    );
    assert!(out["detach"]["Cause"].as_str().unwrap().ends_with(&format!(
        "instance {a} was detached in response to a user request, shrinking the capacity from 2 to 1."
    )));
    assert_eq!(out["gone"], true, "{out}");
    assert_eq!(out["detached_desired"], 1);
    assert_eq!(out["still_running"], "running");
    assert_eq!(out["tag_gone"], true);
    assert_eq!(
        out["not_member"]["message"],
        format!("The instance {a} is not part of Auto Scaling group sb.")
    );
    assert_eq!(out["attached_desired"], 2);
    assert_eq!(out["attached"], true, "{out}");
    let attach = &out["attach_activity"];
    assert!(attach["Cause"].as_str().unwrap().ends_with(
        "an instance was added in response to user request. Keeping the capacity at the new 2."
    ));
    assert_eq!(attach["StatusCode"], "Successful");
    assert_eq!(
        out["again"]["message"],
        format!("The Instance: {a} is already part of AutoScalingGroup:sb")
    );
    assert_eq!(out["tag_back"], "sb");
    assert_eq!(out["replaced"], true, "{b} replaced: {out}");
}
