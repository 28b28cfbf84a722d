//! Throughput of one workload over N keep-alive connections (part of the `loadgen` bench):
//! requests/s, latency percentiles and errors, and the side-by-side table of a run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use hyper::client::conn::http1::SendRequest;

use super::common;
use super::{MAX_RECONNECTS, Sender, Settings, Workload, connect, request, send};

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

/// What one steady-state run measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Sorted latencies (µs) of every answered request.
    pub latencies_us: Vec<u32>,
    pub wall: Duration,
    pub errors: u64,
    pub first_error: Option<String>,
    /// The server's CPU time (utime + stime) over the run, when its pid is known.
    pub server_cpu: Option<f64>,
}

impl Stats {
    pub fn completed(&self) -> usize {
        self.latencies_us.len()
    }

    pub fn per_second(&self) -> f64 {
        self.completed() as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    pub fn percentile(&self, p: f64) -> u32 {
        common::percentile(&self.latencies_us, p / 100.0)
    }

    /// Pool another run of the same workload into this one.
    pub fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
        self.wall += other.wall;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.server_cpu = match (self.server_cpu, other.server_cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }

    /// Server CPU per answered request, in µs.
    pub fn cpu_us_per_request(&self) -> Option<f64> {
        let n = self.completed();
        self.server_cpu
            .filter(|_| n > 0)
            .map(|s| s * 1e6 / n as f64)
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

/// The CPU seconds server process `pid` has used.
fn server_cpu(pid: u32) -> Option<f64> {
    common::cpu_seconds_of(&pid.to_string())
}

/// The first request of a workload, apart from the steady state (it may parse the service's
/// model): its time, status and size.
pub async fn cold_request(addr: SocketAddr, w: &Workload) -> Result<String, String> {
    let mut sender = connect(addr).await?;
    let start = Instant::now();
    let (status, len) = send(&mut sender, request(addr, w)).await?;
    Ok(format!(
        "{} µs, HTTP {status}, {len} bytes",
        start.elapsed().as_micros()
    ))
}

/// The steady state: `s.requests` requests over `s.connections` connections (within the cap),
/// with the CPU time of `pid` around it when given.
pub async fn measure(
    addr: SocketAddr,
    s: &Settings,
    w: &'static Workload,
    pid: Option<u32>,
) -> Stats {
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = pid.and_then(server_cpu);
    let started = Instant::now();
    let deadline = started + s.cap;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..s.connections {
        workers.spawn(worker(addr, w, next.clone(), s.requests, deadline));
    }
    let mut stats = Stats::default();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(r) => {
                stats.latencies_us.extend(r.latencies_us);
                stats.errors += r.errors;
                stats.first_error = stats.first_error.take().or(r.first_error);
            }
            Err(e) => {
                stats.errors += 1;
                stats.first_error = stats
                    .first_error
                    .take()
                    .or(Some(format!("worker failed: {e}")));
            }
        }
    }
    stats.wall = started.elapsed();
    stats.server_cpu = match (cpu_before, pid.and_then(server_cpu)) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    stats.latencies_us.sort_unstable();
    stats
}

/// Print one workload's figures.
pub fn print(s: &Settings, stats: &Stats) {
    let capped = if stats.completed() < s.requests && stats.wall >= s.cap {
        " (duration cap reached)"
    } else {
        ""
    };
    println!(
        "   completed {} responses in {:.3} s{capped}",
        stats.completed(),
        stats.wall.as_secs_f64()
    );
    println!("   requests/s: {:.0}", stats.per_second());
    println!(
        "   latency µs: p50 {}  p90 {}  p99 {}  max {}",
        stats.percentile(50.0),
        stats.percentile(90.0),
        stats.percentile(99.0),
        stats.latencies_us.last().copied().unwrap_or(0)
    );
    if let Some(cpu) = stats.cpu_us_per_request() {
        println!("   server CPU per request: {cpu:.1} µs (utime + stime)");
    }
    match &stats.first_error {
        Some(e) => println!("   errors: {} (first: {e})", stats.errors),
        None => println!("   errors: {}", stats.errors),
    }
}

/// Every workload in turn against `addr`, then the side-by-side table.
pub fn run_all(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    s: &Settings,
    workloads: &[&'static Workload],
    pid: Option<u32>,
) {
    let mut rows = Vec::new();
    for &w in workloads {
        println!(
            "== throughput {}: server at {addr}, {} keep-alive connections, {} requests (cap {} s)",
            w.label,
            s.connections,
            s.requests,
            s.cap.as_secs()
        );
        match w.target {
            None => println!("   POST / {}", w.body),
            Some(target) => println!("   POST / X-Amz-Target: {target} {}", w.body),
        }
        if let Err(e) = rt.block_on(super::setup(addr, w)) {
            println!("   setup failed: {e}");
        }
        match rt.block_on(cold_request(addr, w)) {
            Ok(text) => println!("   first request (cold model): {text}"),
            Err(e) => println!("   first request failed: {e}"),
        }
        let stats = rt.block_on(measure(addr, s, w, pid));
        print(s, &stats);
        println!();
        rows.push((w.label, stats));
    }
    if rows.len() > 1 {
        table("side by side", &rows);
    }
}

/// The workloads of a run side by side, under `title`.
pub fn table(title: &str, rows: &[(&str, Stats)]) {
    println!("== {title}");
    println!(
        "   {:<24} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "workload", "req/s", "p50 µs", "p99 µs", "CPU µs", "errors"
    );
    for (label, stats) in rows {
        let cpu = stats
            .cpu_us_per_request()
            .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}"));
        println!(
            "   {label:<24} {:>10.0} {:>8} {:>8} {cpu:>8} {:>8}",
            stats.per_second(),
            stats.percentile(50.0),
            stats.percentile(99.0),
            stats.errors
        );
    }
    println!();
}
