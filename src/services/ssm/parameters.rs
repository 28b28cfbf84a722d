//! One parameter at a time: Put, Get (with `:version` / `:label` selectors), GetParameters,
//! Delete, DeleteParameters, GetParameterHistory, Label/UnlabelParameterVersion.

use serde::{Deserialize, Serialize};

use super::errors::{SsmError, version_not_found};
use super::{
    DEFAULT_KEY_ID, ParameterVersion, StoredParameter, Tag, check_name, check_writable_name,
    constraint, not_found, parameter_arn, public, sealed, validation,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Scope};

/// Versions AWS keeps per parameter.
const MAX_VERSIONS: usize = 100;
/// Value length of the standard and advanced tiers.
const STANDARD_MAX: usize = 4096;
const ADVANCED_MAX: usize = 8192;

/// A parameter as Get* returns it (`Parameter`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Parameter {
    pub(crate) name: String,
    #[serde(rename = "Type")]
    pub(crate) kind: String,
    pub(crate) value: String,
    pub(crate) version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) selector: Option<String>,
    pub(crate) last_modified_date: Timestamp,
    #[serde(rename = "ARN")]
    pub(crate) arn: String,
    pub(crate) data_type: String,
}

/// The output form of one stored version.
pub(crate) fn parameter_out(
    scope: &Scope,
    name: &str,
    v: &ParameterVersion,
    with_decryption: bool,
    selector: Option<String>,
) -> Parameter {
    let value = if v.kind == "SecureString" && !with_decryption {
        sealed(
            &v.value,
            v.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID),
            v.version,
        )
    } else {
        v.value.clone()
    };
    Parameter {
        name: name.to_owned(),
        kind: v.kind.clone(),
        value,
        version: v.version,
        selector,
        last_modified_date: Timestamp(v.last_modified),
        arn: parameter_arn(scope, name),
        data_type: v.data_type.clone(),
    }
}

/// A public parameter in the output form.
pub(crate) fn public_out(region: &str, p: public::PublicParameter) -> Parameter {
    Parameter {
        arn: public::arn(region, &p.name),
        name: p.name,
        kind: "String".into(),
        value: p.value,
        version: 1,
        selector: None,
        last_modified_date: Timestamp(p.last_modified),
        data_type: "text".into(),
    }
}

/// Look a parameter up by `name`, `name:version` or `name:label`.
pub(crate) fn lookup(
    state: &AppState,
    scope: &Scope,
    selected: &str,
    with_decryption: bool,
) -> Result<Parameter, ApiError> {
    let (name, selector) = match selected.split_once(':') {
        Some((name, sel)) => (name, Some(sel)),
        None => (selected, None),
    };
    if let Some(p) = public::get(&scope.region, name) {
        return Ok(public_out(&scope.region, p));
    }
    check_name(name)?;
    state.stores.with(scope, |s| {
        let param = s.ssm.parameters.get(name).ok_or_else(not_found)?;
        let version = match selector {
            None => param.latest(),
            Some(sel) => match sel.parse::<i64>() {
                Ok(n) => param
                    .versions
                    .iter()
                    .find(|v| v.version == n)
                    .ok_or_else(|| version_not_found(name, n))?,
                Err(_) => param
                    .versions
                    .iter()
                    .find(|v| v.labels.iter().any(|l| l == sel))
                    .ok_or_else(not_found)?,
            },
        };
        let selector = selector.map(|sel| format!(":{sel}"));
        Ok(parameter_out(
            scope,
            name,
            version,
            with_decryption,
            selector,
        ))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutParameterRequest {
    name: String,
    description: Option<String>,
    value: String,
    #[serde(rename = "Type")]
    kind: Option<String>,
    key_id: Option<String>,
    overwrite: Option<bool>,
    allowed_pattern: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    tier: Option<String>,
    data_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutParameterResult {
    version: i64,
    tier: String,
}

/// A value against an AllowedPattern (a regular expression the whole value must match).
fn check_pattern(pattern: &str, value: &str) -> Result<(), ApiError> {
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
        SsmError::InvalidAllowedPattern.with(format!(
            "The allowed pattern {pattern} is not a valid regular expression."
        ))
    })?;
    if re.is_match(value) {
        Ok(())
    } else {
        Err(SsmError::ParameterPatternMismatch.with(format!(
            "Parameter value, cannot be validated against allowedPattern: {pattern}"
        )))
    }
}

/// The tier a value is stored in: Standard unless asked (or, for Intelligent-Tiering, unless
/// the value needs Advanced); a value too long for its tier is refused.
fn choose_tier(
    requested: Option<&str>,
    previous: Option<&str>,
    len: usize,
) -> Result<String, ApiError> {
    let tier = match requested {
        Some("Intelligent-Tiering") if len > STANDARD_MAX => "Advanced",
        Some("Intelligent-Tiering") => previous.unwrap_or("Standard"),
        Some(t) => t,
        None => previous.unwrap_or("Standard"),
    };
    if previous == Some("Advanced") && tier == "Standard" {
        return Err(validation(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
        ));
    }
    if tier == "Standard" && len > STANDARD_MAX {
        return Err(validation(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.",
        ));
    }
    if len > ADVANCED_MAX {
        return Err(constraint(
            "***",
            "value",
            "Member must have length less than or equal to 8192",
        ));
    }
    Ok(tier.to_owned())
}

/// Tag keys of 1–128 and values of at most 256 characters; at most 50 per resource.
pub(crate) fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.len() > 50 {
        return Err(
            SsmError::TooManyTagsError.with("The Tags parameter contains more than 50 tags.")
        );
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 {
            return Err(constraint(
                &tag.key,
                "tags.member.key",
                "Member must have length less than or equal to 128",
            ));
        }
        if tag.value.chars().count() > 256 {
            return Err(constraint(
                &tag.value,
                "tags.member.value",
                "Member must have length less than or equal to 256",
            ));
        }
    }
    Ok(())
}

/// PutParameter: a new parameter, or with `Overwrite` a new version of one.
pub fn put_parameter(
    ctx: &RequestContext,
    state: &AppState,
    req: PutParameterRequest,
) -> Result<PutParameterResult, ApiError> {
    check_writable_name(&req.name)?;
    if req.value.is_empty() {
        return Err(constraint(
            "",
            "value",
            "Member must have length greater than or equal to 1",
        ));
    }
    if let Some(data_type) = &req.data_type
        && !matches!(
            data_type.as_str(),
            "text" | "aws:ec2:image" | "aws:ssm:integration"
        )
    {
        return Err(validation(format!(
            "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )));
    }
    check_tags(&req.tags)?;
    let overwrite = req.overwrite.unwrap_or(false);
    if overwrite && !req.tags.is_empty() {
        return Err(validation(
            "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
        ));
    }
    let now = state.clock.now();
    let (user, _) = crate::services::sts::identity(
        &ctx.scope.account,
        &crate::services::sts::caller(ctx, state),
    );
    state.stores.with(&ctx.scope, |s| {
        let existing = s.ssm.parameters.get(&req.name);
        if existing.is_some() && !overwrite {
            return Err(SsmError::ParameterAlreadyExists.with(
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            ));
        }
        let previous = existing.map(StoredParameter::latest);
        let kind = match (&req.kind, previous) {
            (Some(k), _) => k.clone(),
            (None, Some(p)) => p.kind.clone(),
            (None, None) => {
                return Err(validation(
                    "A parameter type is required when you create a parameter.",
                ));
            }
        };
        let tier = choose_tier(
            req.tier.as_deref(),
            previous.map(|p| p.tier.as_str()),
            req.value.chars().count(),
        )?;
        let allowed_pattern = req
            .allowed_pattern
            .clone()
            .or_else(|| previous.and_then(|p| p.allowed_pattern.clone()));
        if let Some(pattern) = &allowed_pattern {
            check_pattern(pattern, &req.value)?;
        }
        let key_id = (kind == "SecureString").then(|| {
            req.key_id
                .clone()
                .or_else(|| previous.and_then(|p| p.key_id.clone()))
                .unwrap_or_else(|| DEFAULT_KEY_ID.to_owned())
        });
        // Like Type, an overwrite without DataType keeps the parameter's.
        let data_type = req
            .data_type
            .clone()
            .or_else(|| previous.map(|p| p.data_type.clone()))
            .unwrap_or_else(|| "text".into());
        let description = req
            .description
            .clone()
            .or_else(|| previous.and_then(|p| p.description.clone()));
        let version = previous.map_or(1, |p| p.version + 1);
        let entry = s
            .ssm
            .parameters
            .entry(req.name.clone())
            .or_insert_with(|| StoredParameter {
                versions: Vec::new(),
                tags: req.tags.clone(),
            });
        if entry.versions.len() >= MAX_VERSIONS {
            let oldest = &entry.versions[0];
            if !oldest.labels.is_empty() {
                return Err(SsmError::ParameterMaxVersionLimitExceeded.with(format!(
                    "You attempted to create a new version of {} by calling the PutParameter API with the overwrite flag. Version {}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.",
                    req.name, oldest.version
                )));
            }
            entry.versions.remove(0);
        }
        entry.versions.push(ParameterVersion {
            version,
            value: req.value.clone(),
            kind,
            key_id,
            description,
            allowed_pattern,
            tier: tier.clone(),
            data_type,
            last_modified: now,
            last_modified_user: user,
            labels: Vec::new(),
        });
        Ok(PutParameterResult { version, tier })
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParameterRequest {
    name: String,
    with_decryption: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParameterResult {
    parameter: Parameter,
}

/// GetParameter.
pub fn get_parameter(
    ctx: &RequestContext,
    state: &AppState,
    req: GetParameterRequest,
) -> Result<GetParameterResult, ApiError> {
    let parameter = lookup(
        state,
        &ctx.scope,
        &req.name,
        req.with_decryption.unwrap_or(false),
    )?;
    Ok(GetParameterResult { parameter })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NamesRequest {
    names: Vec<String>,
    with_decryption: Option<bool>,
}

/// Names lists hold 1 to 10 names.
fn check_names_len(names: &[String]) -> Result<(), ApiError> {
    if names.len() > 10 || names.is_empty() {
        let shown = format!("[{}]", names.join(", "));
        let bound = if names.is_empty() {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 10"
        };
        return Err(constraint(&shown, "names", bound));
    }
    Ok(())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersResult {
    parameters: Vec<Parameter>,
    invalid_parameters: Vec<String>,
}

/// GetParameters: the ones found, and the names that were not.
pub fn get_parameters(
    ctx: &RequestContext,
    state: &AppState,
    req: NamesRequest,
) -> Result<GetParametersResult, ApiError> {
    check_names_len(&req.names)?;
    let mut out = GetParametersResult {
        parameters: Vec::new(),
        invalid_parameters: Vec::new(),
    };
    for name in &req.names {
        match lookup(
            state,
            &ctx.scope,
            name,
            req.with_decryption.unwrap_or(false),
        ) {
            Ok(p) => out.parameters.push(p),
            Err(e) if e.code == "ParameterNotFound" || e.code == "ParameterVersionNotFound" => {
                out.invalid_parameters.push(name.clone());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameRequest {
    name: String,
}

/// DeleteParameter: every version and its tags.
pub fn delete_parameter(
    ctx: &RequestContext,
    state: &AppState,
    req: NameRequest,
) -> Result<(), ApiError> {
    check_name(&req.name)?;
    state.stores.with(&ctx.scope, |s| {
        s.ssm
            .parameters
            .remove(&req.name)
            .map(|_| ())
            .ok_or_else(not_found)
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteParametersResult {
    deleted_parameters: Vec<String>,
    invalid_parameters: Vec<String>,
}

/// DeleteParameters: deletes what exists, lists what did not.
pub fn delete_parameters(
    ctx: &RequestContext,
    state: &AppState,
    req: NamesRequest,
) -> Result<DeleteParametersResult, ApiError> {
    check_names_len(&req.names)?;
    let mut out = DeleteParametersResult {
        deleted_parameters: Vec::new(),
        invalid_parameters: Vec::new(),
    };
    state.stores.with(&ctx.scope, |s| {
        for name in &req.names {
            if s.ssm.parameters.remove(name).is_some() {
                out.deleted_parameters.push(name.clone());
            } else {
                out.invalid_parameters.push(name.clone());
            }
        }
    });
    Ok(out)
}
