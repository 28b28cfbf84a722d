//! Load generator and start-up probe (plain `main`, `harness = false`).
//!
//! 1. Throughput: an Updraft server in-process on 127.0.0.1:0 (two worker threads, like the
//!    binary), driven by hyper's HTTP/1 client over N keep-alive connections, each sending one
//!    workload's request after the other: Auto Scaling DescribeAdjustmentTypes, EC2
//!    DescribeRegions, STS GetCallerIdentity (query forms) and SSM GetParameter of a public
//!    parameter (awsJson 1.1). Prints requests/s, latency percentiles (µs) and errors
//!    (anything but a 200) per workload.
//! 2. Start-up ([`startup`]): spawns the release binary (`target/release/updraft`) on a free
//!    loopback port, times spawn → first 200 from `GET /_updraft/health`, and reads the child's
//!    VmRSS once it answered and again after ~100 requests.
//!
//! Settings (environment): `LOADGEN_WORKLOADS` (labels, comma-separated; all by default),
//! `LOADGEN_CONNECTIONS` (4), `LOADGEN_REQUESTS` (20000 per workload),
//! `LOADGEN_SECONDS` (duration cap, 10), `LOADGEN_STARTS` (start-up repetitions, 10),
//! `LOADGEN_BINARY` (path of the binary to spawn). Under `cargo bench` (`--bench` among the
//! arguments) those defaults apply; otherwise (`cargo test --benches`) a quick smoke run with
//! small defaults. Every other argument is ignored. Loopback only; every loop is bounded.

#[path = "loadgen/startup.rs"]
mod startup;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use updraft::Config;
use updraft::state::AppState;

/// One kind of request the throughput run repeats.
struct Workload {
    label: &'static str,
    body: &'static str,
    /// `X-Amz-Target` of an awsJson 1.1 request; a form POST when absent.
    target: Option<&'static str>,
}

const WORKLOADS: [Workload; 4] = [
    Workload {
        label: "DescribeAdjustmentTypes",
        body: "Action=DescribeAdjustmentTypes&Version=2011-01-01",
        target: None,
    },
    Workload {
        label: "DescribeRegions",
        body: "Action=DescribeRegions&Version=2016-11-15",
        target: None,
    },
    Workload {
        label: "GetCallerIdentity",
        body: "Action=GetCallerIdentity&Version=2011-06-15",
        target: None,
    },
    Workload {
        label: "GetParameter",
        body: r#"{"Name":"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}"#,
        target: Some("AmazonSSM.GetParameter"),
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

struct Settings {
    connections: usize,
    requests: usize,
    cap: Duration,
    starts: usize,
}

impl Settings {
    fn from_env(full: bool) -> Self {
        let (connections, requests, seconds, starts) = if full {
            (4, 20_000, 10, 10)
        } else {
            (2, 500, 5, 1)
        };
        Self {
            connections: env_number("LOADGEN_CONNECTIONS", connections).max(1),
            requests: env_number("LOADGEN_REQUESTS", requests).max(1),
            cap: Duration::from_secs(env_number("LOADGEN_SECONDS", seconds).max(1) as u64),
            starts: env_number("LOADGEN_STARTS", starts),
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

fn main() {
    // libtest/criterion flags (`--bench`, filters, `--nocapture`, ...) arrive here too: only
    // `--bench` matters, everything else is ignored.
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

    let selected = std::env::var("LOADGEN_WORKLOADS").unwrap_or_default();
    let server = InProcessServer::start();
    for w in WORKLOADS
        .iter()
        .filter(|w| selected.is_empty() || selected.split(',').any(|l| l.trim() == w.label))
    {
        rt.block_on(throughput(server.addr, &settings, w));
        println!();
    }
    drop(server);

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
        Some(target) => Request::post("/")
            .header(header::HOST, addr.to_string())
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(Full::new(Bytes::from_static(w.body.as_bytes())))
            .expect("valid request"),
    }
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

// ---------------------------------------------------------------------------------------------
// Throughput

#[derive(Default)]
struct WorkerResult {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

impl WorkerResult {
    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

async fn worker(
    addr: SocketAddr,
    workload: &'static Workload,
    next: Arc<AtomicUsize>,
    total: usize,
    deadline: Instant,
) -> WorkerResult {
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(total),
        ..WorkerResult::default()
    };
    let mut sender: Option<Sender> = None;
    let mut reconnects = 0;
    while Instant::now() < deadline && next.fetch_add(1, Ordering::Relaxed) < total {
        if sender.as_ref().is_none_or(SendRequest::is_closed) {
            if reconnects > MAX_RECONNECTS {
                result.error("gave up reconnecting".to_owned());
                break;
            }
            reconnects += 1;
            match connect(addr).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    result.error(e);
                    continue;
                }
            }
        }
        let Some(s) = sender.as_mut() else { continue };
        let start = Instant::now();
        let outcome = send(s, request(addr, workload)).await;
        let micros = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
        match outcome {
            Ok((StatusCode::OK, _)) => result.latencies_us.push(micros),
            Ok((status, _)) => {
                result.latencies_us.push(micros);
                result.error(format!("HTTP {status}"));
            }
            Err(e) => {
                result.error(e);
                sender = None;
            }
        }
    }
    result
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn throughput(addr: SocketAddr, s: &Settings, w: &'static Workload) {
    println!(
        "== throughput {}: in-process server, {} keep-alive connections, {} requests (cap {} s)",
        w.label,
        s.connections,
        s.requests,
        s.cap.as_secs()
    );
    match w.target {
        None => println!("   POST / {}", w.body),
        Some(target) => println!("   POST / X-Amz-Target: {target} {}", w.body),
    }

    // The first request parses the service's model: time it apart from the steady state.
    let cold = async {
        let mut sender = connect(addr).await?;
        let start = Instant::now();
        let (status, len) = send(&mut sender, request(addr, w)).await?;
        Ok::<_, String>((start.elapsed(), status, len))
    };
    match cold.await {
        Ok((elapsed, status, len)) => {
            println!(
                "   first request (cold model): {} µs, HTTP {status}, {len} bytes",
                elapsed.as_micros()
            )
        }
        Err(e) => println!("   first request failed: {e}"),
    }

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + s.cap;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..s.connections {
        workers.spawn(worker(addr, w, next.clone(), s.requests, deadline));
    }
    let mut latencies = Vec::with_capacity(s.requests);
    let mut errors = 0;
    let mut first_error = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(r) => {
                latencies.extend(r.latencies_us);
                errors += r.errors;
                first_error = first_error.or(r.first_error);
            }
            Err(e) => {
                errors += 1;
                first_error = first_error.or(Some(format!("worker failed: {e}")));
            }
        }
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    let completed = latencies.len();
    let capped = if completed < s.requests && wall >= s.cap {
        " (duration cap reached)"
    } else {
        ""
    };
    println!(
        "   completed {completed} responses in {:.3} s{capped}",
        wall.as_secs_f64()
    );
    println!(
        "   requests/s: {:.0}",
        completed as f64 / wall.as_secs_f64()
    );
    println!(
        "   latency µs: p50 {}  p90 {}  p99 {}  max {}",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0)
    );
    match first_error {
        Some(e) => println!("   errors: {errors} (first: {e})"),
        None => println!("   errors: {errors}"),
    }
}
