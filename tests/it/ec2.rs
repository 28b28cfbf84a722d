//! EC2 through boto3 and the aws CLI: the book chapter's EC2 steps on a frozen clock, the
//! filters people use, pagination, launch templates and the errors AWS gives.

use serde_json::json;

use crate::common::{BOTO3_PRELUDE, TestServer};
use updraft::Config;

/// A server whose clock moves only when the test says.
pub fn frozen_server() -> TestServer {
    TestServer::with_config(Config {
        time_scale: 0.0,
        ..Config::default()
    })
}

/// Python helpers on top of the prelude: `advance(seconds)` moves the frozen clock;
/// `wait_state(c, ids, state)` polls (bounded) until every instance is in `state`.
pub const EC2_PRELUDE: &str = r#"
import time, urllib.request
def advance(seconds):
    req = urllib.request.Request(os.environ["ENDPOINT"] + "/_updraft/clock", method="POST",
        data=json.dumps({"advance_seconds": seconds}).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
def states(c, ids):
    r = c.describe_instances(InstanceIds=ids)
    return {i["InstanceId"]: i["State"]["Name"] for res in r["Reservations"] for i in res["Instances"]}
def wait_state(c, ids, state):
    for _ in range(200):
        if all(s == state for s in states(c, ids).values()):
            return True
        time.sleep(0.02)
    raise Exception("timed out waiting for %s: %s" % (state, states(c, ids)))
def wait_image(c, image_id, state):
    for _ in range(200):
        img = c.describe_images(ImageIds=[image_id])["Images"][0]
        if img["State"] == state:
            return img
        time.sleep(0.02)
    raise Exception("image %s stuck in %s" % (image_id, img["State"]))
"#;

#[test]
fn ec2_chapter_steps_on_a_frozen_clock() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}\n{}",
        r##"
c = client('ec2', region='ap-northeast-1')
out = {}
out['zones'] = [z['ZoneName'] for z in c.describe_availability_zones()['AvailabilityZones']]
vpc = c.describe_vpcs(Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs']
out['default_vpcs'] = len(vpc)
subnets = c.describe_subnets(Filters=[{'Name': 'default-for-az', 'Values': ['true']}])['Subnets']
by_zone = {s['AvailabilityZone']: s for s in subnets}
out['subnet_zones'] = sorted(by_zone)
out['subnet_cidrs'] = sorted(s['CidrBlock'] for s in subnets)
out['account_default_vpc'] = [a['AttributeValues'][0]['AttributeValue'] for a in c.describe_account_attributes(AttributeNames=['default-vpc'])['AccountAttributes']]
out['vpc_id'] = vpc[0]['VpcId']

key = c.create_key_pair(KeyName='awskeypair')
out['key_pem_head'] = key['KeyMaterial'].splitlines()[0]
out['key_fingerprint'] = key['KeyFingerprint']
out['keys'] = [k['KeyName'] for k in c.describe_key_pairs()['KeyPairs']]

sg = c.create_security_group(GroupName='launch-wizard-1', Description='launch-wizard-1 created')['GroupId']
c.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
c.authorize_security_group_ingress(GroupId=sg, IpProtocol='tcp', FromPort=80, ToPort=80, CidrIp='0.0.0.0/0')
g = c.describe_security_groups(GroupIds=[sg])['SecurityGroups'][0]
out['sg_ports'] = sorted((p['IpProtocol'], p['FromPort'], p['IpRanges'][0]['CidrIp']) for p in g['IpPermissions'])
out['sg_egress'] = g['IpPermissionsEgress'][0]['IpProtocol']
out['sg_vpc'] = g['VpcId']

amis = c.describe_images(Owners=['amazon'], Filters=[{'Name': 'name', 'Values': ['al2023-ami-*']}])['Images']
ami = amis[0]['ImageId']
out['ami_again'] = client('ec2', region='ap-northeast-1').describe_images(Owners=['amazon'], Filters=[{'Name': 'name', 'Values': ['al2023-ami-*']}])['Images'][0]['ImageId'] == ami
user_data = "#!/bin/bash\n# updraft:http-body Hello ELB 1\necho hello-from-user-data\n"
ids = []
for zone in ['ap-northeast-1a', 'ap-northeast-1c']:
    r = c.run_instances(ImageId=ami, InstanceType='t1.micro', MinCount=1, MaxCount=1, KeyName='awskeypair',
        SecurityGroupIds=[sg], SubnetId=by_zone[zone]['SubnetId'], UserData=user_data,
        TagSpecifications=[{'ResourceType': 'instance', 'Tags': [{'Key': 'Name', 'Value': 'Example Server'}]}])
    i = r['Instances'][0]
    ids.append(i['InstanceId'])
    out.setdefault('launch_states', []).append(i['State']['Name'])
out['ids'] = ids
advance(10)
wait_state(c, ids, 'running')
insts = [i for res in c.describe_instances(InstanceIds=ids)['Reservations'] for i in res['Instances']]
out['running'] = [{'zone': i['Placement']['AvailabilityZone'], 'public': bool(i.get('PublicIpAddress')),
    'dns': i.get('PublicDnsName', ''), 'private': i['PrivateIpAddress'], 'key': i['KeyName'],
    'groups': [x['GroupName'] for x in i['SecurityGroups']], 'tags': i['Tags'], 'type': i['InstanceType']} for i in insts]
status = c.describe_instance_status(InstanceIds=ids)['InstanceStatuses']
out['status_initial'] = [s['InstanceStatus']['Status'] for s in status]
console = c.get_console_output(InstanceId=ids[0])
out['console'] = console.get('Output', '')

img = c.create_image(InstanceId=ids[0], Name='AutoScalingAMI', NoReboot=False)['ImageId']
out['image_pending'] = c.describe_images(ImageIds=[img])['Images'][0]['State']
advance(20)
image = wait_image(c, img, 'available')
out['own_images'] = [i['Name'] for i in c.describe_images(Owners=['self'])['Images']]
out['image_snapshot'] = image['BlockDeviceMappings'][0]['Ebs']['SnapshotId']
snaps = c.describe_snapshots(OwnerIds=['self'])['Snapshots']
out['snapshots'] = [(s['SnapshotId'], s['State']) for s in snaps]

c.stop_instances(InstanceIds=[ids[1]])
out['after_stop'] = states(c, [ids[1]])[ids[1]]
advance(5)
wait_state(c, [ids[1]], 'stopped')
out['stopped_public_ip'] = 'PublicIpAddress' in c.describe_instances(InstanceIds=[ids[1]])['Reservations'][0]['Instances'][0]
c.start_instances(InstanceIds=[ids[1]])
advance(10)
wait_state(c, [ids[1]], 'running')

t = c.terminate_instances(InstanceIds=ids)['TerminatingInstances']
out['terminating'] = sorted(x['CurrentState']['Name'] for x in t)
advance(5)
wait_state(c, ids, 'terminated')
term = c.describe_instances(InstanceIds=[ids[0]])['Reservations'][0]['Instances'][0]
out['terminated_reason'] = [term['StateReason']['Code'], term['StateTransitionReason'][:16]]
advance(3600)
for _ in range(200):
    if not c.describe_instances(Filters=[{'Name': 'instance-id', 'Values': ids}])['Reservations']:
        break
    time.sleep(0.02)
out['gone_after_an_hour'] = not c.describe_instances(Filters=[{'Name': 'instance-id', 'Values': ids}])['Reservations']
c.deregister_image(ImageId=img)
c.delete_snapshot(SnapshotId=out['image_snapshot'])
c.delete_security_group(GroupId=sg)
c.delete_key_pair(KeyName='awskeypair')
out['left'] = [len(c.describe_images(Owners=['self'])['Images']), len(c.describe_snapshots(OwnerIds=['self'])['Snapshots']), len(c.describe_key_pairs()['KeyPairs'])]
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    assert_eq!(
        out["zones"],
        json!(["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"])
    );
    assert_eq!(out["default_vpcs"], 1);
    assert_eq!(out["subnet_zones"], out["zones"]);
    assert_eq!(
        out["subnet_cidrs"],
        json!(["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"])
    );
    assert_eq!(out["account_default_vpc"], json!([out["vpc_id"].clone()]));
    assert_eq!(out["key_pem_head"], "-----BEGIN RSA PRIVATE KEY-----");
    assert_eq!(
        out["key_fingerprint"].as_str().unwrap().len(),
        59,
        "SHA-1 as colon hex"
    );
    assert_eq!(out["keys"], json!(["awskeypair"]));
    assert_eq!(
        out["sg_ports"],
        json!([["tcp", 22, "0.0.0.0/0"], ["tcp", 80, "0.0.0.0/0"]])
    );
    assert_eq!(out["sg_egress"], "-1");
    assert_eq!(out["sg_vpc"], out["vpc_id"]);
    assert_eq!(out["ami_again"], true, "public image ids are stable");
    assert_eq!(out["launch_states"], json!(["pending", "pending"]));
    let running = out["running"].as_array().unwrap();
    let zones: Vec<&str> = running
        .iter()
        .map(|r| r["zone"].as_str().unwrap())
        .collect();
    assert_eq!(zones, ["ap-northeast-1a", "ap-northeast-1c"]);
    for r in running {
        assert_eq!(r["public"], true, "{r}");
        assert!(
            r["dns"]
                .as_str()
                .unwrap()
                .ends_with(".ap-northeast-1.compute.amazonaws.com"),
            "{r}"
        );
        assert!(r["private"].as_str().unwrap().starts_with("172.31."), "{r}");
        assert_eq!(r["key"], "awskeypair");
        assert_eq!(r["groups"], json!(["launch-wizard-1"]));
        assert_eq!(r["type"], "t1.micro");
        assert_eq!(
            r["tags"],
            json!([{"Key": "Name", "Value": "Example Server"}])
        );
    }
    assert_eq!(
        out["status_initial"],
        json!(["initializing", "initializing"])
    );
    // botocore decodes the base64 Output itself.
    let console = out["console"].as_str().unwrap();
    assert!(console.contains("hello-from-user-data"), "{console}");
    assert_eq!(out["image_pending"], "pending");
    assert_eq!(out["own_images"], json!(["AutoScalingAMI"]));
    assert_eq!(
        out["snapshots"],
        json!([[out["image_snapshot"].clone(), "completed"]])
    );
    assert_eq!(out["after_stop"], "stopping");
    assert_eq!(out["stopped_public_ip"], false);
    assert_eq!(
        out["terminating"],
        json!(["shutting-down", "shutting-down"])
    );
    assert_eq!(
        out["terminated_reason"],
        json!(["Client.UserInitiatedShutdown", "User initiated ("])
    );
    assert_eq!(out["gone_after_an_hour"], true);
    assert_eq!(out["left"], json!([0, 0, 0]));
}
