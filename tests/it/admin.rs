//! The admin API, the LocalStack/moto compatibility paths, and the binary itself.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use updraft::Config;

use crate::common::{TestServer, http};

#[test]
fn health_reports_version_and_services() {
    let server = TestServer::start();
    let h = server.http("GET", "/_updraft/health", &[], b"");
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-type"), Some("application/json"));
    let h = h.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    for s in ["ec2", "autoscaling", "elb", "elbv2", "cloudwatch", "sns"] {
        assert!(
            h["services"][s]["modelled_operations"].as_u64().unwrap() > 0,
            "{s}: {h}"
        );
    }
    let ls = server.http("GET", "/_localstack/health", &[], b"").json();
    assert!(ls["services"]["ec2"].is_string(), "{ls}");
    assert_eq!(
        server.http("GET", "/_updraft/nothing", &[], b"").status,
        404
    );
}

#[test]
fn reset_empties_state_on_both_paths() {
    let server = TestServer::start();
    let body = r#"{"widgets":[]}"#;
    for path in ["/_updraft/reset", "/moto-api/reset"] {
        server
            .aws(&[
                "cloudwatch",
                "put-dashboard",
                "--dashboard-name",
                "d",
                "--dashboard-body",
                body,
            ])
            .json();
        assert_eq!(
            server.aws(&["cloudwatch", "list-dashboards"]).json()["DashboardEntries"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(server.http("POST", path, &[], b"").status, 200);
        assert_eq!(
            server.aws(&["cloudwatch", "list-dashboards"]).json()["DashboardEntries"],
            json!([])
        );
    }
}

#[test]
fn the_clock_can_be_read_advanced_and_rescaled() {
    let server = TestServer::with_config(Config {
        time_scale: 0.0,
        ..Config::default()
    });
    let before = server.http("GET", "/_updraft/clock", &[], b"").json();
    assert_eq!(before["scale"], 0.0);
    assert!(before["now"].as_str().unwrap().ends_with('Z'));
    let t0 = before["epoch_seconds"].as_f64().unwrap();

    let after = server
        .http(
            "POST",
            "/_updraft/clock",
            &[],
            br#"{"advance_seconds": 300}"#,
        )
        .json();
    assert!(
        (after["epoch_seconds"].as_f64().unwrap() - (t0 + 300.0)).abs() < 1e-6,
        "{after}"
    );

    let scaled = server
        .http("POST", "/_updraft/clock", &[], br#"{"scale": 60}"#)
        .json();
    assert_eq!(scaled["scale"], 60.0);
    std::thread::sleep(Duration::from_millis(200));
    let later = server.http("GET", "/_updraft/clock", &[], b"").json()["epoch_seconds"]
        .as_f64()
        .unwrap();
    assert!(
        later >= t0 + 300.0 + 10.0,
        "200 ms at 60x is 12 virtual seconds: {later} vs {t0}"
    );

    for bad in [
        &b"{\"advance_seconds\": -5}"[..],
        b"{\"scale\": -1}",
        b"nonsense",
        b"{\"speed\": 2}",
    ] {
        assert_eq!(server.http("POST", "/_updraft/clock", &[], bad).status, 400);
    }
}

#[test]
fn help_documents_every_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--listen",
        "UPDRAFT_LISTEN",
        "--time-scale",
        "UPDRAFT_TIME_SCALE",
        "--instances",
        "UPDRAFT_INSTANCES",
        "--verify-signatures",
        "UPDRAFT_VERIFY_SIGNATURES",
        "--default-account",
        "UPDRAFT_DEFAULT_ACCOUNT",
        "--default-region",
        "UPDRAFT_DEFAULT_REGION",
        "RUST_LOG",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn the_binary_serves_and_stops_on_sigterm() {
    let port = crate::common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .env("UPDRAFT_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(http(addr, "GET", "/_updraft/health", &[], b"").status, 200);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
