//! The load-balancer services' side of the data plane's hooks ([`crate::lb::Resolver`]):
//! Classic requests and flows are decided by `elb`, ALB requests, NLB flows and listener TLS
//! by `elbv2`.
//! The state registers [`registered`] when it is made.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::lb::{Decision, FlowPlan, LbKind, LbRef, PortLb, RequestInfo, Resolver};
use crate::state::AppState;

/// The resolver Updraft's services provide.
#[derive(Debug, Default)]
pub struct LoadBalancers {
    /// Classic load balancers' routes between requests.
    classic: super::elb::route_cache::RouteCache,
}

/// The table to register in `state.dataplane`.
pub fn registered() -> Arc<dyn Resolver> {
    Arc::new(LoadBalancers::default())
}

impl Resolver for LoadBalancers {
    fn route(&self, state: &Arc<AppState>, lb: &LbRef, req: &RequestInfo<'_>) -> Decision {
        match lb.kind {
            LbKind::Classic => super::elb::dataplane::route(state, &self.classic, lb, req),
            LbKind::Application => super::elbv2::dataplane::route(state, lb, req),
        }
    }

    fn flow(
        &self,
        state: &Arc<AppState>,
        lb: &LbRef,
        port: u16,
        client: SocketAddr,
    ) -> Option<FlowPlan> {
        match lb.kind {
            LbKind::Classic => super::elb::flows::flow(state, &lb.scope, &lb.name, port, client),
            LbKind::Application => {
                super::elbv2::nlb::flow(state, &lb.scope, &lb.name, port, client)
            }
        }
    }

    fn tls_config(
        &self,
        state: &AppState,
        port: u16,
        lbs: &[PortLb],
    ) -> Option<Option<Arc<rustls::ServerConfig>>> {
        super::elbv2::tls::config_for_port(state, port, lbs)
    }

    fn tls_failed(&self, state: &AppState, port: u16, lbs: &[PortLb]) {
        // The client named no load balancer yet: the first secure one on the port counts it.
        let Some(l) = super::elbv2::tls::secure_listeners_on(state, port, lbs)
            .into_iter()
            .next()
        else {
            return;
        };
        let now = state.clock.now();
        state.stores.with(&l.lb.scope, |s| {
            if l.lb.classic {
                if let Some(lb) = s.elb.load_balancers.get(&l.lb.name) {
                    lb.stats.tls_errors.fetch_add(1, Ordering::Relaxed);
                }
            } else {
                super::elbv2::metrics::record_tls_error(&mut s.elbv2, &l.lb.name, "", now);
            }
        });
    }
}
