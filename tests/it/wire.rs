//! Raw HTTP against a real server: routing, error envelopes per protocol, malformed and
//! oversize input, gzip, GET query strings. Nothing here may answer 500 or hang.

use std::io::Write;

use serde_json::json;
use updraft::Config;

use crate::common::{HttpResponse, TestServer};

const FORM: (&str, &str) = (
    "Content-Type",
    "application/x-www-form-urlencoded; charset=utf-8",
);
const JSON_CT: (&str, &str) = ("Content-Type", "application/x-amz-json-1.0");
const QUERY_MODE: (&str, &str) = ("x-amzn-query-mode", "true");

fn cw_json(server: &TestServer, op: &str, body: &str, query_mode: bool) -> HttpResponse {
    let target = format!("GraniteServiceVersion20100801.{op}");
    let mut headers = vec![JSON_CT, ("X-Amz-Target", target.as_str())];
    if query_mode {
        headers.push(QUERY_MODE);
    }
    server.http("POST", "/", &headers, body.as_bytes())
}

fn cw_cbor(server: &TestServer, op: &str, body: &[u8]) -> HttpResponse {
    let path = format!("/service/GraniteServiceVersion20100801/operation/{op}");
    let headers = [
        ("Content-Type", "application/cbor"),
        ("Smithy-Protocol", "rpc-v2-cbor"),
        QUERY_MODE,
    ];
    server.http("POST", &path, &headers, body)
}

/// Minimal CBOR text-keyed map reader for error bodies: returns (key, text value) pairs.
fn cbor_text_pairs(body: &[u8]) -> Vec<(String, String)> {
    let mut d = minicbor::Decoder::new(body);
    let n = d.map().unwrap().unwrap_or(0);
    (0..n)
        .map(|_| (d.str().unwrap().to_owned(), d.str().unwrap().to_owned()))
        .collect()
}

fn xml_code(resp: &HttpResponse) -> String {
    let text = resp.text();
    let start = text
        .find("<Code>")
        .map(|i| i + 6)
        .unwrap_or_else(|| panic!("no <Code> in {text}"));
    text[start..start + text[start..].find("</Code>").unwrap()].to_owned()
}

#[test]
fn unknown_actions_answer_in_each_protocols_envelope() {
    let server = TestServer::start();

    let q = server.form("Action=NoSuchThing&Version=2011-01-01");
    assert_eq!(q.status, 400);
    assert!(
        q.text().starts_with(
            "<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">"
        ),
        "{}",
        q.text()
    );
    assert_eq!(xml_code(&q), "InvalidAction");
    assert!(q.text().contains("<Type>Sender</Type>"));
    let rid = q.header("x-amzn-RequestId").expect("request id header");
    assert!(q.text().contains(&format!("<RequestId>{rid}</RequestId>")));

    let e = server.form("Action=NoSuchThing&Version=2016-11-15");
    assert_eq!(e.status, 400);
    assert!(
        e.text()
            .contains("<Response><Errors><Error><Code>InvalidAction</Code>"),
        "{}",
        e.text()
    );
    assert!(e.text().contains("<RequestID>"), "{}", e.text());

    let j = cw_json(&server, "NoSuchThing", "{}", true);
    assert_eq!(j.status, 400);
    assert_eq!(j.json()["__type"], "UnknownOperationException");

    let c = cw_cbor(&server, "NoSuchThing", b"");
    assert_eq!(c.status, 400);
    assert_eq!(c.header("smithy-protocol"), Some("rpc-v2-cbor"));
    assert!(
        cbor_text_pairs(&c.body).contains(&("__type".into(), "UnknownOperationException".into()))
    );

    let missing = server.form("Version=2011-01-01");
    assert_eq!(
        (missing.status, xml_code(&missing)),
        (400, "MissingAction".into())
    );
    let unknown_version = server.form("Action=DescribeThings&Version=1999-01-01");
    assert_eq!(
        (unknown_version.status, xml_code(&unknown_version)),
        (400, "InvalidAction".into())
    );
}

#[test]
fn json_and_cbor_errors_carry_the_query_code_only_in_query_mode() {
    let server = TestServer::start();
    let with = cw_json(&server, "GetDashboard", r#"{"DashboardName":"nope"}"#, true);
    assert_eq!(with.status, 404);
    assert_eq!(
        with.header("x-amzn-query-error"),
        Some("ResourceNotFound;Sender")
    );
    assert_eq!(
        with.json()["__type"],
        "com.amazonaws.cloudwatch#DashboardNotFoundError"
    );
    assert_eq!(with.json()["message"], "Dashboard nope does not exist");
    let without = cw_json(
        &server,
        "GetDashboard",
        r#"{"DashboardName":"nope"}"#,
        false,
    );
    assert_eq!(without.status, 404);
    assert_eq!(without.header("x-amzn-query-error"), None);

    let cbor = cw_cbor(
        &server,
        "GetDashboard",
        &hex::decode("a16d44617368626f6172644e616d65646e6f7065").unwrap(),
    );
    assert_eq!(cbor.status, 404);
    assert_eq!(
        cbor.header("x-amzn-query-error"),
        Some("ResourceNotFound;Sender")
    );
    assert_eq!(cbor.header("content-type"), Some("application/cbor"));
}

#[test]
fn malformed_and_invalid_input_gets_aws_errors_not_500s() {
    let server = TestServer::start();
    let cases: Vec<(HttpResponse, u16, &str)> = vec![
        (
            cw_json(&server, "ListDashboards", "{not json", true),
            400,
            "SerializationException",
        ),
        (
            cw_json(&server, "ListDashboards", "[1,2]", true),
            400,
            "SerializationException",
        ),
        (
            cw_json(&server, "GetDashboard", "{}", true),
            400,
            "MissingParameter",
        ),
        (
            cw_json(
                &server,
                "ListDashboards",
                r#"{"DashboardNamePrefix": 42}"#,
                true,
            ),
            400,
            "InvalidParameterValue",
        ),
        (
            cw_json(
                &server,
                "GetMetricStatistics",
                r#"{"Namespace":"a","MetricName":"b","StartTime":1,"EndTime":2,"Period":"x"}"#,
                true,
            ),
            400,
            "InvalidParameterValue",
        ),
        (
            cw_cbor(&server, "ListDashboards", &[0xbf, 0x61]),
            400,
            "SerializationException",
        ),
        (
            cw_cbor(
                &server,
                "ListDashboards",
                &[0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0],
            ),
            400,
            "SerializationException",
        ),
    ];
    for (resp, status, code) in cases {
        assert_eq!(resp.status, status, "{}", resp.text());
        let query_code = resp
            .header("x-amzn-query-error")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(query_code, code, "{:?}", resp.headers);
    }

    let ec2_missing = server.form("Action=RunInstances&Version=2016-11-15&ImageId=ami-1");
    assert_eq!(
        (ec2_missing.status, xml_code(&ec2_missing)),
        (400, "MissingParameter".into())
    );
    let ec2_bad = server.form("Action=DescribeRegions&Version=2016-11-15&AllRegions=maybe");
    assert_eq!(
        (ec2_bad.status, xml_code(&ec2_bad)),
        (400, "InvalidParameterValue".into())
    );
    let asg_bad = server.form("Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=a&MinSize=one&MaxSize=2");
    assert_eq!(
        (asg_bad.status, xml_code(&asg_bad)),
        (400, "ValidationError".into())
    );
}

#[test]
fn arbitrary_bytes_never_cause_a_server_error() {
    let server = TestServer::start();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..60 {
        let len = (i * 37) % 300;
        let body: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed & 0xff) as u8
            })
            .collect();
        for resp in [
            cw_json(
                &server,
                "PutDashboard",
                &String::from_utf8_lossy(&body),
                true,
            ),
            cw_cbor(&server, "PutDashboard", &body),
            server.form(&format!(
                "Action=DescribeRegions&Version=2016-11-15&{}",
                String::from_utf8_lossy(&body)
            )),
        ] {
            assert!(
                resp.status < 500 || resp.status == 501,
                "status {} for {:?}",
                resp.status,
                body
            );
            assert!(resp.header("x-amzn-RequestId").is_some());
        }
    }
}

#[test]
fn oversize_bodies_are_refused() {
    let server = TestServer::with_config(Config {
        max_body_bytes: 1024,
        ..Config::default()
    });
    let big = format!(
        "Action=DescribeRegions&Version=2016-11-15&Filter.1.Name={}",
        "x".repeat(2000)
    );
    let resp = server.form(&big);
    assert_eq!(resp.status, 400);
    assert_eq!(xml_code(&resp), "RequestEntityTooLarge");
    // A small gzip body that inflates past the limit is refused too.
    let bomb = gzip(big.as_bytes());
    assert!(bomb.len() < 1024);
    let resp = server.http("POST", "/", &[FORM, ("Content-Encoding", "gzip")], &bomb);
    assert_eq!(
        (resp.status, xml_code(&resp)),
        (400, "RequestEntityTooLarge".into())
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_bodies_and_get_query_strings_are_accepted() {
    let server = TestServer::start();
    let body = gzip(b"Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1");
    let resp = server.http("POST", "/", &[FORM, ("Content-Encoding", "gzip")], &body);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp.text().contains("<regionName>eu-west-1</regionName>"));
    let bad = server.http(
        "POST",
        "/",
        &[FORM, ("Content-Encoding", "gzip")],
        b"not gzip",
    );
    assert_eq!(bad.status, 400);

    let get = server.http(
        "GET",
        "/?Action=DescribeAdjustmentTypes&Version=2011-01-01",
        &[],
        b"",
    );
    assert_eq!(get.status, 200, "{}", get.text());
    assert!(
        get.text()
            .contains("<AdjustmentType>ExactCapacity</AdjustmentType>")
    );
    assert!(get.text().contains("<DescribeAdjustmentTypesResult>"));
}

#[test]
fn accounts_are_isolated_by_access_key() {
    let server = TestServer::start();
    let body = r#"{"widgets":[]}"#;
    let as_account =
        |key: &str, args: &[&str]| server.aws_with_env(args, &[("AWS_ACCESS_KEY_ID", key)]);
    as_account(
        "111111111111",
        &[
            "cloudwatch",
            "put-dashboard",
            "--dashboard-name",
            "mine",
            "--dashboard-body",
            body,
        ],
    )
    .json();
    let own = as_account("111111111111", &["cloudwatch", "list-dashboards"]).json();
    assert_eq!(
        own["DashboardEntries"][0]["DashboardArn"],
        "arn:aws:cloudwatch::111111111111:dashboard/mine"
    );
    let other = as_account("222222222222", &["cloudwatch", "list-dashboards"]).json();
    assert_eq!(other["DashboardEntries"], json!([]));
    let default = as_account("AKIAIOSFODNN7EXAMPLE", &["cloudwatch", "list-dashboards"]).json();
    assert_eq!(default["DashboardEntries"], json!([]));
}
