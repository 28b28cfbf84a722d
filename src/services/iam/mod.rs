//! The `iam` service, only what EC2 and Auto Scaling touch: roles (with their trust policy),
//! instance profiles, and users with access keys.
//!
//! - [`roles`]: Create/Get/List/DeleteRole; [`policies`]: their inline and attached managed
//!   policies. Policies are **stored, not enforced**: every signed request of an account may
//!   do anything in it.
//! - [`profiles`]: instance profiles and the role each holds; [`find_profile`] is what
//!   RunInstances and CreateLaunchConfiguration check `IamInstanceProfile` against.
//! - [`server_certs`]: server certificates (Upload/Get/List/DeleteServerCertificate) that
//!   HTTPS listeners present.
//! - [`users`]: users and their access keys; a key CreateAccessKey returns is recorded in
//!   `state.keys`, so `--verify-signatures` accepts it, in the user's account.
//!
//! IAM is global: an account's IAM data lives in its scope whose region is empty, whatever
//! region a client signs for (AWS's CLI signs IAM for us-east-1).

pub mod errors;
pub mod policies;
pub mod profiles;
pub mod roles;
pub mod server_certs;
pub mod users;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Handler, Typed, TypedOperation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::paging::{self, Paging, PastEnd, Token};

use crate::state::{AppState, Scope};
pub(crate) use errors::{already_exists, delete_conflict, no_such_entity};
use errors::{invalid_marker, validation};

/// Implemented operations: all typed (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    (
        "AddRoleToInstanceProfile",
        &Typed(profiles::add_role_to_instance_profile),
    ),
    ("AttachRolePolicy", &Typed(policies::attach_role_policy)),
    ("CreateAccessKey", &Typed(users::create_access_key)),
    (
        "CreateInstanceProfile",
        &Typed(profiles::create_instance_profile),
    ),
    ("CreateRole", &Typed(roles::create_role)),
    ("CreateUser", &Typed(users::create_user)),
    ("DeleteAccessKey", &Typed(users::delete_access_key)),
    (
        "DeleteInstanceProfile",
        &Typed(profiles::delete_instance_profile),
    ),
    ("DeleteRole", &Typed(roles::delete_role)),
    ("DeleteRolePolicy", &Typed(policies::delete_role_policy)),
    (
        "DeleteServerCertificate",
        &Typed(server_certs::delete_server_certificate),
    ),
    ("DeleteUser", &Typed(users::delete_user)),
    ("DetachRolePolicy", &Typed(policies::detach_role_policy)),
    ("GetInstanceProfile", &Typed(profiles::get_instance_profile)),
    ("GetRole", &Typed(roles::get_role)),
    ("GetRolePolicy", &Typed(policies::get_role_policy)),
    (
        "GetServerCertificate",
        &Typed(server_certs::get_server_certificate),
    ),
    ("GetUser", &Typed(users::get_user)),
    ("ListAccessKeys", &Typed(users::list_access_keys)),
    (
        "ListAttachedRolePolicies",
        &Typed(policies::list_attached_role_policies),
    ),
    (
        "ListInstanceProfiles",
        &Typed(profiles::list_instance_profiles),
    ),
    (
        "ListInstanceProfilesForRole",
        &Typed(profiles::list_instance_profiles_for_role),
    ),
    ("ListRolePolicies", &Typed(policies::list_role_policies)),
    ("ListRoles", &Typed(roles::list_roles)),
    (
        "ListServerCertificates",
        &Typed(server_certs::list_server_certificates),
    ),
    ("ListUsers", &Typed(users::list_users)),
    ("PutRolePolicy", &Typed(policies::put_role_policy)),
    (
        "RemoveRoleFromInstanceProfile",
        &Typed(profiles::remove_role_from_instance_profile),
    ),
    (
        "UploadServerCertificate",
        &Typed(server_certs::upload_server_certificate),
    ),
];

/// Operations still answering with value trees: none.
pub const OPERATIONS: &[(&str, Handler)] = &[];

/// An account's IAM data. Keys are lower-cased names: IAM names are unique regardless of case.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct IamStore {
    pub(crate) roles: BTreeMap<String, roles::Role>,
    pub(crate) profiles: BTreeMap<String, profiles::Profile>,
    pub(crate) users: BTreeMap<String, users::User>,
    /// Server certificates, by lower-cased name.
    #[serde(default)]
    pub(crate) server_certificates: BTreeMap<String, server_certs::ServerCertificate>,
}

/// A tag on an IAM resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    key: String,
    value: String,
}

/// The account-global scope IAM data lives in.
pub(crate) fn global(account: &str) -> Scope {
    Scope::new(account, "")
}

/// Run `f` on the caller's account's IAM data.
pub(crate) fn with_iam<R>(
    ctx: &RequestContext,
    state: &AppState,
    f: impl FnOnce(&mut IamStore) -> R,
) -> R {
    state.stores.with(&global(&ctx.scope.account), |s| {
        f(s.iam.get_or_insert_with(Default::default))
    })
}

/// A role, instance profile or user name: 1 to `max` characters of `[\w+=,.@-]`.
pub(crate) fn check_name(name: &str, member: &str, max: usize) -> Result<(), ApiError> {
    let bad = |constraint: String| {
        validation(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    };
    if name.is_empty() {
        return Err(bad(
            "Member must have length greater than or equal to 1".into()
        ));
    }
    if name.chars().count() > max {
        return Err(bad(format!(
            "Member must have length less than or equal to {max}"
        )));
    }
    // A name outside the pattern gets IAM's own sentence, not the framework's constraint text
    // (quoted in shashankprasanna/torchserve-examples#7 and
    // hashicorp/terraform-provider-aws#3087).
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(validation(format!(
            "The specified value for {member} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"
        )));
    }
    Ok(())
}

/// A path: `/`, or `/…/` of printable ASCII.
pub(crate) fn check_path(path: &str) -> Result<(), ApiError> {
    let ok = path == "/"
        || (path.len() >= 2
            && path.len() <= 512
            && path.starts_with('/')
            && path.ends_with('/')
            && path.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if ok {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )))
    }
}

/// An IAM unique id: `prefix` and 17 characters, as AWS's (`AROA…`, `AIPA…`, `AIDA…`).
pub(crate) fn unique_id(state: &AppState, prefix: &str) -> String {
    state.ids.access_key(prefix, 21)
}

/// Percent-encode a policy document as IAM returns it (RFC 3986 unreserved characters kept):
/// the SDKs decode it back into JSON.
pub(crate) fn encode_policy(document: &str) -> String {
    let mut out = String::with_capacity(document.len() * 2);
    for b in document.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of a listing after `marker` (an opaque offset), and the next marker.
pub(crate) fn page<T>(
    items: Vec<T>,
    marker: Option<&str>,
    max_items: Option<i64>,
) -> Result<(Vec<T>, bool, Option<String>), ApiError> {
    let paging = Paging {
        token: Token::Prefixed("updraft-"),
        past_end: PastEnd::Refused,
    };
    // The marker is checked before MaxItems.
    if marker.is_some_and(|m| paging.token.decode(m).is_none_or(|at| at > items.len())) {
        return Err(invalid_marker());
    }
    let limit = match max_items {
        None => 100,
        Some(n) if (1..=1000).contains(&n) => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value {} 1",
                if n < 1 {
                    "greater than or equal to"
                } else {
                    "less than or equal to 1000, and greater than or equal to"
                }
            )));
        }
    };
    let (page, next) = paging::page(items, marker, limit, paging).map_err(|_| invalid_marker())?;
    Ok((page, next.is_some(), next))
}

pub use profiles::{ProfileRef, find_profile, profiles_of};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_documents() {
        assert!(check_name("ExampleEC2Role", "roleName", 64).is_ok());
        assert!(check_name("has space", "roleName", 64).is_err());
        assert!(check_name(&"x".repeat(65), "roleName", 64).is_err());
        assert!(check_path("/").is_ok());
        assert!(check_path("/team/").is_ok());
        assert!(check_path("team").is_err());
        assert_eq!(encode_policy(r#"{"a": 1}"#), "%7B%22a%22%3A%201%7D");
        let (first, truncated, marker) = page(vec![1, 2, 3], None, Some(2)).unwrap();
        assert_eq!((first, truncated), (vec![1, 2], true));
        let (rest, truncated, _) = page(vec![1, 2, 3], marker.as_deref(), Some(2)).unwrap();
        assert_eq!((rest, truncated), (vec![3], false));
    }
}
