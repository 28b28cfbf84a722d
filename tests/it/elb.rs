//! Classic ELB through the pinned aws CLI: the chapter's `exampleelb` (two instances saying
//! "Hello ELB 1" / "Hello ELB 2" through the proxy by Host header, InService after
//! HealthyThreshold × Interval on the clock, LB-cookie stickiness), a stopped instance going
//! OutOfService with traffic avoiding it, AWS/ELB metrics in CloudWatch, connection draining
//! and the functions Auto Scaling calls.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use updraft::Config;
use updraft::services::elb;
use updraft::state::Scope;

use crate::common::TestServer;

pub fn frozen() -> TestServer {
    TestServer::with_config(Config {
        time_scale: 0.0,
        ..Config::default()
    })
}

/// A data-plane response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One GET to the server's main port with `Host: host` (Connection: close).
pub fn get(addr: SocketAddr, host: &str, path: &str, extra: &[(&str, &str)]) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    parts.next();
    let status = parts.next().unwrap().parse().unwrap();
    let reason = parts.next().unwrap_or("").to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        reason,
        headers,
        body: body.to_owned(),
    }
}

pub fn ok(server: &TestServer, args: &[&str]) -> Value {
    let r = server.aws(args);
    assert!(r.ok, "aws {args:?} failed: {}", r.stderr);
    if r.stdout.trim().is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn scope() -> Scope {
    Scope::new("000000000000", "us-east-1")
}

/// Launch instances serving `bodies` (one each) and wait until they run. Returns their ids.
pub fn launch(server: &TestServer, bodies: &[&str]) -> Vec<String> {
    let images = ok(
        server,
        &[
            "ec2",
            "describe-images",
            "--owners",
            "amazon",
            "--filters",
            "Name=name,Values=al2023-ami-*",
        ],
    );
    let ami = images["Images"][0]["ImageId"].as_str().unwrap().to_owned();
    let ids: Vec<String> = bodies
        .iter()
        .map(|body| {
            let ud = format!("#!/bin/bash\n# updraft:http-body {body}\n");
            let r = ok(
                server,
                &[
                    "ec2",
                    "run-instances",
                    "--image-id",
                    &ami,
                    "--instance-type",
                    "t3.micro",
                    "--placement",
                    "AvailabilityZone=us-east-1a",
                    "--user-data",
                    &ud,
                ],
            );
            r["Instances"][0]["InstanceId"].as_str().unwrap().to_owned()
        })
        .collect();
    server.state.clock.advance(15.0);
    wait_until("instances running", || {
        server.state.stores.with(&scope(), |s| {
            ids.iter().all(|id| {
                s.ec2.instances[id].state == updraft::services::ec2::store::InstanceState::Running
            })
        })
    });
    ids
}

pub fn health(server: &TestServer, lb: &str) -> Vec<(String, String, String, String)> {
    let r = ok(
        server,
        &[
            "elb",
            "describe-instance-health",
            "--load-balancer-name",
            lb,
        ],
    );
    r["InstanceStates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            (
                f("InstanceId"),
                f("State"),
                f("ReasonCode"),
                f("Description"),
            )
        })
        .collect()
}

/// Consecutive passes the checker has counted for an instance.
pub fn passes(server: &TestServer, lb: &str, id: &str) -> i64 {
    server.state.stores.with(&scope(), |s| {
        s.elb.load_balancers[lb]
            .instances
            .get(id)
            .map_or(-1, |r| r.passes)
    })
}

/// The chapter's load balancer in front of `ids`, with its console health check.
pub fn exampleelb(server: &TestServer, ids: &[String]) -> String {
    let created = ok(
        server,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "exampleelb",
            "--listeners",
            "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80",
            "--availability-zones",
            "us-east-1a",
            "us-east-1b",
        ],
    );
    let dns = created["DNSName"].as_str().unwrap().to_owned();
    ok(
        server,
        &[
            "elb",
            "configure-health-check",
            "--load-balancer-name",
            "exampleelb",
            "--health-check",
            "Target=HTTP:80/index.html,Interval=30,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=10",
        ],
    );
    let mut args = vec![
        "elb",
        "register-instances-with-load-balancer",
        "--load-balancer-name",
        "exampleelb",
        "--instances",
    ];
    args.extend(ids.iter().map(String::as_str));
    ok(server, &args);
    dns
}

#[test]
fn chapter_exampleelb_goes_in_service_alternates_and_sticks() {
    let server = frozen();
    let ids = launch(&server, &["Hello ELB 1", "Hello ELB 2"]);
    let dns = exampleelb(&server, &ids);
    assert!(
        dns.starts_with("exampleelb-") && dns.ends_with(".us-east-1.elb.localhost"),
        "{dns}"
    );
    let host = format!("{dns}:{}", server.addr.port());

    // Just registered: no verdict yet, and no traffic.
    for (_, state, code, desc) in health(&server, "exampleelb") {
        assert_eq!(
            (state.as_str(), code.as_str(), desc.as_str()),
            (
                "OutOfService",
                "ELB",
                "Instance registration is still in progress."
            )
        );
    }
    let r = get(server.addr, &host, "/", &[]);
    assert_eq!(r.status, 503);
    assert_eq!(
        r.reason,
        "Service Unavailable: Back-end server is at capacity"
    );
    assert_eq!(r.body, "");

    // Nine passing checks (270 s after the first at 30 s) are not enough...
    server.state.clock.advance(299.0);
    wait_until("nine passes", || {
        ids.iter().all(|id| passes(&server, "exampleelb", id) == 9)
    });
    assert!(
        health(&server, "exampleelb")
            .iter()
            .all(|h| h.1 == "OutOfService")
    );
    // ...the tenth, at 300 s = HealthyThreshold × Interval, is.
    server.state.clock.advance(1.0);
    wait_until("InService", || {
        health(&server, "exampleelb")
            .iter()
            .all(|h| (h.1.as_str(), h.2.as_str(), h.3.as_str()) == ("InService", "N/A", "N/A"))
    });

    // Round robin through the proxy, Host with and without the port.
    let bodies: Vec<String> = (0..4)
        .map(|i| {
            let h = if i % 2 == 0 {
                host.clone()
            } else {
                dns.clone()
            };
            let r = get(server.addr, &h, "/index.html", &[]);
            assert_eq!(r.status, 200, "{r:?}");
            r.body.trim().to_owned()
        })
        .collect();
    assert_ne!(bodies[0], bodies[1], "{bodies:?}");
    assert_eq!(bodies[0], bodies[2], "{bodies:?}");
    let mut seen = bodies.clone();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["Hello ELB 1", "Hello ELB 2"]);

    // LB-cookie stickiness, 300 s (the chapter's 18C).
    ok(
        &server,
        &[
            "elb",
            "create-lb-cookie-stickiness-policy",
            "--load-balancer-name",
            "exampleelb",
            "--policy-name",
            "AWSConsole-LBCookieStickinessPolicy-exampleelb-1",
            "--cookie-expiration-period",
            "300",
        ],
    );
    ok(
        &server,
        &[
            "elb",
            "set-load-balancer-policies-of-listener",
            "--load-balancer-name",
            "exampleelb",
            "--load-balancer-port",
            "80",
            "--policy-names",
            "AWSConsole-LBCookieStickinessPolicy-exampleelb-1",
        ],
    );
    let first = get(server.addr, &host, "/", &[]);
    let cookie = first.header("set-cookie")[0].to_owned();
    assert!(
        cookie.starts_with("AWSELB=") && cookie.ends_with(";PATH=/;MAX-AGE=300"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    for _ in 0..4 {
        let r = get(server.addr, &host, "/", &[("Cookie", &pair)]);
        assert_eq!(r.body, first.body, "sticky");
        assert!(r.header("set-cookie").is_empty());
    }
    // Without the cookie the next request goes elsewhere and gets its own cookie.
    let other = get(server.addr, &host, "/", &[]);
    assert_ne!(other.body, first.body);

    let d = ok(
        &server,
        &[
            "elb",
            "describe-load-balancers",
            "--load-balancer-names",
            "exampleelb",
        ],
    );
    let lb = &d["LoadBalancerDescriptions"][0];
    assert_eq!(lb["DNSName"], dns.as_str());
    assert_eq!(lb["CanonicalHostedZoneName"], dns.as_str());
    assert_eq!(lb["HealthCheck"]["Target"], "HTTP:80/index.html");
    assert_eq!(lb["Instances"].as_array().unwrap().len(), 2);
    assert_eq!(
        lb["ListenerDescriptions"][0]["PolicyNames"][0],
        "AWSConsole-LBCookieStickinessPolicy-exampleelb-1"
    );
    assert_eq!(
        lb["Policies"]["LBCookieStickinessPolicies"][0]["CookieExpirationPeriod"],
        300
    );
    assert_eq!(lb["Scheme"], "internet-facing");
}

#[test]
fn a_stopped_instance_goes_out_of_service_and_traffic_avoids_it() {
    let server = frozen();
    let ids = launch(&server, &["one", "two"]);
    exampleelb(&server, &ids);
    let dns = ok(
        &server,
        &[
            "elb",
            "configure-health-check",
            "--load-balancer-name",
            "exampleelb",
            "--health-check",
            "Target=TCP:80,Interval=10,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=2",
        ],
    );
    assert_eq!(dns["HealthCheck"]["Target"], "TCP:80");
    let lb_dns =
        ok(&server, &["elb", "describe-load-balancers"])["LoadBalancerDescriptions"][0]["DNSName"]
            .as_str()
            .unwrap()
            .to_owned();
    server.state.clock.advance(60.0);
    wait_until("InService", || {
        health(&server, "exampleelb")
            .iter()
            .all(|h| h.1 == "InService")
    });
    ok(
        &server,
        &["ec2", "stop-instances", "--instance-ids", &ids[0]],
    );
    wait_until("stopped instance out of service", || {
        health(&server, "exampleelb").iter().any(|h| {
            h.0 == ids[0] && h.1 == "OutOfService" && h.3 == "Instance is in stopped state."
        })
    });
    for _ in 0..4 {
        let r = get(server.addr, &lb_dns, "/", &[]);
        assert_eq!((r.status, r.body.trim()), (200, "two"));
    }
    // Both gone: 503.
    ok(
        &server,
        &["ec2", "stop-instances", "--instance-ids", &ids[1]],
    );
    wait_until("no healthy instance", || {
        get(server.addr, &lb_dns, "/", &[]).status == 503
    });
}

#[test]
fn elb_metrics_reach_cloudwatch() {
    let server = frozen();
    let ids = launch(&server, &["one"]);
    exampleelb(&server, &ids);
    let dns =
        ok(&server, &["elb", "describe-load-balancers"])["LoadBalancerDescriptions"][0]["DNSName"]
            .as_str()
            .unwrap()
            .to_owned();
    server.state.clock.advance(300.0);
    wait_until("InService", || {
        health(&server, "exampleelb")
            .iter()
            .all(|h| h.1 == "InService")
    });
    let start = server.state.clock.now();
    for _ in 0..5 {
        assert_eq!(get(server.addr, &dns, "/", &[]).status, 200);
    }
    let stat = |metric: &str, statistic: &str| -> f64 {
        let from = (start - 600.0) as i64;
        let to = (server.state.clock.now() + 600.0) as i64;
        let r = ok(
            &server,
            &[
                "cloudwatch",
                "get-metric-statistics",
                "--namespace",
                "AWS/ELB",
                "--metric-name",
                metric,
                "--dimensions",
                "Name=LoadBalancerName,Value=exampleelb",
                "--start-time",
                &from.to_string(),
                "--end-time",
                &to.to_string(),
                "--period",
                "3600",
                "--statistics",
                statistic,
            ],
        );
        r["Datapoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[statistic].as_f64().unwrap())
            .sum()
    };
    // Two minute boundaries later the minute of the requests has been published.
    server.state.clock.advance(60.0);
    std::thread::sleep(Duration::from_millis(100));
    server.state.clock.advance(60.0);
    wait_until("RequestCount published", || {
        stat("RequestCount", "Sum") >= 5.0
    });
    assert_eq!(stat("RequestCount", "Sum"), 5.0);
    assert_eq!(stat("HTTPCode_Backend_2XX", "Sum"), 5.0);
    assert!(stat("Latency", "Average") >= 0.0);
    assert!(stat("HealthyHostCount", "Maximum") >= 1.0);
}

#[test]
fn draining_deregistration_and_the_auto_scaling_entry_points() {
    let server = frozen();
    let ids = launch(&server, &["a"]);
    crate::elb_api::create(&server, "asg-lb", "80");
    let state = &server.state;
    assert!(elb::exists(state, &scope(), "asg-lb"));
    assert!(!elb::exists(state, &scope(), "other"));
    assert!(elb::register_internal(state, &scope(), "other", &ids).is_err());
    elb::register_internal(state, &scope(), "asg-lb", &ids).unwrap();
    assert_eq!(
        elb::instance_in_service(state, &scope(), "asg-lb", &ids[0]),
        None
    );
    ok(
        &server,
        &[
            "elb",
            "configure-health-check",
            "--load-balancer-name",
            "asg-lb",
            "--health-check",
            "Target=HTTP:80/,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2",
        ],
    );
    server.state.clock.advance(60.0);
    wait_until("InService", || {
        elb::instance_in_service(state, &scope(), "asg-lb", &ids[0]) == Some(true)
    });
    ok(
        &server,
        &[
            "elb",
            "modify-load-balancer-attributes",
            "--load-balancer-name",
            "asg-lb",
            "--load-balancer-attributes",
            r#"{"ConnectionDraining":{"Enabled":true,"Timeout":30}}"#,
        ],
    );
    let left = ok(
        &server,
        &[
            "elb",
            "deregister-instances-from-load-balancer",
            "--load-balancer-name",
            "asg-lb",
            "--instances",
            &ids[0],
        ],
    );
    assert_eq!(left["Instances"], Value::Array(vec![]));
    assert_eq!(
        elb::instance_in_service(state, &scope(), "asg-lb", &ids[0]),
        None
    );
    // Nothing in flight: the drain ends at once and the instance reads as not registered.
    wait_until("drained", || {
        let h = ok(
            &server,
            &[
                "elb",
                "describe-instance-health",
                "--load-balancer-name",
                "asg-lb",
                "--instances",
                &ids[0],
            ],
        );
        h["InstanceStates"][0]["Description"]
            == "Instance is not currently registered with the LoadBalancer."
    });
    // Registered again by Auto Scaling: a new registration, no verdict yet.
    elb::register_internal(state, &scope(), "asg-lb", &ids).unwrap();
    assert_eq!(
        elb::instance_in_service(state, &scope(), "asg-lb", &ids[0]),
        None
    );
    elb::deregister_internal(state, &scope(), "asg-lb", &ids).unwrap();
    assert!(
        elb::deregister_internal(
            state,
            &scope(),
            "asg-lb",
            &["i-00000000000000000".to_owned()]
        )
        .is_err()
    );
}
