//! EC2 launch templates, idempotency tokens, instance types and key imports through boto3 on
//! a frozen clock.

use serde_json::json;

use crate::common::BOTO3_PRELUDE;
use crate::ec2::{EC2_PRELUDE, frozen_server};

#[test]
fn ec2_launch_templates_idempotency_types_and_keys() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}\n{}",
        r##"
import base64
c = client('ec2', region='ap-northeast-2')
out = {}
ami = c.describe_images(Owners=['amazon'], Filters=[{'Name': 'name', 'Values': ['amzn2-*']}])['Images'][0]['ImageId']
sg = c.create_security_group(GroupName='web', Description='web')['GroupId']
lt = c.create_launch_template(LaunchTemplateName='web-lt', VersionDescription='v1', LaunchTemplateData={
    'ImageId': ami, 'InstanceType': 't3.micro', 'SecurityGroupIds': [sg], 'Monitoring': {'Enabled': True},
    'UserData': base64.b64encode(b'#!/bin/bash\n# updraft:http-body from template\n').decode(),
    'TagSpecifications': [{'ResourceType': 'instance', 'Tags': [{'Key': 'role', 'Value': 'web'}]}]})['LaunchTemplate']
out['lt'] = [lt['DefaultVersionNumber'], lt['LatestVersionNumber']]
v2 = c.create_launch_template_version(LaunchTemplateId=lt['LaunchTemplateId'], SourceVersion='1', VersionDescription='v2',
    LaunchTemplateData={'InstanceType': 't3.small'})['LaunchTemplateVersion']
out['v2'] = [v2['VersionNumber'], v2['LaunchTemplateData']['InstanceType'], v2['LaunchTemplateData']['ImageId'] == ami, v2['DefaultVersion']]
def run(version, **kw):
    r = c.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={'LaunchTemplateName': 'web-lt', 'Version': version}, **kw)
    return r['Instances'][0]
i1 = run('$Default')
i2 = run('$Latest', InstanceType='c5.large', TagSpecifications=[{'ResourceType': 'instance', 'Tags': [{'Key': 'Name', 'Value': 'x'}]}])
out['from_default'] = [i1['InstanceType'], i1['Monitoring']['State'], [g['GroupId'] for g in i1['SecurityGroups']] == [sg]]
out['override'] = [i2['InstanceType'], sorted(t['Key'] for t in i2['Tags'])]
data = c.get_launch_template_data(InstanceId=i2['InstanceId'])['LaunchTemplateData']
out['from_instance'] = [data['InstanceType'], data['SecurityGroupIds'] == [sg], sorted(t['Key'] for t in data['TagSpecifications'][0]['Tags'])]
c.modify_launch_template(LaunchTemplateName='web-lt', DefaultVersion='2')
out['default_now'] = c.describe_launch_templates(LaunchTemplateIds=[lt['LaunchTemplateId']])['LaunchTemplates'][0]['DefaultVersionNumber']
out['versions'] = [v['VersionNumber'] for v in c.describe_launch_template_versions(LaunchTemplateName='web-lt', Versions=['$Latest', '1'])['LaunchTemplateVersions']]
d = c.delete_launch_template_versions(LaunchTemplateName='web-lt', Versions=['1', '2', '9'])
out['deleted_versions'] = [[x['VersionNumber'] for x in d['SuccessfullyDeletedLaunchTemplateVersions']],
    [x['ResponseError']['Code'] for x in d['UnsuccessfullyDeletedLaunchTemplateVersions']]]
out['lt_dup'] = err(c, lambda: c.create_launch_template(LaunchTemplateName='web-lt', LaunchTemplateData={'InstanceType': 't3.micro'}))['code']
c.delete_launch_template(LaunchTemplateName='web-lt')
out['lt_left'] = len(c.describe_launch_templates()['LaunchTemplates'])
# ClientToken: the same reservation twice.
a = c.run_instances(ImageId=ami, MinCount=2, MaxCount=2, ClientToken='tok-1')
b = c.run_instances(ImageId=ami, MinCount=2, MaxCount=2, ClientToken='tok-1')
out['idempotent'] = [a['ReservationId'] == b['ReservationId'], sorted(i['InstanceId'] for i in a['Instances']) == sorted(i['InstanceId'] for i in b['Instances'])]
out['total'] = sum(len(r['Instances']) for r in c.describe_instances()['Reservations'])
# Console output of a template instance once it ran, and instance attributes.
advance(10)
wait_state(c, [i1['InstanceId']], 'running')
ud = c.describe_instance_attribute(InstanceId=i1['InstanceId'], Attribute='userData')['UserData']['Value']
out['user_data'] = base64.b64decode(ud).decode().splitlines()[1]
c.stop_instances(InstanceIds=[i1['InstanceId']])
advance(5)
wait_state(c, [i1['InstanceId']], 'stopped')
c.modify_instance_attribute(InstanceId=i1['InstanceId'], InstanceType={'Value': 'm5.xlarge'})
out['modified_type'] = c.describe_instance_attribute(InstanceId=i1['InstanceId'], Attribute='instanceType')['InstanceType']['Value']
m = c.monitor_instances(InstanceIds=[i2['InstanceId']])['InstanceMonitorings'][0]['Monitoring']['State']
out['monitor'] = [m, c.describe_instances(InstanceIds=[i2['InstanceId']])['Reservations'][0]['Instances'][0]['Monitoring']['State']]
# Instance types and offerings.
types = c.describe_instance_types(InstanceTypes=['t1.micro', 'm5.large', 'c5.xlarge'])['InstanceTypes']
out['types'] = sorted((t['InstanceType'], t['VCpuInfo']['DefaultVCpus'], t['MemoryInfo']['SizeInMiB']) for t in types)
out['two_vcpu_t3'] = sorted(t['InstanceType'] for t in c.describe_instance_types(Filters=[
    {'Name': 'vcpu-info.default-vcpus', 'Values': ['2']}, {'Name': 'instance-type', 'Values': ['t3.*']}])['InstanceTypes'])
offers = c.describe_instance_type_offerings(LocationType='availability-zone', Filters=[{'Name': 'instance-type', 'Values': ['t3.micro']}])['InstanceTypeOfferings']
out['offers'] = sorted(o['Location'] for o in offers)
# Keys: an imported OpenSSH key and an ED25519 one made here.
made = c.create_key_pair(KeyName='ed', KeyType='ed25519')
pub = c.describe_key_pairs(KeyNames=['ed'], IncludePublicKey=True)['KeyPairs'][0]
imp = c.import_key_pair(KeyName='imported', PublicKeyMaterial=pub['PublicKey'].encode())
out['keys'] = [made['KeyMaterial'].splitlines()[0], pub['KeyType'], imp['KeyFingerprint'] == made['KeyFingerprint']]
c.delete_key_pair(KeyName='ed')
c.delete_key_pair(KeyName='never-existed')
out['keys_left'] = [k['KeyName'] for k in c.describe_key_pairs()['KeyPairs']]
# CopyImage from another region, then its attributes.
src = c.describe_images(Owners=['amazon'])['Images'][0]['ImageId']
east = client('ec2', region='us-east-1')
east_ami = east.describe_images(Owners=['amazon'], Filters=[{'Name': 'name', 'Values': ['amzn2-*']}])['Images'][0]['ImageId']
copy = c.copy_image(SourceImageId=east_ami, SourceRegion='us-east-1', Name='copied')['ImageId']
advance(20)
out['copy'] = wait_image(c, copy, 'available')['SourceImageId'] == east_ami
c.modify_image_attribute(ImageId=copy, LaunchPermission={'Add': [{'UserId': '123456789012'}]})
out['perms'] = c.describe_image_attribute(ImageId=copy, Attribute='launchPermission')['LaunchPermissions']
# A VPC of our own with a subnet: private addresses from its CIDR, no public IP.
vpc = c.create_vpc(CidrBlock='10.1.0.0/16')['Vpc']['VpcId']
sub = c.create_subnet(VpcId=vpc, CidrBlock='10.1.2.0/24', AvailabilityZone='ap-northeast-2b')['Subnet']
inst = c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=sub['SubnetId'])['Instances'][0]
out['own_vpc'] = [inst['PrivateIpAddress'], inst['Placement']['AvailabilityZone'], inst['VpcId'] == vpc]
out['subnet_conflict'] = err(c, lambda: c.create_subnet(VpcId=vpc, CidrBlock='10.1.2.128/25'))['code']
out['vpc_in_use'] = err(c, lambda: c.delete_vpc(VpcId=vpc))['code']
c.terminate_instances(InstanceIds=[inst['InstanceId']])
advance(5)
wait_state(c, [inst['InstanceId']], 'terminated')
c.delete_subnet(SubnetId=sub['SubnetId'])
c.delete_vpc(VpcId=vpc)
out['vpcs'] = len(c.describe_vpcs()['Vpcs'])
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    let expect = json!({
        "lt": [1, 1], "v2": [2, "t3.small", true, false],
        "from_default": ["t3.micro", "enabled", true],
        "override": ["c5.large", ["Name", "aws:ec2launchtemplate:id", "aws:ec2launchtemplate:version", "role"]],
        "default_now": 2, "versions": [2, 1],
        "from_instance": ["c5.large", true, ["Name", "role"]],
        "deleted_versions": [[1], ["unexpectedError", "launchTemplateVersionDoesNotExist"]],
        "lt_dup": "InvalidLaunchTemplateName.AlreadyExistsException", "lt_left": 0,
        "idempotent": [true, true], "total": 4,
        "user_data": "# updraft:http-body from template",
        "modified_type": "m5.xlarge", "monitor": ["pending", "enabled"],
        "types": [["c5.xlarge", 4, 8192], ["m5.large", 2, 8192], ["t1.micro", 1, 627]],
        "two_vcpu_t3": ["t3.large", "t3.medium", "t3.micro", "t3.nano", "t3.small"],
        "offers": ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d"],
        "keys": ["-----BEGIN OPENSSH PRIVATE KEY-----", "ed25519", true],
        "keys_left": ["imported"], "copy": true, "perms": [{"UserId": "123456789012"}],
        "own_vpc": ["10.1.2.4", "ap-northeast-2b", true],
        "subnet_conflict": "InvalidSubnet.Conflict", "vpc_in_use": "DependencyViolation", "vpcs": 1,
    });
    for (k, v) in expect.as_object().unwrap() {
        assert_eq!(&out[k], v, "{k}: {out}");
    }
}
