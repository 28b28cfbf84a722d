//! Impaired instances of the Docker backend: a container frozen behind Updraft's back (`docker
//! pause`, or SIGSTOP to its PID 1) fails its instance's status check, as a hung kernel does
//! on AWS: DescribeInstanceStatus says `impaired`, `StatusCheckFailed` publishes 1, and the
//! Auto Scaling group (EC2 health check) replaces it after the grace period and a minute of
//! failing. `docker unpause` or SIGCONT makes the check pass again.
//!
//! As in `docker.rs`, a missing engine fails the test in CI and skips it elsewhere.

use std::time::{Duration, Instant};

use serde_json::Value;
use updraft::Config;

use crate::common::TestServer;
use crate::docker::{DockerServer, docker, engine_ready};
use crate::docker_support::{
    activities, cli, container_id, group_behind_elb, group_members, members, run_until,
    state_and_reason, step, wait_group_in_service,
};

/// The instance status of DescribeInstanceStatus (`ok`, `impaired`, ...).
fn instance_status(s: &TestServer, id: &str) -> String {
    let v = cli(
        s,
        &["ec2", "describe-instance-status", "--instance-ids", id],
    );
    v["InstanceStatuses"][0]["InstanceStatus"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Poll (real time, clock not moved) until the instance status is `want`.
fn wait_status(s: &TestServer, id: &str, want: &str) {
    let start = Instant::now();
    loop {
        let got = instance_status(s, id);
        if got == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{id}: status {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The largest `StatusCheckFailed` of an instance from a minute before `since` until now.
fn status_check_failed_max(s: &TestServer, id: &str, since: f64) -> Option<f64> {
    let now = s.state.clock.now() as i64;
    let v: Value = cli(
        s,
        &[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "AWS/EC2",
            "--metric-name",
            "StatusCheckFailed",
            "--dimensions",
            &format!("Name=InstanceId,Value={id}"),
            "--start-time",
            &(since as i64 - 60).to_string(),
            "--end-time",
            &(now + 60).to_string(),
            "--period",
            "60",
            "--statistics",
            "Maximum",
        ],
    );
    v["Datapoints"]
        .as_array()?
        .iter()
        .filter_map(|d| d["Maximum"].as_f64())
        .reduce(f64::max)
}

#[test]
fn a_frozen_container_fails_its_status_check_and_its_group_replaces_it() {
    if !engine_ready() {
        return;
    }
    let started = Instant::now();
    let d = DockerServer::with_config(
        "impaired",
        Config {
            time_scale: 0.0,
            ..Config::default()
        },
    );
    let s = d.s();
    group_behind_elb(s, 1, false, 30);
    let ids = wait_group_in_service(s, 1);
    let victim = ids.first().unwrap().clone();
    // The check passes once the instance has been up a while (`initializing` until then).
    for _ in 0..60 {
        if instance_status(s, &victim) == "ok" {
            break;
        }
        step(s, 5.0, Duration::from_millis(20));
    }
    assert_eq!(instance_status(s, &victim), "ok");

    // SIGSTOP to PID 1 fails the check, SIGCONT passes it again (no clock step: the engine's
    // event alone moves it).
    let name = format!("updraft-{victim}");
    docker(&["kill", "-s", "STOP", &name]);
    wait_status(s, &victim, "impaired");
    docker(&["kill", "-s", "CONT", &name]);
    wait_status(s, &victim, "ok");

    // Paused: impaired, StatusCheckFailed 1, and after the grace period and a minute of
    // failing the group terminates it and launches a replacement.
    let paused_at = s.state.clock.now();
    docker(&["pause", &name]);
    wait_status(s, &victim, "impaired");
    run_until(
        s,
        "the frozen instance replaced",
        Duration::from_secs(60),
        Duration::from_millis(50),
        |st| {
            !members(st, "web").contains(&victim)
                && crate::autoscaling::count_in_service(st, "web") == 1
        },
    );
    assert_eq!(
        status_check_failed_max(s, &victim, paused_at),
        Some(1.0),
        "StatusCheckFailed published 1 while it was impaired"
    );
    let acts = activities(s, "web");
    assert!(
        acts.iter().any(
            |a| a.contains(&format!("Terminating EC2 instance: {victim}"))
                && a.contains("in response to an EC2 instance status checks failure")
        ),
        "{acts:#?}"
    );
    for _ in 0..4 {
        step(s, 5.0, Duration::from_millis(50));
    }
    assert_eq!(state_and_reason(s, &victim).0, "terminated");
    assert_eq!(
        container_id(&victim),
        None,
        "the frozen container is removed"
    );
    let now = group_members(s, "web");
    let replacement = now.iter().next().unwrap();
    assert_ne!(instance_status(s, replacement), "impaired");
    drop(d);
    eprintln!("docker impaired test: {:?}", started.elapsed());
}
