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
//!
//! In classroom mode (see `classroom`) the caller is a person: the teacher (the admin token,
//! or an admin request SigV4-signed with the teacher's key, as the console signs it) may do
//! everything; a student (signed with their key) may only stress instances (the handler checks
//! they are theirs, [`Access::OwnAccount`]), read their own lab progress and the lab pages'
//! data; the rest is the teacher's (403), and an unsigned request gets 401.

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
    /// Classroom mode: a student asked for what only the teacher may do (403).
    TeacherOnly,
    /// Classroom mode: a SigV4 signature that does not hold, or an unknown key (403).
    BadSignature,
}

/// What an allowed admin request may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everything (no token configured, the token, the teacher).
    Full,
    /// A classroom student: only what belongs to this account.
    OwnAccount(String),
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
            | crate::services::acm::ca::CA_PATH
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
    match sent_token(headers) {
        None | Some("") => Err(Refusal::Missing),
        // Constant time: the token is a password and this port may face a network.
        Some(sent) if bool::from(sent.as_bytes().ct_eq(token.as_bytes())) => Ok(()),
        Some(_) => Err(Refusal::Wrong),
    }
}

/// The token a request carries, if any.
fn sent_token(headers: &HeaderMap) -> Option<&str> {
    headers
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
        })
}

/// An admin request as the server received it.
#[derive(Debug, Clone, Copy)]
pub struct AdminRequest<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path as received (still percent-encoded), trailing `/` kept: it is what was signed.
    pub path: &'a str,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Body bytes as received.
    pub body: &'a [u8],
}

/// Who may do this: today's token rule, or the classroom's people.
pub fn authorize(
    state: &crate::state::AppState,
    req: &AdminRequest<'_>,
) -> Result<Access, Refusal> {
    let path = req.path.trim_end_matches('/');
    let Some(roster) = state.config.classroom.roster.as_deref() else {
        // The lab's pages read the caller's own account (named by its key, as the change
        // stream is): open like the console. Progress by account is the teacher's view.
        if *req.method == Method::GET
            && path.starts_with("/_updraft/lab")
            && path != "/_updraft/lab/progress"
        {
            return Ok(Access::Full);
        }
        return check(state.config.admin_token(), req.method, path, req.headers)
            .map(|()| Access::Full);
    };
    if open(req.method, path) {
        return Ok(Access::Full);
    }
    if let Some(token) = state.config.admin_token()
        && let Some(sent) = sent_token(req.headers).filter(|s| !s.is_empty())
    {
        return if bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
            Ok(Access::Full)
        } else {
            Err(Refusal::Wrong)
        };
    }
    let account = signed_account(state, req)?.ok_or(Refusal::Missing)?;
    if roster.is_teacher(&account) {
        Ok(Access::Full)
    } else if student_may(req.method, path, req.query, &account) {
        Ok(Access::OwnAccount(account))
    } else {
        Err(Refusal::TeacherOnly)
    }
}

/// What a classroom student may call: stress (of their own instances, checked by the
/// handler), their own lab progress, and the rest of the lab's reads.
fn student_may(method: &Method, path: &str, query: Option<&str>, account: &str) -> bool {
    if *method == Method::POST {
        return path.starts_with("/_updraft/instances/") && path.ends_with("/stress");
    }
    if *method != Method::GET {
        return false;
    }
    if path == "/_updraft/lab/progress" {
        return form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .any(|(k, v)| k == "account" && v == account);
    }
    path.starts_with("/_updraft/lab/")
}

/// The account of a SigV4-signed admin request whose signature holds with a key the
/// configuration knows (a classroom member's or `--credentials`); `None` when unsigned.
fn signed_account(
    state: &crate::state::AppState,
    req: &AdminRequest<'_>,
) -> Result<Option<String>, Refusal> {
    use crate::protocol::{sigv4, sigv4_request};
    let signed = req
        .headers
        .get(http::header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().starts_with(sigv4::ALGORITHM.as_bytes()));
    if !signed {
        return Ok(None);
    }
    let auth = match sigv4_request::authorization(req.headers, req.query) {
        Some(Ok(auth)) => auth,
        _ => return Err(Refusal::BadSignature),
    };
    let secret = crate::server::auth::configured_secret(&state.config, &auth.access_key_id)
        .ok_or(Refusal::BadSignature)?;
    // Real time, as for the API: a captured request must not replay for ever.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let fresh = sigv4::request_date(req.headers)
        .ok()
        .and_then(|d| sigv4_request::parse_basic(&d))
        .is_some_and(|at| (at - now).abs() <= sigv4_request::MAX_SKEW_SECONDS);
    let query = req.query.unwrap_or("");
    let method = req.method.as_str();
    if !fresh
        || sigv4::verify(
            method,
            req.path,
            query,
            req.headers,
            req.body,
            &auth,
            secret,
        )
        .is_err()
    {
        return Err(Refusal::BadSignature);
    }
    Ok(Some(crate::server::auth::account_for_key(
        Some(&auth.access_key_id),
        &state.config,
        &state.keys,
    )))
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
