//! Load-balancer behaviour against a real socket backend, through the real aws CLI: the idle
//! timeout (a backend that never answers gets the client a 504).

use std::time::{Duration, Instant};

use updraft::Config;

use crate::dataplane::start_server;
use crate::elb::{get, wait_until};
use crate::lb_setup::{alb_in_service, host, metric_sum, publish_minute, start_app};

#[test]
fn classic_idle_timeout_answers_504_gateway_timeout() {
    let server = start_server(start_app(), Config::default());
    let dns = server.lb_in_service("idle", 80);
    let host = host(&server, &dns);
    let attrs = server.aws(&[
        "elb",
        "modify-load-balancer-attributes",
        "--load-balancer-name",
        "idle",
        "--load-balancer-attributes",
        "ConnectionSettings={IdleTimeout=1}",
    ]);
    assert_eq!(
        attrs["LoadBalancerAttributes"]["ConnectionSettings"]["IdleTimeout"],
        1
    );
    // A backend that answers in time is unaffected.
    assert_eq!(get(server.addr, &host, "/", &[]).status, 200);

    let started = Instant::now();
    let r = get(server.addr, &host, "/slow", &[]);
    let took = started.elapsed();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (504, "GATEWAY_TIMEOUT"),
        "{r:?}"
    );
    assert_eq!(r.header("content-length"), ["0"]);
    assert_eq!(r.body, "");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // Counted as a load-balancer 5XX, not as a backend answer.
    publish_minute(&server);
    let dims = [("LoadBalancerName", "idle")];
    wait_until("HTTPCode_ELB_5XX published", || {
        metric_sum(&server, "AWS/ELB", "HTTPCode_ELB_5XX", &dims) >= 1.0
    });
    assert_eq!(
        metric_sum(&server, "AWS/ELB", "HTTPCode_ELB_5XX", &dims),
        1.0
    );
    assert_eq!(
        metric_sum(&server, "AWS/ELB", "HTTPCode_Backend_2XX", &dims),
        1.0
    );
}

#[test]
fn alb_idle_timeout_answers_504_gateway_time_out() {
    let server = start_server(start_app(), Config::default());
    let (dns, lb_arn, _, _) = alb_in_service(&server, "idle-alb", 1);
    let host = host(&server, &dns);
    // The default (60 s) leaves a quick backend alone.
    assert_eq!(get(server.addr, &host, "/", &[]).status, 200);
    server.aws(&[
        "elbv2",
        "modify-load-balancer-attributes",
        "--load-balancer-arn",
        &lb_arn,
        "--attributes",
        "Key=idle_timeout.timeout_seconds,Value=1",
    ]);
    let started = Instant::now();
    let r = get(server.addr, &host, "/slow", &[]);
    let took = started.elapsed();
    assert_eq!(
        (r.status, r.reason.as_str()),
        (504, "Gateway Time-out"),
        "{r:?}"
    );
    assert!(
        r.body.contains("<title>504 Gateway Time-out</title>"),
        "{}",
        r.body
    );
    assert_eq!(r.header("server"), ["awselb/2.0"]);
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );

    publish_minute(&server);
    let lb_dim = lb_arn.split(":loadbalancer/").nth(1).unwrap().to_owned();
    let dims = [("LoadBalancer", lb_dim.as_str())];
    wait_until("HTTPCode_ELB_5XX_Count published", || {
        metric_sum(
            &server,
            "AWS/ApplicationELB",
            "HTTPCode_ELB_5XX_Count",
            &dims,
        ) >= 1.0
    });
    assert_eq!(
        metric_sum(
            &server,
            "AWS/ApplicationELB",
            "HTTPCode_ELB_504_Count",
            &dims
        ),
        1.0
    );
    assert_eq!(
        metric_sum(
            &server,
            "AWS/ApplicationELB",
            "HTTPCode_Target_2XX_Count",
            &dims
        ),
        1.0
    );
}
