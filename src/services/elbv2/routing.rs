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

/// What the matcher sees of a request, borrowed from it: this runs for every proxied request,
/// so nothing is copied, and the query is decoded only when a `query-string` condition asks.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestView<'a> {
    /// Method as sent.
    pub method: &'a str,
    /// Host without port (any case: host conditions compare case-insensitively).
    pub host: &'a str,
    /// Path (no query).
    pub path: &'a str,
    /// Raw query, without `?` (still percent-encoded).
    pub query: Option<&'a str>,
    /// Request headers (`None`: none).
    pub headers: Option<&'a http::HeaderMap>,
    /// The client address.
    pub source: Option<IpAddr>,
}

/// `*`/`?` wildcard match; `fold` compares ASCII case-insensitively.
pub fn wildcard(pattern: &str, text: &str, fold: bool) -> bool {
    // ASCII on both sides (nearly always: hosts, paths, header values) matches byte by byte;
    // otherwise by chars, so that `?` stands for one character, not one byte.
    if pattern.is_ascii() && text.is_ascii() {
        return wildcard_of(pattern.as_bytes(), text.as_bytes(), |a: &u8, b: &u8| {
            if fold {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        });
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    wildcard_of(&p, &t, |a: &char, b: &char| {
        if fold {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    })
}

/// The matcher over units (bytes or chars) that may be `*` and `?`.
fn wildcard_of<C: Copy + PartialEq + From<u8>>(
    p: &[C],
    t: &[C],
    eq: impl Fn(&C, &C) -> bool,
) -> bool {
    let (any, one) = (C::from(b'*'), C::from(b'?'));
    // Iterative matcher with one backtrack point: linear for patterns of AWS's size.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || (p[pi] != any && eq(&p[pi], &t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
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
    p[pi..].iter().all(|c| *c == any)
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
pub fn condition_matches(c: &Condition, req: &RequestView<'_>) -> bool {
    match c.field.as_deref() {
        Some("host-header") => values(c.host_header_config.as_ref(), c)
            .iter()
            .any(|v| wildcard(v, req.host, true)),
        Some("path-pattern") => values(c.path_pattern_config.as_ref(), c)
            .iter()
            .any(|v| wildcard(v, req.path, false)),
        Some("http-request-method") => c
            .http_request_method_config
            .as_ref()
            .is_some_and(|m| m.values.iter().any(|v| v == req.method)),
        Some("source-ip") => c.source_ip_config.as_ref().is_some_and(|s| {
            req.source.is_some_and(|ip| {
                s.values
                    .iter()
                    .filter_map(|v| parse_cidr(v))
                    .any(|cidr| cidr_contains(cidr, ip))
            })
        }),
        Some("http-header") => c.http_header_config.as_ref().is_some_and(|h| {
            // Header names compare case-insensitively (the map's lookup folds them); values
            // that are not visible ASCII never match.
            let name = h.http_header_name.as_deref().unwrap_or_default();
            req.headers.is_some_and(|headers| {
                headers
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|value| h.values.iter().any(|p| wildcard(p, value, true)))
            })
        }),
        Some("query-string") => c.query_string_config.as_ref().is_some_and(|q| {
            let Some(query) = req.query else {
                return false;
            };
            q.values.iter().any(|pair| {
                form_urlencoded::parse(query.as_bytes()).any(|(k, v)| {
                    pair.key.as_deref().is_none_or(|kp| wildcard(kp, &k, true))
                        && wildcard(&pair.value, &v, true)
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
pub fn select_rule<'a>(rules: &[&'a Rule], req: &RequestView<'_>) -> Option<&'a Rule> {
    let mut ordered: Vec<&'a Rule> = rules.to_vec();
    ordered.sort_by_key(|r| priority_order(r));
    first_match(ordered, req)
}

/// Where a rule goes in evaluation order: by ascending priority, the default rule last.
pub fn priority_order(rule: &Rule) -> (bool, Option<u32>) {
    (rule.priority.is_none(), rule.priority)
}

/// The first rule, of rules already in [`priority_order`], whose conditions all match (the
/// default rule has none, so it matches whatever reaches it).
pub fn first_match<'a>(
    ordered: impl IntoIterator<Item = &'a Rule>,
    req: &RequestView<'_>,
) -> Option<&'a Rule> {
    ordered
        .into_iter()
        .find(|r| r.conditions.iter().all(|c| condition_matches(c, req)))
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
