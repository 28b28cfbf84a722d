//! HTTPS listeners end to end: ACM certificates issued by Updraft's local CA (trusted through
//! `GET /_updraft/ca.pem`) served by SNI on one ALB listener, an HTTP listener's redirect to it
//! followed by curl, security policies choosing TLS versions, and the errors of unknown
//! certificates. IAM server certificates and Classic listeners: `tls_iam`.

use crate::dataplane::{Server, start_echo};
use crate::tls_support::{
    add_listener_certificate, aws_error, ca_pem, curl, default_subnets, free_port,
    listener_ports_server, request_certificate, run_instance, s, set_ssl_policy, temp_dir,
    wait_bound, wait_healthy,
};

/// An ALB and a target group with one instance registered; returns (LB ARN, target group ARN).
fn alb_with_target(server: &Server, name: &str) -> (String, String) {
    let (vpc, subnets) = default_subnets(server);
    let id = run_instance(server, &["--subnet-id", &subnets[0]]);
    let lb = s(&server.aws(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        name,
        "--subnets",
        &subnets[0],
        &subnets[1],
    ])["LoadBalancers"][0]["LoadBalancerArn"]);
    let tg = s(&server.aws(&[
        "elbv2",
        "create-target-group",
        "--name",
        name,
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--vpc-id",
        &vpc,
        "--health-check-interval-seconds",
        "5",
        "--health-check-timeout-seconds",
        "2",
    ])["TargetGroups"][0]["TargetGroupArn"]);
    server.state.clock.advance(15.0);
    server.aws(&[
        "elbv2",
        "register-targets",
        "--target-group-arn",
        &tg,
        "--targets",
        &format!("Id={id}"),
    ]);
    (lb, tg)
}

/// The CA certificate the server exports, written to a temporary file.
fn exported_ca(server: &Server, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, ca_pem(server)).unwrap();
    path
}

#[test]
fn alb_https_listener_serves_two_acm_certificates_by_sni_and_http_redirects_to_it() {
    let server = listener_ports_server(start_echo());
    let (lb, tg) = alb_with_target(&server, "tls-sni");
    let (cert_a, cert_b) = (
        request_certificate(&server, "a.tls.test"),
        request_certificate(&server, "b.tls.test"),
    );
    let described = server.aws(&["acm", "describe-certificate", "--certificate-arn", &cert_b]);
    assert_eq!(described["Certificate"]["Status"], "ISSUED", "{described}");
    assert_eq!(described["Certificate"]["DomainName"], "b.tls.test");
    assert_eq!(described["Certificate"]["Type"], "AMAZON_ISSUED");
    assert_eq!(described["Certificate"]["KeyAlgorithm"], "RSA-2048");

    let (https, http) = (free_port(), free_port());
    let listener = s(&server.aws(&[
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        &lb,
        "--protocol",
        "HTTPS",
        "--port",
        &https.to_string(),
        "--certificates",
        &format!("CertificateArn={cert_a}"),
        "--default-actions",
        &format!("Type=forward,TargetGroupArn={tg}"),
    ])["Listeners"][0]["ListenerArn"]);
    add_listener_certificate(&server, &listener, &cert_b);
    server.aws(&[
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        &lb,
        "--protocol",
        "HTTP",
        "--port",
        &http.to_string(),
        "--default-actions",
        &format!(
            r#"[{{"Type":"redirect","RedirectConfig":{{"Protocol":"HTTPS","Port":"{https}","StatusCode":"HTTP_301"}}}}]"#
        ),
    ]);
    // In use now: ACM says by whom, and refuses to delete it.
    let described = server.aws(&["acm", "describe-certificate", "--certificate-arn", &cert_a]);
    assert_eq!(
        described["Certificate"]["InUseBy"][0].as_str(),
        Some(lb.as_str())
    );
    let err = aws_error(
        &server,
        &["acm", "delete-certificate", "--certificate-arn", &cert_a],
    );
    assert!(err.contains("ResourceInUseException"), "{err}");

    wait_healthy(&server, &tg, 10.0);
    wait_bound(https);
    wait_bound(http);
    let dir = temp_dir("sni");
    let ca = exported_ca(&server, &dir);
    let ca = ca.to_str().unwrap();
    for name in ["a.tls.test", "b.tls.test"] {
        let resolve = format!("{name}:{https}:127.0.0.1");
        let out = curl(&[
            "-v",
            "--cacert",
            ca,
            "--resolve",
            &resolve,
            &format!("https://{name}:{https}/hello"),
        ]);
        let (body, log) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{name}: {log}");
        assert!(
            log.contains(&format!("subject: CN={name}")),
            "{name}: {log}"
        );
        assert!(log.contains("SSL certificate verify ok"), "{log}");
        assert!(body.starts_with("GET /hello"), "{body}");
        assert!(body.contains("proto=https"), "{body}");
        assert!(body.contains(&format!("port={https}")), "{body}");
    }
    // HTTP → HTTPS, followed by curl.
    let out = curl(&[
        "-L",
        "--cacert",
        ca,
        "--resolve",
        &format!("b.tls.test:{http}:127.0.0.1"),
        "--resolve",
        &format!("b.tls.test:{https}:127.0.0.1"),
        "-w",
        "\n%{url_effective} %{num_redirects}",
        &format!("http://b.tls.test:{http}/path?q=1"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("GET /path?q=1"), "{text}");
    assert!(text.contains("proto=https"), "{text}");
    assert!(
        text.ends_with(&format!("https://b.tls.test:{https}/path?q=1 1")),
        "{text}"
    );

    // A TLS 1.3-only policy: a TLS 1.2 client is refused, a 1.3 one served.
    set_ssl_policy(&server, &listener, "ELBSecurityPolicy-TLS13-1-3-2021-06");
    let url = format!("https://a.tls.test:{https}/");
    let resolve = format!("a.tls.test:{https}:127.0.0.1");
    let old = curl(&[
        "--cacert",
        ca,
        "--resolve",
        &resolve,
        "--tls-max",
        "1.2",
        &url,
    ]);
    assert!(
        !old.status.success(),
        "TLS 1.2 accepted by a TLS 1.3-only policy"
    );
    let new = curl(&["--cacert", ca, "--resolve", &resolve, "--tlsv1.3", &url]);
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    // The default policy (TLS 1.0-1.2 on AWS) serves 1.2 and not 1.3.
    set_ssl_policy(&server, &listener, "ELBSecurityPolicy-2016-08");
    let v12 = curl(&[
        "--cacert",
        ca,
        "--resolve",
        &resolve,
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
        &url,
    ]);
    assert!(
        v12.status.success(),
        "{}",
        String::from_utf8_lossy(&v12.stderr)
    );
    let v13 = curl(&["--cacert", ca, "--resolve", &resolve, "--tlsv1.3", &url]);
    assert!(!v13.status.success(), "TLS 1.3 served by a TLS 1.2 policy");

    // Unknown certificates: CertificateNotFound on create and add.
    let missing = lb
        .replace(":elasticloadbalancing:", ":acm:")
        .split(":loadbalancer/")
        .next()
        .unwrap()
        .to_owned()
        + ":certificate/00000000-0000-0000-0000-000000000000";
    let err = aws_error(
        &server,
        &[
            "elbv2",
            "create-listener",
            "--load-balancer-arn",
            &lb,
            "--protocol",
            "HTTPS",
            "--port",
            &free_port().to_string(),
            "--certificates",
            &format!("CertificateArn={missing}"),
            "--default-actions",
            &format!("Type=forward,TargetGroupArn={tg}"),
        ],
    );
    assert!(err.contains("(CertificateNotFound)"), "{err}");
    let err = aws_error(
        &server,
        &[
            "elbv2",
            "add-listener-certificates",
            "--listener-arn",
            &listener,
            "--certificates",
            &format!("CertificateArn={missing}"),
        ],
    );
    assert!(err.contains("(CertificateNotFound)"), "{err}");
    let err = aws_error(
        &server,
        &["acm", "describe-certificate", "--certificate-arn", &missing],
    );
    assert!(err.contains("(ResourceNotFoundException)"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
