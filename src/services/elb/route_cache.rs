//! Classic ELB's routes as the data plane uses them, kept between requests.
//!
//! Deciding a request from the store means taking the store lock, finding the load balancer,
//! its listener and stickiness policy, filtering its registered instances down to the
//! InService and running ones in enabled zones, and asking the instance backend where each
//! serves HTTP. None of that changes from one request to the next: it changes when some API
//! call or controller changes the stores, or when the instance backend learns something. Both
//! count those moments ([`crate::state::Scoped::generation`],
//! [`crate::backend::InstanceBackend::generation`]), so a copy made at one pair of counts is
//! used until either moves. What is left per request is the choice among the instances
//! (zone rotation, requests in flight, a stickiness cookie), made on the copy without the lock.
//!
//! A copy is made under the store lock, with the store count read under it (writers move it
//! while they hold the lock), and the backend count read before the addresses are asked for:
//! a change that races with the copy leaves the copy's counts behind, so the next request makes
//! a new one.

use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::dataplane::{Sticky, candidates};
use super::store::LiveStats;
use crate::backend::HttpAddress;
use crate::lb::{BackendTls, LbRef};
use crate::state::AppState;
use crate::state::fasthash::FastMap;

/// The routes of every Classic load balancer that got a request (held by the services'
/// resolver, `crate::services::lb_resolver`).
#[derive(Debug, Default)]
pub struct RouteCache {
    entries: RwLock<FastMap<LbRef, Arc<Routes>>>,
}

/// One load balancer's routes, as of `counts`.
#[derive(Debug)]
pub struct Routes {
    /// (stores, instance backend) generations the copy was made at.
    counts: (u64, u64),
    /// Cross-zone load balancing.
    pub cross_zone: bool,
    /// `ConnectionSettings.IdleTimeout`.
    pub idle_timeout: Duration,
    /// The load balancer's round-robin cursor (shared with its store record).
    pub cursor: Arc<AtomicU64>,
    /// Its counters.
    pub stats: Arc<LiveStats>,
    /// Its listeners, in the store's order.
    pub listeners: Vec<ListenerRoutes>,
}

/// What a request on one listener may go to.
#[derive(Debug)]
pub struct ListenerRoutes {
    /// Front-end port.
    pub lb_port: u16,
    /// Back-end port.
    pub instance_port: u16,
    /// An HTTP or HTTPS listener (the one taken when the request names no port).
    http: bool,
    /// An HTTPS or SSL listener (`X-Forwarded-Proto: https`).
    pub https: bool,
    /// Its stickiness policy.
    pub sticky: Option<Sticky>,
    /// TLS to the instances (`InstanceProtocol` HTTPS or SSL).
    pub backend_tls: Option<BackendTls>,
    /// The instances that may take its traffic, in registration order, each with where it
    /// serves the instance port.
    pub instances: Vec<Routable>,
}

/// An instance that may take a listener's traffic.
#[derive(Debug)]
pub struct Routable {
    /// `i-…`.
    pub id: String,
    /// Its zone.
    pub zone: String,
    /// Requests in flight to it (shared with its registration).
    pub inflight: Arc<AtomicU32>,
    /// Its zone's counters (shared with the load balancer's).
    pub zone_stats: Arc<LiveStats>,
    /// Where it serves the listener's instance port.
    pub address: HttpAddress,
}

impl Routes {
    /// The listener a request is for: the one on the port it arrived on, else on the port its
    /// Host names, else the first HTTP(S) one, else the first.
    pub fn pick(&self, arrival: Option<u16>, host: &str) -> Option<usize> {
        let on = |port: u16| self.listeners.iter().position(|l| l.lb_port == port);
        if let Some(port) = arrival {
            return on(port);
        }
        crate::lb::host_port(host)
            .and_then(on)
            .or_else(|| self.listeners.iter().position(|l| l.http))
            .or_else(|| (!self.listeners.is_empty()).then_some(0))
    }
}

impl RouteCache {
    /// The routes of `lb`, copied from the stores again when they or the backend moved since
    /// the last copy. `None` when the load balancer is gone.
    pub fn get(&self, state: &AppState, lb: &LbRef) -> Option<Arc<Routes>> {
        let now = (state.stores.generation(), state.backend.generation());
        if let Some(routes) = self.read().get(lb).filter(|r| r.counts == now) {
            return Some(routes.clone());
        }
        let Some(routes) = copy(state, lb) else {
            self.write().remove(lb);
            return None;
        };
        let routes = Arc::new(routes);
        self.write().insert(lb.clone(), routes.clone());
        Some(routes)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, FastMap<LbRef, Arc<Routes>>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, FastMap<LbRef, Arc<Routes>>> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A listener's routes before the backend is asked where the instances serve.
struct Draft {
    listener: ListenerRoutes,
    /// (id, zone, in flight, zone counters) of the instances that may take traffic.
    instances: Vec<(String, String, Arc<AtomicU32>, Arc<LiveStats>)>,
}

/// Copy a load balancer's routes out of the stores.
fn copy(state: &AppState, lb: &LbRef) -> Option<Routes> {
    let copied = state.stores.with_existing(&lb.scope, |s| {
        let stores_count = state.stores.generation();
        let lb = s.elb.load_balancers.get_mut(&lb.name)?;
        // Every enabled zone has its counters before candidates borrow the load balancer.
        for zone in &lb.availability_zones {
            if !lb.zone_stats.contains_key(zone) {
                lb.zone_stats.insert(zone.clone(), Arc::default());
            }
        }
        let cands = candidates(lb, &s.ec2);
        let drafts: Vec<Draft> = lb
            .listeners
            .iter()
            .map(|l| Draft {
                listener: ListenerRoutes {
                    lb_port: l.lb_port,
                    instance_port: l.instance_port,
                    http: l.protocol == "HTTP" || l.protocol == "HTTPS",
                    https: l.protocol == "HTTPS" || l.protocol == "SSL",
                    sticky: Sticky::of(lb, l),
                    backend_tls: super::backend_auth::backend_tls(lb, l),
                    instances: Vec::new(),
                },
                instances: cands
                    .iter()
                    .filter_map(|c| {
                        let zone = lb.zone_stats.get(c.zone)?.clone();
                        Some((c.id.to_owned(), c.zone.to_owned(), c.inflight.clone(), zone))
                    })
                    .collect(),
            })
            .collect();
        let routes = Routes {
            counts: (stores_count, 0),
            cross_zone: lb.attributes.cross_zone,
            idle_timeout: Duration::from_secs(lb.attributes.idle_timeout.max(1).unsigned_abs()),
            cursor: lb.cursor.clone(),
            stats: lb.stats.clone(),
            listeners: Vec::new(),
        };
        Some((routes, drafts))
    });
    let (mut routes, drafts) = copied.flatten()?;
    // Read before the addresses: a change while they are asked for leaves this copy behind.
    routes.counts.1 = state.backend.generation();
    routes.listeners = drafts
        .into_iter()
        .map(
            |Draft {
                 mut listener,
                 instances,
             }| {
                let port = listener.instance_port;
                listener.instances = instances
                    .into_iter()
                    .filter_map(|(id, zone, inflight, zone_stats)| {
                        let address = state.backend.http_address(&id, port)?;
                        Some(Routable {
                            id,
                            zone,
                            inflight,
                            zone_stats,
                            address,
                        })
                    })
                    .collect();
                listener
            },
        )
        .collect();
    Some(routes)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::store::Verdict;
    use super::*;
    use crate::config::Config;
    use crate::context::RequestContext;
    use crate::controllers::Controller;
    use crate::lb::LbKind;
    use crate::services::ec2::store::InstanceState;
    use crate::state::Scope;

    fn call(state: &AppState, scope: &Scope, service: &'static str, op: &str, input: Value) {
        let ctx = RequestContext::in_process("r", scope, service, op);
        crate::services::dispatch(&ctx, state, input).expect(op);
    }

    /// A running instance (store and simulated backend) behind a Classic load balancer.
    async fn one_instance() -> (Arc<AppState>, Scope, LbRef, String) {
        let state = AppState::new(Config {
            time_scale: 0.0,
            boot_seconds: 0.0,
            ..Config::default()
        });
        let scope = Scope::new("000000000000", "us-east-1");
        let id = crate::services::ec2::instances::launch_one(&state, &scope, json!({}));
        // Launched and booted by the lifecycle controller, as the server would.
        let lifecycle = crate::controllers::instances::InstanceLifecycle;
        for _ in 0..3 {
            lifecycle.reconcile(&state).await.unwrap();
            state.clock.advance(1.0);
        }
        let zone = state.stores.with(&scope, |s| {
            let i = &s.ec2.instances[&id];
            assert_eq!(i.state, InstanceState::Running);
            i.availability_zone.clone()
        });
        call(
            &state,
            &scope,
            "elb",
            "CreateLoadBalancer",
            json!({"LoadBalancerName": "web", "AvailabilityZones": [zone],
                "Listeners": [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}]}),
        );
        call(
            &state,
            &scope,
            "elb",
            "RegisterInstancesWithLoadBalancer",
            json!({"LoadBalancerName": "web", "Instances": [{"InstanceId": id}]}),
        );
        state.stores.with(&scope, |s| {
            let lb = s.elb.load_balancers.get_mut("web").unwrap();
            lb.instances.get_mut(&id).unwrap().verdict = Verdict::InService;
        });
        let lb = LbRef {
            scope: scope.clone(),
            kind: LbKind::Classic,
            name: "web".into(),
        };
        (state, scope, lb, id)
    }

    #[tokio::test]
    async fn a_copy_serves_until_the_stores_or_the_backend_move() {
        let (state, scope, lb, id) = one_instance().await;
        let cache = RouteCache::default();
        let first = cache.get(&state, &lb).unwrap();
        assert_eq!(first.listeners.len(), 1);
        assert_eq!(first.listeners[0].instances.len(), 1);
        assert_eq!(first.listeners[0].instances[0].id, id);
        // Nothing moved: the same copy, and the data plane's own writes do not count.
        state.stores.with_existing(&scope, |_| ());
        assert!(Arc::ptr_eq(&first, &cache.get(&state, &lb).unwrap()));

        // The instance goes OutOfService: the next request sees no instance.
        state.stores.with(&scope, |s| {
            let lb = s.elb.load_balancers.get_mut("web").unwrap();
            lb.instances.get_mut(&id).unwrap().verdict = Verdict::Failed;
        });
        let second = cache.get(&state, &lb).unwrap();
        assert!(second.listeners[0].instances.is_empty());
        // The round-robin cursor is the load balancer's, whichever copy moves it.
        first
            .cursor
            .fetch_add(5, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(second.cursor.load(std::sync::atomic::Ordering::Relaxed), 5);

        // Back in service, then the backend stops the instance behind the store's back: the
        // backend's count moves and the copy drops the instance it can no longer reach.
        state.stores.with(&scope, |s| {
            let lb = s.elb.load_balancers.get_mut("web").unwrap();
            lb.instances.get_mut(&id).unwrap().verdict = Verdict::InService;
        });
        assert_eq!(
            cache.get(&state, &lb).unwrap().listeners[0].instances.len(),
            1
        );
        state.backend.stop(&id).await.unwrap();
        assert!(
            cache.get(&state, &lb).unwrap().listeners[0]
                .instances
                .is_empty()
        );

        // Deleted: no routes, and the copy is forgotten.
        call(
            &state,
            &scope,
            "elb",
            "DeleteLoadBalancer",
            json!({"LoadBalancerName": "web"}),
        );
        assert!(cache.get(&state, &lb).is_none());
        assert!(cache.read().is_empty());
    }

    #[tokio::test]
    async fn listeners_are_picked_by_arrival_port_then_host_port_then_http() {
        let (state, scope, lb, _) = one_instance().await;
        call(
            &state,
            &scope,
            "elb",
            "CreateLoadBalancerListeners",
            json!({"LoadBalancerName": "web",
                "Listeners": [{"Protocol": "TCP", "LoadBalancerPort": 9000, "InstancePort": 80}]}),
        );
        let routes = RouteCache::default().get(&state, &lb).unwrap();
        let port = |at: Option<usize>| at.map(|i| routes.listeners[i].lb_port);
        assert_eq!(port(routes.pick(Some(9000), "x")), Some(9000));
        assert_eq!(port(routes.pick(Some(81), "x")), None);
        assert_eq!(
            port(routes.pick(None, "web.elb.localhost:9000")),
            Some(9000)
        );
        assert_eq!(port(routes.pick(None, "web.elb.localhost:4566")), Some(80));
        assert_eq!(port(routes.pick(None, "web.elb.localhost")), Some(80));
    }
}
