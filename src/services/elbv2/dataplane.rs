//! The ALB resolver of the data plane (asked through `crate::lb::Resolver`): which listener and rule a request
//! hits, and what the rule's action makes of it — a forward to a healthy target chosen by the
//! group's algorithm (with duration- or application-based stickiness, [`super::stickiness`]),
//! a redirect, or a fixed response.
//!
//! As on AWS: weighted target groups are picked at random by weight (group stickiness keeps a
//! client on its group with the `AWSALBTG` cookie); inside a group only `healthy` targets get
//! traffic, except that a group whose targets are all unhealthy **fails open** to all of them;
//! a group with no usable target answers ALB's 503 page (`Server: awselb/2.0`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::actions::Action;
use super::routing::{RedirectInput, RequestView, pick_weighted, redirect_location, select_rule};
use super::stickiness::{self, http_date};
use super::store::{Elbv2Store, Health, LoadBalancer, Rule, TargetGroup};
use crate::backend::HttpAddress;
use crate::lb::alb_error_page;
use crate::lb::{
    Backend, Decision, Forward, LbEntry, LbKind, LbRef, Outcome, RequestInfo, Route,
    host_without_port, request_cookie,
};
use crate::services::ec2::store::InstanceState;
use crate::state::{AppState, RegionStores, Scope};

/// `idle_timeout.timeout_seconds` when the attribute is missing (its default).
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Put (or refresh) a load balancer in the data plane's DNS index with its listener ports
/// and, among them, those of TCP-family listeners (a network load balancer's flows).
pub fn index(state: &AppState, scope: &Scope, lb: &LoadBalancer, ports: &[u16], tcp_ports: &[u16]) {
    state.dataplane.index.insert(
        &lb.dns_name,
        LbEntry {
            lb: LbRef {
                scope: scope.clone(),
                kind: LbKind::Application,
                name: lb.arn.clone(),
            },
            ports: ports.to_vec(),
            tcp_ports: tcp_ports.to_vec(),
        },
    );
}

fn unavailable() -> Route {
    alb_error_page(503, "Service Temporarily Unavailable")
}

fn view_of(req: &RequestInfo<'_>) -> RequestView {
    RequestView {
        method: req.method.as_str().to_owned(),
        host: host_without_port(req.host),
        path: req.path.to_owned(),
        query: req
            .query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        headers: req
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        source: Some(req.client.ip()),
    }
}

/// The address of a target: its instance's service port, or a loopback socket for an `ip`
/// target (no traffic leaves the machine), or an instance's private IP.
pub(super) fn address(
    state: &AppState,
    s: &RegionStores,
    tg: &TargetGroup,
    id: &str,
    port: u16,
) -> Option<HttpAddress> {
    if tg.target_type == "instance" {
        return state.backend.http_address(id, port);
    }
    let ip: std::net::IpAddr = id.parse().ok()?;
    if ip.is_loopback() {
        return Some(HttpAddress::Socket(std::net::SocketAddr::new(ip, port)));
    }
    let instance = s
        .ec2
        .instances
        .values()
        .find(|i| std::net::IpAddr::V4(i.private_ip) == ip)?;
    state.backend.http_address(&instance.id, port)
}

/// The targets of a group that may get traffic, in round-robin or least-outstanding order,
/// with the sticky one (if any) first.
pub(super) fn candidates(
    s: &mut RegionStores,
    tg_arn: &str,
    sticky: Option<&str>,
) -> Vec<(String, u16)> {
    let Some(tg) = s.elbv2.target_groups.get(tg_arn) else {
        return Vec::new();
    };
    let running = |id: &str| {
        tg.target_type != "instance"
            || s.ec2
                .instances
                .get(id)
                .is_some_and(|i| i.state == InstanceState::Running)
                && super::targets::zone_enabled(s, tg, id)
    };
    let usable: Vec<&super::store::Target> = tg
        .targets
        .values()
        .filter(|t| t.draining_until.is_none() && running(&t.id))
        .collect();
    let healthy: Vec<&super::store::Target> = usable
        .iter()
        .copied()
        .filter(|t| t.health == Health::Healthy)
        .collect();
    // Fail open: every usable target when none is healthy (but some have a verdict).
    let pool = if healthy.is_empty()
        && usable
            .iter()
            .all(|t| matches!(t.health, Health::Unhealthy(..)))
    {
        usable
    } else {
        healthy
    };
    if pool.is_empty() {
        return Vec::new();
    }
    let mut keys: Vec<(String, u16, u32)> = pool
        .iter()
        .map(|t| (t.id.clone(), t.port, t.in_flight))
        .collect();
    let lor = tg.attribute("load_balancing.algorithm.type") == "least_outstanding_requests";
    let cursor = s.elbv2.cursors.entry(tg_arn.to_owned()).or_insert(0);
    let start = *cursor % keys.len();
    *cursor = cursor.wrapping_add(1);
    keys.rotate_left(start);
    if lor {
        keys.sort_by_key(|k| k.2);
    }
    let mut out: Vec<(String, u16)> = keys.into_iter().map(|(id, p, _)| (id, p)).collect();
    if let Some(sticky) = sticky
        && let Some(pos) = out.iter().position(|(id, p)| format!("{id}:{p}") == sticky)
    {
        let t = out.remove(pos);
        out.insert(0, t);
    }
    out
}

fn forward_group(
    store: &Elbv2Store,
    action: &Action,
    req: &RequestInfo<'_>,
    now: f64,
) -> (Option<String>, Vec<String>) {
    let Some(fc) = &action.forward_config else {
        return (action.target_group_arn.clone(), Vec::new());
    };
    let arns: Vec<String> = fc
        .target_groups
        .iter()
        .filter_map(|t| t.target_group_arn.clone())
        .collect();
    let weights: Vec<i64> = fc
        .target_groups
        .iter()
        .map(|t| t.weight.unwrap_or(1))
        .collect();
    let stick = fc
        .target_group_stickiness_config
        .as_ref()
        .filter(|s| s.enabled == Some(true));
    let mut cookies = Vec::new();
    if let Some(st) = stick {
        let from_cookie = request_cookie(req.headers, "AWSALBTG")
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|arn| {
                arns.iter()
                    .zip(&weights)
                    .any(|(a, w)| a == arn && *w > 0 && store.target_groups.contains_key(a))
            });
        let chosen = from_cookie
            .or_else(|| pick_weighted(&weights, rand::random::<f64>()).map(|i| arns[i].clone()));
        if let Some(arn) = &chosen {
            let value = URL_SAFE_NO_PAD.encode(arn);
            let expires = http_date(now + st.duration_seconds.unwrap_or(3600) as f64);
            cookies.push(format!("AWSALBTG={value}; Expires={expires}; Path=/"));
            cookies.push(format!(
                "AWSALBTGCORS={value}; Expires={expires}; Path=/; SameSite=None; Secure"
            ));
        }
        return (chosen, cookies);
    }
    (
        pick_weighted(&weights, rand::random::<f64>()).map(|i| arns[i].clone()),
        cookies,
    )
}

/// The data plane asks where a request for this ALB goes.
pub fn route(state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision {
    let now = state.clock.now();
    let scope = lb.scope.clone();
    let lb_arn = lb.name.clone();
    let view = view_of(req);
    let decided = state
        .stores
        .with(&scope, |s| decide(state, s, &lb_arn, req, &view, now));
    let Some((route, tg_arn, zones)) = decided else {
        return Decision::plain(unavailable());
    };
    let first = match &route {
        Route::Forward(f) => f.backends.first().map(|b| (b.instance_id.clone(), b.port)),
        _ => None,
    };
    let st = state.clone();
    let on_complete = Box::new(move |o: &Outcome| {
        // The zone of the target that served; an answer of the load balancer's own counts in
        // the zone of the target it was for.
        let zone = zones
            .get(o.served_by.unwrap_or(0))
            .map(String::as_str)
            .filter(|z| !z.is_empty());
        let now = st.clock.now();
        st.stores.with(&scope, |s| {
            super::metrics::record(
                &mut s.elbv2,
                &lb_arn,
                tg_arn.as_deref(),
                first.as_ref(),
                zone,
                o,
                now,
            );
        });
    });
    Decision {
        route,
        on_complete: Some(on_complete),
    }
}

/// Decide under the store lock: the route and the target group it forwards to.
fn decide(
    state: &AppState,
    s: &mut RegionStores,
    lb_arn: &str,
    req: &RequestInfo<'_>,
    view: &RequestView,
    now: f64,
) -> Option<(Route, Option<String>, Vec<String>)> {
    let lb = s.elbv2.load_balancers.get(lb_arn)?;
    let listeners = s.elbv2.listeners_of(lb_arn);
    let host_port = crate::lb::host_port(req.host);
    let listener = req
        .listener_port
        .or(host_port)
        .and_then(|p| listeners.iter().find(|l| l.port == p))
        .or_else(|| {
            listeners
                .iter()
                .find(|l| matches!(l.protocol.as_str(), "HTTP" | "HTTPS"))
        })?;
    let (listener_arn, port, protocol) = (
        listener.arn.clone(),
        listener.port,
        listener.protocol.clone(),
    );
    let idle_timeout = lb
        .attributes
        .get("idle_timeout.timeout_seconds")
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(DEFAULT_IDLE_TIMEOUT, |s| Duration::from_secs(s.max(1)));
    let rules: Vec<&Rule> = s
        .elbv2
        .rules
        .values()
        .filter(|r| r.listener_arn == listener_arn)
        .collect();
    let rule = select_rule(&rules, view)?;
    let action = rule.actions.last()?.clone();
    match action.kind.as_str() {
        "fixed-response" => {
            let f = action.fixed_response_config?;
            let route = Route::Fixed {
                status: f.status_code.parse().unwrap_or(200),
                content_type: Some(f.content_type.unwrap_or_else(|| "text/plain".into())),
                body: f.message_body.unwrap_or_default(),
                headers: vec![("Server".into(), "awselb/2.0".into())],
            };
            Some((route, None, Vec::new()))
        }
        "redirect" => {
            let r = action.redirect_config?;
            let (status, location) = redirect_location(
                &r,
                &RedirectInput {
                    protocol: &protocol,
                    host: &view.host,
                    port,
                    path: &view.path,
                    query: req.query.unwrap_or(""),
                },
            );
            Some((Route::Redirect { status, location }, None, Vec::new()))
        }
        _ => {
            let (tg_arn, set_cookies) = forward_group(&s.elbv2, &action, req, now);
            let Some(tg_arn) = tg_arn else {
                return Some((unavailable(), None, Vec::new()));
            };
            let mode = s
                .elbv2
                .target_groups
                .get(&tg_arn)
                .and_then(stickiness::mode);
            let sticky = mode
                .as_ref()
                .and_then(|m| stickiness::stuck_target(m, req.headers, now));
            let picked = candidates(s, &tg_arn, sticky.as_deref());
            let tg = s.elbv2.target_groups.get(&tg_arn)?;
            let backends: Vec<Backend> = picked
                .iter()
                .filter_map(|(id, p)| {
                    Some(Backend {
                        instance_id: id.clone(),
                        port: *p,
                        address: address(state, s, tg, id, *p)?,
                    })
                })
                .collect();
            // The zone of each backend, for the per-zone metrics.
            let zones: Vec<String> = backends
                .iter()
                .map(|b| {
                    tg.targets
                        .get(&(b.instance_id.clone(), b.port))
                        .and_then(|t| super::metrics::target_zone(s, tg, t))
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            if backends.is_empty() {
                return Some((unavailable(), Some(tg_arn), Vec::new()));
            }
            let key = (backends[0].instance_id.clone(), backends[0].port);
            if let Some(t) = s
                .elbv2
                .target_groups
                .get_mut(&tg_arn)
                .and_then(|tg| tg.targets.get_mut(&key))
            {
                t.in_flight += 1;
            }
            // An HTTPS group gets TLS, any certificate accepted (ALB guide, "Target groups").
            let backend_tls = s
                .elbv2
                .target_groups
                .get(&tg_arn)
                .filter(|tg| tg.protocol.as_deref() == Some("HTTPS"))
                .map(|_| crate::lb::backend_tls::accept_any());
            let route = Route::Forward(Forward {
                backends,
                listener_port: port,
                listener_protocol: if protocol == "HTTPS" { "https" } else { "http" },
                set_cookies,
                sticky: mode.map(|m| stickiness::cookie(m, now)),
                idle_timeout: Some(idle_timeout),
                backend_tls,
            });
            Some((route, Some(tg_arn), zones))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::elbv2::attributes::default_tg_attributes;
    use crate::services::elbv2::store::Target;
    use crate::services::elbv2::target_groups::default_health;

    fn group(targets: &[(&str, Health, u32)]) -> RegionStores {
        let mut s = RegionStores::default();
        let mut tg = TargetGroup {
            arn: "tg".into(),
            name: "tg".into(),
            protocol: Some("HTTP".into()),
            protocol_version: Some("HTTP1".into()),
            port: Some(80),
            vpc_id: None,
            target_type: "ip".into(),
            ip_address_type: "ipv4".into(),
            health: default_health("HTTP"),
            attributes: default_tg_attributes("ip", Some("HTTP")),
            targets: Default::default(),
        };
        for (id, health, in_flight) in targets {
            tg.targets.insert(
                ((*id).to_owned(), 80),
                Target {
                    id: (*id).to_owned(),
                    port: 80,
                    availability_zone: None,
                    registered_at: 0.0,
                    health: health.clone(),
                    next_check: 0.0,
                    passes: 0,
                    failures: 0,
                    draining_until: None,
                    in_flight: *in_flight,
                },
            );
        }
        s.elbv2.target_groups.insert("tg".into(), tg);
        s
    }

    fn ids(v: &[(String, u16)]) -> Vec<&str> {
        v.iter().map(|(id, _)| id.as_str()).collect()
    }

    #[test]
    fn healthy_targets_round_robin_and_least_outstanding() {
        let bad = Health::Unhealthy("Target.Timeout", "Request timed out".into());
        let mut s = group(&[
            ("10.0.0.1", Health::Healthy, 3),
            ("10.0.0.2", bad.clone(), 0),
            ("10.0.0.3", Health::Healthy, 1),
        ]);
        // Round robin over the healthy ones only.
        let firsts: Vec<String> = (0..4)
            .map(|_| candidates(&mut s, "tg", None)[0].0.clone())
            .collect();
        assert_eq!(firsts, ["10.0.0.1", "10.0.0.3", "10.0.0.1", "10.0.0.3"]);
        // A sticky target goes first when it is still usable.
        assert_eq!(
            ids(&candidates(&mut s, "tg", Some("10.0.0.3:80"))),
            ["10.0.0.3", "10.0.0.1"]
        );
        // A sticky target that is unhealthy is not used: the cookie will be rewritten.
        let moved = candidates(&mut s, "tg", Some("10.0.0.2:80"));
        assert_eq!(moved.len(), 2);
        assert!(!ids(&moved).contains(&"10.0.0.2"));
        // Least outstanding requests: the least busy first.
        if let Some(tg) = s.elbv2.target_groups.get_mut("tg") {
            tg.attributes.insert(
                "load_balancing.algorithm.type".into(),
                "least_outstanding_requests".into(),
            );
        }
        for _ in 0..3 {
            assert_eq!(candidates(&mut s, "tg", None)[0].0, "10.0.0.3");
        }
    }

    #[test]
    fn all_unhealthy_fails_open_but_initial_gets_nothing() {
        let bad = Health::Unhealthy("Target.Timeout", "Request timed out".into());
        let mut s = group(&[("10.0.0.1", bad.clone(), 0), ("10.0.0.2", bad, 0)]);
        assert_eq!(candidates(&mut s, "tg", None).len(), 2);
        let mut s = group(&[("10.0.0.1", Health::Initial, 0)]);
        assert!(candidates(&mut s, "tg", None).is_empty());
        let mut s = group(&[("10.0.0.1", Health::Healthy, 0)]);
        if let Some(t) = s
            .elbv2
            .target_groups
            .get_mut("tg")
            .and_then(|tg| tg.targets.get_mut(&("10.0.0.1".to_owned(), 80)))
        {
            t.draining_until = Some(100.0);
        }
        assert!(
            candidates(&mut s, "tg", None).is_empty(),
            "draining gets no new requests"
        );
    }

    #[test]
    fn the_503_page_is_albs_162_bytes() {
        let Route::Fixed {
            status,
            body,
            headers,
            content_type,
        } = unavailable()
        else {
            panic!("fixed");
        };
        assert_eq!(status, 503);
        assert_eq!(body.len(), 162);
        assert_eq!(content_type.as_deref(), Some("text/html"));
        assert_eq!(
            headers,
            vec![("Server".to_owned(), "awselb/2.0".to_owned())]
        );
        assert_eq!(http_date(1_666_286_278.0), "Thu, 20 Oct 2022 17:17:58 GMT");
    }
}
