//! `--admin-token`: the admin endpoints that change the world or read other accounts' data
//! need it; health, reading the clock and the SNS capability links stay open; without a token
//! loopback development is as open as before; a shared server with signatures on and no token
//! refuses to start.

use updraft::Config;

use crate::common::TestServer;

const TOKEN: &str = "classroom-7f3a";

fn with_token() -> TestServer {
    TestServer::with_config(Config {
        admin_token: Some(TOKEN.into()),
        ..Config::default()
    })
}

#[test]
fn world_changing_admin_endpoints_need_the_token() {
    let server = with_token();
    let bearer = format!("Bearer {TOKEN}");
    let clock_before = server.http("GET", "/_updraft/clock", &[], b"").json()["epoch_seconds"]
        .as_f64()
        .unwrap();

    let cases: [(&str, &str, &[u8]); 6] = [
        ("POST", "/_updraft/reset", b""),
        ("POST", "/moto-api/reset", b""),
        ("POST", "/_updraft/clock", br#"{"advance_seconds": 86400}"#),
        (
            "POST",
            "/_updraft/instances/i-0123/stress",
            br#"{"cpu_percent": 50}"#,
        ),
        ("GET", "/_updraft/sns/inbox", b""),
        ("DELETE", "/_updraft/sns/inbox", b""),
    ];
    for (method, path, body) in cases {
        let none = server.http(method, path, &[], body);
        assert_eq!(none.status, 401, "{method} {path}: {}", none.text());
        assert!(
            none.json()["error"]
                .as_str()
                .unwrap()
                .contains("X-Updraft-Admin-Token")
        );
        assert_eq!(
            none.header("www-authenticate"),
            Some("Bearer realm=\"updraft-admin\"")
        );
        let wrong = server.http(method, path, &[("Authorization", "Bearer nope")], body);
        assert_eq!(wrong.status, 403, "{method} {path}");
    }
    // Nothing moved.
    let clock_after = server.http("GET", "/_updraft/clock", &[], b"").json()["epoch_seconds"]
        .as_f64()
        .unwrap();
    assert!(clock_after - clock_before < 60.0, "the refused advance ran");

    // Both ways of sending it work.
    let ok = server.http(
        "POST",
        "/_updraft/clock",
        &[("Authorization", &bearer)],
        br#"{"advance_seconds": 3600}"#,
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.json()["epoch_seconds"].as_f64().unwrap() - clock_before >= 3600.0);
    let inbox = server.http(
        "GET",
        "/_updraft/sns/inbox",
        &[("X-Updraft-Admin-Token", TOKEN)],
        b"",
    );
    assert_eq!(inbox.status, 200);
    assert!(inbox.json().is_array());
    let reset = server.http(
        "POST",
        "/_updraft/reset",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(reset.status, 200);
}

#[test]
fn health_clock_reads_and_sns_links_stay_open() {
    let server = with_token();
    assert_eq!(server.http("GET", "/_updraft/health", &[], b"").status, 200);
    assert_eq!(
        server.http("GET", "/_localstack/health", &[], b"").status,
        200
    );
    assert_eq!(server.http("GET", "/_updraft/clock", &[], b"").status, 200);
    // Capability links answer on their own terms (here: no such topic), not with 401.
    let confirm = server.http(
        "GET",
        "/_updraft/sns/confirm?TopicArn=arn:aws:sns:us-east-1:000000000000:none&Token=x",
        &[],
        b"",
    );
    assert!(![401, 403].contains(&confirm.status), "{}", confirm.text());
    let unsubscribe = server.http(
        "GET",
        "/_updraft/sns/unsubscribe?SubscriptionArn=arn:aws:sns:us-east-1:000000000000:none:1",
        &[],
        b"",
    );
    assert!(![401, 403].contains(&unsubscribe.status));
    // The AWS API itself is not the admin API.
    let api = server.aws(&["ec2", "describe-regions"]);
    assert!(api.ok, "{}", api.stderr);
}

#[test]
fn without_a_token_loopback_development_is_open() {
    let server = TestServer::start();
    assert_eq!(server.http("POST", "/_updraft/reset", &[], b"").status, 200);
    assert_eq!(
        server.http("GET", "/_updraft/sns/inbox", &[], b"").status,
        200
    );
}

#[test]
fn a_shared_server_with_signatures_and_no_token_refuses_to_start() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["--listen", "0.0.0.0:0", "--verify-signatures"])
        .env_remove("UPDRAFT_ADMIN_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the updraft binary runs");
    // A server that did start would never exit: give it a few seconds, then stop it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill(); // it is failing the test anyway
        panic!("updraft started on 0.0.0.0 with signatures on and no admin token");
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to start") && stderr.contains("--admin-token"),
        "{stderr}"
    );
}
