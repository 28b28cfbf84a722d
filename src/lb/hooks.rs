//! The calls the data plane makes into the load-balancer services, as a table the services
//! fill in ([`Resolver`], registered in `state.dataplane` when the state is made): the data
//! plane asks through it and never names a service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::{LbRef, RequestInfo};
use crate::backend::HttpAddress;
use crate::lb::Decision;
use crate::state::{AppState, Scope};

/// What the load-balancer services answer the data plane.
pub trait Resolver: Send + Sync + std::fmt::Debug {
    /// Where a request for `lb` goes (synchronous, once per request: keep it short).
    fn route(&self, state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision;

    /// Where a new connection on the TCP, TLS or SSL listener `port` of `lb` (a network load
    /// balancer's, or a Classic one's) from `client` goes; `None` closes it.
    fn flow(
        &self,
        state: &Arc<AppState>,
        lb: &LbRef,
        port: u16,
        client: SocketAddr,
    ) -> Option<FlowPlan>;

    /// The TLS configuration of listener `port`, shared by the load balancers `lbs` that
    /// listen there: `None` for plain HTTP, `Some(None)` when TLS is due but no certificate
    /// is usable.
    fn tls_config(
        &self,
        state: &AppState,
        port: u16,
        lbs: &[PortLb],
    ) -> Option<Option<Arc<rustls::ServerConfig>>>;

    /// A client's TLS handshake on the HTTPS listener `port` failed, before any request: the
    /// load balancers `lbs` listening there count it (`ClientTLSNegotiationErrorCount`).
    fn tls_failed(&self, state: &AppState, port: u16, lbs: &[PortLb]);
}

/// A load balancer listening on a port, as the data plane names it.
#[derive(Debug, Clone, PartialEq)]
pub struct PortLb {
    /// Account and region.
    pub scope: Scope,
    /// Classic (else ALB).
    pub classic: bool,
    /// Classic: `LoadBalancerName`; ALB: `LoadBalancerArn`.
    pub name: String,
}

/// One target a flow may go to.
#[derive(Debug, Clone)]
pub struct FlowTarget {
    /// Instance id or IP address.
    pub id: String,
    /// Port.
    pub port: u16,
    /// Where it is reached.
    pub address: HttpAddress,
}

/// Whether the load balancer closes a flow now, given the index of its target.
pub type CutCheck = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// Called once when a flow ends: the index of the target that took it (`None` when none did)
/// and the bytes carried both ways.
pub type FlowDone = Box<dyn FnOnce(Option<usize>, u64) + Send>;

/// The PROXY protocol header a target gets before the client's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyHeader {
    /// None: the target sees the client's bytes only.
    #[default]
    None,
    /// Version 1 (text), as Classic ELB sends with `ProxyProtocolPolicyType`.
    V1,
    /// Version 2 (binary), as a network load balancer sends with `proxy_protocol_v2.enabled`.
    V2,
}

/// Called when a client's TLS handshake on a secure flow listener fails.
pub type TlsFailed = Box<dyn FnOnce() + Send>;

/// Where a new flow goes and how it is carried.
pub struct FlowPlan {
    /// Targets in preference order (the first that accepts the connection takes the flow).
    pub targets: Vec<FlowTarget>,
    /// The PROXY protocol header targets get first.
    pub proxy: ProxyHeader,
    /// TLS to terminate before the stream goes on (NLB TLS, Classic SSL listeners).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Called when the client's handshake fails (`ClientTLSNegotiationErrorCount`).
    pub tls_failed: Option<TlsFailed>,
    /// Open TLS to the target with this (SSL/TLS back ends); `None`: plain TCP.
    pub backend_tls: Option<super::BackendTls>,
    /// The listener's `tcp.idle_timeout.seconds`.
    pub idle_timeout: Duration,
    /// Connection termination at the end of a deregistration delay.
    pub cut: CutCheck,
    /// Flow metrics.
    pub done: FlowDone,
}

impl std::fmt::Debug for FlowPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowPlan")
            .field("targets", &self.targets)
            .field("proxy", &self.proxy)
            .field("tls", &self.tls.is_some())
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}
