//! Classic ELB health checks and `AWS/ELB` metrics, on the virtual clock.
//!
//! Every `Interval` seconds from registration each registered instance is probed for real:
//! `HTTP:`/`HTTPS:` targets pass on status 200, `TCP:` targets on connect, `SSL:` ones on a
//! completed TLS handshake (HTTPS and SSL checks accept any certificate), through
//! `state.backend.http_address` (the in-process responder of a simulated instance, a socket for
//! a container). `HealthyThreshold` passes in a row make it InService, `UnhealthyThreshold`
//! failures OutOfService; an instance that is not running fails at once. When the clock jumps
//! over several intervals, the probe made now stands for every check that fell due.
//!
//! The same pass ends connection draining (no request in flight, or the timeout passed),
//! forgets terminated instances, and once a minute publishes `AWS/ELB` metrics:
//! HealthyHostCount, UnHealthyHostCount, RequestCount, Latency, HTTPCode_Backend_2XX..5XX,
//! HTTPCode_ELB_4XX/5XX, ClientTLSNegotiationErrorCount (counts only when non-zero, as AWS
//! does), per
//! `LoadBalancerName`, per `LoadBalancerName`+`AvailabilityZone` (host counts by the
//! instances' zones, requests by the zone of the instance that served) and with no dimension
//! (every load balancer of the region together), as the CLB guide lists its dimensions.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Controller, ControllerError, Next};
use crate::backend::{HttpAddress, HttpRequest};
use crate::services::cloudwatch::stats::Agg;
use crate::services::cloudwatch::store::MetricKey;
use crate::services::ec2::store::{Ec2Store, InstanceState};
use crate::services::elb::attributes::{Probe, parse_target};
use crate::services::elb::dataplane::candidates;
use crate::services::elb::store::{LoadBalancer, StatsSnapshot, Verdict};
use crate::state::{AppState, Scope, Topic, Topics};

/// The namespace.
pub const NAMESPACE: &str = "AWS/ELB";
/// Metric period (seconds).
const PERIOD: f64 = 60.0;
/// Real seconds a socket probe may take at most (the virtual timeout may be longer).
const MAX_REAL_PROBE: f64 = 2.0;

/// A metric's dimensions.
type Dims = Vec<(String, String)>;

/// Apply `n` checks with the same result: the new (verdict, passes, fails).
pub fn apply_checks(
    verdict: Verdict,
    passes: i64,
    fails: i64,
    passed: bool,
    n: i64,
    healthy_threshold: i64,
    unhealthy_threshold: i64,
) -> (Verdict, i64, i64) {
    if n <= 0 {
        return (verdict, passes, fails);
    }
    if passed {
        let passes = (passes + n).min(healthy_threshold);
        let verdict = if passes >= healthy_threshold {
            Verdict::InService
        } else {
            verdict
        };
        (verdict, passes, 0)
    } else {
        let fails = (fails + n).min(unhealthy_threshold);
        let verdict = if fails >= unhealthy_threshold {
            Verdict::Failed
        } else {
            verdict
        };
        (verdict, 0, fails)
    }
}

/// Checks due at `now` for a check scheduled at `next` every `interval` seconds.
pub fn checks_due(next: f64, now: f64, interval: f64) -> i64 {
    // Epoch seconds near 1.8e9 carry ~1e-7 s of rounding: a check due "at" now is due.
    let now = now + EPSILON;
    if now < next || interval <= 0.0 {
        0
    } else {
        ((now - next) / interval).floor() as i64 + 1
    }
}

/// Slack for comparing virtual times (seconds).
const EPSILON: f64 = 1e-3;

/// The controller. What it published is recorded on each load balancer
/// (`LoadBalancer::metrics_published_through`), so a pass decides from state alone.
#[derive(Debug, Default)]
pub struct ElbHealth;

struct Due {
    scope: Scope,
    lb: String,
    id: String,
    probe: Probe,
    timeout: f64,
    running: bool,
    n: i64,
}

impl Controller for ElbHealth {
    fn name(&self) -> &'static str {
        "elb-health"
    }

    fn watches(&self) -> Topics {
        Topic::Elb | Topic::Ec2 | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let now = state.clock.now();
        let mut next = PERIOD - (now + EPSILON).rem_euclid(PERIOD);
        let mut due = Vec::new();
        state.stores.for_each(|scope, s| {
            for lb in s.elb.load_balancers.values_mut() {
                // Draining ends when nothing is in flight or the timeout passed.
                lb.draining
                    .retain(|_, (until, n)| *until > now && n.load(Ordering::Relaxed) > 0);
                let ec2 = &s.ec2;
                lb.instances.retain(|id, _| {
                    ec2.instances
                        .get(id)
                        .is_some_and(|i| i.state != InstanceState::Terminated)
                });
                let hc = &lb.health_check;
                let Ok(probe) = parse_target(&hc.target) else {
                    continue;
                };
                for (id, reg) in &lb.instances {
                    let n = checks_due(reg.next_check, now, hc.interval as f64);
                    if n == 0 {
                        next = next.min(reg.next_check - now - EPSILON / 2.0);
                        continue;
                    }
                    next = next
                        .min(reg.next_check + n as f64 * hc.interval as f64 - now - EPSILON / 2.0);
                    let running = ec2
                        .instances
                        .get(id)
                        .is_some_and(|i| i.state == InstanceState::Running);
                    due.push(Due {
                        scope: scope.clone(),
                        lb: lb.name.clone(),
                        id: id.clone(),
                        probe: probe.clone(),
                        timeout: hc.timeout as f64,
                        running,
                        n,
                    });
                }
            }
        });

        let mut results = Vec::with_capacity(due.len());
        for d in due {
            let passed = d.running && probe(state, &d.id, &d.probe, d.timeout).await;
            results.push((d, passed));
        }
        for (d, passed) in results {
            state.stores.with(&d.scope, |s| {
                let Some(lb) = s.elb.load_balancers.get_mut(&d.lb) else {
                    return;
                };
                let hc = lb.health_check.clone();
                let Some(reg) = lb.instances.get_mut(&d.id) else {
                    return;
                };
                let n = if d.running {
                    d.n
                } else {
                    hc.unhealthy_threshold
                };
                let (v, p, f) = apply_checks(
                    reg.verdict,
                    reg.passes,
                    reg.fails,
                    passed,
                    n,
                    hc.healthy_threshold,
                    hc.unhealthy_threshold,
                );
                reg.verdict = v;
                reg.passes = p;
                reg.fails = f;
                reg.next_check += d.n as f64 * hc.interval as f64;
            });
        }
        Self::publish(state, now);
        Ok(Next::after_secs(next.max(0.0)))
    }
}

impl ElbHealth {
    /// Publish the last complete minute of every load balancer once.
    fn publish(state: &AppState, now: f64) {
        let at = ((now + EPSILON) / PERIOD).floor() * PERIOD - PERIOD;
        state.stores.for_each(|_, s| {
            let mut points: Vec<(Dims, &'static str, &'static str, Agg)> = Vec::new();
            // The series with no dimension: every load balancer of the region together.
            let mut region: Vec<(&'static str, &'static str, Agg)> = Vec::new();
            for lb in s.elb.load_balancers.values_mut() {
                let last = lb.metrics_published_through;
                if last.is_some_and(|last| last >= at) {
                    continue;
                }
                lb.metrics_published_through = Some(at);
                // First sight: start with the next complete minute.
                if last.is_none() {
                    continue;
                }
                let lb_dim = ("LoadBalancerName".to_owned(), lb.name.clone());
                let zone_hosts = zone_host_counts(lb, &s.ec2);
                let (up, all) = zone_hosts
                    .iter()
                    .fold((0, 0), |(u, a), (_, up, all)| (u + up, a + all));
                let mut lb_points = host_metrics(up, all);
                lb_points.extend(traffic_metrics(&lb.stats.take()));
                for (name, unit, agg) in &lb_points {
                    match region.iter_mut().find(|(n, _, _)| n == name) {
                        Some((_, _, total)) => total.merge(agg),
                        None => region.push((name, unit, agg.clone())),
                    }
                }
                points.extend(
                    lb_points
                        .into_iter()
                        .map(|(name, unit, agg)| (vec![lb_dim.clone()], name, unit, agg)),
                );
                let zone_points = zone_hosts
                    .into_iter()
                    .flat_map(|(zone, up, all)| {
                        host_metrics(up, all)
                            .into_iter()
                            .map(move |(name, unit, agg)| (zone.to_owned(), name, unit, agg))
                    })
                    .chain(lb.zone_stats.iter().flat_map(|(zone, stats)| {
                        traffic_metrics(&stats.take())
                            .into_iter()
                            .map(move |(name, unit, agg)| (zone.clone(), name, unit, agg))
                    }));
                for (zone, name, unit, agg) in zone_points {
                    let zone_dim = ("AvailabilityZone".to_owned(), zone);
                    points.push((vec![lb_dim.clone(), zone_dim], name, unit, agg));
                }
            }
            for (dims, name, unit, agg) in points {
                let key = MetricKey::new(NAMESPACE, name, dims);
                s.cloudwatch.metrics.put(&key, unit, at, &agg, false, now);
            }
            for (name, unit, agg) in region {
                let key = MetricKey::new(NAMESPACE, name, Vec::new());
                s.cloudwatch.metrics.put(&key, unit, at, &agg, false, now);
            }
        });
    }
}

/// HealthyHostCount and UnHealthyHostCount from `up` healthy of `all` registered instances.
fn host_metrics(up: usize, all: usize) -> Vec<(&'static str, &'static str, Agg)> {
    vec![
        ("HealthyHostCount", "Count", Agg::value(up as f64)),
        (
            "UnHealthyHostCount",
            "Count",
            Agg::value(all.saturating_sub(up) as f64),
        ),
    ]
}

/// Per Availability Zone (every enabled zone, and any zone a registered instance is in): its
/// InService instances and its registered ones. Every InService instance is in an enabled
/// zone, so the sums are the load balancer's counts.
fn zone_host_counts<'a>(lb: &'a LoadBalancer, ec2: &'a Ec2Store) -> Vec<(&'a str, usize, usize)> {
    let healthy = candidates(lb, ec2);
    let mut zones: Vec<&str> = lb.availability_zones.iter().map(String::as_str).collect();
    let registered: Vec<&str> = lb
        .instances
        .keys()
        .filter_map(|id| ec2.instances.get(id))
        .map(|i| i.availability_zone.as_str())
        .collect();
    zones.extend(registered.iter().copied());
    zones.sort_unstable();
    zones.dedup();
    zones
        .into_iter()
        .map(|zone| {
            let up = healthy.iter().filter(|c| c.zone == zone).count();
            let all = registered.iter().filter(|z| **z == zone).count();
            (zone, up, all)
        })
        .collect()
}

/// The request metrics of one minute (only the non-zero ones, as AWS reports them).
pub fn traffic_metrics(s: &StatsSnapshot) -> Vec<(&'static str, &'static str, Agg)> {
    let mut out = Vec::new();
    let count = |n: u64| Agg::set(n as f64, n as f64, 1.0, 1.0);
    if s.requests > 0 {
        out.push(("RequestCount", "Count", count(s.requests)));
    }
    let served: u64 = s.backend.iter().sum();
    if served > 0 {
        out.push((
            "Latency",
            "Seconds",
            Agg::set(
                served as f64,
                s.latency_us as f64 / 1e6,
                s.latency_min_us as f64 / 1e6,
                s.latency_max_us as f64 / 1e6,
            ),
        ));
    }
    let names = [
        "HTTPCode_Backend_2XX",
        "HTTPCode_Backend_3XX",
        "HTTPCode_Backend_4XX",
        "HTTPCode_Backend_5XX",
    ];
    for (name, n) in names.iter().zip(s.backend) {
        if n > 0 {
            out.push((name, "Count", count(n)));
        }
    }
    if s.elb_4xx > 0 {
        out.push(("HTTPCode_ELB_4XX", "Count", count(s.elb_4xx)));
    }
    if s.elb_5xx > 0 {
        out.push(("HTTPCode_ELB_5XX", "Count", count(s.elb_5xx)));
    }
    if s.tls_errors > 0 {
        out.push((
            "ClientTLSNegotiationErrorCount",
            "Count",
            count(s.tls_errors),
        ));
    }
    out
}

/// One real probe.
async fn probe(state: &AppState, id: &str, probe: &Probe, timeout: f64) -> bool {
    let (port, tls, path) = match probe {
        Probe::Connect { port, tls } => (*port, *tls, None),
        Probe::Http { port, path, tls } => (*port, *tls, Some(path.as_str())),
    };
    let Some(address) = state.backend.http_address(id, port) else {
        return false;
    };
    let limit = Duration::from_secs_f64(timeout.min(MAX_REAL_PROBE));
    match address {
        // In process there is nothing to encrypt for: SSL/HTTPS checks answer as TCP/HTTP.
        HttpAddress::InProcess(responder) => path.is_none_or(|path| {
            responder(&HttpRequest {
                method: "GET".into(),
                path: path.to_owned(),
            })
            .status
                == 200
        }),
        HttpAddress::Socket(addr) => matches!(
            tokio::time::timeout(limit, socket_probe(addr, tls, path)).await,
            Ok(Some(true))
        ),
    }
}

/// Connect (and, for SSL/HTTPS, complete a TLS handshake accepting any certificate), then
/// `GET path` when there is one: passes on a 200.
async fn socket_probe(addr: std::net::SocketAddr, tls: bool, path: Option<&str>) -> Option<bool> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    if !tls {
        return http_check(stream, addr, path).await;
    }
    let config = crate::lb::backend_tls::accept_any();
    let stream = crate::lb::backend_tls::handshake(stream, addr.ip(), config)
        .await
        .ok()?;
    http_check(stream, addr, path).await
}

async fn http_check<S>(
    mut stream: S,
    addr: std::net::SocketAddr,
    path: Option<&str>,
) -> Option<bool>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Some(path) = path else {
        return Some(true);
    };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: ELB-HealthChecker/1.0\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.ok()?;
    stream.flush().await.ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.ok()?;
    Some(head.starts_with(b"HTTP/1.") && &head[8..12] == b" 200")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_decide_verdicts() {
        let r = Verdict::Registering;
        assert_eq!(apply_checks(r, 0, 0, true, 9, 10, 2), (r, 9, 0));
        assert_eq!(
            apply_checks(r, 9, 0, true, 1, 10, 2),
            (Verdict::InService, 10, 0)
        );
        let s = Verdict::InService;
        assert_eq!(apply_checks(s, 10, 0, false, 1, 10, 2), (s, 0, 1));
        assert_eq!(
            apply_checks(s, 0, 1, false, 1, 10, 2),
            (Verdict::Failed, 0, 2)
        );
        assert_eq!(checks_due(30.0, 29.0, 30.0), 0);
        let t = 1_795_000_000.123_f64;
        assert_eq!(checks_due(t + 30.0 + 270.0, (t + 299.0) + 1.0, 30.0), 1);
        assert_eq!(checks_due(30.0, 30.0, 30.0), 1);
        assert_eq!(checks_due(30.0, 299.0, 30.0), 9);
        assert_eq!(checks_due(30.0, 300.0, 30.0), 10);
    }

    #[test]
    fn only_non_zero_traffic_is_reported() {
        assert!(traffic_metrics(&StatsSnapshot::default()).is_empty());
        let m = traffic_metrics(&StatsSnapshot {
            requests: 3,
            latency_us: 3000,
            latency_max_us: 2000,
            latency_min_us: 500,
            backend: [2, 0, 0, 0],
            elb_4xx: 0,
            elb_5xx: 1,
            tls_errors: 2,
        });
        let names: Vec<&str> = m.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(
            names,
            [
                "RequestCount",
                "Latency",
                "HTTPCode_Backend_2XX",
                "HTTPCode_ELB_5XX",
                "ClientTLSNegotiationErrorCount"
            ]
        );
        assert_eq!(m[1].2.sum, 0.003);
    }
}
