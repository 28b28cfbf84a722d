//! HTTPS listeners: TLS handshakes per second and request time through a Classic HTTPS listener
//! (plain `main`, `harness = false`).
//!
//! One socket backend (a hyper server on 127.0.0.1:0 answering `hello`) sits behind a Classic
//! load balancer of an in-process Updraft server (two worker threads, like the binary) with an
//! HTTPS listener on a listener port, whose certificate was imported into ACM (ECDSA P-256, or
//! RSA-2048 with `TLS_KEY=rsa`). When `nginx` is on the PATH it terminates TLS in front of the
//! same backend with the same certificate and key, TLS 1.2 only like the listener's default
//! policy (two workers, keep-alive upstream): the reference.
//!
//! Two measurements per party, by one load-generator thread using rustls as the client:
//! - **handshakes/s**: `HANDSHAKE_TASKS` concurrent loops of connect + full TLS handshake
//!   (client session resumption off) + close;
//! - **requests**: `TLS_CONNECTIONS` keep-alive HTTPS connections (opened before the clock
//!   starts), one request after the other: requests/s and p50/p99 latency.
//!
//! For both, the CPU time the proxy spent (Updraft's runtime threads, nginx's master and
//! workers, from `/proc`) per handshake and per request, and Updraft's figures as multiples of
//! nginx's. Each party's figures pool `TLS_ROUNDS` measurements taken in turn with the other's,
//! so that a slow spell of the shared machine falls on both alike.
//!
//! Settings: `TLS_SECONDS` per measurement (2; 0.3 without `--bench`), `TLS_ROUNDS` (3; 1
//! without `--bench`), `TLS_NGINX=0` leaves nginx out. Loopback only; bounded loops.

mod common;

use common::classic::{self, UPDRAFT_THREADS, call, start_backend};
use common::{nginx, threads as cpu};

use common::percentile;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::json;
use updraft::Config;

use nginx::Nginx;

const HANDSHAKE_TASKS: usize = 8;
const TLS_CONNECTIONS: usize = 16;
const NAME: &str = "bench.tls.test";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A self-signed certificate for [`NAME`] and its key (PEM).
fn certificate(rsa_key: bool) -> (String, String) {
    let key = if rsa_key {
        use rsa::pkcs8::EncodePrivateKey;
        let k = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("rsa");
        rcgen::KeyPair::try_from(k.to_pkcs8_der().expect("pkcs8").as_bytes()).expect("key")
    } else {
        rcgen::KeyPair::generate().expect("key")
    };
    let mut params = rcgen::CertificateParams::new(vec![NAME.to_owned()]).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, NAME);
    let cert = params.self_signed(&key).expect("cert");
    (cert.pem(), key.serialize_pem())
}

/// Updraft with one InService instance behind a Classic load balancer whose HTTPS listener
/// (on the returned port) presents the certificate.
fn start_updraft(backend: SocketAddr, cert: &str, key: &str) -> u16 {
    let config = Config {
        lb_listener_ports: true,
        ..Config::default()
    };
    let (_, state) = classic::start_updraft(backend, 2, config);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let arn = call(
        &state,
        "acm",
        "ImportCertificate",
        json!({ "Certificate": b64(cert), "PrivateKey": b64(key) }),
    )["CertificateArn"]
        .clone();
    let port = free_port();
    let listener = json!({ "Protocol": "HTTPS", "LoadBalancerPort": port,
                           "InstanceProtocol": "HTTP", "InstancePort": 80,
                           "SSLCertificateId": arn });
    classic::classic_in_service(&state, listener, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    port
}

/// nginx's server block: TLS 1.2 (the listener's default policy) with the same certificate
/// and key, no session resumption, in front of the same backend.
const NGINX_SERVER: &str = "server {\n\
      listen 127.0.0.1:{port} ssl;\n\
      ssl_certificate {dir}/cert.pem; ssl_certificate_key {dir}/key.pem;\n\
      ssl_protocols TLSv1.2; ssl_session_cache off; ssl_session_tickets off;\n\
      location / {\n\
        proxy_pass http://backend;\n\
        proxy_http_version 1.1;\n\
        proxy_set_header Connection \"\";\n\
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
        proxy_set_header X-Forwarded-Proto https;\n\
      }\n\
    }";

/// A client trusting only `cert`, without session resumption (every handshake is full).
fn client(cert: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes()) {
        roots.add(c.expect("pem")).expect("root");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

async fn handshake(tls: &tokio_rustls::TlsConnector, port: u16) -> Option<Tls> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let _ = tcp.set_nodelay(true);
    let name = rustls::pki_types::ServerName::try_from(NAME).ok()?;
    tls.connect(name, tcp).await.ok()
}

/// Full handshakes for `d`: (handshakes, failures, elapsed).
fn handshakes(
    rt: &tokio::runtime::Runtime,
    tls: &tokio_rustls::TlsConnector,
    port: u16,
    d: Duration,
) -> (usize, usize, Duration) {
    rt.block_on(async {
        let start = Instant::now();
        let until = start + d;
        let tasks: Vec<_> = (0..HANDSHAKE_TASKS)
            .map(|_| {
                let tls = tls.clone();
                tokio::spawn(async move {
                    let (mut ok, mut failed) = (0usize, 0usize);
                    while Instant::now() < until && failed < 100 {
                        match handshake(&tls, port).await {
                            Some(_) => ok += 1,
                            None => failed += 1,
                        }
                    }
                    (ok, failed)
                })
            })
            .collect();
        let (mut ok, mut failed) = (0, 0);
        for t in tasks {
            let (o, f) = t.await.unwrap_or_default();
            ok += o;
            failed += f;
        }
        (ok, failed, start.elapsed())
    })
}

/// One keep-alive HTTPS connection, ready for requests.
async fn open(tls: &tokio_rustls::TlsConnector, port: u16) -> Option<SendRequest> {
    let stream = handshake(tls, port).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    Some(sender)
}

type SendRequest = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Keep-alive HTTPS requests for `d` over `TLS_CONNECTIONS` connections set up first:
/// (latencies in µs, errors, elapsed, the proxy's CPU seconds meanwhile by `cpu`). The
/// connections' handshakes are outside the time and the CPU.
fn requests(
    rt: &tokio::runtime::Runtime,
    tls: &tokio_rustls::TlsConnector,
    port: u16,
    d: Duration,
    cpu: &dyn Fn() -> f64,
) -> (Vec<u32>, usize, Duration, f64) {
    let senders: Vec<SendRequest> = rt.block_on(async {
        let mut senders = Vec::new();
        for _ in 0..TLS_CONNECTIONS {
            senders.extend(open(tls, port).await);
        }
        senders
    });
    let missing = TLS_CONNECTIONS - senders.len();
    let cpu_before = cpu();
    let (mut all, errors, elapsed) = rt.block_on(async {
        let start = Instant::now();
        let until = start + d;
        let tasks: Vec<_> = senders
            .into_iter()
            .map(|mut sender| {
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut errors = 0usize;
                    while Instant::now() < until && errors < 100 {
                        let req = http::Request::get("/")
                            .header(http::header::HOST, NAME)
                            .body(Empty::new())
                            .expect("request");
                        let t0 = Instant::now();
                        let ok = async {
                            sender.ready().await.ok()?;
                            let resp = sender.send_request(req).await.ok()?;
                            let ok = resp.status().is_success();
                            resp.into_body().collect().await.ok()?;
                            Some(ok)
                        }
                        .await;
                        if ok == Some(true) {
                            lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                        } else {
                            errors += 1;
                            if ok.is_none() {
                                break;
                            }
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        let (mut all, mut errors) = (Vec::new(), missing);
        for t in tasks {
            let (l, e) = t.await.unwrap_or_default();
            all.extend(l);
            errors += e;
        }
        (all, errors, start.elapsed())
    });
    let used = cpu() - cpu_before;
    all.sort_unstable();
    (all, errors, elapsed, used)
}

/// One party's pooled measurements.
#[derive(Default)]
struct Totals {
    handshakes: usize,
    handshake_fails: usize,
    handshake_time: Duration,
    handshake_cpu: f64,
    latencies: Vec<u32>,
    errors: usize,
    request_time: Duration,
    request_cpu: f64,
}

impl Totals {
    fn handshakes_per_s(&self) -> f64 {
        self.handshakes as f64 / self.handshake_time.as_secs_f64().max(1e-9)
    }

    /// CPU µs per handshake.
    fn cpu_per_handshake(&self) -> f64 {
        self.handshake_cpu * 1e6 / self.handshakes.max(1) as f64
    }

    fn requests_per_s(&self) -> f64 {
        self.latencies.len() as f64 / self.request_time.as_secs_f64().max(1e-9)
    }

    /// CPU µs per request.
    fn cpu_per_request(&self) -> f64 {
        self.request_cpu * 1e6 / self.latencies.len().max(1) as f64
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("TLS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 2.0 } else { 0.3 });
    let rounds: usize = std::env::var("TLS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 3 } else { 1 })
        .max(1);
    let d = Duration::from_secs_f64(seconds);
    let rsa_key = std::env::var("TLS_KEY").is_ok_and(|k| k == "rsa");
    if !full {
        println!("tls: smoke run (no --bench argument); `cargo bench --bench tls` for the figures");
    }
    let (cert, key) = certificate(rsa_key);
    let backend = start_backend(Duration::ZERO);
    type Cpu = Box<dyn Fn() -> f64>;
    let mut parties: Vec<(&str, u16, Cpu)> = vec![(
        "updraft",
        start_updraft(backend, &cert, &key),
        Box::new(|| classic::updraft_cpu(UPDRAFT_THREADS)),
    )];
    let nginx = std::env::var("TLS_NGINX")
        .map_or(true, |v| v != "0")
        .then(|| {
            let files = [("cert.pem", cert.as_str()), ("key.pem", key.as_str())];
            Nginx::start("tls", backend, NGINX_SERVER, &files)
        })
        .flatten();
    match &nginx {
        Some(n) => {
            let pid = n.pid();
            parties.push((
                "nginx",
                n.addr.port(),
                Box::new(move || cpu::process_tree_cpu(pid)),
            ));
        }
        None if full => println!("(no nginx on the PATH: the reference rows are left out)"),
        None => {}
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let tls = client(&cert);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "{cpus} CPUs; key {}; TLS 1.2 (the listener's default policy); client: rustls, one \
         thread; {rounds} rounds of {seconds} s per party, taken in turn",
        if rsa_key { "RSA-2048" } else { "ECDSA P-256" }
    );
    // Warm up every party (caches, pools).
    for (_, port, cpu) in &parties {
        handshakes(&rt, &tls, *port, Duration::from_millis(200));
        requests(&rt, &tls, *port, Duration::from_millis(200), cpu);
    }
    let mut totals: Vec<Totals> = parties.iter().map(|_| Totals::default()).collect();
    for _ in 0..rounds {
        for ((_, port, cpu), t) in parties.iter().zip(&mut totals) {
            let before = cpu();
            let (ok, failed, elapsed) = handshakes(&rt, &tls, *port, d);
            t.handshake_cpu += cpu() - before;
            t.handshakes += ok;
            t.handshake_fails += failed;
            t.handshake_time += elapsed;
            let (lat, errors, elapsed, used) = requests(&rt, &tls, *port, d, cpu);
            t.latencies.extend(lat);
            t.errors += errors;
            t.request_time += elapsed;
            t.request_cpu += used;
        }
    }
    println!(
        "{:<8} {:>13} {:>9} {:>6} | {:>5} {:>8} {:>6} {:>6} {:>9} {:>6}",
        "via",
        "handshakes/s",
        "CPU/hs",
        "fails",
        "conns",
        "req/s",
        "p50µs",
        "p99µs",
        "CPU/req",
        "errors"
    );
    for ((label, _, _), t) in parties.iter().zip(&mut totals) {
        t.latencies.sort_unstable();
        println!(
            "{:<8} {:>13.0} {:>7.0}µs {:>6} | {:>5} {:>8.0} {:>6} {:>6} {:>7.1}µs {:>6}",
            label,
            t.handshakes_per_s(),
            t.cpu_per_handshake(),
            t.handshake_fails,
            TLS_CONNECTIONS,
            t.requests_per_s(),
            percentile(&t.latencies, 0.5),
            percentile(&t.latencies, 0.99),
            t.cpu_per_request(),
            t.errors
        );
    }
    if let [u, n] = &totals[..] {
        println!(
            "updraft/nginx: handshakes/s {:.2}x, CPU per handshake {:.2}x, requests/s {:.2}x, \
             CPU per request {:.2}x",
            u.handshakes_per_s() / n.handshakes_per_s().max(1e-9),
            u.cpu_per_handshake() / n.cpu_per_handshake().max(1e-9),
            u.requests_per_s() / n.requests_per_s().max(1e-9),
            u.cpu_per_request() / n.cpu_per_request().max(1e-9),
        );
    }
}
