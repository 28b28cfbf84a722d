//! EC2 through the pinned `aws` CLI: block device mappings and the volumes they make,
//! network interfaces, route tables and internet gateways of the default VPC, ClientToken
//! reuse with other parameters, and images shared with another account.

use serde_json::Value;

use crate::common::TestServer;
use crate::ec2::frozen_server;
use updraft::services::ec2::images;

const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";

fn as_account(server: &TestServer, account: &str, args: &[&str]) -> crate::common::CliResult {
    server.aws_with_env(
        args,
        &[
            ("AWS_ACCESS_KEY_ID", account),
            ("AWS_DEFAULT_REGION", "ap-northeast-2"),
        ],
    )
}

fn ok(server: &TestServer, account: &str, args: &[&str]) -> Value {
    let out = as_account(server, account, args);
    assert!(out.ok, "{args:?}: {}", out.stderr);
    out.json()
}

fn strs(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
        .collect();
    out.sort();
    out
}

#[test]
fn ec2_block_devices_volumes_and_network_views() {
    let server = frozen_server();
    let ami = images::stable_id(
        "ami",
        "ap-northeast-2",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    // The image records its root mapping (gp3, 8 GiB, from its snapshot).
    let img = ok(
        &server,
        OWNER,
        &["ec2", "describe-images", "--image-ids", &ami],
    );
    let root = &img["Images"][0]["BlockDeviceMappings"][0];
    assert_eq!(root["DeviceName"], "/dev/xvda");
    assert_eq!(root["Ebs"]["VolumeSize"], 8);
    assert_eq!(root["Ebs"]["VolumeType"], "gp3");

    // A bigger gp2 root that survives termination, and an extra io1 data volume.
    let mappings = r#"[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":30,"VolumeType":"gp2","DeleteOnTermination":false}},
        {"DeviceName":"/dev/sdf","Ebs":{"VolumeSize":100,"VolumeType":"io1","Iops":500,"Encrypted":true}}]"#;
    let run = ok(
        &server,
        OWNER,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            &ami,
            "--count",
            "1",
            "--block-device-mappings",
            mappings,
            "--client-token",
            "bdm-1",
            "--tag-specifications",
            "ResourceType=volume,Tags=[{Key=app,Value=db}]",
        ],
    );
    let inst = &run["Instances"][0];
    let id = inst["InstanceId"].as_str().unwrap().to_owned();
    let bdm = inst["BlockDeviceMappings"].as_array().unwrap();
    assert_eq!(
        bdm.iter()
            .map(|m| m["DeviceName"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["/dev/xvda", "/dev/sdf"]
    );
    assert_eq!(bdm[0]["Ebs"]["DeleteOnTermination"], false);
    assert_eq!(bdm[1]["Ebs"]["DeleteOnTermination"], true);
    let root_vol = bdm[0]["Ebs"]["VolumeId"].as_str().unwrap().to_owned();

    // DescribeVolumes shows both, attached, as the mappings asked.
    let vols = ok(
        &server,
        OWNER,
        &[
            "ec2",
            "describe-volumes",
            "--filters",
            &format!("Name=attachment.instance-id,Values={id}"),
        ],
    );
    let vols = vols["Volumes"].as_array().unwrap().clone();
    assert_eq!(vols.len(), 2);
    let by_dev = |dev: &str| {
        vols.iter()
            .find(|v| v["Attachments"][0]["Device"] == dev)
            .unwrap_or_else(|| panic!("no {dev} in {vols:?}"))
            .clone()
    };
    let (r, d) = (by_dev("/dev/xvda"), by_dev("/dev/sdf"));
    assert_eq!(
        (&r["Size"], &r["Iops"], &r["State"]),
        (&Value::from(30), &Value::from(100), &Value::from("in-use"))
    );
    assert_eq!(r["VolumeType"], "gp2");
    assert_eq!(
        [&d["Size"], &d["Iops"], &d["Encrypted"]],
        [&Value::from(100), &Value::from(500), &Value::Bool(true)]
    );
    assert_eq!(d["VolumeType"], "io1");
    assert_eq!(r["Tags"][0]["Value"], "db");
    assert_eq!(r["AvailabilityZone"], inst["Placement"]["AvailabilityZone"]);
    let io1 = ok(
        &server,
        OWNER,
        &[
            "ec2",
            "describe-volumes",
            "--filters",
            "Name=volume-type,Values=io1",
        ],
    );
    assert_eq!(io1["Volumes"].as_array().unwrap().len(), 1);

    // Bad mappings are refused and launch nothing.
    let small = as_account(
        &server,
        OWNER,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            &ami,
            "--count",
            "1",
            "--block-device-mappings",
            r#"[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":4}}]"#,
        ],
    );
    assert_eq!(small.error_code(), "InvalidBlockDeviceMapping");
    // The same ClientToken with other parameters.
    let reuse = as_account(
        &server,
        OWNER,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            &ami,
            "--count",
            "2",
            "--client-token",
            "bdm-1",
        ],
    );
    assert_eq!(reuse.error_code(), "IdempotentParameterMismatch");
    let all = ok(&server, OWNER, &["ec2", "describe-instances"]);
    assert_eq!(all["Reservations"].as_array().unwrap().len(), 1);

    // The primary interface, as DescribeInstances shows it inside the instance.
    let nic_id = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
        .as_str()
        .unwrap();
    let nics = ok(
        &server,
        OWNER,
        &[
            "ec2",
            "describe-network-interfaces",
            "--filters",
            &format!("Name=attachment.instance-id,Values={id}"),
        ],
    );
    let nic = &nics["NetworkInterfaces"][0];
    assert_eq!(nic["NetworkInterfaceId"], nic_id);
    assert_eq!(nic["PrivateIpAddress"], inst["PrivateIpAddress"]);
    assert_eq!(nic["SubnetId"], inst["SubnetId"]);
    assert_eq!(
        nic["AvailabilityZone"],
        inst["Placement"]["AvailabilityZone"]
    );
    assert_eq!(nic["Attachment"]["InstanceId"], id.as_str());
    assert_eq!(nic["Status"], "in-use");
    let missing = as_account(
        &server,
        OWNER,
        &[
            "ec2",
            "describe-network-interfaces",
            "--network-interface-ids",
            "eni-0123456789abcdef0",
        ],
    );
    assert_eq!(missing.error_code(), "InvalidNetworkInterfaceID.NotFound");

    // The default VPC's main route table goes to its internet gateway.
    let vpc = ok(
        &server,
        OWNER,
        &[
            "ec2",
            "describe-vpcs",
            "--filters",
            "Name=is-default,Values=true",
        ],
    );
    let vpc_id = vpc["Vpcs"][0]["VpcId"].as_str().unwrap();
    let igws = ok(
        &server,
        OWNER,
        &[
            "ec2",
            "describe-internet-gateways",
            "--filters",
            &format!("Name=attachment.vpc-id,Values={vpc_id}"),
        ],
    );
    let igw = igws["InternetGateways"][0]["InternetGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(igw.starts_with("igw-"));
    assert_eq!(
        igws["InternetGateways"][0]["Attachments"][0]["State"],
        "available"
    );
    let rts = ok(
        &server,
        OWNER,
        &[
            "ec2",
            "describe-route-tables",
            "--filters",
            &format!("Name=vpc-id,Values={vpc_id}"),
            "Name=association.main,Values=true",
        ],
    );
    let rt = &rts["RouteTables"][0];
    assert_eq!(rt["Associations"][0]["Main"], true);
    assert_eq!(
        strs(&Value::Array(
            rt["Routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["GatewayId"].clone())
                .collect()
        )),
        [igw.as_str(), "local"]
    );
    assert_eq!(rt["Routes"][0]["DestinationCidrBlock"], "172.31.0.0/16");

    // Terminated: the data volume goes with the instance, the kept root becomes available.
    ok(
        &server,
        OWNER,
        &["ec2", "terminate-instances", "--instance-ids", &id],
    );
    let _ = server.http(
        "POST",
        "/_updraft/clock",
        &[],
        br#"{"advance_seconds": 30}"#,
    );
    let mut left = Value::Null;
    for _ in 0..100 {
        left = ok(&server, OWNER, &["ec2", "describe-volumes"]);
        if left["Volumes"]
            .as_array()
            .is_some_and(|v| v.len() == 1 && v[0]["State"] == "available")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(left["Volumes"][0]["VolumeId"], root_vol.as_str(), "{left}");
    assert_eq!(left["Volumes"][0]["State"], "available");
    assert_eq!(left["Volumes"][0]["Attachments"], Value::Array(vec![]));
}

#[test]
fn ec2_images_shared_with_another_account() {
    let server = frozen_server();
    let ami = images::stable_id(
        "ami",
        "ap-northeast-2",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let run = ok(
        &server,
        OWNER,
        &["ec2", "run-instances", "--image-id", &ami, "--count", "1"],
    );
    let id = run["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let _ = server.http(
        "POST",
        "/_updraft/clock",
        &[],
        br#"{"advance_seconds": 30}"#,
    );
    let mut image = String::new();
    for _ in 0..100 {
        let made = as_account(
            &server,
            OWNER,
            &[
                "ec2",
                "create-image",
                "--instance-id",
                &id,
                "--name",
                "golden",
                "--no-reboot",
            ],
        );
        if made.ok {
            image = made.json()["ImageId"].as_str().unwrap().to_owned();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(image.starts_with("ami-"), "CreateImage never succeeded");
    let _ = server.http(
        "POST",
        "/_updraft/clock",
        &[],
        br#"{"advance_seconds": 60}"#,
    );

    // Not shared yet: the other account neither sees nor launches it.
    let hidden = as_account(
        &server,
        OTHER,
        &["ec2", "describe-images", "--image-ids", &image],
    );
    assert_eq!(hidden.error_code(), "InvalidAMIID.NotFound");
    let refused = as_account(
        &server,
        OTHER,
        &["ec2", "run-instances", "--image-id", &image, "--count", "1"],
    );
    assert_eq!(refused.error_code(), "InvalidAMIID.NotFound");

    ok(
        &server,
        OWNER,
        &[
            "ec2",
            "modify-image-attribute",
            "--image-id",
            &image,
            "--launch-permission",
            &format!("Add=[{{UserId={OTHER}}}]"),
        ],
    );
    let seen = ok(
        &server,
        OTHER,
        &["ec2", "describe-images", "--executable-users", "self"],
    );
    assert_eq!(
        strs(&Value::Array(
            seen["Images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["ImageId"].clone())
                .collect()
        )),
        [image.as_str()]
    );
    assert_eq!(seen["Images"][0]["OwnerId"], OWNER);
    let by_owner = ok(
        &server,
        OTHER,
        &["ec2", "describe-images", "--owners", OWNER],
    );
    assert_eq!(by_owner["Images"].as_array().unwrap().len(), 1);
    let own = ok(
        &server,
        OTHER,
        &["ec2", "describe-images", "--owners", "self"],
    );
    assert_eq!(own["Images"].as_array().unwrap().len(), 0);
    let mut launched = Value::Null;
    for _ in 0..100 {
        let r = as_account(
            &server,
            OTHER,
            &["ec2", "run-instances", "--image-id", &image, "--count", "1"],
        );
        if r.ok {
            launched = r.json();
            break;
        }
        assert_eq!(r.error_code(), "InvalidAMIID.Unavailable");
        let _ = server.http(
            "POST",
            "/_updraft/clock",
            &[],
            br#"{"advance_seconds": 30}"#,
        );
    }
    assert_eq!(launched["Instances"][0]["ImageId"], image.as_str());
    // The owner's own view of its instances is unchanged by the other account's launch.
    let owner_instances = ok(&server, OWNER, &["ec2", "describe-instances"]);
    assert_eq!(owner_instances["Reservations"].as_array().unwrap().len(), 1);
}
