//! The `sts` service: who is calling, and temporary credentials.
//!
//! - GetCallerIdentity: the account comes from the access key as for every service (a 12-digit
//!   key is that account); root, IAM users and role sessions answer in AWS's ARN shapes.
//! - [`sessions`]: AssumeRole, AssumeRoleWithWebIdentity (the token is read, not verified) and
//!   GetSessionToken issue `ASIA…` keys with a session token and an expiry on the virtual
//!   clock, recorded in `state.keys`, so that the server maps them to their account and, under
//!   `--verify-signatures`, verifies and expires them.
//! - DecodeAuthorizationMessage: Updraft enforces no policies, so it never encodes an
//!   authorization message; every message is one it did not issue.
//!
//! STS is global: one endpoint, and credentials act in every region.

pub mod errors;
pub mod sessions;

use serde::{Deserialize, Serialize};

use super::{Handler, Typed, TypedOperation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode as _;
use crate::state::AppState;
use crate::state::keys::Principal;

/// Implemented operations: all typed (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    ("AssumeRole", &Typed(sessions::assume_role)),
    (
        "AssumeRoleWithWebIdentity",
        &Typed(sessions::assume_role_with_web_identity),
    ),
    (
        "DecodeAuthorizationMessage",
        &Typed(decode_authorization_message),
    ),
    ("GetCallerIdentity", &Typed(get_caller_identity)),
    ("GetSessionToken", &Typed(sessions::get_session_token)),
];

/// Operations still answering with value trees: none.
pub const OPERATIONS: &[(&str, Handler)] = &[];

/// The caller's principal: the issued key's owner, else the account's root user.
pub(crate) fn caller(ctx: &RequestContext, state: &AppState) -> Principal {
    ctx.access_key_id
        .as_deref()
        .and_then(|k| state.keys.get(k))
        .map_or(Principal::Root, |k| k.principal)
}

/// Arn and UserId of a principal of `account`, as GetCallerIdentity spells them.
pub(crate) fn identity(account: &str, principal: &Principal) -> (String, String) {
    match principal {
        Principal::Root => (format!("arn:aws:iam::{account}:root"), account.to_owned()),
        Principal::User { arn, user_id } => (arn.clone(), user_id.clone()),
        Principal::AssumedRole {
            role_name,
            role_id,
            session,
        } => (
            format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
            format!("{role_id}:{session}"),
        ),
    }
}

/// GetCallerIdentity takes no input.
#[derive(Debug, Default, Deserialize)]
pub struct GetCallerIdentityRequest {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCallerIdentityResponse {
    user_id: String,
    account: String,
    arn: String,
}

/// GetCallerIdentity: never denied on AWS, whatever the policies say.
pub fn get_caller_identity(
    ctx: &RequestContext,
    state: &AppState,
    _req: GetCallerIdentityRequest,
) -> Result<GetCallerIdentityResponse, ApiError> {
    let (arn, user_id) = identity(&ctx.scope.account, &caller(ctx, state));
    Ok(GetCallerIdentityResponse {
        user_id,
        account: ctx.scope.account.clone(),
        arn,
    })
}

/// DecodeAuthorizationMessage's input: the message is never read (see below).
#[derive(Debug, Deserialize)]
pub struct DecodeAuthorizationMessageRequest {}

/// DecodeAuthorizationMessage: refused. AWS decodes only messages it encoded in a denial, and
/// Updraft denies nothing on policy grounds, so no message can be one of its own.
pub fn decode_authorization_message(
    _ctx: &RequestContext,
    _state: &AppState,
    _req: DecodeAuthorizationMessageRequest,
) -> Result<(), ApiError> {
    Err(errors::StsError::InvalidAuthorizationMessage.with(
        "The encoded message was not issued by Updraft: Updraft does not enforce IAM policies, \
         so it never returns encoded authorization messages to decode.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_have_aws_shapes() {
        assert_eq!(
            identity("123456789012", &Principal::Root),
            (
                "arn:aws:iam::123456789012:root".to_owned(),
                "123456789012".to_owned()
            )
        );
        let role = Principal::AssumedRole {
            role_name: "web".into(),
            role_id: "AROAEXAMPLE".into(),
            session: "s1".into(),
        };
        assert_eq!(
            identity("123456789012", &role),
            (
                "arn:aws:sts::123456789012:assumed-role/web/s1".to_owned(),
                "AROAEXAMPLE:s1".to_owned()
            )
        );
    }
}
