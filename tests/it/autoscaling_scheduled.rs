//! Scheduled actions through boto3 on a frozen clock: they fire when the clock says so, and
//! suspended processes hold them back.

use serde_json::Value;

use crate::autoscaling_boto3::run_boto3;

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
fn asg_scheduled_actions_fire_on_the_clock_and_respect_suspension() {
    let out = run_boto3(SCHEDULED);
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
