//! Users and their access keys: CreateUser, GetUser, ListUsers, DeleteUser, CreateAccessKey,
//! ListAccessKeys, DeleteAccessKey. A created key is recorded in `state.keys`, so
//! `--verify-signatures` accepts it in the user's account and GetCallerIdentity names the user.

use serde::{Deserialize, Serialize};

use super::errors::{quota, validation};
use super::roles::ListRequest;
use super::{
    Tag, already_exists, check_name, check_path, delete_conflict, no_such_entity, page, unique_id,
    with_iam,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::state::AppState;
use crate::state::keys::{IssuedKey, Principal};

/// Access keys per user (AWS's quota).
const MAX_KEYS: usize = 2;

/// A stored user.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) create_date: f64,
    pub(crate) tags: Vec<Tag>,
    pub(crate) keys: Vec<KeyMetadata>,
}

/// `AccessKeyMetadata`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    user_name: String,
    access_key_id: String,
    status: String,
    create_date: Timestamp,
}

/// `AccessKey`: the metadata and, this once, the secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyOut {
    user_name: String,
    access_key_id: String,
    status: String,
    secret_access_key: String,
    create_date: Timestamp,
}

/// CreateAccessKey's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAccessKeyResponse {
    access_key: AccessKeyOut,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserOut {
    path: String,
    /// The root user has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    user_id: String,
    arn: String,
    create_date: Timestamp,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

impl User {
    fn out(&self) -> UserOut {
        UserOut {
            path: self.path.clone(),
            user_name: Some(self.name.clone()),
            user_id: self.id.clone(),
            arn: self.arn.clone(),
            create_date: Timestamp(self.create_date),
            tags: self.tags.clone(),
        }
    }
}

/// CreateUser's and GetUser's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserResponse {
    user: UserOut,
}

fn user_not_found(name: &str) -> ApiError {
    no_such_entity(format!("The user with name {name} cannot be found."))
}

/// The user a request names, or else the calling user (`None` for a root caller).
fn target_user(ctx: &RequestContext, state: &AppState, given: Option<String>) -> Option<String> {
    given.or_else(|| match crate::services::sts::caller(ctx, state) {
        Principal::User { arn, .. } => arn.rsplit('/').next().map(str::to_owned),
        _ => None,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateUserRequest {
    path: Option<String>,
    user_name: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// CreateUser.
pub fn create_user(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateUserRequest,
) -> Result<UserResponse, ApiError> {
    check_name(&req.user_name, "userName", 64)?;
    let path = req.path.unwrap_or_else(|| "/".into());
    check_path(&path)?;
    let user = User {
        arn: format!(
            "arn:aws:iam::{}:user{path}{}",
            ctx.scope.account, req.user_name
        ),
        name: req.user_name,
        path,
        id: unique_id(state, "AIDA"),
        create_date: state.clock.now().floor(),
        tags: req.tags,
        keys: Vec::new(),
    };
    with_iam(ctx, state, |iam| {
        let key = user.name.to_ascii_lowercase();
        if iam.users.contains_key(&key) {
            return Err(already_exists(format!(
                "User with name {} already exists.",
                user.name
            )));
        }
        let out = UserResponse { user: user.out() };
        iam.users.insert(key, user);
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserNameRequest {
    user_name: Option<String>,
}

/// GetUser: the named user, or the caller (the root user of a root caller).
pub fn get_user(
    ctx: &RequestContext,
    state: &AppState,
    req: UserNameRequest,
) -> Result<UserResponse, ApiError> {
    let Some(name) = target_user(ctx, state, req.user_name) else {
        let account = &ctx.scope.account;
        return Ok(UserResponse {
            user: UserOut {
                path: "/".into(),
                user_name: None,
                user_id: account.clone(),
                arn: format!("arn:aws:iam::{account}:root"),
                create_date: Timestamp(0.0),
                tags: Vec::new(),
            },
        });
    };
    with_iam(ctx, state, |iam| {
        let user = iam
            .users
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| user_not_found(&name))?;
        Ok(UserResponse { user: user.out() })
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersResponse {
    users: Vec<UserOut>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// ListUsers.
pub fn list_users(
    ctx: &RequestContext,
    state: &AppState,
    req: ListRequest,
) -> Result<ListUsersResponse, ApiError> {
    let prefix = req.path_prefix.unwrap_or_else(|| "/".into());
    let all: Vec<UserOut> = with_iam(ctx, state, |iam| {
        iam.users
            .values()
            .filter(|u| u.path.starts_with(&prefix))
            .map(User::out)
            .collect()
    });
    let (users, is_truncated, marker) = page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListUsersResponse {
        users,
        is_truncated,
        marker,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteUserRequest {
    user_name: String,
}

/// DeleteUser: refused while the user has access keys.
pub fn delete_user(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteUserRequest,
) -> Result<(), ApiError> {
    check_name(&req.user_name, "userName", 64)?;
    let key = req.user_name.to_ascii_lowercase();
    with_iam(ctx, state, |iam| {
        let user = iam
            .users
            .get(&key)
            .ok_or_else(|| user_not_found(&req.user_name))?;
        if !user.keys.is_empty() {
            return Err(delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        iam.users.remove(&key);
        Ok(())
    })
}

/// CreateAccessKey: an `AKIA…` key for the user (the caller when no user is named), at most
/// two per user.
pub fn create_access_key(
    ctx: &RequestContext,
    state: &AppState,
    req: UserNameRequest,
) -> Result<CreateAccessKeyResponse, ApiError> {
    let Some(name) = target_user(ctx, state, req.user_name) else {
        return Err(validation(
            "Updraft keeps no access keys for the root user: name an IAM user (UserName).",
        ));
    };
    let access_key_id = state.ids.access_key("AKIA", 20);
    let secret = state.ids.secret(40);
    let now = state.clock.now().floor();
    let (metadata, principal) = with_iam(ctx, state, |iam| {
        let user = iam
            .users
            .get_mut(&name.to_ascii_lowercase())
            .ok_or_else(|| user_not_found(&name))?;
        if user.keys.len() >= MAX_KEYS {
            return Err(quota("AccessKeysPerUser", MAX_KEYS));
        }
        let metadata = KeyMetadata {
            user_name: user.name.clone(),
            access_key_id: access_key_id.clone(),
            status: "Active".into(),
            create_date: Timestamp(now),
        };
        user.keys.push(metadata.clone());
        let principal = Principal::User {
            arn: user.arn.clone(),
            user_id: user.id.clone(),
        };
        Ok((metadata, principal))
    })?;
    state.keys.insert(
        access_key_id,
        IssuedKey {
            secret: secret.clone(),
            session_token: None,
            account: ctx.scope.account.clone(),
            expires: None,
            principal,
        },
    );
    Ok(CreateAccessKeyResponse {
        access_key: AccessKeyOut {
            user_name: metadata.user_name,
            access_key_id: metadata.access_key_id,
            status: metadata.status,
            secret_access_key: secret,
            create_date: metadata.create_date,
        },
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccessKeysRequest {
    user_name: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccessKeysResponse {
    access_key_metadata: Vec<KeyMetadata>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// ListAccessKeys: the user's keys, without their secrets.
pub fn list_access_keys(
    ctx: &RequestContext,
    state: &AppState,
    req: ListAccessKeysRequest,
) -> Result<ListAccessKeysResponse, ApiError> {
    let all = match target_user(ctx, state, req.user_name) {
        None => Vec::new(),
        Some(name) => with_iam(ctx, state, |iam| {
            iam.users
                .get(&name.to_ascii_lowercase())
                .map(|u| u.keys.clone())
                .ok_or_else(|| user_not_found(&name))
        })?,
    };
    let (access_key_metadata, is_truncated, marker) =
        page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListAccessKeysResponse {
        access_key_metadata,
        is_truncated,
        marker,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAccessKeyRequest {
    user_name: Option<String>,
    access_key_id: String,
}

/// DeleteAccessKey: the key stops verifying at once.
pub fn delete_access_key(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteAccessKeyRequest,
) -> Result<(), ApiError> {
    let missing = || {
        no_such_entity(format!(
            "The Access Key with id {} cannot be found.",
            req.access_key_id
        ))
    };
    let name = target_user(ctx, state, req.user_name.clone()).ok_or_else(missing)?;
    with_iam(ctx, state, |iam| {
        let user = iam
            .users
            .get_mut(&name.to_ascii_lowercase())
            .ok_or_else(|| user_not_found(&name))?;
        let before = user.keys.len();
        user.keys.retain(|k| k.access_key_id != req.access_key_id);
        if user.keys.len() == before {
            return Err(missing());
        }
        Ok(())
    })?;
    state.keys.remove(&req.access_key_id);
    Ok(())
}
