//! EC2 errors as AWS gives them (code, status, message), and a failed call changes nothing.

use serde_json::json;

use crate::common::BOTO3_PRELUDE;
use crate::ec2::{EC2_PRELUDE, frozen_server};

#[test]
fn ec2_errors_are_aws_shaped_and_change_nothing() {
    let server = frozen_server();
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}\n{}",
        r##"
c = client('ec2')
out = {}
def e(name, fn):
    r = err(c, fn)
    out[name] = [r['code'], r.get('message'), r.get('status')]
ami = c.describe_images(Owners=['amazon'])['Images'][0]['ImageId']
def count():
    return sum(len(r['Instances']) for r in c.describe_instances()['Reservations'])
e('id_not_found', lambda: c.describe_instances(InstanceIds=['i-0123456789abcdef0']))
e('id_malformed', lambda: c.describe_instances(InstanceIds=['nope']))
e('ids_not_found', lambda: c.terminate_instances(InstanceIds=['i-0123456789abcdef0', 'i-0123456789abcdef1']))
e('ami_not_found', lambda: c.run_instances(ImageId='ami-0123456789abcdef0', MinCount=1, MaxCount=1))
e('ami_malformed', lambda: c.run_instances(ImageId='bogus', MinCount=1, MaxCount=1))
e('key_not_found', lambda: c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, KeyName='nokey'))
e('sg_not_found', lambda: c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SecurityGroupIds=['sg-0123456789abcdef0']))
e('subnet_not_found', lambda: c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId='subnet-0123456789abcdef0'))
e('bad_type', lambda: c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType='x9.huge'))
e('bad_zone', lambda: c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, Placement={'AvailabilityZone': 'us-east-1z'}))
e('bad_counts', lambda: c.run_instances(ImageId=ami, MinCount=3, MaxCount=2))
out['count_after_failures'] = count()
e('dry_run', lambda: c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, DryRun=True))
out['count_after_dry_run'] = count()
c.create_key_pair(KeyName='k1', KeyType='ed25519')
e('key_dup', lambda: c.create_key_pair(KeyName='k1'))
e('key_describe_missing', lambda: c.describe_key_pairs(KeyNames=['zz']))
sg = c.create_security_group(GroupName='g1', Description='d')['GroupId']
e('sg_dup', lambda: c.create_security_group(GroupName='g1', Description='d'))
e('sg_name_format', lambda: c.create_security_group(GroupName='sg-123', Description='d'))
c.authorize_security_group_ingress(GroupId=sg, IpProtocol='tcp', FromPort=22, ToPort=22, CidrIp='0.0.0.0/0')
e('perm_dup', lambda: c.authorize_security_group_ingress(GroupId=sg, IpProtocol='tcp', FromPort=22, ToPort=22, CidrIp='0.0.0.0/0'))
# A batch with one duplicate adds nothing.
e('perm_dup_batch', lambda: c.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
    {'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '10.0.0.0/8'}]},
    {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}]))
out['rules_after_batch'] = len(c.describe_security_groups(GroupIds=[sg])['SecurityGroups'][0]['IpPermissions'])
e('perm_not_found', lambda: c.revoke_security_group_ingress(GroupId=sg, IpProtocol='tcp', FromPort=23, ToPort=23, CidrIp='0.0.0.0/0'))
e('bad_cidr', lambda: c.authorize_security_group_ingress(GroupId=sg, IpProtocol='tcp', FromPort=1, ToPort=2, CidrIp='10.0.0.300/8'))
e('group_not_found', lambda: c.describe_security_groups(GroupIds=['sg-0123456789abcdef0']))
default_sg = c.describe_security_groups(GroupNames=['default'])['SecurityGroups'][0]['GroupId']
e('default_cannot_delete', lambda: c.delete_security_group(GroupId=default_sg))
i = c.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SecurityGroupIds=[sg])['Instances'][0]['InstanceId']
e('sg_in_use', lambda: c.delete_security_group(GroupId=sg))
e('stop_pending', lambda: c.stop_instances(InstanceIds=[i]))
e('modify_type_running', lambda: c.modify_instance_attribute(InstanceId=i, InstanceType={'Value': 't3.large'}))
c.modify_instance_attribute(InstanceId=i, DisableApiTermination={'Value': True})
out['protected_attr'] = c.describe_instance_attribute(InstanceId=i, Attribute='disableApiTermination')['DisableApiTermination']['Value']
e('protected', lambda: c.terminate_instances(InstanceIds=[i]))
out['state_after_protected'] = states(c, [i])[i]
c.modify_instance_attribute(InstanceId=i, Attribute='disableApiTermination', Value='false')
c.terminate_instances(InstanceIds=[i])
advance(5)
wait_state(c, [i], 'terminated')
e('start_terminated', lambda: c.start_instances(InstanceIds=[i]))
e('reboot_terminated', lambda: c.reboot_instances(InstanceIds=[i]))
c.delete_security_group(GroupId=sg)
e('bad_filter', lambda: c.describe_instances(Filters=[{'Name': 'no-such-filter', 'Values': ['x']}]))
e('ids_and_max', lambda: c.describe_instances(InstanceIds=[i], MaxResults=5))
e('max_too_small', lambda: c.describe_instances(MaxResults=2))
e('tags_reserved', lambda: c.create_tags(Resources=[i], Tags=[{'Key': 'aws:x', 'Value': 'y'}]))
e('tags_missing_resource', lambda: c.create_tags(Resources=['i-0123456789abcdef0'], Tags=[{'Key': 'a', 'Value': 'b'}]))
e('image_not_found', lambda: c.describe_images(ImageIds=['ami-0123456789abcdef0']))
e('deregister_public', lambda: c.deregister_image(ImageId=ami))
e('snapshot_not_found', lambda: c.delete_snapshot(SnapshotId='snap-0123456789abcdef0'))
e('lt_not_found', lambda: c.describe_launch_templates(LaunchTemplateNames=['nope']))
e('import_garbage', lambda: c.import_key_pair(KeyName='x', PublicKeyMaterial=b'not a key'))
print(json.dumps(out))
"##
    );
    let out = server.boto3(&script);
    let code = |k: &str| out[k][0].as_str().unwrap_or("none").to_owned();
    let message = |k: &str| out[k][1].as_str().unwrap_or("").to_owned();
    let expected = [
        ("id_not_found", "InvalidInstanceID.NotFound"),
        ("id_malformed", "InvalidInstanceID.Malformed"),
        ("ids_not_found", "InvalidInstanceID.NotFound"),
        ("ami_not_found", "InvalidAMIID.NotFound"),
        ("ami_malformed", "InvalidAMIID.Malformed"),
        ("key_not_found", "InvalidKeyPair.NotFound"),
        ("sg_not_found", "InvalidGroup.NotFound"),
        ("subnet_not_found", "InvalidSubnetID.NotFound"),
        ("bad_type", "InvalidParameterValue"),
        ("bad_zone", "InvalidParameterValue"),
        ("bad_counts", "InvalidParameterValue"),
        ("dry_run", "DryRunOperation"),
        ("key_dup", "InvalidKeyPair.Duplicate"),
        ("key_describe_missing", "InvalidKeyPair.NotFound"),
        ("sg_dup", "InvalidGroup.Duplicate"),
        ("sg_name_format", "InvalidParameterValue"),
        ("perm_dup", "InvalidPermission.Duplicate"),
        ("perm_dup_batch", "InvalidPermission.Duplicate"),
        ("perm_not_found", "InvalidPermission.NotFound"),
        ("bad_cidr", "InvalidParameterValue"),
        ("group_not_found", "InvalidGroup.NotFound"),
        ("default_cannot_delete", "CannotDelete"),
        ("sg_in_use", "DependencyViolation"),
        ("stop_pending", "IncorrectInstanceState"),
        ("modify_type_running", "IncorrectInstanceState"),
        ("protected", "OperationNotPermitted"),
        ("start_terminated", "IncorrectInstanceState"),
        ("reboot_terminated", "IncorrectInstanceState"),
        ("bad_filter", "InvalidParameterValue"),
        ("ids_and_max", "InvalidParameterCombination"),
        ("max_too_small", "InvalidParameterValue"),
        ("tags_reserved", "InvalidParameterValue"),
        ("tags_missing_resource", "InvalidInstanceID.NotFound"),
        ("image_not_found", "InvalidAMIID.NotFound"),
        ("deregister_public", "AuthFailure"),
        ("snapshot_not_found", "InvalidSnapshot.NotFound"),
        (
            "lt_not_found",
            "InvalidLaunchTemplateName.NotFoundException",
        ),
        ("import_garbage", "InvalidKey.Format"),
    ];
    for (k, c) in expected {
        assert_eq!(code(k), c, "{k}: {}", out[k]);
        assert!(out[k][2] == json!(400) || k == "dry_run", "{k}: {}", out[k]);
    }
    assert_eq!(out["dry_run"][2], 412);
    assert_eq!(
        message("id_not_found"),
        "The instance ID 'i-0123456789abcdef0' does not exist"
    );
    assert_eq!(
        message("ids_not_found"),
        "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist"
    );
    assert_eq!(
        message("ami_not_found"),
        "The image id '[ami-0123456789abcdef0]' does not exist"
    );
    assert_eq!(message("key_dup"), "The keypair 'k1' already exists.");
    assert_eq!(
        message("key_not_found"),
        "The key pair 'nokey' does not exist"
    );
    assert!(
        message("protected").contains("may not be terminated"),
        "{out}"
    );
    assert_eq!(out["count_after_failures"], 0);
    assert_eq!(out["count_after_dry_run"], 0);
    assert_eq!(out["rules_after_batch"], 1, "a failed batch adds nothing");
    assert_eq!(out["protected_attr"], true);
    assert_eq!(out["state_after_protected"], "pending");
}
