//! Classic ELB's data-plane resolver: which InService instance a request goes to.
//!
//! As Classic ELB does for HTTP listeners: only InService instances in enabled zones; with
//! cross-zone load balancing off, a zone is picked first (rotating over the zones that have a
//! healthy instance, as DNS spreads clients over the zone nodes), then an instance in it; the
//! instance is the one with the fewest outstanding requests, ties broken round robin (so
//! sequential requests alternate). Stickiness: a valid `AWSELB` cookie naming a healthy
//! instance wins. Duration-based stickiness (`LBCookieStickinessPolicyType`) otherwise writes
//! the instance that served into a new cookie, `AWSELB=<HEX>;PATH=/;MAX-AGE=<period>`.
//! Application-controlled stickiness (`AppCookieStickinessPolicyType`) writes `AWSELB` (no
//! `MAX-AGE`: the session follows the application cookie's lifetime) only when the response
//! sets the policy's application cookie (`CookieName`), as ELB inserts a new stickiness cookie
//! only when the application issues a new cookie (CLB guide "Application-controlled session
//! stickiness").

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::policies::{APP_COOKIE_TYPE, LB_COOKIE_TYPE};
use super::store::{Listener, LiveStats, LoadBalancer, Verdict};
use crate::lb::{
    Backend, Decision, Forward, LbRef, Outcome, RequestInfo, Route, StickyCookie, request_cookie,
};
use crate::services::ec2::store::{Ec2Store, InstanceState};
use crate::state::AppState;

/// The stickiness cookie.
pub const COOKIE: &str = "AWSELB";

/// A healthy instance a request may go to (borrowed from the store while the lock is held).
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// `i-…`.
    pub id: &'a str,
    /// Its zone.
    pub zone: &'a str,
    /// Requests in flight to it.
    pub inflight: &'a Arc<AtomicU32>,
}

/// The listener a request is for: the arrival port, else the Host's port, else the first
/// HTTP(S) listener, else the first.
pub fn pick_listener<'a>(lb: &'a LoadBalancer, req: &RequestInfo<'_>) -> Option<&'a Listener> {
    if let Some(port) = req.listener_port {
        return lb.listener(port);
    }
    crate::lb::host_port(req.host)
        .and_then(|p| lb.listener(p))
        .or_else(|| {
            lb.listeners
                .iter()
                .find(|l| l.protocol == "HTTP" || l.protocol == "HTTPS")
        })
        .or_else(|| lb.listeners.first())
}

/// The instances that may take traffic: InService, running, in an enabled zone.
pub fn candidates<'a>(lb: &'a LoadBalancer, ec2: &'a Ec2Store) -> Vec<Candidate<'a>> {
    lb.instances
        .iter()
        .filter(|(_, r)| r.verdict == Verdict::InService)
        .filter_map(|(id, r)| {
            let i = ec2.instances.get(id)?;
            (i.state == InstanceState::Running
                && lb.availability_zones.contains(&i.availability_zone))
            .then_some(Candidate {
                id,
                zone: &i.availability_zone,
                inflight: &r.inflight,
            })
        })
        .collect()
}

/// The zone the rotation visits at `cursor` (the candidates' distinct zones in name order,
/// `cursor` modulo their number), and that number. Without a list of the zones: a region
/// has a handful, so counting by scans costs less than allocating and sorting.
fn nth_zone<'a>(cands: &[Candidate<'a>], cursor: u64) -> (&'a str, u64) {
    // Each distinct zone once: at its first occurrence.
    let distinct = || {
        cands
            .iter()
            .enumerate()
            .filter(|(i, c)| cands[..*i].iter().all(|d| d.zone != c.zone))
            .map(|(_, c)| c.zone)
    };
    let n = distinct().count() as u64;
    let rank = cursor % n;
    // The zone with exactly `rank` distinct zones before it in name order.
    let zone = distinct()
        .find(|z| distinct().filter(|o| o < z).count() as u64 == rank)
        .unwrap_or(cands[0].zone);
    (zone, n)
}

/// Order candidates by preference: zone (cross-zone off), then fewest outstanding requests,
/// ties in round-robin order from `cursor`.
pub fn prefer(mut cands: Vec<Candidate<'_>>, cross_zone: bool, cursor: u64) -> Vec<Candidate<'_>> {
    if cands.is_empty() {
        return cands;
    }
    let mut start = cursor;
    // How many candidates (at the front) the rotation picks among.
    let mut len = cands.len();
    if !cross_zone {
        let (zone, n) = nth_zone(&cands, cursor);
        // Each zone's own rotation advances once per visit to that zone.
        start = cursor / n;
        // The zone's instances first; the others stay behind as fallbacks, each group in its
        // order (a stable sort: no second list).
        if n > 1 {
            cands.sort_by_key(|c| c.zone != zone);
        }
        len = cands.iter().take_while(|c| c.zone == zone).count();
    }
    let mine = &mut cands[..len];
    mine.rotate_left((start % len as u64) as usize);
    // Stable: equal loads keep the rotated (round-robin) order.
    mine.sort_by_key(|c| c.inflight.load(Ordering::Relaxed));
    cands
}

/// The cookie value naming an instance (upper-case hex, opaque to clients).
pub fn cookie_value(instance_id: &str) -> String {
    hex::encode_upper(instance_id.as_bytes())
}

/// The `AWSELB` cookie (and its `AWSELBCORS` twin) naming an instance, in the form ELB
/// writes them (no spaces after `;`).
pub fn cookies(instance_id: &str, max_age: Option<i64>) -> Vec<String> {
    let value = cookie_value(instance_id);
    let age = max_age.map(|p| format!(";MAX-AGE={p}")).unwrap_or_default();
    vec![
        format!("{COOKIE}={value};PATH=/{age}"),
        format!("{COOKIE}CORS={value};PATH=/{age};SECURE;SAMESITE=None"),
    ]
}

/// The instance a cookie value names.
pub fn cookie_instance(value: &str) -> Option<String> {
    hex::decode(value)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

fn count(stats: &LiveStats, outcome: &Outcome) {
    let r = Ordering::Relaxed;
    stats.requests.fetch_add(1, r);
    if outcome.from_backend {
        let us = (outcome.latency * 1e6) as u64;
        stats.latency_us.fetch_add(us, r);
        stats.latency_max_us.fetch_max(us, r);
        // Stored +1 so that 0 means "none yet".
        let _ = stats
            .latency_min_us
            .fetch_update(r, r, |m| (m == 0 || us + 1 < m).then_some(us + 1));
        let class = (outcome.status / 100).clamp(2, 5) as usize - 2;
        stats.backend[class].fetch_add(1, r);
    } else if outcome.status >= 500 {
        stats.elb_5xx.fetch_add(1, r);
    } else if outcome.status >= 400 {
        stats.elb_4xx.fetch_add(1, r);
    }
}

/// A listener's stickiness policy.
#[derive(Debug, Clone)]
enum Sticky {
    /// `LBCookieStickinessPolicyType`: the cookie's `MAX-AGE`, if any.
    Duration(Option<i64>),
    /// `AppCookieStickinessPolicyType`: the application cookie it follows.
    App(String),
}

/// What the store says about a request, copied out before the lock is released.
struct Picked {
    lb_port: u16,
    instance_port: u16,
    https: bool,
    /// The listener's stickiness policy, when it has one.
    sticky: Option<Sticky>,
    /// The request's cookie named one of `ordered` (the first).
    stuck: bool,
    /// `ConnectionSettings.IdleTimeout`.
    idle_timeout: Duration,
    /// Candidates in preference order, with the counters of their zones.
    ordered: Vec<(String, Arc<AtomicU32>, Arc<LiveStats>)>,
    stats: Arc<LiveStats>,
    /// TLS to the instance (`InstanceProtocol` HTTPS).
    backend_tls: Option<crate::lb::BackendTls>,
}

/// Where a request for Classic load balancer `lb` goes.
pub fn route(state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision {
    let picked = state.stores.with_existing(&lb.scope, |s| {
        let lb = s.elb.load_balancers.get_mut(&lb.name)?;
        // Every enabled zone has its counters before candidates borrow the load balancer.
        for zone in &lb.availability_zones {
            if !lb.zone_stats.contains_key(zone) {
                lb.zone_stats.insert(zone.clone(), Arc::default());
            }
        }
        let listener = pick_listener(lb, req)?;
        let sticky = listener
            .policy_names
            .iter()
            .filter_map(|p| lb.policies.get(p))
            .find_map(|p| match p.type_name.as_str() {
                LB_COOKIE_TYPE => Some(Sticky::Duration(
                    p.attribute("CookieExpirationPeriod")
                        .and_then(|p| p.parse::<i64>().ok())
                        .filter(|p| *p > 0),
                )),
                APP_COOKIE_TYPE => Some(Sticky::App(
                    p.attribute("CookieName").unwrap_or_default().to_owned(),
                )),
                _ => None,
            });
        let mut cands = candidates(lb, &s.ec2);
        let stuck = sticky
            .as_ref()
            .and_then(|_| request_cookie(req.headers, COOKIE))
            .and_then(|v| cookie_instance(&v))
            .and_then(|id| cands.iter().position(|c| c.id == id));
        let cursor = lb.cursor.wrapping_add(1);
        let ordered = match stuck {
            Some(i) => {
                let first = cands.remove(i);
                cands.insert(0, first);
                cands
            }
            None => prefer(cands, lb.attributes.cross_zone, cursor),
        };
        let picked = Picked {
            lb_port: listener.lb_port,
            instance_port: listener.instance_port,
            https: listener.protocol == "HTTPS" || listener.protocol == "SSL",
            sticky,
            stuck: stuck.is_some(),
            idle_timeout: Duration::from_secs(lb.attributes.idle_timeout.max(1).unsigned_abs()),
            ordered: ordered
                .iter()
                .filter_map(|c| {
                    let zone = lb.zone_stats.get(c.zone)?.clone();
                    Some((c.id.to_owned(), c.inflight.clone(), zone))
                })
                .collect(),
            stats: lb.stats.clone(),
            backend_tls: super::backend_auth::backend_tls(lb, listener),
        };
        if stuck.is_none() {
            lb.cursor = cursor;
        }
        Some(picked)
    });
    let Some(picked) = picked.flatten() else {
        return Decision::plain(Route::NoHealthy);
    };
    let stats = picked.stats;
    let mut inflight = None;
    let mut backends = Vec::with_capacity(picked.ordered.len());
    let mut zones = Vec::with_capacity(picked.ordered.len());
    for (id, counter, zone) in picked.ordered {
        let Some(address) = state.backend.http_address(&id, picked.instance_port) else {
            continue;
        };
        if backends.is_empty() {
            inflight = Some(counter);
        }
        backends.push(Backend {
            instance_id: id,
            port: picked.instance_port,
            address,
        });
        zones.push(zone);
    }
    if backends.is_empty() {
        return Decision {
            route: Route::NoHealthy,
            on_complete: Some(Box::new(move |o: &Outcome| count(&stats, o))),
        };
    };
    if let Some(n) = &inflight {
        n.fetch_add(1, Ordering::Relaxed);
    }
    let sticky = picked.sticky.map(|sticky| {
        let (app_cookie, max_age) = match sticky {
            Sticky::Duration(max_age) => (None, max_age),
            // The session lasts as long as the application's cookie: no MAX-AGE of our own.
            Sticky::App(name) => (Some(name), None),
        };
        StickyCookie {
            app_cookie,
            stuck_to: picked.stuck.then_some(0),
            values: Arc::new(move |b: &Backend| cookies(&b.instance_id, max_age)),
        }
    });
    Decision {
        route: Route::Forward(Forward {
            backends,
            listener_port: picked.lb_port,
            listener_protocol: if picked.https { "https" } else { "http" },
            set_cookies: Vec::new(),
            sticky,
            idle_timeout: Some(picked.idle_timeout),
            backend_tls: picked.backend_tls,
        }),
        on_complete: Some(Box::new(move |o: &Outcome| {
            if let Some(n) = inflight {
                n.fetch_sub(1, Ordering::Relaxed);
            }
            count(&stats, o);
            // Per zone: the instance that served; an answer of the load balancer's own counts
            // in the zone of the instance it was for (the zone's load balancer node).
            if let Some(zone) = zones.get(o.served_by.unwrap_or(0)) {
                count(zone, o);
            }
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &'static str, zone: &'static str, inflight: u32) -> Candidate<'static> {
        Candidate {
            id,
            zone,
            inflight: Box::leak(Box::new(Arc::new(AtomicU32::new(inflight)))),
        }
    }

    fn ids<'a>(c: &[Candidate<'a>]) -> Vec<&'a str> {
        c.iter().map(|c| c.id).collect()
    }

    #[test]
    fn round_robin_alternates_and_prefers_idle_instances() {
        let two = || vec![cand("a", "z1", 0), cand("b", "z1", 0)];
        assert_eq!(ids(&prefer(two(), true, 0))[0], "a");
        assert_eq!(ids(&prefer(two(), true, 1))[0], "b");
        assert_eq!(ids(&prefer(two(), false, 2))[0], "a");
        let busy = vec![cand("a", "z1", 3), cand("b", "z1", 0)];
        assert_eq!(ids(&prefer(busy, true, 0))[0], "b");
        // Cross-zone off: zones alternate, the other zone stays as a fallback.
        let zoned = || vec![cand("a", "z1", 0), cand("b", "z1", 0), cand("c", "z2", 0)];
        assert_eq!(ids(&prefer(zoned(), false, 1)), ["c", "a", "b"]);
        assert_eq!(ids(&prefer(zoned(), false, 2))[0], "b");
        assert_eq!(ids(&prefer(zoned(), false, 0))[2], "c");
    }

    #[test]
    fn zones_rotate_in_name_order_whatever_the_registration_order() {
        let zoned = || {
            vec![
                cand("a", "z3", 0),
                cand("b", "z1", 0),
                cand("c", "z3", 0),
                cand("d", "z2", 0),
            ]
        };
        assert_eq!(ids(&prefer(zoned(), false, 0))[0], "b");
        assert_eq!(ids(&prefer(zoned(), false, 1))[0], "d");
        assert_eq!(ids(&prefer(zoned(), false, 2)), ["a", "c", "b", "d"]);
        // z3's second visit: its rotation moved on by one.
        assert_eq!(ids(&prefer(zoned(), false, 5))[0], "c");
    }

    #[test]
    fn cookies_name_instances() {
        let v = cookie_value("i-0abc");
        assert_eq!(cookie_instance(&v).as_deref(), Some("i-0abc"));
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            format!("x=1; AWSELB={v}").parse().unwrap(),
        );
        assert_eq!(request_cookie(&h, COOKIE), Some(v));
        assert_eq!(cookie_instance("zz"), None);
    }
}
