//! State that survives a restart (`--state-dir`): the real binary is started, a world is
//! built through the pinned aws CLI, the server is stopped (SIGTERM) and started again on
//! the same directory, and every Describe/List/Get answers as before; the clock resumes and
//! the scaling loop still works. Files that cannot be read are refused and left untouched;
//! a SIGKILL a second after a write loses nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{BOTO3_PRELUDE, HttpResponse, http};
pub use crate::persist_world::{READ_EVERYTHING, assert_world_is_whole, build_world};

/// A server process.
pub struct Node {
    pub addr: SocketAddr,
    pub url: String,
    child: Option<Child>,
}

/// A fresh temporary directory under target/ (left for inspection when a test fails).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "persist-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir); // a leftover of an earlier run, if any
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

use crate::common::free_port;

impl Node {
    /// Start `updraft` with these arguments on a free port; waits until it answers.
    pub fn start(args: &[&str]) -> Node {
        Self::try_start(args).unwrap_or_else(|why| panic!("server did not start: {why}"))
    }

    /// Start, or the server's stderr when it exits instead of serving.
    pub fn try_start(args: &[&str]) -> Result<Node, String> {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("persist-server-{port}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_updraft"))
            .args(["--listen", &addr.to_string()])
            .args(args)
            .env_remove("UPDRAFT_STATE_DIR")
            .env_remove("PERSISTENCE")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                let err = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("exited with {status}: {err}"));
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Node {
            addr,
            url: format!("http://{addr}"),
            child: Some(child),
        })
    }

    pub fn http(&self, method: &str, path: &str, body: &[u8]) -> HttpResponse {
        http(self.addr, method, path, &[], body)
    }

    /// `POST /_updraft/clock`.
    pub fn clock(&self, change: Value) -> Value {
        let r = self.http("POST", "/_updraft/clock", change.to_string().as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    pub fn now(&self) -> f64 {
        self.http("GET", "/_updraft/clock", b"").json()["epoch_seconds"]
            .as_f64()
            .unwrap()
    }

    /// The pinned aws CLI against this server; its JSON output.
    pub fn aws(&self, args: &[&str]) -> Value {
        let out = Command::new("aws")
            .args(["--endpoint-url", &self.url, "--output", "json"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .expect("the aws CLI runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&stdout).unwrap()
    }

    /// A boto3 script (with the prelude; `ENDPOINT` set); its JSON output.
    pub fn boto3(&self, script: &str) -> Value {
        let out = Command::new("python3")
            .arg("-c")
            .arg(format!("{BOTO3_PRELUDE}\n{script}"))
            .env("ENDPOINT", &self.url)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "boto3: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim()).unwrap()
    }

    /// SIGTERM, and wait for a clean exit.
    pub fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to write anything.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // a failed test: do not leave the server behind
            let _ = child.wait();
        }
    }
}

fn in_service(n: &Node) -> usize {
    let g = n.aws(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        "web",
    ]);
    g["AutoScalingGroups"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["LifecycleState"] == "InService")
        .count()
}

#[test]
fn a_restart_on_the_same_dir_answers_the_same_and_the_loop_goes_on() {
    let dir = temp_dir("round-trip");
    let dir_arg = dir.to_str().unwrap();
    let args = [
        "--state-dir",
        dir_arg,
        "--time-scale",
        "0",
        "--resume-clock",
        "frozen",
    ];
    let a = Node::start(&args);
    let first = build_world(&a);
    let before = a.boto3(READ_EVERYTHING);
    assert_world_is_whole(&before);
    let clock_before = a.now();
    a.stop();
    let b = Node::start(&args);
    assert_eq!(
        b.now(),
        clock_before,
        "the frozen clock resumes where it stopped"
    );
    let after = b.boto3(READ_EVERYTHING);
    for (key, value) in before.as_object().unwrap() {
        assert_eq!(&after[key], value, "{key} differs after the restart");
    }
    assert_eq!(before, after);
    // The loop goes on: stress the instance, let a few virtual minutes pass: scale-out.
    let r = b.http(
        "POST",
        &format!("/_updraft/instances/{first}/stress"),
        br#"{"cpu_percent": 100}"#,
    );
    assert_eq!(r.status, 200, "the restored instance runs: {}", r.text());
    let deadline = Instant::now() + Duration::from_secs(60);
    while in_service(&b) < 2 {
        assert!(Instant::now() < deadline, "no scale-out after the restart");
        b.clock(json!({"advance_seconds": 30}));
        std::thread::sleep(Duration::from_millis(300));
    }
    b.stop();
}
