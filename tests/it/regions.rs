//! Unknown regions are refused, and reads keep nothing: requests with made-up regions or
//! made-up account keys used to leave a store behind each, never released.

use updraft::Config;

use crate::common::TestServer;

#[test]
fn made_up_regions_are_refused_in_every_protocol_and_keep_nothing() {
    let server = TestServer::start();
    for args in [
        ["ec2", "describe-instances"],
        ["autoscaling", "describe-auto-scaling-groups"],
        ["cloudwatch", "list-metrics"],
        ["sns", "list-topics"],
    ] {
        let out = server.aws(&[args[0], args[1], "--region", "zz-fake-1"]);
        assert_eq!(out.error_code(), "SignatureDoesNotMatch", "{args:?}");
        assert!(
            out.stderr.contains("not 'zz-fake-1'") && out.stderr.contains("--regions"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // A write is refused too, and nothing was created for the region.
    let out = server.aws(&[
        "sns",
        "create-topic",
        "--name",
        "t",
        "--region",
        "zz-fake-2",
    ]);
    assert_eq!(out.error_code(), "SignatureDoesNotMatch");
    assert!(
        server.state.stores.is_empty(),
        "{:?}",
        server.state.stores.scopes()
    );

    // `--regions` serves more.
    let server = TestServer::with_config(Config {
        regions: vec!["zz-fake-1".into()],
        ..Config::default()
    });
    let topic = server
        .aws(&[
            "sns",
            "create-topic",
            "--name",
            "t",
            "--region",
            "zz-fake-1",
        ])
        .json();
    assert!(
        topic["TopicArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sns:zz-fake-1:"),
        "{topic}"
    );
}

#[test]
fn reads_with_new_account_keys_create_no_store_and_see_stable_defaults() {
    let server = TestServer::start();
    let out = server.boto3(
        r#"
import boto3, json, os
vpcs = set()
for i in range(50):
    key = "%012d" % (111100000000 + i)
    ec2 = boto3.client("ec2", endpoint_url=os.environ["ENDPOINT"], region_name="eu-west-1",
                       aws_access_key_id=key, aws_secret_access_key="x")
    ec2.describe_instances()
    cw = boto3.client("cloudwatch", endpoint_url=os.environ["ENDPOINT"], region_name="eu-west-1",
                      aws_access_key_id=key, aws_secret_access_key="x")
    cw.describe_alarms()
first = boto3.client("ec2", endpoint_url=os.environ["ENDPOINT"], region_name="eu-west-1",
                     aws_access_key_id="111100000000", aws_secret_access_key="x")
for _ in range(2):
    vpcs.add(first.describe_vpcs()["Vpcs"][0]["VpcId"])
print(json.dumps(sorted(vpcs)))
"#,
    );
    // The default VPC a read shows is the same every time, with no store kept.
    assert_eq!(out.as_array().unwrap().len(), 1, "{out}");
    assert!(
        server.state.stores.is_empty(),
        "{:?}",
        server.state.stores.scopes()
    );

    // A write creates the store, and the default VPC keeps the id the reads showed.
    let after = server.boto3(
        r#"
import boto3, json, os
ec2 = boto3.client("ec2", endpoint_url=os.environ["ENDPOINT"], region_name="eu-west-1",
                   aws_access_key_id="111100000000", aws_secret_access_key="x")
vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)
print(json.dumps([vpc, ec2.describe_vpcs()["Vpcs"][0]["VpcId"]]))
"#,
    );
    assert_eq!(after[0], out[0]);
    assert_eq!(after[1], out[0]);
    assert_eq!(server.state.stores.len(), 1);
}
