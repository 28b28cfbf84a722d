//! Warm pools at work, through boto3 on a frozen clock: a pool of two stopped instances feeds
//! a scale-out without a single new launch, `ReuseOnScaleIn` sends scale-in victims back to
//! the pool (stopped, not terminated), the pool refills to its `MinSize`, and every move's
//! SNS notification names its Origin and Destination as AWS's do.

use serde_json::{Value, json};

use crate::autoscaling_boto3::ASG_PRELUDE;
use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

const WARM: &str = r#"
out = {}
sns = client('sns')
topic = sns.create_topic(Name='wp-events')['TopicArn']
sns.subscribe(TopicArn=topic, Protocol='email', Endpoint='ops@example.com')
group('wp', mn=1, mx=3, desired=1)
asg.put_notification_configuration(AutoScalingGroupName='wp', TopicARN=topic,
    NotificationTypes=['autoscaling:EC2_INSTANCE_LAUNCH', 'autoscaling:EC2_INSTANCE_TERMINATE'])
until(lambda: states('wp') == ['InService'])
def pool():
    return asg.describe_warm_pool(AutoScalingGroupName='wp')['Instances']
def warmed():
    return sorted(i['LifecycleState'] for i in pool())
def members():
    return sorted(i['InstanceId'] for i in describe('wp')['Instances'])
def ec2_state(ids):
    return sorted(i['State']['Name'] for r in ec2.describe_instances(InstanceIds=ids)['Reservations'] for i in r['Instances'])
def all_ec2():
    return sorted(i['InstanceId'] for r in ec2.describe_instances()['Reservations'] for i in r['Instances'])
def inbox():
    req = urllib.request.Request(os.environ['ENDPOINT'] + '/_updraft/sns/inbox?endpoint=ops%40example.com')
    return [json.loads(m['message']) for m in json.load(urllib.request.urlopen(req)) if 'Origin' in m['message']]

# MaxSize 3 - desired 1: two instances wait in the pool, stopped.
asg.put_warm_pool(AutoScalingGroupName='wp', PoolState='Stopped')
out['filled'] = bool(until(lambda: warmed() == ['Warmed:Stopped'] * 2, limit=300))
pool_ids = sorted(i['InstanceId'] for i in pool())
before = all_ec2()

# Scale out by two: both come from the pool, nothing new is launched.
asg.set_desired_capacity(AutoScalingGroupName='wp', DesiredCapacity=3)
out['served'] = bool(until(lambda: states('wp') == ['InService'] * 3, limit=300))
out['drawn'] = set(pool_ids) <= set(members())
out['new_launches'] = sorted(set(all_ec2()) - set(before))
out['pool_after_draw'] = warmed()
out['drawn_running'] = ec2_state(pool_ids)
acts = activities('wp')
drawn = [a for a in acts if a['Description'].startswith('Launching a new EC2 instance from warm pool: ')]
out['drawn_activities'] = sorted(a['Description'].rsplit(' ', 1)[1] for a in drawn)
out['drawn_status'] = sorted(a['StatusCode'] for a in drawn)
out['drawn_cause'] = drawn[0]['Cause'] if drawn else None
out['fill_activities'] = sum(1 for a in acts if a['Description'].startswith('Launching a new EC2 instance into warm pool: '))

# Reuse on scale-in: the two leave the group for the pool, stopped, not terminated.
asg.put_warm_pool(AutoScalingGroupName='wp', PoolState='Stopped', InstanceReusePolicy={'ReuseOnScaleIn': True})
out['reuse_config'] = asg.describe_warm_pool(AutoScalingGroupName='wp')['WarmPoolConfiguration']['InstanceReusePolicy']
in_group = members()
asg.set_desired_capacity(AutoScalingGroupName='wp', DesiredCapacity=1)
out['returned'] = bool(until(lambda: warmed() == ['Warmed:Stopped'] * 2 and len(members()) == 1, limit=300))
returned = sorted(i['InstanceId'] for i in pool())
out['returned_were_members'] = set(returned) <= set(in_group)
out['returned_ec2'] = ec2_state(returned)
out['moved_activities'] = sorted(a['StatusCode'] for a in activities('wp') if a['Description'].startswith('Moving EC2 instance to warm pool: '))

# A pool with MinSize 2 refills after a draw: desired 3 leaves MaxSize - desired = 0, so
# MinSize decides.
asg.put_warm_pool(AutoScalingGroupName='wp', PoolState='Running', MinSize=2)
before = all_ec2()
asg.set_desired_capacity(AutoScalingGroupName='wp', DesiredCapacity=3)
out['refilled'] = bool(until(lambda: states('wp') == ['InService'] * 3 and warmed() == ['Warmed:Running'] * 2, limit=400))
out['reused_again'] = set(returned) <= set(members())
out['refill_new'] = len(set(all_ec2()) - set(before))

time.sleep(0.5)
routes = sorted({(m['Event'], m['Description'].rsplit(':', 1)[0], m['Origin'], m['Destination']) for m in inbox()})
out['routes'] = routes
print(json.dumps(out, default=str))
"#;

#[test]
fn warm_pool_feeds_scale_out_takes_instances_back_and_refills() {
    let server = frozen_server();
    let out: Value = server.boto3(&format!("{BOTO3_PRELUDE}{CW_PRELUDE}{ASG_PRELUDE}\n{WARM}"));
    assert_eq!(out["filled"], true, "{out}");
    assert_eq!(out["served"], true, "{out}");
    assert_eq!(
        out["drawn"], true,
        "the pool's instances joined the group: {out}"
    );
    assert_eq!(out["new_launches"], json!([]), "no new launch: {out}");
    assert_eq!(
        out["pool_after_draw"],
        json!([]),
        "MaxSize 3 - desired 3: {out}"
    );
    assert_eq!(out["drawn_running"], json!(["running", "running"]));
    assert_eq!(
        out["drawn_status"],
        json!(["Successful", "Successful"]),
        "{out}"
    );
    assert_eq!(out["fill_activities"], 2, "{out}");
    let cause = out["drawn_cause"].as_str().unwrap();
    assert!(
        cause.contains("a user request explicitly set group desired capacity changing the desired capacity from 1 to 3.")
            && cause.contains("increasing the capacity from 1 to 3."),
        "{cause}"
    );

    assert_eq!(out["reuse_config"], json!({"ReuseOnScaleIn": true}));
    assert_eq!(out["returned"], true, "{out}");
    assert_eq!(out["returned_were_members"], true, "{out}");
    assert_eq!(out["returned_ec2"], json!(["stopped", "stopped"]), "{out}");
    assert_eq!(
        out["moved_activities"],
        json!(["Successful", "Successful"]),
        "{out}"
    );

    assert_eq!(out["refilled"], true, "{out}");
    assert_eq!(out["reused_again"], true, "{out}");
    assert_eq!(out["refill_new"], 2, "the pool refilled to MinSize: {out}");

    let routes: Vec<Value> = out["routes"].as_array().unwrap().clone();
    let has = |event: &str, desc: &str, from: &str, to: &str| {
        routes.contains(&json!([event, desc, from, to]))
    };
    assert!(
        has(
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "Launching a new EC2 instance from warm pool",
            "WarmPool",
            "AutoScalingGroup"
        ),
        "{routes:#?}"
    );
    assert!(
        has(
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "Launching a new EC2 instance into warm pool",
            "EC2",
            "WarmPool"
        ),
        "{routes:#?}"
    );
    assert!(
        has(
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "Launching a new EC2 instance",
            "EC2",
            "AutoScalingGroup"
        ),
        "{routes:#?}"
    );
}
