//! Docker backend figures (plain `main`, `harness = false`): RunInstances of N instances until
//! all are `running`, and the memory of an idle instance container.
//!
//! An Updraft server runs in-process on 127.0.0.1:0 with `--instances docker` and its own
//! owner label; one RunInstances (form POST on loopback) asks for `DOCKER_BENCH_INSTANCES`
//! (10) t2.micro instances of the default busybox AMI; the clock runs 10× so the lifecycle
//! controller polls every 0.1 s. Printed: time to the RunInstances answer, time until every
//! instance is `running` (repeated `DOCKER_BENCH_ROUNDS`, 3, times, each round terminated and
//! cleaned up), and `docker stats` memory of each idle container after a second. Needs a
//! Docker Engine and /bin/busybox; says so and exits when either is missing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use updraft::Config;
use updraft::config::InstanceBackendKind;
use updraft::services::ec2::store::InstanceState;
use updraft::state::{AppState, Scope};

fn post(addr: SocketAddr, body: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn states(state: &AppState, scope: &Scope) -> Vec<(String, InstanceState)> {
    state.stores.with(scope, |s| {
        s.ec2
            .instances
            .values()
            .map(|i| (i.id.clone(), i.state))
            .collect()
    })
}

fn main() {
    let engine = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !engine || !std::path::Path::new("/bin/busybox").exists() {
        println!("docker bench: needs a Docker Engine and /bin/busybox; nothing measured");
        return;
    }
    let n = env_or("DOCKER_BENCH_INSTANCES", 10);
    let rounds = env_or("DOCKER_BENCH_ROUNDS", 3);
    let owner = format!("bench-{}", std::process::id());
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    let state = AppState::new(Config {
        listen: addr,
        instances: InstanceBackendKind::Docker,
        docker_owner: owner.clone(),
        time_scale: 10.0,
        ..Config::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    let server = rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
        updraft::run_with_state(listener, server_state, async {
            let _ = stopped.await;
        })
        .await
    });
    let scope = Scope::new("000000000000", "us-east-1");
    let ami = updraft::services::ec2::images::public_images("us-east-1")[0]
        .id
        .clone();
    // The server prepares the backend (imports the busybox image) before it answers.
    let ready = Instant::now();
    while !post(addr, "Action=DescribeRegions&Version=2016-11-15").contains("200 OK") {
        assert!(ready.elapsed() < Duration::from_secs(60), "server not up");
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "docker bench: {n} × t2.micro per round, {rounds} rounds (server ready in {:?})",
        ready.elapsed()
    );
    for round in 1..=rounds {
        let t0 = Instant::now();
        let r = post(
            addr,
            &format!(
                "Action=RunInstances&Version=2016-11-15&ImageId={ami}&InstanceType=t2.micro&MinCount={n}&MaxCount={n}"
            ),
        );
        assert!(r.contains("200 OK"), "{r}");
        let answered = t0.elapsed();
        loop {
            let s = states(&state, &scope);
            let live: Vec<_> = s
                .iter()
                .filter(|(_, st)| {
                    *st != InstanceState::Terminated && *st != InstanceState::ShuttingDown
                })
                .collect();
            if live.len() == n && live.iter().all(|(_, st)| *st == InstanceState::Running) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "not all running: {s:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let all_running = t0.elapsed();
        println!(
            "round {round}: RunInstances answered in {answered:?}; all {n} running after {all_running:?}"
        );
        let ids: Vec<String> = states(&state, &scope)
            .into_iter()
            .filter(|(_, st)| *st == InstanceState::Running)
            .map(|(id, _)| id)
            .collect();
        if round == rounds {
            std::thread::sleep(Duration::from_secs(1));
            let names: Vec<String> = ids.iter().map(|i| format!("updraft-{i}")).collect();
            let mut args = vec!["stats", "--no-stream", "--format", "{{.MemUsage}}"];
            args.extend(names.iter().map(String::as_str));
            let out = Command::new("docker")
                .args(&args)
                .output()
                .expect("docker stats");
            let usage = String::from_utf8_lossy(&out.stdout);
            println!(
                "idle container memory (docker stats): {}",
                usage.trim().replace('\n', "; ")
            );
        }
        let mut body = "Action=TerminateInstances&Version=2016-11-15".to_owned();
        for (k, id) in ids.iter().enumerate() {
            body.push_str(&format!("&InstanceId.{}={id}", k + 1));
        }
        assert!(post(addr, &body).contains("200 OK"));
        let t1 = Instant::now();
        while states(&state, &scope)
            .iter()
            .any(|(_, st)| *st != InstanceState::Terminated)
        {
            assert!(t1.elapsed() < Duration::from_secs(60), "terminate stuck");
            std::thread::sleep(Duration::from_millis(20));
        }
        println!("round {round}: all {n} terminated after {:?}", t1.elapsed());
    }
    let _ = stop.send(());
    rt.block_on(server).expect("join").expect("server");
    let left = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=updraft.owner={owner}"),
        ])
        .output()
        .expect("docker ps");
    assert!(left.stdout.is_empty(), "containers left behind");
}
