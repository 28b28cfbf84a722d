//! Pure routing decisions of an Application Load Balancer: which rule a request matches,
//! where a redirect goes, which weighted target group is picked.
//!
//! Matching follows the ALB guide ("Listener rules", condition types): rules are evaluated by
//! ascending priority and the default rule last; a rule matches when *all* its conditions do,
//! and a condition when *any* of its values does. `host-header`, `http-header` values and
//! `query-string` pairs compare case-insensitively, `path-pattern` and `http-request-method`
//! case-sensitively; `*` matches any run of characters (also none) and `?` exactly one.
//! `source-ip` compares the connection's address (not `X-Forwarded-For`) with CIDR blocks.

use std::net::IpAddr;

use super::actions::{Condition, RedirectConfig};
use super::store::Rule;

/// What the matcher sees of a request.
#[derive(Debug, Clone, Default)]
pub struct RequestView {
    /// Method as sent.
    pub method: String,
    /// Host without port.
    pub host: String,
    /// Path (no query).
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Headers (name lower-cased, value).
    pub headers: Vec<(String, String)>,
    /// The client address.
    pub source: Option<IpAddr>,
}

/// `*`/`?` wildcard match; `fold` compares ASCII case-insensitively.
pub fn wildcard(pattern: &str, text: &str, fold: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Iterative matcher with one backtrack point: linear for patterns of AWS's size.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Parse `a.b.c.d/n` or an IPv6 CIDR.
pub fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((addr, bits))
}

/// Whether `ip` is inside the CIDR block.
pub fn cidr_contains(cidr: (IpAddr, u8), ip: IpAddr) -> bool {
    let (net, bits) = cidr;
    let ip = match (net, ip) {
        (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        (_, ip) => ip,
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Whether one condition matches the request.
pub fn condition_matches(c: &Condition, req: &RequestView) -> bool {
    match c.field.as_deref() {
        Some("host-header") => values(c.host_header_config.as_ref(), c)
            .iter()
            .any(|v| wildcard(v, &req.host, true)),
        Some("path-pattern") => values(c.path_pattern_config.as_ref(), c)
            .iter()
            .any(|v| wildcard(v, &req.path, false)),
        Some("http-request-method") => c
            .http_request_method_config
            .as_ref()
            .is_some_and(|m| m.values.contains(&req.method)),
        Some("source-ip") => c.source_ip_config.as_ref().is_some_and(|s| {
            req.source.is_some_and(|ip| {
                s.values
                    .iter()
                    .filter_map(|v| parse_cidr(v))
                    .any(|cidr| cidr_contains(cidr, ip))
            })
        }),
        Some("http-header") => c.http_header_config.as_ref().is_some_and(|h| {
            let name = h
                .http_header_name
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase();
            req.headers
                .iter()
                .filter(|(n, _)| *n == name)
                .any(|(_, value)| h.values.iter().any(|p| wildcard(p, value, true)))
        }),
        Some("query-string") => c.query_string_config.as_ref().is_some_and(|q| {
            q.values.iter().any(|pair| {
                req.query.iter().any(|(k, v)| {
                    pair.key.as_deref().is_none_or(|kp| wildcard(kp, k, true))
                        && wildcard(&pair.value, v, true)
                })
            })
        }),
        _ => false,
    }
}

fn values<'a>(cfg: Option<&'a super::actions::ValuesConfig>, c: &'a Condition) -> &'a [String] {
    match cfg {
        Some(cfg) => &cfg.values,
        None => c.values.as_deref().unwrap_or_default(),
    }
}

/// The rule that handles the request: the matching rule of lowest priority, else the default.
pub fn select_rule<'a>(rules: &[&'a Rule], req: &RequestView) -> Option<&'a Rule> {
    let mut ordered: Vec<&&Rule> = rules.iter().filter(|r| r.priority.is_some()).collect();
    ordered.sort_by_key(|r| r.priority);
    ordered
        .into_iter()
        .find(|r| r.conditions.iter().all(|c| condition_matches(c, req)))
        .copied()
        .or_else(|| rules.iter().find(|r| r.priority.is_none()).copied())
}

/// What a redirect may substitute: the request as the listener received it.
#[derive(Debug, Clone)]
pub struct RedirectInput<'a> {
    /// `HTTP` or `HTTPS` (the listener's protocol).
    pub protocol: &'a str,
    /// Host without port.
    pub host: &'a str,
    /// The listener port.
    pub port: u16,
    /// Path with its leading `/`.
    pub path: &'a str,
    /// Raw query, without `?`.
    pub query: &'a str,
}

/// Expand `#{protocol}`, `#{host}`, `#{port}`, `#{path}` (without its leading `/`) and
/// `#{query}` in one redirect component.
fn expand(template: &str, i: &RedirectInput<'_>) -> String {
    template
        .replace("#{protocol}", &i.protocol.to_ascii_lowercase())
        .replace("#{host}", i.host)
        .replace("#{port}", &i.port.to_string())
        .replace("#{path}", i.path.trim_start_matches('/'))
        .replace("#{query}", i.query)
}

/// The `Location` of a redirect and its status (301 or 302).
pub fn redirect_location(cfg: &RedirectConfig, i: &RedirectInput<'_>) -> (u16, String) {
    let protocol = expand(cfg.protocol.as_deref().unwrap_or("#{protocol}"), i).to_ascii_lowercase();
    let host = expand(cfg.host.as_deref().unwrap_or("#{host}"), i);
    let port = expand(cfg.port.as_deref().unwrap_or("#{port}"), i);
    let path = expand(cfg.path.as_deref().unwrap_or("/#{path}"), i);
    let query = expand(cfg.query.as_deref().unwrap_or("#{query}"), i);
    // The default port of the scheme is left out, as browsers write URLs.
    let default_port = matches!(
        (protocol.as_str(), port.as_str()),
        ("http", "80") | ("https", "443")
    );
    let mut location = format!("{protocol}://{host}");
    if !default_port {
        location.push(':');
        location.push_str(&port);
    }
    location.push_str(&path);
    if !query.is_empty() {
        location.push('?');
        location.push_str(&query);
    }
    let status = if cfg.status_code == "HTTP_301" {
        301
    } else {
        302
    };
    (status, location)
}

/// Pick an index by weight; `roll` is uniform in `[0, 1)`. `None` when every weight is 0.
pub fn pick_weighted(weights: &[i64], roll: f64) -> Option<usize> {
    let total: i64 = weights.iter().map(|w| (*w).max(0)).sum();
    if total == 0 {
        return None;
    }
    let mut point = roll * total as f64;
    for (i, w) in weights.iter().enumerate() {
        let w = (*w).max(0) as f64;
        if point < w {
            return Some(i);
        }
        point -= w;
    }
    weights.iter().rposition(|w| *w > 0)
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
