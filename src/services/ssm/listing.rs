//! Listings: GetParametersByPath (hierarchy, Recursive, ParameterFilters, paging) and
//! DescribeParameters (metadata, Filters or ParameterFilters, paging).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::SsmError;
use super::parameters::{Parameter, parameter_out, public_out};
use super::{StoredParameter, constraint, parameter_arn, public, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::services::paging::{self, Paging, PastEnd, Token};
use crate::state::AppState;

/// `MaxResults` within 1..=`max`, `default` when absent.
pub(crate) fn max_results(given: Option<i64>, default: usize, max: i64) -> Result<usize, ApiError> {
    match given {
        None => Ok(default),
        Some(n) if n < 1 => Err(constraint(
            &n.to_string(),
            "maxResults",
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > max => Err(constraint(
            &n.to_string(),
            "maxResults",
            &format!("Member must have value less than or equal to {max}"),
        )),
        // Bounded by `max` just above.
        Some(n) => Ok(n as usize),
    }
}

/// One page of `items` from the position `token` encodes, and the token of the next page.
pub(crate) fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let paging = Paging {
        token: Token::Base64("updraft-ssm:"),
        past_end: PastEnd::Refused,
    };
    paging::page(items, token, limit, paging)
        .map_err(|_| SsmError::InvalidNextToken.with("The specified token isn't valid."))
}

/// A `ParameterStringFilter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParameterStringFilter {
    key: String,
    option: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

/// Check a filter list against the keys an operation accepts, and each key's options.
fn check_filters(filters: &[ParameterStringFilter], by_path: bool) -> Result<(), ApiError> {
    for f in filters {
        let key = if f.key.starts_with("tag:") {
            "tag"
        } else {
            f.key.as_str()
        };
        let known = [
            "Name", "Type", "KeyId", "Path", "Label", "Tier", "DataType", "tag",
        ];
        let allowed = if by_path {
            matches!(key, "Type" | "KeyId" | "Label" | "DataType" | "tag")
        } else {
            known.contains(&key) && key != "Label"
        };
        if !allowed {
            return Err(SsmError::InvalidFilterKey
                .with(format!("The following filter key is not valid: {}", f.key)));
        }
        let option = f.option.as_deref().unwrap_or("Equals");
        let ok = match key {
            "Path" => matches!(option, "OneLevel" | "Recursive"),
            "Name" => matches!(option, "Equals" | "BeginsWith" | "Contains"),
            "tag" | "KeyId" => matches!(option, "Equals" | "BeginsWith"),
            _ => option == "Equals",
        };
        if !ok {
            return Err(SsmError::InvalidFilterOption.with(format!(
                "The following filter option is not valid: {option}. Valid options include: [Equals, BeginsWith, Contains] for Name, [Recursive, OneLevel] for Path, [Equals] for the other keys."
            )));
        }
        if f.values.is_empty() && key != "tag" {
            return Err(SsmError::InvalidFilterValue.with(format!(
                "The following filter values are missing : null for filter key {}",
                f.key
            )));
        }
    }
    Ok(())
}

/// Whether `name` is directly under `path` (or anywhere below it when `recursive`).
fn under(path: &str, name: &str, recursive: bool) -> bool {
    let prefix = if path == "/" {
        "/".to_owned()
    } else {
        format!("{path}/")
    };
    match name.strip_prefix(&prefix) {
        Some(rest) => !rest.is_empty() && (recursive || !rest.contains('/')),
        None => false,
    }
}

/// Whether a parameter passes every filter.
fn passes(name: &str, p: &StoredParameter, filters: &[ParameterStringFilter]) -> bool {
    let v = p.latest();
    filters.iter().all(|f| {
        let option = f.option.as_deref().unwrap_or("Equals");
        let test = |field: &str| {
            f.values.iter().any(|want| match option {
                "BeginsWith" => field.starts_with(want.as_str()),
                "Contains" => field.contains(want.as_str()),
                _ => field == want,
            })
        };
        match f.key.as_str() {
            "Name" => test(name) || test(name.trim_start_matches('/')),
            "Type" => test(&v.kind),
            "KeyId" => v.key_id.as_deref().is_some_and(test),
            "Tier" => test(&v.tier),
            "DataType" => test(&v.data_type),
            "Label" => p
                .versions
                .iter()
                .any(|ver| ver.labels.iter().any(|l| test(l))),
            "Path" => f.values.iter().any(|path| {
                let path = match path.trim_end_matches('/') {
                    "" => "/",
                    trimmed => trimmed,
                };
                under(path, name, option == "Recursive")
            }),
            key => match key.strip_prefix("tag:") {
                Some(tag) => p
                    .tags
                    .iter()
                    .any(|t| t.key == tag && (f.values.is_empty() || test(&t.value))),
                None => false,
            },
        }
    })
}

/// AWS's answer to a path that is not a hierarchy.
const PATH_RULES: &str = "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \\\"aws\\\" or \\\"ssm\\\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersByPathRequest {
    path: String,
    recursive: Option<bool>,
    #[serde(default)]
    parameter_filters: Vec<ParameterStringFilter>,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersByPathResult {
    parameters: Vec<Parameter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// GetParametersByPath: the parameters one level below `Path` (every level with `Recursive`),
/// by name, at most 10 a page. AWS's public namespace (`/aws/service/...`) lists too.
pub fn get_parameters_by_path(
    ctx: &RequestContext,
    state: &AppState,
    req: GetParametersByPathRequest,
) -> Result<GetParametersByPathResult, ApiError> {
    let path = if req.path.len() > 1 {
        req.path.trim_end_matches('/')
    } else {
        req.path.as_str()
    };
    if !path.starts_with('/')
        || path.contains("//")
        || !path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
    {
        return Err(validation(PATH_RULES));
    }
    let limit = max_results(req.max_results, 10, 10)?;
    check_filters(&req.parameter_filters, true)?;
    let recursive = req.recursive.unwrap_or(false);
    let decrypt = req.with_decryption.unwrap_or(false);
    let all: Vec<Parameter> = if public::is_public_name(&format!("{path}/")) {
        // Public parameters are String/text with no labels or tags: filters on those fail.
        public::all(&ctx.scope.region)
            .into_iter()
            .filter(|p| under(path, &p.name, recursive))
            .filter(|_| {
                req.parameter_filters.iter().all(|f| {
                    (f.key == "Type" && f.values.iter().any(|v| v == "String"))
                        || (f.key == "DataType" && f.values.iter().any(|v| v == "text"))
                })
            })
            .map(|p| public_out(&ctx.scope.region, p))
            .collect()
    } else {
        state.stores.with(&ctx.scope, |s| {
            s.ssm
                .parameters
                .iter()
                .filter(|(name, p)| {
                    under(path, name, recursive) && passes(name, p, &req.parameter_filters)
                })
                .map(|(name, p)| parameter_out(&ctx.scope, name, p.latest(), decrypt, None))
                .collect()
        })
    };
    let (parameters, next_token) = page(all, req.next_token.as_deref(), limit)?;
    Ok(GetParametersByPathResult {
        parameters,
        next_token,
    })
}

/// A legacy `ParametersFilter` (DescribeParameters' `Filters`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParametersFilter {
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeParametersRequest {
    #[serde(default)]
    filters: Vec<ParametersFilter>,
    #[serde(default)]
    parameter_filters: Vec<ParameterStringFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterMetadata {
    name: String,
    #[serde(rename = "ARN")]
    arn: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    last_modified_date: Timestamp,
    last_modified_user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_pattern: Option<String>,
    version: i64,
    tier: String,
    policies: Vec<Value>,
    data_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeParametersResult {
    parameters: Vec<ParameterMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// DescribeParameters: the account's own parameters (never AWS's public ones), by name.
pub fn describe_parameters(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeParametersRequest,
) -> Result<DescribeParametersResult, ApiError> {
    if !req.filters.is_empty() && !req.parameter_filters.is_empty() {
        return Err(validation(
            "You can use either Filters or ParameterFilters in a single request.",
        ));
    }
    let limit = max_results(req.max_results, 10, 50)?;
    // The legacy filters are ParameterFilters with fixed options: a name prefix, exact types
    // and key ids.
    let mut filters = req.parameter_filters.clone();
    for f in &req.filters {
        filters.push(ParameterStringFilter {
            key: f.key.clone(),
            option: Some(
                if f.key == "Name" {
                    "BeginsWith"
                } else {
                    "Equals"
                }
                .to_owned(),
            ),
            values: f.values.clone(),
        });
    }
    check_filters(&filters, false)?;
    let all: Vec<ParameterMetadata> = state.stores.with(&ctx.scope, |s| {
        s.ssm
            .parameters
            .iter()
            .filter(|(name, p)| passes(name, p, &filters))
            .map(|(name, p)| {
                let v = p.latest();
                ParameterMetadata {
                    name: name.clone(),
                    arn: parameter_arn(&ctx.scope, name),
                    kind: v.kind.clone(),
                    key_id: v.key_id.clone(),
                    last_modified_date: Timestamp(v.last_modified),
                    last_modified_user: v.last_modified_user.clone(),
                    description: v.description.clone(),
                    allowed_pattern: v.allowed_pattern.clone(),
                    version: v.version,
                    tier: v.tier.clone(),
                    policies: Vec::new(),
                    data_type: v.data_type.clone(),
                }
            })
            .collect()
    });
    let (parameters, next_token) = page(all, req.next_token.as_deref(), limit)?;
    Ok(DescribeParametersResult {
        parameters,
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchy_levels() {
        assert!(under("/a", "/a/b", false));
        assert!(!under("/a", "/a/b/c", false));
        assert!(under("/a", "/a/b/c", true));
        assert!(!under("/a", "/ab", true));
        assert!(under("/", "/x", false));
        assert!(!under("/", "/x/y", false));
        assert!(!under("/", "plain", true));
    }

    #[test]
    fn pages_chain_and_bad_tokens_fail() {
        let (first, token) = page((0..25).collect::<Vec<_>>(), None, 10).unwrap();
        assert_eq!(first.len(), 10);
        let (second, token) = page((0..25).collect::<Vec<_>>(), token.as_deref(), 10).unwrap();
        assert_eq!(second[0], 10);
        let (third, token) = page((0..25).collect::<Vec<_>>(), token.as_deref(), 10).unwrap();
        assert_eq!(third.len(), 5);
        assert!(token.is_none());
        assert_eq!(
            page(vec![1], Some("garbage"), 10).unwrap_err().code,
            "InvalidNextToken"
        );
        assert_eq!(
            max_results(Some(11), 10, 10).unwrap_err().message,
            "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10"
        );
    }
}
