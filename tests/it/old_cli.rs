//! An old client: awscli 1.36.40 with botocore 1.35.99, whose CloudWatch model speaks only the
//! query protocol (form-encoded requests, XML answers), so the query path of CloudWatch stays
//! driven by a real client now that current clients send JSON or CBOR. `scripts/prepare.sh`
//! installs it in its own virtualenv, `target/awscli-1.36`, from
//! `tests/requirements-awscli-1.36.txt`.

use std::path::PathBuf;

use crate::common::{CliResult, TestServer};

/// The virtualenv prepare.sh makes.
fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/awscli-1.36/bin")
}

fn old_aws(server: &TestServer, args: &[&str]) -> CliResult {
    let aws = venv().join("aws");
    assert!(
        aws.exists(),
        "{} is missing: run scripts/prepare.sh",
        aws.display()
    );
    server.aws_program(&aws, args, &[])
}

/// `--dimensions` for GetMetricStatistics and PutMetricAlarm.
const HOST: &str = "Name=Host,Value=old-cli";
/// awscli 1's own `put-metric-data` arguments take dimensions as `Name=Value` pairs.
const HOST_PAIR: &str = "Host=old-cli";

#[test]
fn cloudwatch_over_query_with_awscli_1_36() {
    // The pinned versions, and query as the only protocol their CloudWatch model knows.
    let version = std::process::Command::new(venv().join("aws"))
        .arg("--version")
        .output()
        .expect("the old aws runs (scripts/prepare.sh)");
    let version = String::from_utf8_lossy(&version.stdout).into_owned()
        + &String::from_utf8_lossy(&version.stderr);
    assert!(version.starts_with("aws-cli/1.36.40 "), "{version}");
    assert!(version.contains(" botocore/1.35.99"), "{version}");
    let protocol = std::process::Command::new(venv().join("python"))
        .args([
            "-c",
            "import botocore.session; m = botocore.session.get_session().get_service_model('cloudwatch'); print(m.protocol, m.metadata.get('protocols'))",
        ])
        .output()
        .expect("the virtualenv's python runs");
    assert_eq!(
        String::from_utf8_lossy(&protocol.stdout).trim(),
        "query ['query']"
    );

    let server = TestServer::start();
    // Three values in one minute, two minutes ago.
    let minute = (server.state.clock.now() as i64 / 60 - 2) * 60;
    let at = minute + 10;
    for value in ["10", "20", "30"] {
        let put = old_aws(
            &server,
            &[
                "cloudwatch",
                "put-metric-data",
                "--namespace",
                "Old/Cli",
                "--metric-name",
                "Requests",
                "--unit",
                "Count",
                "--value",
                value,
                "--timestamp",
                &at.to_string(),
                "--dimensions",
                HOST_PAIR,
            ],
        );
        assert!(put.ok, "{}", put.stderr);
        assert_eq!(put.stdout.trim(), "");
    }
    let stats = old_aws(
        &server,
        &[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "Old/Cli",
            "--metric-name",
            "Requests",
            "--dimensions",
            HOST,
            "--start-time",
            &minute.to_string(),
            "--end-time",
            &(minute + 60).to_string(),
            "--period",
            "60",
            "--statistics",
            "Average",
            "Sum",
            "Maximum",
            "SampleCount",
        ],
    )
    .json();
    assert_eq!(stats["Label"], "Requests");
    let points = stats["Datapoints"].as_array().expect("datapoints");
    assert_eq!(points.len(), 1, "{stats}");
    let p = &points[0];
    assert_eq!(
        (
            &p["Average"],
            &p["Sum"],
            &p["Maximum"],
            &p["SampleCount"],
            &p["Unit"]
        ),
        (
            &20.0.into(),
            &60.0.into(),
            &30.0.into(),
            &3.0.into(),
            &"Count".into()
        ),
        "{p}"
    );
    // awscli 1 prints the answer's timestamp as it came on the wire.
    let wire_minute = time::OffsetDateTime::from_unix_timestamp(minute)
        .unwrap()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].000Z"
        ))
        .unwrap();
    assert_eq!(p["Timestamp"], wire_minute.as_str());

    let alarm = old_aws(
        &server,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "old-cli-requests",
            "--namespace",
            "Old/Cli",
            "--metric-name",
            "Requests",
            "--dimensions",
            HOST,
            "--statistic",
            "Average",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "25",
            "--comparison-operator",
            "GreaterThanThreshold",
            "--treat-missing-data",
            "notBreaching",
        ],
    );
    assert!(alarm.ok, "{}", alarm.stderr);
    let described = old_aws(
        &server,
        &[
            "cloudwatch",
            "describe-alarms",
            "--alarm-names",
            "old-cli-requests",
        ],
    )
    .json();
    let a = &described["MetricAlarms"][0];
    assert_eq!(described["MetricAlarms"].as_array().unwrap().len(), 1);
    assert_eq!(a["Threshold"], 25.0);
    assert_eq!(a["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(a["Period"], 60);
    assert_eq!(a["TreatMissingData"], "notBreaching");
    assert_eq!(
        a["Dimensions"],
        serde_json::json!([{"Name": "Host", "Value": "old-cli"}])
    );
    assert!(
        a["AlarmArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:cloudwatch:us-east-1:000000000000:alarm:old-cli-requests"),
        "{a}"
    );

    let set = old_aws(
        &server,
        &[
            "cloudwatch",
            "set-alarm-state",
            "--alarm-name",
            "old-cli-requests",
            "--state-value",
            "ALARM",
            "--state-reason",
            "set by the old CLI",
        ],
    );
    assert!(set.ok, "{}", set.stderr);
    let in_alarm = old_aws(
        &server,
        &["cloudwatch", "describe-alarms", "--state-value", "ALARM"],
    )
    .json();
    let a = &in_alarm["MetricAlarms"][0];
    assert_eq!(a["AlarmName"], "old-cli-requests", "{in_alarm}");
    assert_eq!(a["StateValue"], "ALARM");
    assert_eq!(a["StateReason"], "set by the old CLI");

    // Errors come back as query XML errors the old client parses.
    let missing = old_aws(
        &server,
        &[
            "cloudwatch",
            "set-alarm-state",
            "--alarm-name",
            "old-cli-no-such-alarm",
            "--state-value",
            "OK",
            "--state-reason",
            "x",
        ],
    );
    assert_eq!(
        missing.error_code(),
        "ResourceNotFound",
        "{}",
        missing.stderr
    );
    let stale = old_aws(
        &server,
        &[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "Old/Cli",
            "--metric-name",
            "Requests",
            "--value",
            "1",
            "--timestamp",
            &(minute - 30 * 86_400).to_string(),
        ],
    );
    assert_eq!(stale.error_code(), "InvalidParameterValue");
    assert!(
        stale.stderr.contains(
            "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."
        ),
        "{}",
        stale.stderr
    );
}
