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
//! - **requests**: `TLS_CONNECTIONS` keep-alive HTTPS connections, one request after the other:
//!   requests/s and p50/p99 latency.
//!
//! Settings: `TLS_SECONDS` per measurement (2; 0.3 without `--bench`), `TLS_NGINX=0` leaves nginx
//! out. Loopback only; bounded loops.

mod common;

use common::percentile;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use updraft::Config;
use updraft::backend::socket::SocketInstances;
use updraft::context::RequestContext;
use updraft::protocol::Protocol;
use updraft::state::{AppState, Scope};

const HANDSHAKE_TASKS: usize = 8;
const TLS_CONNECTIONS: usize = 16;
const NAME: &str = "bench.tls.test";

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::with_backend(
        Config {
            listen: addr,
            time_scale: 0.0,
            lb_listener_ports: true,
            ..Config::default()
        },
        Arc::new(SocketInstances::new(1.0, backend)),
    );
    let s = state.clone();
    spawn_runtime(2, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let _ = updraft::run_with_state(listener, s, std::future::pending()).await;
    });
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let arn = call(
        &state,
        "acm",
        "ImportCertificate",
        json!({ "Certificate": b64(cert), "PrivateKey": b64(key) }),
    )["CertificateArn"]
        .clone();
    let images = call(
        &state,
        "ec2",
        "DescribeImages",
        json!({ "Owners": ["amazon"] }),
    );
    let run = call(
        &state,
        "ec2",
        "RunInstances",
        json!({ "ImageId": images["Images"][0]["ImageId"], "MinCount": 1, "MaxCount": 1,
                "Placement": { "AvailabilityZone": "us-east-1a" } }),
    );
    let id = run["Instances"][0]["InstanceId"].clone();
    let port = free_port();
    call(
        &state,
        "elb",
        "CreateLoadBalancer",
        json!({ "LoadBalancerName": "bench", "AvailabilityZones": ["us-east-1a"],
                "Listeners": [{ "Protocol": "HTTPS", "LoadBalancerPort": port,
                                "InstanceProtocol": "HTTP", "InstancePort": 80,
                                "SSLCertificateId": arn }] }),
    );
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
    let id = id.as_str().expect("id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    while updraft::services::elb::instance_in_service(&state, &scope, "bench", &id) != Some(true)
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    {
        assert!(Instant::now() < deadline, "listener never served");
        state.clock.advance(5.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    port
}

/// nginx terminating TLS (1.2) with the same certificate in front of the backend.
struct Nginx {
    child: std::process::Child,
    dir: std::path::PathBuf,
    port: u16,
}

impl Nginx {
    fn start(backend: SocketAddr, cert: &str, key: &str) -> Option<Self> {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("updraft-tls-bench-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("logs")).ok()?;
        std::fs::write(dir.join("cert.pem"), cert).ok()?;
        std::fs::write(dir.join("key.pem"), key).ok()?;
        let conf = format!(
            "worker_processes 2;\n\
             error_log stderr error;\n\
             pid {dir}/nginx.pid;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
               access_log off;\n\
               keepalive_requests 100000000; keepalive_timeout 300s;\n\
               client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;\n\
               upstream backend {{ server {backend}; keepalive 128; }}\n\
               server {{\n\
                 listen 127.0.0.1:{port} ssl;\n\
                 ssl_certificate {dir}/cert.pem; ssl_certificate_key {dir}/key.pem;\n\
                 ssl_protocols TLSv1.2; ssl_session_cache off; ssl_session_tickets off;\n\
                 location / {{\n\
                   proxy_pass http://backend;\n\
                   proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n\
                   proxy_set_header X-Forwarded-Proto https;\n\
                 }}\n\
               }}\n\
             }}\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).ok()?;
        let child = std::process::Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                eprintln!("nginx did not start listening; leaving it out");
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self { child, dir, port })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops its workers too.
        let stopped = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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

/// Full handshakes per second (and failures).
fn handshakes(
    rt: &tokio::runtime::Runtime,
    tls: &tokio_rustls::TlsConnector,
    port: u16,
    d: Duration,
) -> (f64, usize) {
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
        (ok as f64 / start.elapsed().as_secs_f64(), failed)
    })
}

/// Keep-alive HTTPS requests: (requests/s, sorted latencies in µs, errors).
fn requests(
    rt: &tokio::runtime::Runtime,
    tls: &tokio_rustls::TlsConnector,
    port: u16,
    d: Duration,
) -> (f64, Vec<u32>, usize) {
    rt.block_on(async {
        let start = Instant::now();
        let until = start + d;
        let tasks: Vec<_> = (0..TLS_CONNECTIONS)
            .map(|_| {
                let tls = tls.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut errors = 0usize;
                    let Some(stream) = handshake(&tls, port).await else {
                        return (lat, 1);
                    };
                    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake::<
                        _,
                        Empty<Bytes>,
                    >(TokioIo::new(stream))
                    .await
                    else {
                        return (lat, 1);
                    };
                    tokio::spawn(conn);
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
        let (mut all, mut errors) = (Vec::new(), 0);
        for t in tasks {
            let (l, e) = t.await.unwrap_or_default();
            all.extend(l);
            errors += e;
        }
        all.sort_unstable();
        (
            all.len() as f64 / start.elapsed().as_secs_f64(),
            all,
            errors,
        )
    })
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("TLS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 2.0 } else { 0.3 });
    let d = Duration::from_secs_f64(seconds);
    let rsa_key = std::env::var("TLS_KEY").is_ok_and(|k| k == "rsa");
    if !full {
        println!("tls: smoke run (no --bench argument); `cargo bench --bench tls` for the figures");
    }
    let (cert, key) = certificate(rsa_key);
    let backend = start_backend();
    let mut parties = vec![("updraft", start_updraft(backend, &cert, &key))];
    let nginx = std::env::var("TLS_NGINX")
        .map_or(true, |v| v != "0")
        .then(|| Nginx::start(backend, &cert, &key))
        .flatten();
    match &nginx {
        Some(n) => parties.push(("nginx", n.port)),
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
        "{cpus} CPUs; key {}; TLS 1.2 (the listener's default policy); client: rustls, one thread",
        if rsa_key { "RSA-2048" } else { "ECDSA P-256" }
    );
    // Warm up both (caches, pools).
    for (_, port) in &parties {
        handshakes(&rt, &tls, *port, Duration::from_millis(200));
        requests(&rt, &tls, *port, Duration::from_millis(200));
    }
    println!(
        "{:<8} {:>13} {:>6} | {:>5} {:>8} {:>6} {:>6} {:>6}",
        "via", "handshakes/s", "fails", "conns", "req/s", "p50µs", "p99µs", "errors"
    );
    for (label, port) in &parties {
        let (hs, hs_failed) = handshakes(&rt, &tls, *port, d);
        let (rps, lat, errors) = requests(&rt, &tls, *port, d);
        println!(
            "{:<8} {:>13.0} {:>6} | {:>5} {:>8.0} {:>6} {:>6} {:>6}",
            label,
            hs,
            hs_failed,
            TLS_CONNECTIONS,
            rps,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            errors
        );
    }
}
