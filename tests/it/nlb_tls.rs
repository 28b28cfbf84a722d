//! A network load balancer's TLS listener end to end, through the aws CLI on a frozen clock with
//! listener ports on: two ACM certificates (issued by Updraft's CA, trusted through
//! `GET /_updraft/ca.pem`) answered by SNI, the decrypted stream echoed byte for byte by a raw
//! TCP echo registered as an `ip` target, the security policy choosing TLS versions, AWS's
//! errors for bad listener/certificate combinations, and the `_TLS` flow series and
//! `ClientTLSNegotiationErrorCount` in `AWS/NetworkELB`.

use std::time::Duration;

use crate::elb_tcp::{start_tcp_echo, tls_exchange, tls_exchange_with};
use crate::tls_support::{
    add_listener_certificate, aws_error, ca_pem, default_subnets, free_port, listener_ports_server,
    metric_sum, request_certificate, s, set_ssl_policy, wait_bound, wait_healthy,
};

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn nlb_tls_listener_answers_two_names_by_sni_and_carries_the_decrypted_stream() {
    let echo = start_tcp_echo();
    let server = listener_ports_server(echo);
    let (vpc, subnets) = default_subnets(&server);
    let lb = s(&server.aws(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        "nlb-tls",
        "--type",
        "network",
        "--subnets",
        &subnets[0],
        &subnets[1],
    ])["LoadBalancers"][0]["LoadBalancerArn"]);
    let tg = s(&server.aws(&[
        "elbv2",
        "create-target-group",
        "--name",
        "nlb-tls",
        "--protocol",
        "TCP",
        "--port",
        &echo.port().to_string(),
        "--vpc-id",
        &vpc,
        "--target-type",
        "ip",
    ])["TargetGroups"][0]["TargetGroupArn"]);
    server.aws(&[
        "elbv2",
        "register-targets",
        "--target-group-arn",
        &tg,
        "--targets",
        &format!("Id=127.0.0.1,Port={}", echo.port()),
    ]);
    let (cert_a, cert_b) = (
        request_certificate(&server, "a.nlb.test"),
        request_certificate(&server, "b.nlb.test"),
    );
    let port = free_port();
    let create = |extra: &[&str]| {
        let mut args = vec![
            "elbv2".to_owned(),
            "create-listener".to_owned(),
            "--load-balancer-arn".to_owned(),
            lb.clone(),
            "--protocol".to_owned(),
            "TLS".to_owned(),
            "--port".to_owned(),
            port.to_string(),
            "--default-actions".to_owned(),
            format!("Type=forward,TargetGroupArn={tg}"),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    // AWS's errors: no certificate, an unknown one, an unknown policy.
    let none = aws_error(&server, &strs(&create(&[])));
    assert!(none.contains("(ValidationError)"), "{none}");
    let unknown = aws_error(
        &server,
        &strs(&create(&[
            "--certificates",
            "CertificateArn=arn:aws:acm:us-east-1:000000000000:certificate/nope",
        ])),
    );
    assert!(unknown.contains("(CertificateNotFound)"), "{unknown}");
    let cert_arg = format!("CertificateArn={cert_a}");
    let policy = aws_error(
        &server,
        &strs(&create(&[
            "--certificates",
            &cert_arg,
            "--ssl-policy",
            "nope",
        ])),
    );
    assert!(policy.contains("(SSLPolicyNotFound)"), "{policy}");

    let created = server.aws(&strs(&create(&["--certificates", &cert_arg])));
    let listener = s(&created["Listeners"][0]["ListenerArn"]);
    add_listener_certificate(&server, &listener, &cert_b);
    wait_healthy(&server, &tg, 30.0);
    wait_bound(port);
    let ca = ca_pem(&server);

    // Each name gets its own certificate and the stream goes through byte for byte.
    let data: Vec<u8> = (0..50_000u32).map(|i| (i * 13 % 256) as u8).collect();
    for name in ["a.nlb.test", "b.nlb.test"] {
        let (got, names, _) = tls_exchange(port, name, &ca, &data, &data).unwrap();
        assert!(names.iter().all(|n| n == name), "{name}: {names:?}");
        assert_eq!(got, data, "{name}");
    }
    // A name no certificate has gets the default one (which the client then refuses).
    let other = tls_exchange(port, "c.nlb.test", &ca, b"x", b"x").unwrap_err();
    assert!(
        other.contains("not valid for name") && other.contains("a.nlb.test"),
        "{other}"
    );

    // A TLS 1.3-only policy: a TLS 1.2 client is refused, a 1.3 one served.
    set_ssl_policy(&server, &listener, "ELBSecurityPolicy-TLS13-1-3-2021-06");
    let old = tls_exchange_with(
        &[&rustls::version::TLS12],
        port,
        "a.nlb.test",
        &ca,
        b"x",
        b"x",
    );
    assert!(old.is_err(), "{old:?}");
    let new = tls_exchange_with(
        &[&rustls::version::TLS13],
        port,
        "a.nlb.test",
        &ca,
        b"tls13",
        b"tls13",
    );
    assert_eq!(new.unwrap().0, b"tls13");

    // AWS/NetworkELB: the TLS flows and the failed handshakes of the last minutes.
    server.state.clock.advance(60.0);
    std::thread::sleep(Duration::from_millis(100));
    server.state.clock.advance(60.0);
    let dim = lb.split("loadbalancer/").nth(1).unwrap().to_owned();
    let dimension = format!("Name=LoadBalancer,Value={dim}");
    let sum = |name: &str| metric_sum(&server, "AWS/NetworkELB", name, &dimension);
    crate::elb::wait_until("TLS metrics published", || {
        sum("ClientTLSNegotiationErrorCount") >= 2.0
    });
    assert_eq!(sum("ClientTLSNegotiationErrorCount"), 2.0);
    // The flows that got through the handshake (the health checks are not flows).
    assert_eq!(sum("NewFlowCount_TLS"), 3.0);
    assert_eq!(sum("NewFlowCount_TCP"), 0.0);
    assert!(sum("ProcessedBytes_TLS") >= 2.0 * 2.0 * 50_000.0);
}
