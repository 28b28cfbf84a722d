//! What the ALB data plane looks up on every request, derived from the listeners, rules and
//! load balancers of one region: per load balancer its listeners by port, each with its rules
//! already in evaluation order, and the idle timeout; per target group where it is, the zones
//! its load balancers are enabled in, its algorithm and its stickiness.
//!
//! Without it every request scanned all listeners and all rules of the region and sorted the
//! rules by priority. The index is derived lazily and rebuilt whenever the stores' generation
//! moved since it was built: every API write counts as a change under the store lock
//! (`Scoped::with`), and a restored state starts with an empty index (it is neither persisted
//! nor cloned into snapshots), so it never outlives the data it was built from.

use std::collections::HashMap;
use std::time::Duration;

use super::routing::priority_order;
use super::stickiness::{self, Mode};
use super::store::Elbv2Store;
use crate::state::fasthash::FastMap;

/// `idle_timeout.timeout_seconds` when the attribute is missing (its default).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The index (see the module): one pointer in every region's store until the data plane
/// first builds it (an empty store stays small, `server::regions`' test).
#[derive(Debug, Default)]
pub struct RouteIndex(Option<Box<Built>>);

/// A built index. Positions are those of the store's `IndexMap`s when it was built.
#[derive(Debug)]
struct Built {
    /// The stores' generation it was built at.
    generation: u64,
    by_lb: FastMap<String, LbRoutes>,
    groups: FastMap<String, GroupRoutes>,
}

/// What the data plane reads of a target group on every request.
#[derive(Debug)]
pub struct GroupRoutes {
    /// Position in `Elbv2Store::target_groups`.
    pub position: usize,
    /// The zones the load balancers forwarding to it are enabled in; `None` when none uses
    /// it (all its targets take traffic).
    pub zones: Option<Vec<String>>,
    /// `load_balancing.algorithm.type` is `least_outstanding_requests`.
    pub least_outstanding: bool,
    /// Its stickiness, when enabled.
    pub stickiness: Option<Mode>,
}

/// A copy of a store (a snapshot) starts without the index; the data plane rebuilds it.
impl Clone for RouteIndex {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// One load balancer's routes.
#[derive(Debug)]
pub struct LbRoutes {
    /// Its idle timeout (the attribute, at least 1 s).
    pub idle_timeout: Duration,
    /// Its listeners, by port.
    pub listeners: Vec<ListenerRoutes>,
}

/// One listener's routes.
#[derive(Debug)]
pub struct ListenerRoutes {
    /// Port.
    pub port: u16,
    /// Position in `Elbv2Store::listeners`.
    pub listener: usize,
    /// Positions in `Elbv2Store::rules` of its rules, by ascending priority, the default last.
    pub rules: Vec<usize>,
}

impl RouteIndex {
    /// The routes of a load balancer (`None` when it has none or is unknown).
    pub fn of(&self, lb_arn: &str) -> Option<&LbRoutes> {
        self.0.as_ref()?.by_lb.get(lb_arn)
    }

    /// A target group's routes (`None` when it is unknown).
    pub fn group(&self, tg_arn: &str) -> Option<&GroupRoutes> {
        self.0.as_ref()?.groups.get(tg_arn)
    }
}

impl Elbv2Store {
    /// Make [`Elbv2Store::routes`] match the data of `generation` (the stores' generation,
    /// read under the store lock), rebuilding it if it was built at another.
    pub fn refresh_routes(&mut self, generation: u64) {
        if self
            .routes
            .0
            .as_ref()
            .is_some_and(|b| b.generation == generation)
        {
            return;
        }
        let mut by_lb: FastMap<String, LbRoutes> = FastMap::default();
        for (i, l) in self.listeners.values().enumerate() {
            let Some(lb) = self.load_balancers.get(&l.lb_arn) else {
                continue;
            };
            let routes = by_lb.entry(l.lb_arn.clone()).or_insert_with(|| LbRoutes {
                idle_timeout: lb
                    .attributes
                    .get("idle_timeout.timeout_seconds")
                    .and_then(|v| v.parse::<u64>().ok())
                    .map_or(DEFAULT_IDLE_TIMEOUT, |s| Duration::from_secs(s.max(1))),
                listeners: Vec::new(),
            });
            routes.listeners.push(ListenerRoutes {
                port: l.port,
                listener: i,
                rules: Vec::new(),
            });
        }
        // Where each listener's entry is, to file the rules under it.
        let mut slot: HashMap<&str, (&str, usize)> = HashMap::new();
        for routes in by_lb.values_mut() {
            routes.listeners.sort_by_key(|l| l.port);
        }
        for (lb, routes) in &by_lb {
            for (n, l) in routes.listeners.iter().enumerate() {
                if let Some((arn, _)) = self.listeners.get_index(l.listener) {
                    slot.insert(arn.as_str(), (lb.as_str(), n));
                }
            }
        }
        let mut filed: Vec<(String, usize, usize)> = Vec::new();
        for (i, r) in self.rules.values().enumerate() {
            if let Some((lb, n)) = slot.get(r.listener_arn.as_str()) {
                filed.push(((*lb).to_owned(), *n, i));
            }
        }
        for (lb, n, i) in filed {
            if let Some(l) = by_lb.get_mut(&lb).and_then(|r| r.listeners.get_mut(n)) {
                l.rules.push(i);
            }
        }
        for routes in by_lb.values_mut() {
            for l in &mut routes.listeners {
                l.rules
                    .sort_by_key(|&i| self.rules.get_index(i).map(|(_, r)| priority_order(r)));
            }
        }
        let mut groups: FastMap<String, GroupRoutes> = FastMap::default();
        for (position, (arn, tg)) in self.target_groups.iter().enumerate() {
            let lbs = self.load_balancers_of(arn);
            let zones = (!lbs.is_empty()).then(|| {
                let mut zones: Vec<String> = Vec::new();
                for lb in lbs.iter().filter_map(|lb| self.load_balancers.get(lb)) {
                    for (z, _) in &lb.zones {
                        if !zones.contains(z) {
                            zones.push(z.clone());
                        }
                    }
                }
                zones
            });
            let algorithm = tg.attribute("load_balancing.algorithm.type");
            groups.insert(
                arn.clone(),
                GroupRoutes {
                    position,
                    zones,
                    least_outstanding: algorithm == "least_outstanding_requests",
                    stickiness: stickiness::mode(tg),
                },
            );
        }
        self.routes = RouteIndex(Some(Box::new(Built {
            generation,
            by_lb,
            groups,
        })));
    }
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;
    use crate::services::elbv2::store::{Listener, LoadBalancer, Rule};

    fn store() -> Elbv2Store {
        let mut s = Elbv2Store::default();
        s.load_balancers.insert(
            "lb".into(),
            LoadBalancer {
                arn: "lb".into(),
                name: "lb".into(),
                kind: "application".into(),
                scheme: "internet-facing".into(),
                dns_name: "lb.elb.localhost".into(),
                vpc_id: "vpc".into(),
                created: 0.0,
                zones: vec![("us-east-1a".into(), "subnet-a".into())],
                security_groups: Vec::new(),
                ip_address_type: "ipv4".into(),
                attributes: IndexMap::from([(
                    "idle_timeout.timeout_seconds".to_owned(),
                    "7".to_owned(),
                )]),
            },
        );
        for (arn, port) in [("l-8080", 8080), ("l-80", 80)] {
            s.listeners.insert(
                arn.into(),
                Listener {
                    arn: arn.into(),
                    lb_arn: "lb".into(),
                    port,
                    protocol: "HTTP".into(),
                    ssl_policy: None,
                    certificates: Vec::new(),
                    alpn_policy: None,
                    attributes: IndexMap::new(),
                    default_rule: format!("{arn}-default"),
                },
            );
        }
        for (arn, listener, priority) in [
            ("l-80-default", "l-80", None),
            ("r-20", "l-80", Some(20)),
            ("r-other", "l-8080", Some(1)),
            ("r-5", "l-80", Some(5)),
        ] {
            s.rules.insert(
                arn.into(),
                Rule {
                    arn: arn.into(),
                    listener_arn: listener.into(),
                    priority,
                    conditions: Vec::new(),
                    actions: Vec::new(),
                },
            );
        }
        s
    }

    fn order(s: &Elbv2Store, port: u16) -> Vec<&str> {
        let routes = s.routes.of("lb").expect("routes");
        let l = routes
            .listeners
            .iter()
            .find(|l| l.port == port)
            .expect("listener");
        l.rules
            .iter()
            .map(|&i| s.rules.get_index(i).expect("rule").0.as_str())
            .collect()
    }

    #[test]
    fn rules_by_listener_in_priority_order_rebuilt_when_the_generation_moves() {
        let mut s = store();
        s.refresh_routes(1);
        let routes = s.routes.of("lb").expect("routes");
        assert_eq!(routes.idle_timeout, Duration::from_secs(7));
        let ports: Vec<u16> = routes.listeners.iter().map(|l| l.port).collect();
        assert_eq!(ports, [80, 8080], "listeners by port");
        assert_eq!(order(&s, 80), ["r-5", "r-20", "l-80-default"]);
        assert_eq!(order(&s, 8080), ["r-other"]);
        assert!(s.routes.of("other").is_none());
        // SetRulePriorities and DeleteRule (an API write moves the generation).
        s.rules["r-20"].priority = Some(1);
        s.rules.shift_remove("r-other");
        s.refresh_routes(2);
        assert_eq!(order(&s, 80), ["r-20", "r-5", "l-80-default"]);
        assert_eq!(order(&s, 8080), Vec::<&str>::new());
        assert!(s.routes.group("tg").is_none(), "no such group");
        // A copy (a snapshot, a restored state) starts without the index.
        assert!(s.clone().routes.of("lb").is_none());
    }
}
