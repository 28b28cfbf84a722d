//! Hostile and careless clients on the main port: hundreds of connections that never finish
//! their request head, or never send one, while a normal client keeps being answered.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use updraft::Config;

use crate::common::TestServer;

/// An unfinished request head: the request line and part of a header, no blank line.
fn slow_client(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaa")
        .unwrap();
    s
}

/// Whether the server has closed `s` (reads end or reset), waiting at most `within`.
fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

fn one_request(server: &TestServer) -> Duration {
    let started = Instant::now();
    let r = server.form("Action=DescribeRegions&Version=2016-11-15");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    started.elapsed()
}

#[test]
fn slow_and_silent_clients_do_not_starve_a_normal_one() {
    let server = TestServer::with_config(Config {
        header_read_timeout: 2.0,
        idle_timeout: 3.0,
        max_connections: 200,
        ..Config::default()
    });
    // 300 unfinished heads: more than the connection cap.
    let mut slow: Vec<TcpStream> = (0..300).map(|_| slow_client(server.addr)).collect();
    // The normal client is answered promptly throughout.
    let mut took: Vec<Duration> = (0..200).map(|_| one_request(&server)).collect();
    took.sort();
    let p99 = took[took.len() * 99 / 100 - 1];
    eprintln!("normal client with 300 unfinished heads open: p99 {p99:?}");
    assert!(p99 < Duration::from_millis(100), "p99 {p99:?}");

    // Past the header-read timeout every unfinished head has been closed.
    std::thread::sleep(Duration::from_millis(2500));
    let still_open = slow
        .iter_mut()
        .filter(|s| !closed_by_server(&mut (*s).try_clone().unwrap(), Duration::from_millis(1500)))
        .count();
    assert_eq!(still_open, 0, "slow connections still open");

    // A connection that never sends a byte is closed after the idle timeout; one that does
    // send its request in time is answered.
    let mut silent = TcpStream::connect(server.addr).unwrap();
    assert!(!closed_by_server(&mut silent, Duration::from_millis(1500)));
    assert!(closed_by_server(&mut silent, Duration::from_secs(4)));
    assert!(one_request(&server) < Duration::from_millis(100));
}

#[test]
fn an_oversized_head_gets_431_and_a_full_house_keeps_serving() {
    let server = TestServer::with_config(Config {
        max_connections: 50,
        ..Config::default()
    });
    // One head larger than 64 KiB: 431, connection closed.
    let mut s = TcpStream::connect(server.addr).unwrap();
    let mut head = b"GET /_updraft/health HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    for i in 0..100 {
        head.extend_from_slice(format!("X-Big-{i}: {}\r\n", "b".repeat(1000)).as_bytes());
    }
    // The server may stop reading midway: a failed write is fine, the answer is what counts.
    let _ = s.write_all(&head);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // 60 idle keep-alive connections on a cap of 50: new clients are still served (the
    // longest-waiting connections make room).
    let idle: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..20 {
        assert!(one_request(&server) < Duration::from_millis(100));
    }
    drop(idle);
}

/// A request head announcing `Content-Length: 1000` and the first `sent` bytes of the body.
fn stalled_body(addr: SocketAddr, sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    let head = "POST / HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&b"Action=DescribeRegions&Version=2016-11-15&X="[..sent.min(44)])
        .unwrap();
    s
}

/// Everything the server sends on `s` until it closes it, waiting at most `within`;
/// `None` when it is still open then.
fn answer_then_close(s: &mut TcpStream, within: Duration) -> Option<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = within.checked_sub(started.elapsed())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Some((answer, started.elapsed())),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return Some((answer, started.elapsed())),
        }
    }
}

#[test]
fn a_stalled_or_trickled_body_is_cut_off_at_the_body_read_timeout() {
    let server = TestServer::with_config(Config {
        body_read_timeout: 1.5,
        ..Config::default()
    });
    // One client sends half a body and stops; another trickles a byte every 100 ms, which
    // would take 100 s to finish (and keeps resetting any inactivity timer).
    let mut stalled = stalled_body(server.addr, 20);
    let mut trickled = stalled_body(server.addr, 1);
    let trickler = {
        let mut s = trickled.try_clone().unwrap();
        std::thread::spawn(move || {
            for _ in 0..60 {
                std::thread::sleep(Duration::from_millis(100));
                if s.write_all(b"x").is_err() {
                    return;
                }
            }
        })
    };
    // Meanwhile a normal client is answered promptly.
    for _ in 0..20 {
        assert!(one_request(&server) < Duration::from_millis(100));
    }
    for (name, s) in [("stalled", &mut stalled), ("trickled", &mut trickled)] {
        let (answer, after) = answer_then_close(s, Duration::from_secs(4))
            .unwrap_or_else(|| panic!("{name} body: connection still open after 4 s"));
        let text = String::from_utf8_lossy(&answer);
        // S3's answer to a body that stops short: 400 RequestTimeout, connection closed.
        assert!(text.starts_with("HTTP/1.1 400"), "{name}: {text}");
        assert!(
            text.contains("<Code>RequestTimeout</Code>"),
            "{name}: {text}"
        );
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{name}: {text}"
        );
        assert!(
            after < Duration::from_secs(3),
            "{name} cut off after {after:?}"
        );
    }
    trickler.join().unwrap();
    // A whole body sent a little late (within the limit) is answered as usual.
    let mut late = stalled_body(server.addr, 44);
    std::thread::sleep(Duration::from_millis(500));
    late.write_all(&[b'y'; 1000 - 44]).unwrap();
    late.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 12];
    late.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    assert!(one_request(&server) < Duration::from_millis(100));
}
