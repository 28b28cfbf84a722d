//! Classic SSL negotiation policies end to end: the aws CLI sets up an HTTPS listener with an
//! ACM certificate (RSA, from Updraft's CA) on a listener port, then `SSLNegotiationPolicyType`
//! policies — explicit protocol and cipher attributes, or a `Reference-Security-Policy` — set on
//! it with SetLoadBalancerPoliciesOfListener choose what handshakes succeed, as Python's `ssl`
//! module (OpenSSL) sees them: a client offering only a cipher the policy leaves out is
//! refused, a TLS 1.2 client is refused by a policy without TLS 1.2, a TLS 1.3-only client by
//! every Classic listener (Classic has no TLS 1.3), and each refusal counts in `AWS/ELB`
//! `ClientTLSNegotiationErrorCount`. DescribeLoadBalancerPolicies lists the predefined
//! policies; AWS's errors for bad policies and listeners.

use std::time::Duration;

use serde_json::{Value, json};
use updraft::Config;

use crate::dataplane::{Server, start_echo, start_server};
use crate::tls_support::{aws_error, free_port, metric_sum, s, wait_bound};

/// Handshakes with the listener on `port`, one per case (`min`/`max` as Python's
/// `ssl.TLSVersion` names, `ciphers` as OpenSSL's list): each `{ok, version, cipher}` or
/// `{ok: false, error}`.
const HANDSHAKES: &str = r#"
import json, socket, ssl, sys
port, cases = int(sys.argv[1]), json.loads(sys.argv[2])
out = {}
for name, c in cases.items():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if c.get('min'):
        ctx.minimum_version = getattr(ssl.TLSVersion, c['min'])
    if c.get('max'):
        ctx.maximum_version = getattr(ssl.TLSVersion, c['max'])
    if c.get('ciphers'):
        ctx.set_ciphers(c['ciphers'])
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname='ssl.policy.test') as t:
                out[name] = {'ok': True, 'version': t.version(), 'cipher': t.cipher()[0]}
    except (ssl.SSLError, OSError) as e:
        out[name] = {'ok': False, 'error': str(e)}
print(json.dumps(out))
"#;

fn handshakes(port: u16, cases: &Value) -> Value {
    let out = std::process::Command::new("python3")
        .args(["-c", HANDSHAKES, &port.to_string(), &cases.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The three clients: TLS 1.2 offering only AES-128-GCM, TLS 1.2 offering only AES-256-GCM,
/// and TLS 1.3 only.
fn clients() -> Value {
    json!({
        "aes128": {"max": "TLSv1_2", "ciphers": "ECDHE-RSA-AES128-GCM-SHA256"},
        "aes256": {"max": "TLSv1_2", "ciphers": "ECDHE-RSA-AES256-GCM-SHA384"},
        "tls13": {"min": "TLSv1_3"},
    })
}

fn ok(results: &Value, client: &str) -> bool {
    results[client]["ok"] == true
}

fn create_policy(server: &Server, name: &str, attrs: &[(&str, &str)]) -> Value {
    let attrs: Vec<Value> = attrs
        .iter()
        .map(|(n, v)| json!({"AttributeName": n, "AttributeValue": v}))
        .collect();
    server.aws(&[
        "elb",
        "create-load-balancer-policy",
        "--load-balancer-name",
        "ssl-policies",
        "--policy-name",
        name,
        "--policy-type-name",
        "SSLNegotiationPolicyType",
        "--policy-attributes",
        &Value::from(attrs).to_string(),
    ])
}

fn set_listener_policies(server: &Server, port: u16, names: &str) {
    server.aws(&[
        "elb",
        "set-load-balancer-policies-of-listener",
        "--load-balancer-name",
        "ssl-policies",
        "--load-balancer-port",
        &port.to_string(),
        "--policy-names",
        names,
    ]);
}

#[test]
fn classic_negotiation_policies_choose_protocols_and_ciphers() {
    let server = start_server(
        start_echo(),
        Config {
            lb_listener_ports: true,
            ..Config::default()
        },
    );
    let cert = s(&server.aws(&[
        "acm",
        "request-certificate",
        "--domain-name",
        "ssl.policy.test",
    ])["CertificateArn"]);
    let (port, plain) = (free_port(), free_port());
    server.aws(&[
        "elb",
        "create-load-balancer",
        "--load-balancer-name",
        "ssl-policies",
        "--listeners",
        &format!(
            "Protocol=HTTPS,LoadBalancerPort={port},InstanceProtocol=HTTP,InstancePort=80,SSLCertificateId={cert}"
        ),
        &format!("Protocol=HTTP,LoadBalancerPort={plain},InstanceProtocol=HTTP,InstancePort=80"),
        "--availability-zones",
        "us-east-1a",
    ]);
    wait_bound(port);

    // The default (ELBSecurityPolicy-2016-08): both TLS 1.2 clients, no TLS 1.3.
    let r = handshakes(port, &clients());
    assert!(ok(&r, "aes128") && ok(&r, "aes256"), "{r}");
    assert!(!ok(&r, "tls13"), "{r}");
    assert_eq!(r["aes128"]["version"], "TLSv1.2");

    // Explicit attributes: TLS 1.2 with one cipher.
    create_policy(
        &server,
        "only-aes256",
        &[
            ("Protocol-TLSv1.2", "true"),
            ("Protocol-TLSv1.1", "false"),
            ("Server-Defined-Cipher-Order", "true"),
            ("ECDHE-RSA-AES256-GCM-SHA384", "true"),
            ("ECDHE-RSA-AES128-GCM-SHA256", "false"),
        ],
    );
    set_listener_policies(&server, port, "only-aes256");
    let r = handshakes(port, &clients());
    assert!(!ok(&r, "aes128"), "the policy leaves its cipher out: {r}");
    assert!(ok(&r, "aes256"), "{r}");
    assert_eq!(r["aes256"]["cipher"], "ECDHE-RSA-AES256-GCM-SHA384");
    assert!(!ok(&r, "tls13"), "{r}");

    // A policy without TLS 1.2 (TLS 1.0 only, which rustls does not serve): no client at all.
    create_policy(
        &server,
        "tls10-only",
        &[
            ("Protocol-TLSv1", "true"),
            ("Protocol-TLSv1.2", "false"),
            ("ECDHE-RSA-AES128-SHA", "true"),
            ("ECDHE-RSA-AES128-GCM-SHA256", "true"),
        ],
    );
    set_listener_policies(&server, port, "tls10-only");
    let r = handshakes(port, &clients());
    assert!(!ok(&r, "aes128") && !ok(&r, "aes256"), "{r}");

    // A reference to a predefined policy.
    create_policy(
        &server,
        "tls12-ref",
        &[(
            "Reference-Security-Policy",
            "ELBSecurityPolicy-TLS-1-2-2017-01",
        )],
    );
    set_listener_policies(&server, port, "tls12-ref");
    let r = handshakes(port, &clients());
    assert!(
        ok(&r, "aes128") && ok(&r, "aes256") && !ok(&r, "tls13"),
        "{r}"
    );
    let d = server.aws(&[
        "elb",
        "describe-load-balancers",
        "--load-balancer-names",
        "ssl-policies",
    ]);
    let listeners = d["LoadBalancerDescriptions"][0]["ListenerDescriptions"]
        .as_array()
        .unwrap()
        .clone();
    let https = listeners
        .iter()
        .find(|l| l["Listener"]["LoadBalancerPort"] == port)
        .unwrap();
    assert_eq!(https["PolicyNames"], json!(["tls12-ref"]));
    // No policy again: the default.
    set_listener_policies(&server, port, "[]");
    assert!(ok(&handshakes(port, &clients()), "aes128"));

    // Every refused handshake counted (1 + 2 + 3 + 1 + 1 above), in AWS/ELB.
    server.state.clock.advance(60.0);
    std::thread::sleep(Duration::from_millis(100));
    server.state.clock.advance(60.0);
    let errors = || {
        metric_sum(
            &server,
            "AWS/ELB",
            "ClientTLSNegotiationErrorCount",
            "Name=LoadBalancerName,Value=ssl-policies",
        )
    };
    crate::elb::wait_until("ClientTLSNegotiationErrorCount published", || {
        errors() >= 8.0
    });
    assert_eq!(errors(), 8.0);

    // AWS's errors.
    let attrs = |a: &str| format!("[{{\"AttributeName\":\"{a}\",\"AttributeValue\":\"x\"}}]");
    for (name, attr) in [
        ("bad-ref", attrs("Reference-Security-Policy")),
        ("bad-attr", attrs("Protocol-TLSv9")),
    ] {
        let e = aws_error(
            &server,
            &[
                "elb",
                "create-load-balancer-policy",
                "--load-balancer-name",
                "ssl-policies",
                "--policy-name",
                name,
                "--policy-type-name",
                "SSLNegotiationPolicyType",
                "--policy-attributes",
                &attr,
            ],
        );
        assert!(e.contains("(InvalidConfigurationRequest)"), "{e}");
    }
    let e = aws_error(
        &server,
        &[
            "elb",
            "set-load-balancer-policies-of-listener",
            "--load-balancer-name",
            "ssl-policies",
            "--load-balancer-port",
            &plain.to_string(),
            "--policy-names",
            "tls12-ref",
        ],
    );
    assert!(e.contains("(InvalidConfigurationRequest)"), "{e}");
    let e = aws_error(
        &server,
        &[
            "elb",
            "set-load-balancer-policies-of-listener",
            "--load-balancer-name",
            "ssl-policies",
            "--load-balancer-port",
            &port.to_string(),
            "--policy-names",
            "tls12-ref",
            "only-aes256",
        ],
    );
    assert!(e.contains("(InvalidConfigurationRequest)"), "{e}");

    // The predefined policies, every protocol and cipher attribute spelled out.
    let all = server.aws(&["elb", "describe-load-balancer-policies"]);
    let names: Vec<String> = all["PolicyDescriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(&p["PolicyName"]))
        .collect();
    assert!(
        names.contains(&"ELBSecurityPolicy-2016-08".to_owned()),
        "{names:?}"
    );
    assert!(names.iter().all(|n| !n.contains("TLS13")), "{names:?}");
    let one = server.aws(&[
        "elb",
        "describe-load-balancer-policies",
        "--policy-names",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
    ]);
    let p = &one["PolicyDescriptions"][0];
    assert_eq!(p["PolicyTypeName"], "SSLNegotiationPolicyType");
    let attr = |name: &str| {
        p["PolicyAttributeDescriptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["AttributeName"] == name)
            .map(|a| s(&a["AttributeValue"]))
    };
    assert_eq!(attr("Protocol-TLSv1").as_deref(), Some("false"));
    assert_eq!(attr("Protocol-TLSv1.2").as_deref(), Some("true"));
    assert_eq!(attr("ECDHE-RSA-AES128-GCM-SHA256").as_deref(), Some("true"));
    assert_eq!(attr("AES128-SHA").as_deref(), Some("false"));
}
