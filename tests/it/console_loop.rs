//! The loop page (`/_updraft/console/loop/`) in a real headless Chromium. The chapter's world is
//! built with the `aws` CLI (Classic ELB, launch configuration, group 1–3 behind it, two simple
//! policies, the two CPU alarms on 1 × 1 min); the instance is stressed from its card on the page
//! and the frozen clock is advanced through the admin API. The page must show, in order: the
//! Add alarm in ALARM, desired 2, a second instance card Pending then InService, and after the
//! stress is cleared, desired 1 with one card. Screenshots of each stage, and one in Korean.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft::Config;

use crate::common::TestServer;
use crate::console::open;
use crate::webdriver::Browser;

const REGION: &str = "ap-northeast-1";
const GROUP: &str = "ExampleAutoScalingGroup";

fn cli(s: &TestServer, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--region", REGION]);
    let r = s.aws(&all);
    assert!(r.ok, "aws {args:?}: {}", r.stderr);
    if r.stdout.trim().is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

/// The chapter's world, by the CLI.
fn world(s: &TestServer) {
    let ami = cli(s, &["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let subnets = cli(
        s,
        &[
            "ec2",
            "describe-subnets",
            "--filters",
            "Name=default-for-az,Values=true",
        ],
    );
    let mut subnets: Vec<(String, String)> = subnets["Subnets"]
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
    subnets.sort();
    let subnets: Vec<String> = subnets.into_iter().take(2).map(|(_, id)| id).collect();
    let mut elb = vec![
        "elb",
        "create-load-balancer",
        "--load-balancer-name",
        "exampleelb",
        "--listeners",
        "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80",
        "--subnets",
    ];
    elb.extend(subnets.iter().map(String::as_str));
    cli(s, &elb);
    cli(
        s,
        &[
            "elb",
            "configure-health-check",
            "--load-balancer-name",
            "exampleelb",
            "--health-check",
            "Target=TCP:80,Interval=10,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=2",
        ],
    );
    cli(
        s,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "ExampleAutoScalingConfig",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
            "--instance-monitoring",
            "Enabled=true",
        ],
    );
    cli(
        s,
        &[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            GROUP,
            "--launch-configuration-name",
            "ExampleAutoScalingConfig",
            "--min-size",
            "1",
            "--max-size",
            "3",
            "--desired-capacity",
            "1",
            "--vpc-zone-identifier",
            &subnets.join(","),
            "--load-balancer-names",
            "exampleelb",
            "--health-check-grace-period",
            "300",
        ],
    );
    for (policy, adjustment, alarm, op, threshold) in [
        (
            "Increase Group Size",
            "1",
            "AutoScaling-Add-Alarm",
            "GreaterThanOrEqualToThreshold",
            "80",
        ),
        (
            "Decrease Group Size",
            "-1",
            "AutoScaling-Remove-Alarm",
            "LessThanOrEqualToThreshold",
            "5",
        ),
    ] {
        let arn = cli(
            s,
            &[
                "autoscaling",
                "put-scaling-policy",
                "--auto-scaling-group-name",
                GROUP,
                "--policy-name",
                policy,
                "--adjustment-type",
                "ChangeInCapacity",
                "--scaling-adjustment",
                adjustment,
                "--cooldown",
                "300",
            ],
        )["PolicyARN"]
            .as_str()
            .unwrap()
            .to_owned();
        cli(
            s,
            &[
                "cloudwatch",
                "put-metric-alarm",
                "--alarm-name",
                alarm,
                "--namespace",
                "AWS/EC2",
                "--metric-name",
                "CPUUtilization",
                "--statistic",
                "Average",
                "--period",
                "60",
                "--evaluation-periods",
                "1",
                "--threshold",
                threshold,
                "--comparison-operator",
                op,
                "--dimensions",
                &format!("Name=AutoScalingGroupName,Value={GROUP}"),
                "--alarm-actions",
                &arn,
            ],
        );
    }
}

/// Advance the frozen clock through the admin API, 5 s at a time (every controller sees the
/// time pass), with a breath between steps.
fn advance(s: &TestServer, secs: u32) {
    for _ in 0..secs.div_ceil(5) {
        let r = s.http(
            "POST",
            "/_updraft/clock",
            &[("Content-Type", "application/json")],
            br#"{"advance_seconds": 5}"#,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Advance `step` seconds at a time until the page shows `pred` (at most `max` virtual seconds);
/// after each step the page gets a moment to re-read.
fn until(
    s: &TestServer,
    b: &Browser,
    what: &str,
    step: u32,
    max: u32,
    pred: impl Fn(&Browser) -> bool,
) {
    let mut advanced = 0;
    loop {
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(1800) {
            if pred(b) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if advanced >= max {
            b.screenshot(&format!("timeout-{}", what.replace(' ', "_")));
            panic!(
                "the loop page never showed {what}; page text:\n{}",
                b.text("#main")
            );
        }
        advance(s, step);
        advanced += step;
    }
}

/// (instance id, lifecycle state) of each card.
fn cards(b: &Browser) -> Vec<(String, String)> {
    let v = b.js(
        "return [...document.querySelectorAll('#loop-instances .loop-card')].map((c) => [c.dataset.id, c.querySelector('.lifecycle').innerText.trim()]);",
        json!([]),
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x[0].as_str().unwrap().to_owned(),
                x[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn desired(b: &Browser) -> String {
    b.text("#loop-size [data-size=desired] strong")
}

fn alarm_state(b: &Browser, name: &str) -> String {
    b.js(
        "const a = document.querySelector(`[data-alarm=\"${arguments[0]}\"]`); return a ? a.className : '';",
        json!([name]),
    )
    .as_str()
    .unwrap_or("")
    .to_owned()
}

fn lb_in_service(b: &Browser) -> usize {
    b.text("#loop-lbs").matches("InService").count()
}

#[test]
fn console_loop_page_shows_the_scaling_loop() {
    let _turn = crate::webdriver::turn();
    let s = TestServer::with_config(Config {
        time_scale: 0.0,
        // Long enough for the page to show the new instance Pending between 5 s steps.
        boot_seconds: 60.0,
        ..Default::default()
    });
    // The page's own address goes to the console's loop route.
    let r = s.http("GET", "/_updraft/console/loop/", &[], b"");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/_updraft/console/#/loop"));
    world(&s);
    let Some(b) = Browser::start("loop") else {
        return;
    };
    open(&b, &s, "en", "/ec2/instances");
    b.goto(&format!("{}/_updraft/console/loop/", s.url));
    b.wait_text("#loop-group", GROUP);
    b.find("#loop-policies [data-policy=\"Increase Group Size\"]");

    // Before: one instance, InService in the group and in the load balancer.
    until(&s, &b, "one InService instance", 10, 600, |b| {
        let c = cards(b);
        c.len() == 1
            && c[0].1 == "InService"
            && lb_in_service(b) == 1
            && b.text("#loop-instances").contains('%')
    });
    let first = cards(&b)[0].0.clone();
    assert_eq!(desired(&b), "1");
    b.find("[data-alarm=\"AutoScaling-Add-Alarm\"] svg.chart .threshold");
    b.wait_text("#loop-activity", "Launching a new EC2 instance");
    b.screenshot("1-before");

    // Stress from the card: the Add alarm goes to ALARM …
    b.click(&format!(
        "#loop-instances [data-id=\"{first}\"] [data-act=stress]"
    ));
    until(&s, &b, "the Add alarm in ALARM", 10, 300, |b| {
        alarm_state(b, "AutoScaling-Add-Alarm").contains("alarm-ALARM")
    });
    until(&s, &b, "CPU near 100 %", 10, 120, |b| {
        b.text(&format!("[data-id=\"{first}\"] .cpu-value"))
            .starts_with("100")
    });
    b.screenshot("2-alarm");
    // … desired 2, a second card Pending, then InService and registered.
    until(&s, &b, "desired 2", 5, 180, |b| desired(b) == "2");
    until(&s, &b, "a second card Pending", 5, 60, |b| {
        let c = cards(b);
        c.len() == 2 && c.iter().any(|(id, st)| id != &first && st == "Pending")
    });
    until(&s, &b, "two InService cards", 10, 600, |b| {
        let c = cards(b);
        c.len() == 2 && c.iter().all(|(_, st)| st == "InService") && lb_in_service(b) == 2
    });
    b.wait_text(
        "#loop-activity",
        "a monitor alarm AutoScaling-Add-Alarm in state ALARM triggered policy Increase Group Size changing the desired capacity from 1 to 2",
    );
    let fresh = b.js(
        "return document.querySelectorAll('#loop-activity li').length;",
        json!([]),
    );
    assert!(fresh.as_u64().unwrap() >= 2, "{fresh}");
    b.screenshot("3-scaled-out");

    // Clear the stress: the Remove alarm takes the group back to one instance.
    b.click(&format!(
        "#loop-instances [data-id=\"{first}\"] [data-act=unstress]"
    ));
    until(&s, &b, "desired 1 and one card", 30, 1500, |b| {
        desired(b) == "1" && cards(b).len() == 1
    });
    b.wait_text(
        "#loop-activity",
        "changing the desired capacity from 2 to 1",
    );
    b.screenshot("4-scaled-in");

    // The same page in Korean.
    b.js("localStorage.setItem('updraft.lang', 'ko');", json!([]));
    b.cmd("POST", "/refresh", json!({}));
    b.wait_text("#main h1", "조정 루프");
    b.wait_text("#loop-size", "원하는 용량");
    b.find("#loop-instances .loop-card");
    b.screenshot("ko");
    b.assert_no_errors();
}
