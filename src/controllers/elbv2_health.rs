//! The ELBv2 health checker and `AWS/ApplicationELB` metric publisher.
//!
//! Every pass: drained targets whose deregistration delay ended are removed; targets that are
//! not checked (group not in use, instance stopped) start over from `initial`; every target
//! whose check is due is probed for real — through the instance backend's HTTP address
//! (`HttpAddress::InProcess` for simulated instances, a socket for containers and loopback `ip`
//! targets) — and the pure rules of `services::elbv2::health` turn the results into verdicts.
//! When the clock jumped over several intervals, the one probe counts for each check missed.
//! Once a minute the request counts the data plane recorded and the healthy/unhealthy host
//! counts go to CloudWatch.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Controller, ControllerError, Next};
use crate::backend::{HttpAddress, HttpRequest};
use crate::services::cloudwatch::store::MetricKey;
use crate::services::ec2::store::InstanceState;
use crate::services::elbv2::health::{self, Probe, code_matches, invalid_state};
use crate::services::elbv2::metrics::{self, Datum, PERIOD};
use crate::services::elbv2::store::{Elbv2Store, Health, HealthCheck};
use crate::services::elbv2::targets::zone_enabled;
use crate::state::{AppState, RegionStores, Scope, Topic, Topics};

/// Sleep when nothing is due sooner.
const IDLE_SECONDS: f64 = 60.0;
/// Real seconds a socket probe may take at most (the virtual timeout may be longer).
const MAX_REAL_TIMEOUT: f64 = 5.0;

/// One probe to run.
#[derive(Debug, Clone)]
struct Job {
    scope: Scope,
    tg_arn: String,
    key: (String, u16),
    check: HealthCheck,
    /// How many checks the probe stands for.
    checks: u32,
    /// Instance id to ask the backend for, or a socket address.
    target: ProbeTarget,
    port: u16,
}

#[derive(Debug, Clone)]
enum ProbeTarget {
    Instance(String),
    Socket(std::net::IpAddr),
    Unreachable,
}

/// Health checks and metrics of ELBv2 target groups. What it published is recorded in the
/// store (`Elbv2Store::hosts_published_minute`), so a pass decides from state alone.
#[derive(Debug, Default)]
pub struct Elbv2Health;

/// Remove finished drains, reset unchecked targets, and collect due probes of one scope.
/// Returns the virtual seconds until the next thing is due there.
fn plan(scope: &Scope, s: &mut RegionStores, now: f64, jobs: &mut Vec<Job>) -> f64 {
    let mut next = IDLE_SECONDS;
    let in_use: Vec<String> = s
        .elbv2
        .target_groups
        .keys()
        .filter(|a| s.elbv2.target_group_in_use(a))
        .cloned()
        .collect();
    // Instances in zones their load balancer does not use are not checked.
    let off_zone: Vec<(String, String)> = s
        .elbv2
        .target_groups
        .values()
        .flat_map(|tg| {
            tg.targets
                .values()
                .filter(|t| !zone_enabled(s, tg, &t.id))
                .map(|t| (tg.arn.clone(), t.id.clone()))
        })
        .collect();
    let (ec2, elbv2) = (&s.ec2, &mut s.elbv2);
    for tg in elbv2.target_groups.values_mut() {
        let used = in_use.contains(&tg.arn);
        let interval = tg.health.interval.max(1) as f64;
        tg.targets
            .retain(|_, t| t.draining_until.is_none_or(|u| u > now));
        for t in tg.targets.values_mut() {
            if let Some(until) = t.draining_until {
                next = next.min(until - now);
                continue;
            }
            let instance = (tg.target_type == "instance")
                .then(|| ec2.instances.get(&t.id).map(|i| i.state))
                .flatten();
            let gone = tg.target_type == "instance" && instance.is_none();
            let off = off_zone.iter().any(|(a, i)| *a == tg.arn && *i == t.id);
            if !used
                || gone
                || off
                || invalid_state(instance).is_some()
                || instance == Some(InstanceState::Pending)
            {
                // Not checked: when it is checked again it starts from `initial`.
                if t.health != Health::Initial || t.passes + t.failures > 0 {
                    health::restart(t, now);
                }
                t.next_check = t.next_check.max(now);
                continue;
            }
            if t.next_check <= now {
                let checks = ((now - t.next_check) / interval).floor() as u32 + 1;
                t.next_check += f64::from(checks) * interval;
                let port = if tg.health.port == "traffic-port" {
                    t.port
                } else {
                    tg.health.port.parse().unwrap_or(t.port)
                };
                let target = if tg.target_type == "instance" {
                    ProbeTarget::Instance(t.id.clone())
                } else {
                    ip_target(ec2, &t.id)
                };
                jobs.push(Job {
                    scope: scope.clone(),
                    tg_arn: tg.arn.clone(),
                    key: (t.id.clone(), t.port),
                    check: tg.health.clone(),
                    checks,
                    target,
                    port,
                });
            }
            next = next.min(t.next_check - now);
        }
    }
    next
}

/// An `ip` target: an instance by its private address, a loopback socket, or nothing (no
/// traffic leaves the machine).
fn ip_target(ec2: &crate::services::ec2::store::Ec2Store, id: &str) -> ProbeTarget {
    let Ok(ip) = id.parse::<std::net::IpAddr>() else {
        return ProbeTarget::Unreachable;
    };
    if ip.is_loopback() {
        return ProbeTarget::Socket(ip);
    }
    ec2.instances
        .values()
        .find(|i| std::net::IpAddr::V4(i.private_ip) == ip && i.state == InstanceState::Running)
        .map_or(ProbeTarget::Unreachable, |i| {
            ProbeTarget::Instance(i.id.clone())
        })
}

fn verdict(check: &HealthCheck, status: u16) -> Probe {
    if code_matches(check.matcher.as_deref().unwrap_or("200"), status) {
        Probe::Pass
    } else {
        Probe::Code(status)
    }
}

/// Run one probe.
async fn probe(state: &AppState, job: &Job) -> Probe {
    let address = match &job.target {
        ProbeTarget::Instance(id) => state.backend.http_address(id, job.port),
        ProbeTarget::Socket(ip) => Some(HttpAddress::Socket(std::net::SocketAddr::new(
            *ip, job.port,
        ))),
        ProbeTarget::Unreachable => return Probe::Timeout,
    };
    let Some(address) = address else {
        // Nothing listens on the port: the connection is refused.
        return Probe::Failed;
    };
    let tcp = job.check.protocol == "TCP";
    // HTTPS checks speak TLS to the target, accepting any certificate (as the data plane).
    let tls = job.check.protocol == "HTTPS";
    let path = job.check.path.clone().unwrap_or_else(|| "/".into());
    match address {
        HttpAddress::InProcess(responder) => {
            if tcp {
                return Probe::Pass;
            }
            let reply = responder(&HttpRequest {
                method: "GET".into(),
                path,
            });
            verdict(&job.check, reply.status)
        }
        HttpAddress::Socket(addr) => {
            let timeout = Duration::from_secs_f64((job.check.timeout as f64).min(MAX_REAL_TIMEOUT));
            match tokio::time::timeout(timeout, socket_probe(addr, tcp, tls, &path)).await {
                Err(_) => Probe::Timeout,
                Ok(Err(_)) => Probe::Failed,
                Ok(Ok(None)) => Probe::Pass,
                Ok(Ok(Some(status))) => verdict(&job.check, status),
            }
        }
    }
}

/// Connect (TCP check) or send `GET path` and read the status (HTTP check; HTTPS over TLS).
async fn socket_probe(
    addr: std::net::SocketAddr,
    tcp: bool,
    tls: bool,
    path: &str,
) -> std::io::Result<Option<u16>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    if tcp {
        return Ok(None);
    }
    if tls {
        let config = crate::lb::backend_tls::accept_any();
        let stream = crate::lb::backend_tls::handshake(stream, addr.ip(), config).await?;
        return http_status(stream, addr, path).await.map(Some);
    }
    http_status(stream, addr, path).await.map(Some)
}

/// Send `GET path` and read the status of the answer.
async fn http_status<S>(
    mut stream: S,
    addr: std::net::SocketAddr,
    path: &str,
) -> std::io::Result<u16>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: ELB-HealthChecker/2.0\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < 4096 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other("malformed status line"))
}

fn store(s: &mut RegionStores, data: Vec<Datum>, now: f64) {
    for d in data {
        let key = MetricKey::new(d.namespace, d.name, d.dims);
        s.cloudwatch
            .metrics
            .put(&key, d.unit, d.at, &d.agg, false, now);
    }
}

fn has_elbv2(store: &Elbv2Store) -> bool {
    !store.load_balancers.is_empty() || !store.traffic.is_empty()
}

impl Elbv2Health {
    fn publish(state: &AppState, now: f64) {
        let minute = (now / PERIOD).floor() as i64;
        state.stores.for_each(|_, s| {
            if !has_elbv2(&s.elbv2) {
                return;
            }
            let last = *s.elbv2.hosts_published_minute.get_or_insert(minute);
            let (hosts, healthy) = metrics::host_data(s, (minute - 1) as f64 * PERIOD, now);
            let traffic = metrics::traffic_data(&mut s.elbv2, minute, &healthy);
            let mut data = traffic;
            if minute > last {
                data.extend(hosts);
                s.elbv2.hosts_published_minute = Some(minute);
            }
            store(s, data, now);
        });
    }
}

impl Controller for Elbv2Health {
    fn name(&self) -> &'static str {
        "elbv2-health"
    }

    fn watches(&self) -> Topics {
        Topic::Elbv2 | Topic::Ec2 | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let now = state.clock.now();
        let mut jobs = Vec::new();
        let mut next = IDLE_SECONDS;
        state.stores.for_each(|scope, s| {
            if !s.elbv2.target_groups.is_empty() {
                next = next.min(plan(scope, s, now, &mut jobs));
            }
        });
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let p = probe(state, &job).await;
            results.push((job, p));
        }
        for (job, p) in results {
            state.stores.with(&job.scope, |s| {
                let Some(t) = s
                    .elbv2
                    .target_groups
                    .get_mut(&job.tg_arn)
                    .and_then(|tg| tg.targets.get_mut(&job.key))
                else {
                    return;
                };
                if t.draining_until.is_some() {
                    return;
                }
                if health::apply(t, &job.check, &p, job.checks) {
                    tracing::info!(target_group = %job.tg_arn, target = %job.key.0, port = job.key.1,
                        health = ?t.health, "target health changed");
                }
            });
        }
        Self::publish(state, now);
        let to_minute = PERIOD - now.rem_euclid(PERIOD);
        Ok(Next::after_secs(next.min(to_minute).max(0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::elbv2::target_groups::default_health;

    #[test]
    fn matcher_verdicts() {
        let mut hc = default_health("HTTP");
        assert_eq!(verdict(&hc, 200), Probe::Pass);
        assert_eq!(verdict(&hc, 404), Probe::Code(404));
        hc.matcher = Some("200-399".into());
        assert_eq!(verdict(&hc, 302), Probe::Pass);
    }

    /// One API call in process, for the set-up below.
    fn call(
        state: &AppState,
        service: &'static str,
        op: &str,
        input: serde_json::Value,
    ) -> serde_json::Value {
        let ctx = crate::context::RequestContext {
            request_id: "test".into(),
            scope: Scope::new("000000000000", "us-east-1"),
            service,
            operation: op.into(),
            protocol: crate::protocol::Protocol::Query,
            access_key_id: None,
        };
        crate::services::dispatch(&ctx, state, input).unwrap_or_else(|e| panic!("{op}: {e:?}"))
    }

    #[tokio::test]
    async fn alb_traffic_is_no_state_change_until_the_publisher_folds_it() {
        use serde_json::json;
        let state = AppState::new(crate::Config {
            time_scale: 0.0,
            ..crate::Config::default()
        });
        let scope = Scope::new("000000000000", "us-east-1");
        let subnets = call(&state, "ec2", "DescribeSubnets", json!({}));
        let subnets = subnets["Subnets"].as_array().unwrap();
        let ids: Vec<_> = subnets.iter().map(|s| s["SubnetId"].clone()).collect();
        let lb = call(
            &state,
            "elbv2",
            "CreateLoadBalancer",
            json!({ "Name": "quiet", "Subnets": ids }),
        );
        let lb = &lb["LoadBalancers"][0];
        let tg = call(
            &state,
            "elbv2",
            "CreateTargetGroup",
            json!({ "Name": "quiet", "Protocol": "HTTP", "Port": 80,
                    "VpcId": subnets[0]["VpcId"], "TargetType": "ip" }),
        );
        let tg_arn = tg["TargetGroups"][0]["TargetGroupArn"].clone();
        call(
            &state,
            "elbv2",
            "CreateListener",
            json!({ "LoadBalancerArn": lb["LoadBalancerArn"], "Protocol": "HTTP", "Port": 80,
                    "DefaultActions": [{ "Type": "forward", "TargetGroupArn": tg_arn }] }),
        );
        call(
            &state,
            "elbv2",
            "RegisterTargets",
            json!({ "TargetGroupArn": tg_arn, "Targets": [{ "Id": "127.0.0.1", "Port": 9 }] }),
        );
        state.stores.with(&scope, |s| {
            for tg in s.elbv2.target_groups.values_mut() {
                for t in tg.targets.values_mut() {
                    t.health = crate::services::elbv2::store::Health::Healthy;
                }
            }
        });
        let lb_ref = crate::lb::LbRef {
            scope: scope.clone(),
            kind: crate::lb::LbKind::Application,
            name: lb["LoadBalancerArn"].as_str().unwrap().to_owned(),
        };
        let headers = http::HeaderMap::new();
        let dns = lb["DNSName"].as_str().unwrap();
        let req = crate::lb::RequestInfo {
            method: &http::Method::GET,
            path: "/",
            query: None,
            host: dns,
            headers: &headers,
            client: "10.0.0.7:40000".parse().unwrap(),
            listener_port: None,
        };
        let before = state.stores.generation();
        for _ in 0..3 {
            let d = crate::services::elbv2::dataplane::route(&state, &lb_ref, &req);
            let crate::lb::Route::Forward(f) = &d.route else {
                panic!("forwarded: {:?}", d.route);
            };
            assert_eq!(f.backends[0].port, 9);
            let done = d.on_complete.expect("a completion");
            done(&crate::lb::Outcome {
                served_by: Some(0),
                status: 200,
                from_backend: true,
                latency: 0.004,
            });
        }
        assert_eq!(
            state.stores.generation(),
            before,
            "requests and their counting are not changes the state writer must save"
        );
        let counted = state.stores.with_existing(&scope, |s| {
            s.elbv2.traffic.values().map(|t| t.requests).sum::<u64>()
        });
        assert_eq!(counted, Some(3));
        // The next minute, the publisher folds the counters into CloudWatch: a change.
        state.clock.advance(PERIOD);
        Elbv2Health::publish(&state, state.clock.now());
        assert!(state.stores.generation() > before);
        let requests = state
            .stores
            .with_existing(&scope, |s| {
                assert!(s.elbv2.traffic.is_empty(), "the minute was drained");
                s.cloudwatch
                    .metrics
                    .iter()
                    .filter(|(k, _)| {
                        k.namespace == metrics::NAMESPACE
                            && k.name == "RequestCount"
                            && k.dimensions.len() == 1
                    })
                    .count()
            })
            .unwrap();
        assert_eq!(
            requests, 1,
            "RequestCount per LoadBalancer reached CloudWatch"
        );
    }

    #[tokio::test]
    async fn socket_probes_read_the_status_line() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                    .await;
            }
        });
        assert_eq!(
            socket_probe(addr, false, false, "/").await.unwrap(),
            Some(503)
        );
        assert_eq!(socket_probe(addr, true, false, "/").await.unwrap(), None);
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(socket_probe(closed, false, false, "/").await.is_err());
    }
}
