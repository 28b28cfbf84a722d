//! Instance profiles: Create/Get/List/Delete, ListInstanceProfilesForRole,
//! Add/RemoveRoleToInstanceProfile (one role per profile, AWS's quota), and the lookup EC2 and
//! Auto Scaling validate `IamInstanceProfile` with.

use serde::{Deserialize, Serialize};

use super::errors::quota;
use super::roles::{ListRequest, RoleOut, role_not_found};
use super::{
    IamStore, Tag, already_exists, check_name, check_path, delete_conflict, global, no_such_entity,
    page, unique_id, with_iam,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::state::AppState;

/// A stored instance profile.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) create_date: f64,
    /// The lower-cased name of the role it holds.
    pub(crate) role: Option<String>,
    pub(crate) tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfileOut {
    path: String,
    instance_profile_name: String,
    instance_profile_id: String,
    arn: String,
    create_date: Timestamp,
    roles: Vec<RoleOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

fn profile_out(iam: &IamStore, p: &Profile) -> InstanceProfileOut {
    InstanceProfileOut {
        path: p.path.clone(),
        instance_profile_name: p.name.clone(),
        instance_profile_id: p.id.clone(),
        arn: p.arn.clone(),
        create_date: Timestamp(p.create_date),
        roles: p
            .role
            .as_ref()
            .and_then(|r| iam.roles.get(r))
            .map(super::roles::Role::out)
            .into_iter()
            .collect(),
        tags: p.tags.clone(),
    }
}

/// CreateInstanceProfile's and GetInstanceProfile's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfileResponse {
    instance_profile: InstanceProfileOut,
}

fn profile_not_found(name: &str) -> ApiError {
    no_such_entity(format!("Instance Profile {name} cannot be found."))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInstanceProfileRequest {
    instance_profile_name: String,
    path: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// CreateInstanceProfile.
pub fn create_instance_profile(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateInstanceProfileRequest,
) -> Result<InstanceProfileResponse, ApiError> {
    check_name(&req.instance_profile_name, "instanceProfileName", 128)?;
    let path = req.path.unwrap_or_else(|| "/".into());
    check_path(&path)?;
    let profile = Profile {
        arn: format!(
            "arn:aws:iam::{}:instance-profile{path}{}",
            ctx.scope.account, req.instance_profile_name
        ),
        name: req.instance_profile_name,
        path,
        id: unique_id(state, "AIPA"),
        create_date: state.clock.now().floor(),
        role: None,
        tags: req.tags,
    };
    with_iam(ctx, state, |iam| {
        let key = profile.name.to_ascii_lowercase();
        if iam.profiles.contains_key(&key) {
            return Err(already_exists(format!(
                "Instance Profile {} already exists.",
                profile.name
            )));
        }
        let out = InstanceProfileResponse {
            instance_profile: profile_out(iam, &profile),
        };
        iam.profiles.insert(key, profile);
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileNameRequest {
    instance_profile_name: String,
}

/// GetInstanceProfile.
pub fn get_instance_profile(
    ctx: &RequestContext,
    state: &AppState,
    req: ProfileNameRequest,
) -> Result<InstanceProfileResponse, ApiError> {
    check_name(&req.instance_profile_name, "instanceProfileName", 128)?;
    with_iam(ctx, state, |iam| {
        let p = iam
            .profiles
            .get(&req.instance_profile_name.to_ascii_lowercase())
            .ok_or_else(|| profile_not_found(&req.instance_profile_name))?;
        Ok(InstanceProfileResponse {
            instance_profile: profile_out(iam, p),
        })
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInstanceProfilesResponse {
    instance_profiles: Vec<InstanceProfileOut>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// ListInstanceProfiles.
pub fn list_instance_profiles(
    ctx: &RequestContext,
    state: &AppState,
    req: ListRequest,
) -> Result<ListInstanceProfilesResponse, ApiError> {
    let prefix = req.path_prefix.unwrap_or_else(|| "/".into());
    let all: Vec<InstanceProfileOut> = with_iam(ctx, state, |iam| {
        iam.profiles
            .values()
            .filter(|p| p.path.starts_with(&prefix))
            .map(|p| profile_out(iam, p))
            .collect()
    });
    let (instance_profiles, is_truncated, marker) =
        page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListInstanceProfilesResponse {
        instance_profiles,
        is_truncated,
        marker,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForRoleRequest {
    role_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

/// ListInstanceProfilesForRole: the role must exist.
pub fn list_instance_profiles_for_role(
    ctx: &RequestContext,
    state: &AppState,
    req: ForRoleRequest,
) -> Result<ListInstanceProfilesResponse, ApiError> {
    check_name(&req.role_name, "roleName", 64)?;
    let key = req.role_name.to_ascii_lowercase();
    let all: Vec<InstanceProfileOut> = with_iam(ctx, state, |iam| {
        if !iam.roles.contains_key(&key) {
            return Err(role_not_found(&req.role_name));
        }
        Ok(iam
            .profiles
            .values()
            .filter(|p| p.role.as_deref() == Some(key.as_str()))
            .map(|p| profile_out(iam, p))
            .collect())
    })?;
    let (instance_profiles, is_truncated, marker) =
        page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListInstanceProfilesResponse {
        instance_profiles,
        is_truncated,
        marker,
    })
}

/// DeleteInstanceProfile: refused while it holds a role.
pub fn delete_instance_profile(
    ctx: &RequestContext,
    state: &AppState,
    req: ProfileNameRequest,
) -> Result<(), ApiError> {
    check_name(&req.instance_profile_name, "instanceProfileName", 128)?;
    let key = req.instance_profile_name.to_ascii_lowercase();
    with_iam(ctx, state, |iam| {
        let p = iam
            .profiles
            .get(&key)
            .ok_or_else(|| profile_not_found(&req.instance_profile_name))?;
        if p.role.is_some() {
            return Err(delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        iam.profiles.remove(&key);
        Ok(())
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileRoleRequest {
    instance_profile_name: String,
    role_name: String,
}

/// AddRoleToInstanceProfile: a profile holds at most one role.
pub fn add_role_to_instance_profile(
    ctx: &RequestContext,
    state: &AppState,
    req: ProfileRoleRequest,
) -> Result<(), ApiError> {
    edit_profile_role(ctx, state, req, |p, role, _| {
        if p.role.is_some() {
            return Err(quota("InstanceSessionsPerInstanceProfile", 1));
        }
        p.role = Some(role);
        Ok(())
    })
}

/// RemoveRoleFromInstanceProfile.
pub fn remove_role_from_instance_profile(
    ctx: &RequestContext,
    state: &AppState,
    req: ProfileRoleRequest,
) -> Result<(), ApiError> {
    edit_profile_role(ctx, state, req, |p, role, role_name| {
        if p.role.as_deref() != Some(role.as_str()) {
            return Err(no_such_entity(format!(
                "The role with name {role_name} cannot be found in instance profile {}.",
                p.name
            )));
        }
        p.role = None;
        Ok(())
    })
}

/// Both role-in-profile edits: check the names, find the role and the profile (AWS's
/// NoSuchEntity for either), then `edit` the profile with the role's key and its name as given.
fn edit_profile_role(
    ctx: &RequestContext,
    state: &AppState,
    req: ProfileRoleRequest,
    edit: impl FnOnce(&mut Profile, String, &str) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    check_name(&req.instance_profile_name, "instanceProfileName", 128)?;
    check_name(&req.role_name, "roleName", 64)?;
    let role = req.role_name.to_ascii_lowercase();
    with_iam(ctx, state, |iam| {
        if !iam.roles.contains_key(&role) {
            return Err(role_not_found(&req.role_name));
        }
        let p = iam
            .profiles
            .get_mut(&req.instance_profile_name.to_ascii_lowercase())
            .ok_or_else(|| profile_not_found(&req.instance_profile_name))?;
        edit(p, role, &req.role_name)
    })
}

/// An instance profile as EC2 and Auto Scaling see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRef {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Its id (`AIPA…`).
    pub id: String,
}

/// The instance profiles of `account` (copied out: callers hold their own scope's lock later).
pub fn profiles_of(state: &AppState, account: &str) -> Vec<ProfileRef> {
    state.stores.with(&global(account), |s| {
        s.iam
            .iter()
            .flat_map(|iam| iam.profiles.values())
            .map(|p| ProfileRef {
                name: p.name.clone(),
                arn: p.arn.clone(),
                id: p.id.clone(),
            })
            .collect()
    })
}

/// The profile an `IamInstanceProfile` names, by ARN or (case-insensitively) by name.
pub fn find_profile<'a>(
    profiles: &'a [ProfileRef],
    name: Option<&str>,
    arn: Option<&str>,
) -> Option<&'a ProfileRef> {
    match (arn, name) {
        (Some(arn), _) => profiles.iter().find(|p| p.arn == arn),
        (None, Some(name)) => profiles.iter().find(|p| p.name.eq_ignore_ascii_case(name)),
        (None, None) => None,
    }
}
