//! Load-balancer proxy overhead (plain `main`, `harness = false`).
//!
//! One socket backend (a tiny hyper server on 127.0.0.1:0 answering `hello`) is driven
//! directly and through a Classic load balancer of an in-process Updraft server (two worker
//! threads, like the binary; the Host header names the load balancer), side by side in one
//! run, at 8, 16, 32 and 64 keep-alive connections, by our own load generator (hyper's HTTP/1
//! client, one request after the other per connection). Prints requests/s, p50/p99 latency
//! (µs), proxy throughput as a share of direct, and the p99 the proxy adds.
//!
//! Settings (environment): `PROXY_SECONDS` per measurement (3), `PROXY_CONNECTIONS` (a comma
//! list, `8,16,32,64`). Under `cargo bench` (`--bench` among the arguments) those defaults
//! apply; otherwise (`cargo test --benches`) a quick smoke run. Loopback only; bounded loops.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use updraft::Config;
use updraft::backend::simulated::SimulatedBackend;
use updraft::backend::{
    BackendError, BackendStatus, BoxFuture, HttpAddress, InstanceBackend, LaunchSpec, MetricsSample,
};
use updraft::context::RequestContext;
use updraft::protocol::Protocol;
use updraft::state::{AppState, Scope};

/// Simulated instances whose HTTP is served by one socket.
#[derive(Debug)]
struct SocketInstances {
    sim: SimulatedBackend,
    addr: SocketAddr,
}

impl InstanceBackend for SocketInstances {
    fn name(&self) -> &'static str {
        "socket-bench"
    }
    fn launch(&self, spec: LaunchSpec) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.launch(spec)
    }
    fn start(&self, id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.start(id, now)
    }
    fn stop(&self, id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.stop(id)
    }
    fn reboot(&self, id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.reboot(id, now)
    }
    fn terminate(&self, id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.terminate(id)
    }
    fn status(&self, id: &str, now: f64) -> BoxFuture<'_, Result<BackendStatus, BackendError>> {
        self.sim.status(id, now)
    }
    fn console_output(&self, id: &str) -> BoxFuture<'_, Result<String, BackendError>> {
        self.sim.console_output(id)
    }
    fn create_image(&self, id: &str, image: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.create_image(id, image)
    }
    fn metrics_sample(
        &self,
        id: &str,
        now: f64,
    ) -> BoxFuture<'_, Result<MetricsSample, BackendError>> {
        self.sim.metrics_sample(id, now)
    }
    fn http_address(&self, id: &str, port: u16) -> Option<HttpAddress> {
        self.sim
            .http_address(id, port)
            .map(|_| HttpAddress::Socket(self.addr))
    }
    fn set_stress(&self, id: &str, cpu: f64) -> Result<(), BackendError> {
        self.sim.set_stress(id, cpu)
    }
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

/// The backend: `hello` to everything.
fn start_backend() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    spawn_runtime(1, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        b"hello\n",
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn call(state: &AppState, service: &'static str, op: &str, input: Value) -> Value {
    let ctx = RequestContext {
        request_id: "bench".into(),
        scope: Scope::new("000000000000", "us-east-1"),
        service,
        operation: op.into(),
        protocol: Protocol::Query,
        access_key_id: None,
    };
    updraft::services::dispatch(&ctx, state, input)
        .unwrap_or_else(|e| panic!("{service}:{op}: {e:?}"))
}

/// Updraft with one InService instance behind load balancer `bench`; returns (addr, DNS name).
fn start_updraft(backend: SocketAddr) -> (SocketAddr, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::with_backend(
        Config {
            listen: addr,
            time_scale: 0.0,
            ..Config::default()
        },
        Arc::new(SocketInstances {
            sim: SimulatedBackend::new(1.0),
            addr: backend,
        }),
    );
    let s = state.clone();
    spawn_runtime(2, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let _ = updraft::run_with_state(listener, s, std::future::pending()).await;
    });
    let images = call(
        &state,
        "ec2",
        "DescribeImages",
        json!({ "Owners": ["amazon"] }),
    );
    let ami = images["Images"][0]["ImageId"].clone();
    let run = call(
        &state,
        "ec2",
        "RunInstances",
        json!({ "ImageId": ami, "MinCount": 1, "MaxCount": 1,
                "Placement": { "AvailabilityZone": "us-east-1a" } }),
    );
    let id = run["Instances"][0]["InstanceId"]
        .as_str()
        .expect("id")
        .to_owned();
    let dns = call(
        &state,
        "elb",
        "CreateLoadBalancer",
        json!({ "LoadBalancerName": "bench", "AvailabilityZones": ["us-east-1a"],
                "Listeners": [{ "Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80 }] }),
    )["DNSName"]
        .as_str()
        .expect("dns")
        .to_owned();
    call(
        &state,
        "elb",
        "ConfigureHealthCheck",
        json!({ "LoadBalancerName": "bench", "HealthCheck": { "Target": "TCP:80",
                "Interval": 5, "Timeout": 2, "UnhealthyThreshold": 2, "HealthyThreshold": 2 } }),
    );
    call(
        &state,
        "elb",
        "RegisterInstancesWithLoadBalancer",
        json!({ "LoadBalancerName": "bench", "Instances": [{ "InstanceId": id }] }),
    );
    let scope = Scope::new("000000000000", "us-east-1");
    let deadline = Instant::now() + Duration::from_secs(20);
    while updraft::services::elb::instance_in_service(&state, &scope, "bench", &id) != Some(true) {
        assert!(Instant::now() < deadline, "instance never went InService");
        state.clock.advance(5.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    (addr, dns)
}

struct Run {
    requests: usize,
    errors: usize,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

async fn worker(addr: SocketAddr, host: String, until: Instant) -> (Vec<u32>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
        return (latencies, 1);
    };
    let _ = stream.set_nodelay(true);
    let Ok((mut sender, conn)) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
    else {
        return (latencies, 1);
    };
    tokio::spawn(conn);
    while Instant::now() < until {
        let started = Instant::now();
        if !send(&mut sender, &host).await {
            errors += 1;
            if errors > 100 {
                break;
            }
            continue;
        }
        latencies.push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
    }
    (latencies, errors)
}

async fn send(sender: &mut SendRequest<Empty<Bytes>>, host: &str) -> bool {
    let req = Request::get("/")
        .header(header::HOST, host)
        .body(Empty::new())
        .expect("request");
    let exchange = async {
        sender.ready().await.ok()?;
        let resp = sender.send_request(req).await.ok()?;
        let ok = resp.status().is_success();
        resp.into_body().collect().await.ok()?;
        Some(ok)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(5), exchange).await,
        Ok(Some(true))
    )
}

fn measure(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    host: &str,
    conns: usize,
    d: Duration,
) -> Run {
    rt.block_on(async {
        let start = Instant::now();
        let until = start + d;
        let tasks: Vec<_> = (0..conns)
            .map(|_| tokio::spawn(worker(addr, host.to_owned(), until)))
            .collect();
        let mut run = Run {
            requests: 0,
            errors: 0,
            latencies_us: Vec::new(),
            elapsed: Duration::ZERO,
        };
        for t in tasks {
            let (l, e) = t.await.unwrap_or_default();
            run.requests += l.len();
            run.errors += e;
            run.latencies_us.extend(l);
        }
        run.elapsed = start.elapsed();
        run.latencies_us.sort_unstable();
        run
    })
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("PROXY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 3.0 } else { 0.3 });
    let conns: Vec<usize> = std::env::var("PROXY_CONNECTIONS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| if full { vec![8, 16, 32, 64] } else { vec![8] });
    if !full {
        println!(
            "proxy: smoke run (no --bench argument); `cargo bench --bench proxy` for the figures"
        );
    }
    let backend = start_backend();
    let (updraft, dns) = start_updraft(backend);
    // The load generator gets one thread: it must not be the bottleneck of either side alike.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let d = Duration::from_secs_f64(seconds);
    // Warm both paths (connection pools, caches).
    measure(
        &rt,
        backend,
        &backend.to_string(),
        4,
        Duration::from_millis(200),
    );
    measure(&rt, updraft, &dns, 4, Duration::from_millis(200));
    println!(
        "{:>5} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>6}",
        "conns",
        "direct/s",
        "proxy/s",
        "d p50",
        "d p99",
        "p p50",
        "p99",
        "share",
        "added p99",
        "errors"
    );
    for c in conns {
        let direct = measure(&rt, backend, &backend.to_string(), c, d);
        let proxied = measure(&rt, updraft, &dns, c, d);
        let rps = |r: &Run| r.requests as f64 / r.elapsed.as_secs_f64();
        let (dp99, pp99) = (
            percentile(&direct.latencies_us, 0.99),
            percentile(&proxied.latencies_us, 0.99),
        );
        println!(
            "{:>5} {:>10.0} {:>10.0} {:>8} {:>8} {:>8} {:>8} {:>6.0}% {:>7}µs {:>6}",
            c,
            rps(&direct),
            rps(&proxied),
            percentile(&direct.latencies_us, 0.5),
            dp99,
            percentile(&proxied.latencies_us, 0.5),
            pp99,
            rps(&proxied) / rps(&direct).max(1.0) * 100.0,
            i64::from(pp99) - i64::from(dp99),
            direct.errors + proxied.errors,
        );
    }
}
