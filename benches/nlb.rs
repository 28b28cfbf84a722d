//! Network load balancer throughput (plain `main`, `harness = false`).
//!
//! One loopback echo server is driven directly and through a network load balancer of an
//! in-process Updraft server (two worker threads, like the binary on this machine; listener
//! ports on, a TCP listener forwarding to the echo server registered as an `ip` target), side
//! by side in one run, taking turns round after round so that a slow spell of the shared
//! machine falls on both alike.
//!
//! It prints, for 1 and 4 parallel flows, the bulk throughput (MiB/s each way: every flow sends
//! `NLB_MIB` MiB and reads the echo back concurrently) and the NLB's share of direct; then the
//! rate of short flows (connect, send 16 bytes, half-close, read the echo to its end) per
//! second, which is the cost of a flow's set-up (the resolver and the target connection).
//!
//! Settings (environment): `NLB_MIB` per flow (64), `NLB_ROUNDS` (3), `NLB_SECONDS` for the
//! short-flow runs (2). Under `cargo bench` (`--bench` among the arguments) those defaults
//! apply; otherwise (`cargo test --benches`) a quick smoke run. Loopback only; bounded loops.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use updraft::Config;
use updraft::context::RequestContext;
use updraft::protocol::Protocol;
use updraft::state::{AppState, Scope};

fn env_or(name: &str, quick: f64, full: f64) -> f64 {
    let bench = std::env::args().any(|a| a == "--bench");
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { full } else { quick })
}

/// Run `f` on a fresh runtime of `workers` threads on its own thread (kept for the process).
fn spawn_runtime<F: Future<Output = ()> + Send + 'static>(workers: usize, f: F) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f);
    });
}

/// The echo server: every byte back, closing after the client's end of stream.
fn start_echo() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    spawn_runtime(1, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = stream.into_split();
                // Ends with the client's end of stream (or a reset): either way the flow is over.
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    addr
}

fn call(state: &AppState, op: &str, input: Value) -> Value {
    let ctx = RequestContext {
        request_id: "bench".into(),
        scope: Scope::new("000000000000", "us-east-1"),
        service: "elbv2",
        operation: op.into(),
        protocol: Protocol::Query,
        access_key_id: None,
    };
    updraft::services::dispatch(&ctx, state, input).unwrap_or_else(|e| panic!("{op}: {e:?}"))
}

fn call_ec2(state: &AppState, op: &str, input: Value) -> Value {
    let ctx = RequestContext {
        request_id: "bench".into(),
        scope: Scope::new("000000000000", "us-east-1"),
        service: "ec2",
        operation: op.into(),
        protocol: Protocol::Ec2,
        access_key_id: None,
    };
    updraft::services::dispatch(&ctx, state, input).unwrap_or_else(|e| panic!("{op}: {e:?}"))
}

/// Updraft with an NLB whose TCP listener forwards to `echo`; returns the listener's address.
fn start_updraft(echo: SocketAddr) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(Config {
        listen: addr,
        time_scale: 0.0,
        lb_listener_ports: true,
        ..Config::default()
    });
    let s = state.clone();
    spawn_runtime(2, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let _ = updraft::run_with_state(listener, s, std::future::pending()).await;
    });
    let subnets = call_ec2(&state, "DescribeSubnets", json!({}));
    let subnet = subnets["Subnets"][0]["SubnetId"].clone();
    let vpc = subnets["Subnets"][0]["VpcId"].clone();
    let lb = call(
        &state,
        "CreateLoadBalancer",
        json!({ "Name": "bench-nlb", "Type": "network", "Subnets": [subnet] }),
    );
    let lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"].clone();
    let tg = call(
        &state,
        "CreateTargetGroup",
        json!({ "Name": "bench-nlb", "Protocol": "TCP", "Port": echo.port(), "VpcId": vpc,
                "TargetType": "ip" }),
    );
    let tg_arn = tg["TargetGroups"][0]["TargetGroupArn"].clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    call(
        &state,
        "CreateListener",
        json!({ "LoadBalancerArn": lb_arn, "Protocol": "TCP", "Port": port,
                "DefaultActions": [{ "Type": "forward", "TargetGroupArn": tg_arn }] }),
    );
    call(
        &state,
        "RegisterTargets",
        json!({ "TargetGroupArn": tg_arn, "Targets": [{ "Id": "127.0.0.1", "Port": echo.port() }] }),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let h = call(
            &state,
            "DescribeTargetHealth",
            json!({ "TargetGroupArn": tg_arn }),
        );
        if h["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy" {
            break;
        }
        assert!(Instant::now() < deadline, "target never healthy: {h}");
        state.clock.advance(5.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    let lb_addr = SocketAddr::from(([127, 0, 0, 1], port));
    while std::net::TcpStream::connect(lb_addr).is_err() {
        assert!(Instant::now() < deadline, "listener port never bound");
        std::thread::sleep(Duration::from_millis(20));
    }
    lb_addr
}

/// One flow of `bytes` bytes: written while the echo is read back; the bytes read.
async fn bulk_flow(addr: SocketAddr, bytes: usize) -> usize {
    let Ok(stream) = TcpStream::connect(addr).await else {
        return 0;
    };
    let (mut r, mut w) = stream.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![0x5au8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            if w.write_all(&chunk[..n]).await.is_err() {
                return;
            }
            left -= n;
        }
        let _ = w.shutdown().await; // the echo ends when the read side sees the end
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            break;
        }
        got += n;
    }
    let _ = writer.await;
    got
}

/// MiB/s each way for `flows` parallel flows of `mib` MiB.
fn bulk(rt: &tokio::runtime::Runtime, addr: SocketAddr, flows: usize, mib: usize) -> (f64, f64) {
    let bytes = mib * 1024 * 1024;
    let started = Instant::now();
    let got: usize = rt.block_on(async {
        let tasks: Vec<_> = (0..flows)
            .map(|_| tokio::spawn(bulk_flow(addr, bytes)))
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap_or(0);
        }
        total
    });
    assert_eq!(got, bytes * flows, "every byte came back");
    ((got as f64) / 1_048_576.0, started.elapsed().as_secs_f64())
}

/// Short flows per second over `seconds`, 4 at a time; (flows, seconds).
fn short(rt: &tokio::runtime::Runtime, addr: SocketAddr, seconds: f64) -> (usize, f64) {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let done: usize = rt.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                tokio::spawn(async move {
                    let mut n = 0;
                    while Instant::now() < until {
                        if bulk_flow(addr, 16).await == 16 {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap_or(0);
        }
        total
    });
    (done, started.elapsed().as_secs_f64())
}

fn main() {
    let mib = env_or("NLB_MIB", 4.0, 64.0) as usize;
    let rounds = env_or("NLB_ROUNDS", 1.0, 3.0) as usize;
    let seconds = env_or("NLB_SECONDS", 0.3, 2.0);
    let echo = start_echo();
    let nlb = start_updraft(echo);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "NLB throughput: echo server direct vs through a network load balancer ({mib} MiB per flow, {rounds} rounds)"
    );
    println!(
        "{:>6} {:>14} {:>14} {:>7}",
        "flows", "direct MiB/s", "NLB MiB/s", "share"
    );
    for flows in [1usize, 4] {
        let (mut d, mut n) = ((0.0, 0.0), (0.0, 0.0));
        for _ in 0..rounds {
            let x = bulk(&rt, echo, flows, mib);
            d = (d.0 + x.0, d.1 + x.1);
            let y = bulk(&rt, nlb, flows, mib);
            n = (n.0 + y.0, n.1 + y.1);
        }
        let (direct, through) = (d.0 / d.1, n.0 / n.1);
        println!(
            "{flows:>6} {direct:>14.0} {through:>14.0} {:>6.0}%",
            100.0 * through / direct
        );
    }
    let (mut d, mut n) = ((0, 0.0), (0, 0.0));
    for _ in 0..rounds {
        let x = short(&rt, echo, seconds);
        d = (d.0 + x.0, d.1 + x.1);
        let y = short(&rt, nlb, seconds);
        n = (n.0 + y.0, n.1 + y.1);
    }
    let (direct, through) = (d.0 as f64 / d.1, n.0 as f64 / n.1);
    println!(
        "short flows/s (4 at a time): direct {direct:.0}, NLB {through:.0} ({:.0}%)",
        100.0 * through / direct
    );
}
