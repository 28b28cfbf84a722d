//! `AWS/EC2` metrics Updraft publishes itself: a stressed instance with detailed monitoring
//! shows its CPU every minute; a basic-monitoring one every five minutes.

use serde_json::json;

use crate::common::BOTO3_PRELUDE;
use crate::ec2::{EC2_PRELUDE, frozen_server};

#[test]
fn ec2_metrics_are_published_per_minute_or_per_five_minutes() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}\n{}",
        r##"
import datetime
def clock():
    return json.loads(urllib.request.urlopen(os.environ["ENDPOINT"] + "/_updraft/clock").read())["epoch_seconds"]
def stress(iid, pct):
    req = urllib.request.Request(os.environ["ENDPOINT"] + "/_updraft/instances/%s/stress" % iid, method="POST",
        data=json.dumps({"cpu_percent": pct}).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
c = client('ec2')
cw = client('cloudwatch')
start = clock()
ami = c.describe_images(Owners=['amazon'], Filters=[{'Name': 'name', 'Values': ['al2023-ami-*']}])['Images'][0]['ImageId']
detailed = c.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1,
    Monitoring={'Enabled': True})['Instances'][0]['InstanceId']
basic = c.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1)['Instances'][0]['InstanceId']
advance(10)
wait_state(c, [detailed, basic], 'running')
stress(detailed, 90)
def points(iid):
    r = cw.get_metric_statistics(Namespace='AWS/EC2', MetricName='CPUUtilization',
        Dimensions=[{'Name': 'InstanceId', 'Value': iid}],
        StartTime=datetime.datetime.fromtimestamp(start - 600, datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(clock() + 60, datetime.timezone.utc),
        Period=60, Statistics=['Average'])
    return sorted((p['Timestamp'].timestamp(), p['Average']) for p in r['Datapoints'])
for _ in range(12):
    before = len(points(detailed))
    advance(60)
    # The publisher runs on the clock's wake-up: wait (bounded) for its minute's datapoint.
    for _ in range(50):
        if len(points(detailed)) > before:
            break
        time.sleep(0.02)
out = {'detailed': points(detailed), 'basic': points(basic)}
metrics = cw.list_metrics(Namespace='AWS/EC2', MetricName='CPUUtilization')['Metrics']
out['series'] = sorted(d['Name'] + '=' + d['Value'] for m in metrics for d in m['Dimensions'])
out['names'] = sorted({m['MetricName'] for m in cw.list_metrics(Namespace='AWS/EC2')['Metrics']})
out['ami'] = ami
out['ids'] = [detailed, basic]
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    let detailed = out["detailed"].as_array().unwrap();
    assert!(detailed.len() >= 8, "a datapoint a minute: {out}");
    for p in detailed {
        assert!(p[1].as_f64().unwrap() >= 80.0, "stressed CPU: {out}");
        assert_eq!(
            p[0].as_f64().unwrap() as i64 % 60,
            0,
            "minute-aligned: {out}"
        );
    }
    let basic = out["basic"].as_array().unwrap();
    assert!(
        (1..=3).contains(&basic.len()),
        "a datapoint per 5 minutes: {out}"
    );
    for p in basic {
        assert_eq!(
            p[0].as_f64().unwrap() as i64 % 300,
            0,
            "5-minute aligned: {out}"
        );
        assert!(p[1].as_f64().unwrap() < 10.0, "idle CPU: {out}");
    }
    let ami = out["ami"].as_str().unwrap();
    let mut expected = vec![format!("ImageId={ami}"), "InstanceType=t3.micro".to_owned()];
    for id in out["ids"].as_array().unwrap() {
        expected.push(format!("InstanceId={}", id.as_str().unwrap()));
    }
    expected.sort();
    assert_eq!(out["series"], json!(expected), "{out}");
    assert_eq!(
        out["names"],
        json!([
            "CPUUtilization",
            "NetworkIn",
            "NetworkOut",
            "NetworkPacketsIn",
            "NetworkPacketsOut",
            "StatusCheckFailed",
            "StatusCheckFailed_Instance",
            "StatusCheckFailed_System"
        ])
    );
}
