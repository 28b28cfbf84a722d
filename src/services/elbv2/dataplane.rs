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

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::actions::Action;
use super::route_index::ListenerRoutes;
use super::routing::{RedirectInput, RequestView, first_match, pick_weighted, redirect_location};
use super::stickiness::{self, http_date};
use super::store::{Elbv2Store, Health, LoadBalancer, Target, TargetGroup};
use crate::backend::HttpAddress;
use crate::lb::alb_error_page;
use crate::lb::{
    Backend, Decision, Forward, LbEntry, LbKind, LbRef, Outcome, RequestInfo, Route, bare_host,
    host_without_port, request_cookie,
};
use crate::services::ec2::store::InstanceState;
use crate::state::{AppState, RegionStores, Scope};

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

/// Whether a sticky target (`<id>:<port>`, as the cookie holds it) is this target.
fn is_stuck(sticky: &str, t: &Target) -> bool {
    sticky.rsplit_once(':').is_some_and(|(id, port)| {
        id == t.id && !port.starts_with(['0', '+']) && port.parse::<u16>() == Ok(t.port)
    })
}

/// The targets of a group that may get traffic, as positions in its `targets`, in
/// round-robin or least-outstanding order, with the sticky one (if any) first. The group
/// (where it is, its zones and algorithm) is read from [`Elbv2Store::routes`], which the
/// caller refreshed.
pub(super) fn candidate_positions(
    s: &mut RegionStores,
    tg_arn: &str,
    sticky: Option<&str>,
) -> Vec<usize> {
    let Some(g) = s.elbv2.routes.group(tg_arn) else {
        return Vec::new();
    };
    let Some((_, tg)) = s.elbv2.target_groups.get_index(g.position) else {
        return Vec::new();
    };
    let zones = g.zones.as_deref();
    // An instance target takes traffic while running in a zone one of the group's load
    // balancers is enabled in (every zone when none uses the group).
    let usable = |t: &Target| {
        t.draining_until.is_none()
            && (tg.target_type != "instance"
                || s.ec2.instances.get(&t.id).is_some_and(|i| {
                    i.state == InstanceState::Running
                        && zones.is_none_or(|z| z.contains(&i.availability_zone))
                }))
    };
    // Fail open: every usable target when none is healthy and all have failed checks.
    let (mut any_healthy, mut all_unhealthy) = (false, true);
    for t in tg.targets.values().filter(|t| usable(t)) {
        match t.health {
            Health::Healthy => any_healthy = true,
            Health::Unhealthy(..) => {}
            Health::Initial => all_unhealthy = false,
        }
    }
    let fail_open = !any_healthy && all_unhealthy;
    let mut pool: Vec<(usize, u32)> = tg
        .targets
        .values()
        .enumerate()
        .filter(|(_, t)| usable(t) && (fail_open || t.health == Health::Healthy))
        .map(|(i, t)| (i, t.in_flight))
        .collect();
    if pool.is_empty() {
        return Vec::new();
    }
    let lor = g.least_outstanding;
    let stuck = sticky.and_then(|sticky| {
        pool.iter().position(|(i, _)| {
            tg.targets
                .get_index(*i)
                .is_some_and(|(_, t)| is_stuck(sticky, t))
        })
    });
    let stuck = stuck.map(|p| pool[p].0);
    // Looked up before inserting, so that a request does not allocate the group's ARN.
    let start = match s.elbv2.cursors.get_mut(tg_arn) {
        Some(cursor) => {
            let start = *cursor;
            *cursor = cursor.wrapping_add(1);
            start
        }
        None => {
            s.elbv2.cursors.insert(tg_arn.to_owned(), 1);
            0
        }
    };
    let len = pool.len();
    pool.rotate_left(start % len);
    if lor {
        pool.sort_by_key(|k| k.1);
    }
    let mut out: Vec<usize> = pool.into_iter().map(|(i, _)| i).collect();
    if let Some(stuck) = stuck
        && let Some(pos) = out.iter().position(|i| *i == stuck)
    {
        out[..=pos].rotate_right(1);
    }
    out
}

/// [`candidate_positions`] as (target id, port).
pub(super) fn candidates(
    s: &mut RegionStores,
    tg_arn: &str,
    sticky: Option<&str>,
) -> Vec<(String, u16)> {
    let positions = candidate_positions(s, tg_arn, sticky);
    let Some(tg) = s.elbv2.target_groups.get(tg_arn) else {
        return Vec::new();
    };
    positions
        .into_iter()
        .filter_map(|i| tg.targets.get_index(i))
        .map(|(_, t)| (t.id.clone(), t.port))
        .collect()
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
    let stick = fc
        .target_group_stickiness_config
        .as_ref()
        .filter(|s| s.enabled == Some(true));
    // One group and no group stickiness (the common case): no draw to make.
    if let ([only], None) = (fc.target_groups.as_slice(), stick) {
        let arn = only
            .target_group_arn
            .as_ref()
            .filter(|_| only.weight.unwrap_or(1) > 0);
        return (arn.cloned(), Vec::new());
    }
    let arns: Vec<&str> = fc
        .target_groups
        .iter()
        .filter_map(|t| t.target_group_arn.as_deref())
        .collect();
    let weights: Vec<i64> = fc
        .target_groups
        .iter()
        .map(|t| t.weight.unwrap_or(1))
        .collect();
    let mut cookies = Vec::new();
    if let Some(st) = stick {
        let from_cookie = request_cookie(req.headers, "AWSALBTG")
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|arn| {
                arns.iter()
                    .zip(&weights)
                    .any(|(a, w)| a == arn && *w > 0 && store.target_groups.contains_key(*a))
            });
        let chosen = from_cookie
            .or_else(|| pick_weighted(&weights, rand::random::<f64>()).map(|i| arns[i].to_owned()));
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
        pick_weighted(&weights, rand::random::<f64>()).map(|i| arns[i].to_owned()),
        cookies,
    )
}

/// What a request was decided to, for its completion: the route, the target group it was
/// for, and the zone of each backend (for the per-zone metrics).
type Decided = (Route, Option<String>, Vec<String>);

/// The data plane asks where a request for this ALB goes.
pub fn route(state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision {
    let now = state.clock.now();
    // The request as the rules see it, borrowed (nothing is copied per request).
    let view = RequestView {
        method: req.method.as_str(),
        host: bare_host(req.host),
        path: req.path,
        query: req.query,
        headers: Some(req.headers),
        source: Some(req.client.ip()),
    };
    // Per request only round-robin cursors and live counters move: `with_existing` does not
    // count that as a change, so ALB traffic alone does not make the state writer snapshot.
    let decided = state.stores.with_existing(&lb.scope, |s| {
        // Read under the lock: no API write can slip in between this and the lookups.
        let generation = state.stores.generation();
        decide(state, s, generation, &lb.name, req, &view, now)
    });
    let Some((route, tg_arn, zones)) = decided.flatten() else {
        return Decision::plain(unavailable());
    };
    let first = match &route {
        Route::Forward(f) => f.backends.first().map(|b| (b.instance_id.clone(), b.port)),
        _ => None,
    };
    let st = state.clone();
    let (scope, lb_arn) = (lb.scope.clone(), lb.name.clone());
    let on_complete = Box::new(move |o: &Outcome| {
        // The zone of the target that served; an answer of the load balancer's own counts in
        // the zone of the target it was for.
        let zone = zones
            .get(o.served_by.unwrap_or(0))
            .map(String::as_str)
            .filter(|z| !z.is_empty());
        let now = st.clock.now();
        // Counting is not a change either: the metric publisher's fold of these counters
        // into CloudWatch is, and that one is persisted.
        st.stores.with_existing(&scope, |s| {
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

/// Decide under the store lock (`generation`: the stores' generation, read under it): the
/// route, the target group it forwards to and its backends' zones.
fn decide(
    state: &AppState,
    s: &mut RegionStores,
    generation: u64,
    lb_arn: &str,
    req: &RequestInfo<'_>,
    view: &RequestView<'_>,
    now: f64,
) -> Option<Decided> {
    s.elbv2.refresh_routes(generation);
    let store = &s.elbv2;
    let routes = store.routes.of(lb_arn)?;
    let listener_of = |l: &ListenerRoutes| store.listeners.get_index(l.listener).map(|(_, l)| l);
    let listener = req
        .listener_port
        .or_else(|| crate::lb::host_port(req.host))
        .and_then(|p| routes.listeners.iter().find(|l| l.port == p))
        .or_else(|| {
            routes.listeners.iter().find(|l| {
                listener_of(l).is_some_and(|l| matches!(l.protocol.as_str(), "HTTP" | "HTTPS"))
            })
        })?;
    let (port, idle_timeout) = (listener.port, routes.idle_timeout);
    let protocol = listener_of(listener)?.protocol.as_str();
    let rules = listener
        .rules
        .iter()
        .filter_map(|&i| store.rules.get_index(i).map(|(_, r)| r));
    let action = first_match(rules, view)?.actions.last()?;
    let (tg_arn, set_cookies) = match action.kind.as_str() {
        "fixed-response" => {
            let f = action.fixed_response_config.as_ref()?;
            let route = Route::Fixed {
                status: f.status_code.parse().unwrap_or(200),
                content_type: Some(
                    f.content_type
                        .clone()
                        .unwrap_or_else(|| "text/plain".into()),
                ),
                body: f.message_body.clone().unwrap_or_default(),
                headers: vec![("Server".into(), "awselb/2.0".into())],
            };
            return Some((route, None, Vec::new()));
        }
        "redirect" => {
            let r = action.redirect_config.as_ref()?;
            let (status, location) = redirect_location(
                r,
                &RedirectInput {
                    protocol,
                    host: &host_without_port(req.host),
                    port,
                    path: view.path,
                    query: req.query.unwrap_or(""),
                },
            );
            return Some((Route::Redirect { status, location }, None, Vec::new()));
        }
        _ => forward_group(store, action, req, now),
    };
    let https = protocol == "HTTPS";
    let Some(tg_arn) = tg_arn else {
        return Some((unavailable(), None, Vec::new()));
    };
    let Some(group) = store.routes.group(&tg_arn) else {
        return Some((unavailable(), Some(tg_arn), Vec::new()));
    };
    let (position, mode) = (group.position, group.stickiness.clone());
    let sticky = mode
        .as_ref()
        .and_then(|m| stickiness::stuck_target(m, req.headers, now));
    let picked = candidate_positions(s, &tg_arn, sticky.as_deref());
    let (_, tg) = s.elbv2.target_groups.get_index(position)?;
    let mut backends = Vec::with_capacity(picked.len());
    // The zone of each backend, for the per-zone metrics.
    let mut zones = Vec::with_capacity(picked.len());
    let mut first = None;
    for i in picked {
        let Some((_, t)) = tg.targets.get_index(i) else {
            continue;
        };
        let Some(address) = address(state, s, tg, &t.id, t.port) else {
            continue;
        };
        first.get_or_insert(i);
        backends.push(Backend {
            instance_id: t.id.clone(),
            port: t.port,
            address,
        });
        zones.push(
            super::metrics::target_zone(s, tg, t)
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let Some(first) = first else {
        return Some((unavailable(), Some(tg_arn), Vec::new()));
    };
    // An HTTPS group gets TLS, any certificate accepted (ALB guide, "Target groups").
    let backend_tls =
        (tg.protocol.as_deref() == Some("HTTPS")).then(crate::lb::backend_tls::accept_any);
    if let Some((_, t)) = s
        .elbv2
        .target_groups
        .get_index_mut(position)
        .and_then(|(_, tg)| tg.targets.get_index_mut(first))
    {
        t.in_flight += 1;
    }
    let route = Route::Forward(Forward {
        backends,
        listener_port: port,
        listener_protocol: if https { "https" } else { "http" },
        set_cookies,
        sticky: mode.map(|m| stickiness::cookie(m, now)),
        idle_timeout: Some(idle_timeout),
        backend_tls,
    });
    Some((route, Some(tg_arn), zones))
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
        // What an API write does: move the generation the routes are checked against.
        s.elbv2.refresh_routes(0);
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
        s.elbv2.refresh_routes(1);
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
