//! Classic ELB's TCP and SSL listeners: which InService instance a new connection (a flow) goes
//! to. The data plane asks through `crate::lb::Resolver::flow` and carries the flow byte for
//! byte; this module only decides.
//!
//! As Classic ELB does for TCP listeners (CLB guide "How Elastic Load Balancing works"):
//! - Instances are picked round robin among the InService ones of the enabled zones (a zone
//!   first when cross-zone load balancing is off, as for HTTP), and keep the flow for its life.
//! - An SSL listener terminates TLS with its `SSLCertificateId` (IAM server certificate or ACM
//!   certificate), then carries the decrypted stream to the instance: as TCP, or over TLS the
//!   load balancer opens to the instance when the `InstanceProtocol` is SSL (see
//!   [`super::backend_auth`] for which certificates it accepts).
//! - A `ProxyProtocolPolicyType` policy with `ProxyProtocol=true` set on the instance port
//!   (SetLoadBalancerPoliciesForBackendServer) makes the instance get the PROXY protocol v1
//!   line first (`PROXY TCP4 <client> <listener> <client port> <listener port>\r\n`).
//! - The flow closes after the load balancer's `ConnectionSettings.IdleTimeout` without a byte.
//! - Each flow an instance took counts as one `RequestCount` (AWS counts connections made on
//!   TCP listeners), per load balancer and per zone of the instance; a client's failed TLS
//!   handshake on an SSL listener counts in `ClientTLSNegotiationErrorCount`.
//! - Connection draining ([`closes_flow`]): an instance that is deregistered, or stops being
//!   InService, gets no new flow; its open flows go on for `ConnectionDraining.Timeout` when
//!   draining is enabled (and count as in flight, so the drain lasts while they are open),
//!   and are closed at once when it is not.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::dataplane::{Candidate, candidates, prefer};
use super::store::{LiveStats, LoadBalancer};
use crate::lb::{CutCheck, FlowPlan, FlowTarget, PortLb, ProxyHeader};
use crate::services::ec2::store::Ec2Store;
use crate::state::{AppState, Scope};

/// The policy type that asks for the PROXY protocol header.
pub const PROXY_PROTOCOL_TYPE: &str = "ProxyProtocolPolicyType";

/// Whether a listener of this protocol carries flows (rather than HTTP requests).
pub fn carries_flows(protocol: &str) -> bool {
    matches!(protocol, "TCP" | "SSL")
}

/// The front-end ports of `lb` whose listeners carry flows.
pub fn flow_ports(lb: &LoadBalancer) -> Vec<u16> {
    lb.listeners
        .iter()
        .filter(|l| carries_flows(&l.protocol))
        .map(|l| l.lb_port)
        .collect()
}

/// Whether the back-end policies of `instance_port` turn the PROXY protocol on.
fn proxy_protocol(lb: &LoadBalancer, instance_port: u16) -> bool {
    lb.backend_policies
        .get(&instance_port)
        .into_iter()
        .flatten()
        .filter_map(|name| lb.policies.get(name))
        .any(|p| {
            p.type_name == PROXY_PROTOCOL_TYPE
                && p.attribute("ProxyProtocol")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        })
}

/// What the store says about a flow, copied out under the lock.
struct Picked {
    instance_port: u16,
    ssl: bool,
    proxy: bool,
    backend_tls: Option<crate::lb::BackendTls>,
    idle: Duration,
    /// Instance ids in preference order, with the counters of their zones and their own
    /// connections in flight.
    ordered: Vec<(String, Arc<LiveStats>, Arc<AtomicU32>)>,
    stats: Arc<LiveStats>,
}

/// A new connection on the TCP or SSL listener `port` of Classic load balancer `name` (in
/// `scope`) from `client`: where it goes. `None` when the load balancer, the listener or an
/// InService instance is missing, or an SSL listener has no usable certificate (the client's
/// connection is then closed).
pub fn flow(
    state: &Arc<AppState>,
    scope: &Scope,
    name: &str,
    port: u16,
    _client: SocketAddr,
) -> Option<FlowPlan> {
    let picked = state.stores.with(scope, |s| {
        let lb = s.elb.load_balancers.get_mut(name)?;
        for zone in &lb.availability_zones {
            if !lb.zone_stats.contains_key(zone) {
                lb.zone_stats.insert(zone.clone(), Arc::default());
            }
        }
        let listener = lb
            .listener(port)
            .filter(|l| carries_flows(&l.protocol))?
            .clone();
        let cursor = lb.cursor.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        // The order is round robin: open flows (counted in flight, for draining) and requests
        // in flight do not weigh.
        let level = Arc::new(AtomicU32::new(0));
        let cands = candidates(lb, &s.ec2)
            .into_iter()
            .map(|c| Candidate {
                inflight: &level,
                ..c
            })
            .collect();
        let ordered = prefer(cands, lb.attributes.cross_zone, cursor)
            .iter()
            .filter_map(|c| {
                let zone = lb.zone_stats.get(c.zone)?.clone();
                let inflight = lb.instances.get(c.id)?.inflight.clone();
                Some((c.id.to_owned(), zone, inflight))
            })
            .collect();
        Some(Picked {
            instance_port: listener.instance_port,
            ssl: listener.protocol == "SSL",
            proxy: proxy_protocol(lb, listener.instance_port),
            backend_tls: super::backend_auth::backend_tls(lb, &listener),
            idle: Duration::from_secs(lb.attributes.idle_timeout.max(1).unsigned_abs()),
            ordered,
            stats: lb.stats.clone(),
        })
    })?;
    let tls = if picked.ssl {
        let lb = PortLb {
            scope: scope.clone(),
            classic: true,
            name: name.to_owned(),
        };
        Some(crate::services::elbv2::tls::flow_config(state, &lb, port)?)
    } else {
        None
    };
    let mut targets = Vec::with_capacity(picked.ordered.len());
    let mut zones = Vec::with_capacity(picked.ordered.len());
    let mut inflight = Vec::with_capacity(picked.ordered.len());
    for (id, zone, counter) in picked.ordered {
        let Some(address) = state.backend.http_address(&id, picked.instance_port) else {
            continue;
        };
        targets.push(FlowTarget {
            id,
            port: picked.instance_port,
            address,
        });
        zones.push(zone);
        inflight.push(counter);
    }
    if targets.is_empty() {
        return None;
    }
    // The flow counts in flight on its first choice until it ends (as a request does): a
    // deregistered instance drains while it has flows.
    let first = inflight.swap_remove(0);
    first.fetch_add(1, Ordering::Relaxed);
    let stats = picked.stats;
    // A failed handshake counts for the load balancer, in the zone of the instance it was for.
    let tls_failed = tls.as_ref().map(|_| {
        let (lb_stats, zone) = (stats.clone(), zones.first().cloned());
        Box::new(move || {
            lb_stats.tls_errors.fetch_add(1, Ordering::Relaxed);
            if let Some(zone) = zone {
                zone.tls_errors.fetch_add(1, Ordering::Relaxed);
            }
        }) as crate::lb::TlsFailed
    });
    let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
    let cut = cut_check(state, scope, name, ids);
    Some(FlowPlan {
        targets,
        proxy: if picked.proxy {
            ProxyHeader::V1
        } else {
            ProxyHeader::None
        },
        tls,
        tls_failed,
        backend_tls: picked.backend_tls,
        idle_timeout: picked.idle,
        cut,
        done: Box::new(move |served, _bytes| {
            first.fetch_sub(1, Ordering::Relaxed);
            let Some(served) = served else {
                return;
            };
            stats.requests.fetch_add(1, Ordering::Relaxed);
            if let Some(zone) = zones.get(served) {
                zone.requests.fetch_add(1, Ordering::Relaxed);
            }
        }),
    })
}

/// Whether the load balancer closes a flow to the instance at `index` of `ids` now (see
/// [`closes_flow`]); each flow keeps when its instance was first seen out of service.
fn cut_check(state: &Arc<AppState>, scope: &Scope, name: &str, ids: Vec<String>) -> CutCheck {
    let (st, scope, name) = (state.clone(), scope.clone(), name.to_owned());
    let unserved_since = Mutex::new(None);
    Arc::new(move |index: usize| {
        let Some(id) = ids.get(index) else {
            return false;
        };
        let now = st.clock.now();
        let mut since = unserved_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        st.stores.with(&scope, |s| {
            closes_flow(s.elb.load_balancers.get(&name), &s.ec2, id, now, &mut since)
        })
    })
}

/// Whether a Classic load balancer closes an open flow to instance `id` at `now` (CLB guide,
/// "Configure connection draining for your Classic Load Balancer"): never while the instance
/// is InService; once it is deregistered, when its drain ends (at once without connection
/// draining, after `ConnectionDraining.Timeout` with it); once it is registered but out of
/// service (failed checks, stopped), likewise, the timeout counting from when it was first
/// seen out of service (`unserved_since`, reset when it is back). A load balancer that is gone
/// closes its flows.
pub fn closes_flow(
    lb: Option<&LoadBalancer>,
    ec2: &Ec2Store,
    id: &str,
    now: f64,
    unserved_since: &mut Option<f64>,
) -> bool {
    let Some(lb) = lb else {
        return true;
    };
    if lb.instances.contains_key(id) {
        if candidates(lb, ec2).iter().any(|c| c.id == id) {
            *unserved_since = None;
            return false;
        }
        if !lb.attributes.draining_enabled {
            return true;
        }
        let since = *unserved_since.get_or_insert(now);
        return now >= since + lb.attributes.draining_timeout as f64;
    }
    // Deregistered: draining until its deadline, else gone.
    lb.draining.get(id).is_none_or(|(until, _)| now >= *until)
}
