//! The headers of a proxied request and its answer: hop-by-hop ones dropped both ways,
//! `Expect` and the client's own `X-Forwarded-*` taken out, and the load balancer's
//! `X-Forwarded-For`/`-Proto`/`-Port` made for the backend.

use http::HeaderMap;
use http::header::{self, HeaderName, HeaderValue};

use super::Forward;

/// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether `name` is one of [`HOP_BY_HOP`]. Compares the names the `http` crate knows as
/// constants (one integer comparison each) before the two it does not.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
        || name == header::TE
        || name == header::TRAILER
        || name == header::UPGRADE
        || name == header::PROXY_AUTHENTICATE
        || name == header::PROXY_AUTHORIZATION
        || matches!(name.as_str(), "keep-alive" | "proxy-connection")
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");

/// Drop hop-by-hop headers and those `Connection` names, in place.
pub(super) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none: one pass over the names decides, without parsing any.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    for name in named {
        headers.remove(name);
    }
}

/// Turn the client's headers into the end-to-end ones a backend gets, and return the
/// `X-Forwarded-*` set to send after them. They are written rather than inserted: growing
/// the request's header map for them cost more than the rest of the header work.
/// `client_ip` is the client's address as a header value.
pub(super) fn backend_headers(
    headers: &mut HeaderMap,
    fwd: &Forward,
    client_ip: &HeaderValue,
) -> [(HeaderName, HeaderValue); 3] {
    strip_hop_by_hop(headers);
    // What to take out: `Expect` (the load balancer answers `Expect: 100-continue` itself)
    // and the request's own `X-Forwarded-*` (replaced; its `X-Forwarded-For` is extended).
    // Most requests carry none of them: one pass over the names, and no removal, decides.
    let present = headers.keys().any(|n| {
        n == header::EXPECT
            || matches!(
                n.as_str(),
                "x-forwarded-for" | "x-forwarded-proto" | "x-forwarded-port"
            )
    });
    let prev = if present {
        headers.remove(header::EXPECT);
        headers.remove(&X_FORWARDED_PROTO);
        headers.remove(&X_FORWARDED_PORT);
        headers.remove(&X_FORWARDED_FOR)
    } else {
        None
    };
    let chain = prev
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .filter(|p| !p.trim().is_empty())
        .and_then(|prev| {
            // The client's address appended to the chain the request brought.
            let mut chain = Vec::with_capacity(prev.len() + 2 + client_ip.len());
            chain.extend_from_slice(prev.as_bytes());
            chain.extend_from_slice(b", ");
            chain.extend_from_slice(client_ip.as_bytes());
            HeaderValue::from_bytes(&chain).ok()
        });
    [
        // Most requests: the value rendered once for the connection.
        (X_FORWARDED_FOR, chain.unwrap_or_else(|| client_ip.clone())),
        (
            X_FORWARDED_PROTO,
            HeaderValue::from_static(fwd.listener_protocol),
        ),
        (X_FORWARDED_PORT, port_value(fwd.listener_port)),
    ]
}

/// A listener port as a header value: the usual ones without rendering (or allocating).
fn port_value(port: u16) -> HeaderValue {
    match port {
        80 => HeaderValue::from_static("80"),
        443 => HeaderValue::from_static("443"),
        8080 => HeaderValue::from_static("8080"),
        8443 => HeaderValue::from_static("8443"),
        other => HeaderValue::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_hop_by_hop_check_knows_the_list() {
        for name in HOP_BY_HOP {
            assert!(is_hop_by_hop(&HeaderName::from_static(name)), "{name}");
        }
        for name in [
            "host",
            "content-length",
            "x-connection",
            "keep-alive-x",
            "expect",
        ] {
            assert!(!is_hop_by_hop(&HeaderName::from_static(name)), "{name}");
        }
    }

    #[test]
    fn hop_by_hop_headers_stay_and_forwarded_ones_are_added() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::EXPECT, HeaderValue::from_static("100-continue"));
        h.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        h.insert(header::HOST, HeaderValue::from_static("a.elb.localhost"));
        let fwd = Forward {
            listener_port: 80,
            listener_protocol: "http",
            ..Forward::default()
        };
        let mut out = h;
        let added = backend_headers(&mut out, &fwd, &HeaderValue::from_static("127.0.0.2"));
        for (name, value) in added {
            assert!(!out.contains_key(&name), "{name} is written once");
            out.insert(name, value);
        }
        for gone in [
            "connection",
            "keep-alive",
            "x-secret",
            "transfer-encoding",
            "expect",
        ] {
            assert!(!out.contains_key(gone), "{gone}");
        }
        assert_eq!(out["x-forwarded-for"], "10.0.0.1, 127.0.0.2");
        assert_eq!(out["x-forwarded-proto"], "http");
        assert_eq!(out["x-forwarded-port"], "80");
        assert_eq!(out["host"], "a.elb.localhost");
    }
}
