//! The load-balancer data plane: HTTP that arrives for a load balancer (Classic or ALB) is
//! proxied to the instances or targets its control plane says are healthy; a connection on a
//! network load balancer's TCP listener port is a flow carried byte for byte ([`tcp`], resolved
//! by [`resolve_flow`]).
//!
//! # How a request gets here
//!
//! - **Main port, by Host header.** Every load balancer's DNS name is
//!   `<name>-<digits>.<region>.elb.localhost` (internal ones `internal-<name>-…`), see
//!   [`dns_name`]. A request on the main port whose `Host` (with or without `:port`) ends in
//!   `.elb.localhost` comes here instead of the API router (`server.rs`). `*.localhost` resolves
//!   to loopback, so `curl http://<DNSName>:4566/` works.
//! - **Listener ports** (`--lb-listener-ports`, `UPDRAFT_LB_LISTENER_PORTS`, off by default):
//!   every listener port of every load balancer is also bound on 127.0.0.1 ([`listeners`]).
//!   There the Host picks among the load balancers listening on that port; when the Host is not
//!   a load balancer's, the one load balancer on that port (if only one) gets it. A port with
//!   an HTTPS (or Classic SSL) listener speaks TLS with the listener's certificates ([`tls_config`]);
//!   on the main port every listener is served as plain HTTP.
//!
//! # What a load balancer kind implements (the interface)
//!
//! 1. Keep [`DnsIndex`] (`state.load_balancers`) current: [`DnsIndex::insert`] on create and
//!    whenever its listener ports change, [`DnsIndex::remove`] on delete. The entry names the
//!    load balancer by [`LbRef`] (scope, kind, and the name for Classic / the ARN for ALB) and
//!    lists its listener ports.
//! 2. A resolver `fn route(state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo) -> Decision`:
//!    Classic in `crate::services::elb::dataplane::route`, ALB in
//!    `crate::services::elbv2::dataplane::route`. [`resolve`] calls the right one. It runs
//!    synchronously (take the store lock, decide, drop it) for every request, so keep it short.
//! 3. The resolver answers a [`Route`]: forward to backends already filtered to healthy ones and
//!    in preference order (the proxy takes the first; the rest are fallbacks tried when the
//!    first cannot be reached), redirect, fixed response, or no healthy backend (Classic's empty
//!    503). Cookies to set go in [`Forward::set_cookies`], a stickiness cookie that must name
//!    the backend that served (or depends on the response) in [`Forward::sticky`]; the load balancer's
//!    idle timeout in [`Forward::idle_timeout`] (a backend that sends no response head within
//!    it gets the client a 504: Classic's empty `504 GATEWAY_TIMEOUT`, ALB's error page).
//! 4. [`Decision::on_complete`] is called exactly once per request after the response head is
//!    known (or the request failed) with the [`Outcome`]: which backend served, the status, who
//!    produced it, the latency. Count metrics and release in-flight counters (least outstanding
//!    requests, connection draining) there.
//!
//! The proxy ([`proxy`]) does HTTP/1.1 with keep-alive on both sides, streams request and
//! response bodies (chunked or not) for socket backends, drops hop-by-hop headers, and adds
//! `X-Forwarded-For` / `X-Forwarded-Proto` / `X-Forwarded-Port`. In-process (simulated)
//! instances get the request through their responder.

pub mod client_body;
pub mod h1;
pub mod listeners;
pub mod pool;
pub mod proxy;
pub mod tcp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use http::{HeaderMap, Method};

use crate::backend::HttpAddress;
use crate::state::{AppState, Scope};

/// Every load balancer DNS name ends in this (after a dot).
pub const DNS_SUFFIX: &str = "elb.localhost";

/// The DNS name of a load balancer: `<name>-<digits>.<region>.elb.localhost`, with `internal-`
/// in front for an internal scheme (as AWS names them, under a loopback domain).
pub fn dns_name(name: &str, digits: &str, region: &str, internal: bool) -> String {
    let prefix = if internal { "internal-" } else { "" };
    format!("{prefix}{name}-{digits}.{region}.{DNS_SUFFIX}").to_ascii_lowercase()
}

/// The host part of a `Host` header value, lower-cased, without `:port`.
pub fn host_without_port(host: &str) -> String {
    bare_host(host).to_ascii_lowercase()
}

/// The host part of a `Host` header value without `:port` or a trailing dot, as written.
fn bare_host(host: &str) -> &str {
    let host = host.trim();
    let bare = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(']') => h,
        _ => host,
    };
    bare.trim_end_matches('.')
}

/// The port of a `Host` header value, when it has one.
pub fn host_port(host: &str) -> Option<u16> {
    host.trim()
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
}

/// Whether a `Host` header value names a load balancer (and so is for the data plane).
/// Runs for every request on the main port, so it does not allocate.
pub fn is_lb_host(host: &str) -> bool {
    let h = bare_host(host).as_bytes();
    let suffix = DNS_SUFFIX.as_bytes();
    h.len() > suffix.len() + 1
        && h[h.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        && h[h.len() - suffix.len() - 1] == b'.'
}

/// The data plane's part of [`AppState`] (`state.dataplane`).
#[derive(Debug, Default)]
pub struct DataPlane {
    /// DNS name → load balancer.
    pub index: DnsIndex,
    /// Pooled connections to socket backends.
    pub pool: pool::BackendPool,
}

/// Which API a load balancer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LbKind {
    /// Classic ELB (2012-06-01).
    Classic,
    /// Application (or network) load balancer of ELBv2 (2015-12-01).
    Application,
}

/// A load balancer, as the data plane names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LbRef {
    /// Account and region whose store holds it.
    pub scope: Scope,
    /// Classic or ALB.
    pub kind: LbKind,
    /// Classic: `LoadBalancerName`; ALB: `LoadBalancerArn`.
    pub name: String,
}

/// One entry of the DNS index.
#[derive(Debug, Clone, PartialEq)]
pub struct LbEntry {
    /// The load balancer.
    pub lb: LbRef,
    /// Its listener ports (the listener-port flag binds these).
    pub ports: Vec<u16>,
    /// The ports among them whose listener is a network load balancer's TCP listener: a
    /// connection there is a flow proxied byte for byte ([`tcp`]), not HTTP.
    pub tcp_ports: Vec<u16>,
}

/// DNS name → load balancer, across every account and region: one hash lookup per request
/// instead of a scan of every scope's stores under the global lock.
#[derive(Debug, Default)]
pub struct DnsIndex {
    inner: RwLock<HashMap<String, Arc<LbEntry>>>,
}

impl DnsIndex {
    /// Add or replace a load balancer (call again when its listener ports change).
    pub fn insert(&self, dns_name: &str, entry: LbEntry) {
        self.write()
            .insert(dns_name.to_ascii_lowercase(), Arc::new(entry));
    }

    /// Forget a load balancer.
    pub fn remove(&self, dns_name: &str) {
        self.write().remove(&dns_name.to_ascii_lowercase());
    }

    /// The load balancer a `Host` header value names (shared: a lookup copies nothing).
    pub fn lookup(&self, host: &str) -> Option<Arc<LbEntry>> {
        let bare = bare_host(host);
        // Keys are lower case; most Hosts are too, and need no copy.
        if bare.bytes().any(|b| b.is_ascii_uppercase()) {
            self.read().get(&bare.to_ascii_lowercase()).cloned()
        } else {
            self.read().get(bare).cloned()
        }
    }

    /// Every entry (DNS name, entry), for the listener-port binder.
    pub fn all(&self) -> Vec<(String, LbEntry)> {
        self.read()
            .iter()
            .map(|(k, v)| (k.clone(), LbEntry::clone(v)))
            .collect()
    }

    /// Forget everything (admin reset).
    pub fn clear(&self) {
        self.write().clear();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<LbEntry>>> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<LbEntry>>> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a resolver sees of a request (borrowed from it: resolving costs no copies).
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path without the query.
    pub path: &'a str,
    /// Raw query string, when present.
    pub query: Option<&'a str>,
    /// The `Host` header value as sent (may carry a port).
    pub host: &'a str,
    /// Request headers (cookies for stickiness, conditions of ALB rules).
    pub headers: &'a HeaderMap,
    /// The client.
    pub client: SocketAddr,
    /// The listener port the request arrived on, when it came in on a listener port
    /// (`--lb-listener-ports`). `None` on the main port: pick the listener whose port the Host
    /// names, else the load balancer's first HTTP(S) listener.
    pub listener_port: Option<u16>,
}

/// One instance or target a request may go to.
#[derive(Debug, Clone)]
pub struct Backend {
    /// `i-…` (or the target id of an `ip` target).
    pub instance_id: String,
    /// The instance port.
    pub port: u16,
    /// Where to send it (`state.backend.http_address(id, port)`).
    pub address: HttpAddress,
}

/// Forward to one of `backends`.
#[derive(Debug, Clone, Default)]
pub struct Forward {
    /// Healthy backends in preference order: the first one is used; later ones only when an
    /// earlier one cannot be reached.
    pub backends: Vec<Backend>,
    /// The listener's port (`X-Forwarded-Port`).
    pub listener_port: u16,
    /// `http` or `https` (`X-Forwarded-Proto`).
    pub listener_protocol: &'static str,
    /// `Set-Cookie` values to add to the response (stickiness cookies).
    pub set_cookies: Vec<String>,
    /// A stickiness cookie that names the backend that serves, written once it is known.
    pub sticky: Option<StickyCookie>,
    /// The load balancer's idle timeout: how long (real time) a backend may take to send its
    /// response head before the client gets a 504. `None`: no limit.
    pub idle_timeout: Option<Duration>,
}

/// Makes the `Set-Cookie` values that name a backend.
pub type CookieValues = Arc<dyn Fn(&Backend) -> Vec<String> + Send + Sync>;

/// A stickiness cookie the proxy writes after the response head arrives: it names the backend
/// that actually served (a fallback, when the first could not be reached), and with
/// application-controlled stickiness it is written only when the response sets the
/// application's cookie.
#[derive(Clone)]
pub struct StickyCookie {
    /// Application-controlled stickiness: write the cookie only when the response has a
    /// `Set-Cookie` for this cookie name. `None`: duration-based, always written.
    pub app_cookie: Option<String>,
    /// The backend a valid cookie of the request already names (index into
    /// [`Forward::backends`]): when it serves, duration-based stickiness writes nothing.
    pub stuck_to: Option<usize>,
    /// The `Set-Cookie` values naming a backend.
    pub values: CookieValues,
}

impl StickyCookie {
    /// The `Set-Cookie` values to add when `served` (an index into `backends`) answered with
    /// `headers`.
    pub fn cookies_for(
        &self,
        backends: &[Backend],
        served: usize,
        headers: &HeaderMap,
    ) -> Vec<String> {
        let write = match &self.app_cookie {
            Some(name) => sets_cookie(headers, name),
            None => self.stuck_to != Some(served),
        };
        match backends.get(served) {
            Some(b) if write => (self.values)(b),
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Debug for StickyCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StickyCookie")
            .field("app_cookie", &self.app_cookie)
            .field("stuck_to", &self.stuck_to)
            .finish_non_exhaustive()
    }
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

/// Whether response headers set a cookie named `name` (exactly, as cookie names are
/// case-sensitive).
pub fn sets_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split_once('=').is_some_and(|(n, _)| n.trim() == name))
}

/// What to do with a request.
#[derive(Debug, Clone)]
pub enum Route {
    /// Proxy to a backend.
    Forward(Forward),
    /// Answer a redirect (ALB redirect action).
    Redirect {
        /// 301 or 302.
        status: u16,
        /// The `Location`.
        location: String,
    },
    /// Answer fixed content (ALB fixed-response action, ALB error pages).
    Fixed {
        /// Status.
        status: u16,
        /// `Content-Type`, when any.
        content_type: Option<String>,
        /// Body.
        body: String,
        /// Extra headers (e.g. `Server: awselb/2.0`).
        headers: Vec<(String, String)>,
    },
    /// No healthy backend: Classic ELB's `503 Service Unavailable`, empty body.
    NoHealthy,
}

/// The outcome of one request, reported to [`Decision::on_complete`].
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Index into [`Forward::backends`] of the backend that answered, when one did.
    pub served_by: Option<usize>,
    /// Status sent to the client.
    pub status: u16,
    /// True when the status came from a backend; false when the load balancer produced it
    /// (503, 502, 504, redirects and fixed responses).
    pub from_backend: bool,
    /// Real seconds from sending the request to a backend until its response head came back
    /// (0 when no backend was involved).
    pub latency: f64,
}

/// Called once per request with its outcome.
pub type Completion = Box<dyn FnOnce(&Outcome) + Send>;

/// A resolver's answer.
pub struct Decision {
    /// What to do.
    pub route: Route,
    /// Metrics and bookkeeping after the fact.
    pub on_complete: Option<Completion>,
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl Decision {
    /// A decision without bookkeeping.
    pub fn plain(route: Route) -> Self {
        Self {
            route,
            on_complete: None,
        }
    }
}

/// Ask the load balancer's kind where a request goes.
pub fn resolve(state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision {
    match lb.kind {
        LbKind::Classic => crate::services::elb::dataplane::route(state, lb, req),
        LbKind::Application => crate::services::elbv2::dataplane::route(state, lb, req),
    }
}

/// Ask a network load balancer where a new connection on its TCP listener `port` goes: the
/// flow to carry, or `None` (the connection is closed).
pub fn resolve_flow(
    state: &Arc<AppState>,
    lb: &LbRef,
    port: u16,
    client: SocketAddr,
) -> Option<tcp::Flow> {
    if lb.kind != LbKind::Application {
        return None;
    }
    let plan = crate::services::elbv2::nlb::flow(state, &lb.scope, &lb.name, port, client)?;
    let done = plan.done;
    Some(tcp::Flow {
        backends: plan
            .targets
            .into_iter()
            .map(|t| tcp::TcpBackend {
                target_id: t.id,
                port: t.port,
                addr: t.address,
            })
            .collect(),
        proxy_protocol_v2: plan.proxy_protocol_v2,
        idle_timeout: plan.idle_timeout,
        cut: Some(plan.cut),
        on_close: Some(Box::new(move |o: &tcp::FlowOutcome| {
            if let Some(served) = o.served_by {
                done(served, o.from_client + o.from_target);
            }
        })),
    })
}

/// The TLS configuration of a listener port: `None` when no load balancer listens there with
/// HTTPS/SSL (plain HTTP), `Some(None)` when one does but has no usable certificate (see
/// `crate::services::elbv2::tls`).
pub fn tls_config(state: &AppState, port: u16) -> Option<Option<Arc<rustls::ServerConfig>>> {
    use crate::services::elbv2::tls::{PortLb, config_for_port};
    let lbs: Vec<PortLb> = state
        .dataplane
        .index
        .all()
        .into_iter()
        .filter(|(_, e)| e.ports.contains(&port))
        .map(|(_, e)| PortLb {
            scope: e.lb.scope,
            classic: e.lb.kind == LbKind::Classic,
            name: e.lb.name,
        })
        .collect();
    config_for_port(state, port, &lbs)
}

/// A load balancer's idle timeout (Classic `ConnectionSettings.IdleTimeout`, ALB
/// `idle_timeout.timeout_seconds`; 60 s by default), for the client side of its connections.
pub fn idle_timeout(state: &AppState, lb: &LbRef) -> Option<Duration> {
    let seconds = state.stores.with(&lb.scope, |s| match lb.kind {
        LbKind::Classic => s
            .elb
            .load_balancers
            .get(&lb.name)
            .map(|l| l.attributes.idle_timeout.max(1).unsigned_abs()),
        LbKind::Application => s.elbv2.load_balancers.get(&lb.name).map(|l| {
            l.attributes
                .get("idle_timeout.timeout_seconds")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(60)
                .max(1)
        }),
    })?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_with_and_without_ports_name_load_balancers() {
        let dns = dns_name("ExampleELB", "1234567890", "us-east-1", false);
        assert_eq!(dns, "exampleelb-1234567890.us-east-1.elb.localhost");
        assert!(is_lb_host(&dns));
        assert!(is_lb_host(&format!("{dns}:4566")));
        assert!(is_lb_host("Internal-x-1.eu-west-1.ELB.localhost."));
        assert!(!is_lb_host("elb.localhost"));
        assert!(!is_lb_host("127.0.0.1:4566"));
        assert!(!is_lb_host("myelb.localhost"));
        assert_eq!(host_without_port("A.elb.localhost:80"), "a.elb.localhost");
        assert_eq!(host_port("a.elb.localhost:8080"), Some(8080));
        assert_eq!(host_port("a.elb.localhost"), None);

        let index = DnsIndex::default();
        let entry = LbEntry {
            lb: LbRef {
                scope: Scope::new("000000000000", "us-east-1"),
                kind: LbKind::Classic,
                name: "ExampleELB".into(),
            },
            ports: vec![80],
            tcp_ports: Vec::new(),
        };
        index.insert(&dns, entry.clone());
        assert_eq!(
            index
                .lookup(&format!("{}:4566", dns.to_uppercase()))
                .as_deref(),
            Some(&entry)
        );
        index.remove(&dns);
        assert_eq!(index.lookup(&dns), None);
    }
}
