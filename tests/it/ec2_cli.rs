//! EC2 through the aws CLI.

use crate::common::TestServer;
use updraft::services::ec2::images;

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
