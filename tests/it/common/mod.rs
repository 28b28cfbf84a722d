//! Shared test helpers: an Updraft server on 127.0.0.1:0 in its own runtime, a tiny raw HTTP
//! client, and runners for the real `aws` CLI and boto3.

#![allow(dead_code)] // each test module uses a different subset of these helpers

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use updraft::Config;
use updraft::state::AppState;

/// A running server; stopped (gracefully) on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    pub state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        Self::with_state(config, AppState::new)
    }

    /// A server whose state `make` builds from `config` (with `listen` filled in), e.g.
    /// [`AppState::deterministic`] for the golden-bytes test.
    pub fn with_state(config: Config, make: impl FnOnce(Config) -> Arc<AppState>) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let state = make(Config {
            listen: addr,
            ..config
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
                let shutdown = async {
                    // A dropped sender means the test ended: stop too.
                    let _ = stopped.await;
                };
                updraft::run_with_state(listener, thread_state, shutdown)
                    .await
                    .expect("server");
            });
        });
        Self {
            addr,
            url: format!("http://{addr}"),
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// One raw HTTP/1.1 request (Connection: close).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http(self.addr, method, path, headers, body)
    }

    /// A form POST as botocore sends it.
    pub fn form(&self, body: &str) -> HttpResponse {
        self.http(
            "POST",
            "/",
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            body.as_bytes(),
        )
    }

    /// Run the pinned `aws` CLI against this server.
    pub fn aws(&self, args: &[&str]) -> CliResult {
        self.aws_with_env(args, &[])
    }

    pub fn aws_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> CliResult {
        self.aws_program("aws", args, env)
    }

    /// Run another `aws` executable, e.g. the old awscli in its own virtualenv.
    pub fn aws_program(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> CliResult {
        let mut cmd = Command::new(program);
        cmd.args(["--endpoint-url", &self.url, "--output", "json"])
            .args(args);
        client_env(&mut cmd, env);
        CliResult::from(
            cmd.output()
                .expect("the aws CLI runs (installed by .ci/run)"),
        )
    }

    /// Run a boto3 script; `ENDPOINT` is set to this server. Returns stdout parsed as JSON.
    pub fn boto3(&self, script: &str) -> serde_json::Value {
        self.boto3_with_env(script, &[])
    }

    pub fn boto3_with_env(&self, script: &str, env: &[(&str, &str)]) -> serde_json::Value {
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(script).env("ENDPOINT", &self.url);
        client_env(&mut cmd, env);
        let out = cmd.output().expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "boto3 script failed:\n{}\n{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("script printed no JSON ({e}):\n{stdout}"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(()); // the server may have stopped already
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join(); // a panic there already failed the test that caused it
        }
    }
}

fn client_env(cmd: &mut Command, env: &[(&str, &str)]) {
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_RETRY_MODE", "standard")
        .env("AWS_PAGER", "")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_DATA_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
}

/// What the CLI printed.
#[derive(Debug)]
pub struct CliResult {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for CliResult {
    fn from(o: Output) -> Self {
        Self {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl CliResult {
    /// The JSON the CLI printed; panics with the CLI's stderr when it failed.
    pub fn json(&self) -> serde_json::Value {
        assert!(self.ok, "aws failed: {}", self.stderr);
        if self.stdout.trim().is_empty() {
            return serde_json::Value::Null;
        }
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// The error code the CLI reported (`An error occurred (Code) when calling ...`).
    pub fn error_code(&self) -> String {
        assert!(!self.ok, "expected a failure, got: {}", self.stdout);
        let start = self
            .stderr
            .find("An error occurred (")
            .unwrap_or_else(|| panic!("no AWS error in: {}", self.stderr));
        let rest = &self.stderr[start + "An error occurred (".len()..];
        rest[..rest.find(')').unwrap_or(0)].to_owned()
    }
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    out
}

/// A Python prelude for boto3 scripts: imports, `client(name, **kw)`, and `err(fn)` which
/// returns the modelled error code and whether boto3 raised its modelled exception class.
pub const BOTO3_PRELUDE: &str = r#"
import json, os, sys
import boto3, botocore
from botocore.config import Config
def client(name, **kw):
    cfg = kw.pop("config", Config(retries={"max_attempts": 1}))
    return boto3.client(name, endpoint_url=os.environ["ENDPOINT"], region_name=kw.pop("region", "us-east-1"),
        aws_access_key_id=kw.pop("key", "test"), aws_secret_access_key=kw.pop("secret", "test"), config=cfg, **kw)
def err(c, fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        classes = [(n, getattr(c.exceptions, n)) for n in dir(c.exceptions) if not n.startswith("_")]
        modelled = [n for n, k in classes if isinstance(k, type) and n != "ClientError" and isinstance(e, k)]
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"].get("Message"),
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"], "modelled": modelled}
    return {"code": None}
"#;

/// A port for a test to bind explicitly (a load balancer's listener port, a server started
/// on a chosen port). Taken below the kernel's ephemeral range, so that no `bind(…:0)` or
/// outgoing connection elsewhere in the suite can be handed the same port between the
/// check here and the bind that follows; ports are handed out once per test process.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000; // up to 31,999: below Linux's default ephemeral start, 32,768
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Processes that run at the same time start apart.
    let start = std::process::id().wrapping_mul(2_654_435_761) % COUNT;
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (FIRST + (start + n) % COUNT) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between {FIRST} and {}", FIRST + COUNT - 1);
}
