//! The network load balancer resolver of the data plane: which target a new TCP connection
//! (a flow) on a TCP listener goes to. The data plane asks through `crate::lb::Resolver::flow` and
//! carries the flow; this module only decides, in the service's own terms ([`FlowPlan`]).
//!
//! As on AWS (NLB guide, "Target groups for your Network Load Balancers"):
//! - The listener's default action forwards to one target group; only `healthy` targets get new
//!   flows, except that a group whose targets are all unhealthy **fails open** to all of them.
//!   Draining targets get no new flows; the flows they have go on until the group's
//!   `deregistration_delay.timeout_seconds` ends, and are then closed only when
//!   `deregistration_delay.connection_termination.enabled` is true.
//! - Cross-zone load balancing is off by default for an NLB
//!   (`load_balancing.cross_zone.enabled`, the group's own attribute overriding it unless it is
//!   `use_load_balancer_configuration`): each load balancer node sends only to the targets in
//!   its own zone. A client here reaches the nodes in turn (as DNS hands their addresses out),
//!   among the zones that have a target to send to; targets whose zone is unknown (loopback `ip`
//!   targets) are in every zone.
//! - `stickiness.enabled` with `stickiness.type` `source_ip` keeps a client address on one
//!   target (while it stays usable).
//! - `proxy_protocol_v2.enabled` makes the target get the PROXY protocol v2 header first.
//! - The flow closes after the listener's `tcp.idle_timeout.seconds` without a byte.
//! - `AWS/NetworkELB` metrics: each flow counts in `NewFlowCount` and its bytes in
//!   `ProcessedBytes` (per load balancer and per zone of its target) in the minute it ends.
//!
//! - A TLS listener terminates TLS with its certificates (the default one and those
//!   AddListenerCertificates added, picked by SNI) under its `SslPolicy`, then carries the
//!   decrypted stream to the target: as TCP to a TCP group, over TLS the load balancer opens
//!   to each target of a TLS group (any certificate accepted, as the NLB guide's "TLS
//!   listeners" says targets' certificates are not validated). Its flows count in the `_TLS`
//!   series; failed handshakes in `ClientTLSNegotiationErrorCount`.
//!
//! A simulated instance has no socket: its flows are read as HTTP and answered by its web
//! server.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::dataplane::{address, candidates};
use super::store::TargetGroup;
pub use crate::lb::{CutCheck, FlowDone, FlowPlan, FlowTarget};
use crate::lb::{PortLb, ProxyHeader};
use crate::state::{AppState, RegionStores, Scope};

/// `tcp.idle_timeout.seconds` of a TCP listener when the attribute is missing (its default).
pub const DEFAULT_TCP_IDLE_SECONDS: u64 = 350;

/// Whether a listener of this protocol carries flows (rather than HTTP requests).
pub fn carries_flows(protocol: &str) -> bool {
    matches!(protocol, "TCP" | "TLS" | "TCP_UDP")
}

/// Whether cross-zone load balancing applies to `tg` behind a load balancer whose own
/// attribute is `lb_value`.
pub fn cross_zone(lb_value: Option<&str>, tg: &TargetGroup) -> bool {
    match tg.attribute("load_balancing.cross_zone.enabled") {
        "true" => true,
        "false" => false,
        // `use_load_balancer_configuration`; an NLB's default is off.
        _ => lb_value == Some("true"),
    }
}

/// Order `ids` for a source-IP-sticky client: the same client address ranks the same target
/// first for as long as it is usable (highest random weight, so that a target leaving moves
/// only its own clients).
fn by_source_ip(ids: &mut [(String, u16)], client: std::net::IpAddr) {
    let weight = |(id, port): &(String, u16)| {
        let mut h = DefaultHasher::new();
        (client, id, port).hash(&mut h);
        h.finish()
    };
    ids.sort_by_key(|t| std::cmp::Reverse(weight(t)));
}

/// A new connection on `port` of the network load balancer `lb_arn` (in `scope`) from
/// `client`: where it goes. `None` when the load balancer, its TCP listener or a usable target
/// is missing (the client's connection is then closed).
pub fn flow(
    state: &Arc<AppState>,
    scope: &Scope,
    lb_arn: &str,
    port: u16,
    client: SocketAddr,
) -> Option<FlowPlan> {
    let d = state
        .stores
        .with(scope, |s| decide(state, s, lb_arn, port, client))?;
    let Decided {
        targets,
        zones,
        tg_arn,
        proxy_v2,
        idle,
        tls,
        target_tls,
    } = d;
    let tls = if tls {
        let lb = PortLb {
            scope: scope.clone(),
            classic: false,
            name: lb_arn.to_owned(),
        };
        // A TLS listener without a usable certificate: no handshake can succeed.
        Some(super::tls::flow_config(state, &lb, port)?)
    } else {
        None
    };
    let tls_failed = tls.is_some().then(|| {
        let st = state.clone();
        let (scope, lb) = (scope.clone(), lb_arn.to_owned());
        let zone = zones.first().cloned().unwrap_or_default();
        Box::new(move || {
            let now = st.clock.now();
            st.stores.with(&scope, |s| {
                super::metrics::record_tls_error(&mut s.elbv2, &lb, &zone, now);
            });
        }) as crate::lb::TlsFailed
    });
    let is_tls = tls.is_some();
    let keys: Vec<(String, u16)> = targets.iter().map(|t| (t.id.clone(), t.port)).collect();
    let st = state.clone();
    let (done_scope, done_lb, done_tg) = (scope.clone(), lb_arn.to_owned(), tg_arn.clone());
    let done = Box::new(move |served: Option<usize>, bytes: u64| {
        let Some(served) = served else {
            return;
        };
        let zone = zones.get(served).map_or("", String::as_str);
        let now = st.clock.now();
        st.stores.with(&done_scope, |s| {
            let key = (done_lb.as_str(), done_tg.as_str(), zone);
            super::metrics::record_flow(&mut s.elbv2, key, (true, is_tls), bytes, now);
        });
    });
    let st = state.clone();
    let cut_scope = scope.clone();
    let cut = Arc::new(move |served: usize| {
        let Some(key) = keys.get(served) else {
            return false;
        };
        st.stores.with(&cut_scope, |s| {
            let Some(tg) = s.elbv2.target_groups.get(&tg_arn) else {
                return true;
            };
            // Gone after its deregistration delay, with connection termination on.
            !tg.targets.contains_key(key)
                && tg.attribute("deregistration_delay.connection_termination.enabled") == "true"
        })
    });
    Some(FlowPlan {
        targets,
        proxy: if proxy_v2 {
            ProxyHeader::V2
        } else {
            ProxyHeader::None
        },
        tls,
        tls_failed,
        backend_tls: target_tls.then(crate::lb::backend_tls::accept_any),
        idle_timeout: idle,
        cut,
        done,
    })
}

/// Where a flow goes, decided under the store's lock.
struct Decided {
    /// Targets in preference order.
    targets: Vec<FlowTarget>,
    /// The zone of each ("" when unknown).
    zones: Vec<String>,
    /// The target group.
    tg_arn: String,
    /// The group's `proxy_protocol_v2.enabled`.
    proxy_v2: bool,
    /// The listener's `tcp.idle_timeout.seconds`.
    idle: Duration,
    /// The listener is a TLS one.
    tls: bool,
    /// The target group is a TLS one (TLS to the targets).
    target_tls: bool,
}

fn decide(
    state: &AppState,
    s: &mut RegionStores,
    lb_arn: &str,
    port: u16,
    client: SocketAddr,
) -> Option<Decided> {
    // `candidates` reads the group's zones from the routes (the generation, read under the
    // store lock, says whether they are current).
    s.elbv2.refresh_routes(state.stores.generation());
    let lb = s.elbv2.load_balancers.get(lb_arn)?;
    let lb_cross_zone = lb
        .attributes
        .get("load_balancing.cross_zone.enabled")
        .cloned();
    let lb_zones: Vec<String> = lb.zones.iter().map(|(z, _)| z.clone()).collect();
    let listener = s
        .elbv2
        .listeners_of(lb_arn)
        .into_iter()
        .find(|l| l.port == port && carries_flows(&l.protocol))?;
    let tls = listener.protocol == "TLS";
    let idle = listener
        .attributes
        .get("tcp.idle_timeout.seconds")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(DEFAULT_TCP_IDLE_SECONDS)
        .max(1);
    let rule = s.elbv2.rules.get(&listener.default_rule)?;
    let tg_arn = rule
        .actions
        .iter()
        .rev()
        .find_map(|a| a.target_group_arns().into_iter().next())?
        .to_owned();
    let tg = s.elbv2.target_groups.get(&tg_arn)?;
    let sticky = tg.attribute("stickiness.enabled") == "true"
        && tg.attribute("stickiness.type") == "source_ip";
    let proxy_v2 = tg.attribute("proxy_protocol_v2.enabled") == "true";
    let target_tls = tg.protocol.as_deref() == Some("TLS");
    let all_zones = cross_zone(lb_cross_zone.as_deref(), tg);
    let mut picked = candidates(s, &tg_arn, None);
    if sticky {
        by_source_ip(&mut picked, client.ip());
    }
    let tg = s.elbv2.target_groups.get(&tg_arn)?;
    // Each target with its zone ("" when unknown) and socket address.
    let usable: Vec<(FlowTarget, String)> = picked
        .iter()
        .filter_map(|(id, p)| {
            let addr = address(state, s, tg, id, *p)?;
            let zone = tg
                .targets
                .get(&(id.clone(), *p))
                .and_then(|t| super::metrics::target_zone(s, tg, t))
                .unwrap_or_default()
                .to_owned();
            let target = FlowTarget {
                id: id.clone(),
                port: *p,
                address: addr,
            };
            Some((target, zone))
        })
        .collect();
    if usable.is_empty() {
        return None;
    }
    let chosen: Vec<(FlowTarget, String)> = if all_zones {
        usable
    } else {
        // The node of the zone this client reaches next, among zones with a target.
        let served: Vec<&String> = lb_zones
            .iter()
            .filter(|z| usable.iter().any(|(_, tz)| tz.is_empty() || tz == *z))
            .collect();
        let node = if served.is_empty() {
            None
        } else {
            let cursor = s
                .elbv2
                .cursors
                .entry(format!("{lb_arn}#nodes"))
                .or_insert(0);
            let at = *cursor % served.len();
            *cursor = cursor.wrapping_add(1);
            Some(served[at].clone())
        };
        usable
            .into_iter()
            .filter(|(_, tz)| tz.is_empty() || Some(tz) == node.as_ref())
            .collect()
    };
    let (targets, zones) = chosen.into_iter().unzip();
    Some(Decided {
        targets,
        zones,
        tg_arn,
        proxy_v2,
        idle: Duration::from_secs(idle),
        tls,
        target_tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ip_stickiness_is_stable_and_moves_only_the_leavers_clients() {
        let targets: Vec<(String, u16)> = (1..=4).map(|i| (format!("10.0.0.{i}"), 80)).collect();
        let client: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        let mut a = targets.clone();
        by_source_ip(&mut a, client);
        let mut b = targets.clone();
        b.reverse();
        by_source_ip(&mut b, client);
        assert_eq!(a, b, "the order does not depend on the input order");
        // Without its first choice, the client goes to its second.
        let mut fewer: Vec<(String, u16)> = targets.into_iter().filter(|t| *t != a[0]).collect();
        by_source_ip(&mut fewer, client);
        assert_eq!(fewer[0], a[1]);
    }

    #[test]
    fn the_groups_cross_zone_attribute_overrides_the_load_balancers() {
        let mut tg = TargetGroup {
            arn: "tg".into(),
            name: "tg".into(),
            protocol: Some("TCP".into()),
            protocol_version: None,
            port: Some(80),
            vpc_id: None,
            target_type: "ip".into(),
            ip_address_type: "ipv4".into(),
            health: super::super::target_groups::default_health("TCP"),
            attributes: super::super::attributes::default_tg_attributes("ip", Some("TCP")),
            targets: Default::default(),
        };
        assert!(!cross_zone(Some("false"), &tg));
        assert!(cross_zone(Some("true"), &tg));
        tg.attributes
            .insert("load_balancing.cross_zone.enabled".into(), "true".into());
        assert!(cross_zone(Some("false"), &tg));
        tg.attributes
            .insert("load_balancing.cross_zone.enabled".into(), "false".into());
        assert!(!cross_zone(Some("true"), &tg));
    }
}
