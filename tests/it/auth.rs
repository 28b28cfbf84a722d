//! Optional SigV4 verification, with the real clients signing.

use updraft::Config;
use updraft::config::Credentials;

use crate::common::{BOTO3_PRELUDE, TestServer};

fn verifying_server() -> TestServer {
    TestServer::with_config(Config {
        verify_signatures: true,
        credentials: Credentials(vec![("AKIDUPDRAFT".into(), "right-secret".into())]),
        ..Config::default()
    })
}

#[test]
fn the_cli_signs_and_wrong_secrets_or_unknown_keys_are_refused() {
    let server = verifying_server();
    let as_key = |key: &str, secret: &str| {
        server.aws_with_env(
            &["ec2", "describe-regions"],
            &[
                ("AWS_ACCESS_KEY_ID", key),
                ("AWS_SECRET_ACCESS_KEY", secret),
            ],
        )
    };
    assert!(as_key("AKIDUPDRAFT", "right-secret").json()["Regions"].is_array());
    assert_eq!(
        as_key("AKIDUPDRAFT", "wrong-secret").error_code(),
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        as_key("AKIDNOBODY", "right-secret").error_code(),
        "InvalidClientTokenId"
    );
    let unsigned = server.aws(&["ec2", "describe-regions", "--no-sign-request"]);
    assert_eq!(unsigned.error_code(), "MissingAuthenticationToken");
}

#[test]
fn gzip_and_cbor_requests_verify() {
    let server = verifying_server();
    // 300 datums make botocore gzip the body (>= 10 KiB); the signature covers the compressed
    // bytes: the right secret stores the datums, the wrong one is SignatureDoesNotMatch.
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         data = [{{'MetricName': 'm%d' % i, 'Value': float(i), 'Dimensions': [{{'Name': 'Host', 'Value': 'h%d' % i}}]}} for i in range(300)]\n\
         out = {{}}\n\
         for name, secret in [('right', 'right-secret'), ('wrong', 'nope')]:\n\
         \x20   c = client('cloudwatch', key='AKIDUPDRAFT', secret=secret)\n\
         \x20   sent = []\n\
         \x20   c.meta.events.register('before-send.cloudwatch.PutMetricData', lambda request, **kw: sent.append(request.headers.get('Content-Encoding')))\n\
         \x20   out[name] = err(c, lambda: c.put_metric_data(Namespace='App', MetricData=data))\n\
         \x20   out[name]['encoding'] = sent[0].decode() if isinstance(sent[0], bytes) else sent[0]\n\
         print(json.dumps(out))"
    );
    let out = server.boto3(&script);
    assert_eq!(out["right"]["encoding"], "gzip", "{out}");
    assert_eq!(out["right"]["code"], serde_json::Value::Null, "{out}");
    assert_eq!(out["wrong"]["code"], "SignatureDoesNotMatch", "{out}");
    assert_eq!(out["wrong"]["status"], 403, "{out}");

    let cbor = crate::cli::forced_model("smithy-rpc-v2-cbor");
    let script = format!(
        "{BOTO3_PRELUDE}\n\
         right = client('cloudwatch', key='AKIDUPDRAFT', secret='right-secret')\n\
         wrong = client('cloudwatch', key='AKIDUPDRAFT', secret='nope')\n\
         print(json.dumps({{'proto': right.meta.service_model.resolved_protocol,\n\
           'right': err(right, lambda: right.get_dashboard(DashboardName='x')),\n\
           'wrong': err(wrong, lambda: wrong.get_dashboard(DashboardName='x'))}}))"
    );
    let out = server.boto3_with_env(&script, &[("AWS_DATA_PATH", cbor.path())]);
    assert_eq!(out["proto"], "smithy-rpc-v2-cbor");
    assert_eq!(out["right"]["code"], "ResourceNotFound", "{out}");
    assert_eq!(out["wrong"]["code"], "SignatureDoesNotMatch", "{out}");
}
