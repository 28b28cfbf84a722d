//! Hostile and careless clients of the load balancers: malformed chunked bodies are the
//! client's 400 and never reach a backend, CONNECT and HTTP/2 with prior knowledge get an
//! answer, client connections honour the load balancer's idle timeout, and a client that
//! stops sending its body is answered 408 within `--body-read-timeout`.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use updraft::Config;

use crate::dataplane::{serve_on_loopback, start_server};
use crate::lb_setup::{alb_in_service, host, start_app};

/// Requests for `/upload` the backend has seen (the head is enough to count).
static UPLOADS: AtomicUsize = AtomicUsize::new(0);
/// The same for `/stalled` (the body-timeout test's own, as tests run in parallel).
static STALLED: AtomicUsize = AtomicUsize::new(0);

/// A backend that counts uploads and answers with the length of what it read.
async fn counting(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    match req.uri().path() {
        "/upload" => UPLOADS.fetch_add(1, Ordering::SeqCst),
        "/stalled" => STALLED.fetch_add(1, Ordering::SeqCst),
        _ => 0,
    };
    let len = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().len())
        .unwrap_or(0);
    Ok(hyper::Response::new(Full::new(Bytes::from(format!(
        "len={len}"
    )))))
}

/// Send `raw` on a new connection; the status line and the rest of the answer.
fn exchange(addr: SocketAddr, raw: &[u8]) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw).unwrap();
    let mut answer = Vec::new();
    // A reset after the answer is fine: the answer is what counts.
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (status, rest) = text.split_once("\r\n").unwrap_or((&text, ""));
    (status.to_owned(), rest.to_owned())
}

#[test]
fn malformed_chunked_bodies_are_400_and_never_reach_the_backend() {
    let server = start_server(serve_on_loopback(counting), Config::default());
    let dns = server.lb_in_service("chunks", 80);
    let host = host(&server, &dns);
    let head =
        format!("POST /upload HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (what, body) in [
        ("size zz", "zz\r\nabc\r\n0\r\n\r\n"),
        ("size -5", "-5\r\nabc\r\n0\r\n\r\n"),
        ("19 hex digits", "1000000000000000000\r\nabc\r\n0\r\n\r\n"),
        ("data longer than size", "3\r\nabcdef\r\n0\r\n\r\n"),
        ("missing CRLF", "3\r\nabc0\r\n\r\n"),
    ] {
        let (status, _) = exchange(server.addr, format!("{head}{body}").as_bytes());
        assert_eq!(status, "HTTP/1.1 400 BAD_REQUEST", "{what}");
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(UPLOADS.load(Ordering::SeqCst), 0, "a backend saw a request");

    // A well-formed chunked upload still goes through.
    let (status, rest) = exchange(
        server.addr,
        format!("{head}3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(rest.ends_with("len=5"), "{rest}");
    assert_eq!(UPLOADS.load(Ordering::SeqCst), 1);

    // CONNECT: Classic's 400. HTTP/2 with prior knowledge on the main port: 505.
    let (status, _) = exchange(
        server.addr,
        format!("CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, "HTTP/1.1 400 BAD_REQUEST");
    let (status, _) = exchange(
        server.addr,
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    );
    assert_eq!(status, "HTTP/1.1 505 HTTP Version Not Supported");
}

/// Whether the server closes `s` within `within`.
fn closes_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => panic!("unexpected bytes"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(_) => true,
    }
}

/// One keep-alive request; reads the whole (Content-Length) answer.
fn keep_alive_get(s: &mut TcpStream, host: &str) -> String {
    write!(s, "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let len: usize = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let have = text.split_once("\r\n\r\n").unwrap().1.len();
    let mut rest = vec![0u8; len - have];
    s.read_exact(&mut rest).unwrap();
    text.lines().next().unwrap().to_owned()
}

#[test]
fn alb_idle_timeout_closes_client_connections_and_tunnels_are_refused() {
    let server = start_server(start_app(), Config::default());
    let (dns, lb_arn, _, _) = alb_in_service(&server, "idle-client", 1);
    let host = host(&server, &dns);
    server.aws(&[
        "elbv2",
        "modify-load-balancer-attributes",
        "--load-balancer-arn",
        &lb_arn,
        "--attributes",
        "Key=idle_timeout.timeout_seconds,Value=1",
    ]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    assert_eq!(keep_alive_get(&mut s, &host), "HTTP/1.1 200 OK");
    // Well within the main port's 60 s: the load balancer's 1 s closes it.
    assert!(closes_within(&mut s, Duration::from_secs(4)));

    // ALB: CONNECT is a malformed request (400), TRACE not allowed (405), both its pages.
    let (status, rest) = exchange(
        server.addr,
        format!("CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(rest.contains("<title>400 Bad Request</title>"), "{rest}");
    let (status, rest) = exchange(
        server.addr,
        format!("TRACE / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert!(
        rest.to_ascii_lowercase().contains("server: awselb/2.0"),
        "{rest}"
    );
}

/// Send a head and `sent` bytes of a `Content-Length: declared` body, then nothing: the
/// status line, and how long the answer took after the last byte.
fn stall_mid_body(
    addr: SocketAddr,
    host: &str,
    declared: usize,
    sent: usize,
) -> (String, Duration) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /stalled HTTP/1.1\r\nHost: {host}\r\nContent-Length: {declared}\r\n\r\n"
    )
    .unwrap();
    s.write_all(&vec![b'x'; sent]).unwrap();
    let stopped = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = Vec::new();
    // A reset after the answer is fine: the answer is what counts.
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    (status, stopped.elapsed())
}

#[test]
fn a_client_that_stops_mid_body_is_answered_408_within_the_body_read_timeout() {
    let server = start_server(
        serve_on_loopback(counting),
        Config {
            body_read_timeout: 1.0,
            ..Config::default()
        },
    );
    let dns = server.lb_in_service("stalls", 80);
    let host = host(&server, &dns);

    // Within the read-ahead: the load balancer's 408, and nothing reaches the backend.
    let (status, took) = stall_mid_body(server.addr, &host, 100, 10);
    assert_eq!(status, "HTTP/1.1 408 REQUEST_TIMEOUT");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(STALLED.load(Ordering::SeqCst), 0, "a backend saw a request");

    // Past the read-ahead (1 MiB), with the first MiB already streamed to the backend: the
    // same answer, and the backend connection is dropped mid-body.
    let (status, took) = stall_mid_body(server.addr, &host, 3 << 20, 3 << 19);
    assert_eq!(status, "HTTP/1.1 408 REQUEST_TIMEOUT");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(STALLED.load(Ordering::SeqCst), 1);

    // A slow upload that keeps sending goes through: each byte restarts the limit.
    let mut s = TcpStream::connect(server.addr).unwrap();
    write!(
        s,
        "POST /upload-slowly HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    for byte in b"abcde" {
        std::thread::sleep(Duration::from_millis(500));
        s.write_all(&[*byte]).unwrap();
    }
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer); // the answer is what counts
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("len=5"), "{answer}");
}
