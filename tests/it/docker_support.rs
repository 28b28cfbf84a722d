//! Helpers of the Docker backend's group tests (`docker_adopt`, `docker_impaired`): a stepped
//! frozen clock, a group behind a Classic ELB whose user data writes the page it serves, and
//! what the CLI and the engine say about it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft::state::{RegionStores, Scope};

use crate::autoscaling::count_in_service;
use crate::common::TestServer;
use crate::elb::get;

/// The text the user data writes into the page.
pub const PAGE: &str = "served by a group's user data";

pub fn scope() -> Scope {
    Scope::new("000000000000", "us-east-1")
}

pub fn cli(s: &TestServer, args: &[&str]) -> Value {
    let r = s.aws(args);
    assert!(r.ok, "aws {args:?}: {}", r.stderr);
    if r.stdout.trim().is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

/// Advance the virtual clock by `secs`, then give the controllers `pause` of real time.
pub fn step(s: &TestServer, secs: f64, pause: Duration) {
    let r = s.http(
        "POST",
        "/_updraft/clock",
        &[("Content-Type", "application/json")],
        json!({ "advance_seconds": secs }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(pause);
}

/// Step the clock 5 s at a time, `pause` apart, until `pred` holds on the store; fails after
/// `limit` of real time (containers boot in real time).
pub fn run_until(
    s: &TestServer,
    what: &str,
    limit: Duration,
    pause: Duration,
    pred: impl Fn(&RegionStores) -> bool,
) -> f64 {
    let start = Instant::now();
    loop {
        if s.state.stores.with(&scope(), |st| pred(st)) {
            return s.state.clock.now();
        }
        if start.elapsed() > limit {
            let dump = s
                .state
                .stores
                .with(&scope(), |st| format!("{:#?}", st.autoscaling.groups));
            panic!("{what}: not within {limit:?}: {dump}");
        }
        step(s, 5.0, pause);
    }
}

/// Members of a group, from the store.
pub fn members(st: &RegionStores, group: &str) -> BTreeSet<String> {
    st.autoscaling
        .groups
        .get(group)
        .map(|g| g.instances.keys().cloned().collect())
        .unwrap_or_default()
}

pub fn group_members(s: &TestServer, group: &str) -> BTreeSet<String> {
    s.state.stores.with(&scope(), |st| members(st, group))
}

/// (instance, state) at a Classic ELB, through the CLI.
pub fn instance_health(s: &TestServer, lb: &str) -> BTreeSet<(String, String)> {
    let h = cli(
        s,
        &[
            "elb",
            "describe-instance-health",
            "--load-balancer-name",
            lb,
        ],
    );
    h["InstanceStates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["InstanceId"].as_str().unwrap().to_owned(),
                x["State"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Step the clock until exactly `ids` are InService at `lb` (checks every 20 virtual s).
pub fn wait_in_service(s: &TestServer, lb: &str, ids: &BTreeSet<String>) {
    let want: BTreeSet<(String, String)> = ids
        .iter()
        .map(|id| (id.clone(), "InService".to_owned()))
        .collect();
    let start = Instant::now();
    loop {
        let health = instance_health(s, lb);
        if health == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not InService at {lb}: {health:?}, want {ids:?}"
        );
        for _ in 0..4 {
            step(s, 5.0, Duration::from_millis(30));
        }
    }
}

pub fn ami(s: &TestServer) -> String {
    cli(s, &["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]
        .as_str()
        .expect("an AMI")
        .to_owned()
}

/// The default subnets of the first two zones.
pub fn subnets(s: &TestServer) -> Vec<String> {
    let v = cli(
        s,
        &[
            "ec2",
            "describe-subnets",
            "--filters",
            "Name=default-for-az,Values=true",
        ],
    );
    let mut v: Vec<(String, String)> = v["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["AvailabilityZone"].as_str().unwrap().to_owned(),
                x["SubnetId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v.into_iter().take(2).map(|(_, id)| id).collect()
}

/// "StatusCode | Description | Cause" of a group's activities.
pub fn activities(s: &TestServer, group: &str) -> Vec<String> {
    cli(
        s,
        &[
            "autoscaling",
            "describe-scaling-activities",
            "--auto-scaling-group-name",
            group,
        ],
    )["Activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} | {} | {}",
                a["StatusCode"], a["Description"], a["Cause"]
            )
        })
        .collect()
}

/// The engine's id of an instance's container, `None` when there is none.
pub fn container_id(instance: &str) -> Option<String> {
    let out = std::process::Command::new("docker")
        .args(["inspect", "-f", "{{.Id}}", &format!("updraft-{instance}")])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// GETs through the load balancer by Host header: the distinct pages served.
pub fn pages(s: &TestServer, dns: &str, n: usize) -> BTreeSet<String> {
    (0..n)
        .map(|_| {
            let r = get(s.addr, dns, "/index.html", &[]);
            assert_eq!(r.status, 200, "{r:?}");
            assert!(r.body.starts_with(PAGE), "{r:?}");
            r.body
        })
        .collect()
}

/// A group `web` of `size` instances (max `size + 1`) in the first two zones whose user data
/// writes [`PAGE`] and the hostname into `/index.html`, behind the Classic ELB `web-elb`
/// when `with_lb`; returns the load balancer's DNS name (empty without one).
pub fn group_behind_elb(s: &TestServer, size: u32, with_lb: bool, grace: u32) -> String {
    let ami = ami(s);
    let subnets = subnets(s);
    // The hostname (ip-<address>) tells the instances apart.
    let ud = std::env::temp_dir().join(format!(
        "updraft-group-ud-{}-{}.sh",
        std::process::id(),
        s.addr.port()
    ));
    std::fs::write(
        &ud,
        format!("#!/bin/sh\necho \"{PAGE} on $(hostname)\" > /var/www/index.html\n"),
    )
    .unwrap();
    let ud_arg = format!("file://{}", ud.display());
    let mut dns = String::new();
    if with_lb {
        let lb = cli(
            s,
            &[
                "elb",
                "create-load-balancer",
                "--load-balancer-name",
                "web-elb",
                "--listeners",
                "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80",
                "--subnets",
                &subnets[0],
                &subnets[1],
            ],
        );
        dns = lb["DNSName"].as_str().unwrap().to_owned();
        cli(
            s,
            &[
                "elb",
                "configure-health-check",
                "--load-balancer-name",
                "web-elb",
                "--health-check",
                "Target=HTTP:80/index.html,Interval=10,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=2",
            ],
        );
    }
    cli(
        s,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "web-lc",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
            "--user-data",
            &ud_arg,
            // One-minute metrics: StatusCheckFailed shows within the health check's minute.
            "--instance-monitoring",
            "Enabled=true",
        ],
    );
    let _ = std::fs::remove_file(&ud);
    let (size, max, grace) = (size.to_string(), (size + 1).to_string(), grace.to_string());
    let mut args = vec![
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        "web",
        "--launch-configuration-name",
        "web-lc",
        "--min-size",
        &size,
        "--max-size",
        &max,
        "--desired-capacity",
        &size,
        "--health-check-grace-period",
        &grace,
    ];
    let zones = subnets.join(",");
    args.extend(["--vpc-zone-identifier", &zones]);
    if with_lb {
        args.extend(["--load-balancer-names", "web-elb"]);
    }
    cli(s, &args);
    dns
}

/// Wait until the group has `n` InService instances (containers boot in real time).
pub fn wait_group_in_service(s: &TestServer, n: usize) -> BTreeSet<String> {
    run_until(
        s,
        "group InService",
        Duration::from_secs(60),
        Duration::from_millis(50),
        |st| count_in_service(st, "web") == n,
    );
    group_members(s, "web")
}

/// An instance's state and `StateReason` code, through the CLI.
pub fn state_and_reason(s: &TestServer, id: &str) -> (String, String) {
    let v = cli(s, &["ec2", "describe-instances", "--instance-ids", id]);
    let i = &v["Reservations"][0]["Instances"][0];
    (
        i["State"]["Name"].as_str().unwrap_or_default().to_owned(),
        i["StateReason"]["Code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}
