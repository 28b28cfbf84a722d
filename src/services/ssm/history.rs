//! A parameter's versions: GetParameterHistory, LabelParameterVersion,
//! UnlabelParameterVersion.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{SsmError, version_not_found};
use super::listing::{max_results, page};
use super::{DEFAULT_KEY_ID, check_name, not_found, sealed};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// Labels per version.
const MAX_LABELS: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParameterHistoryRequest {
    name: String,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterHistory {
    name: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    last_modified_date: Timestamp,
    last_modified_user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_pattern: Option<String>,
    version: i64,
    labels: Vec<String>,
    tier: String,
    policies: Vec<Value>,
    data_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParameterHistoryResult {
    parameters: Vec<ParameterHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// GetParameterHistory: every kept version, oldest first, paged (at most 50 a page).
pub fn get_parameter_history(
    ctx: &RequestContext,
    state: &AppState,
    req: GetParameterHistoryRequest,
) -> Result<GetParameterHistoryResult, ApiError> {
    check_name(&req.name)?;
    let limit = max_results(req.max_results, 50, 50)?;
    let decrypt = req.with_decryption.unwrap_or(false);
    let all: Vec<ParameterHistory> = state.stores.with(&ctx.scope, |s| {
        let param = s.ssm.parameters.get(&req.name).ok_or_else(not_found)?;
        Ok::<_, ApiError>(
            param
                .versions
                .iter()
                .map(|v| ParameterHistory {
                    name: req.name.clone(),
                    kind: v.kind.clone(),
                    key_id: v.key_id.clone(),
                    last_modified_date: Timestamp(v.last_modified),
                    last_modified_user: v.last_modified_user.clone(),
                    description: v.description.clone(),
                    value: if v.kind == "SecureString" && !decrypt {
                        sealed(
                            &v.value,
                            v.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID),
                            v.version,
                        )
                    } else {
                        v.value.clone()
                    },
                    allowed_pattern: v.allowed_pattern.clone(),
                    version: v.version,
                    labels: v.labels.clone(),
                    tier: v.tier.clone(),
                    policies: Vec::new(),
                    data_type: v.data_type.clone(),
                })
                .collect(),
        )
    })?;
    let (parameters, next_token) = page(all, req.next_token.as_deref(), limit)?;
    Ok(GetParameterHistoryResult {
        parameters,
        next_token,
    })
}

/// Whether AWS accepts a label: 1–100 characters of letters, digits, `.`, `-`, `_`, not
/// starting with a digit or with `aws`/`ssm` (any case).
fn valid_label(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && label.chars().count() <= 100
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelRequest {
    name: String,
    parameter_version: Option<i64>,
    labels: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelParameterVersionResult {
    invalid_labels: Vec<String>,
    parameter_version: i64,
}

/// LabelParameterVersion: attach labels to a version (the latest by default), moving each from
/// whichever version had it; malformed labels are reported, not attached.
pub fn label_parameter_version(
    ctx: &RequestContext,
    state: &AppState,
    req: LabelRequest,
) -> Result<LabelParameterVersionResult, ApiError> {
    check_name(&req.name)?;
    let (valid, invalid): (Vec<String>, Vec<String>) =
        req.labels.iter().cloned().partition(|l| valid_label(l));
    state.stores.with(&ctx.scope, |s| {
        let param = s.ssm.parameters.get_mut(&req.name).ok_or_else(not_found)?;
        let target = req
            .parameter_version
            .unwrap_or_else(|| param.latest().version);
        let index = param
            .versions
            .iter()
            .position(|v| v.version == target)
            .ok_or_else(|| version_not_found(&req.name, target))?;
        let mut labels = param.versions[index].labels.clone();
        for label in &valid {
            if !labels.contains(label) {
                labels.push(label.clone());
            }
        }
        if labels.len() > MAX_LABELS {
            return Err(SsmError::ParameterVersionLabelLimitExceeded.with(
                "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.",
            ));
        }
        for v in &mut param.versions {
            v.labels.retain(|l| !valid.contains(l));
        }
        param.versions[index].labels = labels;
        Ok(LabelParameterVersionResult {
            invalid_labels: invalid.clone(),
            parameter_version: target,
        })
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnlabelRequest {
    name: String,
    parameter_version: i64,
    labels: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnlabelParameterVersionResult {
    removed_labels: Vec<String>,
    invalid_labels: Vec<String>,
}

/// UnlabelParameterVersion: labels the version did not carry come back as invalid.
pub fn unlabel_parameter_version(
    ctx: &RequestContext,
    state: &AppState,
    req: UnlabelRequest,
) -> Result<UnlabelParameterVersionResult, ApiError> {
    check_name(&req.name)?;
    state.stores.with(&ctx.scope, |s| {
        let param = s.ssm.parameters.get_mut(&req.name).ok_or_else(not_found)?;
        let version = param
            .versions
            .iter_mut()
            .find(|v| v.version == req.parameter_version)
            .ok_or_else(|| version_not_found(&req.name, req.parameter_version))?;
        let (removed, invalid): (Vec<String>, Vec<String>) = req
            .labels
            .iter()
            .cloned()
            .partition(|l| version.labels.contains(l));
        version.labels.retain(|l| !removed.contains(l));
        Ok(UnlabelParameterVersionResult {
            removed_labels: removed,
            invalid_labels: invalid,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_aws_rules() {
        assert!(valid_label("prod"));
        assert!(valid_label("release-1.2_x"));
        assert!(!valid_label("1st"));
        assert!(!valid_label("AWSlabel"));
        assert!(!valid_label("has space"));
        assert!(!valid_label(""));
    }
}
