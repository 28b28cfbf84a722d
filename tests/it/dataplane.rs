//! The load-balancer data plane against a real socket backend (a tiny hyper server standing
//! in for a container's published port): X-Forwarded-* headers, streamed chunked bodies both
//! ways, keep-alive, and the optional listener ports on 127.0.0.1.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;
use updraft::Config;
use updraft::backend::socket::SocketInstances;
use updraft::state::AppState;

use crate::elb::wait_until;

/// The backend: `/chunked` streams three chunks; anything else echoes what it received.
async fn echo(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>, Infallible> {
    if req.uri().path() == "/chunked" {
        let chunks =
            ["alpha-", "beta-", "gamma"].map(|s: &'static str| Bytes::from_static(s.as_bytes()));
        return Ok(hyper::Response::new(Chunks(chunks.into()).boxed()));
    }
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    let line = format!(
        "{} {} xff={} proto={} port={} host={} te={} ",
        req.method(),
        req.uri(),
        h("x-forwarded-for"),
        h("x-forwarded-proto"),
        h("x-forwarded-port"),
        h("host"),
        h("transfer-encoding"),
    );
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let text = format!("{line}len={}", body.len());
    Ok(hyper::Response::new(Full::new(Bytes::from(text)).boxed()))
}

/// A body of known chunks and unknown length: hyper sends it chunked.
struct Chunks(std::collections::VecDeque<Bytes>);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

/// A socket backend on 127.0.0.1:0, in a runtime of its own.
pub fn start_echo() -> SocketAddr {
    serve_on_loopback(echo)
}

/// Serve `handler` over HTTP/1.1 on 127.0.0.1:0, in a runtime of its own thread (kept for the
/// test process).
pub fn serve_on_loopback<F, Fut, B, E>(handler: F) -> SocketAddr
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<hyper::Response<B>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            hyper_util::rt::TokioIo::new(stream),
                            hyper::service::service_fn(handler),
                        )
                        .await;
                });
            }
        });
    });
    addr
}

/// An Updraft server whose instances are served by `backend_addr`.
pub struct Server {
    pub addr: SocketAddr,
    pub url: String,
    pub state: Arc<AppState>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn start_server(backend_addr: SocketAddr, config: Config) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let backend = Arc::new(SocketInstances::new(10.0, backend_addr));
    let state = AppState::with_backend(
        Config {
            listen: addr,
            time_scale: 0.0,
            ..config
        },
        backend,
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let s = state.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = updraft::run_with_state(listener, s, async {
                let _ = stopped.await;
            })
            .await;
        });
    });
    Server {
        addr,
        url: format!("http://{addr}"),
        state,
        _stop: stop,
    }
}

impl Server {
    /// The aws CLI against this server (`--output json`), whatever its outcome.
    pub fn aws_output(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("aws")
            .args(["--endpoint-url", &self.url, "--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap()
    }

    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        let out = self.aws_output(args);
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// A running instance behind an InService load balancer `lb` listening on `port`.
    /// Returns the DNS name.
    pub fn lb_in_service(&self, lb: &str, port: u16) -> String {
        let images = self.aws(&["ec2", "describe-images", "--owners", "amazon"]);
        let ami = images["Images"][0]["ImageId"].as_str().unwrap().to_owned();
        let id = self.aws(&[
            "ec2",
            "run-instances",
            "--image-id",
            &ami,
            "--placement",
            "AvailabilityZone=us-east-1a",
        ])["Instances"][0]["InstanceId"]
            .as_str()
            .unwrap()
            .to_owned();
        let dns = self.aws(&[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            lb,
            "--listeners",
            &format!("Protocol=HTTP,LoadBalancerPort={port},InstancePort=80"),
            "--availability-zones",
            "us-east-1a",
        ])["DNSName"]
            .as_str()
            .unwrap()
            .to_owned();
        self.aws(&[
            "elb",
            "configure-health-check",
            "--load-balancer-name",
            lb,
            "--health-check",
            "Target=HTTP:80/health,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2",
        ]);
        self.aws(&[
            "elb",
            "register-instances-with-load-balancer",
            "--load-balancer-name",
            lb,
            "--instances",
            &id,
        ]);
        self.state.clock.advance(15.0);
        std::thread::sleep(Duration::from_millis(200));
        self.state.clock.advance(15.0);
        let scope = crate::elb::scope();
        wait_until("InService", || {
            updraft::services::elb::instance_in_service(&self.state, &scope, lb, &id) == Some(true)
        });
        dns
    }
}

/// Read one response (Content-Length or chunked) from a kept-alive connection.
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, String) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let len: usize = find("content-length").map_or(0, |v| v.parse().unwrap());
        body.resize(len, 0);
        r.read_exact(&mut body).unwrap();
    }
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn proxies_to_a_socket_backend_with_forwarded_headers_streams_and_keep_alive() {
    let echo_addr = start_echo();
    let server = start_server(echo_addr, Config::default());
    let dns = server.lb_in_service("sockets", 80);

    let stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let host = format!("{dns}:{}", server.addr.port());

    // 1. Headers: the client's X-Forwarded-For is extended; proto and port are the listener's.
    write!(
        w,
        "GET /a/b?q=1 HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"
    )
    .unwrap();
    let (status, _, body) = read_response(&mut r);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!("GET /a/b?q=1 xff=10.0.0.1, 127.0.0.1 proto=http port=80 host={host} te=- len=0")
    );

    // 2. Same connection (keep-alive): a chunked upload streams through.
    let payload = "x".repeat(100_000);
    write!(
        w,
        "POST /upload HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{payload}\r\n0\r\n\r\n",
        payload.len()
    )
    .unwrap();
    let (status, _, body) = read_response(&mut r);
    assert_eq!(status, 200);
    assert!(body.ends_with("te=chunked len=100000"), "{body}");

    // 3. Same connection: a chunked download arrives whole, still chunked.
    write!(w, "GET /chunked HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let (status, headers, body) = read_response(&mut r);
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    );
    assert_eq!(body, "alpha-beta-gamma");
}

#[test]
fn listener_ports_serve_load_balancers_on_127_0_0_1() {
    let echo_addr = start_echo();
    let port = crate::common::free_port();
    let server = start_server(
        echo_addr,
        Config {
            lb_listener_ports: true,
            ..Config::default()
        },
    );
    server.lb_in_service("ported", port);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_until("listener port bound", || TcpStream::connect(addr).is_ok());
    // The Host names no load balancer: the port's only one answers, X-Forwarded-Port is it.
    let r = crate::elb::get(addr, "localhost", "/p", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains(&format!("port={port}")), "{}", r.body);
    // Deleted: the port closes.
    server.aws(&[
        "elb",
        "delete-load-balancer",
        "--load-balancer-name",
        "ported",
    ]);
    wait_until("listener port closed", || TcpStream::connect(addr).is_err());
}
