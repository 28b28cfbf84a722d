//! Requests the real clients signed, received verbatim on a loopback listener from the AWS CLI
//! v1 1.45.11 (A.1, and A.2 with CloudWatch forced to rpc-v2-cbor or query), boto3 1.43.11
//! (A.3), the AWS SDK for JavaScript v3 (A.4) and the AWS SDK for Rust (A.5): every one
//! verifies, the worked example's canonical request and string to sign, and a gzipped body
//! verified over the compressed bytes.

use std::io::{Read as _, Write as _};

use http::{HeaderMap, HeaderValue};
use updraft::protocol::sigv4::{self, SigV4Error, Signer};

use super::{RawRequest, flip};

/// Credentials of the captures (the keys the capturing clients were configured with).
#[derive(Debug, Clone, Copy)]
struct Credentials {
    access_key_id: &'static str,
    secret: &'static str,
}

/// AWS CLI, JS v3 and Rust SDK captures.
const CLI: Credentials = Credentials {
    access_key_id: "AKIAIOSFODNN7EXAMPLE",
    secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
/// boto3 captures.
const BOTO3: Credentials = Credentials {
    access_key_id: "000000000000",
    secret: "test",
};

/// A captured request, verbatim: `http` is the request line, headers and (for text bodies)
/// the body; CBOR bodies are given as hex.
#[derive(Debug)]
struct Capture {
    name: &'static str,
    credentials: Credentials,
    cbor_hex: Option<&'static str>,
    http: &'static str,
}

impl Capture {
    fn request(&self) -> RawRequest {
        let mut req = RawRequest::parse(self.http).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        if let Some(h) = self.cbor_hex {
            req.body = hex::decode(h).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        }
        let declared: usize = req
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{}: no Content-Length", self.name));
        assert_eq!(req.body.len(), declared, "{}: body length", self.name);
        req
    }
}

#[test]
fn real_client_captures_verify() {
    for capture in CAPTURES {
        let req = capture.request();
        let auth = sigv4::parse_authorization(&req.authorization().unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", capture.name));
        assert_eq!(
            auth.access_key_id, capture.credentials.access_key_id,
            "{}",
            capture.name
        );
        req.verify(&auth, capture.credentials.secret)
            .unwrap_or_else(|e| panic!("{}: {e:?}", capture.name));
        let wrong = flip(capture.credentials.secret, 0);
        assert_eq!(
            req.verify(&auth, &wrong),
            Err(SigV4Error::Mismatch),
            "{}",
            capture.name
        );
        let mut tampered = capture.request();
        tampered.body.push(b' ');
        let err = tampered
            .verify(&auth, capture.credentials.secret)
            .unwrap_err();
        // JS v3 sends x-amz-content-sha256, so a changed body is caught there first.
        assert!(
            matches!(err, SigV4Error::Mismatch | SigV4Error::PayloadHashMismatch),
            "{}: {err:?}",
            capture.name
        );
    }
}

/// A worked example on the first CLI capture (A.1 #1): its canonical request and string to
/// sign, step by step, as the SigV4 rules build them.
#[test]
fn worked_example_canonical_request_and_string_to_sign() {
    let capture = &CAPTURES[0];
    assert!(capture.name.starts_with("A.1 #1:"));
    let req = capture.request();
    let auth = sigv4::parse_authorization(&req.authorization().unwrap()).unwrap();
    let (creq, sts) = req.creq_and_sts(&auth).unwrap();
    assert_eq!(
        creq,
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n\
         host:127.0.0.1:18080\nx-amz-date:20261128T040508Z\n\ncontent-type;host;x-amz-date\n\
         7921888578eb40cd7f2ec121920bfeee6d980829514c290edbf3e4ddcb66f7ab"
    );
    assert_eq!(
        sts,
        "AWS4-HMAC-SHA256\n20261128T040508Z\n20261128/us-east-1/ec2/aws4_request\n\
         4d78df04e6d0b38500414131ae7b49b5bde3fbb3440931644e6c758ae41560e9"
    );
    assert!(auth.signature.starts_with("f6ee8949"));
    assert_eq!(
        sigv4::signature(CLI.secret, "20261128", "us-east-1", "ec2", &sts),
        auth.signature
    );
}

/// The gzip capture (A.3 #3) was not kept verbatim, so this rebuilds its shape: a
/// PutMetricData JSON body over 10 KiB, gzipped by the client, `content-encoding` signed, and
/// the payload hash taken over the compressed bytes as received.
#[test]
fn gzip_body_is_verified_over_the_compressed_bytes() {
    let datums: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"MetricName": "m{i}", "Value": {i}.0, "Timestamp": 1704164645}}"#))
        .collect();
    let json = format!(
        r#"{{"Namespace": "Big", "MetricData": [{}]}}"#,
        datums.join(", ")
    );
    assert!(json.len() > 10 * 1024);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();

    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("host", "127.0.0.1:18080"),
        (
            "x-amz-target",
            "GraniteServiceVersion20100801.PutMetricData",
        ),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amzn-query-mode", "true"),
        ("content-encoding", "gzip"),
        ("x-amz-date", "20261128T040557Z"),
    ] {
        headers.insert(k, HeaderValue::from_static(v));
    }
    let signer = Signer {
        access_key_id: BOTO3.access_key_id,
        secret_key: BOTO3.secret,
        region: "eu-west-1",
        service: "monitoring",
    };
    let value = signer
        .authorization("POST", "/", "", &headers, &compressed)
        .unwrap();
    let auth = sigv4::parse_authorization(&value).unwrap();
    assert_eq!(
        auth.signed_headers.join(";"),
        "content-encoding;content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode"
    );
    headers.insert("content-length", HeaderValue::from(compressed.len()));
    headers.insert("authorization", HeaderValue::from_str(&value).unwrap());

    sigv4::verify("POST", "/", "", &headers, &compressed, &auth, BOTO3.secret).unwrap();
    assert_eq!(
        sigv4::verify("POST", "/", "", &headers, &compressed, &auth, "tesT"),
        Err(SigV4Error::Mismatch)
    );
    // Gunzipping before verifying would break the signature.
    let mut inflated = String::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_string(&mut inflated)
        .unwrap();
    assert_eq!(inflated, json);
    assert_eq!(
        sigv4::verify(
            "POST",
            "/",
            "",
            &headers,
            inflated.as_bytes(),
            &auth,
            BOTO3.secret
        ),
        Err(SigV4Error::Mismatch)
    );
}

// Captured requests, verbatim (header order, case and spacing as received; CBOR bodies as
// hex). Names number them by client: A.1 AWS CLI v1, A.2 the CLI with CloudWatch forced to
// another protocol, A.3 boto3, A.4 the JavaScript v3 SDK, A.5 the Rust SDK.
const CAPTURES: &[Capture] = &[
    Capture {
        name: "A.1 #1: AWS CLI v1, ec2 DescribeInstances (ec2Query form)",
        credentials: CLI,
        cbor_hex: None,
        http: r##"POST / HTTP/1.1
Host: 127.0.0.1:18080
Accept-Encoding: identity
Content-Type: application/x-www-form-urlencoded; charset=utf-8
User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v857 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/N,Z,D,b,g,C cfg/retry-mode#legacy botocore/1.43.11
X-Amz-Date: 20261128T040508Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=f6ee89498043643b142878be619a0ebf917046506e98059640cdeaa92db0a1d2
amz-sdk-invocation-id: 5379c299-a63b-4e8d-b29e-4dd716763a40
amz-sdk-request: attempt=1
Content-Length: 205

Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1234567890abcdef0&InstanceId.2=i-0598c7d356eba48d7&DryRun=true&Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=pending"##,
    },
    Capture {
        name: "A.1 #13: AWS CLI v1, CloudWatch PutMetricData (awsJson1_0)",
        credentials: CLI,
        cbor_hex: None,
        http: r##"POST / HTTP/1.1
Host: 127.0.0.1:18080
Accept-Encoding: identity
X-Amz-Target: GraniteServiceVersion20100801.PutMetricData
Content-Type: application/x-amz-json-1.0
x-amzn-query-mode: true
User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v857 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/Z,N,g,b,D cfg/retry-mode#legacy botocore/1.43.11
X-Amz-Date: 20261128T040538Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=1c9df10efcab7d78d736a07855d1e536fe7d32931bc14a5f119cdade4f2f9464
amz-sdk-invocation-id: a6046b8d-ce35-40fa-8e55-a5ec59a8640d
amz-sdk-request: attempt=1
Content-Length: 178

{"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1704164645, "Value": 12.5, "Unit": "Milliseconds"}]}"##,
    },
    Capture {
        name: "A.2 #1: AWS CLI v1 forced CBOR, CloudWatch PutMetricData (rpcv2Cbor)",
        credentials: CLI,
        cbor_hex: Some(
            "a2694e616d657370616365654d794170706a4d65747269634461746181a56a4d65747269634e616d65674c6174656e63796a44696d656e73696f6e7381a2644e616d6564486f73746556616c75656268316954696d657374616d70c11a65937d256556616c7565fb402900000000000064556e69746c4d696c6c697365636f6e6473",
        ),
        http: r##"POST /service/GraniteServiceVersion20100801/operation/PutMetricData HTTP/1.1
Host: 127.0.0.1:18080
Accept-Encoding: identity
smithy-protocol: rpc-v2-cbor
x-amzn-query-mode: true
Accept: application/cbor
Content-Type: application/cbor
User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v857 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/Z,N,M,g,b,D cfg/retry-mode#legacy botocore/1.43.11
X-Amz-Date: 20261128T040543Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/monitoring/aws4_request, SignedHeaders=accept;content-type;host;smithy-protocol;x-amz-date;x-amzn-query-mode, Signature=191b60325c4be06cca0168ed14540293be163de8e6190f6bf16ff22ff516b027
amz-sdk-invocation-id: 366f917f-4597-4592-b2c5-2230b9f7ef95
amz-sdk-request: attempt=1
Content-Length: 130"##,
    },
    Capture {
        name: "A.3 #4: boto3, CloudWatch PutMetricData (awsJson1_0, 000000000000/test)",
        credentials: BOTO3,
        cbor_hex: None,
        http: r##"POST / HTTP/1.1
Host: 127.0.0.1:18080
Accept-Encoding: identity
X-Amz-Target: GraniteServiceVersion20100801.PutMetricData
Content-Type: application/x-amz-json-1.0
x-amzn-query-mode: true
User-Agent: Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v857 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/e,Z,D,N,b cfg/retry-mode#legacy Botocore/1.43.11
X-Amz-Date: 20261128T040557Z
Authorization: AWS4-HMAC-SHA256 Credential=000000000000/20261128/eu-west-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=504e5b5abcf627692e0d2a814ba0023f26ecabbbffa03eab97c8a4b79c5904aa
amz-sdk-invocation-id: 7e16a60d-8b71-452e-9bf0-7648c03db1f8
amz-sdk-request: attempt=1
Content-Length: 99

{"Namespace": "Small", "MetricData": [{"MetricName": "m0", "Value": 0.0, "Timestamp": 1704164645}]}"##,
    },
    Capture {
        name: "A.4 #1: JS v3, CloudWatch PutMetricData (awsJson1_0, x-amz-content-sha256)",
        credentials: CLI,
        cbor_hex: None,
        http: r##"POST / HTTP/1.1
content-type: application/x-amz-json-1.0
x-amz-target: GraniteServiceVersion20100801.PutMetricData
x-amzn-query-mode: true
content-length: 167
x-amz-user-agent: aws-sdk-js/3.1163.0
user-agent: aws-sdk-js/3.1163.0 ua/2.1 os/linux#6.18.44-fc-v857 lang/js md/nodejs#20.20.2 api/cloudwatch#3.1163.0 m/N,E,e
host: 127.0.0.1:18080
amz-sdk-invocation-id: f25888e9-055a-44ff-8860-e0a3b58ab3b6
amz-sdk-request: attempt=1; max=1
x-amz-date: 20261128T040452Z
x-amz-content-sha256: e2107f3fc4e85e7d20ba4471eeecc46cd025219d47974c6b7e84636629ca0b5f
authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/monitoring/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target;x-amz-user-agent;x-amzn-query-mode, Signature=4c5918f012befe15ed0bf093feab8bf2a6b4a382dc848caef55da4c2c4b75276
Connection: keep-alive

{"Namespace":"MyApp","MetricData":[{"MetricName":"Latency","Dimensions":[{"Name":"Host","Value":"h1"}],"Timestamp":1704164645.678,"Value":12.5,"Unit":"Milliseconds"}]}"##,
    },
    Capture {
        name: "A.4 #3: JS v3, ec2 DescribeInstances (ec2Query form, x-amz-content-sha256)",
        credentials: CLI,
        cbor_hex: None,
        http: r##"POST / HTTP/1.1
content-type: application/x-www-form-urlencoded
content-length: 119
x-amz-user-agent: aws-sdk-js/3.1168.0
user-agent: aws-sdk-js/3.1168.0 ua/2.1 os/linux#6.18.44-fc-v857 lang/js md/nodejs#20.20.2 api/ec2#3.1168.0 m/N,E,e
host: 127.0.0.1:18080
amz-sdk-invocation-id: 3294522f-156d-4aca-95c1-32ff5ad1a011
amz-sdk-request: attempt=1; max=1
x-amz-date: 20261128T040452Z
x-amz-content-sha256: 9fb54d12b11be28486f511868346feb10c4cd6089342218628347f70ad5f5e30
authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/ec2/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-user-agent, Signature=9e3b5acb189cf1c3543c68e07c2160086e4a4f496225a8d702cfec2cdc1c631f
Connection: keep-alive

Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&Filter.1.Name=instance-state-name&Filter.1.Value.1=running"##,
    },
    Capture {
        name: "A.5 #1: Rust SDK, CloudWatch PutMetricData (rpcv2Cbor, indefinite maps)",
        credentials: CLI,
        cbor_hex: Some(
            "bf694e616d657370616365654d794170706a4d65747269634461746181bf6a4d65747269634e616d65674c6174656e63796a44696d656e73696f6e7381bf644e616d6564486f73746556616c7565626831ff6954696d657374616d70c1fb41d964df496b645a6556616c7565fb402900000000000064556e69746c4d696c6c697365636f6e6473ffff",
        ),
        http: r##"POST /service/GraniteServiceVersion20100801/operation/PutMetricData HTTP/1.1
content-type: application/cbor
smithy-protocol: rpc-v2-cbor
accept: application/cbor
x-amzn-query-mode: true
content-length: 137
user-agent: aws-sdk-rust/1.7.0 ua/2.1 api/cloudwatch/1.140.0 os/linux lang/rust/1.95.0 m/E,M,N md/http#hyper-1.x
x-amz-user-agent: aws-sdk-rust/1.7.0 ua/2.1 api/cloudwatch/1.140.0 os/linux lang/rust/1.95.0 m/E,M,N md/http#hyper-1.x
x-amz-date: 20261128T040930Z
authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/monitoring/aws4_request, SignedHeaders=accept;content-length;content-type;host;smithy-protocol;x-amz-date;x-amz-user-agent;x-amzn-query-mode, Signature=d31987d3e1377781cbb4baf36289cf733530817b07b7dde8a28a308da0e857bd
amz-sdk-request: attempt=1; max=3
amz-sdk-invocation-id: 20e1b5e3-fa8b-4b5e-9989-4e62cbf9c820
host: 127.0.0.1:18080"##,
    },
    Capture {
        name: "A.5 #2: Rust SDK, CloudWatch DescribeAlarms (rpcv2Cbor)",
        credentials: CLI,
        cbor_hex: Some("bf6a416c61726d4e616d657382626131626132ff"),
        http: r##"POST /service/GraniteServiceVersion20100801/operation/DescribeAlarms HTTP/1.1
content-type: application/cbor
smithy-protocol: rpc-v2-cbor
accept: application/cbor
x-amzn-query-mode: true
content-length: 20
user-agent: aws-sdk-rust/1.7.0 ua/2.1 api/cloudwatch/1.140.0 os/linux lang/rust/1.95.0 m/E,M,N md/http#hyper-1.x
x-amz-user-agent: aws-sdk-rust/1.7.0 ua/2.1 api/cloudwatch/1.140.0 os/linux lang/rust/1.95.0 m/E,M,N md/http#hyper-1.x
x-amz-date: 20261128T040930Z
authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/monitoring/aws4_request, SignedHeaders=accept;content-length;content-type;host;smithy-protocol;x-amz-date;x-amz-user-agent;x-amzn-query-mode, Signature=d681c3b2bad9b5741a6073fa8f2a158c508d2dbb8d6b51bc2bcbea690c7e87ce
amz-sdk-request: attempt=1; max=3
amz-sdk-invocation-id: 1a7f3b5c-82ff-4436-be3f-3c21bd3ba26d
host: 127.0.0.1:18080"##,
    },
];
