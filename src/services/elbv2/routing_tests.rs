//! Unit tests of the ALB rule matcher, redirects and weighted picks.

use super::*;
use crate::services::elbv2::actions::{
    HttpHeaderConfig, QueryPair, QueryStringConfig, RedirectConfig, ValuesConfig,
};

fn cond(field: &str) -> Condition {
    Condition {
        field: Some(field.into()),
        values: None,
        host_header_config: None,
        path_pattern_config: None,
        http_header_config: None,
        query_string_config: None,
        http_request_method_config: None,
        source_ip_config: None,
        regex_values: None,
    }
}

fn values(v: &[&str]) -> Option<ValuesConfig> {
    Some(ValuesConfig {
        values: v.iter().map(|s| (*s).to_owned()).collect(),
        regex_values: None,
    })
}

fn path(p: &[&str]) -> Condition {
    Condition {
        path_pattern_config: values(p),
        ..cond("path-pattern")
    }
}

fn host(h: &[&str]) -> Condition {
    Condition {
        host_header_config: values(h),
        ..cond("host-header")
    }
}

fn req<'a>(method: &'a str, host: &'a str, path: &'a str) -> RequestView<'a> {
    RequestView {
        method,
        host,
        path,
        ..RequestView::default()
    }
}

fn rule(name: &str, priority: Option<u32>, conditions: Vec<Condition>) -> Rule {
    Rule {
        arn: name.into(),
        listener_arn: "l".into(),
        priority,
        conditions,
        actions: Vec::new(),
    }
}

#[test]
fn wildcards_match_as_aws_describes() {
    assert!(wildcard("/api/*", "/api/users", false));
    assert!(wildcard("/api/*", "/api/", false));
    assert!(!wildcard("/api/*", "/api", false));
    assert!(wildcard("*.example.com", "test.example.com", true));
    assert!(!wildcard("*.example.com", "example.com", true));
    assert!(wildcard("*.EXAMPLE.com", "a.b.example.COM", true));
    assert!(wildcard("/img/?.png", "/img/a.png", false));
    assert!(!wildcard("/img/?.png", "/img/ab.png", false));
    assert!(wildcard("*", "", false));
    // `?` is one character, also outside ASCII.
    assert!(wildcard("/caf?", "/café", false));
    assert!(!wildcard("/caf??", "/café", false));
    assert!(wildcard("/Ä*", "/Äpfel", false));
    // Case folding is ASCII only, as before.
    assert!(!wildcard("*É*", "xéy", true));
    assert!(wildcard("/a*b*c", "/aXXbYYc", false));
    assert!(!wildcard("/a*b*c", "/aXXbYY", false));
    // Paths are case-sensitive.
    assert!(!wildcard("/API/*", "/api/x", false));
}

#[test]
fn conditions_and_values() {
    // Values of one condition are ORed.
    assert!(condition_matches(
        &path(&["/a", "/b/*"]),
        &req("GET", "h", "/b/c")
    ));
    assert!(!condition_matches(
        &path(&["/a", "/b/*"]),
        &req("GET", "h", "/c")
    ));
    // Host is case-insensitive.
    assert!(condition_matches(
        &host(&["WWW.example.com"]),
        &req("GET", "www.EXAMPLE.com", "/")
    ));
    // Method: exact and case-sensitive.
    let m = Condition {
        http_request_method_config: values(&["POST"]),
        ..cond("http-request-method")
    };
    assert!(condition_matches(&m, &req("POST", "h", "/")));
    assert!(!condition_matches(&m, &req("post", "h", "/")));
    assert!(!condition_matches(&m, &req("GET", "h", "/")));
    // Header: name and value case-insensitive, wildcards in values.
    let h = Condition {
        http_header_config: Some(HttpHeaderConfig {
            http_header_name: Some("User-Agent".into()),
            values: vec!["*Mobile*".into()],
            regex_values: None,
        }),
        ..cond("http-header")
    };
    let mut r = req("GET", "h", "/");
    assert!(!condition_matches(&h, &r), "no headers at all");
    let mut headers = http::HeaderMap::new();
    headers.insert("user-agent", "x mobile y".parse().unwrap());
    r.headers = Some(&headers);
    assert!(condition_matches(&h, &r));
    let mut desktop = http::HeaderMap::new();
    desktop.insert("user-agent", "desktop".parse().unwrap());
    desktop.append("x-other", "Mobile".parse().unwrap());
    r.headers = Some(&desktop);
    assert!(!condition_matches(&h, &r));
    // Query: a pair without a key matches any key's value.
    let q = Condition {
        query_string_config: Some(QueryStringConfig {
            values: vec![
                QueryPair {
                    key: Some("version".into()),
                    value: "v1".into(),
                },
                QueryPair {
                    key: None,
                    value: "*beta*".into(),
                },
            ],
        }),
        ..cond("query-string")
    };
    let mut r = req("GET", "h", "/");
    assert!(!condition_matches(&q, &r), "no query at all");
    r.query = Some("VERSION=V1");
    assert!(condition_matches(&q, &r));
    // Pairs are compared decoded.
    r.query = Some("a=1&channel=closed%2Dbeta+x");
    assert!(condition_matches(&q, &r));
    r.query = Some("version=v2");
    assert!(!condition_matches(&q, &r));
    // Source IP: CIDR blocks of the connection address.
    let s = Condition {
        source_ip_config: values(&["10.0.0.0/8", "192.168.1.7/32"]),
        ..cond("source-ip")
    };
    let mut r = req("GET", "h", "/");
    r.source = Some("10.1.2.3".parse().unwrap());
    assert!(condition_matches(&s, &r));
    r.source = Some("192.168.1.8".parse().unwrap());
    assert!(!condition_matches(&s, &r));
    r.source = Some("::ffff:192.168.1.7".parse().unwrap());
    assert!(condition_matches(&s, &r));
}

#[test]
fn rules_go_by_priority_all_conditions_and_default_last() {
    let default = rule("default", None, Vec::new());
    let api = rule("api", Some(10), vec![path(&["/api/*"])]);
    let api_admin = rule(
        "api-admin",
        Some(5),
        vec![path(&["/api/*"]), host(&["admin.*"])],
    );
    let catch = rule("catch", Some(20), vec![path(&["*"])]);
    let rules = vec![&default, &catch, &api, &api_admin];
    let pick = |h: &str, p: &str| select_rule(&rules, &req("GET", h, p)).unwrap().arn.clone();
    assert_eq!(pick("admin.example.com", "/api/x"), "api-admin");
    assert_eq!(pick("www.example.com", "/api/x"), "api");
    assert_eq!(pick("www.example.com", "/index.html"), "catch");
    let only = vec![&default, &api];
    assert_eq!(
        select_rule(&only, &req("GET", "h", "/other")).unwrap().arn,
        "default"
    );
}

#[test]
fn redirects_substitute_components() {
    let input = RedirectInput {
        protocol: "HTTP",
        host: "shop.example.com",
        port: 80,
        path: "/cart/1",
        query: "a=b",
    };
    let https = RedirectConfig {
        protocol: Some("HTTPS".into()),
        port: Some("443".into()),
        host: Some("#{host}".into()),
        path: Some("/#{path}".into()),
        query: Some("#{query}".into()),
        status_code: "HTTP_301".into(),
    };
    assert_eq!(
        redirect_location(&https, &input),
        (301, "https://shop.example.com/cart/1?a=b".to_owned())
    );
    let moved = RedirectConfig {
        protocol: None,
        port: None,
        host: Some("new.#{host}".into()),
        path: Some("/v2/#{path}".into()),
        query: Some("from=#{port}".into()),
        status_code: "HTTP_302".into(),
    };
    let input = RedirectInput {
        port: 8080,
        ..input
    };
    assert_eq!(
        redirect_location(&moved, &input),
        (
            302,
            "http://new.shop.example.com:8080/v2/cart/1?from=8080".to_owned()
        )
    );
}

#[test]
fn weighted_picks_follow_weights() {
    assert_eq!(pick_weighted(&[0, 0], 0.5), None);
    assert_eq!(pick_weighted(&[1, 0], 0.99), Some(0));
    assert_eq!(pick_weighted(&[1, 3], 0.2), Some(0));
    assert_eq!(pick_weighted(&[1, 3], 0.3), Some(1));
    assert_eq!(pick_weighted(&[0, 5], 0.0), Some(1));
    let mut counts = [0usize; 2];
    for i in 0..1000 {
        counts[pick_weighted(&[1, 3], f64::from(i) / 1000.0).unwrap()] += 1;
    }
    assert_eq!(counts, [250, 750]);
}

#[test]
fn cidrs_parse_and_contain() {
    assert!(parse_cidr("10.0.0.0/33").is_none());
    assert!(parse_cidr("10.0.0.0").is_none());
    let c = parse_cidr("2001:db8::/32").unwrap();
    assert!(cidr_contains(c, "2001:db8::1".parse().unwrap()));
    assert!(!cidr_contains(c, "2001:db9::1".parse().unwrap()));
    assert!(cidr_contains(
        parse_cidr("0.0.0.0/0").unwrap(),
        "8.8.8.8".parse().unwrap()
    ));
}
