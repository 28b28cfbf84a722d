//! Roles: CreateRole (the trust policy is stored as given, JSON checked), GetRole, ListRoles,
//! DeleteRole. Their policies are in [`super::policies`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{IamError, validation};
use super::{
    Tag, already_exists, check_name, check_path, delete_conflict, encode_policy, no_such_entity,
    page, unique_id, with_iam,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// A stored role.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Role {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) create_date: f64,
    pub(crate) trust_policy: String,
    pub(crate) description: Option<String>,
    pub(crate) max_session_duration: i64,
    pub(crate) tags: Vec<Tag>,
    /// Inline policies by lower-cased name: (name as given, document).
    pub(crate) inline_policies: BTreeMap<String, (String, String)>,
    /// Attached managed policies' ARNs, in attach order.
    pub(crate) attached_policies: Vec<String>,
}

/// `Role` as IAM returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleOut {
    path: String,
    role_name: String,
    role_id: String,
    arn: String,
    create_date: Timestamp,
    assume_role_policy_document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    max_session_duration: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
    /// Only GetRole answers it (empty: Updraft records no role use).
    #[serde(skip_serializing_if = "Option::is_none")]
    role_last_used: Option<RoleLastUsed>,
}

/// `RoleLastUsed`: no member, as AWS answers for a role never used.
#[derive(Debug, Clone, Serialize)]
pub struct RoleLastUsed {}

/// CreateRole's and GetRole's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleResponse {
    role: RoleOut,
}

impl Role {
    pub(crate) fn out(&self) -> RoleOut {
        RoleOut {
            path: self.path.clone(),
            role_name: self.name.clone(),
            role_id: self.id.clone(),
            arn: self.arn.clone(),
            create_date: Timestamp(self.create_date),
            assume_role_policy_document: encode_policy(&self.trust_policy),
            description: self.description.clone(),
            max_session_duration: self.max_session_duration,
            tags: self.tags.clone(),
            role_last_used: None,
        }
    }
}

/// `NoSuchEntity` for a role, in AWS's words.
pub(crate) fn role_not_found(name: &str) -> ApiError {
    no_such_entity(format!("The role with name {name} cannot be found."))
}

/// A policy document must be JSON (an object).
pub(crate) fn check_policy(document: &str) -> Result<(), ApiError> {
    match serde_json::from_str::<Value>(document) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(IamError::MalformedPolicyDocument.with("This policy contains invalid Json")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRoleRequest {
    path: Option<String>,
    role_name: String,
    assume_role_policy_document: String,
    description: Option<String>,
    max_session_duration: Option<i64>,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// CreateRole.
pub fn create_role(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateRoleRequest,
) -> Result<RoleResponse, ApiError> {
    check_name(&req.role_name, "roleName", 64)?;
    let path = req.path.unwrap_or_else(|| "/".into());
    check_path(&path)?;
    check_policy(&req.assume_role_policy_document)?;
    let max_session_duration = req.max_session_duration.unwrap_or(3600);
    if !(3600..=43_200).contains(&max_session_duration) {
        return Err(validation(format!(
            "1 validation error detected: Value '{max_session_duration}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value {}",
            if max_session_duration < 3600 {
                "greater than or equal to 3600"
            } else {
                "less than or equal to 43200"
            }
        )));
    }
    let role = Role {
        arn: format!(
            "arn:aws:iam::{}:role{path}{}",
            ctx.scope.account, req.role_name
        ),
        name: req.role_name,
        path,
        id: unique_id(state, "AROA"),
        create_date: state.clock.now().floor(),
        trust_policy: req.assume_role_policy_document,
        description: req.description,
        max_session_duration,
        tags: req.tags,
        inline_policies: BTreeMap::new(),
        attached_policies: Vec::new(),
    };
    with_iam(ctx, state, |iam| {
        let key = role.name.to_ascii_lowercase();
        if iam.roles.contains_key(&key) {
            return Err(already_exists(format!(
                "Role with name {} already exists.",
                role.name
            )));
        }
        let out = RoleResponse { role: role.out() };
        iam.roles.insert(key, role);
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleNameRequest {
    role_name: String,
}

/// GetRole.
pub fn get_role(
    ctx: &RequestContext,
    state: &AppState,
    req: RoleNameRequest,
) -> Result<RoleResponse, ApiError> {
    check_name(&req.role_name, "roleName", 64)?;
    with_iam(ctx, state, |iam| {
        let role = iam
            .roles
            .get(&req.role_name.to_ascii_lowercase())
            .ok_or_else(|| role_not_found(&req.role_name))?;
        let mut role = role.out();
        role.role_last_used = Some(RoleLastUsed {});
        Ok(RoleResponse { role })
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRequest {
    pub(crate) path_prefix: Option<String>,
    pub(crate) marker: Option<String>,
    pub(crate) max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRolesResponse {
    roles: Vec<RoleOut>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// ListRoles: by name, filtered by path prefix, paged with Marker/MaxItems.
pub fn list_roles(
    ctx: &RequestContext,
    state: &AppState,
    req: ListRequest,
) -> Result<ListRolesResponse, ApiError> {
    let prefix = req.path_prefix.unwrap_or_else(|| "/".into());
    let all: Vec<RoleOut> = with_iam(ctx, state, |iam| {
        iam.roles
            .values()
            .filter(|r| r.path.starts_with(&prefix))
            .map(Role::out)
            .collect()
    });
    let (roles, is_truncated, marker) = page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListRolesResponse {
        roles,
        is_truncated,
        marker,
    })
}

/// DeleteRole: refused while policies are attached to it, inline policies remain or an
/// instance profile holds it (AWS's three DeleteConflict messages, checked in that order).
pub fn delete_role(
    ctx: &RequestContext,
    state: &AppState,
    req: RoleNameRequest,
) -> Result<(), ApiError> {
    check_name(&req.role_name, "roleName", 64)?;
    let key = req.role_name.to_ascii_lowercase();
    with_iam(ctx, state, |iam| {
        let role = iam
            .roles
            .get(&key)
            .ok_or_else(|| role_not_found(&req.role_name))?;
        if !role.attached_policies.is_empty() {
            return Err(delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !role.inline_policies.is_empty() {
            return Err(delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        if iam
            .profiles
            .values()
            .any(|p| p.role.as_deref() == Some(key.as_str()))
        {
            return Err(delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        iam.roles.remove(&key);
        Ok(())
    })
}

/// The MaxSessionDuration and id of a role of `account`, when IAM has it (AssumeRole).
pub fn role_facts(state: &AppState, account: &str, name: &str) -> Option<(i64, String)> {
    state.stores.with(&super::global(account), |s| {
        s.iam
            .as_ref()?
            .roles
            .get(&name.to_ascii_lowercase())
            .map(|r| (r.max_session_duration, r.id.clone()))
    })
}
