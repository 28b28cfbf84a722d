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
