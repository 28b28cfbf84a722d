//! EC2 launch templates, idempotency, instance types, key imports, the CLI, the simulated
//! backend (HTTP responder, stress knob) and 32 concurrent clients.

use std::collections::HashSet;

use serde_json::json;

use crate::common::{BOTO3_PRELUDE, TestServer};
use crate::ec2::{EC2_PRELUDE, frozen_server};
use updraft::backend::{HttpAddress, HttpRequest};
use updraft::services::ec2::images;

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

#[test]
fn ec2_through_the_cli() {
    let server = TestServer::start();
    let zones = server
        .aws(&[
            "ec2",
            "describe-availability-zones",
            "--region",
            "us-east-1",
        ])
        .json();
    assert_eq!(zones["AvailabilityZones"].as_array().unwrap().len(), 6);
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    // The CLI base64-encodes --user-data itself.
    let run = server
        .aws(&[
            "ec2",
            "run-instances",
            "--image-id",
            &ami,
            "--count",
            "2",
            "--instance-type",
            "t2.micro",
            "--user-data",
            "#!/bin/bash\necho hi\n",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=Name,Value=cli}]",
        ])
        .json();
    assert_eq!(run["Instances"].as_array().unwrap().len(), 2);
    let listed = server
        .aws(&[
            "ec2",
            "describe-instances",
            "--filters",
            "Name=tag:Name,Values=cli",
            "Name=instance-state-name,Values=pending,running",
            "--query",
            "Reservations[].Instances[].InstanceId",
        ])
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let missing = server.aws(&[
        "ec2",
        "terminate-instances",
        "--instance-ids",
        "i-0123456789abcdef0",
    ]);
    assert_eq!(missing.error_code(), "InvalidInstanceID.NotFound");
}

#[test]
fn simulated_instances_serve_http_and_take_stress() {
    let server = frozen_server();
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}\nAMI = '{ami}'\n{}",
        r##"
c = client('ec2')
i = c.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, UserData='#!/bin/bash\n# updraft:http-body Hello ELB 1\n# updraft:http-port 8080\n')['Instances'][0]['InstanceId']
j = c.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, Placement={'AvailabilityZone': 'us-east-1c'})['Instances'][0]['InstanceId']
advance(10)
wait_state(c, [i, j], 'running')
print(json.dumps({'i': i, 'j': j}))
"##
    );
    let out = server.boto3(&script);
    let (i, j) = (out["i"].as_str().unwrap(), out["j"].as_str().unwrap());
    let backend = &server.state.backend;
    let get = HttpRequest {
        method: "GET".into(),
        path: "/index.html".into(),
    };
    let reply = |id: &str, port: u16| match backend.http_address(id, port) {
        Some(HttpAddress::InProcess(respond)) => Some(respond(&get).body),
        Some(HttpAddress::Socket(_)) => panic!("the simulated backend answers in process"),
        None => None,
    };
    assert_eq!(reply(i, 80).as_deref(), Some("Hello ELB 1\n"));
    assert_eq!(reply(i, 8080).as_deref(), Some("Hello ELB 1\n"));
    assert_eq!(reply(i, 8081), None);
    assert_eq!(
        reply(j, 80).as_deref(),
        Some(format!("Hello from {j} in us-east-1c\n").as_str())
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let now = server.state.clock.now();
    let idle = rt.block_on(backend.metrics_sample(j, now + 60.0)).unwrap();
    assert!((0.5..3.0).contains(&idle.cpu_utilization), "{idle:?}");

    let stress = |id: &str, body: &str| {
        server.http(
            "POST",
            &format!("/_updraft/instances/{id}/stress"),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    };
    let ok = stress(j, r#"{"cpu_percent": 95}"#);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let busy = rt.block_on(backend.metrics_sample(j, now + 120.0)).unwrap();
    assert!(busy.cpu_utilization >= 95.0, "{busy:?}");
    assert_eq!(stress(j, r#"{"cpu_percent": 0}"#).status, 200);
    let calm = rt.block_on(backend.metrics_sample(j, now + 180.0)).unwrap();
    assert!(calm.cpu_utilization < 3.0, "{calm:?}");
    assert_eq!(
        stress("i-0123456789abcdef0", r#"{"cpu_percent": 5}"#).status,
        404
    );
    assert_eq!(stress(j, r#"{"cpu_percent": 500}"#).status, 400);
    assert_eq!(stress(j, r#"{"cpu": 5}"#).status, 400);
}

/// 32 clients at once, each launching two instances and terminating one, over raw ec2 forms.
#[test]
fn ec2_concurrent_clients_keep_ids_unique_and_counts_consistent() {
    let server = frozen_server();
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let launched: Vec<(Vec<String>, u16)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|n| {
                let (server, ami) = (&server, &ami);
                s.spawn(move || {
                    let run = server.form(&format!(
                        "Action=RunInstances&Version=2016-11-15&ImageId={ami}&MinCount=2&MaxCount=2\
                         &TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=client\
                         &TagSpecification.1.Tag.1.Value=c{n}"
                    ));
                    assert_eq!(run.status, 200, "{}", run.text());
                    let ids = instance_ids(&run.text());
                    let term = server.form(&format!(
                        "Action=TerminateInstances&Version=2016-11-15&InstanceId.1={}",
                        ids[0]
                    ));
                    (ids, term.status)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<String> = launched.iter().flat_map(|(ids, _)| ids.clone()).collect();
    assert!(
        launched
            .iter()
            .all(|(ids, status)| ids.len() == 2 && *status == 200)
    );
    assert_eq!(all.len(), 64);
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        64,
        "no duplicate ids"
    );
    let listed = server
        .form("Action=DescribeInstances&Version=2016-11-15")
        .text();
    let listed_ids = instance_ids(&listed);
    assert_eq!(
        listed_ids.iter().collect::<HashSet<_>>(),
        all.iter().collect::<HashSet<_>>()
    );
    let count = |state: &str| listed.matches(&format!("<name>{state}</name>")).count();
    assert_eq!(
        (count("pending"), count("shutting-down")),
        (32, 32),
        "no lost updates"
    );
    let ips: HashSet<&str> = listed
        .split("<privateIpAddress>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    assert_eq!(ips.len(), 64, "every instance has its own private address");
}

fn instance_ids(xml: &str) -> Vec<String> {
    let mut ids: Vec<String> = xml
        .split("<instanceId>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_owned)
        .collect();
    ids.dedup();
    ids
}

#[test]
fn the_stress_subcommand_sets_the_knob() {
    let server = frozen_server();
    let scope = updraft::state::Scope::new("000000000000", "us-east-1");
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let out = updraft::services::ec2::instances::launch(
        &server.state,
        &scope,
        json!({"ImageId": ami, "MinCount": 1, "MaxCount": 1}),
        Vec::new(),
    )
    .unwrap();
    let id = out["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let launched = || {
        server
            .state
            .stores
            .with(&scope, |s| s.ec2.instances[&id].launched)
    };
    for _ in 0..200 {
        if launched() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(launched(), "the controller launched it on the backend");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_updraft"))
            .arg("stress")
            .args(args)
            .args(["--endpoint", &server.url])
            .output()
            .expect("updraft runs")
    };
    let ok = run(&[&id, "80"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"cpu_percent\":80"));
    assert!(!run(&["i-0123456789abcdef0", "80"]).status.success());
}
