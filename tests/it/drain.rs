//! Graceful stop of the real binary: SIGTERM with requests in flight and connections
//! arriving during the drain. Every request received gets its answer; a newcomer is refused
//! (a 503, or a refused connect once the process has gone) or answered, never reset silently.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BODY: &[u8] = b"Action=DescribeRegions&Version=2016-11-15";

/// Start the binary on a free port and wait until it answers.
fn start_binary() -> (Child, SocketAddr) {
    let port = crate::common::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .env("UPDRAFT_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, addr)
}

fn head() -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        BODY.len()
    )
}

/// A connection that has sent all of its request but the last byte.
fn almost_sent(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(head().as_bytes()).unwrap();
    s.write_all(&BODY[..BODY.len() - 1]).unwrap();
    s
}

/// What a client saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// A complete HTTP answer with this status.
    Answer(u16),
    /// The connect was refused: the process had gone (a prompt, visible refusal).
    ConnectRefused,
    /// Reset, or closed without a byte of answer.
    Dropped(String),
}

fn read_answer(mut s: TcpStream) -> Seen {
    let mut buf = Vec::new();
    match s.read_to_end(&mut buf) {
        Ok(_) if buf.starts_with(b"HTTP/1.1 ") && buf.len() >= 12 => {
            let status = std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap();
            Seen::Answer(status)
        }
        Ok(_) => Seen::Dropped(format!("closed after {} bytes", buf.len())),
        Err(e) => Seen::Dropped(format!("{e} after {} bytes", buf.len())),
    }
}

fn newcomer(addr: SocketAddr) -> Seen {
    let mut s = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => return Seen::ConnectRefused,
        Err(e) => return Seen::Dropped(format!("connect: {e}")),
    };
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut request = head().into_bytes();
    request.extend_from_slice(BODY);
    if let Err(e) = s.write_all(&request) {
        return Seen::Dropped(format!("write: {e}"));
    }
    read_answer(s)
}

#[test]
fn sigterm_answers_requests_in_flight_and_refuses_newcomers_cleanly() {
    let (mut child, addr) = start_binary();
    // 20 requests in flight: 10 complete just before the signal, 10 are still being received
    // when it comes and complete during the drain (one second later).
    let early: Vec<TcpStream> = (0..10).map(|_| almost_sent(addr)).collect();
    let late: Vec<TcpStream> = (0..10).map(|_| almost_sent(addr)).collect();
    let mut readers = Vec::new();
    for mut s in early {
        s.write_all(&BODY[BODY.len() - 1..]).unwrap();
        readers.push(std::thread::spawn(move || read_answer(s)));
    }
    std::thread::sleep(Duration::from_millis(20));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let finisher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        late.into_iter()
            .map(|mut s| {
                s.write_all(&BODY[BODY.len() - 1..]).unwrap();
                std::thread::spawn(move || read_answer(s))
            })
            .collect::<Vec<_>>()
    });
    // 10 connections arrive during the drain.
    std::thread::sleep(Duration::from_millis(200));
    let newcomers: Vec<_> = (0..10)
        .map(|_| std::thread::spawn(move || newcomer(addr)))
        .collect();

    let in_flight: Vec<Seen> = readers
        .into_iter()
        .chain(finisher.join().unwrap())
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(in_flight, vec![Seen::Answer(200); 20], "requests in flight");
    for seen in newcomers.into_iter().map(|t| t.join().unwrap()) {
        assert!(
            matches!(seen, Seen::Answer(200 | 503) | Seen::ConnectRefused),
            "a connection arriving during the drain: {seen:?}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
