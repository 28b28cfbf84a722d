//! Load generator and start-up probe (plain `main`, `harness = false`).
//!
//! 1. Throughput: an Updraft server in-process on 127.0.0.1:0 (two worker threads, like the
//!    binary), driven by hyper's HTTP/1 client over N keep-alive connections, each sending
//!    `Action=DescribeAdjustmentTypes&Version=2011-01-01` form POSTs one after the other.
//!    Prints requests/s, latency percentiles (µs) and errors (anything but a 200).
//! 2. Start-up: spawns the release binary (`target/release/updraft`) on a free loopback port,
//!    times spawn → first 200 from `GET /_updraft/health`, and reads the child's VmRSS once it
//!    answered and again after ~100 requests.
//!
//! Settings (environment): `LOADGEN_CONNECTIONS` (4), `LOADGEN_REQUESTS` (20000),
//! `LOADGEN_SECONDS` (duration cap, 10), `LOADGEN_STARTS` (start-up repetitions, 10),
//! `LOADGEN_BINARY` (path of the binary to spawn). Under `cargo bench` (`--bench` among the
//! arguments) those defaults apply; otherwise (`cargo test --benches`) a quick smoke run with
//! small defaults. Every other argument is ignored. Loopback only; every loop is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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

const QUERY_BODY: &str = "Action=DescribeAdjustmentTypes&Version=2011-01-01";
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

    let server = InProcessServer::start();
    rt.block_on(throughput(server.addr, &settings));
    drop(server);

    println!();
    startup(&rt, &settings);
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
        let outcome = send(s, form_request(addr, QUERY_BODY)).await;
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

async fn throughput(addr: SocketAddr, s: &Settings) {
    println!(
        "== throughput: in-process server, {} keep-alive connections, {} requests (cap {} s)",
        s.connections,
        s.requests,
        s.cap.as_secs()
    );
    println!("   POST / {QUERY_BODY}");

    // The first request parses the Auto Scaling model: time it apart from the steady state.
    let cold = async {
        let mut sender = connect(addr).await?;
        let start = Instant::now();
        let (status, len) = send(&mut sender, form_request(addr, QUERY_BODY)).await?;
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
        workers.spawn(worker(addr, next.clone(), s.requests, deadline));
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

// ---------------------------------------------------------------------------------------------
// Start-up time and idle memory of the release binary

/// The binary to spawn: `LOADGEN_BINARY`, else `updraft` next to this bench's `deps/` dir
/// (`target/release/`), else `<crate>/target/release/updraft`.
fn updraft_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LOADGEN_BINARY") {
        return Some(PathBuf::from(path));
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|dir| dir.join("updraft")));
    let in_crate = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/updraft");
    beside.into_iter().chain([in_crate]).find(|p| p.is_file())
}

/// A spawned server, killed on drop.
struct ChildServer {
    child: Child,
    addr: SocketAddr,
}

impl ChildServer {
    fn spawn(binary: &PathBuf) -> std::io::Result<Self> {
        let addr = free_port()?;
        let mut command = Command::new(binary);
        command.arg("--listen").arg(addr.to_string());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("UPDRAFT_") {
                command.env_remove(key); // defaults only: simulated instances, no signatures
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Self { child, addr })
    }

    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill(); // it may have exited already
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.local_addr()
}

/// `GET /_updraft/health` on a connected stream; `Ok(true)` on a 200.
fn health_on(mut stream: TcpStream) -> std::io::Result<bool> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_nodelay(true)?;
    stream.write_all(
        b"GET /_updraft/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response.starts_with(b"HTTP/1.1 200"))
}

/// Time from spawn to the first accepted connection and to the first 200 from health.
struct Startup {
    listening: Duration,
    healthy: Duration,
}

/// Poll with short connect retries until health answers 200.
fn wait_healthy(server: &mut ChildServer, spawned: Instant) -> Result<Startup, String> {
    let mut listening = None;
    while spawned.elapsed() < STARTUP_TIMEOUT {
        if let Ok(stream) = TcpStream::connect_timeout(&server.addr, Duration::from_millis(200)) {
            let listening = *listening.get_or_insert_with(|| spawned.elapsed());
            if let Ok(true) = health_on(stream) {
                return Ok(Startup {
                    listening,
                    healthy: spawned.elapsed(),
                });
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("the binary exited with {status}"));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Err(format!(
        "no healthy answer within {} s",
        STARTUP_TIMEOUT.as_secs()
    ))
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort_unstable();
    values[values.len() / 2]
}

fn startup(rt: &tokio::runtime::Runtime, s: &Settings) {
    println!("== start-up: spawn the binary → first 200 from GET /_updraft/health");
    if s.starts == 0 {
        println!("   skipped (LOADGEN_STARTS=0)");
        return;
    }
    let Some(binary) = updraft_binary() else {
        println!(
            "   skipped: no release binary; build it with `cargo build --release` (or set LOADGEN_BINARY)"
        );
        return;
    };
    let age = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok());
    match age {
        Some(age) => println!(
            "   binary: {} (built {} s ago)",
            binary.display(),
            age.as_secs()
        ),
        None => println!("   binary: {}", binary.display()),
    }
    if !binary.components().any(|c| c.as_os_str() == "release") {
        println!("   note: not a release build; the figures below are not representative");
    }

    let mut times = Vec::with_capacity(s.starts);
    let mut listening = Vec::with_capacity(s.starts);
    let mut idle_rss = Vec::with_capacity(s.starts);
    for run in 0..s.starts {
        let spawned = Instant::now();
        let mut server = match ChildServer::spawn(&binary) {
            Ok(server) => server,
            Err(e) => {
                println!("   run {}: cannot spawn: {e}", run + 1);
                return;
            }
        };
        match wait_healthy(&mut server, spawned) {
            Ok(startup) => {
                times.push(startup.healthy);
                listening.push(startup.listening);
            }
            Err(e) => {
                println!("   run {}: {e}", run + 1);
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50)); // let it settle before reading RSS
        if let Some(kib) = server.rss_kib() {
            idle_rss.push(kib);
        }
        if run + 1 == s.starts {
            println!(
                "   start to first served request over {} runs: median {} µs, min {} µs",
                times.len(),
                median(times.clone()).as_micros(),
                times.iter().min().map_or(0, Duration::as_micros)
            );
            println!(
                "   (of which spawn to accepting connections: median {} µs, min {} µs)",
                median(listening.clone()).as_micros(),
                listening.iter().min().map_or(0, Duration::as_micros)
            );
            idle_rss.sort_unstable();
            match idle_rss.get(idle_rss.len() / 2) {
                Some(kib) => println!(
                    "   idle RSS after health: {kib} KiB ({:.1} MiB, median)",
                    *kib as f64 / 1024.0
                ),
                None => println!("   idle RSS after health: unavailable (no /proc/<pid>/status)"),
            }
            rt.block_on(exercise(&server));
        }
    }
}

/// On the last spawned server: 100 requests on one connection, RSS; then one request to each
/// service (loading every model), RSS again.
async fn exercise(server: &ChildServer) {
    let addr = server.addr;
    let mut sender = match connect(addr).await {
        Ok(s) => s,
        Err(e) => {
            println!("   cannot connect for the RSS probe: {e}");
            return;
        }
    };
    let mut ok = 0;
    for _ in 0..100 {
        if let Ok((StatusCode::OK, _)) = send(&mut sender, form_request(addr, QUERY_BODY)).await {
            ok += 1;
        }
    }
    let rss = |label: &str| match server.rss_kib() {
        Some(kib) => println!(
            "   RSS after {label}: {kib} KiB ({:.1} MiB)",
            kib as f64 / 1024.0
        ),
        None => println!("   RSS after {label}: unavailable"),
    };
    rss(&format!("100 DescribeAdjustmentTypes ({ok} × 200)"));
    // One cheap read per service, so every lazily parsed model is loaded.
    const EVERY_SERVICE: [&str; 6] = [
        "Action=DescribeAdjustmentTypes&Version=2011-01-01",
        "Action=DescribeInstances&Version=2016-11-15",
        "Action=DescribeLoadBalancers&Version=2012-06-01",
        "Action=DescribeLoadBalancers&Version=2015-12-01",
        "Action=DescribeAlarms&Version=2010-08-01",
        "Action=ListTopics&Version=2010-03-31",
    ];
    let mut statuses = Vec::new();
    for body in EVERY_SERVICE {
        match send(&mut sender, form_request(addr, body)).await {
            Ok((status, _)) => statuses.push(status.as_u16().to_string()),
            Err(e) => statuses.push(e),
        }
    }
    rss(&format!(
        "one request to each of the six services (HTTP {})",
        statuses.join(",")
    ));
}
