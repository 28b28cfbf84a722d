//! The simulated backend: its instances answer HTTP in process, and the stress knob (set through
//! the admin API or the `stress` subcommand) moves their CPU metrics.

use serde_json::json;

use crate::common::BOTO3_PRELUDE;
use crate::ec2::{EC2_PRELUDE, frozen_server};
use updraft::backend::{HttpAddress, HttpRequest};
use updraft::services::ec2::images;

#[test]
fn simulated_instances_serve_http_and_take_stress() {
    let server = frozen_server();
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let script = format!(
        "{BOTO3_PRELUDE}{EC2_PRELUDE}\nAMI = '{ami}'\n{}",
        r##"
c = client('ec2')
i = c.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, UserData='#!/bin/bash\n# updraft:http-body Hello ELB 1\n# updraft:http-port 8080\n')['Instances'][0]['InstanceId']
j = c.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, Placement={'AvailabilityZone': 'us-east-1c'})['Instances'][0]['InstanceId']
advance(10)
wait_state(c, [i, j], 'running')
print(json.dumps({'i': i, 'j': j}))
"##
    );
    let out = server.boto3(&script);
    let (i, j) = (out["i"].as_str().unwrap(), out["j"].as_str().unwrap());
    let backend = &server.state.backend;
    let get = HttpRequest {
        method: "GET".into(),
        path: "/index.html".into(),
    };
    let reply = |id: &str, port: u16| match backend.http_address(id, port) {
        Some(HttpAddress::InProcess(respond)) => Some(respond(&get).body),
        Some(HttpAddress::Socket(_)) => panic!("the simulated backend answers in process"),
        None => None,
    };
    assert_eq!(reply(i, 80).as_deref(), Some("Hello ELB 1\n"));
    assert_eq!(reply(i, 8080).as_deref(), Some("Hello ELB 1\n"));
    assert_eq!(reply(i, 8081), None);
    assert_eq!(
        reply(j, 80).as_deref(),
        Some(format!("Hello from {j} in us-east-1c\n").as_str())
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let now = server.state.clock.now();
    let idle = rt.block_on(backend.metrics_sample(j, now + 60.0)).unwrap();
    assert!((0.5..3.0).contains(&idle.cpu_utilization), "{idle:?}");

    let stress = |id: &str, body: &str| {
        server.http(
            "POST",
            &format!("/_updraft/instances/{id}/stress"),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    };
    let ok = stress(j, r#"{"cpu_percent": 95}"#);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let busy = rt.block_on(backend.metrics_sample(j, now + 120.0)).unwrap();
    assert!(busy.cpu_utilization >= 95.0, "{busy:?}");
    assert_eq!(stress(j, r#"{"cpu_percent": 0}"#).status, 200);
    let calm = rt.block_on(backend.metrics_sample(j, now + 180.0)).unwrap();
    assert!(calm.cpu_utilization < 3.0, "{calm:?}");
    assert_eq!(
        stress("i-0123456789abcdef0", r#"{"cpu_percent": 5}"#).status,
        404
    );
    assert_eq!(stress(j, r#"{"cpu_percent": 500}"#).status, 400);
    assert_eq!(stress(j, r#"{"cpu": 5}"#).status, 400);
}

#[test]
fn the_stress_subcommand_sets_the_knob() {
    let server = frozen_server();
    let scope = updraft::state::Scope::new("000000000000", "us-east-1");
    let ami = images::stable_id(
        "ami",
        "us-east-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let out = updraft::services::ec2::instances::launch(
        &server.state,
        &scope,
        json!({"ImageId": ami, "MinCount": 1, "MaxCount": 1}),
        Vec::new(),
    )
    .unwrap();
    let id = out["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let launched = || {
        server
            .state
            .stores
            .with(&scope, |s| s.ec2.instances[&id].launched)
    };
    for _ in 0..200 {
        if launched() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(launched(), "the controller launched it on the backend");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_updraft"))
            .arg("stress")
            .args(args)
            .args(["--endpoint", &server.url])
            .output()
            .expect("updraft runs")
    };
    let ok = run(&[&id, "80"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"cpu_percent\":80"));
    assert!(!run(&["i-0123456789abcdef0", "80"]).status.success());
}
