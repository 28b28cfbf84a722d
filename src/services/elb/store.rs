//! Classic load balancers of one (account, region): listeners, health check, attributes,
//! policies, registered instances and their health as the checker last decided it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use indexmap::IndexMap;

use crate::state::fasthash::FastBuild;

/// Hosted zone id of Classic load balancers (one per region on AWS; a fixed one here).
pub const CANONICAL_HOSTED_ZONE_ID: &str = "Z35SXDOTRQ7X7K";

/// All Classic load balancers of a scope, by name.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct ElbStore {
    /// By `LoadBalancerName`, in creation order.
    pub load_balancers: IndexMap<String, LoadBalancer>,
}

/// One listener.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Listener {
    /// `HTTP`, `HTTPS`, `TCP`, `SSL` (upper case).
    pub protocol: String,
    /// Front-end port.
    pub lb_port: u16,
    /// Back-end protocol.
    pub instance_protocol: String,
    /// Back-end port.
    pub instance_port: u16,
    /// Certificate ARN (HTTPS/SSL).
    pub ssl_certificate_id: Option<String>,
    /// Policies in effect on the listener.
    pub policy_names: Vec<String>,
}

/// `HealthCheck`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HealthCheck {
    /// `HTTP:80/index.html`, `TCP:80`, ...
    pub target: String,
    /// Seconds between checks.
    pub interval: i64,
    /// Seconds a check may take.
    pub timeout: i64,
    /// Consecutive failures to go OutOfService.
    pub unhealthy_threshold: i64,
    /// Consecutive passes to go InService.
    pub healthy_threshold: i64,
}

impl HealthCheck {
    /// The API default: `TCP:<instance port of the first listener>`, 30/5/2/10.
    pub fn default_for(instance_port: u16) -> Self {
        Self {
            target: format!("TCP:{instance_port}"),
            interval: 30,
            timeout: 5,
            unhealthy_threshold: 2,
            healthy_threshold: 10,
        }
    }
}

/// `LoadBalancerAttributes`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Attributes {
    /// CrossZoneLoadBalancing.Enabled.
    pub cross_zone: bool,
    /// ConnectionDraining.Enabled.
    pub draining_enabled: bool,
    /// ConnectionDraining.Timeout (seconds).
    pub draining_timeout: i64,
    /// ConnectionSettings.IdleTimeout (seconds).
    pub idle_timeout: i64,
    /// AccessLog: enabled, bucket, interval, prefix (stored only).
    pub access_log: (bool, Option<String>, Option<i64>, Option<String>),
    /// AdditionalAttributes (stored only).
    pub additional: Vec<(String, String)>,
}

impl Default for Attributes {
    fn default() -> Self {
        Self {
            cross_zone: false,
            draining_enabled: false,
            draining_timeout: 300,
            idle_timeout: 60,
            access_log: (false, None, None, None),
            additional: Vec::new(),
        }
    }
}

/// A policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    /// `LBCookieStickinessPolicyType`, `AppCookieStickinessPolicyType`, ...
    pub type_name: String,
    /// (AttributeName, AttributeValue).
    pub attributes: Vec<(String, String)>,
}

impl Policy {
    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the health checker last decided about a registered instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// No verdict yet: not enough checks either way.
    Registering,
    /// Passed `HealthyThreshold` checks in a row.
    InService,
    /// Failed `UnhealthyThreshold` checks in a row.
    Failed,
}

/// A registered instance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Registered {
    /// When it was registered (virtual seconds).
    pub since: f64,
    /// The checker's verdict.
    pub verdict: Verdict,
    /// Consecutive passes.
    pub passes: i64,
    /// Consecutive failures.
    pub fails: i64,
    /// When the next check is due (virtual seconds).
    pub next_check: f64,
    /// Requests in flight to it (least outstanding requests; connection draining). Not
    /// persisted: no request survives a restart.
    #[serde(skip)]
    pub inflight: Arc<AtomicU32>,
}

impl Registered {
    /// Freshly registered at `now`: the first check one interval later.
    pub fn new(now: f64, interval: i64) -> Self {
        Self {
            since: now,
            verdict: Verdict::Registering,
            passes: 0,
            fails: 0,
            next_check: now + interval as f64,
            inflight: Arc::default(),
        }
    }
}

/// Request counters the data plane adds to and the metric publisher drains each minute.
#[derive(Debug, Default)]
pub struct LiveStats {
    /// Requests that reached a backend.
    pub requests: AtomicU64,
    /// Sum of backend latencies, microseconds.
    pub latency_us: AtomicU64,
    /// Largest latency, microseconds.
    pub latency_max_us: AtomicU64,
    /// Smallest latency + 1, microseconds (0 = none yet).
    pub latency_min_us: AtomicU64,
    /// Backend answers by class: 2XX, 3XX, 4XX, 5XX.
    pub backend: [AtomicU64; 4],
    /// Load-balancer-made 4XX.
    pub elb_4xx: AtomicU64,
    /// Load-balancer-made 5XX.
    pub elb_5xx: AtomicU64,
    /// Clients' failed TLS handshakes on HTTPS/SSL listeners.
    pub tls_errors: AtomicU64,
}

impl LiveStats {
    /// Take the counters, leaving zeros.
    pub fn take(&self) -> StatsSnapshot {
        let t = |a: &AtomicU64| a.swap(0, Ordering::Relaxed);
        StatsSnapshot {
            requests: t(&self.requests),
            latency_us: t(&self.latency_us),
            latency_max_us: t(&self.latency_max_us),
            latency_min_us: t(&self.latency_min_us).saturating_sub(1),
            backend: [
                t(&self.backend[0]),
                t(&self.backend[1]),
                t(&self.backend[2]),
                t(&self.backend[3]),
            ],
            elb_4xx: t(&self.elb_4xx),
            elb_5xx: t(&self.elb_5xx),
            tls_errors: t(&self.tls_errors),
        }
    }
}

/// One minute's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsSnapshot {
    /// Requests that reached a backend.
    pub requests: u64,
    /// Sum of latencies, microseconds.
    pub latency_us: u64,
    /// Largest latency, microseconds.
    pub latency_max_us: u64,
    /// Smallest latency, microseconds.
    pub latency_min_us: u64,
    /// Backend answers by class.
    pub backend: [u64; 4],
    /// Load-balancer-made 4XX.
    pub elb_4xx: u64,
    /// Load-balancer-made 5XX.
    pub elb_5xx: u64,
    /// Failed client TLS handshakes.
    pub tls_errors: u64,
}

/// A Classic load balancer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LoadBalancer {
    /// `LoadBalancerName` as given.
    pub name: String,
    /// `DNSName` (also `CanonicalHostedZoneName`).
    pub dns_name: String,
    /// CreatedTime.
    pub created: f64,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    /// VPC of its subnets.
    pub vpc_id: String,
    /// Subnets (one per zone).
    pub subnets: Vec<String>,
    /// Enabled Availability Zones.
    pub availability_zones: Vec<String>,
    /// Security group ids.
    pub security_groups: Vec<String>,
    /// Listeners, by front-end port order of creation.
    pub listeners: Vec<Listener>,
    /// Health check.
    pub health_check: HealthCheck,
    /// Attributes.
    pub attributes: Attributes,
    /// Policies by name.
    pub policies: IndexMap<String, Policy>,
    /// Back-end server policies by instance port.
    pub backend_policies: BTreeMap<u16, Vec<String>>,
    /// Registered instances.
    pub instances: IndexMap<String, Registered>,
    /// Deregistered instances still draining: id → (drain deadline, in-flight counter).
    pub draining: IndexMap<String, (f64, Arc<AtomicU32>)>,
    /// Tags.
    pub tags: IndexMap<String, String>,
    /// Round-robin cursor, over zones and over instances: shared with the data plane's
    /// route cache, which moves it without the store lock. Not persisted (a restart begins
    /// the rotation again, as a new load balancer node would).
    #[serde(skip)]
    pub cursor: Arc<AtomicU64>,
    /// Counters for the metric publisher. Not persisted (the current minute's requests are
    /// lost with the process, as the requests themselves are).
    #[serde(skip)]
    pub stats: Arc<LiveStats>,
    /// The same counters per Availability Zone (of the instance that served). Not persisted.
    #[serde(skip)]
    pub zone_stats: IndexMap<String, Arc<LiveStats>, FastBuild>,
    /// Start of the last minute whose `AWS/ELB` metrics were published (or the minute it was
    /// first seen in); set by the metric publisher.
    pub metrics_published_through: Option<f64>,
}

impl LoadBalancer {
    /// The listener on `port`.
    pub fn listener(&self, port: u16) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.lb_port == port)
    }

    /// Front-end ports, for the data plane's index.
    pub fn ports(&self) -> Vec<u16> {
        self.listeners.iter().map(|l| l.lb_port).collect()
    }
}
