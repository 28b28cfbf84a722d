//! EC2 filters, pagination and tags, with instances launched both by clients and through the
//! in-process entry point Auto Scaling uses (which may set `aws:` tags).

use serde_json::json;

use crate::common::BOTO3_PRELUDE;
use crate::ec2::{EC2_PRELUDE, frozen_server};
use updraft::services::ec2::{images, instances};
use updraft::state::Scope;

#[test]
fn ec2_filters_pagination_and_tags() {
    let server = frozen_server();
    let scope = Scope::new("000000000000", "us-east-1");
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    // Three instances as an Auto Scaling group would launch them, in 1b.
    let group = instances::launch(
        &server.state,
        &scope,
        json!({"ImageId": ami, "InstanceType": "t3.micro", "MinCount": 3, "MaxCount": 3,
               "Placement": {"AvailabilityZone": "us-east-1b"}}),
        vec![("aws:autoscaling:groupName".into(), "web-asg".into())],
    )
    .expect("launch");
    assert_eq!(group["Instances"].as_array().unwrap().len(), 3);
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}\nAMI = '{ami}'\n{}",
        r##"
c = client('ec2')
def ids(**kw):
    r = c.describe_instances(**kw)
    return sorted(i['InstanceId'] for res in r['Reservations'] for i in res['Instances'])
def f(name, *values):
    return {'Filters': [{'Name': name, 'Values': list(values)}]}
out = {}
web = c.run_instances(ImageId=AMI, InstanceType='t3.small', MinCount=5, MaxCount=5, Placement={'AvailabilityZone': 'us-east-1a'},
    TagSpecifications=[{'ResourceType': 'instance', 'Tags': [{'Key': 'Name', 'Value': 'web'}, {'Key': 'env', 'Value': 'prod'}]}])
web_ids = sorted(i['InstanceId'] for i in web['Instances'])
out['launch_index'] = [i['AmiLaunchIndex'] for i in web['Instances']]
out['one_reservation'] = len({web['ReservationId']})
ubuntu = c.describe_images(Owners=['099720109477'], Filters=[{'Name': 'name', 'Values': ['*noble-24.04*']}])['Images'][0]['ImageId']
db = c.run_instances(ImageId=ubuntu, InstanceType='m5.large', MinCount=4, MaxCount=4,
    TagSpecifications=[{'ResourceType': 'instance', 'Tags': [{'Key': 'Name', 'Value': 'db'}]}])
db_ids = sorted(i['InstanceId'] for i in db['Instances'])
asg_ids = ids(**f('tag:aws:autoscaling:groupName', 'web-asg'))
out['asg'] = len(asg_ids)
out['name_web'] = ids(**f('tag:Name', 'web')) == web_ids
out['name_wildcard'] = len(ids(**f('tag:Name', 'w*', 'd?')))
out['tag_key'] = len(ids(**f('tag-key', 'env')))
out['zone_a'] = ids(**f('availability-zone', 'us-east-1a')) == web_ids
out['zone_b'] = ids(**f('availability-zone', 'us-east-1b')) == asg_ids
out['image_ubuntu'] = ids(**f('image-id', ubuntu)) == db_ids
out['type'] = ids(**f('instance-type', 'm5.large')) == db_ids
out['pending'] = len(ids(**f('instance-state-name', 'pending')))
advance(10)
wait_state(c, web_ids + db_ids + asg_ids, 'running')
c.terminate_instances(InstanceIds=db_ids[:2])
out['running'] = len(ids(**f('instance-state-name', 'running')))
out['shutting_down'] = len(ids(**f('instance-state-name', 'shutting-down')))
out['code_16'] = len(ids(**f('instance-state-code', '16')))
both = c.describe_instances(Filters=[{'Name': 'tag:Name', 'Values': ['web']}, {'Name': 'instance-state-name', 'Values': ['running']}])
out['and_filters'] = sum(len(r['Instances']) for r in both['Reservations'])
one = c.describe_instances(InstanceIds=[web_ids[0]])['Reservations'][0]['Instances'][0]
out['by_ip'] = ids(**f('private-ip-address', one['PrivateIpAddress'])) == [web_ids[0]]
out['by_subnet'] = len(ids(**f('subnet-id', one['SubnetId'])))
out['by_vpc'] = len(ids(**f('vpc-id', one['VpcId'])))
out['by_group'] = len(ids(**f('instance.group-name', 'default')))
# Pagination: 12 instances in pages of 5, each once.
seen, token, pages = [], None, 0
while True:
    kw = {'MaxResults': 5}
    if token:
        kw['NextToken'] = token
    r = c.describe_instances(**kw)
    seen += [i['InstanceId'] for res in r['Reservations'] for i in res['Instances']]
    pages += 1
    token = r.get('NextToken')
    if not token:
        break
out['pages'] = pages
out['paged'] = len(seen)
out['paged_unique'] = len(set(seen))
paginator = c.get_paginator('describe_instances')
out['paginator'] = sum(len(res['Instances']) for page in paginator.paginate(PaginationConfig={'PageSize': 5}) for res in page['Reservations'])
st = c.describe_instance_status(InstanceIds=web_ids[:1])['InstanceStatuses'][0]['InstanceStatus']['Status']
advance(60)
st2 = c.describe_instance_status(InstanceIds=web_ids[:1])['InstanceStatuses'][0]['InstanceStatus']['Status']
out['status'] = [st, st2]
out['status_running_only'] = len(c.describe_instance_status()['InstanceStatuses'])
out['status_all'] = len(c.describe_instance_status(IncludeAllInstances=True)['InstanceStatuses'])
# Tags across resource types.
sg = c.create_security_group(GroupName='tagged', Description='d', TagSpecifications=[{'ResourceType': 'security-group', 'Tags': [{'Key': 'team', 'Value': 'a'}]}])['GroupId']
c.create_tags(Resources=[web_ids[0], sg], Tags=[{'Key': 'team', 'Value': 'a'}, {'Key': 'Name', 'Value': 'renamed'}])
tags = c.describe_tags(Filters=[{'Name': 'key', 'Values': ['team']}])['Tags']
out['tag_types'] = sorted(t['ResourceType'] for t in tags)
out['renamed'] = ids(**f('tag:Name', 'renamed')) == [web_ids[0]]
c.delete_tags(Resources=[web_ids[0]], Tags=[{'Key': 'team', 'Value': 'other'}])
out['kept_on_value_mismatch'] = len(c.describe_tags(Filters=[{'Name': 'resource-id', 'Values': [web_ids[0]]}, {'Name': 'key', 'Values': ['team']}])['Tags'])
c.delete_tags(Resources=[web_ids[0]], Tags=[{'Key': 'team'}])
out['deleted'] = len(c.describe_tags(Filters=[{'Name': 'resource-id', 'Values': [web_ids[0]]}, {'Name': 'key', 'Values': ['team']}])['Tags'])
out['instance_tags'] = len(c.describe_tags(Filters=[{'Name': 'resource-type', 'Values': ['instance']}, {'Name': 'key', 'Values': ['Name']}])['Tags'])
out['tag_pages'] = len(c.describe_tags(MaxResults=5)['Tags'])
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    let expect = json!({
        "launch_index": [0, 1, 2, 3, 4], "one_reservation": 1, "asg": 3, "name_web": true,
        "name_wildcard": 9, "tag_key": 5, "zone_a": true, "zone_b": true, "image_ubuntu": true,
        "type": true, "pending": 12, "running": 10, "shutting_down": 2, "code_16": 10,
        "and_filters": 5, "by_ip": true, "by_vpc": 12, "by_group": 12,
        "pages": 3, "paged": 12, "paged_unique": 12, "paginator": 12,
        "status": ["initializing", "ok"], "status_running_only": 10, "status_all": 12,
        "tag_types": ["instance", "security-group"], "renamed": true,
        "kept_on_value_mismatch": 1, "deleted": 0, "instance_tags": 9, "tag_pages": 5,
    });
    for (k, v) in expect.as_object().unwrap() {
        assert_eq!(&out[k], v, "{k}: {out}");
    }
    assert!(out["by_subnet"].as_u64().unwrap() >= 5, "{out}");
}
