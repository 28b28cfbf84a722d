//! What the load-balancer tests of `lb_features` stand on: a socket backend with a slow path
//! and a path that sets an application cookie, load balancers made InService through the real
//! aws CLI, and CloudWatch reads.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;

use crate::dataplane::Server;

/// The backend: `/slow` answers after 30 s; `/hangup` closes the connection without an
/// answer; `/login` sets the application's `SESSIONID` cookie; anything else answers `ok`.
async fn app(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
    let mut resp = hyper::Response::new(Full::new(Bytes::from_static(b"ok")));
    match req.uri().path() {
        "/slow" => tokio::time::sleep(Duration::from_secs(30)).await,
        // hyper drops the connection of a service that fails.
        "/hangup" => return Err(std::io::Error::other("hang up")),
        "/login" => {
            resp.headers_mut().insert(
                hyper::header::SET_COOKIE,
                hyper::header::HeaderValue::from_static("SESSIONID=s1; Path=/"),
            );
        }
        _ => {}
    }
    Ok(resp)
}

/// The backend on 127.0.0.1:0, in a runtime of its own.
pub fn start_app() -> SocketAddr {
    crate::dataplane::serve_on_loopback(app)
}

/// The sum of a metric's datapoints around now.
pub fn metric_sum(server: &Server, namespace: &str, name: &str, dims: &[(&str, &str)]) -> f64 {
    metric_stat(server, namespace, name, dims, "Sum")
}

/// A statistic of a metric's datapoints around now (summed over the datapoints for `Sum`,
/// the largest otherwise).
pub fn metric_stat(
    server: &Server,
    namespace: &str,
    name: &str,
    dims: &[(&str, &str)],
    statistic: &str,
) -> f64 {
    let now = server.state.clock.now();
    let from = ((now - 3600.0) as i64).to_string();
    let to = ((now + 600.0) as i64).to_string();
    let dims: Vec<String> = dims
        .iter()
        .map(|(k, v)| format!("Name={k},Value={v}"))
        .collect();
    let mut args = vec![
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        namespace,
        "--metric-name",
        name,
        "--start-time",
        &from,
        "--end-time",
        &to,
        "--period",
        "60",
        "--statistics",
        statistic,
    ];
    if !dims.is_empty() {
        args.push("--dimensions");
        args.extend(dims.iter().map(String::as_str));
    }
    let values = server.aws(&args)["Datapoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[statistic].as_f64().unwrap())
        .collect::<Vec<f64>>();
    if statistic == "Sum" {
        values.iter().sum()
    } else {
        values.into_iter().fold(0.0, f64::max)
    }
}

/// The dimension sets `list-metrics` shows for a metric, each as sorted `Name=Value` pairs.
pub fn dimension_sets(server: &Server, namespace: &str, name: &str) -> Vec<Vec<String>> {
    let r = server.aws(&[
        "cloudwatch",
        "list-metrics",
        "--namespace",
        namespace,
        "--metric-name",
        name,
    ]);
    r["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut d: Vec<String> = m["Dimensions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    format!(
                        "{}={}",
                        d["Name"].as_str().unwrap(),
                        d["Value"].as_str().unwrap()
                    )
                })
                .collect();
            d.sort();
            d
        })
        .collect()
}

/// Move the frozen clock over two minute boundaries, so the minute just ended is published.
pub fn publish_minute(server: &Server) {
    server.state.clock.advance(60.0);
    std::thread::sleep(Duration::from_millis(100));
    server.state.clock.advance(60.0);
}

/// An ALB in front of `n` instances (alternating between two zones) with one HTTP listener on
/// port 80, every target healthy. Returns (DNS name, LB ARN, target group ARN, instance ids).
pub fn alb_in_service(
    server: &Server,
    name: &str,
    n: usize,
) -> (String, String, String, Vec<String>) {
    let vpc = server.aws(&["ec2", "describe-vpcs"])["Vpcs"][0]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut subnets: Vec<(String, String)> = server.aws(&[
        "ec2",
        "describe-subnets",
        "--filters",
        "Name=default-for-az,Values=true",
    ])["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["AvailabilityZone"].as_str().unwrap().to_owned(),
                s["SubnetId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    subnets.sort();
    let ami = server.aws(&["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids: Vec<String> = (0..n)
        .map(|i| {
            server.aws(&[
                "ec2",
                "run-instances",
                "--image-id",
                &ami,
                "--subnet-id",
                &subnets[i % 2].1,
            ])["Instances"][0]["InstanceId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    server.state.clock.advance(15.0);
    crate::elb::wait_until("instances running", || {
        server.state.stores.with(&crate::elb::scope(), |s| {
            ids.iter().all(|id| {
                s.ec2.instances[id].state == updraft::services::ec2::store::InstanceState::Running
            })
        })
    });
    let lb = &server.aws(&[
        "elbv2",
        "create-load-balancer",
        "--name",
        name,
        "--subnets",
        &subnets[0].1,
        &subnets[1].1,
    ])["LoadBalancers"][0];
    let (dns, lb_arn) = (
        lb["DNSName"].as_str().unwrap().to_owned(),
        lb["LoadBalancerArn"].as_str().unwrap().to_owned(),
    );
    let tg = server.aws(&[
        "elbv2",
        "create-target-group",
        "--name",
        name,
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--vpc-id",
        &vpc,
        "--health-check-interval-seconds",
        "5",
        "--health-check-timeout-seconds",
        "2",
    ])["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_owned();
    server.aws(&[
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        &lb_arn,
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--default-actions",
        &format!("Type=forward,TargetGroupArn={tg}"),
    ]);
    let targets: Vec<String> = ids.iter().map(|id| format!("Id={id}")).collect();
    let mut args = vec![
        "elbv2",
        "register-targets",
        "--target-group-arn",
        &tg,
        "--targets",
    ];
    args.extend(targets.iter().map(String::as_str));
    server.aws(&args);
    let healthy = || {
        server.aws(&["elbv2", "describe-target-health", "--target-group-arn", &tg])
            ["TargetHealthDescriptions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["TargetHealth"]["State"] == "healthy")
            .count()
    };
    let start = Instant::now();
    while healthy() < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "targets never healthy"
        );
        server.state.clock.advance(10.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    (dns, lb_arn, tg, ids)
}

pub fn host(server: &Server, dns: &str) -> String {
    format!("{dns}:{}", server.addr.port())
}

/// A Classic load balancer enabled in the zones of `zones`, with one InService instance per
/// entry (launched in that zone), HTTP:80 → 80. Returns (DNS name, instance ids).
pub fn classic_in_service(server: &Server, name: &str, zones: &[&str]) -> (String, Vec<String>) {
    let ami = server.aws(&["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids: Vec<String> = zones
        .iter()
        .map(|zone| {
            server.aws(&[
                "ec2",
                "run-instances",
                "--image-id",
                &ami,
                "--placement",
                &format!("AvailabilityZone={zone}"),
            ])["Instances"][0]["InstanceId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut enabled: Vec<&str> = zones.to_vec();
    enabled.sort_unstable();
    enabled.dedup();
    let mut args = vec![
        "elb",
        "create-load-balancer",
        "--load-balancer-name",
        name,
        "--listeners",
        "Protocol=HTTP,LoadBalancerPort=80,InstancePort=80",
        "--availability-zones",
    ];
    args.extend(enabled);
    let dns = server.aws(&args)["DNSName"].as_str().unwrap().to_owned();
    server.aws(&[
        "elb",
        "configure-health-check",
        "--load-balancer-name",
        name,
        "--health-check",
        "Target=HTTP:80/health,Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2",
    ]);
    let mut args = vec![
        "elb",
        "register-instances-with-load-balancer",
        "--load-balancer-name",
        name,
        "--instances",
    ];
    args.extend(ids.iter().map(String::as_str));
    server.aws(&args);
    let scope = crate::elb::scope();
    let start = Instant::now();
    while !ids.iter().all(|id| {
        updraft::services::elb::instance_in_service(&server.state, &scope, name, id) == Some(true)
    }) {
        assert!(start.elapsed() < Duration::from_secs(20), "never InService");
        server.state.clock.advance(5.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    (dns, ids)
}
