//! IAM server certificates and imported ACM certificates on a Classic HTTPS listener, through
//! the real aws CLI and curl.

use crate::dataplane::start_echo;
use crate::tls_support::{
    aws_error, curl, free_port, listener_ports_server, s, self_signed, temp_dir,
    upload_self_signed, wait_bound,
};

#[test]
fn classic_https_listener_serves_an_iam_server_certificate_and_acm_imports() {
    let server = listener_ports_server(start_echo());
    let dir = temp_dir("iam");
    let uploaded = upload_self_signed(&server, &dir, "shop", "shop.tls.test");
    let (cert, cert_path, key_path) = (uploaded.cert, uploaded.cert_path, uploaded.key_path);
    let file = |p: &std::path::Path| format!("file://{}", p.display());
    let iam_arn = uploaded.arn;
    assert_eq!(iam_arn, "arn:aws:iam::000000000000:server-certificate/shop");
    let got = server.aws(&[
        "iam",
        "get-server-certificate",
        "--server-certificate-name",
        "shop",
    ]);
    assert_eq!(got["ServerCertificate"]["CertificateBody"], cert.as_str());
    let listed = server.aws(&["iam", "list-server-certificates"]);
    assert_eq!(
        listed["ServerCertificateMetadataList"][0]["ServerCertificateName"],
        "shop"
    );
    // A key that is not the certificate's is refused.
    let (_, other_key) = self_signed("x.tls.test");
    let other_path = dir.join("other.pem");
    std::fs::write(&other_path, &other_key).unwrap();
    let err = aws_error(
        &server,
        &[
            "iam",
            "upload-server-certificate",
            "--server-certificate-name",
            "bad",
            "--certificate-body",
            &file(&cert_path),
            "--private-key",
            &file(&other_path),
        ],
    );
    assert!(err.contains("(KeyPairMismatch)"), "{err}");

    let port = free_port();
    let unknown = aws_error(
        &server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "tls-classic-bad",
            "--listeners",
            &format!(
                "Protocol=HTTPS,LoadBalancerPort={port},InstanceProtocol=HTTP,InstancePort=80,SSLCertificateId=arn:aws:iam::000000000000:server-certificate/nope"
            ),
            "--availability-zones",
            "us-east-1a",
        ],
    );
    assert!(unknown.contains("(CertificateNotFound)"), "{unknown}");
    let http_port = free_port();
    server.lb_in_service("tls-classic", http_port);
    server.aws(&[
        "elb",
        "create-load-balancer-listeners",
        "--load-balancer-name",
        "tls-classic",
        "--listeners",
        &format!(
            "Protocol=HTTPS,LoadBalancerPort={port},InstanceProtocol=HTTP,InstancePort=80,SSLCertificateId={iam_arn}"
        ),
    ]);
    wait_bound(port);
    let resolve = format!("shop.tls.test:{port}:127.0.0.1");
    let url = format!("https://shop.tls.test:{port}/classic");
    let out = curl(&[
        "--cacert",
        cert_path.to_str().unwrap(),
        "--resolve",
        &resolve,
        &url,
    ]);
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        body.starts_with("GET /classic") && body.contains("proto=https"),
        "{body}"
    );
    let err = aws_error(
        &server,
        &[
            "iam",
            "delete-server-certificate",
            "--server-certificate-name",
            "shop",
        ],
    );
    assert!(err.contains("(DeleteConflict)"), "{err}");

    // ACM import: the certificate's own names and validity, re-import keeps the ARN, and the
    // Classic listener switches to it.
    let imported = s(&server.aws(&[
        "acm",
        "import-certificate",
        "--certificate",
        &format!("fileb://{}", cert_path.display()),
        "--private-key",
        &format!("fileb://{}", key_path.display()),
        "--tags",
        "Key=team,Value=web",
    ])["CertificateArn"]);
    let d = server.aws(&[
        "acm",
        "describe-certificate",
        "--certificate-arn",
        &imported,
    ]);
    assert_eq!(d["Certificate"]["Type"], "IMPORTED", "{d}");
    assert_eq!(d["Certificate"]["DomainName"], "shop.tls.test");
    assert_eq!(d["Certificate"]["KeyAlgorithm"], "EC-prime256v1");
    let tags = server.aws(&[
        "acm",
        "list-tags-for-certificate",
        "--certificate-arn",
        &imported,
    ]);
    assert_eq!(
        tags["Tags"],
        serde_json::json!([{"Key": "team", "Value": "web"}])
    );
    server.aws(&[
        "acm",
        "remove-tags-from-certificate",
        "--certificate-arn",
        &imported,
        "--tags",
        "Key=team",
    ]);
    let tags = server.aws(&[
        "acm",
        "list-tags-for-certificate",
        "--certificate-arn",
        &imported,
    ]);
    assert_eq!(tags["Tags"], serde_json::json!([]));
    // ListCertificates shows RSA certificates by default; EC ones when asked for.
    let listed = server.aws(&["acm", "list-certificates"]);
    assert_eq!(
        listed["CertificateSummaryList"],
        serde_json::json!([]),
        "{listed}"
    );
    let listed = server.aws(&[
        "acm",
        "list-certificates",
        "--includes",
        "keyTypes=EC_prime256v1",
    ]);
    assert_eq!(
        listed["CertificateSummaryList"][0]["CertificateArn"],
        imported.as_str()
    );
    let got = server.aws(&["acm", "get-certificate", "--certificate-arn", &imported]);
    assert_eq!(got["Certificate"], cert.as_str());
    server.aws(&[
        "elb",
        "set-load-balancer-listener-ssl-certificate",
        "--load-balancer-name",
        "tls-classic",
        "--load-balancer-port",
        &port.to_string(),
        "--ssl-certificate-id",
        &imported,
    ]);
    // The IAM certificate is free again; the ACM one is in use.
    server.aws(&[
        "iam",
        "delete-server-certificate",
        "--server-certificate-name",
        "shop",
    ]);
    let out = curl(&[
        "--cacert",
        cert_path.to_str().unwrap(),
        "--resolve",
        &resolve,
        &url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
