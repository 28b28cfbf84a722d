//! The pinned `aws` CLI and boto3 against a real server: for every service a read operation
//! and a deliberately invalid call, each answered as the client expects.

use serde_json::json;

use crate::common::{BOTO3_PRELUDE, TestServer};

#[test]
fn ec2_read_and_errors_through_the_cli() {
    let server = TestServer::start();
    let regions = server.aws(&["ec2", "describe-regions"]).json();
    let names: Vec<&str> = regions["Regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["RegionName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"us-east-1") && names.contains(&"ap-northeast-2"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"af-south-1"),
        "opt-in regions only with --all-regions"
    );

    let filtered = server
        .aws(&[
            "ec2",
            "describe-regions",
            "--filters",
            "Name=region-name,Values=eu-*",
            "--all-regions",
        ])
        .json();
    assert!(
        filtered["Regions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["RegionName"].as_str().unwrap().starts_with("eu-"))
    );

    assert_eq!(
        server
            .aws(&["ec2", "describe-regions", "--region-names", "mars-1"])
            .error_code(),
        "InvalidParameterValue"
    );
    assert_eq!(
        server
            .aws(&["ec2", "describe-regions", "--dry-run"])
            .error_code(),
        "DryRunOperation"
    );
    // Every operation of the EC2 model is implemented now; one that is not in it is refused.
    let volumes = server.aws(&["ec2", "describe-volumes"]);
    assert!(volumes.ok, "{}", volumes.stderr);
    assert_eq!(volumes.json()["Volumes"], serde_json::json!([]));
}

#[test]
fn ec2_missing_parameter_through_boto3() {
    let server = TestServer::start();
    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}\nc = client('ec2', config=Config(parameter_validation=False, retries={{'max_attempts': 1}}))\n\
         print(json.dumps(err(c, lambda: c.run_instances(ImageId='ami-12345678'))))"
    ));
    assert_eq!(out["code"], "MissingParameter", "{out}");
    assert_eq!(out["status"], 400);
}

#[test]
fn autoscaling_read_and_errors() {
    let server = TestServer::start();
    let types = server
        .aws(&["autoscaling", "describe-adjustment-types"])
        .json();
    assert_eq!(
        types["AdjustmentTypes"],
        json!([{"AdjustmentType": "ChangeInCapacity"}, {"AdjustmentType": "ExactCapacity"}, {"AdjustmentType": "PercentChangeInCapacity"}])
    );
    let metrics = server
        .aws(&["autoscaling", "describe-metric-collection-types"])
        .json();
    assert_eq!(
        metrics["Granularities"],
        json!([{"Granularity": "1Minute"}])
    );
    assert!(
        metrics["Metrics"]
            .as_array()
            .unwrap()
            .contains(&json!({"Metric": "GroupInServiceInstances"}))
    );
    assert_eq!(
        server
            .aws(&["autoscaling", "describe-auto-scaling-groups"])
            .json(),
        json!({"AutoScalingGroups": []})
    );
    assert_eq!(
        server
            .aws(&[
                "autoscaling",
                "get-predictive-scaling-forecast",
                "--auto-scaling-group-name",
                "g",
                "--policy-name",
                "p",
                "--start-time",
                "2026-01-01T00:00:00Z",
                "--end-time",
                "2026-01-02T00:00:00Z"
            ])
            .error_code(),
        // Implemented now: the unknown group is refused as AWS refuses it.
        "ValidationError"
    );

    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}\nc = client('autoscaling', config=Config(parameter_validation=False, retries={{'max_attempts': 1}}))\n\
         print(json.dumps(err(c, lambda: c.create_auto_scaling_group(MinSize=1, MaxSize=2))))"
    ));
    assert_eq!(out["code"], "ValidationError", "{out}");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("autoScalingGroupName"),
        "{out}"
    );
}

#[test]
fn load_balancers_read_and_errors() {
    let server = TestServer::start();
    let elb = server.aws(&["elb", "describe-account-limits"]).json();
    assert_eq!(
        elb["Limits"][0],
        json!({"Name": "classic-load-balancers", "Max": "20"})
    );
    assert_eq!(
        server.aws(&["elb", "describe-load-balancers"]).json()["LoadBalancerDescriptions"],
        json!([])
    );

    let page = server
        .aws(&["elbv2", "describe-account-limits", "--page-size", "2"])
        .json();
    assert_eq!(page["Limits"].as_array().unwrap().len(), 2);
    assert_eq!(page["NextMarker"], "2");
    let next = server
        .aws(&[
            "elbv2",
            "describe-account-limits",
            "--page-size",
            "2",
            "--marker",
            "2",
        ])
        .json();
    assert_eq!(
        next["Limits"][0]["Name"],
        "listeners-per-network-load-balancer"
    );
    assert_eq!(
        server.aws(&["elbv2", "describe-target-groups"]).json()["TargetGroups"],
        json!([])
    );

    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}\nc = client('elbv2', config=Config(parameter_validation=False, retries={{'max_attempts': 1}}))\n\
         print(json.dumps(err(c, lambda: c.describe_account_limits(PageSize=0))))"
    ));
    assert_eq!(out["code"], "ValidationError", "{out}");
}

#[test]
fn sns_answers_not_implemented_and_validation_errors() {
    let server = TestServer::start();
    let apps = server.aws(&["sns", "list-platform-applications"]);
    assert_eq!(apps.error_code(), "NotImplemented");
    assert!(apps.stderr.contains("ListPlatformApplications"));
    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}\nc = client('sns', config=Config(parameter_validation=False, retries={{'max_attempts': 1}}))\n\
         print(json.dumps(err(c, lambda: c.create_topic())))"
    ));
    assert_eq!(out["code"], "InvalidParameter", "{out}");
    assert_eq!(
        out["modelled"],
        json!(["InvalidParameterException"]),
        "{out}"
    );
}

/// The CloudWatch dashboard flow and a modelled error, in one protocol.
fn cloudwatch_flow(server: &TestServer, data_path: Option<&str>) {
    let env: Vec<(&str, &str)> = data_path
        .map(|p| vec![("AWS_DATA_PATH", p)])
        .unwrap_or_default();
    let body = r#"{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":3,"properties":{"markdown":"hi"}}]}"#;
    let put = server
        .aws_with_env(
            &[
                "cloudwatch",
                "put-dashboard",
                "--dashboard-name",
                "web-1",
                "--dashboard-body",
                body,
            ],
            &env,
        )
        .json();
    assert_eq!(put["DashboardValidationMessages"], json!([]), "{put}");
    let got = server
        .aws_with_env(
            &["cloudwatch", "get-dashboard", "--dashboard-name", "web-1"],
            &env,
        )
        .json();
    assert_eq!(got["DashboardBody"], body);
    assert_eq!(
        got["DashboardArn"],
        "arn:aws:cloudwatch::000000000000:dashboard/web-1"
    );
    let list = server
        .aws_with_env(
            &[
                "cloudwatch",
                "list-dashboards",
                "--dashboard-name-prefix",
                "web",
            ],
            &env,
        )
        .json();
    let entries = list["DashboardEntries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["Size"], body.len());
    // CLI v1 prints timestamps as the wire had them: epoch seconds (JSON, CBOR) or ISO 8601.
    let modified = &entries[0]["LastModified"];
    assert!(
        modified.as_f64().is_some_and(|t| t > 1.7e9)
            || modified.as_str().is_some_and(|t| t.starts_with("20")),
        "{list}"
    );

    let missing = server.aws_with_env(
        &["cloudwatch", "get-dashboard", "--dashboard-name", "nope"],
        &env,
    );
    assert_eq!(missing.error_code(), "ResourceNotFound");
    let bad = server.aws_with_env(
        &[
            "cloudwatch",
            "put-dashboard",
            "--dashboard-name",
            "x",
            "--dashboard-body",
            "not json",
        ],
        &env,
    );
    assert_eq!(bad.error_code(), "InvalidParameterInput");
    // Still unimplemented: metric streams (and it names the operation).
    let streams = server.aws_with_env(&["cloudwatch", "list-metric-streams"], &env);
    assert_eq!(streams.error_code(), "NotImplemented");
    assert!(
        streams.stderr.contains("ListMetricStreams"),
        "{}",
        streams.stderr
    );
    server
        .aws_with_env(
            &[
                "cloudwatch",
                "delete-dashboards",
                "--dashboard-names",
                "web-1",
            ],
            &env,
        )
        .json();
    let list = server
        .aws_with_env(&["cloudwatch", "list-dashboards"], &env)
        .json();
    assert_eq!(list["DashboardEntries"], json!([]));
}

/// A copy of botocore's CloudWatch model that lists only `protocol`. botocore has no setting
/// for the protocol, but it reads a model found in `AWS_DATA_PATH` before its own, so this is
/// how a test makes the CLI speak that protocol.
pub fn forced_model(protocol: &str) -> tempdir::Dir {
    let dir = tempdir::Dir::new(&format!("cw-{protocol}"));
    let script = format!(
        "import botocore, gzip, json, os\n\
         src = os.path.join(os.path.dirname(botocore.__file__), 'data/cloudwatch/2010-08-01/service-2.json.gz')\n\
         m = json.load(gzip.open(src))\n\
         m['metadata']['protocols'] = ['{protocol}']; m['metadata']['protocol'] = '{protocol}'\n\
         os.makedirs('{0}/cloudwatch/2010-08-01', exist_ok=True)\n\
         json.dump(m, open('{0}/cloudwatch/2010-08-01/service-2.json', 'w'))\n",
        dir.path()
    );
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

pub mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new(tag: &str) -> Self {
            let p = std::env::temp_dir().join(format!(
                "updraft-{tag}-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
        pub fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0); // best effort cleanup of a temp dir
        }
    }
    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }
}

#[test]
fn cloudwatch_over_json() {
    cloudwatch_flow(&TestServer::start(), None);
}

#[test]
fn cloudwatch_over_query() {
    let model = forced_model("query");
    cloudwatch_flow(&TestServer::start(), Some(model.path()));
}

#[test]
fn cloudwatch_over_cbor() {
    let model = forced_model("smithy-rpc-v2-cbor");
    cloudwatch_flow(&TestServer::start(), Some(model.path()));
}

#[test]
fn cloudwatch_errors_map_to_modelled_exceptions_in_every_protocol() {
    let server = TestServer::start();
    let query = forced_model("query");
    let cbor = forced_model("smithy-rpc-v2-cbor");
    let script = format!(
        "{BOTO3_PRELUDE}\nc = client('cloudwatch')\n\
         print(json.dumps({{'missing': err(c, lambda: c.get_dashboard(DashboardName='nope')),\n\
                            'invalid': err(c, lambda: c.put_dashboard(DashboardName='bad name!', DashboardBody='{{}}')),\n\
                            'proto': c.meta.service_model.resolved_protocol}}))"
    );
    for (data_path, protocol) in [
        (None, "json"),
        (Some(query.path()), "query"),
        (Some(cbor.path()), "smithy-rpc-v2-cbor"),
    ] {
        let env: Vec<(&str, &str)> = data_path
            .map(|p| vec![("AWS_DATA_PATH", p)])
            .unwrap_or_default();
        let out = server.boto3_with_env(&script, &env);
        assert_eq!(out["proto"], protocol);
        assert_eq!(
            out["missing"]["code"], "ResourceNotFound",
            "{protocol}: {out}"
        );
        assert_eq!(out["missing"]["status"], 404, "{protocol}: {out}");
        // Two CloudWatch shapes share the code ResourceNotFound; either modelled class will do.
        assert!(
            !out["missing"]["modelled"].as_array().unwrap().is_empty(),
            "{protocol}: {out}"
        );
        assert_eq!(
            out["invalid"]["code"], "InvalidParameterInput",
            "{protocol}: {out}"
        );
        assert_eq!(
            out["invalid"]["modelled"],
            json!(["DashboardInvalidInputError"]),
            "{protocol}: {out}"
        );
    }
}
