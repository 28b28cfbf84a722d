//! Load-balancer behaviour against a real socket backend, through the real aws CLI: the idle
//! timeout (a backend that never answers gets the client a 504), application-cookie
//! stickiness of Classic (`AWSELB`) and ALB (`AWSALBAPP-0`), written only when the application
//! sets its cookie, and metrics per Availability Zone.

use std::time::{Duration, Instant};

use updraft::Config;

use crate::dataplane::start_server;
use crate::elb::{get, wait_until};
use crate::lb_setup::{
    alb_in_service, classic_in_service, dimension_sets, host, metric_stat, metric_sum,
    publish_minute, start_app,
};

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
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
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

    // An instance that closes the connection without answering is a 504 too, at once.
    let started = Instant::now();
    let r = get(server.addr, &host, "/hangup", &[]);
    assert_eq!(
        (r.status, r.reason.as_str()),
        (504, "GATEWAY_TIMEOUT"),
        "{r:?}"
    );
    assert_eq!(r.body, "");
    assert!(started.elapsed() < Duration::from_millis(900));
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
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
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

    // A target that closes the connection without answering: ALB's 502 page (122 bytes).
    let r = get(server.addr, &host, "/hangup", &[]);
    assert_eq!((r.status, r.reason.as_str()), (502, "Bad Gateway"), "{r:?}");
    assert_eq!(r.body.len(), 122, "{}", r.body);
    assert!(
        r.body.contains("<title>502 Bad Gateway</title>"),
        "{}",
        r.body
    );
    assert_eq!(r.header("server"), ["awselb/2.0"]);
}

/// The instance an `AWSELB` Set-Cookie names, and the cookie as sent.
fn awselb(r: &crate::elb::Resp) -> Option<(String, String)> {
    let cookie = r
        .header("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("AWSELB="))?
        .to_owned();
    let value = cookie["AWSELB=".len()..].split(';').next()?.to_owned();
    let id = String::from_utf8(hex::decode(&value).ok()?).ok()?;
    Some((id, cookie))
}

#[test]
fn classic_app_cookie_stickiness_follows_the_application_cookie() {
    let server = start_server(start_app(), Config::default());
    let (dns, ids) = classic_in_service(&server, "appsticky", &["us-east-1a", "us-east-1a"]);
    let host = host(&server, &dns);
    server.aws(&[
        "elb",
        "create-app-cookie-stickiness-policy",
        "--load-balancer-name",
        "appsticky",
        "--policy-name",
        "follow-session",
        "--cookie-name",
        "SESSIONID",
    ]);
    server.aws(&[
        "elb",
        "set-load-balancer-policies-of-listener",
        "--load-balancer-name",
        "appsticky",
        "--load-balancer-port",
        "80",
        "--policy-names",
        "follow-session",
    ]);

    // The application sets no cookie: neither does the load balancer.
    for _ in 0..2 {
        let r = get(server.addr, &host, "/", &[]);
        assert_eq!(r.status, 200);
        assert!(r.header("set-cookie").is_empty(), "{r:?}");
    }

    // The application sets SESSIONID: AWSELB (and its CORS twin) name the instance that
    // served, with no MAX-AGE of their own. Round robin: two logins, two instances.
    let mut named = Vec::new();
    for _ in 0..2 {
        let r = get(server.addr, &host, "/login", &[]);
        assert_eq!(r.status, 200);
        assert!(
            r.header("set-cookie").contains(&"SESSIONID=s1; Path=/"),
            "{r:?}"
        );
        let (id, cookie) = awselb(&r).expect("AWSELB set");
        assert!(cookie.ends_with(";PATH=/"), "{cookie}");
        assert!(
            r.header("set-cookie").iter().any(
                |c| c.starts_with("AWSELBCORS=") && c.ends_with(";PATH=/;SECURE;SAMESITE=None")
            ),
            "{r:?}"
        );
        named.push(id);
    }
    named.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(named, all, "each login names the instance that served it");

    // With the cookie the session stays on its instance: a new application cookie renews
    // AWSELB for the same instance; other responses add nothing.
    let value = updraft::services::elb::dataplane::cookie_value(&ids[1]);
    let cookie = format!("SESSIONID=s1; AWSELB={value}");
    for _ in 0..3 {
        let r = get(server.addr, &host, "/login", &[("Cookie", &cookie)]);
        assert_eq!(
            awselb(&r).map(|(id, _)| id).as_deref(),
            Some(ids[1].as_str())
        );
        let r = get(server.addr, &host, "/", &[("Cookie", &cookie)]);
        assert!(r.header("set-cookie").is_empty(), "{r:?}");
    }
}

#[test]
fn classic_metrics_per_availability_zone_and_for_the_region() {
    let server = start_server(start_app(), Config::default());
    let (dns, _) = classic_in_service(&server, "zoned", &["us-east-1a", "us-east-1b"]);
    let host = host(&server, &dns);
    // Cross-zone load balancing is off: requests alternate between the zones.
    for _ in 0..4 {
        assert_eq!(get(server.addr, &host, "/", &[]).status, 200);
    }
    publish_minute(&server);
    let lb = [("LoadBalancerName", "zoned")];
    let zone_a = [
        ("LoadBalancerName", "zoned"),
        ("AvailabilityZone", "us-east-1a"),
    ];
    let zone_b = [
        ("LoadBalancerName", "zoned"),
        ("AvailabilityZone", "us-east-1b"),
    ];
    wait_until("RequestCount published", || {
        metric_sum(&server, "AWS/ELB", "RequestCount", &lb) >= 4.0
    });
    assert_eq!(metric_sum(&server, "AWS/ELB", "RequestCount", &lb), 4.0);
    assert_eq!(metric_sum(&server, "AWS/ELB", "RequestCount", &zone_a), 2.0);
    assert_eq!(metric_sum(&server, "AWS/ELB", "RequestCount", &zone_b), 2.0);
    assert_eq!(
        metric_sum(&server, "AWS/ELB", "HTTPCode_Backend_2XX", &zone_a),
        2.0
    );
    assert_eq!(metric_sum(&server, "AWS/ELB", "RequestCount", &[]), 4.0);
    for dims in [&zone_a, &zone_b] {
        let healthy = metric_stat(&server, "AWS/ELB", "HealthyHostCount", dims, "Maximum");
        assert_eq!(healthy, 1.0, "{dims:?}");
    }
    assert_eq!(
        metric_stat(&server, "AWS/ELB", "HealthyHostCount", &lb, "Maximum"),
        2.0
    );
    let sets = dimension_sets(&server, "AWS/ELB", "RequestCount");
    for want in [
        vec![],
        vec!["LoadBalancerName=zoned".to_owned()],
        vec![
            "AvailabilityZone=us-east-1a".to_owned(),
            "LoadBalancerName=zoned".to_owned(),
        ],
        vec![
            "AvailabilityZone=us-east-1b".to_owned(),
            "LoadBalancerName=zoned".to_owned(),
        ],
    ] {
        assert!(sets.contains(&want), "{want:?} not in {sets:?}");
    }
}

#[test]
fn alb_metrics_per_availability_zone() {
    let server = start_server(start_app(), Config::default());
    let (dns, lb_arn, tg_arn, ids) = alb_in_service(&server, "zoned-alb", 2);
    let host = host(&server, &dns);
    let zones: Vec<String> = ids
        .iter()
        .map(|id| {
            server.aws(&["ec2", "describe-instances", "--instance-ids", id])["Reservations"][0]
                ["Instances"][0]["Placement"]["AvailabilityZone"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_ne!(zones[0], zones[1]);
    // Round robin over the two targets, one in each zone.
    for _ in 0..4 {
        assert_eq!(get(server.addr, &host, "/", &[]).status, 200);
    }
    publish_minute(&server);
    let lb = lb_arn.split(":loadbalancer/").nth(1).unwrap().to_owned();
    let tg = format!(
        "targetgroup/{}",
        tg_arn.split(":targetgroup/").nth(1).unwrap()
    );
    let ns = "AWS/ApplicationELB";
    wait_until("RequestCount published", || {
        metric_sum(&server, ns, "RequestCount", &[("LoadBalancer", &lb)]) >= 4.0
    });
    for zone in &zones {
        let lb_zone = [
            ("LoadBalancer", lb.as_str()),
            ("AvailabilityZone", zone.as_str()),
        ];
        let tg_zone = [
            ("TargetGroup", tg.as_str()),
            ("LoadBalancer", lb.as_str()),
            ("AvailabilityZone", zone.as_str()),
        ];
        assert_eq!(
            metric_sum(&server, ns, "RequestCount", &lb_zone),
            2.0,
            "{zone}"
        );
        assert_eq!(
            metric_sum(&server, ns, "RequestCount", &tg_zone),
            2.0,
            "{zone}"
        );
        assert_eq!(
            metric_sum(&server, ns, "HTTPCode_Target_2XX_Count", &tg_zone),
            2.0
        );
        let healthy = metric_stat(&server, ns, "HealthyHostCount", &tg_zone, "Maximum");
        assert_eq!(healthy, 1.0, "{zone}");
    }
    assert_eq!(
        metric_sum(&server, ns, "RequestCount", &[("LoadBalancer", &lb)]),
        4.0
    );
    let sets = dimension_sets(&server, ns, "HealthyHostCount");
    let want = vec![
        format!("AvailabilityZone={}", zones[0]),
        format!("LoadBalancer={lb}"),
        format!("TargetGroup={tg}"),
    ];
    assert!(sets.contains(&want), "{want:?} not in {sets:?}");
}

/// The target (`id:port`) an `AWSALBAPP-0` Set-Cookie names.
fn awsalbapp(r: &crate::elb::Resp) -> Option<String> {
    use base64::Engine;
    let cookie = r
        .header("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("AWSALBAPP-0="))?;
    let value = cookie["AWSALBAPP-0=".len()..].split(';').next()?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split('|').next()?.to_owned())
}

#[test]
fn alb_app_cookie_stickiness_follows_the_application_cookie() {
    let server = start_server(start_app(), Config::default());
    let (dns, _, tg, ids) = alb_in_service(&server, "appsticky-alb", 2);
    let host = host(&server, &dns);
    server.aws(&[
        "elbv2",
        "modify-target-group-attributes",
        "--target-group-arn",
        &tg,
        "--attributes",
        "Key=stickiness.enabled,Value=true",
        "Key=stickiness.type,Value=app_cookie",
        "Key=stickiness.app_cookie.cookie_name,Value=SESSIONID",
    ]);
    for _ in 0..2 {
        let r = get(server.addr, &host, "/", &[]);
        assert_eq!(r.status, 200);
        assert!(r.header("set-cookie").is_empty(), "{r:?}");
    }
    let mut named: Vec<String> = (0..2)
        .map(|_| {
            let r = get(server.addr, &host, "/login", &[]);
            assert!(
                r.header("set-cookie").contains(&"SESSIONID=s1; Path=/"),
                "{r:?}"
            );
            awsalbapp(&r).expect("AWSALBAPP-0 set")
        })
        .collect();
    named.sort();
    let mut want: Vec<String> = ids.iter().map(|id| format!("{id}:80")).collect();
    want.sort();
    assert_eq!(named, want, "each login names the target that served it");

    // Brought back, the cookie keeps the session on its target.
    let r = get(server.addr, &host, "/login", &[]);
    let target = awsalbapp(&r).unwrap();
    let value = r
        .header("set-cookie")
        .into_iter()
        .find_map(|c| c.strip_prefix("AWSALBAPP-0="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let cookie = format!("SESSIONID=s1; AWSALBAPP-0={value}");
    for _ in 0..3 {
        let r = get(server.addr, &host, "/login", &[("Cookie", &cookie)]);
        assert_eq!(awsalbapp(&r).as_deref(), Some(target.as_str()));
        let r = get(server.addr, &host, "/", &[("Cookie", &cookie)]);
        assert!(r.header("set-cookie").is_empty(), "{r:?}");
    }
}
