//! Auto Scaling beyond convergence, through boto3 on a frozen clock: scheduled actions that
//! fire when the clock says so, suspended processes, lifecycle hooks, standby and detach,
//! metrics collection, account limits, instance refresh and warm pools.

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

fn run(script: &str) -> Value {
    let server = frozen_server();
    server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{script}"
    ))
}

const SCHEDULED: &str = r#"
out = {}
group('sched')
now = clock()
def put(**kw):
    kw.setdefault('AutoScalingGroupName', 'sched')
    return err(asg, lambda: asg.put_scheduled_update_group_action(**kw))
out['past'] = put(ScheduledActionName='p', StartTime=at(now - 3600), DesiredCapacity=2)
out['no_sizes'] = put(ScheduledActionName='n', StartTime=at(now + 600))
out['bad_cron'] = put(ScheduledActionName='c', Recurrence='61 * * * *', DesiredCapacity=2)
out['bad_zone'] = put(ScheduledActionName='z', Recurrence='0 9 * * *', TimeZone='Mars/Olympus', DesiredCapacity=2)
out['no_group'] = put(AutoScalingGroupName='nope', ScheduledActionName='x', StartTime=at(now + 600), DesiredCapacity=2)
out['grow'] = put(ScheduledActionName='grow', StartTime=at(now + 120), MinSize=1, MaxSize=3, DesiredCapacity=2)
out['dup'] = put(ScheduledActionName='dup', StartTime=at(now + 120), DesiredCapacity=3)
out['nightly'] = put(ScheduledActionName='nightly', Recurrence='0 22 * * *', TimeZone='Asia/Seoul', DesiredCapacity=1)
out['batch'] = asg.batch_put_scheduled_update_group_action(AutoScalingGroupName='sched', ScheduledUpdateGroupActions=[
    {'ScheduledActionName': 'b1', 'StartTime': at(now + 7200), 'DesiredCapacity': 1},
    {'ScheduledActionName': 'b2', 'Recurrence': 'not cron', 'DesiredCapacity': 1}])['FailedScheduledUpdateGroupActions']
p1 = asg.describe_scheduled_actions(AutoScalingGroupName='sched', MaxRecords=2)
p2 = asg.describe_scheduled_actions(AutoScalingGroupName='sched', MaxRecords=2, NextToken=p1['NextToken'])
out['pages'] = [[a['ScheduledActionName'] for a in p['ScheduledUpdateGroupActions']] for p in (p1, p2)]
out['p2_token'] = p2.get('NextToken')
acts = {a['ScheduledActionName']: a for a in p1['ScheduledUpdateGroupActions'] + p2['ScheduledUpdateGroupActions']}
out['nightly_next'] = epoch(acts['nightly']['StartTime'])
out['nightly_zone'] = acts['nightly']['TimeZone']
out['grow_arn'] = acts['grow']['ScheduledActionARN']
out['grow_start'] = epoch(acts['grow']['StartTime']) - now
out['by_name'] = [a['ScheduledActionName'] for a in asg.describe_scheduled_actions(ScheduledActionNames=['b1'])['ScheduledUpdateGroupActions']]
out['batch_delete'] = asg.batch_delete_scheduled_action(AutoScalingGroupName='sched', ScheduledActionNames=['b1', 'nope'])['FailedScheduledActions']
out['now'] = now

# Nothing happens before the start time; at it the group grows.
advance_to(now + 110)
out['before'] = describe('sched')['DesiredCapacity']
out['after'] = until(lambda: describe('sched')['DesiredCapacity'] == 2 and 2, limit=120)
out['causes'] = [a['Cause'] for a in activities('sched')]
out['left'] = sorted(a['ScheduledActionName'] for a in asg.describe_scheduled_actions(AutoScalingGroupName='sched')['ScheduledUpdateGroupActions'])

# A suspended ScheduledActions process skips what falls due meanwhile.
t = clock()
put(ScheduledActionName='later', StartTime=at(t + 60), DesiredCapacity=3)
asg.suspend_processes(AutoScalingGroupName='sched', ScalingProcesses=['ScheduledActions'])
out['suspended'] = describe('sched')['SuspendedProcesses']
out['bad_process'] = err(asg, lambda: asg.suspend_processes(AutoScalingGroupName='sched', ScalingProcesses=['Nope']))
advance_to(t + 90)
time.sleep(0.2)
out['skipped_desired'] = describe('sched')['DesiredCapacity']
out['skipped_left'] = sorted(a['ScheduledActionName'] for a in asg.describe_scheduled_actions(AutoScalingGroupName='sched')['ScheduledUpdateGroupActions'])
asg.resume_processes(AutoScalingGroupName='sched')
out['resumed'] = describe('sched')['SuspendedProcesses']
asg.delete_scheduled_action(AutoScalingGroupName='sched', ScheduledActionName='nightly')
out['delete_again'] = err(asg, lambda: asg.delete_scheduled_action(AutoScalingGroupName='sched', ScheduledActionName='nightly'))
print(json.dumps(out, default=str))
"#;

#[test]
fn asg_ext_scheduled_actions_fire_on_the_clock_and_respect_suspension() {
    let out = run(SCHEDULED);
    let code = |k: &str| out[k]["code"].as_str().unwrap_or("").to_owned();
    let msg = |k: &str| out[k]["message"].as_str().unwrap_or("").to_owned();
    assert_eq!(code("past"), "ValidationError", "{out}");
    assert_eq!(msg("past"), "Given start time is in the past");
    for k in ["no_sizes", "bad_cron", "bad_zone", "no_group"] {
        assert_eq!(code(k), "ValidationError", "{k}: {out}");
    }
    assert_eq!(
        msg("no_group"),
        "AutoScalingGroup name not found - AutoScalingGroup nope not found"
    );
    assert_eq!(out["grow"]["code"], Value::Null);
    assert_eq!(code("dup"), "AlreadyExists");
    assert_eq!(
        msg("dup"),
        "Scheduled action with this scheduled start time already exists"
    );
    assert_eq!(out["batch"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(out["batch"][0]["ScheduledActionName"], "b2");
    assert_eq!(out["batch"][0]["ErrorCode"], "ValidationError");
    assert_eq!(
        out["pages"],
        serde_json::json!([["grow", "nightly"], ["b1"]]),
        "{out}"
    );
    assert_eq!(out["p2_token"], Value::Null);
    assert_eq!(out["by_name"], serde_json::json!(["b1"]));
    assert_eq!(out["batch_delete"][0]["ScheduledActionName"], "nope");
    let arn = out["grow_arn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:autoscaling:us-east-1:000000000000:scheduledUpdateGroupAction:")
            && arn.ends_with(":autoScalingGroupName/sched:scheduledActionName/grow"),
        "{arn}"
    );
    assert!((out["grow_start"].as_f64().unwrap() - 120.0).abs() < 1.0);
    // 22:00 in Seoul is 13:00 UTC: the next one, within a day.
    let next = out["nightly_next"].as_f64().unwrap();
    let now = out["now"].as_f64().unwrap();
    assert_eq!(next.rem_euclid(86_400.0), 13.0 * 3600.0, "{out}");
    assert!(next > now && next <= now + 86_400.0);
    assert_eq!(out["nightly_zone"], "Asia/Seoul");

    assert_eq!(out["before"], 1, "not before its time: {out}");
    assert_eq!(out["after"], 2, "{out}");
    let causes: Vec<&str> = out["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        causes.iter().any(|c| c.contains(
            " a scheduled action update of AutoScalingGroup constraints to min: 1, max: 3, desired: 2 changing the desired capacity from 1 to 2."
        ) && c.starts_with("At ")),
        "{causes:#?}"
    );
    assert_eq!(
        out["left"],
        serde_json::json!(["nightly"]),
        "a one-off action is gone once it ran"
    );

    assert_eq!(out["suspended"][0]["ProcessName"], "ScheduledActions");
    let reason = out["suspended"][0]["SuspensionReason"].as_str().unwrap();
    assert!(
        reason.starts_with("User suspended at ") && reason.ends_with('Z'),
        "{reason}"
    );
    assert_eq!(code("bad_process"), "ValidationError");
    assert_eq!(out["skipped_desired"], 2, "skipped while suspended: {out}");
    assert_eq!(out["skipped_left"], serde_json::json!(["nightly"]));
    assert_eq!(out["resumed"], serde_json::json!([]));
    assert_eq!(code("delete_again"), "ValidationError");
}

/// The chapter's notification step with the aws CLI: a topic with an e-mail subscription
/// (auto-confirmed), PutNotificationConfiguration for the four event types, then a scale-out
/// and a scale-in put AWS's launch and termination messages into the local inbox.
#[test]
fn asg_ext_chapter_notifications_reach_the_email_inbox() {
    use crate::sns::wait_inbox;
    let server = frozen_server();
    let aws = |args: &[&str]| server.aws(args).json();
    let topic = aws(&["sns", "create-topic", "--name", "AutoScalingTopic"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(&[
        "sns",
        "subscribe",
        "--topic-arn",
        &topic,
        "--protocol",
        "email",
        "--notification-endpoint",
        "student@example.com",
    ]);
    let ami = aws(&[
        "ec2",
        "describe-images",
        "--owners",
        "amazon",
        "--filters",
        "Name=name,Values=al2023-ami-*",
    ])["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    aws(&[
        "autoscaling",
        "create-launch-configuration",
        "--launch-configuration-name",
        "ExampleAutoScalingConfig",
        "--image-id",
        &ami,
        "--instance-type",
        "t3.micro",
    ]);
    aws(&[
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--launch-configuration-name",
        "ExampleAutoScalingConfig",
        "--min-size",
        "1",
        "--max-size",
        "3",
        "--availability-zones",
        "us-east-1a",
    ]);
    let types = [
        "autoscaling:EC2_INSTANCE_LAUNCH",
        "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
        "autoscaling:EC2_INSTANCE_TERMINATE",
        "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
    ];
    let mut put = vec![
        "autoscaling",
        "put-notification-configuration",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--topic-arn",
        &topic,
        "--notification-types",
    ];
    put.extend(types);
    aws(&put);
    let bad = server.aws(&[
        "autoscaling",
        "put-notification-configuration",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--topic-arn",
        &topic,
        "--notification-types",
        "autoscaling:NOPE",
    ]);
    assert_eq!(bad.error_code(), "ValidationError");
    let configs = aws(&[
        "autoscaling",
        "describe-notification-configurations",
        "--auto-scaling-group-names",
        "ExampleAutoScalingGroup",
    ]);
    let listed: Vec<&str> = configs["NotificationConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["TopicARN"], topic.as_str());
            c["NotificationType"].as_str().unwrap()
        })
        .collect();
    assert_eq!(listed, types);

    // The test notification arrives first.
    let mail = wait_inbox(&server, "?endpoint=student%40example.com", 1);
    assert_eq!(
        mail[0]["subject"],
        "Auto Scaling: test notification for group \"ExampleAutoScalingGroup\""
    );
    let test: Value = serde_json::from_str(mail[0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(test["Event"], "autoscaling:TEST_NOTIFICATION");
    assert_eq!(test["AutoScalingGroupName"], "ExampleAutoScalingGroup");
    assert_eq!(test["Service"], "AWS Auto Scaling");

    let advance_until = |n: usize| {
        for _ in 0..120 {
            let got = server
                .http(
                    "GET",
                    "/_updraft/sns/inbox?endpoint=student%40example.com",
                    &[],
                    b"",
                )
                .json();
            if got.as_array().unwrap().len() >= n {
                break;
            }
            server.state.clock.advance(5.0);
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        wait_inbox(&server, "?endpoint=student%40example.com", n)
    };
    // The first instance's launch, then a scale-out and a scale-in.
    let mail = advance_until(2);
    aws(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--desired-capacity",
        "2",
    ]);
    let mail3 = advance_until(3);
    aws(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--desired-capacity",
        "1",
    ]);
    let mail4 = advance_until(4);
    let body =
        |m: &Value| -> Value { serde_json::from_str(m["message"].as_str().unwrap()).unwrap() };
    for (m, event, subject) in [
        (
            &mail[1],
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "Auto Scaling: launch for group \"ExampleAutoScalingGroup\"",
        ),
        (
            &mail3[2],
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "Auto Scaling: launch for group \"ExampleAutoScalingGroup\"",
        ),
        (
            &mail4[3],
            "autoscaling:EC2_INSTANCE_TERMINATE",
            "Auto Scaling: termination for group \"ExampleAutoScalingGroup\"",
        ),
    ] {
        assert_eq!(m["subject"], subject, "{m}");
        let b = body(m);
        assert_eq!(b["Event"], event, "{b}");
        assert_eq!(b["AutoScalingGroupName"], "ExampleAutoScalingGroup");
        assert_eq!(b["RequestId"], b["ActivityId"]);
        assert_eq!(b["Time"], b["EndTime"]);
        assert_eq!(b["StatusCode"], "InProgress");
        assert_eq!(b["Progress"], 50);
        assert_eq!(b["StatusMessage"], "");
        assert_eq!(b["Details"]["Availability Zone"], "us-east-1a");
        let id = b["EC2InstanceId"].as_str().unwrap();
        assert!(id.starts_with("i-"), "{b}");
        assert!(b["Description"].as_str().unwrap().ends_with(id));
        assert!(
            b["AutoScalingGroupARN"]
                .as_str()
                .unwrap()
                .ends_with(":autoScalingGroupName/ExampleAutoScalingGroup")
        );
    }
    let scale_out = body(&mail3[2]);
    assert!(
        scale_out["Cause"].as_str().unwrap().contains("a user request explicitly set group desired capacity changing the desired capacity from 1 to 2."),
        "{scale_out}"
    );
    let scale_in = body(&mail4[3]);
    assert!(
        scale_in["Cause"]
            .as_str()
            .unwrap()
            .contains("was selected for termination."),
        "{scale_in}"
    );

    // Deleting the configuration stops the messages.
    aws(&[
        "autoscaling",
        "delete-notification-configuration",
        "--auto-scaling-group-name",
        "ExampleAutoScalingGroup",
        "--topic-arn",
        &topic,
    ]);
    let configs = aws(&["autoscaling", "describe-notification-configurations"]);
    assert_eq!(configs["NotificationConfigurations"], serde_json::json!([]));
}

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
fn asg_ext_lifecycle_hooks_hold_launches_and_terminations() {
    let out = run(HOOKS);
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
fn asg_ext_standby_detach_and_attach_move_instances_with_activities() {
    let out = run(STANDBY);
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

const MORE: &str = r#"
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
fn asg_ext_metrics_limits_warm_pool_and_instance_refresh() {
    let out = run(MORE);
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
fn asg_ext_instance_refresh_to_a_new_template_version_with_checkpoints_and_rollback() {
    let out = run(REFRESH);
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
