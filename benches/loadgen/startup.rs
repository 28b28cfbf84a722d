//! Start-up time and idle memory of the release binary (part of the `loadgen` bench).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::StatusCode;

use super::{STARTUP_TIMEOUT, Settings, WORKLOADS, connect, form_request, request, send};

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
pub(super) struct ChildServer {
    child: Child,
    pub(super) addr: SocketAddr,
}

impl ChildServer {
    pub(super) fn spawn(binary: &PathBuf) -> std::io::Result<Self> {
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

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn rss_kib(&self) -> Option<u64> {
        super::common::rss_kib_of(&self.child.id().to_string())
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
pub(super) struct Startup {
    listening: Duration,
    healthy: Duration,
}

/// Poll with short connect retries until health answers 200.
pub(super) fn wait_healthy(server: &mut ChildServer, spawned: Instant) -> Result<Startup, String> {
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

pub(super) fn startup(rt: &tokio::runtime::Runtime, s: &Settings) {
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
        if let Ok((StatusCode::OK, _)) = send(&mut sender, request(addr, &WORKLOADS[0])).await {
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
    const EVERY_SERVICE: [&str; 8] = [
        "Action=DescribeAdjustmentTypes&Version=2011-01-01",
        "Action=DescribeInstances&Version=2016-11-15",
        "Action=DescribeLoadBalancers&Version=2012-06-01",
        "Action=DescribeLoadBalancers&Version=2015-12-01",
        "Action=DescribeAlarms&Version=2010-08-01",
        "Action=ListTopics&Version=2010-03-31",
        "Action=GetCallerIdentity&Version=2011-06-15",
        "Action=ListRoles&Version=2010-05-08",
    ];
    let mut statuses = Vec::new();
    let ssm = WORKLOADS.iter().find(|w| w.label == "GetPublicParameter");
    let requests = EVERY_SERVICE
        .iter()
        .map(|body| form_request(addr, body))
        .chain(ssm.map(|w| request(addr, w)));
    for req in requests {
        match send(&mut sender, req).await {
            Ok((status, _)) => statuses.push(status.as_u16().to_string()),
            Err(e) => statuses.push(e),
        }
    }
    rss(&format!(
        "one request to each of the nine services (HTTP {})",
        statuses.join(",")
    ));
}
