//! What `--verify-signatures` checks besides the signature itself (issue #20, finding 5):
//! request time within 15 minutes (real clock), a credential scope naming the endpoint's
//! service, no `UNSIGNED-PAYLOAD`, and presigned query strings as botocore makes them.

use http::{HeaderMap, HeaderValue};
use updraft::Config;
use updraft::config::Credentials;
use updraft::protocol::sigv4::{Signer, UNSIGNED_PAYLOAD};
use updraft::protocol::sigv4_request::format_basic;

use crate::common::{BOTO3_PRELUDE, HttpResponse, TestServer};

const KEY: &str = "AKIDCHECKS";
const SECRET: &str = "checks-secret";
const FORM_CT: &str = "application/x-www-form-urlencoded; charset=utf-8";

fn verifying_server() -> TestServer {
    TestServer::with_config(Config {
        verify_signatures: true,
        credentials: Credentials(vec![(KEY.into(), SECRET.into())]),
        ..Config::default()
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A form POST signed for `scope_service` at `at` (epoch seconds); `extra` headers are signed
/// too; `sent_body` replaces the body after signing when given.
fn signed(
    server: &TestServer,
    scope_service: &str,
    body: &str,
    at: i64,
    extra: &[(&'static str, &str)],
    sent_body: Option<&str>,
) -> HttpResponse {
    let host = server.addr.to_string();
    let date = format_basic(at);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(&host).unwrap());
    headers.insert("content-type", HeaderValue::from_static(FORM_CT));
    headers.insert("x-amz-date", HeaderValue::from_str(&date).unwrap());
    for (k, v) in extra {
        headers.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    let signer = Signer {
        access_key_id: KEY,
        secret_key: SECRET,
        region: "us-east-1",
        service: scope_service,
    };
    let authorization = signer
        .authorization("POST", "/", "", &headers, body.as_bytes())
        .unwrap();
    let mut sent: Vec<(&str, &str)> = vec![
        ("Content-Type", FORM_CT),
        ("X-Amz-Date", &date),
        ("Authorization", &authorization),
    ];
    sent.extend(extra.iter().copied());
    server.http("POST", "/", &sent, sent_body.unwrap_or(body).as_bytes())
}

fn xml(resp: &HttpResponse, tag: &str) -> String {
    let text = resp.text();
    let open = format!("<{tag}>");
    let start = text
        .find(&open)
        .map(|i| i + open.len())
        .unwrap_or_else(|| panic!("no <{tag}> in {text}"));
    text[start..start + text[start..].find(&format!("</{tag}>")).unwrap()].to_owned()
}

const SNS_LIST: &str = "Action=ListTopics&Version=2010-03-31";
const EC2_REGIONS: &str = "Action=DescribeRegions&Version=2016-11-15";

#[test]
fn request_time_must_be_within_fifteen_minutes() {
    let server = verifying_server();
    let t = now();
    // Inside the window, both ways.
    assert_eq!(
        signed(&server, "sns", SNS_LIST, t - 600, &[], None).status,
        200
    );
    assert_eq!(
        signed(&server, "ec2", EC2_REGIONS, t + 600, &[], None).status,
        200
    );

    for (offset, expired) in [
        (-20 * 60, true),
        (-86_400, true),
        (-365 * 86_400, true),
        (20 * 60, false),
        (365 * 86_400, false),
    ] {
        let sns = signed(&server, "sns", SNS_LIST, t + offset, &[], None);
        assert_eq!(sns.status, 403, "offset {offset}: {}", sns.text());
        assert_eq!(xml(&sns, "Code"), "SignatureDoesNotMatch");
        let message = xml(&sns, "Message");
        let signed_at = format_basic(t + offset);
        if expired {
            assert!(
                message.starts_with(&format!(
                    "Signature expired: {signed_at} is now earlier than "
                )),
                "{message}"
            );
            assert!(message.ends_with(" - 15 min.)"), "{message}");
        } else {
            assert!(
                message.starts_with(&format!(
                    "Signature not yet current: {signed_at} is still later than "
                )),
                "{message}"
            );
            assert!(message.ends_with(" + 15 min.)"), "{message}");
        }
        let ec2 = signed(&server, "ec2", EC2_REGIONS, t + offset, &[], None);
        assert_eq!(ec2.status, 400, "offset {offset}: {}", ec2.text());
        assert_eq!(xml(&ec2, "Code"), "RequestExpired");
        assert_eq!(xml(&ec2, "Message"), "Request has expired.");
    }
}

#[test]
fn a_scope_for_another_service_is_refused() {
    let server = verifying_server();
    let resp = signed(&server, "sns", EC2_REGIONS, now(), &[], None);
    assert_eq!(resp.status, 403, "{}", resp.text());
    assert_eq!(xml(&resp, "Code"), "SignatureDoesNotMatch");
    assert_eq!(
        xml(&resp, "Message"),
        "Credential should be scoped to correct service: 'ec2'. "
    );
    // ELB Classic and ELBv2 share their signing name; CloudWatch signs as "monitoring".
    let cw = signed(
        &server,
        "cloudwatch",
        "Action=ListMetrics&Version=2010-08-01",
        now(),
        &[],
        None,
    );
    assert_eq!(cw.status, 403);
    assert_eq!(
        signed(
            &server,
            "monitoring",
            "Action=ListMetrics&Version=2010-08-01",
            now(),
            &[],
            None
        )
        .status,
        200
    );
}

#[test]
fn unsigned_payload_is_refused_and_a_swapped_body_never_runs() {
    let server = verifying_server();
    let create = "Action=CreateTopic&Version=2010-03-31&Name=signed-name";
    let swapped = "Action=CreateTopic&Version=2010-03-31&Name=swapped-in";
    let resp = signed(
        &server,
        "sns",
        create,
        now(),
        &[("x-amz-content-sha256", UNSIGNED_PAYLOAD)],
        Some(swapped),
    );
    assert_eq!(resp.status, 403, "{}", resp.text());
    assert_eq!(xml(&resp, "Code"), "SignatureDoesNotMatch");
    // Even with the body it was signed with.
    let same = signed(
        &server,
        "sns",
        create,
        now(),
        &[("x-amz-content-sha256", UNSIGNED_PAYLOAD)],
        None,
    );
    assert_eq!(same.status, 403);
    let topics = signed(&server, "sns", SNS_LIST, now(), &[], None).text();
    assert!(
        !topics.contains("swapped-in") && !topics.contains("signed-name"),
        "{topics}"
    );
}

#[test]
fn presigned_urls_from_botocore_work_and_tampering_is_refused() {
    let server = verifying_server();
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         import urllib.request, urllib.error\n\
         def fetch(url):\n\
         \x20   try:\n\
         \x20       with urllib.request.urlopen(url) as r: return r.status, r.read().decode()\n\
         \x20   except urllib.error.HTTPError as e: return e.code, e.read().decode()\n\
         ec2 = client('ec2', key='{KEY}', secret='{SECRET}')\n\
         sns = client('sns', key='{KEY}', secret='{SECRET}')\n\
         other = client('ec2', key='AKIDNOBODY', secret='x')\n\
         url = ec2.generate_presigned_url('describe_regions', Params={{}}, ExpiresIn=300, HttpMethod='GET')\n\
         topics = sns.generate_presigned_url('list_topics', Params={{}}, ExpiresIn=300, HttpMethod='GET')\n\
         print(json.dumps({{'url': url, 'ok': fetch(url), 'sns': fetch(topics),\n\
           'tampered': fetch(url.replace('DescribeRegions', 'DescribeVpcs')),\n\
           'unknown': fetch(other.generate_presigned_url('describe_regions', Params={{}}, HttpMethod='GET'))}}))"
    );
    let out = server.boto3(&script);
    let url = out["url"].as_str().unwrap();
    assert!(
        url.contains("X-Amz-Signature=") && url.contains("X-Amz-Credential="),
        "{url}"
    );
    assert_eq!(out["ok"][0], 200, "{out}");
    assert!(
        out["ok"][1].as_str().unwrap().contains("<regionName>"),
        "{out}"
    );
    assert_eq!(out["sns"][0], 200, "{out}");
    assert_eq!(out["tampered"][0], 403, "{out}");
    assert!(
        out["tampered"][1]
            .as_str()
            .unwrap()
            .contains("SignatureDoesNotMatch")
    );
    assert_eq!(out["unknown"][0], 403, "{out}");
    assert!(
        out["unknown"][1]
            .as_str()
            .unwrap()
            .contains("InvalidClientTokenId")
    );
}
