//! A real busy loop in a container raises `CPUUtilization`, and a CPU alarm scales the group
//! out.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{
    activities, ami, cli, container_exists, frozen, group_members, run_until, step, subnets,
};
use crate::autoscaling::count_in_service;
use crate::docker::engine_ready;

#[test]
fn cpu_stress_in_a_container_scales_the_group_out() {
    if !engine_ready() {
        return;
    }
    let started = Instant::now();
    let d = frozen("scaling-cpu");
    let s = d.s();
    let ami = ami(s);
    let subnets = subnets(s);
    cli(
        s,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "cpu-lc",
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
            "cpu",
            "--launch-configuration-name",
            "cpu-lc",
            "--min-size",
            "1",
            "--max-size",
            "2",
            "--desired-capacity",
            "1",
            "--vpc-zone-identifier",
            &subnets.join(","),
        ],
    );
    let policy = cli(
        s,
        &[
            "autoscaling",
            "put-scaling-policy",
            "--auto-scaling-group-name",
            "cpu",
            "--policy-name",
            "Increase Group Size",
            "--adjustment-type",
            "ChangeInCapacity",
            "--scaling-adjustment",
            "1",
            "--cooldown",
            "300",
        ],
    )["PolicyARN"]
        .as_str()
        .unwrap()
        .to_owned();
    // The threshold is low because the busy loop shares two host cores with whatever else
    // runs (builds, other tests): it gets anywhere from a fifth of a CPU to all of it, while
    // an idle busybox container stays near 0 %.
    cli(
        s,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "cpu-high",
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
            "10",
            "--comparison-operator",
            "GreaterThanOrEqualToThreshold",
            "--dimensions",
            "Name=AutoScalingGroupName,Value=cpu",
            "--alarm-actions",
            &policy,
        ],
    );
    let pace = Duration::from_millis(50);
    let limit = Duration::from_secs(40);
    run_until(s, "1 InService", limit, pace, |st| {
        count_in_service(st, "cpu") == 1
    });
    let first = group_members(s, "cpu").into_iter().next().unwrap();

    // Idle for three minutes (each minute about a second of real time): the alarm sees the
    // container's real, low CPU and stays OK; the group stays at 1.
    // Container stats arrive in real time, so the first datapoints may take a few virtual
    // minutes on a fast clock: step until the alarm has decided (at most ten minutes).
    let mut alarm = Value::Null;
    for i in 1..=120 {
        step(s, 5.0, Duration::from_millis(30));
        if i >= 36 && i % 12 == 0 {
            alarm = cli(
                s,
                &["cloudwatch", "describe-alarms", "--alarm-names", "cpu-high"],
            );
            if alarm["MetricAlarms"][0]["StateValue"] != "INSUFFICIENT_DATA" {
                break;
            }
        }
    }
    assert_eq!(
        alarm["MetricAlarms"][0]["StateValue"], "OK",
        "idle container below 10 %: {alarm}"
    );
    assert_eq!(group_members(s, "cpu").len(), 1);

    // A real busy loop in the container: its CPU time shows in the next minutes' datapoints,
    // the alarm fires, the policy adds an instance, which boots and goes InService.
    let stressed_at = s.state.clock.now();
    let r = s.http(
        "POST",
        &format!("/_updraft/instances/{first}/stress"),
        &[("Content-Type", "application/json")],
        br#"{"cpu_percent": 100}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // The loop starts through a `docker exec`; give it a moment, and each virtual minute a
    // good second of real CPU time to measure.
    std::thread::sleep(Duration::from_millis(800));
    let reached = run_until(
        s,
        "scale-out to 2 InService",
        limit,
        Duration::from_millis(100),
        |st| count_in_service(st, "cpu") == 2,
    );
    assert!(
        reached - stressed_at <= 240.0,
        "scaled out {} virtual s after the stress",
        reached - stressed_at
    );

    // The datapoints behind it: the stressed instance's own CPUUtilization, from the
    // container's stats, at or above the threshold.
    let stats = cli(
        s,
        &[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "AWS/EC2",
            "--metric-name",
            "CPUUtilization",
            "--dimensions",
            &format!("Name=InstanceId,Value={first}"),
            "--statistics",
            "Maximum",
            "--period",
            "60",
            "--start-time",
            &format!("{}", stressed_at as i64 - 600),
            "--end-time",
            &format!("{}", s.state.clock.now() as i64 + 60),
        ],
    );
    let points = stats["Datapoints"].as_array().unwrap();
    let max = points
        .iter()
        .filter_map(|p| p["Maximum"].as_f64())
        .fold(0.0, f64::max);
    let idle = points
        .iter()
        .filter_map(|p| p["Maximum"].as_f64())
        .fold(100.0, f64::min);
    eprintln!(
        "CPUUtilization of {first}: max {max:.1} %, idle min {idle:.1} %; scaled out {} virtual s after the stress",
        reached - stressed_at
    );
    assert!((10.0..=100.0).contains(&max), "{stats}");
    assert!(idle < 10.0, "idle minutes before the stress: {stats}");

    let acts = activities(s, "cpu");
    let out = acts
        .iter()
        .find(|a| {
            a["Cause"].as_str().is_some_and(|c| {
                c.contains("a monitor alarm cpu-high in state ALARM triggered policy Increase Group Size changing the desired capacity from 1 to 2.")
            })
        })
        .unwrap_or_else(|| panic!("no scale-out activity: {acts:#?}"));
    assert_eq!(out["StatusCode"], "Successful", "{out}");
    let second = group_members(s, "cpu")
        .into_iter()
        .find(|id| *id != first)
        .unwrap();
    assert!(container_exists(&second), "the new instance is a container");
    s.http(
        "POST",
        &format!("/_updraft/instances/{first}/stress"),
        &[("Content-Type", "application/json")],
        br#"{"cpu_percent": 0}"#,
    );
    drop(d);
    eprintln!("docker scaling cpu test: {:?}", started.elapsed());
}
