//! Auto Scaling with load balancers, through the pinned aws CLI on a frozen clock: a group
//! behind the chapter's Classic ELB and an ALB target group registers its instances, which
//! turn InService / healthy there and answer through the proxy; a group whose
//! `HealthCheckType` is ELB replaces an instance the load balancer finds unhealthy, with
//! AWS's cause; scale-in deregisters before it terminates.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::autoscaling::{Asg, count_in_service};
use crate::elb::get;

/// A launch configuration serving the simulated default page on port 80.
fn launch_configuration(t: &Asg, name: &str) {
    let ami = t.ami();
    t.cli(&[
        "autoscaling",
        "create-launch-configuration",
        "--launch-configuration-name",
        name,
        "--image-id",
        &ami,
        "--instance-type",
        "t3.micro",
    ]);
}

/// A Classic ELB on HTTP 80 → 80 in the zones of `subnets`, with the health check given.
fn classic(t: &Asg, name: &str, subnets: &[String], target: &str) -> String {
    let lb = t.cli(&[
        "elb",
        "create-load-balancer",
        "--load-balancer-name",
        name,
        "--listeners",
        "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80",
        "--subnets",
        &subnets[0],
        &subnets[1],
    ]);
    t.cli(&[
        "elb",
        "configure-health-check",
        "--load-balancer-name",
        name,
        "--health-check",
        &format!("Target={target},Interval=10,Timeout=5,UnhealthyThreshold=2,HealthyThreshold=2"),
    ]);
    lb["DNSName"].as_str().unwrap().to_owned()
}

fn group(t: &Asg, name: &str, lc: &str, size: u32, subnets: &[String], extra: &[&str]) {
    let size = size.to_string();
    let zones = subnets.join(",");
    let mut args = vec![
        "autoscaling",
        "create-auto-scaling-group",
        "--auto-scaling-group-name",
        name,
        "--launch-configuration-name",
        lc,
        "--min-size",
        "1",
        "--max-size",
        "3",
        "--desired-capacity",
        &size,
        "--vpc-zone-identifier",
        &zones,
    ];
    args.extend_from_slice(extra);
    t.cli(&args);
}

fn instance_health(t: &Asg, lb: &str) -> Vec<(String, String)> {
    let h = t.cli(&[
        "elb",
        "describe-instance-health",
        "--load-balancer-name",
        lb,
    ]);
    h["InstanceStates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["InstanceId"].as_str().unwrap().to_owned(),
                s["State"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn members(t: &Asg, group: &str) -> BTreeSet<String> {
    let g = t.cli(&[
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        group,
    ]);
    g["AutoScalingGroups"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_group_behind_the_chapters_elb_registers_serves_and_deregisters() {
    let t = Asg::start();
    let subnets = t.default_subnets();
    let dns = classic(&t, "exampleelb", &subnets, "HTTP:80/index.html");
    launch_configuration(&t, "web-lc");
    group(
        &t,
        "web",
        "web-lc",
        2,
        &subnets,
        &[
            "--load-balancer-names",
            "exampleelb",
            "--health-check-type",
            "ELB",
            "--health-check-grace-period",
            "60",
        ],
    );
    t.run_until(120, |s| count_in_service(s, "web") == 2);
    let ids = members(&t, "web");
    assert_eq!(ids.len(), 2);

    // Registered by the group; InService once the checks pass (2 × 10 s).
    t.run_for(30);
    let health = instance_health(&t, "exampleelb");
    assert_eq!(
        health
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<BTreeSet<_>>(),
        ids,
        "{health:?}"
    );
    assert!(health.iter().all(|(_, s)| s == "InService"), "{health:?}");

    // Both members answer through the proxy, round robin.
    let mut served = BTreeSet::new();
    for _ in 0..4 {
        let r = get(t.server.addr, &dns, "/", &[]);
        assert_eq!(r.status, 200, "{r:?}");
        let id = ids.iter().find(|id| r.body.contains(id.as_str()));
        served.insert(id.expect("a member answered").clone());
    }
    assert_eq!(served, ids);

    // DescribeLoadBalancers on the group's side shows the attachment.
    let attached = t.cli(&[
        "autoscaling",
        "describe-load-balancers",
        "--auto-scaling-group-name",
        "web",
    ]);
    assert_eq!(
        attached["LoadBalancers"][0]["LoadBalancerName"],
        "exampleelb"
    );

    // Scale in: the victim leaves the load balancer before it is terminated.
    t.cli(&[
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        "web",
        "--desired-capacity",
        "1",
    ]);
    t.run_until(120, |s| {
        s.autoscaling
            .groups
            .get("web")
            .is_some_and(|g| g.instances.len() == 1)
    });
    t.run_for(10);
    let left = members(&t, "web");
    let health = instance_health(&t, "exampleelb");
    assert_eq!(
        health
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<BTreeSet<_>>(),
        left,
        "{health:?}"
    );
}

#[test]
fn an_elb_health_check_failure_replaces_the_instance_with_awss_cause() {
    let t = Asg::start();
    let subnets = t.default_subnets();
    // Nothing listens on 8080 on these instances: every check fails.
    classic(&t, "brokenelb", &subnets, "TCP:8080");
    launch_configuration(&t, "broken-lc");
    group(
        &t,
        "broken",
        "broken-lc",
        1,
        &subnets,
        &[
            "--load-balancer-names",
            "brokenelb",
            "--health-check-type",
            "ELB",
            "--health-check-grace-period",
            "60",
        ],
    );
    t.run_until(120, |s| count_in_service(s, "broken") == 1);
    let first: Vec<String> = members(&t, "broken").into_iter().collect();
    let first = first[0].clone();
    let unhealthy = instance_health(&t, "brokenelb");
    // Not replaced within the grace period even though the checks already fail.
    t.run_for(30);
    assert!(members(&t, "broken").contains(&first), "{unhealthy:?}");
    t.run_until(300, |s| {
        s.autoscaling
            .groups
            .get("broken")
            .is_some_and(|g| !g.instances.contains_key(&first))
    });
    let activities = t.activities("broken");
    let termination: &Value = activities
        .iter()
        .find(|a| {
            a["Description"]
                .as_str()
                .is_some_and(|d| d.starts_with("Terminating EC2 instance") && d.contains(&first))
        })
        .expect("a termination activity");
    let cause = termination["Cause"].as_str().unwrap();
    assert!(
        cause.contains("ELB system health check failure"),
        "cause: {cause}"
    );
}

#[test]
fn a_group_with_a_target_group_gets_healthy_targets_behind_an_alb() {
    let t = Asg::start();
    let subnets = t.default_subnets();
    let vpc = t.cli(&[
        "ec2",
        "describe-vpcs",
        "--filters",
        "Name=is-default,Values=true",
    ]);
    let vpc = vpc["Vpcs"][0]["VpcId"].as_str().unwrap().to_owned();
    let lb = t.cli(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        "web-alb",
        "--subnets",
        &subnets[0],
        &subnets[1],
    ]);
    let lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let dns = lb["LoadBalancers"][0]["DNSName"]
        .as_str()
        .unwrap()
        .to_owned();
    let tg = t.cli(&[
        "elbv2",
        "create-target-group",
        "--name",
        "web-tg",
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--vpc-id",
        &vpc,
        "--health-check-interval-seconds",
        "10",
    ]);
    let tg_arn = tg["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_owned();
    t.cli(&[
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        &lb_arn,
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--default-actions",
        &format!("Type=forward,TargetGroupArn={tg_arn}"),
    ]);
    launch_configuration(&t, "alb-lc");
    group(
        &t,
        "alb-web",
        "alb-lc",
        2,
        &subnets,
        &["--target-group-arns", &tg_arn, "--health-check-type", "ELB"],
    );
    t.run_until(120, |s| count_in_service(s, "alb-web") == 2);
    let ids = members(&t, "alb-web");
    t.run_for(60);
    let health = t.cli(&[
        "elbv2",
        "describe-target-health",
        "--target-group-arn",
        &tg_arn,
    ]);
    let states: BTreeSet<(String, String)> = health["TargetHealthDescriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["Target"]["Id"].as_str().unwrap().to_owned(),
                d["TargetHealth"]["State"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = ids
        .iter()
        .map(|id| (id.clone(), "healthy".to_owned()))
        .collect();
    assert_eq!(states, want);
    let r = get(t.server.addr, &dns, "/", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(ids.iter().any(|id| r.body.contains(id.as_str())), "{r:?}");
}
