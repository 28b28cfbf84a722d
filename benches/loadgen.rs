//! Load generator and start-up probe (plain `main`, `harness = false`).
//!
//! 1. Throughput ([`throughput`]): an Updraft server in-process on 127.0.0.1:0 (two worker
//!    threads, like the binary), or one already running (`LOADGEN_ENDPOINT`), driven by hyper's
//!    HTTP/1 client over N keep-alive connections, each sending one workload's request after the
//!    other. Workloads: Auto Scaling DescribeAdjustmentTypes, EC2 DescribeRegions, STS
//!    GetCallerIdentity (query forms), SSM GetParameter of a parameter the run puts first and of
//!    AWS's public AMI parameter (awsJson 1.1). Prints requests/s, latency percentiles (µs) and
//!    errors (anything but a 200) per workload, then all of them side by side.
//! 2. Comparison ([`compare`], `LOADGEN_COMPARE=A,B`): spawns each binary and runs the
//!    workloads against them in alternating rounds, reading each server's CPU time
//!    (utime + stime) around every round: requests/s, p50/p99 and CPU per request per binary.
//! 3. Start-up ([`startup`]): spawns the release binary (`target/release/updraft`) on a free
//!    loopback port, times spawn → first 200 from `GET /_updraft/health`, and reads the child's
//!    VmRSS once it answered and again after ~100 requests.
//!
//! Settings: the workloads as `--ops A,B,C` (after `--` under `cargo bench`) or
//! `LOADGEN_WORKLOADS` (labels, comma-separated; all by default); environment
//! `LOADGEN_CONNECTIONS` (4), `LOADGEN_REQUESTS` (20000 per workload), `LOADGEN_SECONDS`
//! (duration cap, 10), `LOADGEN_STARTS` (start-up repetitions, 10), `LOADGEN_BINARY` (path of
//! the binary to spawn), `LOADGEN_ENDPOINT` (`127.0.0.1:PORT` of a running server;
//! `LOADGEN_SERVER_PID` adds its CPU per request), `LOADGEN_COMPARE` (binaries to compare),
//! `LOADGEN_ROUNDS` (comparison rounds, 5). Under `cargo bench` (`--bench` among the
//! arguments) those defaults apply; otherwise (`cargo test --benches`) a quick smoke run with
//! small defaults. Every other argument is ignored. Loopback only; every loop is bounded.

mod common;
#[path = "loadgen/compare.rs"]
mod compare;
#[path = "loadgen/startup.rs"]
mod startup;
#[path = "loadgen/throughput.rs"]
mod throughput;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use updraft::Config;
use updraft::state::AppState;

/// One kind of request the throughput run repeats.
pub struct Workload {
    label: &'static str,
    body: &'static str,
    /// `X-Amz-Target` of an awsJson 1.1 request; a form POST when absent.
    target: Option<&'static str>,
    /// A request (target, body) sent once before the workload: what it reads must exist.
    setup: Option<(&'static str, &'static str)>,
}

const WORKLOADS: [Workload; 5] = [
    Workload {
        label: "DescribeAdjustmentTypes",
        body: "Action=DescribeAdjustmentTypes&Version=2011-01-01",
        target: None,
        setup: None,
    },
    Workload {
        label: "DescribeRegions",
        body: "Action=DescribeRegions&Version=2016-11-15",
        target: None,
        setup: None,
    },
    Workload {
        label: "GetCallerIdentity",
        body: "Action=GetCallerIdentity&Version=2011-06-15",
        target: None,
        setup: None,
    },
    Workload {
        label: "GetParameter",
        body: r#"{"Name":"/loadgen/ami"}"#,
        target: Some("AmazonSSM.GetParameter"),
        setup: Some((
            "AmazonSSM.PutParameter",
            r#"{"Name":"/loadgen/ami","Value":"ami-0123456789abcdef0","Type":"String","Overwrite":true}"#,
        )),
    },
    Workload {
        label: "GetPublicParameter",
        body: r#"{"Name":"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}"#,
        target: Some("AmazonSSM.GetParameter"),
        setup: None,
    },
];
const FORM_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// No single request may take longer than this (it then counts as an error).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a spawned binary gets to answer its health check.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Reconnections a worker attempts before giving up.
const MAX_RECONNECTS: u32 = 10;

type Sender = SendRequest<Full<Bytes>>;

pub struct Settings {
    connections: usize,
    requests: usize,
    cap: Duration,
    starts: usize,
    rounds: usize,
}

impl Settings {
    fn from_env(full: bool) -> Self {
        let (connections, requests, seconds, starts, rounds) = if full {
            (4, 20_000, 10, 10, 5)
        } else {
            (2, 500, 5, 1, 1)
        };
        Self {
            connections: env_number("LOADGEN_CONNECTIONS", connections).max(1),
            requests: env_number("LOADGEN_REQUESTS", requests).max(1),
            cap: Duration::from_secs(env_number("LOADGEN_SECONDS", seconds).max(1) as u64),
            starts: env_number("LOADGEN_STARTS", starts),
            rounds: env_number("LOADGEN_ROUNDS", rounds).max(1),
        }
    }
}

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            eprintln!("loadgen: ignoring {name}={text:?} (not a number); using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// The workloads to run: `--ops A,B` (or `--ops=A,B`), else `LOADGEN_WORKLOADS`, else all;
/// in the order named. An unknown label is reported and skipped.
fn selected_workloads() -> Vec<&'static Workload> {
    let args: Vec<String> = std::env::args().collect();
    let from_args = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--ops=")
            .map(str::to_owned)
            .or_else(|| (a == "--ops").then(|| args.get(i + 1).cloned().unwrap_or_default()))
    });
    let list = from_args
        .or_else(|| std::env::var("LOADGEN_WORKLOADS").ok())
        .unwrap_or_default();
    if list.trim().is_empty() {
        return WORKLOADS.iter().collect();
    }
    list.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|label| {
            let found = WORKLOADS.iter().find(|w| w.label == label);
            if found.is_none() {
                let known: Vec<&str> = WORKLOADS.iter().map(|w| w.label).collect();
                eprintln!(
                    "loadgen: no workload {label:?}; known: {}",
                    known.join(", ")
                );
            }
            found
        })
        .collect()
}

fn main() {
    // libtest/criterion flags (`--bench`, filters, `--nocapture`, ...) arrive here too: only
    // `--bench` and `--ops` matter, everything else is ignored.
    let full = std::env::args().any(|a| a == "--bench");
    let settings = Settings::from_env(full);
    if !full {
        println!(
            "loadgen: smoke run (no --bench argument); `cargo bench --bench loadgen` for the real figures"
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let workloads = selected_workloads();

    if let Ok(binaries) = std::env::var("LOADGEN_COMPARE") {
        let binaries: Vec<&str> = binaries.split(',').map(str::trim).collect();
        compare::compare(&rt, &settings, &workloads, &binaries);
        return;
    }
    match std::env::var("LOADGEN_ENDPOINT") {
        Ok(endpoint) => {
            let addr: SocketAddr = endpoint
                .trim()
                .parse()
                .expect("LOADGEN_ENDPOINT is HOST:PORT, e.g. 127.0.0.1:4566");
            let pid = std::env::var("LOADGEN_SERVER_PID")
                .ok()
                .and_then(|p| p.trim().parse().ok());
            throughput::run_all(&rt, addr, &settings, &workloads, pid);
        }
        Err(_) => {
            let server = InProcessServer::start();
            throughput::run_all(&rt, server.addr, &settings, &workloads, None);
            drop(server);
        }
    }

    startup::startup(&rt, &settings);
}

// ---------------------------------------------------------------------------------------------
// In-process server

/// Updraft in its own two-worker runtime on its own thread; stopped on drop.
struct InProcessServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let state = AppState::new(Config {
            listen: addr,
            ..Config::default()
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let shutdown = async {
                    let _ = stopped.await; // a dropped sender stops the server as well
                };
                updraft::run_with_state(listener, state, shutdown)
                    .await
                    .expect("server runs");
            });
        });
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(()); // the server may be gone already
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join(); // a server panic was printed already
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP client

async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = tokio::time::timeout(REQUEST_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true); // best effort
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await; // errors surface on the sender side
    });
    Ok(sender)
}

/// A workload's request: a form POST, or an awsJson 1.1 POST with its target.
fn request(addr: SocketAddr, w: &Workload) -> Request<Full<Bytes>> {
    match w.target {
        None => form_request(addr, w.body),
        Some(target) => json_request(addr, target, w.body),
    }
}

fn json_request(addr: SocketAddr, target: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::post("/")
        .header(header::HOST, addr.to_string())
        .header(header::CONTENT_TYPE, "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid request")
}

fn form_request(addr: SocketAddr, body: &'static str) -> Request<Full<Bytes>> {
    Request::post("/")
        .header(header::HOST, addr.to_string())
        .header(header::CONTENT_TYPE, FORM_TYPE)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid request")
}

/// One request on a keep-alive connection: the status and body length.
async fn send(
    sender: &mut Sender,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, usize), String> {
    let exchange = async {
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok((status, body.len()))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| "request timed out".to_owned())?
}

/// A workload's setup request, when it has one: `Err` unless it answered 200.
async fn setup(addr: SocketAddr, w: &Workload) -> Result<(), String> {
    let Some((target, body)) = w.setup else {
        return Ok(());
    };
    let mut sender = connect(addr).await?;
    match send(&mut sender, json_request(addr, target, body)).await? {
        (StatusCode::OK, _) => Ok(()),
        (status, _) => Err(format!("{target} answered HTTP {status}")),
    }
}
