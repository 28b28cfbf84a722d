//! Load-balancer proxy overhead (plain `main`, `harness = false`).
//!
//! One socket backend (a tiny hyper server on 127.0.0.1:0 answering `hello`) is driven
//! directly and through a Classic and an application load balancer of an in-process Updraft
//! server (two main worker threads and its connection threads, like the binary; the Host
//! header names the load balancer), side by side in one run, at 8, 16, 32 and 64 keep-alive
//! connections, by our own load generator (hyper's HTTP/1 client, one request after the other
//! per connection). Row `upd-main` is a second Updraft that serves its connections on its main
//! runtime instead (`--connection-threads 0`, how every connection was served before the
//! connection threads), through its Classic load balancer. When `nginx` is on the PATH, the
//! same backend is also driven through nginx (two workers, keep-alive upstream) as a
//! reference: what any reverse proxy costs on this machine.
//!
//! It prints, per connection count, requests/s, p50/p99 latency (µs), the proxy's throughput as
//! a share of direct, the p99 it adds, and the CPU each proxied request costs (the proxy's
//! threads' CPU time over the requests they served, from `/proc`), next to the CPU the backend
//! and the load generator spend per request. On a 2-core machine with a backend that does no
//! work, all of them compete for the same cores: the share then measures the proxy's CPU cost
//! relative to the backend's and the client's, not a bottleneck. A second table repeats the runs
//! with a backend that takes 1 ms to answer (an application that waits on something), where the
//! proxy is not on the critical path's CPU.
//!
//! Each row pools `PROXY_ROUNDS` measurements, taken in turn with the other rows of its
//! connection count (direct, Updraft, nginx, direct, ...), so that a slow spell of the machine
//! falls on every party alike instead of on whichever ran during it; the tail latencies are
//! otherwise too noisy on a shared 2-core machine to compare runs.
//!
//! Settings (environment): `PROXY_SECONDS` per measurement (2), `PROXY_ROUNDS` (3),
//! `PROXY_CONNECTIONS` (a comma list, `8,16,32,64`), `PROXY_NGINX=0` to leave nginx out,
//! `PROXY_UPDRAFT_LANES` (Updraft's connection threads: the binary's default),
//! `PROXY_UPDRAFT_WORKERS` (its main runtime's threads, 2; 0 is one current-thread runtime)
//! and `PROXY_NGINX_WORKERS` (2). Under `cargo bench` (`--bench` among the arguments) those
//! defaults apply; otherwise (`cargo test --benches`) a quick smoke run.
//! Loopback only; bounded loops.
//!
//! Profiling: `PROXY_PROFILE=N` sends exactly `N` requests through one party
//! (`PROXY_PROFILE_VIA`: `updraft`, the Classic load balancer, `updraft-alb`, `updraft-main`,
//! `direct` or
//! `nginx`) and exits, for `valgrind --tool=callgrind --separate-threads=yes`:
//! the difference of two runs' instruction counts over Updraft's threads, divided by the
//! difference of their `N`, is the proxy's instructions per request, a figure that (unlike
//! the timings) the other work on a shared machine does not move.

mod common;

use common::classic::{self, BACKEND_THREADS, UPDRAFT_PREFIX, UPDRAFT_THREADS, start_backend};
use common::{nginx, threads as cpu};

use common::percentile;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::json;
use updraft::Config;
use updraft::server::lanes;

use cpu::threads_cpu;
use nginx::Nginx;

/// nginx's server block: a reverse proxy that adds `X-Forwarded-For`, as the load balancer does.
const NGINX_SERVER: &str = "server {\n\
      listen 127.0.0.1:{port};\n\
      location / {\n\
        proxy_pass http://backend;\n\
        proxy_http_version 1.1;\n\
        proxy_set_header Connection \"\";\n\
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
      }\n\
    }";

/// Updraft with one InService instance behind Classic load balancer `bench` and one healthy
/// target behind application load balancer `bench`; returns (addr, Classic DNS name, ALB DNS
/// name).
fn start_updraft(backend: SocketAddr) -> (SocketAddr, String, String) {
    // The connection threads: as many as the binary has (`PROXY_UPDRAFT_LANES` to vary).
    let lanes = std::env::var("PROXY_UPDRAFT_LANES")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(lanes::default_count);
    let config = Config {
        connection_threads: lanes,
        ..Config::default()
    };
    start_updraft_named(UPDRAFT_THREADS, backend, config)
}

/// The runtime name of the reference Updraft that serves its connections on its main runtime
/// (`--connection-threads 0`, as every connection was served before the lanes).
const UPDRAFT_MAIN_THREADS: &str = "bench-updmain";

/// [`start_updraft`] with `config`, on a runtime named `name`.
fn start_updraft_named(
    name: &'static str,
    backend: SocketAddr,
    config: Config,
) -> (SocketAddr, String, String) {
    // Two worker threads, as the binary has on this machine (`PROXY_UPDRAFT_WORKERS` to vary;
    // 0 is one current-thread runtime).
    let workers = std::env::var("PROXY_UPDRAFT_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(2);
    let (addr, state) = classic::start_updraft_named(name, backend, workers, config);
    let listener = json!({ "Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80 });
    let classic = classic::classic_in_service(&state, listener, || true);
    (addr, classic, classic::alb_in_service(&state))
}

struct Run {
    requests: usize,
    errors: usize,
    latencies_us: Vec<u32>,
    elapsed: Duration,
    /// CPU seconds spent during the run by the proxy (0 for direct), the backend, the client.
    cpu_proxy: f64,
    cpu_backend: f64,
    cpu_client: f64,
}

impl Run {
    /// Pool another measurement of the same party into this one.
    fn absorb(&mut self, other: Run) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.elapsed += other.elapsed;
        self.cpu_proxy += other.cpu_proxy;
        self.cpu_backend += other.cpu_backend;
        self.cpu_client += other.cpu_client;
    }
}

/// A way to reach the backend: directly, through Updraft, or through nginx.
struct Target {
    label: &'static str,
    addr: SocketAddr,
    host: String,
    /// CPU seconds used so far by this target's proxy (None for direct).
    proxy_cpu: Option<Box<dyn Fn() -> f64>>,
}

async fn connect(addr: SocketAddr) -> Option<SendRequest<Empty<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    Some(sender)
}

/// One keep-alive connection sending requests one after the other until `until`; a failed
/// exchange counts as an error and opens a new connection (at most 100 times).
async fn worker(addr: SocketAddr, host: String, until: Instant) -> (Vec<u32>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut sender = None;
    while Instant::now() < until && errors <= 100 {
        let s = match sender.as_mut() {
            Some(s) => s,
            None => match connect(addr).await {
                Some(s) => sender.insert(s),
                None => {
                    errors += 1;
                    continue;
                }
            },
        };
        let started = Instant::now();
        if send(s, &host).await {
            latencies.push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            errors += 1;
            sender = None;
        }
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

fn measure(rt: &tokio::runtime::Runtime, target: &Target, conns: usize, d: Duration) -> Run {
    let proxy_cpu = || target.proxy_cpu.as_ref().map_or(0.0, |f| f());
    let cpu = || {
        (
            proxy_cpu(),
            threads_cpu("self", BACKEND_THREADS),
            threads_cpu("self", ""),
            threads_cpu("self", UPDRAFT_PREFIX) + threads_cpu("self", lanes::THREAD_NAME),
        )
    };
    let before = cpu();
    let mut run = rt.block_on(async {
        let start = Instant::now();
        let until = start + d;
        let tasks: Vec<_> = (0..conns)
            .map(|_| tokio::spawn(worker(target.addr, target.host.clone(), until)))
            .collect();
        let mut run = Run {
            requests: 0,
            errors: 0,
            latencies_us: Vec::new(),
            elapsed: Duration::ZERO,
            cpu_proxy: 0.0,
            cpu_backend: 0.0,
            cpu_client: 0.0,
        };
        for t in tasks {
            let (l, e) = t.await.unwrap_or_default();
            run.requests += l.len();
            run.errors += e;
            run.latencies_us.extend(l);
        }
        run.elapsed = start.elapsed();
        run
    });
    let after = cpu();
    run.cpu_proxy = after.0 - before.0;
    run.cpu_backend = after.1 - before.1;
    // Everything else in this process but the backend and Updraft is the load generator.
    run.cpu_client = (after.2 - before.2) - run.cpu_backend - (after.3 - before.3);
    run
}

/// CPU microseconds per request.
fn per_request(cpu: f64, run: &Run) -> f64 {
    cpu * 1e6 / run.requests.max(1) as f64
}

fn table(
    rt: &tokio::runtime::Runtime,
    title: &str,
    targets: &[Target],
    conns: &[usize],
    d: Duration,
    rounds: usize,
) {
    println!("\n{title}");
    println!(
        "{:>5} {:<8} {:>8} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "conns",
        "via",
        "req/s",
        "p50µs",
        "p99µs",
        "share",
        "added p99",
        "proxy CPU",
        "back CPU",
        "clnt CPU",
        "errors"
    );
    for &c in conns {
        let mut runs: Vec<Option<Run>> = targets.iter().map(|_| None).collect();
        for _ in 0..rounds {
            for (target, pooled) in targets.iter().zip(&mut runs) {
                let run = measure(rt, target, c, d);
                match pooled {
                    Some(p) => p.absorb(run),
                    None => *pooled = Some(run),
                }
            }
        }
        let mut direct: Option<(f64, u32)> = None;
        // (CPU µs per request, p99 added µs) of each proxy, for the comparison line.
        let mut proxies: Vec<(&str, f64, i64)> = Vec::new();
        for (target, run) in targets.iter().zip(runs) {
            let Some(mut run) = run else { continue };
            run.latencies_us.sort_unstable();
            let rps = run.requests as f64 / run.elapsed.as_secs_f64();
            let p99 = percentile(&run.latencies_us, 0.99);
            let (share, added) = match direct {
                None => {
                    direct = Some((rps, p99));
                    (String::new(), String::new())
                }
                Some((drps, dp99)) => (
                    format!("{:.0}%", rps / drps.max(1.0) * 100.0),
                    format!("{}µs", i64::from(p99) - i64::from(dp99)),
                ),
            };
            if let (Some((_, dp99)), true) = (direct, target.proxy_cpu.is_some()) {
                proxies.push((
                    target.label,
                    per_request(run.cpu_proxy, &run),
                    i64::from(p99) - i64::from(dp99),
                ));
            }
            let proxy_cpu = if target.proxy_cpu.is_some() {
                format!("{:.1}µs", per_request(run.cpu_proxy, &run))
            } else {
                String::new()
            };
            println!(
                "{:>5} {:<8} {:>8.0} {:>6} {:>6} {:>6} {:>9} {:>9} {:>7.1}µs {:>7.1}µs {:>6}",
                c,
                target.label,
                rps,
                percentile(&run.latencies_us, 0.5),
                p99,
                share,
                added,
                proxy_cpu,
                per_request(run.cpu_backend, &run),
                per_request(run.cpu_client, &run),
                run.errors,
            );
        }
        compare(c, &proxies);
    }
}

/// Issue #21's two figures for one connection count: Updraft's CPU per request (through each
/// kind of load balancer) as a multiple of nginx's (same run), and the p99 latency each adds
/// over direct.
fn compare(conns: usize, proxies: &[(&str, f64, i64)]) {
    let nginx = proxies.iter().find(|p| p.0 == "nginx");
    for &(label, cpu, added) in proxies.iter().filter(|p| p.0 != "nginx") {
        match nginx {
            Some(&(_, ncpu, nadded)) => println!(
                "{conns:>5} {label}/nginx: CPU per request {:.2}x ({cpu:.1}µs vs {ncpu:.1}µs), \
                 p99 added {added}µs vs {nadded}µs",
                cpu / ncpu.max(f64::MIN_POSITIVE)
            ),
            None => println!("{conns:>5} {label}: CPU per request {cpu:.1}µs, p99 added {added}µs"),
        }
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("PROXY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 2.0 } else { 0.3 });
    let rounds: usize = std::env::var("PROXY_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 3 } else { 1 })
        .max(1);
    let conns: Vec<usize> = std::env::var("PROXY_CONNECTIONS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| if full { vec![8, 16, 32, 64] } else { vec![8] });
    let want_nginx = std::env::var("PROXY_NGINX").map_or(true, |v| v != "0");
    if !full {
        println!(
            "proxy: smoke run (no --bench argument); `cargo bench --bench proxy` for the figures"
        );
    }
    // The load generator gets one thread: it must not be the bottleneck of either side alike.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let d = Duration::from_secs_f64(seconds);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "{cpus} CPUs; CPU columns: CPU time per request of the proxy, the backend, the client"
    );
    let delays: &[(Duration, &str)] = if full {
        &[
            (Duration::ZERO, "backend answers at once"),
            (Duration::from_millis(1), "backend answers after 1 ms"),
        ]
    } else {
        &[(Duration::ZERO, "backend answers at once")]
    };
    if let Some(n) = std::env::var("PROXY_PROFILE")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        profile(&rt, n, conns.first().copied().unwrap_or(8), want_nginx);
        return;
    }
    for &(delay, title) in delays {
        let backend = start_backend(delay);
        let (updraft, classic, alb) = start_updraft(backend);
        let no_lanes = Config {
            connection_threads: 0,
            ..Config::default()
        };
        let (main_only, main_classic, _) =
            start_updraft_named(UPDRAFT_MAIN_THREADS, backend, no_lanes);
        let mut targets = vec![
            Target {
                label: "direct",
                addr: backend,
                host: backend.to_string(),
                proxy_cpu: None,
            },
            Target {
                label: "updraft",
                addr: updraft,
                host: classic,
                proxy_cpu: Some(Box::new(|| classic::updraft_cpu(UPDRAFT_THREADS))),
            },
            Target {
                label: "upd-alb",
                addr: updraft,
                host: alb,
                proxy_cpu: Some(Box::new(|| classic::updraft_cpu(UPDRAFT_THREADS))),
            },
            Target {
                label: "upd-main",
                addr: main_only,
                host: main_classic,
                proxy_cpu: Some(Box::new(|| threads_cpu("self", UPDRAFT_MAIN_THREADS))),
            },
        ];
        let nginx = want_nginx
            .then(|| Nginx::start("proxy", backend, NGINX_SERVER, &[]))
            .flatten();
        if let Some(n) = &nginx {
            let pid = n.pid();
            targets.push(Target {
                label: "nginx",
                addr: n.addr,
                host: n.addr.to_string(),
                proxy_cpu: Some(Box::new(move || cpu::process_tree_cpu(pid))),
            });
        } else if want_nginx && full {
            println!("(no nginx on the PATH: the reference row is left out)");
        }
        // Warm every path (connection pools, caches).
        for t in &targets {
            measure(&rt, t, 4, Duration::from_millis(200));
        }
        table(&rt, title, &targets, &conns, d, rounds);
    }
}

/// `PROXY_PROFILE=N`: exactly `N` requests (over the first `PROXY_CONNECTIONS` count of
/// connections) through `PROXY_PROFILE_VIA` (`updraft`, the default, `updraft-alb`, `direct`
/// or `nginx`),
/// after a warm-up, then exit: a fixed amount of work to run under
/// `valgrind --tool=callgrind --separate-threads=yes`, whose instruction counts (unlike
/// wall-clock figures) do not depend on what else the machine runs. Two runs with different
/// `N` give the instructions per request (the difference over the difference).
fn profile(rt: &tokio::runtime::Runtime, n: usize, conns: usize, want_nginx: bool) {
    let via = std::env::var("PROXY_PROFILE_VIA").unwrap_or_else(|_| "updraft".into());
    let backend = start_backend(Duration::ZERO);
    let nginx;
    let (addr, host) = match via.as_str() {
        "direct" => (backend, backend.to_string()),
        "nginx" if want_nginx => {
            nginx = Nginx::start("proxy", backend, NGINX_SERVER, &[]).expect("nginx");
            (nginx.addr, nginx.addr.to_string())
        }
        "updraft-alb" => {
            let (addr, _, alb) = start_updraft(backend);
            (addr, alb)
        }
        "updraft-main" => {
            let no_lanes = Config {
                connection_threads: 0,
                ..Config::default()
            };
            let (addr, classic, _) = start_updraft_named(UPDRAFT_MAIN_THREADS, backend, no_lanes);
            (addr, classic)
        }
        _ => {
            let (addr, classic, _) = start_updraft(backend);
            (addr, classic)
        }
    };
    let conns = conns.clamp(1, n.max(1));
    let run = |total: usize| {
        rt.block_on(async {
            let tasks: Vec<_> = (0..conns)
                .map(|i| {
                    let host = host.clone();
                    let count = total / conns + usize::from(i < total % conns);
                    tokio::spawn(async move {
                        let mut sender = connect(addr).await.expect("connect");
                        let mut ok = 0;
                        for _ in 0..count {
                            ok += usize::from(send(&mut sender, &host).await);
                        }
                        ok
                    })
                })
                .collect();
            let mut ok = 0;
            for t in tasks {
                ok += t.await.unwrap_or_default();
            }
            ok
        })
    };
    let warm = run(200);
    let started = Instant::now();
    let ok = run(n);
    println!(
        "profile: {ok} of {n} requests via {via} over {conns} connections in {:?} (warm-up {warm})",
        started.elapsed()
    );
}
