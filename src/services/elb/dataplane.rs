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

use super::policies::{APP_COOKIE_TYPE, LB_COOKIE_TYPE};
use super::route_cache::RouteCache;
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
    /// Its place in the list it was taken from (to find what goes with it there).
    pub at: usize,
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
                at: 0,
            })
        })
        .enumerate()
        .map(|(at, c)| Candidate { at, ..c })
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
pub enum Sticky {
    /// `LBCookieStickinessPolicyType`: the cookie's `MAX-AGE`, if any.
    Duration(Option<i64>),
    /// `AppCookieStickinessPolicyType`: the application cookie it follows.
    App(String),
}

impl Sticky {
    /// The stickiness policy among a listener's policies, if any.
    pub(super) fn of(lb: &LoadBalancer, listener: &Listener) -> Option<Self> {
        listener
            .policy_names
            .iter()
            .filter_map(|p| lb.policies.get(p))
            .find_map(|p| match p.type_name.as_str() {
                LB_COOKIE_TYPE => Some(Self::Duration(
                    p.attribute("CookieExpirationPeriod")
                        .and_then(|p| p.parse::<i64>().ok())
                        .filter(|p| *p > 0),
                )),
                APP_COOKIE_TYPE => Some(Self::App(
                    p.attribute("CookieName").unwrap_or_default().to_owned(),
                )),
                _ => None,
            })
    }
}

/// Where a request for Classic load balancer `lb` goes, from the load balancer's routes as
/// `cache` keeps them (see [`super::route_cache`]): only the choice among its instances is
/// made per request.
pub fn route(
    state: &Arc<AppState>,
    cache: &RouteCache,
    lb: &LbRef,
    req: &RequestInfo<'_>,
) -> Decision {
    let Some(routes) = cache.get(state, lb) else {
        return Decision::plain(Route::NoHealthy);
    };
    let Some(at) = routes.pick(req.listener_port, req.host) else {
        return Decision::plain(Route::NoHealthy);
    };
    let listener = &routes.listeners[at];
    if listener.instances.is_empty() {
        let stats = routes.stats.clone();
        return Decision {
            route: Route::NoHealthy,
            on_complete: Some(Box::new(move |o: &Outcome| count(&stats, o))),
        };
    }
    let mut cands: Vec<Candidate<'_>> = listener
        .instances
        .iter()
        .enumerate()
        .map(|(at, i)| Candidate {
            id: &i.id,
            zone: &i.zone,
            inflight: &i.inflight,
            at,
        })
        .collect();
    let stuck = listener
        .sticky
        .as_ref()
        .and_then(|_| request_cookie(req.headers, COOKIE))
        .and_then(|v| cookie_instance(&v))
        .and_then(|id| cands.iter().position(|c| c.id == id));
    let ordered = match stuck {
        Some(i) => {
            let first = cands.remove(i);
            cands.insert(0, first);
            cands
        }
        // A cookie that names an instance leaves the rotation where it is.
        None => {
            let cursor = routes
                .cursor
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(1);
            prefer(cands, routes.cross_zone, cursor)
        }
    };
    // In place: the candidates' list becomes the order.
    let order: Vec<usize> = ordered.into_iter().map(|c| c.at).collect();
    let backends: Vec<Backend> = order
        .iter()
        .map(|&i| {
            let instance = &listener.instances[i];
            Backend {
                instance_id: instance.id.clone(),
                port: listener.instance_port,
                address: instance.address.clone(),
            }
        })
        .collect();
    let inflight = listener.instances[order[0]].inflight.clone();
    inflight.fetch_add(1, Ordering::Relaxed);
    let sticky = listener.sticky.clone().map(|sticky| {
        let (app_cookie, max_age) = match sticky {
            Sticky::Duration(max_age) => (None, max_age),
            // The session lasts as long as the application's cookie: no MAX-AGE of our own.
            Sticky::App(name) => (Some(name), None),
        };
        StickyCookie {
            app_cookie,
            stuck_to: stuck.is_some().then_some(0),
            values: Arc::new(move |b: &Backend| cookies(&b.instance_id, max_age)),
        }
    });
    let route = Route::Forward(Forward {
        backends,
        listener_port: listener.lb_port,
        listener_protocol: if listener.https { "https" } else { "http" },
        set_cookies: Vec::new(),
        sticky,
        idle_timeout: Some(routes.idle_timeout),
        backend_tls: listener.backend_tls.clone(),
    });
    Decision {
        route,
        on_complete: Some(Box::new(move |o: &Outcome| {
            inflight.fetch_sub(1, Ordering::Relaxed);
            count(&routes.stats, o);
            // Per zone: the instance that served; an answer of the load balancer's own counts
            // in the zone of the instance it was for (the zone's load balancer node).
            if let Some(&i) = order.get(o.served_by.unwrap_or(0)) {
                count(&routes.listeners[at].instances[i].zone_stats, o);
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
            at: 0,
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
