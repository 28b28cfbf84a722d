//! The ELBv2 data of one (account, region): load balancers, target groups, listeners, rules,
//! tags and the traffic counters the metric publisher turns into `AWS/ApplicationELB`.
//!
//! Records keep what the API shows plus the health bookkeeping the health controller needs.
//! Actions and conditions are kept in their API shape ([`Action`], [`Condition`]), already
//! normalised the way DescribeRules shows them.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::actions::{Action, Condition};
use crate::state::fasthash::{FastBuild, FastMap};

/// Seconds a new load balancer stays `provisioning` before it is `active` [INF: AWS takes a
/// few minutes; a short virtual delay keeps the state visible without slowing tests].
pub const PROVISIONING_SECONDS: f64 = 30.0;

/// The ELBv2 data of one (account, region).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Elbv2Store {
    /// Load balancers by ARN, in creation order.
    pub load_balancers: IndexMap<String, LoadBalancer>,
    /// Target groups by ARN, in creation order.
    pub target_groups: IndexMap<String, TargetGroup>,
    /// Listeners by ARN.
    pub listeners: IndexMap<String, Listener>,
    /// Rules by ARN (each listener's default rule included).
    pub rules: IndexMap<String, Rule>,
    /// Tags by resource ARN, in the order they were set.
    pub tags: HashMap<String, IndexMap<String, String>>,
    /// Requests counted by the data plane, per (load balancer, target group or "", zone of the
    /// target or "", minute of the clock); the metric publisher drains complete minutes.
    /// Looked up by a borrowed key on every request (`metrics::TrafficRef`), so counting
    /// allocates nothing once a minute's entry exists.
    pub traffic: IndexMap<(String, String, String, i64), Traffic, FastBuild>,
    /// Round-robin cursor per target group.
    pub cursors: FastMap<String, usize>,
    /// The last minute whose host counts went to CloudWatch (first set to the minute the
    /// publisher first saw this region's load balancers in; the metric publisher's).
    pub hosts_published_minute: Option<i64>,
    /// The data plane's lookups, derived from the above (see [`Elbv2Store::refresh_routes`]).
    #[serde(skip)]
    pub routes: super::route_index::RouteIndex,
}

/// A load balancer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LoadBalancer {
    /// `arn:aws:elasticloadbalancing:…:loadbalancer/app/{name}/{id}`.
    pub arn: String,
    /// Name.
    pub name: String,
    /// `application` or `network`.
    pub kind: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    /// `<name>-<digits>.<region>.elb.localhost`.
    pub dns_name: String,
    /// VPC of its subnets.
    pub vpc_id: String,
    /// Creation time (epoch seconds).
    pub created: f64,
    /// (zone name, subnet id), one per Availability Zone.
    pub zones: Vec<(String, String)>,
    /// Security group ids (application load balancers).
    pub security_groups: Vec<String>,
    /// `ipv4`, `dualstack`, ...
    pub ip_address_type: String,
    /// Attributes (every key AWS lists, with its value).
    pub attributes: IndexMap<String, String>,
}

impl LoadBalancer {
    /// `provisioning` until [`PROVISIONING_SECONDS`] have passed, then `active`.
    pub fn state(&self, now: f64) -> &'static str {
        if now - self.created < PROVISIONING_SECONDS {
            "provisioning"
        } else {
            "active"
        }
    }

    /// `app/{name}/{id}` (the `LoadBalancer` metric dimension and the tail of its ARN).
    pub fn dimension(&self) -> String {
        arn_tail(&self.arn, "loadbalancer/")
    }
}

/// The part of an ARN after `marker` (`loadbalancer/`, `targetgroup/`...).
pub fn arn_tail(arn: &str, marker: &str) -> String {
    arn.split_once(marker)
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

/// Health check settings of a target group.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HealthCheck {
    /// Checks on.
    pub enabled: bool,
    /// `HTTP`, `HTTPS` or `TCP`.
    pub protocol: String,
    /// `traffic-port` or a port number.
    pub port: String,
    /// Path (HTTP(S) only).
    pub path: Option<String>,
    /// Seconds between checks.
    pub interval: i64,
    /// Seconds a check may take.
    pub timeout: i64,
    /// Consecutive passes to become healthy again.
    pub healthy_threshold: i64,
    /// Consecutive failures to become unhealthy.
    pub unhealthy_threshold: i64,
    /// Success codes (`200`, `200,202`, `200-299`), HTTP(S) only.
    pub matcher: Option<String>,
}

/// A target group.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TargetGroup {
    /// `arn:…:targetgroup/{name}/{id}`.
    pub arn: String,
    /// Name.
    pub name: String,
    /// `HTTP`, `HTTPS`, `TCP`, ... (absent for lambda).
    pub protocol: Option<String>,
    /// `HTTP1`, `HTTP2`, `GRPC` (HTTP(S) groups).
    pub protocol_version: Option<String>,
    /// Port targets receive traffic on by default.
    pub port: Option<i64>,
    /// VPC.
    pub vpc_id: Option<String>,
    /// `instance`, `ip`, `lambda`, `alb`.
    pub target_type: String,
    /// `ipv4` or `ipv6`.
    pub ip_address_type: String,
    /// Health check settings.
    pub health: HealthCheck,
    /// Attributes (every key AWS lists, with its value).
    pub attributes: IndexMap<String, String>,
    /// Registered (and draining) targets by (id, port).
    pub targets: IndexMap<(String, u16), Target>,
}

impl TargetGroup {
    /// `targetgroup/{name}/{id}` (the `TargetGroup` metric dimension).
    pub fn dimension(&self) -> String {
        format!("targetgroup/{}", arn_tail(&self.arn, "targetgroup/"))
    }

    /// An attribute's value.
    pub fn attribute(&self, key: &str) -> &str {
        self.attributes.get(key).map_or("", String::as_str)
    }
}

/// Where a target is in its health checks (what the controller last decided).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Health {
    /// Registered, no verdict yet.
    Initial,
    /// Passing.
    Healthy,
    /// Failing: reason code and description.
    Unhealthy(
        #[serde(deserialize_with = "crate::state::persist::fields::static_str")]
        crate::state::persist::fields::StaticStr,
        String,
    ),
}

/// One registered target.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// Instance id or IP address.
    pub id: String,
    /// Port.
    pub port: u16,
    /// `AvailabilityZone` given at registration (ip targets).
    pub availability_zone: Option<String>,
    /// When it was registered (or last came back into use).
    pub registered_at: f64,
    /// The controller's verdict.
    pub health: Health,
    /// When the next check is due.
    pub next_check: f64,
    /// Consecutive passes.
    pub passes: u32,
    /// Consecutive failures.
    pub failures: u32,
    /// Deregistered: draining until this time, then gone.
    pub draining_until: Option<f64>,
    /// Requests being served right now (least outstanding requests).
    pub in_flight: u32,
}

/// A listener.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Listener {
    /// `arn:…:listener/app/{lb name}/{lb id}/{id}`.
    pub arn: String,
    /// Its load balancer.
    pub lb_arn: String,
    /// Port.
    pub port: u16,
    /// `HTTP`, `HTTPS`, `TCP`, ...
    pub protocol: String,
    /// SSL policy (HTTPS/TLS).
    pub ssl_policy: Option<String>,
    /// Certificates: the default one first, then those added with AddListenerCertificates.
    pub certificates: Vec<(String, bool)>,
    /// ALPN policy (TLS).
    pub alpn_policy: Option<Vec<String>>,
    /// Attributes.
    pub attributes: IndexMap<String, String>,
    /// ARN of its default rule.
    pub default_rule: String,
}

/// A listener rule; the default rule has no priority.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// `arn:…:listener-rule/app/{lb name}/{lb id}/{listener id}/{id}`.
    pub arn: String,
    /// Its listener.
    pub listener_arn: String,
    /// 1–50000; `None` for the default rule.
    pub priority: Option<u32>,
    /// Conditions (ANDed).
    pub conditions: Vec<Condition>,
    /// Actions in order.
    pub actions: Vec<Action>,
}

/// Request counts the data plane reports, drained by the metric publisher.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Traffic {
    /// Requests.
    pub requests: u64,
    /// Responses from targets by class: 2XX, 3XX, 4XX, 5XX.
    pub target_codes: [u64; 4],
    /// Responses the load balancer made: 3XX (redirects), 4XX, 5XX.
    pub elb_codes: [u64; 3],
    /// Of those, the 500, 502, 503 and 504 answers (AWS counts each on its own too).
    pub elb_5xx_codes: [u64; 4],
    /// Sum, count, min and max of target response times (seconds).
    pub response_time_sum: f64,
    /// Number of timed responses.
    pub response_time_count: u64,
    /// Fastest response.
    pub response_time_min: f64,
    /// Slowest response.
    pub response_time_max: f64,
    /// New flows (network load balancers).
    #[serde(default)]
    pub flows: u64,
    /// Bytes carried both ways by flows (network load balancers).
    #[serde(default)]
    pub bytes: u64,
    /// Of the flows, those of TLS listeners.
    #[serde(default)]
    pub tls_flows: u64,
    /// Of the bytes, those of TLS listeners' flows (decrypted).
    #[serde(default)]
    pub tls_bytes: u64,
    /// Client TLS handshakes that failed on TLS listeners.
    #[serde(default)]
    pub tls_errors: u64,
}

impl Traffic {
    /// Add another minute's (or target group's) counts to these.
    pub fn add(&mut self, t: &Traffic) {
        self.requests += t.requests;
        self.flows += t.flows;
        self.bytes += t.bytes;
        self.tls_flows += t.tls_flows;
        self.tls_bytes += t.tls_bytes;
        self.tls_errors += t.tls_errors;
        for (a, b) in self.target_codes.iter_mut().zip(t.target_codes) {
            *a += b;
        }
        for (a, b) in self.elb_codes.iter_mut().zip(t.elb_codes) {
            *a += b;
        }
        for (a, b) in self.elb_5xx_codes.iter_mut().zip(t.elb_5xx_codes) {
            *a += b;
        }
        if t.response_time_count > 0 {
            if self.response_time_count == 0 || t.response_time_min < self.response_time_min {
                self.response_time_min = t.response_time_min;
            }
            self.response_time_max = self.response_time_max.max(t.response_time_max);
            self.response_time_sum += t.response_time_sum;
            self.response_time_count += t.response_time_count;
        }
    }
}

impl Elbv2Store {
    /// The target groups a load balancer's listeners and rules forward to.
    pub fn target_groups_of(&self, lb_arn: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for rule in self.rules.values() {
            let Some(listener) = self.listeners.get(&rule.listener_arn) else {
                continue;
            };
            if listener.lb_arn != lb_arn {
                continue;
            }
            for tg in rule.actions.iter().flat_map(Action::target_group_arns) {
                if !out.contains(&tg) {
                    out.push(tg);
                }
            }
        }
        out
    }

    /// The load balancers that forward to a target group (its `LoadBalancerArns`).
    pub fn load_balancers_of(&self, tg_arn: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for rule in self.rules.values() {
            if !rule
                .actions
                .iter()
                .any(|a| a.target_group_arns().iter().any(|t| t == tg_arn))
            {
                continue;
            }
            if let Some(l) = self.listeners.get(&rule.listener_arn)
                && !out.contains(&l.lb_arn)
            {
                out.push(l.lb_arn.clone());
            }
        }
        out
    }

    /// Whether any listener rule forwards to the target group.
    pub fn target_group_in_use(&self, tg_arn: &str) -> bool {
        self.rules.values().any(|r| {
            r.actions
                .iter()
                .any(|a| a.target_group_arns().iter().any(|t| t == tg_arn))
        })
    }

    /// The listeners of a load balancer, by port.
    pub fn listeners_of(&self, lb_arn: &str) -> Vec<&Listener> {
        let mut out: Vec<&Listener> = self
            .listeners
            .values()
            .filter(|l| l.lb_arn == lb_arn)
            .collect();
        out.sort_by_key(|l| l.port);
        out
    }
}
