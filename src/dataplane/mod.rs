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
//! 2. A resolver: [`Resolver::route`] of the table the services register in
//!    `state.dataplane.resolver` (they decide Classic and ALB requests; see [`crate::lb`]),
//!    which [`resolve`] calls. It runs
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

pub mod client;
pub mod client_body;
pub mod h1;
pub mod headers;
pub mod listeners;
pub mod pool;
pub mod proxy;
pub mod tcp;
pub mod tls_backend;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use crate::lb::{
    Backend, Completion, CookieValues, DNS_SUFFIX, Decision, DnsIndex, Forward, LbEntry, LbKind,
    LbRef, Outcome, PortLb, RequestInfo, Resolver, Route, StickyCookie, dns_name, host_port,
    host_without_port, is_lb_host, request_cookie, sets_cookie,
};
use crate::state::AppState;
pub use client::ClientConn;

/// The data plane's part of [`AppState`] (`state.dataplane`).
#[derive(Debug)]
pub struct DataPlane {
    /// DNS name → load balancer.
    pub index: DnsIndex,
    /// Pooled connections to socket backends.
    pub pool: pool::BackendPool,
    /// The load-balancer services' answers (registered when the state is made).
    pub resolver: Arc<dyn Resolver>,
}

impl DataPlane {
    /// An empty data plane that asks `resolver` where traffic goes.
    pub fn new(resolver: Arc<dyn Resolver>) -> Self {
        Self {
            index: DnsIndex::default(),
            pool: pool::BackendPool::default(),
            resolver,
        }
    }
}

/// Ask the load balancer's kind where a request goes.
pub fn resolve(state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision {
    state.dataplane.resolver.route(state, lb, req)
}

/// Ask a load balancer where a new connection on its flow listener `port` (NLB TCP/TLS,
/// Classic TCP/SSL) goes: the flow to carry, or `None` (the connection is closed).
pub fn resolve_flow(
    state: &Arc<AppState>,
    lb: &LbRef,
    port: u16,
    client: SocketAddr,
) -> Option<tcp::Flow> {
    let plan = state.dataplane.resolver.flow(state, lb, port, client)?;
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
        proxy: plan.proxy,
        tls: plan.tls,
        tls_failed: plan.tls_failed,
        backend_tls: plan.backend_tls,
        idle_timeout: plan.idle_timeout,
        cut: Some(plan.cut),
        on_close: Some(Box::new(move |o: &tcp::FlowOutcome| {
            done(o.served_by, o.from_client + o.from_target);
        })),
    })
}

/// The TLS configuration of a listener port: `None` when no load balancer listens there with
/// HTTPS/SSL (plain HTTP), `Some(None)` when one does but has no usable certificate (see
/// the ELBv2 service's `tls`).
pub fn tls_config(state: &AppState, port: u16) -> Option<Option<Arc<rustls::ServerConfig>>> {
    let lbs = port_lbs(state, port);
    state.dataplane.resolver.tls_config(state, port, &lbs)
}

/// The load balancers listening on `port`, as the resolver names them.
fn port_lbs(state: &AppState, port: u16) -> Vec<PortLb> {
    state
        .dataplane
        .index
        .on_port(port)
        .into_iter()
        .map(|(_, e)| PortLb {
            scope: e.lb.scope.clone(),
            classic: e.lb.kind == LbKind::Classic,
            name: e.lb.name.clone(),
        })
        .collect()
}

/// A load balancer's idle timeout (Classic `ConnectionSettings.IdleTimeout`, ALB
/// `idle_timeout.timeout_seconds`; 60 s by default), for the client side of its connections.
pub fn idle_timeout(state: &AppState, lb: &LbRef) -> Option<Duration> {
    let seconds = state.stores.with_existing(&lb.scope, |s| match lb.kind {
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
    })??;
    Some(Duration::from_secs(seconds))
}
