//! What the load-balancer data plane (`src/dataplane`) and the load-balancer services
//! (Classic ELB, ELBv2) share, below both: how load balancers are named (DNS names, the
//! [`DnsIndex`]), what a resolver sees of a request and answers ([`route`]), the hooks
//! the services register for the data plane to call ([`hooks`]), and the TLS a load balancer
//! speaks to back ends ([`backend_tls`]). Neither side imports the
//! other; both import this.

pub mod backend_tls;
pub mod hooks;
pub mod route;

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::state::Scope;
use crate::state::fasthash::FastMap;

pub use backend_tls::BackendTls;
pub use hooks::{
    CutCheck, FlowDone, FlowPlan, FlowTarget, PortLb, ProxyHeader, Resolver, TlsFailed,
};
pub use route::{
    Backend, Completion, CookieValues, Decision, Forward, Outcome, RequestInfo, Route,
    StickyCookie, alb_error_page, request_cookie, sets_cookie,
};

/// Every load balancer DNS name ends in this (after a dot).
pub const DNS_SUFFIX: &str = "elb.localhost";

/// The DNS name of a load balancer: `<name>-<digits>.<region>.elb.localhost`, with `internal-`
/// in front for an internal scheme (as AWS names them, under a loopback domain).
pub fn dns_name(name: &str, digits: &str, region: &str, internal: bool) -> String {
    let prefix = if internal { "internal-" } else { "" };
    format!("{prefix}{name}-{digits}.{region}.{DNS_SUFFIX}").to_ascii_lowercase()
}

/// The host part of a `Host` header value, lower-cased, without `:port`.
pub fn host_without_port(host: &str) -> String {
    bare_host(host).to_ascii_lowercase()
}

/// The host part of a `Host` header value without `:port` or a trailing dot, as written
/// (borrowed: for the ALB rule matcher, which compares hosts case-insensitively).
pub fn bare_host(host: &str) -> &str {
    // Byte-wise: this runs several times per request.
    let host = host.trim_ascii();
    let bare = match port_colon(host) {
        Some(i) if !host[..i].ends_with(']') => &host[..i],
        _ => host,
    };
    bare.trim_end_matches('.')
}

/// Where a `:port` suffix (digits, maybe none, after a colon) begins, when `s` ends in one.
/// Looks only at the digits at the end: a Host without a port costs one byte's check.
fn port_colon(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let colon = b.len().checked_sub(digits + 1)?;
    (b[colon] == b':').then_some(colon)
}

/// The port of a `Host` header value, when it has one.
pub fn host_port(host: &str) -> Option<u16> {
    let host = host.trim_ascii();
    host[port_colon(host)? + 1..].parse().ok()
}

/// Whether a `Host` header value names a load balancer (and so is for the data plane).
/// Runs for every request on the main port, so it does not allocate.
pub fn is_lb_host(host: &str) -> bool {
    let h = bare_host(host).as_bytes();
    let suffix = DNS_SUFFIX.as_bytes();
    h.len() > suffix.len() + 1
        && h[h.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        && h[h.len() - suffix.len() - 1] == b'.'
}

/// Which API a load balancer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LbKind {
    /// Classic ELB (2012-06-01).
    Classic,
    /// Application (or network) load balancer of ELBv2 (2015-12-01).
    Application,
}

/// A load balancer, as the data plane names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LbRef {
    /// Account and region whose store holds it.
    pub scope: Scope,
    /// Classic or ALB.
    pub kind: LbKind,
    /// Classic: `LoadBalancerName`; ALB: `LoadBalancerArn`.
    pub name: String,
}

/// One entry of the DNS index.
#[derive(Debug, Clone, PartialEq)]
pub struct LbEntry {
    /// The load balancer.
    pub lb: LbRef,
    /// Its listener ports (the listener-port flag binds these).
    pub ports: Vec<u16>,
    /// The ports among them whose listener carries flows (a network load balancer's TCP or TLS
    /// listener, a Classic TCP or SSL listener): a connection there is a flow proxied byte for
    /// byte (the data plane's `tcp`), not HTTP.
    pub tcp_ports: Vec<u16>,
}

/// DNS name → load balancer, across every account and region: one hash lookup per request
/// instead of a scan of every scope's stores under the global lock. Also listener port →
/// the load balancers listening there, so that what a listener port decides per connection
/// (TLS or not, a flow or HTTP, the one load balancer there) does not scan them all.
#[derive(Debug, Default)]
pub struct DnsIndex {
    inner: RwLock<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_name: FastMap<String, Arc<LbEntry>>,
    /// Port → (DNS name → entry), ordered by name.
    by_port: FastMap<u16, BTreeMap<String, Arc<LbEntry>>>,
}

impl Entries {
    fn remove(&mut self, name: &str) {
        let Some(old) = self.by_name.remove(name) else {
            return;
        };
        for port in &old.ports {
            if let Some(on_port) = self.by_port.get_mut(port) {
                on_port.remove(name);
                if on_port.is_empty() {
                    self.by_port.remove(port);
                }
            }
        }
    }
}

impl DnsIndex {
    /// Add or replace a load balancer (call again when its listener ports change).
    pub fn insert(&self, dns_name: &str, entry: LbEntry) {
        let name = dns_name.to_ascii_lowercase();
        let entry = Arc::new(entry);
        let mut entries = self.write();
        entries.remove(&name);
        for port in &entry.ports {
            entries
                .by_port
                .entry(*port)
                .or_default()
                .insert(name.clone(), entry.clone());
        }
        entries.by_name.insert(name, entry);
    }

    /// Forget a load balancer.
    pub fn remove(&self, dns_name: &str) {
        self.write().remove(&dns_name.to_ascii_lowercase());
    }

    /// The load balancers with a listener on `port`, by DNS name (shared, copies nothing).
    pub fn on_port(&self, port: u16) -> Vec<(String, Arc<LbEntry>)> {
        self.read()
            .by_port
            .get(&port)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The load balancer a `Host` header value names (shared: a lookup copies nothing).
    pub fn lookup(&self, host: &str) -> Option<Arc<LbEntry>> {
        let bare = bare_host(host);
        // Keys are lower case; most Hosts are too, and need no copy.
        if bare.bytes().any(|b| b.is_ascii_uppercase()) {
            self.read().by_name.get(&bare.to_ascii_lowercase()).cloned()
        } else {
            self.read().by_name.get(bare).cloned()
        }
    }

    /// Every entry (DNS name, entry), for the listener-port binder.
    pub fn all(&self) -> Vec<(String, LbEntry)> {
        self.read()
            .by_name
            .iter()
            .map(|(k, v)| (k.clone(), LbEntry::clone(v)))
            .collect()
    }

    /// Every listener port some load balancer uses, ascending.
    pub fn ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.read().by_port.keys().copied().collect();
        ports.sort_unstable();
        ports
    }

    /// Forget everything (admin reset).
    pub fn clear(&self) {
        *self.write() = Entries::default();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_with_and_without_ports_name_load_balancers() {
        let dns = dns_name("ExampleELB", "1234567890", "us-east-1", false);
        assert_eq!(dns, "exampleelb-1234567890.us-east-1.elb.localhost");
        assert!(is_lb_host(&dns));
        assert!(is_lb_host(&format!("{dns}:4566")));
        assert!(is_lb_host("Internal-x-1.eu-west-1.ELB.localhost."));
        assert!(!is_lb_host("elb.localhost"));
        assert!(!is_lb_host("127.0.0.1:4566"));
        assert!(!is_lb_host("myelb.localhost"));
        assert_eq!(host_without_port("A.elb.localhost:80"), "a.elb.localhost");
        assert_eq!(host_port("a.elb.localhost:8080"), Some(8080));
        assert_eq!(host_port("a.elb.localhost"), None);
        assert_eq!(host_port(" a.elb.localhost:81 "), Some(81));
        assert_eq!(host_port("a.elb.localhost:x"), None);
        assert_eq!(host_port("[::1]:8080"), Some(8080));
        assert_eq!(bare_host(" a.elb.localhost.:80 "), "a.elb.localhost");
        assert_eq!(bare_host("a.elb.localhost:"), "a.elb.localhost");
        assert_eq!(bare_host("[::1]:80"), "[::1]:80");
        assert_eq!(bare_host("a:b.localhost"), "a:b.localhost");
        assert_eq!(bare_host("[::1]"), "[::1]");
        assert_eq!(bare_host("a.elb.localhost:8a"), "a.elb.localhost:8a");
        assert_eq!(host_port("[::1]"), None);
        assert_eq!(host_port("a.elb.localhost:"), None);
        assert_eq!(host_port("a.elb.localhost:99999"), None);

        let index = DnsIndex::default();
        let entry = LbEntry {
            lb: LbRef {
                scope: Scope::new("000000000000", "us-east-1"),
                kind: LbKind::Classic,
                name: "ExampleELB".into(),
            },
            ports: vec![80],
            tcp_ports: Vec::new(),
        };
        index.insert(&dns, entry.clone());
        assert_eq!(
            index
                .lookup(&format!("{}:4566", dns.to_uppercase()))
                .as_deref(),
            Some(&entry)
        );
        assert_eq!(index.ports(), [80]);
        assert_eq!(index.on_port(80).len(), 1);
        // Replacing an entry moves it to its new ports.
        index.insert(
            &dns,
            LbEntry {
                ports: vec![8080],
                ..entry.clone()
            },
        );
        assert_eq!(index.ports(), [8080]);
        assert!(index.on_port(80).is_empty());
        index.remove(&dns);
        assert_eq!(index.lookup(&dns), None);
        assert!(index.ports().is_empty());
    }
}
