//! Lifecycle hooks through boto3 on a frozen clock: they hold launches and terminations until
//! completed or timed out.

use crate::autoscaling_boto3::run_boto3;

const HOOKS: &str = r#"
out = {}
group('hooks', mn=1, mx=4, desired=1)
until(lambda: states('hooks') == ['InService'])
first = describe('hooks')['Instances'][0]['InstanceId']
def hook(**kw):
    kw.setdefault('AutoScalingGroupName', 'hooks')
    return err(asg, lambda: asg.put_lifecycle_hook(**kw))
out['bad_heartbeat'] = hook(LifecycleHookName='h', LifecycleTransition='autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout=10)
out['bad_transition'] = hook(LifecycleHookName='h', LifecycleTransition='autoscaling:NOPE')
out['no_transition'] = hook(LifecycleHookName='h')
sns = client('sns')
topic = sns.create_topic(Name='hooks')['TopicArn']
sns.subscribe(TopicArn=topic, Protocol='email', Endpoint='ops@example.com')
hook(LifecycleHookName='launch', LifecycleTransition='autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout=60, DefaultResult='CONTINUE', NotificationMetadata='hello',
     NotificationTargetARN=topic, RoleARN='arn:aws:iam::000000000000:role/hooks')
hook(LifecycleHookName='term', LifecycleTransition='autoscaling:EC2_INSTANCE_TERMINATING')
out['hooks'] = asg.describe_lifecycle_hooks(AutoScalingGroupName='hooks')['LifecycleHooks']
out['no_action'] = err(asg, lambda: asg.complete_lifecycle_action(AutoScalingGroupName='hooks', LifecycleHookName='launch', InstanceId=first, LifecycleActionResult='CONTINUE'))
out['no_token'] = err(asg, lambda: asg.record_lifecycle_action_heartbeat(AutoScalingGroupName='hooks', LifecycleHookName='launch', LifecycleActionToken='7e1c0a3e-0000-4000-8000-000000000000'))

def waiting(state):
    return [i['InstanceId'] for i in describe('hooks')['Instances'] if i['LifecycleState'] == state]
# 1) A launch waits; a heartbeat extends the wait; CONTINUE lets it in.
asg.set_desired_capacity(AutoScalingGroupName='hooks', DesiredCapacity=2)
w = until(lambda: waiting('Pending:Wait'), step=2)
out['waits'] = len(w)
t = clock()
advance_to(t + 40)
asg.record_lifecycle_action_heartbeat(AutoScalingGroupName='hooks', LifecycleHookName='launch', InstanceId=w[0])
advance_to(t + 80)
out['after_heartbeat'] = waiting('Pending:Wait') == w
asg.complete_lifecycle_action(AutoScalingGroupName='hooks', LifecycleHookName='launch', InstanceId=w[0], LifecycleActionResult='CONTINUE')
out['continued'] = bool(until(lambda: w[0] in waiting('InService'), step=2))
# 2) Nobody answers: after HeartbeatTimeout the DefaultResult (CONTINUE) applies.
asg.set_desired_capacity(AutoScalingGroupName='hooks', DesiredCapacity=3)
w2 = until(lambda: waiting('Pending:Wait'), step=2)
t = clock()
advance_to(t + 55)
out['still_waiting'] = waiting('Pending:Wait') == w2
out['timed_out'] = bool(until(lambda: w2[0] in waiting('InService'), step=2, limit=60))
# 3) ABANDON: the launch is cancelled, the instance terminated and replaced.
asg.set_desired_capacity(AutoScalingGroupName='hooks', DesiredCapacity=4)
w3 = until(lambda: waiting('Pending:Wait'), step=2)
asg.complete_lifecycle_action(AutoScalingGroupName='hooks', LifecycleHookName='launch', InstanceId=w3[0], LifecycleActionResult='ABANDON')
def cancelled():
    return [a for a in activities('hooks') if a['StatusCode'] == 'Cancelled']
out['cancelled'] = until(cancelled, step=2)
out['replacement_waits'] = bool(until(lambda: [i for i in waiting('Pending:Wait') if i != w3[0]], step=2))
for i in waiting('Pending:Wait'):
    asg.complete_lifecycle_action(AutoScalingGroupName='hooks', LifecycleHookName='launch', InstanceId=i, LifecycleActionResult='CONTINUE')
until(lambda: len(waiting('InService')) == 4, step=2)
# 4) A terminate hook holds a scale-in in Terminating:Wait until completed.
asg.set_desired_capacity(AutoScalingGroupName='hooks', DesiredCapacity=3)
w4 = until(lambda: waiting('Terminating:Wait'), step=2)
out['term_waits'] = len(w4)
asg.complete_lifecycle_action(AutoScalingGroupName='hooks', LifecycleHookName='term', InstanceId=w4[0], LifecycleActionResult='CONTINUE')
out['terminated'] = bool(until(lambda: w4[0] not in [i['InstanceId'] for i in describe('hooks')['Instances']], step=2))
asg.delete_lifecycle_hook(AutoScalingGroupName='hooks', LifecycleHookName='term')
out['delete_again'] = err(asg, lambda: asg.delete_lifecycle_hook(AutoScalingGroupName='hooks', LifecycleHookName='term'))
out['left'] = [h['LifecycleHookName'] for h in asg.describe_lifecycle_hooks(AutoScalingGroupName='hooks')['LifecycleHooks']]
def inbox():
    with urllib.request.urlopen(os.environ['ENDPOINT'] + '/_updraft/sns/inbox?endpoint=ops%40example.com') as r:
        return json.load(r)
time.sleep(0.3)
out['mail'] = [{'subject': m['subject'], 'message': json.loads(m['message'])} for m in inbox()]
out['w'] = w[0]
# Launch suspended: a higher desired capacity launches nothing until resumed.
asg.delete_lifecycle_hook(AutoScalingGroupName='hooks', LifecycleHookName='launch')
asg.suspend_processes(AutoScalingGroupName='hooks', ScalingProcesses=['Launch'])
asg.update_auto_scaling_group(AutoScalingGroupName='hooks', MaxSize=5, DesiredCapacity=4)
asg.set_desired_capacity(AutoScalingGroupName='hooks', DesiredCapacity=4)
until(lambda: len(states('hooks')) == 3 and False, limit=60)
out['suspended_launch'] = len(states('hooks'))
asg.resume_processes(AutoScalingGroupName='hooks', ScalingProcesses=['Launch'])
out['resumed_launch'] = len(until(lambda: len(states('hooks')) == 4 and states('hooks'), limit=120) or [])
print(json.dumps(out, default=str))
"#;

#[test]
fn asg_lifecycle_hooks_hold_launches_and_terminations() {
    let out = run_boto3(HOOKS);
    let code = |k: &str| out[k]["code"].as_str().unwrap_or("").to_owned();
    for k in ["bad_heartbeat", "bad_transition", "no_transition"] {
        assert_eq!(code(k), "ValidationError", "{k}: {out}");
    }
    let hooks = out["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2, "{out}");
    assert_eq!(hooks[0]["LifecycleHookName"], "launch");
    assert_eq!(hooks[0]["HeartbeatTimeout"], 60);
    assert_eq!(hooks[0]["GlobalTimeout"], 6000);
    assert_eq!(hooks[0]["DefaultResult"], "CONTINUE");
    assert_eq!(hooks[0]["NotificationMetadata"], "hello");
    assert_eq!(hooks[1]["DefaultResult"], "ABANDON", "AWS's default");
    assert_eq!(hooks[1]["HeartbeatTimeout"], 3600);
    assert_eq!(hooks[1]["GlobalTimeout"], 172_800);
    assert_eq!(code("no_action"), "ValidationError");
    assert!(
        out["no_action"]["message"]
            .as_str()
            .unwrap()
            .starts_with("No active Lifecycle Action found with instance ID i-")
    );
    assert_eq!(
        out["no_token"]["message"],
        "No active Lifecycle Action found with token 7e1c0a3e-0000-4000-8000-000000000000"
    );
    assert_eq!(out["waits"], 1, "{out}");
    assert_eq!(
        out["after_heartbeat"], true,
        "the heartbeat restarted the timeout: {out}"
    );
    assert_eq!(out["continued"], true, "{out}");
    assert_eq!(out["still_waiting"], true, "{out}");
    assert_eq!(
        out["timed_out"], true,
        "DefaultResult CONTINUE on timeout: {out}"
    );
    let cancelled = &out["cancelled"][0];
    let msg = cancelled["StatusMessage"].as_str().unwrap_or("");
    assert!(
        msg.starts_with(
            "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token "
        ) && msg.ends_with(" was abandoned: Lifecycle Action Completed with ABANDON Result"),
        "{out}"
    );
    assert!(
        cancelled["Description"]
            .as_str()
            .unwrap()
            .contains(".  Status Reason: Instance failed to complete")
    );
    assert_eq!(out["replacement_waits"], true, "{out}");
    assert_eq!(out["term_waits"], 1, "{out}");
    assert_eq!(out["terminated"], true, "{out}");
    assert_eq!(code("delete_again"), "ValidationError");
    assert_eq!(out["left"], serde_json::json!(["launch"]));

    // The hook's SNS target got the test notification, then one message per wait.
    let mail = out["mail"].as_array().unwrap();
    assert!(mail.len() >= 4, "{out}");
    assert_eq!(mail[0]["message"]["Event"], "autoscaling:TEST_NOTIFICATION");
    let w = out["w"].as_str().unwrap();
    assert_eq!(
        mail[1]["subject"],
        format!("Auto Scaling:  Lifecycle action 'LAUNCHING' for instance {w} in progress.")
    );
    let m = &mail[1]["message"];
    assert_eq!(m["LifecycleHookName"], "launch");
    assert_eq!(
        m["LifecycleTransition"],
        "autoscaling:EC2_INSTANCE_LAUNCHING"
    );
    assert_eq!(m["EC2InstanceId"], w);
    assert_eq!(m["NotificationMetadata"], "hello");
    assert_eq!(m["LifecycleActionToken"].as_str().unwrap().len(), 36);

    assert_eq!(out["suspended_launch"], 3, "Launch suspended: {out}");
    assert_eq!(out["resumed_launch"], 4, "{out}");
}
