//! TLS from load balancers to their back ends, through the aws CLI on a frozen clock with
//! listener ports on. The instances are one local socket (the socket backend), here a tiny
//! TLS server with a self-signed certificate: a Classic HTTP listener with `InstanceProtocol`
//! HTTPS and an `HTTPS:` health check reaches it over TLS (the answer says so); back-end
//! server authentication pins the instance's public key (a wrong key is the load balancer's
//! 502, the right one passes); a Classic SSL back end carries a flow over TLS; an ALB `HTTPS`
//! group and an NLB `TLS` group of `ip` targets, with HTTPS health checks, do the same. A
//! plain-HTTP instance behind an HTTPS back end never passes an HTTPS check, and gets the
//! client a 502.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use updraft::Config;

use crate::dataplane::{Server, start_echo, start_server};
use crate::elb::wait_until;
use crate::elb_tcp::tcp_exchange;
use crate::tls_support::self_signed;
use crate::tls_support::{classic_with_instance, curl, default_subnets, free_port, s, wait_bound};

/// A TLS server on 127.0.0.1:0 with a self-signed certificate for `name`. HTTP requests
/// (`http: true`) are answered `over tls: <path>`; otherwise bytes are echoed, then `<tls>`
/// after the client's end of stream. Returns the address, the certificate PEM and the count
/// of completed handshakes.
fn start_tls_server(name: &str, http: bool) -> (SocketAddr, String, Arc<AtomicUsize>) {
    let (cert_pem, key_pem) = self_signed(name);
    let chain = updraft::services::acm::x509::certificates(cert_pem.as_bytes()).unwrap();
    let key = updraft::services::acm::x509::private_key(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, counted) = (acceptor.clone(), counted.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    if http {
                        let service = hyper::service::service_fn(
                            |req: hyper::Request<hyper::body::Incoming>| async move {
                                let body = format!("over tls: {}", req.uri().path());
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                    http_body_util::Full::new(bytes::Bytes::from(body)),
                                ))
                            },
                        );
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                            .await;
                        return;
                    }
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if tls.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    let _ = tls.write_all(b"<tls>").await;
                    let _ = tls.shutdown().await;
                });
            }
        });
    });
    (addr, cert_pem, handshakes)
}

/// The public key of a PEM certificate, as `openssl x509 -pubkey -noout` prints it.
fn public_key_pem(cert_pem: &str) -> String {
    use base64::Engine as _;
    let der = updraft::services::acm::x509::certificates(cert_pem.as_bytes()).unwrap();
    let spki = updraft::lb::backend_tls::spki_of_certificate(&der[0]).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(spki);
    format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
}

/// The instance's state after the clock has run through a few health checks.
fn state_after_checks(server: &Server, lb: &str, id: &str) -> Option<bool> {
    let scope = crate::elb::scope();
    let start = Instant::now();
    loop {
        server.state.clock.advance(15.0);
        std::thread::sleep(Duration::from_millis(100));
        let now = updraft::services::elb::instance_in_service(&server.state, &scope, lb, id);
        if now == Some(true) || start.elapsed() > Duration::from_secs(3) {
            return now;
        }
    }
}

/// `GET path` on a listener port: (status, body).
fn get(port: u16, path: &str) -> (String, String) {
    let out = curl(&[
        "-s",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        &format!("http://127.0.0.1:{port}{path}"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.to_owned(), body.to_owned())
}

fn listener_ports() -> Config {
    Config {
        lb_listener_ports: true,
        ..Config::default()
    }
}

#[test]
fn classic_https_back_end_speaks_tls_and_back_end_authentication_pins_the_key() {
    let (tls, cert, handshakes) = start_tls_server("instance.test", true);
    let server = start_server(tls, listener_ports());
    let port = free_port();
    let id = classic_with_instance(
        &server,
        "https-back",
        &format!("Protocol=HTTP,LoadBalancerPort={port},InstanceProtocol=HTTPS,InstancePort=80"),
        "HTTPS:80/health",
    );
    assert_eq!(
        state_after_checks(&server, "https-back", &id),
        Some(true),
        "the HTTPS health check completes a TLS handshake"
    );
    assert!(handshakes.load(Ordering::SeqCst) > 0);
    wait_bound(port);
    assert_eq!(
        get(port, "/hello"),
        ("200".into(), "over tls: /hello".into())
    );

    // Back-end server authentication with a key the instance does not have: refused (502).
    let (other, _) = self_signed("other.test");
    let policy = |name: &str, kind: &str, attrs: serde_json::Value| {
        server.aws(&[
            "elb",
            "create-load-balancer-policy",
            "--load-balancer-name",
            "https-back",
            "--policy-name",
            name,
            "--policy-type-name",
            kind,
            "--policy-attributes",
            &attrs.to_string(),
        ]);
    };
    let attr = |name: &str, value: &str| serde_json::json!({"AttributeName": name, "AttributeValue": value});
    let key = |pem: &str| serde_json::json!([attr("PublicKey", &public_key_pem(pem))]);
    policy("wrong-key", "PublicKeyPolicyType", key(&other));
    policy("right-key", "PublicKeyPolicyType", key(&cert));
    let auth = "BackendServerAuthenticationPolicyType";
    policy(
        "auth-wrong",
        auth,
        serde_json::json!([attr("PublicKeyPolicyName", "wrong-key")]),
    );
    // Two keys: one matching is enough.
    policy(
        "auth-right",
        auth,
        serde_json::json!([
            attr("PublicKeyPolicyName", "wrong-key"),
            attr("PublicKeyPolicyName", "right-key")
        ]),
    );
    let set_backend = |names: &str| {
        server.aws(&[
            "elb",
            "set-load-balancer-policies-for-backend-server",
            "--load-balancer-name",
            "https-back",
            "--instance-port",
            "80",
            "--policy-names",
            names,
        ]);
    };
    set_backend("auth-wrong");
    assert_eq!(get(port, "/pinned").0, "502");
    set_backend("auth-right");
    assert_eq!(
        get(port, "/pinned"),
        ("200".into(), "over tls: /pinned".into())
    );
}

#[test]
fn a_plain_http_instance_behind_an_https_back_end_is_unhealthy_and_a_502() {
    let server = start_server(start_echo(), listener_ports());
    let port = free_port();
    let id = classic_with_instance(
        &server,
        "plain-back",
        &format!("Protocol=HTTP,LoadBalancerPort={port},InstanceProtocol=HTTPS,InstancePort=80"),
        "HTTPS:80/health",
    );
    assert_eq!(
        state_after_checks(&server, "plain-back", &id),
        Some(false),
        "no TLS handshake: the HTTPS check fails"
    );
    // A TCP check passes (the port is open); traffic over TLS still cannot get an answer.
    server.aws(&[
        "elb",
        "configure-health-check",
        "--load-balancer-name",
        "plain-back",
        "--health-check",
        "Target=TCP:80,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2",
    ]);
    let scope = crate::elb::scope();
    wait_until("InService", || {
        server.state.clock.advance(15.0);
        std::thread::sleep(Duration::from_millis(50));
        updraft::services::elb::instance_in_service(&server.state, &scope, "plain-back", &id)
            == Some(true)
    });
    wait_bound(port);
    assert_eq!(get(port, "/x").0, "502");
}

#[test]
fn classic_ssl_back_end_carries_the_flow_over_tls() {
    let (tls, _, handshakes) = start_tls_server("ssl-instance.test", false);
    let server = start_server(tls, listener_ports());
    let port = free_port();
    let id = classic_with_instance(
        &server,
        "ssl-back",
        &format!("Protocol=TCP,LoadBalancerPort={port},InstanceProtocol=SSL,InstancePort=80"),
        "SSL:80",
    );
    assert_eq!(state_after_checks(&server, "ssl-back", &id), Some(true));
    let checks = handshakes.load(Ordering::SeqCst);
    assert!(checks > 0, "SSL checks complete a handshake");
    wait_bound(port);
    let data: Vec<u8> = (0..50_000u32).map(|i| (i * 13 % 256) as u8).collect();
    let (got, _) = tcp_exchange(port, &data);
    assert!(
        got.starts_with(&data) && got.ends_with(b"<tls>"),
        "{}",
        got.len()
    );
    assert_eq!(got.len(), data.len() + 5);
}

/// A target group of `protocol` with the `ip` target 127.0.0.1:`port` and `extra` options.
/// Returns its ARN.
fn group(server: &Server, name: &str, protocol: &str, port: u16, extra: &[&str]) -> String {
    let (vpc, _) = default_subnets(server);
    let port_s = port.to_string();
    let mut args = vec![
        "elbv2",
        "create-target-group",
        "--name",
        name,
        "--protocol",
        protocol,
        "--port",
        &port_s,
        "--vpc-id",
        &vpc,
        "--target-type",
        "ip",
    ];
    args.extend_from_slice(extra);
    let tg = s(&server.aws(&args)["TargetGroups"][0]["TargetGroupArn"]);
    server.aws(&[
        "elbv2",
        "register-targets",
        "--target-group-arn",
        &tg,
        "--targets",
        &format!("Id=127.0.0.1,Port={port}"),
    ]);
    tg
}

/// Advance the clock until the group's one target is healthy.
fn wait_healthy(server: &Server, tg: &str) {
    let start = Instant::now();
    loop {
        let h = server.aws(&["elbv2", "describe-target-health", "--target-group-arn", tg]);
        if h["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy" {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never healthy: {h}"
        );
        server.state.clock.advance(30.0);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A load balancer of `kind` with a listener of `protocol` on a free port forwarding to `tg`,
/// once the group's target is healthy. Returns the port.
fn forwarding(server: &Server, name: &str, kind: &str, protocol: &str, tg: &str) -> u16 {
    let (_, subnets) = default_subnets(server);
    let lb = s(&server.aws(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        name,
        "--type",
        kind,
        "--subnets",
        &subnets[0],
        &subnets[1],
    ])["LoadBalancers"][0]["LoadBalancerArn"]);
    let port = free_port();
    server.aws(&[
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        &lb,
        "--protocol",
        protocol,
        "--port",
        &port.to_string(),
        "--default-actions",
        &format!("Type=forward,TargetGroupArn={tg}"),
    ]);
    wait_healthy(server, tg);
    wait_bound(port);
    port
}

#[test]
fn alb_https_group_and_nlb_tls_group_speak_tls_to_their_targets() {
    let (https, _, alb_handshakes) = start_tls_server("alb-target.test", true);
    let (tls_echo, _, _) = start_tls_server("nlb-target.test", false);
    let server = start_server(start_echo(), listener_ports());

    // HTTPS health checks over TLS make the target healthy; requests go over TLS.
    let tg = group(
        &server,
        "https-group",
        "HTTPS",
        https.port(),
        &[
            "--health-check-protocol",
            "HTTPS",
            "--health-check-path",
            "/ping",
        ],
    );
    let alb_port = forwarding(&server, "alb-https-back", "application", "HTTP", &tg);
    assert!(alb_handshakes.load(Ordering::SeqCst) > 0);
    assert_eq!(
        get(alb_port, "/via-alb"),
        ("200".into(), "over tls: /via-alb".into())
    );

    // A TLS group: the flow is carried over TLS to the target.
    let tls_tg = group(&server, "tls-group", "TLS", tls_echo.port(), &[]);
    let nlb_port = forwarding(&server, "nlb-tls-back", "network", "TCP", &tls_tg);
    let (got, _) = tcp_exchange(nlb_port, b"through nlb");
    assert_eq!(got, b"through nlb<tls>");

    // An HTTPS group whose target speaks plain HTTP: unhealthy over HTTPS checks, and a 502.
    let plain = start_echo();
    let plain_tg = group(
        &server,
        "plain-https-group",
        "HTTPS",
        plain.port(),
        &["--health-check-protocol", "HTTP"],
    );
    let plain_port = forwarding(&server, "alb-plain-back", "application", "HTTP", &plain_tg);
    assert_eq!(get(plain_port, "/x").0, "502");
    server.aws(&[
        "elbv2",
        "modify-target-group",
        "--target-group-arn",
        &plain_tg,
        "--health-check-protocol",
        "HTTPS",
    ]);
    let start = Instant::now();
    loop {
        server.state.clock.advance(30.0);
        std::thread::sleep(Duration::from_millis(50));
        let h = server.aws(&[
            "elbv2",
            "describe-target-health",
            "--target-group-arn",
            &plain_tg,
        ]);
        if h["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "unhealthy" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never unhealthy: {h}"
        );
    }
}
