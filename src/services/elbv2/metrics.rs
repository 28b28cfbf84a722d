//! `AWS/ApplicationELB` metrics: the data plane counts requests per load balancer, target group,
//! Availability Zone (of the target that served) and minute ([`record`]); the health controller drains complete minutes into CloudWatch
//! ([`traffic_data`]) and publishes host counts every minute ([`host_data`]).
//!
//! Series, as AWS publishes them (ALB guide "CloudWatch metrics for your Application Load
//! Balancer"): `RequestCount`, `HTTPCode_Target_{2,3,4,5}XX_Count`, `HTTPCode_ELB_{3,4,5}XX_Count`
//! (and the ELB's 500, 502, 503 and 504 one by one, `HTTPCode_ELB_504_Count`…) and
//! `TargetResponseTime` per `LoadBalancer`, `AvailabilityZone`+`LoadBalancer`,
//! (`ClientTLSNegotiationErrorCount`, from failed handshakes on HTTPS listeners, per
//! `LoadBalancer`),
//! `TargetGroup`+`LoadBalancer` and `TargetGroup`+`AvailabilityZone`+`LoadBalancer`;
//! `RequestCountPerTarget` per `TargetGroup` and per `TargetGroup`+`LoadBalancer`;
//! `HealthyHostCount` / `UnHealthyHostCount` per `TargetGroup`+`LoadBalancer` and per
//! `TargetGroup`+`AvailabilityZone`+`LoadBalancer` (each zone the load balancer is in). Request
//! metrics appear only for minutes with requests, host counts every minute.
//!
//! A network load balancer's series go to `AWS/NetworkELB` instead: the same host counts, and
//! per `LoadBalancer` and `AvailabilityZone`+`LoadBalancer` `NewFlowCount` and `ProcessedBytes`
//! (with their `_TCP` and `_TLS` twins, by the listener's protocol) from the flows the data
//! plane reports ([`record_flow`]), and `ClientTLSNegotiationErrorCount` per `LoadBalancer`
//! and `AvailabilityZone`+`LoadBalancer` ([`record_tls_error`]).

use std::collections::HashMap;

use super::store::{Elbv2Store, Target, TargetGroup, Traffic};
use super::targets::health_of;
use crate::lb::Outcome;
use crate::services::cloudwatch::stats::Agg;
use crate::state::RegionStores;

/// The namespace of application load balancers.
pub const NAMESPACE: &str = "AWS/ApplicationELB";
/// The namespace of network load balancers.
pub const NETWORK_NAMESPACE: &str = "AWS/NetworkELB";
/// ALB metrics are published per minute.
pub const PERIOD: f64 = 60.0;

/// The load-balancer-made 5XX codes AWS also counts one by one, with their metric names.
const ELB_5XX: [(u16, &str); 4] = [
    (500, "HTTPCode_ELB_500_Count"),
    (502, "HTTPCode_ELB_502_Count"),
    (503, "HTTPCode_ELB_503_Count"),
    (504, "HTTPCode_ELB_504_Count"),
];

/// (load balancer ARN, target group ARN or "", zone or "", minute).
type TrafficKey = (String, String, String, i64);

/// A [`TrafficKey`] borrowed from the request's data: it hashes as the owned key does (a
/// tuple hashes its fields in order, and a `String` as its `str`), so the counters of a
/// minute are found without building the key; it is copied into an owned one only for a
/// minute's first request.
#[derive(Debug, Clone, Copy)]
struct TrafficRef<'a>(&'a str, &'a str, &'a str, i64);

impl std::hash::Hash for TrafficRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.0, self.1, self.2, self.3).hash(state);
    }
}

impl indexmap::Equivalent<TrafficKey> for TrafficRef<'_> {
    fn equivalent(&self, key: &TrafficKey) -> bool {
        self.3 == key.3 && self.0 == key.0 && self.1 == key.1 && self.2 == key.2
    }
}

/// The counters of `key`, created empty on first use.
fn counters<'s>(store: &'s mut Elbv2Store, key: TrafficRef<'_>) -> &'s mut Traffic {
    let i = match store.traffic.get_index_of(&key) {
        Some(i) => i,
        None => {
            let owned = (key.0.to_owned(), key.1.to_owned(), key.2.to_owned(), key.3);
            store.traffic.insert_full(owned, Traffic::default()).0
        }
    };
    &mut store.traffic[i]
}

/// One datapoint to store.
#[derive(Debug, Clone)]
pub struct Datum {
    /// `AWS/ApplicationELB` or `AWS/NetworkELB`, by the load balancer's type.
    pub namespace: &'static str,
    /// Metric name.
    pub name: &'static str,
    /// Unit.
    pub unit: &'static str,
    /// Dimensions.
    pub dims: Vec<(String, String)>,
    /// Period start.
    pub at: f64,
    /// Value(s).
    pub agg: Agg,
}

/// Count one finished request (called by the data plane's completion hook).
pub fn record(
    store: &mut Elbv2Store,
    lb_arn: &str,
    tg_arn: Option<&str>,
    first: Option<&(String, u16)>,
    zone: Option<&str>,
    o: &Outcome,
    now: f64,
) {
    if let (Some(tg), Some(key)) = (tg_arn, first)
        && let Some(t) = store
            .target_groups
            .get_mut(tg)
            .and_then(|g| g.targets.get_mut(key))
    {
        t.in_flight = t.in_flight.saturating_sub(1);
    }
    let minute = (now / PERIOD).floor() as i64;
    let key = TrafficRef(lb_arn, tg_arn.unwrap_or(""), zone.unwrap_or(""), minute);
    let t = counters(store, key);
    t.requests += 1;
    let class = (o.status / 100) as usize;
    if o.from_backend {
        if (2..=5).contains(&class) {
            t.target_codes[class - 2] += 1;
        }
        if t.response_time_count == 0 || o.latency < t.response_time_min {
            t.response_time_min = o.latency;
        }
        t.response_time_max = t.response_time_max.max(o.latency);
        t.response_time_sum += o.latency;
        t.response_time_count += 1;
    } else if (3..=5).contains(&class) {
        t.elb_codes[class - 3] += 1;
        if let Some(i) = ELB_5XX.iter().position(|(code, _)| *code == o.status) {
            t.elb_5xx_codes[i] += 1;
        }
    }
}

/// Count a flow of a network load balancer: a new one (`new_flow`) and `bytes` it carried,
/// in the minute of `now`, per target group and zone of its target; `tls` for a TLS
/// listener's flow.
pub fn record_flow(
    store: &mut Elbv2Store,
    key: (&str, &str, &str),
    (new_flow, tls): (bool, bool),
    bytes: u64,
    now: f64,
) {
    let (lb_arn, tg_arn, zone) = key;
    let minute = (now / PERIOD).floor() as i64;
    let t = counters(store, TrafficRef(lb_arn, tg_arn, zone, minute));
    t.flows += u64::from(new_flow);
    t.bytes += bytes;
    if tls {
        t.tls_flows += u64::from(new_flow);
        t.tls_bytes += bytes;
    }
}

/// Count a client whose TLS handshake failed on a TLS listener of `lb_arn`, in the minute of
/// `now`, in the zone of the node it reached (`zone`, "" when none).
pub fn record_tls_error(store: &mut Elbv2Store, lb_arn: &str, zone: &str, now: f64) {
    let minute = (now / PERIOD).floor() as i64;
    counters(store, TrafficRef(lb_arn, "", zone, minute)).tls_errors += 1;
}

/// The namespace of a load balancer's metrics.
fn namespace_of(store: &Elbv2Store, lb_arn: &str) -> &'static str {
    match store.load_balancers.get(lb_arn) {
        Some(l) if l.kind == "network" => NETWORK_NAMESPACE,
        _ => NAMESPACE,
    }
}

/// A network load balancer's flow series: `NewFlowCount` and `ProcessedBytes` (and their
/// `_TCP` and `_TLS` twins), `ClientTLSNegotiationErrorCount`, for minutes that had any.
fn push_flows(out: &mut Vec<Datum>, t: &Traffic, dims: &[(String, String)], at: f64) {
    for (name, unit, n) in [
        ("NewFlowCount", "Count", t.flows),
        (
            "NewFlowCount_TCP",
            "Count",
            t.flows.saturating_sub(t.tls_flows),
        ),
        ("NewFlowCount_TLS", "Count", t.tls_flows),
        ("ProcessedBytes", "Bytes", t.bytes),
        (
            "ProcessedBytes_TCP",
            "Bytes",
            t.bytes.saturating_sub(t.tls_bytes),
        ),
        ("ProcessedBytes_TLS", "Bytes", t.tls_bytes),
        ("ClientTLSNegotiationErrorCount", "Count", t.tls_errors),
    ] {
        if n > 0 {
            out.push(Datum {
                namespace: NETWORK_NAMESPACE,
                name,
                unit,
                dims: dims.to_vec(),
                at,
                agg: Agg::value(n as f64),
            });
        }
    }
}

fn lb_dim(store: &Elbv2Store, lb_arn: &str) -> Option<(String, String)> {
    store
        .load_balancers
        .get(lb_arn)
        .map(|l| ("LoadBalancer".to_owned(), l.dimension()))
}

fn tg_dim(store: &Elbv2Store, tg_arn: &str) -> Option<(String, String)> {
    store
        .target_groups
        .get(tg_arn)
        .map(|t| ("TargetGroup".to_owned(), t.dimension()))
}

fn counts(t: &Traffic) -> Vec<(&'static str, u64)> {
    let mut v = vec![("RequestCount", t.requests)];
    let names = [
        "HTTPCode_Target_2XX_Count",
        "HTTPCode_Target_3XX_Count",
        "HTTPCode_Target_4XX_Count",
        "HTTPCode_Target_5XX_Count",
    ];
    for (n, c) in names.iter().zip(t.target_codes) {
        v.push((n, c));
    }
    let names = [
        "HTTPCode_ELB_3XX_Count",
        "HTTPCode_ELB_4XX_Count",
        "HTTPCode_ELB_5XX_Count",
    ];
    for (n, c) in names.iter().zip(t.elb_codes) {
        v.push((n, c));
    }
    for ((_, n), c) in ELB_5XX.iter().zip(t.elb_5xx_codes) {
        v.push((n, c));
    }
    v.retain(|(_, c)| *c > 0);
    v
}

/// Drain every minute before `current_minute` into datapoints. `healthy` gives the healthy
/// target count per target group (for RequestCountPerTarget).
pub fn traffic_data(
    store: &mut Elbv2Store,
    current_minute: i64,
    healthy: &HashMap<String, usize>,
) -> Vec<Datum> {
    let done: Vec<TrafficKey> = store
        .traffic
        .keys()
        .filter(|k| k.3 < current_minute)
        .cloned()
        .collect();
    // Totals per (load balancer, target group or "", zone or "", minute), "" standing for
    // "all": each counted key adds to the series that contain it.
    let mut totals: HashMap<TrafficKey, Traffic> = HashMap::new();
    for key in done {
        let Some(t) = store.traffic.swap_remove(&key) else {
            continue;
        };
        let (lb, tg, zone, minute) = key;
        let mut add = |tg: &str, zone: &str| {
            totals
                .entry((lb.clone(), tg.to_owned(), zone.to_owned(), minute))
                .or_default()
                .add(&t);
        };
        add("", "");
        if !zone.is_empty() {
            add("", &zone);
        }
        if !tg.is_empty() {
            add(&tg, "");
            if !zone.is_empty() {
                add(&tg, &zone);
            }
        }
    }
    let mut out = Vec::new();
    for ((lb, tg, zone, minute), t) in totals {
        let at = minute as f64 * PERIOD;
        let Some(lbd) = lb_dim(store, &lb) else {
            continue;
        };
        let zd = (!zone.is_empty()).then(|| ("AvailabilityZone".to_owned(), zone));
        if namespace_of(store, &lb) == NETWORK_NAMESPACE {
            // Flows per load balancer and per zone (target groups carry host counts only).
            if tg.is_empty() {
                let dims: Vec<_> = zd.into_iter().chain([lbd]).collect();
                push_flows(&mut out, &t, &dims, at);
            }
            continue;
        }
        if tg.is_empty() {
            let dims: Vec<_> = zd.into_iter().chain([lbd]).collect();
            push_traffic(&mut out, &t, &dims, at);
            continue;
        }
        let Some(tgd) = tg_dim(store, &tg) else {
            continue;
        };
        let per_zone = zd.is_some();
        let dims: Vec<_> = [tgd.clone()].into_iter().chain(zd).chain([lbd]).collect();
        push_traffic(&mut out, &t, &dims, at);
        if per_zone {
            continue;
        }
        let per_target = t.requests as f64 / healthy.get(&tg).copied().unwrap_or(0).max(1) as f64;
        for d in [dims, vec![tgd]] {
            out.push(Datum {
                namespace: NAMESPACE,
                name: "RequestCountPerTarget",
                unit: "Count",
                dims: d,
                at,
                agg: Agg::value(per_target),
            });
        }
    }
    out
}

fn push_traffic(out: &mut Vec<Datum>, t: &Traffic, dims: &[(String, String)], at: f64) {
    for (name, c) in counts(t) {
        out.push(Datum {
            namespace: NAMESPACE,
            name,
            unit: "Count",
            dims: dims.to_vec(),
            at,
            agg: Agg::value(c as f64),
        });
    }
    if t.tls_errors > 0 {
        out.push(Datum {
            namespace: NAMESPACE,
            name: "ClientTLSNegotiationErrorCount",
            unit: "Count",
            dims: dims.to_vec(),
            at,
            agg: Agg::value(t.tls_errors as f64),
        });
    }
    if t.response_time_count > 0 {
        out.push(Datum {
            namespace: NAMESPACE,
            name: "TargetResponseTime",
            unit: "Seconds",
            dims: dims.to_vec(),
            at,
            agg: Agg::set(
                t.response_time_count as f64,
                t.response_time_sum,
                t.response_time_min,
                t.response_time_max,
            ),
        });
    }
}

/// The Availability Zone of a target: its instance's, or the one registered with an `ip`
/// target.
pub fn target_zone<'a>(s: &'a RegionStores, tg: &TargetGroup, t: &'a Target) -> Option<&'a str> {
    if tg.target_type == "instance" {
        s.ec2
            .instances
            .get(&t.id)
            .map(|i| i.availability_zone.as_str())
    } else {
        t.availability_zone.as_deref()
    }
}

/// Healthy and unhealthy target counts of every group in use, per (group, load balancer),
/// stamped `at`; also returns the healthy count per group.
pub fn host_data(s: &RegionStores, at: f64, now: f64) -> (Vec<Datum>, HashMap<String, usize>) {
    let store = &s.elbv2;
    let mut out = Vec::new();
    let mut healthy_by_tg = HashMap::new();
    for tg in store.target_groups.values() {
        let lbs = store.load_balancers_of(&tg.arn);
        if lbs.is_empty() {
            continue;
        }
        let (mut healthy, mut unhealthy) = (0usize, 0usize);
        // (zone, healthy, unhealthy) of the targets whose zone is known.
        let mut zones: Vec<(&str, usize, usize)> = Vec::new();
        for t in tg.targets.values() {
            let state = health_of(s, tg, t, now).state;
            let (h, u) = (
                usize::from(state == "healthy"),
                usize::from(state == "unhealthy"),
            );
            healthy += h;
            unhealthy += u;
            if let Some(zone) = target_zone(s, tg, t) {
                match zones.iter_mut().find(|(z, _, _)| *z == zone) {
                    Some(entry) => {
                        entry.1 += h;
                        entry.2 += u;
                    }
                    None => zones.push((zone, h, u)),
                }
            }
        }
        healthy_by_tg.insert(tg.arn.clone(), healthy);
        for lb in lbs {
            let (Some(lbd), Some(tgd)) = (lb_dim(store, &lb), tg_dim(store, &tg.arn)) else {
                continue;
            };
            let mut series = vec![(vec![tgd.clone(), lbd.clone()], healthy, unhealthy)];
            // Per zone: every zone the load balancer is enabled in.
            if let Some(l) = store.load_balancers.get(&lb) {
                for (zone, _) in &l.zones {
                    let (h, u) = zones
                        .iter()
                        .find(|(z, _, _)| z == zone)
                        .map_or((0, 0), |e| (e.1, e.2));
                    let zd = ("AvailabilityZone".to_owned(), zone.clone());
                    series.push((vec![tgd.clone(), zd, lbd.clone()], h, u));
                }
            }
            for (dims, healthy, unhealthy) in series {
                for (name, n) in [
                    ("HealthyHostCount", healthy),
                    ("UnHealthyHostCount", unhealthy),
                ] {
                    out.push(Datum {
                        namespace: namespace_of(store, &lb),
                        name,
                        unit: "Count",
                        dims: dims.clone(),
                        at,
                        agg: Agg::value(n as f64),
                    });
                }
            }
        }
    }
    (out, healthy_by_tg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: u16, from_backend: bool) -> Outcome {
        Outcome {
            served_by: from_backend.then_some(0),
            status,
            from_backend,
            latency: 0.002,
        }
    }

    fn key(tg: &str, minute: i64) -> TrafficKey {
        ("lb".into(), tg.into(), "us-east-1a".into(), minute)
    }

    #[test]
    fn requests_are_counted_per_minute_and_class() {
        let mut store = Elbv2Store::default();
        record(
            &mut store,
            "lb",
            Some("tg"),
            None,
            Some("us-east-1a"),
            &outcome(200, true),
            61.0,
        );
        record(
            &mut store,
            "lb",
            Some("tg"),
            None,
            Some("us-east-1a"),
            &outcome(404, true),
            62.0,
        );
        record(
            &mut store,
            "lb",
            None,
            None,
            Some("us-east-1a"),
            &outcome(301, false),
            62.0,
        );
        record(
            &mut store,
            "lb",
            Some("tg"),
            None,
            Some("us-east-1a"),
            &outcome(503, false),
            125.0,
        );
        let t = &store.traffic[&key("tg", 1)];
        assert_eq!(t.requests, 2);
        assert_eq!(t.target_codes, [1, 0, 1, 0]);
        assert_eq!(t.response_time_count, 2);
        assert_eq!(store.traffic[&key("", 1)].elb_codes, [1, 0, 0]);
        assert_eq!(store.traffic[&key("tg", 2)].elb_codes, [0, 0, 1]);
        // Unknown resources publish nothing, but their minutes are drained all the same.
        let data = traffic_data(&mut store, 2, &HashMap::new());
        assert!(data.is_empty());
        assert_eq!(store.traffic.len(), 1);
    }
}
