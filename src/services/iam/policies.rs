//! A role's permissions policies, **stored, not enforced**: inline policies
//! (Put/Get/List/DeleteRolePolicy) and attached managed policies
//! (Attach/Detach/ListAttachedRolePolicies). Updraft has no managed-policy catalogue: any
//! well-formed policy ARN of AWS (`arn:aws:iam::aws:policy/…`) or of the caller's account may
//! be attached, and is listed back by the name its ARN ends with.

use serde::{Deserialize, Serialize};

use super::errors::{IamError, quota, validation};
use super::roles::{Role, check_policy, role_not_found};
use super::{IamStore, check_name, encode_policy, no_such_entity, page, with_iam};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// Managed policies per role: AWS's default quota.
const MAX_ATTACHED: usize = 10;
/// Inline policies of a role together, whitespace not counted: AWS's quota.
const MAX_INLINE_SIZE: usize = 10_240;

/// Run `f` on the role `name` (AWS's NoSuchEntity when it does not exist).
fn with_role<R>(
    ctx: &RequestContext,
    state: &AppState,
    name: &str,
    f: impl FnOnce(&mut Role) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    check_name(name, "roleName", 64)?;
    with_iam(ctx, state, |iam: &mut IamStore| {
        let role = iam
            .roles
            .get_mut(&name.to_ascii_lowercase())
            .ok_or_else(|| role_not_found(name))?;
        f(role)
    })
}

fn role_policy_not_found(name: &str) -> ApiError {
    no_such_entity(format!("The role policy with name {name} cannot be found."))
}

/// The characters of a policy that count against the inline quota (whitespace does not).
fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRolePolicyRequest {
    role_name: String,
    policy_name: String,
    policy_document: String,
}

/// PutRolePolicy: adds or replaces an inline policy (names are unique regardless of case).
pub fn put_role_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: PutRolePolicyRequest,
) -> Result<(), ApiError> {
    check_name(&req.policy_name, "policyName", 128)?;
    check_policy(&req.policy_document)?;
    with_role(ctx, state, &req.role_name, |role| {
        let key = req.policy_name.to_ascii_lowercase();
        let others: usize = role
            .inline_policies
            .iter()
            .filter(|(k, _)| **k != key)
            .map(|(_, (_, doc))| policy_size(doc))
            .sum();
        if others + policy_size(&req.policy_document) > MAX_INLINE_SIZE {
            return Err(IamError::LimitExceeded.with(format!(
                "Maximum policy size of {MAX_INLINE_SIZE} bytes exceeded for role {}",
                role.name
            )));
        }
        role.inline_policies
            .insert(key, (req.policy_name, req.policy_document));
        Ok(())
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RolePolicyRequest {
    role_name: String,
    policy_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRolePolicyResponse {
    role_name: String,
    policy_name: String,
    policy_document: String,
}

/// GetRolePolicy: the document percent-encoded, as IAM returns documents.
pub fn get_role_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: RolePolicyRequest,
) -> Result<GetRolePolicyResponse, ApiError> {
    check_name(&req.policy_name, "policyName", 128)?;
    with_role(ctx, state, &req.role_name, |role| {
        let (name, document) = role
            .inline_policies
            .get(&req.policy_name.to_ascii_lowercase())
            .ok_or_else(|| role_policy_not_found(&req.policy_name))?;
        Ok(GetRolePolicyResponse {
            role_name: role.name.clone(),
            policy_name: name.clone(),
            policy_document: encode_policy(document),
        })
    })
}

/// DeleteRolePolicy.
pub fn delete_role_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: RolePolicyRequest,
) -> Result<(), ApiError> {
    check_name(&req.policy_name, "policyName", 128)?;
    with_role(ctx, state, &req.role_name, |role| {
        role.inline_policies
            .remove(&req.policy_name.to_ascii_lowercase())
            .map(|_| ())
            .ok_or_else(|| role_policy_not_found(&req.policy_name))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRolePoliciesRequest {
    role_name: String,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRolePoliciesResponse {
    policy_names: Vec<String>,
    is_truncated: bool,
    marker: Option<String>,
}

/// ListRolePolicies: the inline policies' names, in name order.
pub fn list_role_policies(
    ctx: &RequestContext,
    state: &AppState,
    req: ListRolePoliciesRequest,
) -> Result<ListRolePoliciesResponse, ApiError> {
    let all: Vec<String> = with_role(ctx, state, &req.role_name, |role| {
        Ok(role
            .inline_policies
            .values()
            .map(|(name, _)| name.clone())
            .collect())
    })?;
    let (policy_names, is_truncated, marker) = page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListRolePoliciesResponse {
        policy_names,
        is_truncated,
        marker,
    })
}

/// A managed policy ARN's path and name: `arn:aws:iam::{aws|account}:policy{path}{name}`.
/// Another account's policy does not exist for the caller.
fn parse_policy_arn<'a>(arn: &'a str, account: &str) -> Result<(&'a str, &'a str), ApiError> {
    if arn.chars().count() < 20 {
        return Err(validation(format!(
            "1 validation error detected: Value '{arn}' at 'policyArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        )));
    }
    let invalid = || IamError::InvalidInput.with(format!("ARN {arn} is not valid."));
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", "aws", "iam", "", owner, resource] = parts.as_slice() else {
        return Err(invalid());
    };
    let path_name = resource.strip_prefix("policy").ok_or_else(invalid)?;
    let (path, name) = path_name.rsplit_once('/').ok_or_else(invalid)?;
    let path_ok = path.is_empty() || path.starts_with('/');
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !path_ok || !name_ok {
        return Err(invalid());
    }
    if *owner != "aws" && *owner != account {
        return Err(no_such_entity(format!(
            "Policy {arn} does not exist or is not attachable."
        )));
    }
    Ok((&path_name[..=path.len()], name))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RolePolicyArnRequest {
    role_name: String,
    policy_arn: String,
}

/// Both attachment edits: find the role, check the ARN, then `edit` the role's attached ARNs.
fn edit_attached(
    ctx: &RequestContext,
    state: &AppState,
    req: RolePolicyArnRequest,
    edit: impl FnOnce(&mut Vec<String>, String) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let account = ctx.scope.account.clone();
    with_role(ctx, state, &req.role_name, |role| {
        parse_policy_arn(&req.policy_arn, &account)?;
        edit(&mut role.attached_policies, req.policy_arn.clone())
    })
}

/// AttachRolePolicy: attaching an attached policy again changes nothing.
pub fn attach_role_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: RolePolicyArnRequest,
) -> Result<(), ApiError> {
    edit_attached(ctx, state, req, |attached, arn| {
        if attached.contains(&arn) {
            return Ok(());
        }
        if attached.len() >= MAX_ATTACHED {
            return Err(quota("PoliciesPerRole", MAX_ATTACHED));
        }
        attached.push(arn);
        Ok(())
    })
}

/// DetachRolePolicy.
pub fn detach_role_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: RolePolicyArnRequest,
) -> Result<(), ApiError> {
    edit_attached(ctx, state, req, |attached, arn| {
        let before = attached.len();
        attached.retain(|a| *a != arn);
        if attached.len() == before {
            return Err(no_such_entity(format!("Policy {arn} was not found.")));
        }
        Ok(())
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAttachedRolePoliciesRequest {
    role_name: String,
    path_prefix: Option<String>,
    marker: Option<String>,
    max_items: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    policy_name: String,
    policy_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAttachedRolePoliciesResponse {
    attached_policies: Vec<AttachedPolicy>,
    is_truncated: bool,
    marker: Option<String>,
}

/// ListAttachedRolePolicies: in the order they were attached, filtered by policy path.
pub fn list_attached_role_policies(
    ctx: &RequestContext,
    state: &AppState,
    req: ListAttachedRolePoliciesRequest,
) -> Result<ListAttachedRolePoliciesResponse, ApiError> {
    let account = ctx.scope.account.clone();
    let prefix = req.path_prefix.unwrap_or_else(|| "/".into());
    let all = with_role(ctx, state, &req.role_name, |role| {
        let mut out = Vec::new();
        for arn in &role.attached_policies {
            let (path, name) = parse_policy_arn(arn, &account)?;
            if path.starts_with(&prefix) {
                out.push(AttachedPolicy {
                    policy_name: name.to_owned(),
                    policy_arn: arn.clone(),
                });
            }
        }
        Ok(out)
    })?;
    let (attached_policies, is_truncated, marker) =
        page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListAttachedRolePoliciesResponse {
        attached_policies,
        is_truncated,
        marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_give_path_and_name() {
        let acct = "123456789012";
        assert_eq!(
            parse_policy_arn("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", acct).unwrap(),
            ("/", "AmazonSSMManagedInstanceCore")
        );
        assert_eq!(
            parse_policy_arn(
                "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
                acct
            )
            .unwrap(),
            ("/service-role/", "AmazonEC2RoleforSSM")
        );
        assert_eq!(
            parse_policy_arn("arn:aws:iam::123456789012:role/NotAPolicy", acct)
                .unwrap_err()
                .message,
            "ARN arn:aws:iam::123456789012:role/NotAPolicy is not valid."
        );
        assert_eq!(
            parse_policy_arn("arn:aws:iam::210987654321:policy/Theirs", acct)
                .unwrap_err()
                .code,
            "NoSuchEntity"
        );
        assert_eq!(policy_size("{ \"a\" :\n 1 }"), 7);
    }
}
