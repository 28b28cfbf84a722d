//! Classic ELB's data-plane resolver: which InService instance a request goes to.
//!
//! As Classic ELB does for HTTP listeners: only InService instances in enabled zones; with
//! cross-zone load balancing off, a zone is picked first (rotating over the zones that have a
//! healthy instance, as DNS spreads clients over the zone nodes), then an instance in it; the
//! instance is the one with the fewest outstanding requests, ties broken round robin (so
//! sequential requests alternate). Stickiness: a valid `AWSELB` cookie naming a healthy
//! instance wins; otherwise the chosen instance is written into a new cookie
//! (`AWSELB=<HEX>;PATH=/;MAX-AGE=<period>` for duration-based stickiness, a session cookie
//! for application-cookie stickiness). Approximation: AWS sets the cookie of application
//! stickiness only when the response sets the application's cookie; here it is set whenever
//! an instance is newly chosen.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::policies::{APP_COOKIE_TYPE, LB_COOKIE_TYPE};
use super::store::{Listener, LiveStats, LoadBalancer, Verdict};
use crate::dataplane::{Backend, Decision, Forward, LbRef, Outcome, RequestInfo, Route};
use crate::services::ec2::store::{Ec2Store, InstanceState};
use crate::state::AppState;

/// The stickiness cookie.
pub const COOKIE: &str = "AWSELB";

/// A healthy instance a request may go to.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `i-…`.
    pub id: String,
    /// Its zone.
    pub zone: String,
    /// Requests in flight to it.
    pub inflight: Arc<AtomicU32>,
}

/// The listener a request is for: the arrival port, else the Host's port, else the first
/// HTTP(S) listener, else the first.
pub fn pick_listener<'a>(lb: &'a LoadBalancer, req: &RequestInfo<'_>) -> Option<&'a Listener> {
    if let Some(port) = req.listener_port {
        return lb.listener(port);
    }
    crate::dataplane::host_port(req.host)
        .and_then(|p| lb.listener(p))
        .or_else(|| {
            lb.listeners
                .iter()
                .find(|l| l.protocol == "HTTP" || l.protocol == "HTTPS")
        })
        .or_else(|| lb.listeners.first())
}

/// The instances that may take traffic: InService, running, in an enabled zone.
pub fn candidates(lb: &LoadBalancer, ec2: &Ec2Store) -> Vec<Candidate> {
    lb.instances
        .iter()
        .filter(|(_, r)| r.verdict == Verdict::InService)
        .filter_map(|(id, r)| {
            let i = ec2.instances.get(id)?;
            (i.state == InstanceState::Running
                && lb.availability_zones.contains(&i.availability_zone))
            .then(|| Candidate {
                id: id.clone(),
                zone: i.availability_zone.clone(),
                inflight: r.inflight.clone(),
            })
        })
        .collect()
}

/// Order candidates by preference: zone (cross-zone off), then fewest outstanding requests,
/// ties in round-robin order from `cursor`.
pub fn prefer(mut cands: Vec<Candidate>, cross_zone: bool, cursor: u64) -> Vec<Candidate> {
    if cands.is_empty() {
        return cands;
    }
    let mut start = cursor;
    let mut others = Vec::new();
    if !cross_zone {
        let mut zones: Vec<String> = cands.iter().map(|c| c.zone.clone()).collect();
        zones.sort();
        zones.dedup();
        let n = zones.len() as u64;
        let zone = &zones[(cursor % n) as usize];
        // Each zone's own rotation advances once per visit to that zone.
        start = cursor / n;
        // The zone's instances first; the others stay as fallbacks.
        let (mine, rest): (Vec<_>, Vec<_>) = cands.into_iter().partition(|c| &c.zone == zone);
        cands = mine;
        others = rest;
    }
    let len = cands.len();
    let mut rotated: Vec<(usize, Candidate)> = (0..len)
        .map(|k| (k, cands[(start as usize + k) % len].clone()))
        .collect();
    rotated.sort_by_key(|(k, c)| (c.inflight.load(Ordering::Relaxed), *k));
    let mut out: Vec<Candidate> = rotated.into_iter().map(|(_, c)| c).collect();
    out.extend(others);
    out
}

/// The cookie value naming an instance (upper-case hex, opaque to clients).
pub fn cookie_value(instance_id: &str) -> String {
    hex::encode_upper(instance_id.as_bytes())
}

/// The instance a cookie value names.
pub fn cookie_instance(value: &str) -> Option<String> {
    hex::decode(value)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

/// A request cookie's value.
pub fn request_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
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

/// Where a request for Classic load balancer `lb` goes.
pub fn route(state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision {
    let picked = state.stores.with(&lb.scope, |s| {
        let lb = s.elb.load_balancers.get_mut(&lb.name)?;
        let listener = pick_listener(lb, req)?.clone();
        let cands = candidates(lb, &s.ec2);
        let sticky = listener
            .policy_names
            .iter()
            .filter_map(|p| lb.policies.get(p))
            .find(|p| p.type_name == LB_COOKIE_TYPE || p.type_name == APP_COOKIE_TYPE)
            .cloned();
        let stuck = sticky
            .as_ref()
            .and_then(|_| request_cookie(req.headers, COOKIE))
            .and_then(|v| cookie_instance(&v))
            .and_then(|id| cands.iter().position(|c| c.id == id));
        let ordered = match stuck {
            Some(i) => {
                let mut c = cands;
                let first = c.remove(i);
                c.insert(0, first);
                c
            }
            None => {
                lb.cursor = lb.cursor.wrapping_add(1);
                prefer(cands, lb.attributes.cross_zone, lb.cursor)
            }
        };
        Some((listener, ordered, sticky, stuck.is_some(), lb.stats.clone()))
    });
    let Some((listener, ordered, sticky, stuck, stats)) = picked else {
        return Decision::plain(Route::NoHealthy);
    };
    let backends: Vec<Backend> = ordered
        .iter()
        .filter_map(|c| {
            state
                .backend
                .http_address(&c.id, listener.instance_port)
                .map(|address| Backend {
                    instance_id: c.id.clone(),
                    port: listener.instance_port,
                    address,
                })
        })
        .collect();
    let Some(first) = backends.first() else {
        return Decision {
            route: Route::NoHealthy,
            on_complete: Some(Box::new(move |o: &Outcome| count(&stats, o))),
        };
    };
    let inflight = ordered
        .iter()
        .find(|c| c.id == first.instance_id)
        .map(|c| c.inflight.clone());
    if let Some(n) = &inflight {
        n.fetch_add(1, Ordering::Relaxed);
    }
    let mut set_cookies = Vec::new();
    if let Some(policy) = sticky.filter(|_| !stuck) {
        let value = cookie_value(&first.instance_id);
        let age = policy
            .attribute("CookieExpirationPeriod")
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| *p > 0)
            .map(|p| format!(";MAX-AGE={p}"))
            .unwrap_or_default();
        set_cookies.push(format!("{COOKIE}={value};PATH=/{age}"));
        set_cookies.push(format!(
            "{COOKIE}CORS={value};PATH=/{age};SECURE;SAMESITE=None"
        ));
    }
    let protocol = if listener.protocol == "HTTPS" || listener.protocol == "SSL" {
        "https"
    } else {
        "http"
    };
    Decision {
        route: Route::Forward(Forward {
            backends,
            listener_port: listener.lb_port,
            listener_protocol: protocol,
            set_cookies,
        }),
        on_complete: Some(Box::new(move |o: &Outcome| {
            if let Some(n) = inflight {
                n.fetch_sub(1, Ordering::Relaxed);
            }
            count(&stats, o);
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, zone: &str, inflight: u32) -> Candidate {
        Candidate {
            id: id.into(),
            zone: zone.into(),
            inflight: Arc::new(AtomicU32::new(inflight)),
        }
    }

    fn ids(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.id.as_str()).collect()
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
