//! The `ssm` service: Parameter Store (awsJson 1.1, `X-Amz-Target: AmazonSSM.<Op>`).
//!
//! - [`parameters`]: PutParameter (versions, Overwrite, AllowedPattern, tiers), GetParameter(s)
//!   with `name:version` / `name:label` selectors, DeleteParameter(s).
//! - [`history`]: GetParameterHistory, Label/UnlabelParameterVersion.
//! - [`listing`]: the listings, GetParametersByPath (Recursive, ParameterFilters, NextToken/MaxResults paging)
//!   and DescribeParameters.
//! - [`tags`]: Add/ListTagsFor/RemoveTagsFromResource for parameters.
//! - [`resolve`]: `resolve:ssm:<name>` ImageIds, resolved by EC2 at each launch.
//! - [`public`]: AWS's public parameters under `/aws/service/ami-amazon-linux-latest/`, the
//!   same in every account, pointing at the region's public AMIs (EC2's catalog).
//!
//! SecureString values are stored as given: there is no KMS. Without `WithDecryption` they come
//! back as an opaque stand-in for the ciphertext, and `KeyId` is recorded (default
//! `alias/aws/ssm`, AWS's managed key) but not checked.

pub mod errors;
pub mod history;
pub mod listing;
pub mod parameters;
pub mod public;
pub mod resolve;
pub mod tags;

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Handler, Typed, TypedOperation};
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::Scope;

use errors::SsmError;
pub(crate) use errors::{constraint, not_found, validation};

/// Implemented operations: all typed (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    ("AddTagsToResource", &Typed(tags::add_tags_to_resource)),
    ("DeleteParameter", &Typed(parameters::delete_parameter)),
    ("DeleteParameters", &Typed(parameters::delete_parameters)),
    ("DescribeParameters", &Typed(listing::describe_parameters)),
    ("GetParameter", &Typed(parameters::get_parameter)),
    (
        "GetParameterHistory",
        &Typed(history::get_parameter_history),
    ),
    ("GetParameters", &Typed(parameters::get_parameters)),
    (
        "GetParametersByPath",
        &Typed(listing::get_parameters_by_path),
    ),
    (
        "LabelParameterVersion",
        &Typed(history::label_parameter_version),
    ),
    ("ListTagsForResource", &Typed(tags::list_tags_for_resource)),
    ("PutParameter", &Typed(parameters::put_parameter)),
    (
        "RemoveTagsFromResource",
        &Typed(tags::remove_tags_from_resource),
    ),
    (
        "UnlabelParameterVersion",
        &Typed(history::unlabel_parameter_version),
    ),
];

/// Operations still answering with value trees: none.
pub const OPERATIONS: &[(&str, Handler)] = &[];

/// AWS's managed key for SecureString parameters.
pub const DEFAULT_KEY_ID: &str = "alias/aws/ssm";

/// The parameters of one (account, region), by name.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct SsmStore {
    pub(crate) parameters: BTreeMap<String, StoredParameter>,
}

/// A parameter: its versions, oldest first, and its tags.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredParameter {
    pub(crate) versions: Vec<ParameterVersion>,
    pub(crate) tags: Vec<Tag>,
}

impl StoredParameter {
    /// The newest version (a parameter always has one).
    pub(crate) fn latest(&self) -> &ParameterVersion {
        // Parameters are created with a version and removed whole, never emptied.
        self.versions.last().expect("a parameter has a version")
    }
}

/// One version of a parameter.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ParameterVersion {
    pub(crate) version: i64,
    pub(crate) value: String,
    pub(crate) kind: String,
    pub(crate) key_id: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) allowed_pattern: Option<String>,
    pub(crate) tier: String,
    pub(crate) data_type: String,
    pub(crate) last_modified: f64,
    pub(crate) last_modified_user: String,
    pub(crate) labels: Vec<String>,
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// AWS's answer to a name outside the allowed characters.
const NAME_RULES: &str = "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

/// Check a parameter name as every operation reads it: letters, digits, `.-_` and `/`
/// separators; a hierarchy starts with `/` and has at most 15 levels.
pub(crate) fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > 2048 {
        return Err(constraint(
            name,
            "name",
            "Member must have length less than or equal to 2048",
        ));
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    if !ok || name.contains("//") || (name.len() > 1 && name.ends_with('/')) {
        return Err(validation(NAME_RULES));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(validation("Parameter name must be a fully qualified name."));
    }
    if name.matches('/').count() > 15 {
        return Err(SsmError::HierarchyLevelLimitExceeded
            .with("Parameter name hierarchy can have a maximum of 15 levels."));
    }
    Ok(())
}

/// Names a caller may create: not under AWS's reserved `aws`/`ssm` prefixes.
pub(crate) fn check_writable_name(name: &str) -> Result<(), ApiError> {
    check_name(name)?;
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(validation(
            "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).",
        ));
    }
    Ok(())
}

/// A parameter's ARN: `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME` (one slash either way).
pub(crate) fn parameter_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:ssm:{}:{}:parameter/{}",
        scope.region,
        scope.account,
        name.trim_start_matches('/')
    )
}

/// What GetParameter shows of a SecureString read without `WithDecryption`: a stable,
/// opaque stand-in for KMS ciphertext (it does not contain the value).
pub(crate) fn sealed(value: &str, key_id: &str, version: i64) -> String {
    let digest = Sha256::digest(format!("{key_id}\n{version}\n{value}").as_bytes());
    let mut blob = b"updraft-no-kms:".to_vec();
    blob.extend_from_slice(&digest);
    base64::engine::general_purpose::STANDARD.encode(blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_rules() {
        assert!(check_name("/app/db/password").is_ok());
        assert!(check_name("plain-name_1.x").is_ok());
        assert_eq!(check_name("has space").unwrap_err().message, NAME_RULES);
        assert_eq!(
            check_name("a/b").unwrap_err().message,
            "Parameter name must be a fully qualified name."
        );
        assert_eq!(
            check_name(&"/a".repeat(16)).unwrap_err().code,
            "HierarchyLevelLimitExceededException"
        );
        assert!(check_writable_name("/aws/x").is_err());
        assert!(check_writable_name("SSM-x").is_err());
        assert!(check_writable_name("/app/x").is_ok());
        let scope = Scope::new("123456789012", "us-east-1");
        assert_eq!(
            parameter_arn(&scope, "/a/b"),
            "arn:aws:ssm:us-east-1:123456789012:parameter/a/b"
        );
        assert_eq!(
            parameter_arn(&scope, "a"),
            "arn:aws:ssm:us-east-1:123456789012:parameter/a"
        );
        assert_ne!(
            sealed("v", DEFAULT_KEY_ID, 1),
            sealed("v", DEFAULT_KEY_ID, 2)
        );
    }
}
