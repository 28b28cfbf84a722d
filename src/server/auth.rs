//! Who a request is from: the (account, region) scope its credentials name, and, with
//! `--verify-signatures`, whether its SigV4 signature and session token hold.

use subtle::ConstantTimeEq;

use crate::context::account_for_access_key;
use crate::error::ApiError;
use crate::protocol::models::ServiceDef;
use crate::protocol::{sigv4, sigv4_request};
use crate::router::RequestHead;
use crate::state::{AppState, Scope};

/// An access key nobody issued, or a session token that is not the key's (403).
fn invalid_token() -> ApiError {
    ApiError::client(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
    .with_status(403)
}

/// The account an access key acts in: a classroom member's account, the account of a key
/// Updraft issued, else the usual rule (a 12-digit key is that account, others the default).
/// In a classroom the usual rule is off: `access_key=100000000002` on the change stream must
/// not follow another student's account.
pub fn account_for_key(
    key: Option<&str>,
    config: &crate::Config,
    keys: &crate::state::keys::KeyRegistry,
) -> String {
    let roster = config.classroom.roster.as_deref();
    key.and_then(|k| roster.and_then(|r| r.by_key(k)).map(|m| m.account.clone()))
        .or_else(|| key.and_then(|k| keys.account(k)))
        .unwrap_or_else(|| match roster {
            Some(_) => config.default_account.clone(),
            None => account_for_access_key(key, &config.default_account),
        })
}

/// Account from the access key (see [`account_for_key`]), region from the credential scope;
/// defaults when unsigned.
pub(super) fn scope_for(
    auth: Option<&sigv4::Authorization>,
    config: &crate::Config,
    keys: &crate::state::keys::KeyRegistry,
) -> Scope {
    let key = auth.map(|a| a.access_key_id.as_str());
    Scope::new(
        account_for_key(key, config, keys),
        auth.map_or_else(|| config.default_region.clone(), |a| a.region.clone()),
    )
}

/// The secret of a key the configuration knows: `--credentials`, or a classroom member's.
pub fn configured_secret<'a>(config: &'a crate::Config, access_key_id: &str) -> Option<&'a str> {
    config.credentials.secret(access_key_id).or_else(|| {
        config
            .classroom
            .roster
            .as_deref()
            .and_then(|r| r.by_key(access_key_id))
            .map(|m| m.secret.as_str())
    })
}

pub(super) fn verify(
    state: &AppState,
    head: &RequestHead<'_>,
    raw: &[u8],
    authorization: Option<&Result<sigv4::Authorization, sigv4::SigV4Error>>,
    service: &ServiceDef,
) -> Result<(), ApiError> {
    let auth = match authorization {
        None => {
            return Err(ApiError::client(
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            )
            .with_status(403));
        }
        Some(Err(err)) => return Err(ApiError::client("IncompleteSignature", err.to_string())),
        Some(Ok(auth)) => auth,
    };
    let issued;
    let secret = match configured_secret(&state.config, &auth.access_key_id) {
        Some(secret) => secret,
        None => {
            issued = state
                .keys
                .get(&auth.access_key_id)
                .ok_or_else(invalid_token)?;
            check_session(&issued, head, state.clock.now())?;
            issued.secret.as_str()
        }
    };
    // Real time, not the virtual clock: see `sigv4_request`.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    sigv4_request::verify(
        head.method.as_str(),
        head.path,
        head.query,
        head.headers,
        raw,
        auth,
        secret,
        service,
        now,
    )
}

/// A key Updraft issued: temporary credentials must present their own session token
/// (`X-Amz-Security-Token`, signed with the request) and are refused once expired; a long-term
/// key must not carry one.
fn check_session(
    key: &crate::state::keys::IssuedKey,
    head: &RequestHead<'_>,
    now: f64,
) -> Result<(), ApiError> {
    // In a header, or in the query string of a presigned URL.
    let presented = head
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(head.query.as_bytes())
                .find(|(k, _)| k == "X-Amz-Security-Token")
                .map(|(_, v)| v.into_owned())
        });
    let matches = match (&key.session_token, presented.as_deref()) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        (None, None) => true,
        _ => false,
    };
    if !matches {
        return Err(invalid_token());
    }
    if key.expires.is_some_and(|at| now >= at) {
        return Err(ApiError::client(
            "ExpiredToken",
            "The security token included in the request is expired",
        )
        .with_status(403));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_a_classroom_only_issued_keys_name_accounts() {
        let mut config = crate::Config::default();
        let keys = Default::default();
        assert_eq!(
            account_for_key(Some("100000000002"), &config, &keys),
            "100000000002"
        );
        config.classroom.students = Some(2);
        crate::classroom::setup(&mut config);
        let roster = config.classroom.roster.clone().unwrap();
        let two = &roster.members[2];
        assert_eq!(
            account_for_key(Some(&two.access_key_id), &config, &keys),
            two.account
        );
        assert_eq!(
            account_for_key(Some(&two.account), &config, &keys),
            "000000000000"
        );
        assert_eq!(
            configured_secret(&config, &two.access_key_id),
            Some(two.secret.as_str())
        );
        assert_eq!(configured_secret(&config, "test"), None);
    }

    #[test]
    fn scope_comes_from_the_credential_scope() {
        let config = crate::Config {
            default_region: "eu-west-1".into(),
            ..crate::Config::default()
        };
        let auth = sigv4::parse_authorization(
            "AWS4-HMAC-SHA256 Credential=123456789012/20261128/ap-northeast-2/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        )
        .unwrap();
        assert_eq!(
            scope_for(Some(&auth), &config, &Default::default()),
            Scope::new("123456789012", "ap-northeast-2")
        );
        assert_eq!(
            scope_for(None, &config, &Default::default()),
            Scope::new("000000000000", "eu-west-1")
        );
    }
}
