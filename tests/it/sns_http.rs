//! SNS HTTP delivery to an endpoint the test serves on loopback: the confirmation handshake,
//! notifications in AWS's signed JSON envelope, filter policies, raw delivery, retries per the
//! delivery policy, unsubscribe confirmations, `publish_internal` (what alarm actions call),
//! and a real alarm action posting CloudWatch's message to an endpoint. HTTPS over TLS is in
//! `sns_https.rs`, which shares the endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use updraft::Config;
use updraft::state::Scope;

use crate::common::{BOTO3_PRELUDE, TestServer};

/// One request the endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status the endpoint answered with.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An HTTP endpoint on 127.0.0.1 that records every request; it answers 500 to the next
/// `fail_next` requests and 200 otherwise.
pub struct Endpoint {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    pub fail_next: Arc<AtomicU32>,
    /// Connections that ended before a whole request arrived (e.g. a failed TLS handshake).
    pub aborted: Arc<AtomicU32>,
}

impl Endpoint {
    pub fn start() -> Self {
        Self::serve(None)
    }

    /// The same endpoint over TLS with this server configuration.
    pub fn start_tls(tls: Arc<rustls::ServerConfig>) -> Self {
        Self::serve(Some(tls))
    }

    fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let fail_next = Arc::new(AtomicU32::new(0));
        let aborted = Arc::new(AtomicU32::new(0));
        let (r, f, a) = (received.clone(), fail_next.clone(), aborted.clone());
        // Lives until the test binary exits; it only ever blocks in accept.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let whole = match &tls {
                    None => record_one(stream, &r, &f),
                    Some(config) => {
                        let conn = rustls::ServerConnection::new(config.clone()).unwrap();
                        record_one(rustls::StreamOwned::new(conn, stream), &r, &f)
                    }
                };
                if !whole {
                    a.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Self {
            addr,
            received,
            fail_next,
            aborted,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// The requests so far.
    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// Wait until `n` requests arrived in all; returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n || Instant::now() > deadline {
                assert_eq!(got.len(), n, "requests: {got:#?}");
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Read one request from `stream`, answer it (500 while `fail_next` lasts, else 200) and record
/// it. A client that fails the TLS handshake or hangs up records nothing: `false`.
fn record_one<S: Read + Write>(
    stream: S,
    received: &Mutex<Vec<Received>>,
    fail_next: &AtomicU32,
) -> bool {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return false;
    }
    let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return false;
    }
    let fail = fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail { 500 } else { 200 };
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ); // the client may have gone; the record is what matters
    let _ = stream.flush(); // same: a TLS stream only sends on flush
    received.lock().unwrap().push(Received {
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
    });
    true
}

/// Check an envelope's signature against the certificate at its `SigningCertURL`, with the
/// openssl CLI (skipped, saying so, where there is none).
pub fn assert_signed(server: &TestServer, envelope: &Value) {
    let field = |k: &str| envelope[k].as_str().map(str::to_owned);
    let keys: &[&str] = if envelope["Type"] == "Notification" {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut to_sign = String::new();
    for k in keys {
        if let Some(v) = field(k) {
            to_sign.push_str(&format!("{k}\n{v}\n"));
        }
    }
    let cert_url = field("SigningCertURL").expect("SigningCertURL");
    let cert = server.http("GET", cert_url.strip_prefix(&server.url).unwrap(), &[], b"");
    assert_eq!(cert.status, 200);
    assert!(cert.text().starts_with("-----BEGIN CERTIFICATE-----"));
    let sig = base64::engine::general_purpose::STANDARD
        .decode(field("Signature").expect("Signature"))
        .expect("base64 signature");
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl not installed: signature checked for presence only");
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "updraft-sns-{}-{}",
        std::process::id(),
        envelope["MessageId"].as_str().unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.body).unwrap();
    std::fs::write(dir.join("sig.bin"), sig).unwrap();
    std::fs::write(dir.join("data.txt"), to_sign).unwrap();
    let pubkey = Command::new("openssl")
        .args(["x509", "-in", "cert.pem", "-pubkey", "-noout"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        pubkey.status.success(),
        "{}",
        String::from_utf8_lossy(&pubkey.stderr)
    );
    std::fs::write(dir.join("pub.pem"), pubkey.stdout).unwrap();
    let digest = if envelope["SignatureVersion"] == "2" {
        "-sha256"
    } else {
        "-sha1"
    };
    let verify = Command::new("openssl")
        .args([
            "dgst",
            digest,
            "-verify",
            "pub.pem",
            "-signature",
            "sig.bin",
            "data.txt",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir); // a leftover temp dir harms nobody
    assert!(
        verify.status.success(),
        "signature does not verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

const SUBSCRIBE: &str = r#"
c = client('sns')
t = c.create_topic(Name='scaling', Attributes={'SignatureVersion': '2'})['TopicArn']
sub = c.subscribe(TopicArn=t, Protocol='http', Endpoint=os.environ['HOOK'],
                  ReturnSubscriptionArn=True)['SubscriptionArn']
print(json.dumps({'topic': t, 'sub': sub}))
"#;

const PUBLISH: &str = r#"
c = client('sns')
t, sub = os.environ['TOPIC'], os.environ['SUB']
out = {'attrs': c.get_subscription_attributes(SubscriptionArn=sub)['Attributes']}
c.set_subscription_attributes(SubscriptionArn=sub, AttributeName='FilterPolicy',
                              AttributeValue='{"event": ["launch"]}')
c.publish(TopicArn=t, Message='terminated', MessageAttributes={'event': {'DataType': 'String', 'StringValue': 'terminate'}})
out['launch'] = c.publish(TopicArn=t, Message='launched', Subject='Launch',
    MessageAttributes={'event': {'DataType': 'String', 'StringValue': 'launch'},
                       'size': {'DataType': 'Number', 'StringValue': '2'}})['MessageId']
print(json.dumps(out))
"#;

const RAW_AND_RETRY: &str = r#"
c = client('sns')
t, sub = os.environ['TOPIC'], os.environ['SUB']
c.set_subscription_attributes(SubscriptionArn=sub, AttributeName='FilterPolicy', AttributeValue='')
c.set_subscription_attributes(SubscriptionArn=sub, AttributeName='RawMessageDelivery', AttributeValue='true')
c.set_subscription_attributes(SubscriptionArn=sub, AttributeName='DeliveryPolicy', AttributeValue=json.dumps(
    {'healthyRetryPolicy': {'numRetries': 2, 'numNoDelayRetries': 1, 'minDelayTarget': 1, 'maxDelayTarget': 1}}))
out = {'attrs': c.get_subscription_attributes(SubscriptionArn=sub)['Attributes']}
out['batch'] = c.publish_batch(TopicArn=t, PublishBatchRequestEntries=[{'Id': 'one', 'Message': 'raw body'}])
print(json.dumps(out))
"#;

#[test]
fn sns_http_endpoint_gets_confirmation_then_signed_filtered_raw_and_retried_notifications() {
    let server = TestServer::start();
    let hook = Endpoint::start();
    let hook_url = hook.url("/hook?src=sns");
    let ids = server.boto3_with_env(
        &format!("{BOTO3_PRELUDE}\n{SUBSCRIBE}"),
        &[("HOOK", &hook_url)],
    );
    let (topic, sub) = (ids["topic"].as_str().unwrap(), ids["sub"].as_str().unwrap());

    // 1. SubscriptionConfirmation, in AWS's envelope, signed (SignatureVersion 2 = SHA256).
    let got = hook.wait_for(1);
    let req = &got[0];
    assert_eq!(req.path, "/hook?src=sns");
    assert_eq!(
        req.header("x-amz-sns-message-type"),
        Some("SubscriptionConfirmation")
    );
    assert_eq!(req.header("x-amz-sns-topic-arn"), Some(topic));
    assert_eq!(
        req.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(
        req.header("user-agent"),
        Some("Amazon Simple Notification Service Agent")
    );
    let env = req.json();
    assert_eq!(env["Type"], "SubscriptionConfirmation");
    assert_eq!(env["TopicArn"], topic);
    assert_eq!(env["SignatureVersion"], "2");
    assert_eq!(
        req.header("x-amz-sns-message-id"),
        env["MessageId"].as_str()
    );
    assert!(env["Message"].as_str().unwrap().contains(topic));
    assert_signed(&server, &env);
    let subscribe_url = env["SubscribeURL"].as_str().unwrap();
    assert!(subscribe_url.contains(&format!("Token={}", env["Token"].as_str().unwrap())));
    let confirmed = server.http(
        "GET",
        subscribe_url.strip_prefix(&server.url).unwrap(),
        &[],
        b"",
    );
    assert_eq!(confirmed.json()["SubscriptionArn"], sub);

    // 2. A filter policy admits only `event=launch`; the notification is a signed envelope.
    let out = server.boto3_with_env(
        &format!("{BOTO3_PRELUDE}\n{PUBLISH}"),
        &[("TOPIC", topic), ("SUB", sub)],
    );
    assert_eq!(out["attrs"]["PendingConfirmation"], "false");
    assert_eq!(
        out["attrs"]["ConfirmationWasAuthenticated"], "false",
        "confirmed by link"
    );
    let got = hook.wait_for(2);
    let req = &got[1];
    assert_eq!(req.header("x-amz-sns-message-type"), Some("Notification"));
    assert_eq!(req.header("x-amz-sns-subscription-arn"), Some(sub));
    let env = req.json();
    assert_eq!(env["MessageId"], out["launch"]);
    assert_eq!(env["Message"], "launched");
    assert_eq!(env["Subject"], "Launch");
    assert_eq!(
        env["MessageAttributes"],
        json!({"event": {"Type": "String", "Value": "launch"}, "size": {"Type": "Number", "Value": "2"}})
    );
    assert!(
        env["UnsubscribeURL"]
            .as_str()
            .unwrap()
            .contains("SubscriptionArn=")
    );
    assert_signed(&server, &env);

    // 3. Raw delivery, and a retry: the endpoint fails once, the policy retries at once.
    hook.fail_next.store(1, Ordering::SeqCst);
    let out = server.boto3_with_env(
        &format!("{BOTO3_PRELUDE}\n{RAW_AND_RETRY}"),
        &[("TOPIC", topic), ("SUB", sub)],
    );
    assert_eq!(out["attrs"]["RawMessageDelivery"], "true");
    let effective: Value =
        serde_json::from_str(out["attrs"]["EffectiveDeliveryPolicy"].as_str().unwrap()).unwrap();
    assert_eq!(effective["healthyRetryPolicy"]["numRetries"], 2);
    let got = hook.wait_for(4);
    assert_eq!((got[2].status, got[3].status), (500, 200));
    for req in &got[2..] {
        assert_eq!(req.body, "raw body");
        assert_eq!(req.header("x-amz-sns-rawdelivery"), Some("true"));
        assert_eq!(
            req.header("x-amz-sns-message-id"),
            out["batch"]["Successful"][0]["MessageId"].as_str()
        );
    }

    // 4. Other services publish through `publish_internal`; unsubscribing says goodbye.
    let scope = Scope::new("000000000000", "us-east-1");
    server
        .boto3_with_env(
            &format!(
                "{BOTO3_PRELUDE}\nc = client('sns')\nc.set_subscription_attributes(SubscriptionArn=os.environ['SUB'], AttributeName='RawMessageDelivery', AttributeValue='false')\nprint('{{}}')"
            ),
            &[("SUB", sub)],
        );
    let alarm = r#"{"AlarmName":"cpu-high","NewStateValue":"ALARM"}"#;
    let from = updraft::services::sns::access::Publisher::alarm("000000000000", "arn:alarm");
    let id = updraft::services::sns::publish_internal(
        &server.state,
        &scope,
        &from,
        topic,
        Some("ALARM: \"cpu-high\" in US East (N. Virginia)"),
        alarm,
    )
    .expect("published");
    let got = hook.wait_for(5);
    let env = got[4].json();
    assert_eq!(env["MessageId"], id.as_str());
    assert_eq!(env["Message"], alarm);
    assert_eq!(
        env["Subject"],
        "ALARM: \"cpu-high\" in US East (N. Virginia)"
    );
    let missing = updraft::services::sns::publish_internal(
        &server.state,
        &scope,
        &from,
        "arn:aws:sns:us-east-1:000000000000:nope",
        None,
        "x",
    );
    assert_eq!(missing.unwrap_err().code, "NotFound");

    server
        .aws(&["sns", "unsubscribe", "--subscription-arn", sub])
        .json();
    let got = hook.wait_for(6);
    assert_eq!(
        got[5].header("x-amz-sns-message-type"),
        Some("UnsubscribeConfirmation")
    );
    assert_signed(&server, &got[5].json());
}

pub const AUTO_SUBSCRIBE_AND_PUBLISH: &str = r#"
c = client('sns')
t = c.create_topic(Name='frozen')['TopicArn']
sub = c.subscribe(TopicArn=t, Protocol='http', Endpoint=os.environ['HOOK'])['SubscriptionArn']
print(json.dumps({'sub': sub, 'id': c.publish(TopicArn=t, Message='tick')['MessageId']}))
"#;

#[test]
fn sns_http_retries_wait_for_the_virtual_clock() {
    let server = TestServer::with_config(Config {
        time_scale: 0.0,
        sns_auto_confirm: true,
        ..Config::default()
    });
    let hook = Endpoint::start();
    hook.fail_next.store(1, Ordering::SeqCst);
    let out = server.boto3_with_env(
        &format!("{BOTO3_PRELUDE}\n{AUTO_SUBSCRIBE_AND_PUBLISH}"),
        &[("HOOK", &hook.url("/"))],
    );
    assert!(
        out["sub"].as_str().unwrap().contains(":frozen:"),
        "auto-confirmed: {out}"
    );
    let got = hook.wait_for(1);
    assert_eq!(got[0].status, 500);
    assert_eq!(
        got[0].header("x-amz-sns-message-type"),
        Some("Notification")
    );
    // The default policy retries 20 s later; on a frozen clock that is never, until advanced.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hook.count(), 1);
    let advanced = server.http(
        "POST",
        "/_updraft/clock",
        &[],
        br#"{"advance_seconds": 20}"#,
    );
    assert_eq!(advanced.status, 200);
    let got = hook.wait_for(2);
    assert_eq!(got[1].status, 200);
    assert_eq!(got[1].json()["MessageId"], out["id"]);
}

#[test]
fn an_alarm_action_on_a_topic_posts_cloudwatchs_message_to_an_http_endpoint() {
    let server = TestServer::with_config(Config {
        sns_auto_confirm: true,
        ..Config::default()
    });
    let hook = Endpoint::start();
    let out = server.boto3_with_env(
        &format!(
            "{BOTO3_PRELUDE}\n{}",
            r#"
sns = client('sns')
cw = client('cloudwatch')
t = sns.create_topic(Name='alarms')['TopicArn']
sns.subscribe(TopicArn=t, Protocol='http', Endpoint=os.environ['HOOK'])
cw.put_metric_alarm(AlarmName='hook-alarm', Namespace='App', MetricName='Load',
    Statistic='Average', Period=60, EvaluationPeriods=1, Threshold=50,
    ComparisonOperator='GreaterThanThreshold', AlarmActions=[t])
cw.set_alarm_state(AlarmName='hook-alarm', StateValue='ALARM', StateReason='testing the hook')
print(json.dumps({'topic': t}))
"#
        ),
        &[("HOOK", &hook.url("/alarm"))],
    );
    let got = hook.wait_for(1);
    assert_eq!(got[0].path, "/alarm");
    assert_eq!(
        got[0].header("x-amz-sns-message-type"),
        Some("Notification")
    );
    let envelope = got[0].json();
    assert_eq!(envelope["TopicArn"], out["topic"]);
    assert_eq!(
        envelope["Subject"],
        "ALARM: \"hook-alarm\" in US East (N. Virginia)"
    );
    let alarm: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(alarm["AlarmName"], "hook-alarm");
    assert_eq!(alarm["NewStateValue"], "ALARM");
    assert_eq!(alarm["NewStateReason"], "testing the hook");
    assert_eq!(alarm["Trigger"]["MetricName"], "Load");
    assert_signed(&server, &envelope);
}
