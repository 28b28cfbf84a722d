//! Temporary credentials: AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken.
//!
//! Each call records an `ASIA…` key with its secret, session token, account and expiry in
//! `state.keys`. Roles need not exist: Updraft does not enforce IAM, so any well-formed role ARN
//! can be assumed, and the session acts in the account the ARN names. A role IAM has brings its
//! id and MaxSessionDuration; any other role gets AWS's default maximum, one hour.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::caller;
use super::errors::{StsError, constraint, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::state::AppState;
use crate::state::keys::{IssuedKey, Principal};

/// A role's `MaxSessionDuration` when not set: one hour.
const ROLE_MAX_SESSION: i64 = 3600;
/// AssumeRole's default session.
const ROLE_DEFAULT_SESSION: i64 = 3600;
/// GetSessionToken's default session (12 hours) and bounds; the root user is held to an hour.
const SESSION_TOKEN_DEFAULT: i64 = 43_200;
const SESSION_TOKEN_MAX: i64 = 129_600;
const ROOT_SESSION_MAX: i64 = 3600;

/// `DurationSeconds` within the shape's bounds.
fn check_duration(seconds: i64, min: i64, max: i64) -> Result<(), ApiError> {
    if seconds < min {
        return Err(constraint(
            &seconds.to_string(),
            "durationSeconds",
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if seconds > max {
        return Err(constraint(
            &seconds.to_string(),
            "durationSeconds",
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// A role session name: 2–64 characters of `[\w+=,.@-]`.
fn check_session_name(name: &str) -> Result<(), ApiError> {
    let len = name.chars().count();
    if len < 2 {
        return Err(constraint(
            name,
            "roleSessionName",
            "Member must have length greater than or equal to 2",
        ));
    }
    if len > 64 {
        return Err(constraint(
            name,
            "roleSessionName",
            "Member must have length less than or equal to 64",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(constraint(
            name,
            "roleSessionName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ));
    }
    Ok(())
}

/// A role ARN's account and name (`arn:aws:iam::ACCT:role/PATH/NAME` → name is the last
/// element).
fn parse_role_arn(arn: &str) -> Result<(String, String), ApiError> {
    if arn.chars().count() < 20 {
        return Err(constraint(
            arn,
            "roleArn",
            "Member must have length greater than or equal to 20",
        ));
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", "aws", "iam", "", account, resource]
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let name = resource
                .strip_prefix("role/")
                .and_then(|path| path.rsplit('/').next())
                .filter(|n| !n.is_empty());
            match name {
                Some(name) => Ok(((*account).to_owned(), name.to_owned())),
                None => Err(invalid_arn()),
            }
        }
        _ => Err(invalid_arn()),
    }
}

fn invalid_arn() -> ApiError {
    validation("Request ARN is invalid")
}

/// A role's unique id, stable for its ARN (the role need not exist in Updraft's IAM).
fn role_id(arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(arn.as_bytes());
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    format!("AROA{tail}")
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumedRoleUser {
    assumed_role_id: String,
    arn: String,
}

/// Issue temporary credentials for `principal` in `account`, valid `seconds` from now.
fn issue(state: &AppState, account: &str, principal: Principal, seconds: i64) -> Credentials {
    let access_key_id = state.ids.access_key("ASIA", 20);
    let secret_access_key = state.ids.secret(40);
    let session_token = state.ids.secret(356);
    let expiration = (state.clock.now() + seconds as f64).floor();
    state.keys.insert(
        access_key_id.clone(),
        IssuedKey {
            secret: secret_access_key.clone(),
            session_token: Some(session_token.clone()),
            account: account.to_owned(),
            expires: Some(expiration),
            principal,
        },
    );
    Credentials {
        access_key_id,
        secret_access_key,
        session_token,
        expiration: Timestamp(expiration),
    }
}

/// A session of the role `role_arn` names: its credentials and AssumedRoleUser. The session
/// lasts `requested` seconds (default one hour) within the role's MaxSessionDuration.
fn role_session(
    state: &AppState,
    role_arn: &str,
    session: &str,
    requested: Option<i64>,
) -> Result<(Credentials, AssumedRoleUser), ApiError> {
    let (account, role_name) = parse_role_arn(role_arn)?;
    // A role IAM knows brings its id and MaxSessionDuration; any other is AWS's defaults.
    let (max, role_id) = crate::services::iam::roles::role_facts(state, &account, &role_name)
        .unwrap_or_else(|| (ROLE_MAX_SESSION, role_id(role_arn)));
    let seconds = role_duration(requested, max)?;
    let principal = Principal::AssumedRole {
        role_name,
        role_id: role_id.clone(),
        session: session.to_owned(),
    };
    let (arn, _) = super::identity(&account, &principal);
    let credentials = issue(state, &account, principal, seconds);
    let user = AssumedRoleUser {
        assumed_role_id: format!("{role_id}:{session}"),
        arn,
    };
    Ok((credentials, user))
}

/// The session length a role allows: the shape's bounds, then the role's maximum.
fn role_duration(requested: Option<i64>, max: i64) -> Result<i64, ApiError> {
    let seconds = requested.unwrap_or(ROLE_DEFAULT_SESSION);
    check_duration(seconds, 900, 43_200)?;
    if seconds > max {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    Ok(seconds)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleRequest {
    role_arn: String,
    role_session_name: String,
    duration_seconds: Option<i64>,
    source_identity: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleResponse {
    credentials: Credentials,
    assumed_role_user: AssumedRoleUser,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<String>,
}

/// AssumeRole: any well-formed role ARN; role chaining is held to one hour, as on AWS.
pub fn assume_role(
    ctx: &RequestContext,
    state: &AppState,
    req: AssumeRoleRequest,
) -> Result<AssumeRoleResponse, ApiError> {
    check_session_name(&req.role_session_name)?;
    parse_role_arn(&req.role_arn)?;
    let chained = matches!(caller(ctx, state), Principal::AssumedRole { .. });
    if chained && req.duration_seconds.is_some_and(|s| s > 3600) {
        return Err(validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    let (credentials, assumed_role_user) = role_session(
        state,
        &req.role_arn,
        &req.role_session_name,
        req.duration_seconds,
    )?;
    Ok(AssumeRoleResponse {
        credentials,
        assumed_role_user,
        source_identity: req.source_identity,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithWebIdentityRequest {
    role_arn: String,
    role_session_name: String,
    web_identity_token: String,
    provider_id: Option<String>,
    duration_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithWebIdentityResponse {
    credentials: Credentials,
    subject_from_web_identity_token: String,
    assumed_role_user: AssumedRoleUser,
    provider: String,
    audience: String,
}

/// The claims of a JSON Web Token's payload, read without checking its signature.
fn jwt_claims(token: &str) -> Option<serde_json::Map<String, Value>> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// AssumeRoleWithWebIdentity: the token must be a JSON Web Token, whose `sub`, `aud` and `iss`
/// claims are reported back; its signature, issuer and expiry are **not** verified.
pub fn assume_role_with_web_identity(
    _ctx: &RequestContext,
    state: &AppState,
    req: AssumeRoleWithWebIdentityRequest,
) -> Result<AssumeRoleWithWebIdentityResponse, ApiError> {
    check_session_name(&req.role_session_name)?;
    if req.web_identity_token.chars().count() < 4 {
        return Err(constraint(
            &req.web_identity_token,
            "webIdentityToken",
            "Member must have length greater than or equal to 4",
        ));
    }
    parse_role_arn(&req.role_arn)?;
    let claims = jwt_claims(&req.web_identity_token).ok_or_else(|| {
        StsError::InvalidIdentityToken.with(
            "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.",
        )
    })?;
    let claim = |name: &str| match claims.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .find_map(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    let issuer = claim("iss");
    let provider = req.provider_id.unwrap_or_else(|| {
        issuer
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_owned()
    });
    let (credentials, assumed_role_user) = role_session(
        state,
        &req.role_arn,
        &req.role_session_name,
        req.duration_seconds,
    )?;
    Ok(AssumeRoleWithWebIdentityResponse {
        credentials,
        subject_from_web_identity_token: claim("sub"),
        assumed_role_user,
        provider,
        audience: claim("aud"),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSessionTokenRequest {
    duration_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSessionTokenResponse {
    credentials: Credentials,
}

/// GetSessionToken: credentials for the caller itself; not from temporary credentials, and
/// an account's root user gets at most an hour whatever it asks for (AWS's documented rule).
pub fn get_session_token(
    ctx: &RequestContext,
    state: &AppState,
    req: GetSessionTokenRequest,
) -> Result<GetSessionTokenResponse, ApiError> {
    let seconds = req.duration_seconds.unwrap_or(SESSION_TOKEN_DEFAULT);
    check_duration(seconds, 900, SESSION_TOKEN_MAX)?;
    let temporary = ctx
        .access_key_id
        .as_deref()
        .and_then(|k| state.keys.get(k))
        .is_some_and(|k| k.session_token.is_some());
    if temporary {
        return Err(
            StsError::AccessDenied.with("Cannot call GetSessionToken with session credentials")
        );
    }
    let principal = caller(ctx, state);
    let seconds = match principal {
        Principal::Root => seconds.min(ROOT_SESSION_MAX),
        _ => seconds,
    };
    let credentials = issue(state, &ctx.scope.account, principal, seconds);
    Ok(GetSessionTokenResponse { credentials })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_name_account_and_role() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/team/web").unwrap(),
            ("123456789012".to_owned(), "web".to_owned())
        );
        assert_eq!(
            parse_role_arn("arn").unwrap_err().message,
            "1 validation error detected: Value 'arn' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:user/web")
                .unwrap_err()
                .message,
            "Request ARN is invalid"
        );
        assert_eq!(role_id("a"), role_id("a"));
        assert_eq!(role_id("a").len(), 21);
    }

    #[test]
    fn durations_and_session_names_are_checked() {
        assert!(role_duration(Some(899), 3600).is_err());
        assert_eq!(
            role_duration(Some(7200), 3600).unwrap_err().message,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        );
        assert_eq!(role_duration(None, 3600).unwrap(), 3600);
        assert!(check_session_name("a").is_err());
        assert!(check_session_name("has space").is_err());
        assert!(check_session_name("ok_name@x.y-z").is_ok());
    }

    #[test]
    fn jwt_payloads_are_read() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"me","aud":["app"],"iss":"https://idp.example"}"#);
        let claims = jwt_claims(&format!("e30.{payload}.sig")).unwrap();
        assert_eq!(claims["sub"], "me");
        assert!(jwt_claims("not-a-jwt").is_none());
    }
}
