//! Connection draining on a Classic TCP listener, through the aws CLI on a frozen clock with
//! listener ports on (the instance is a raw TCP echo): with `ConnectionDraining` enabled a
//! deregistered instance keeps its open flow (bytes still go both ways), new connections get
//! no instance, the instance shows "deregistration currently in progress" while the flow is
//! open, and the flow is closed once the draining timeout has passed on the clock. Without
//! draining the open flow is closed at once; so is one to an instance that stops (out of
//! service).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use updraft::Config;

use crate::dataplane::{Server, start_server};
use crate::elb_tcp::{start_tcp_echo, tcp_exchange};
use crate::tls_support::{classic_with_instance, free_port, wait_bound, wait_in_service};

/// A Classic TCP listener on a free port with one InService instance: (port, instance id).
fn tcp_lb(server: &Server, lb: &str) -> (u16, String) {
    let port = free_port();
    let listener =
        format!("Protocol=TCP,LoadBalancerPort={port},InstanceProtocol=TCP,InstancePort=80");
    let id = classic_with_instance(server, lb, &listener, "TCP:80");
    wait_in_service(server, lb, &id);
    wait_bound(port);
    (port, id)
}

fn draining(server: &Server, lb: &str, enabled: bool) {
    server.aws(&[
        "elb",
        "modify-load-balancer-attributes",
        "--load-balancer-name",
        lb,
        "--load-balancer-attributes",
        &format!("{{\"ConnectionDraining\":{{\"Enabled\":{enabled},\"Timeout\":60}}}}"),
    ]);
}

/// An open flow: connected, and one exchange made.
fn open_flow(port: u16) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(still_open(&mut c, b"first"));
    c
}

/// Whether `data` goes through the flow and comes back.
fn still_open(c: &mut TcpStream, data: &[u8]) -> bool {
    if c.write_all(data).is_err() {
        return false;
    }
    let mut got = vec![0u8; data.len()];
    c.read_exact(&mut got).is_ok() && got == data
}

/// Wait (real time, a few cut polls) until the load balancer closes the flow.
fn closed_soon(c: &mut TcpStream) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 64];
    while start.elapsed() < Duration::from_secs(8) {
        match c.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

fn deregister(server: &Server, lb: &str, id: &str) {
    server.aws(&[
        "elb",
        "deregister-instances-from-load-balancer",
        "--load-balancer-name",
        lb,
        "--instances",
        id,
    ]);
}

#[test]
fn classic_tcp_flows_drain_for_the_timeout_then_close() {
    let server = start_server(
        start_tcp_echo(),
        Config {
            lb_listener_ports: true,
            ..Config::default()
        },
    );
    let (port, id) = tcp_lb(&server, "tcp-drain");
    draining(&server, "tcp-drain", true);
    let mut flow = open_flow(port);
    deregister(&server, "tcp-drain", &id);
    // Past a few cut polls, on a clock that has not reached the timeout: still carried.
    std::thread::sleep(Duration::from_millis(2500));
    server.state.clock.advance(30.0);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(still_open(&mut flow, b"while draining"));
    // No new flow for it.
    assert_eq!(tcp_exchange(port, b"new").0, b"");
    let health = server.aws(&[
        "elb",
        "describe-instance-health",
        "--load-balancer-name",
        "tcp-drain",
        "--instances",
        &id,
    ]);
    assert_eq!(
        health["InstanceStates"][0]["Description"],
        "Instance deregistration currently in progress.",
        "the open flow keeps the drain going: {health}"
    );
    // The timeout passes: the flow is closed.
    server.state.clock.advance(31.0);
    assert!(closed_soon(&mut flow), "closed at the end of the drain");
}

#[test]
fn classic_tcp_flows_close_at_once_without_draining() {
    let server = start_server(
        start_tcp_echo(),
        Config {
            lb_listener_ports: true,
            ..Config::default()
        },
    );
    let (port, id) = tcp_lb(&server, "tcp-nodrain");
    draining(&server, "tcp-nodrain", false);
    let mut flow = open_flow(port);
    deregister(&server, "tcp-nodrain", &id);
    assert!(closed_soon(&mut flow), "closed on deregistration");

    // An instance that stops is out of service: its flow closes too (draining off).
    let (port2, id2) = tcp_lb(&server, "tcp-stop");
    let mut flow = open_flow(port2);
    server.aws(&["ec2", "stop-instances", "--instance-ids", &id2]);
    assert!(closed_soon(&mut flow), "closed when the instance stops");
}
