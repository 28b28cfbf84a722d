//! Classic TCP and SSL listeners carry real byte streams, through the aws CLI on a frozen clock
//! with listener ports on: a raw TCP echo server (not HTTP) behind a TCP listener answers byte
//! for byte, half-close included; with a `ProxyProtocolPolicyType` policy on the instance port
//! the echo first sees the PROXY protocol v1 line; an SSL listener with an IAM server
//! certificate terminates TLS (a rustls client trusting the uploaded certificate) and carries
//! the decrypted stream to the same echo.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::dataplane::Server;
use crate::tls_support::{
    aws_error, classic_with_instance, free_port, listener_ports_server, s, self_signed, temp_dir,
    upload_self_signed, wait_bound, wait_in_service,
};

/// A raw TCP echo server on 127.0.0.1:0: echoes every byte; after the client's end of stream,
/// sends `<end>` and closes.
pub fn start_tcp_echo() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = conn.write_all(b"<end>");
                let _ = conn.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    addr
}

/// Send `data` to `port` (from a thread, so that a long one cannot jam), half-close, read
/// everything back. Returns (bytes, client port).
pub fn tcp_exchange(port: u16, data: &[u8]) -> (Vec<u8>, u16) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let local = c.local_addr().unwrap().port();
    let mut w = c.try_clone().unwrap();
    let data = data.to_vec();
    let sender = std::thread::spawn(move || {
        // The load balancer may close first (no instance): then the rest is not sent.
        let _ = w.write_all(&data);
        let _ = w.shutdown(std::net::Shutdown::Write);
    });
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    sender.join().unwrap();
    (out, local)
}

/// A TLS exchange with the listener on `port`: connect with SNI `sni`, trusting only the
/// certificates of `roots_pem`; send `data` and read until what came back ends with `until`
/// (or the stream ends). Returns
/// (bytes, the names of the certificate served, client port), or the handshake's error.
pub fn tls_exchange(
    port: u16,
    sni: &str,
    roots_pem: &str,
    data: &[u8],
    until: &[u8],
) -> Result<(Vec<u8>, Vec<String>, u16), String> {
    tls_exchange_with(rustls::ALL_VERSIONS, port, sni, roots_pem, data, until)
}

/// [`tls_exchange`] offering only the protocol `versions`.
pub fn tls_exchange_with(
    versions: &[&'static rustls::SupportedProtocolVersion],
    port: u16,
    sni: &str,
    roots_pem: &str,
    data: &[u8],
    until: &[u8],
) -> Result<(Vec<u8>, Vec<String>, u16), String> {
    use updraft::services::acm::x509;
    let mut roots = rustls::RootCertStore::empty();
    for c in x509::certificates(roots_pem.as_bytes()).unwrap() {
        roots.add(c).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let local = sock.local_addr().unwrap().port();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(data).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while !out.ends_with(until) {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
    let names = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| x509::info(c).unwrap().names)
        .unwrap_or_default();
    Ok((out, names, local))
}

/// A Classic load balancer with `listener` (a `--listeners` value) and a TCP health check,
/// one instance registered and InService.
fn classic_in_service(server: &Server, lb: &str, listener: &str) {
    let id = classic_with_instance(server, lb, listener, "TCP:80");
    wait_in_service(server, lb, &id);
}

#[test]
fn classic_tcp_listener_carries_raw_bytes_and_the_proxy_protocol_v1_line() {
    let server = listener_ports_server(start_tcp_echo());
    let port = free_port();
    classic_in_service(
        &server,
        "tcp-echo",
        &format!("Protocol=TCP,LoadBalancerPort={port},InstanceProtocol=TCP,InstancePort=80"),
    );
    wait_bound(port);
    // Bytes of every value, not HTTP; both half-closes pass through.
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let (got, _) = tcp_exchange(port, &data);
    assert_eq!(got.len(), data.len() + 5);
    assert!(got.starts_with(&data) && got.ends_with(b"<end>"));

    // The PROXY protocol v1 line, once the policy is on the instance port.
    server.aws(&[
        "elb",
        "create-load-balancer-policy",
        "--load-balancer-name",
        "tcp-echo",
        "--policy-name",
        "proxy",
        "--policy-type-name",
        "ProxyProtocolPolicyType",
        "--policy-attributes",
        "AttributeName=ProxyProtocol,AttributeValue=true",
    ]);
    server.aws(&[
        "elb",
        "set-load-balancer-policies-for-backend-server",
        "--load-balancer-name",
        "tcp-echo",
        "--instance-port",
        "80",
        "--policy-names",
        "proxy",
    ]);
    let (got, client_port) = tcp_exchange(port, b"hello");
    let want = format!("PROXY TCP4 127.0.0.1 127.0.0.1 {client_port} {port}\r\nhello<end>");
    assert_eq!(String::from_utf8_lossy(&got), want);
    // Off again: the stream alone.
    server.aws(&[
        "elb",
        "set-load-balancer-policies-for-backend-server",
        "--load-balancer-name",
        "tcp-echo",
        "--instance-port",
        "80",
        "--policy-names",
        "[]",
    ]);
    assert_eq!(tcp_exchange(port, b"plain").0, b"plain<end>");

    // No InService instance: the connection is closed without a byte.
    server.aws(&[
        "elb",
        "deregister-instances-from-load-balancer",
        "--load-balancer-name",
        "tcp-echo",
        "--instances",
        &s(&server.aws(&[
            "elb",
            "describe-instance-health",
            "--load-balancer-name",
            "tcp-echo",
        ])["InstanceStates"][0]["InstanceId"]),
    ]);
    assert_eq!(tcp_exchange(port, b"nobody").0, b"");
}

#[test]
fn classic_ssl_listener_terminates_tls_with_an_iam_certificate() {
    let server = listener_ports_server(start_tcp_echo());
    let dir = temp_dir("ssl-classic");
    let uploaded = upload_self_signed(&server, &dir, "ssl-echo", "ssl.tcp.test");
    let (cert, iam_arn) = (uploaded.cert, uploaded.arn);
    let port = free_port();
    // AWS's errors for bad combinations.
    let missing = aws_error(
        &server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "ssl-bad",
            "--listeners",
            &format!(
                "Protocol=SSL,LoadBalancerPort={port},InstanceProtocol=TCP,InstancePort=80,SSLCertificateId=arn:aws:iam::000000000000:server-certificate/nope"
            ),
            "--availability-zones",
            "us-east-1a",
        ],
    );
    assert!(missing.contains("(CertificateNotFound)"), "{missing}");
    let mixed = aws_error(
        &server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "ssl-bad",
            "--listeners",
            &format!(
                "Protocol=SSL,LoadBalancerPort={port},InstanceProtocol=HTTP,InstancePort=80,SSLCertificateId={iam_arn}"
            ),
            "--availability-zones",
            "us-east-1a",
        ],
    );
    assert!(mixed.contains("(ValidationError)"), "{mixed}");

    classic_in_service(
        &server,
        "ssl-echo",
        &format!(
            "Protocol=SSL,LoadBalancerPort={port},InstanceProtocol=TCP,InstancePort=80,SSLCertificateId={iam_arn}"
        ),
    );
    wait_bound(port);
    let data = b"\0binary\xffover tls\r\n".repeat(1000);
    let (got, names, _) = tls_exchange(port, "ssl.tcp.test", &cert, &data, &data).unwrap();
    assert!(names.contains(&"ssl.tcp.test".to_owned()), "{names:?}");
    assert_eq!(got, data, "the decrypted stream reaches the instance as is");
    // A client that does not trust the certificate fails its handshake.
    let (other, _) = self_signed("ssl.tcp.test");
    let refused = tls_exchange(port, "ssl.tcp.test", &other, b"x", b"x").unwrap_err();
    assert!(refused.contains("certificate"), "{refused}");

    // The PROXY protocol v1 line comes first inside the decrypted stream too.
    server.aws(&[
        "elb",
        "create-load-balancer-policy",
        "--load-balancer-name",
        "ssl-echo",
        "--policy-name",
        "proxy",
        "--policy-type-name",
        "ProxyProtocolPolicyType",
        "--policy-attributes",
        "AttributeName=ProxyProtocol,AttributeValue=true",
    ]);
    server.aws(&[
        "elb",
        "set-load-balancer-policies-for-backend-server",
        "--load-balancer-name",
        "ssl-echo",
        "--instance-port",
        "80",
        "--policy-names",
        "proxy",
    ]);
    let (got, _, client_port) = tls_exchange(port, "ssl.tcp.test", &cert, b"hi", b"hi").unwrap();
    let line = format!("PROXY TCP4 127.0.0.1 127.0.0.1 {client_port} {port}\r\nhi");
    assert_eq!(String::from_utf8_lossy(&got), line);
    let _ = std::fs::remove_dir_all(&dir);
}
