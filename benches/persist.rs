//! Snapshot figures (issue #18), printed, not asserted:
//! - the state of 1,000 groups of 10 instances (10,000 EC2 instances, their Auto Scaling
//!   members and activities) plus 1,000,000 per-minute datapoints (1,000 metrics × 1,000
//!   minutes);
//! - capture (the copy taken under the stores' lock: the longest a request can wait), encode,
//!   size, decode and restore times;
//! - requests from clients over loopback against the real server (in process) while
//!   snapshots run back to back: median, 99th percentile and longest time per request, next
//!   to the same figures without snapshots;
//! - the start-up time of the real binary with an empty state directory (spawn to the first
//!   health answer, median of several starts).
//!
//! Run with `cargo bench --bench persist` (release; `cargo test --benches` runs it once in a
//! debug build, whose times mean nothing).

mod common;

use common::query::frozen_region;
use common::quick;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft::Config;
use updraft::context::RequestContext;
use updraft::controllers::asg_reconciler::reconcile_scope;
use updraft::protocol::Protocol;
use updraft::services::autoscaling::{groups, launch_configs};
use updraft::services::cloudwatch::stats::Agg;
use updraft::services::cloudwatch::store::MetricKey;
use updraft::services::ec2::images;
use updraft::services::ec2::store::InstanceState;
use updraft::services::parse_input;
use updraft::state::persist::{self, Mode, format};
use updraft::state::{AppState, Scope};

fn typed<T: serde::de::DeserializeOwned>(input: Value) -> T {
    parse_input(input).expect("input")
}

fn ctx(scope: &Scope) -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        scope: scope.clone(),
        service: "autoscaling",
        operation: "CreateAutoScalingGroup".into(),
        protocol: Protocol::Query,
        access_key_id: None,
    }
}

fn world(groups_n: usize, metrics: usize, minutes: usize) -> (Arc<AppState>, Scope) {
    let (state, scope) = frozen_region();
    let c = ctx(&scope);
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    launch_configs::create_launch_configuration(
        &c,
        &state,
        typed(json!({"LaunchConfigurationName": "lc", "ImageId": ami, "InstanceType": "t3.micro"})),
    )
    .expect("launch configuration");
    for n in 0..groups_n {
        groups::create_auto_scaling_group(
            &c,
            &state,
            typed(
                json!({"AutoScalingGroupName": format!("g{n}"), "LaunchConfigurationName": "lc",
                "MinSize": 0, "MaxSize": 10, "DesiredCapacity": 10,
                "AvailabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]}),
            ),
        )
        .expect("group");
    }
    reconcile_scope(&state, &scope);
    state.stores.with(&scope, |s| {
        for i in s.ec2.instances.values_mut() {
            i.state = InstanceState::Running;
        }
    });
    reconcile_scope(&state, &scope);
    let now = state.clock.now();
    state.stores.with(&scope, |s| {
        for m in 0..metrics {
            let key = MetricKey::new("App", "Latency", vec![("Host".into(), format!("h{m}"))]);
            for t in 0..minutes {
                let ts = now - 60.0 * (minutes - t) as f64;
                let v = (m * 7 + t) as f64 * 0.37;
                s.cloudwatch
                    .metrics
                    .put(&key, "Milliseconds", ts, &Agg::value(v), false, now);
            }
        }
    });
    (state, scope)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let (groups_n, metrics, minutes) = if quick() {
        (10, 10, 100)
    } else {
        (1_000, 1_000, 1_000)
    };
    let started = Instant::now();
    let (state, scope) = world(groups_n, metrics, minutes);
    let (instances, buckets) = state.stores.with(&scope, |s| {
        (s.ec2.instances.len(), s.cloudwatch.metrics.bucket_count())
    });
    println!(
        "world: {instances} instances, {groups_n} groups, {} datapoints ({buckets} stored buckets), built in {:.1} s",
        metrics * minutes,
        started.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let copied = state.stores.cloned(&scope).expect("scope");
    println!(
        "for comparison, the whole scope copied in one hold of the lock: {:.1} ms (snapshots copy metric data in slices)",
        ms(t.elapsed())
    );
    drop(copied);
    let t = Instant::now();
    let body = persist::capture(&state, None);
    let capture = t.elapsed();
    let t = Instant::now();
    let bytes = format::encode(&body);
    let encode = t.elapsed();
    println!(
        "snapshot: capture {:.1} ms, encode {:.1} ms, {:.1} MiB ({:.1} bytes per stored bucket)",
        ms(capture),
        ms(encode),
        bytes.len() as f64 / 1048576.0,
        bytes.len() as f64 / buckets.max(1) as f64
    );
    let t = Instant::now();
    let decoded = format::decode(&bytes).expect("decodes");
    let decode = t.elapsed();
    let other = AppState::new(Config::default());
    let t = Instant::now();
    persist::restore(&other, decoded, Mode::Replace);
    println!(
        "restore: decode {:.1} ms, install {:.1} ms",
        ms(decode),
        ms(t.elapsed())
    );

    under_load(&state, groups_n);
    startup();
}

/// A request on a keep-alive connection: (head, body) bytes in, the answer's status out.
fn exchange(stream: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> u16 {
    stream.write_all(request).expect("write");
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let (head_end, len) = loop {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (p + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).expect("read body");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The requests a client sends in turn: a PutMetricData (awsJson, one datum: a write to the
/// store a snapshot copies) and a DescribeAutoScalingGroups of one group (awsQuery, a read).
fn client_requests(addr: SocketAddr, groups_n: usize, client: usize, now: f64) -> Vec<Vec<u8>> {
    let put = json!({"Namespace": "App", "MetricData": [{"MetricName": "Latency",
        "Dimensions": [{"Name": "Host", "Value": format!("h{client}")}],
        "Timestamp": now - 30.0, "Value": 1.5, "Unit": "Milliseconds"}]})
    .to_string();
    let put = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: GraniteServiceVersion20100801.PutMetricData\r\nContent-Length: {}\r\n\r\n{put}",
        put.len()
    );
    let form = format!(
        "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.1=g{}",
        client % groups_n.max(1)
    );
    let describe = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    vec![put.into_bytes(), describe.into_bytes()]
}

/// Latency figures of one phase: (requests, median, 99th percentile, longest), in ms.
fn summary(mut latencies: Vec<Duration>) -> (usize, f64, f64, f64) {
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| ms(*d))
    };
    (latencies.len(), at(0.5), at(0.99), at(1.0))
}

/// Requests from clients over loopback against the real server (in process, two workers)
/// for a while without snapshots, then while snapshots are taken back to back (capture,
/// encode and an atomic write into a state directory: what the state writer does, at most
/// every half second, on its own thread). Each request's time, from the first byte written
/// to the last byte read, is kept per phase.
fn under_load(state: &Arc<AppState>, groups_n: usize) {
    let (clients, phase, snapshots) = if quick() {
        (2, Duration::from_millis(200), 1)
    } else {
        (4, Duration::from_secs(5), 5)
    };
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = updraft::run_with_state(listener, server_state, shutdown).await {
                eprintln!("server: {e}");
            }
        });
    });
    // 0: no snapshots yet; 1: snapshots running; 2: stop.
    let phase_now = Arc::new(AtomicUsize::new(0));
    let now = state.clock.now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let phase_now = phase_now.clone();
            let requests = client_requests(addr, groups_n, client, now);
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut seen: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
                let mut buf = Vec::new();
                let mut failed = 0usize;
                for request in requests.iter().cycle() {
                    let p = phase_now.load(Ordering::Relaxed);
                    if p >= 2 {
                        break;
                    }
                    let t = Instant::now();
                    let status = exchange(&mut stream, request, &mut buf);
                    let took = t.elapsed();
                    // A request that straddles the change of phase counts in the later one.
                    let p = p.max(phase_now.load(Ordering::Relaxed)).min(1);
                    seen[p].push(took);
                    failed += usize::from(status != 200);
                }
                (seen, failed)
            })
        })
        .collect();
    std::thread::sleep(phase);
    phase_now.store(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("updraft-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("state dir");
    let mut snaps = Vec::new();
    let started = Instant::now();
    while snaps.len() < snapshots || started.elapsed() < phase {
        let t = Instant::now();
        let bytes = format::encode(&persist::capture(state, None));
        persist::disk::write_atomic(&dir, &bytes).expect("written");
        snaps.push((ms(t.elapsed()), bytes.len()));
    }
    phase_now.store(2, Ordering::Relaxed);
    let mut quiet = Vec::new();
    let mut loaded = Vec::new();
    let mut failed = 0;
    for w in workers {
        let ([q, l], f) = w.join().expect("client");
        quiet.extend(q);
        loaded.extend(l);
        failed += f;
    }
    let _ = stop_server.send(());
    if server.join().is_err() {
        eprintln!("server thread panicked");
    }
    let _ = std::fs::remove_dir_all(&dir); // a temp dir; nothing to keep
    let times: Vec<String> = snaps.iter().map(|(t, _)| format!("{t:.0}")).collect();
    println!(
        "under load ({clients} clients over loopback, PutMetricData and DescribeAutoScalingGroups in turn; {failed} not 200):"
    );
    println!(
        "  {} snapshots back to back of {:.1} MiB each, written to disk, ms each: {}",
        snaps.len(),
        snaps.last().map_or(0, |s| s.1) as f64 / 1048576.0,
        times.join(", ")
    );
    for (name, l) in [("no snapshot", quiet), ("snapshots running", loaded)] {
        let (n, p50, p99, max) = summary(l);
        println!(
            "  {name:>17}: {n} requests, median {p50:.2} ms, p99 {p99:.2} ms, longest {max:.2} ms"
        );
    }
}

/// Start-up of the real binary with an empty state directory: from spawn to the first
/// answer to `GET /_updraft/health`, median of several starts (and the state directory's
/// own share: `persist::disk::open` on a fresh directory, in process).
fn startup() {
    let runs = if quick() { 2 } else { 11 };
    let base = std::env::temp_dir().join(format!("updraft-bench-empty-{}", std::process::id()));
    let fresh = AppState::new(Config {
        state_dir: Some(base.join("open")),
        ..Config::default()
    });
    let t = Instant::now();
    persist::disk::open(&fresh).expect("opens");
    let open = ms(t.elapsed());
    let mut starts = Vec::new();
    for run in 0..runs {
        let dir = base.join(format!("run{run}"));
        // A port free a moment ago; the binary binds it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let t = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_updraft"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state-dir")
            .arg(&dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn updraft");
        let request = format!("GET /_updraft/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        let mut buf = Vec::new();
        let answered = loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                break exchange(&mut s, request.as_bytes(), &mut buf);
            }
            if t.elapsed() > Duration::from_secs(10) {
                break 0;
            }
            std::thread::sleep(Duration::from_micros(250));
        };
        let took = t.elapsed();
        let _ = child.kill(); // ours, just spawned
        let _ = child.wait();
        assert_eq!(answered, 200, "the server answered its health check");
        starts.push(took);
    }
    let _ = std::fs::remove_dir_all(&base); // temp dirs; nothing to keep
    starts.sort_unstable();
    println!(
        "start-up with an empty state dir (spawn to health answered, {runs} starts): median {:.1} ms, fastest {:.1} ms, slowest {:.1} ms; of which opening the directory: {open:.3} ms",
        ms(starts[starts.len() / 2]),
        ms(starts[0]),
        ms(starts[starts.len() - 1])
    );
}
