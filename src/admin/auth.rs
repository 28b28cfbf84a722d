//! Who may call which admin endpoint.
//!
//! Without `--admin-token` every admin endpoint is open, as on a developer's laptop. With one,
//! an endpoint that changes the world (reset, the clock, stress) or reads other accounts' data
//! (the SNS inbox) needs the token, sent as `Authorization: Bearer <token>` or as
//! `X-Updraft-Admin-Token: <token>`. What stays open: health (CI recipes poll it), reading the
//! clock, the SNS signing certificate (public on AWS too), and the SNS confirmation and
//! unsubscribe links, which are capability URLs on AWS: whoever holds the link may use it.
//! Anything else under the admin prefixes, including paths added later, needs the token:
//! the list below is of what is open, not of what is closed.

use http::{HeaderMap, Method};
use subtle::ConstantTimeEq;

/// The header carrying the token when `Authorization` is taken (e.g. by a proxy).
pub const TOKEN_HEADER: &str = "x-updraft-admin-token";

/// Why an admin request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token was sent (401).
    Missing,
    /// A token was sent and is not the configured one (403).
    Wrong,
}

/// Endpoints anyone may call, whatever the configuration.
fn open(method: &Method, path: &str) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD);
    read && matches!(
        path,
        "/_updraft/health"
            | "/_localstack/health"
            | "/_updraft/clock"
            | "/_updraft/sns/confirm"
            | "/_updraft/sns/unsubscribe"
            | crate::services::sns::signing::CERT_PATH
    )
}

/// Check an admin request against the configured token (`None`: everything is open).
pub fn check(
    token: Option<&str>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let Some(token) = token else {
        return Ok(());
    };
    if open(method, path) {
        return Ok(());
    }
    let sent = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .or_else(|| {
            headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let (scheme, rest) = v.trim().split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
                })
        });
    match sent {
        None | Some("") => Err(Refusal::Missing),
        // Constant time: the token is a password and this port may face a network.
        Some(sent) if bool::from(sent.as_bytes().ct_eq(token.as_bytes())) => Ok(()),
        Some(_) => Err(Refusal::Wrong),
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn without_a_token_everything_is_open() {
        assert_eq!(
            check(None, &Method::POST, "/_updraft/reset", &HeaderMap::new()),
            Ok(())
        );
    }

    #[test]
    fn with_a_token_only_the_listed_reads_are_open() {
        let t = Some("s3cret");
        let none = HeaderMap::new();
        for (m, p) in [
            (Method::GET, "/_updraft/health"),
            (Method::GET, "/_localstack/health"),
            (Method::GET, "/_updraft/clock"),
            (Method::GET, "/_updraft/sns/confirm"),
            (Method::GET, "/_updraft/sns/unsubscribe"),
        ] {
            assert_eq!(check(t, &m, p, &none), Ok(()), "{m} {p}");
        }
        for (m, p) in [
            (Method::POST, "/_updraft/reset"),
            (Method::POST, "/moto-api/reset"),
            (Method::POST, "/_localstack/state/reset"),
            (Method::POST, "/_updraft/clock"),
            (Method::POST, "/_updraft/instances/i-1/stress"),
            (Method::GET, "/_updraft/sns/inbox"),
            (Method::DELETE, "/_updraft/sns/inbox"),
            (Method::GET, "/_updraft/something-new"),
        ] {
            assert_eq!(check(t, &m, p, &none), Err(Refusal::Missing), "{m} {p}");
        }
        let reset = |h: &HeaderMap| check(t, &Method::POST, "/_updraft/reset", h);
        assert_eq!(
            reset(&headers(&[("authorization", "Bearer s3cret")])),
            Ok(())
        );
        assert_eq!(
            reset(&headers(&[("authorization", "bearer  s3cret ")])),
            Ok(())
        );
        assert_eq!(reset(&headers(&[(TOKEN_HEADER, "s3cret")])), Ok(()));
        assert_eq!(
            reset(&headers(&[("authorization", "Bearer s3cre")])),
            Err(Refusal::Wrong)
        );
        assert_eq!(
            reset(&headers(&[("authorization", "Basic czNjcmV0")])),
            Err(Refusal::Missing)
        );
    }
}
