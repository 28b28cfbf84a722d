//! Launch templates: create, version, set the default, describe, delete. RunInstances (and
//! Auto Scaling) resolve `$Latest`/`$Default`/a number through [`resolve_version`].
//!
//! Template data is kept as the `RequestLaunchTemplateData` tree it came in as; its member
//! names are those of RunInstances, so a launch merges it with the request directly.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::errors::{Ec2Error, invalid, missing};
use super::filters::{self, Filter};
use super::launch_data::LaunchTemplateData;
use super::launch_template_views::{
    CreateVersionOut, DeleteVersionsOut, DeletedVersionOut, DescribeTemplatesOut,
    DescribeVersionsOut, LaunchTemplateOut, TemplateOut, VersionError, VersionOut,
};
use super::store::{Ec2Store, LaunchTemplate, LaunchTemplateVersion};
use super::{
    TagSpecification, check_id_shape, dry_run_ok, paginate, spec_tags, tag_filter_values,
    with_store,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

fn name_not_found() -> ApiError {
    Ec2Error::InvalidLaunchTemplateNameNotFoundException
        .with("At least one of the launch templates specified in the request does not exist.")
}

/// A template by id or name.
pub fn find<'a>(
    s: &'a Ec2Store,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<&'a LaunchTemplate, ApiError> {
    match (id, name) {
        (Some(id), _) => {
            check_id_shape(id, "lt", Ec2Error::InvalidLaunchTemplateIdMalformed)?;
            s.launch_templates.get(id).ok_or_else(|| {
                Ec2Error::InvalidLaunchTemplateIdNotFound.with(format!(
                    "The specified launch template, with template ID {id}, does not exist."
                ))
            })
        }
        (None, Some(name)) => s
            .launch_templates
            .values()
            .find(|t| t.name == name)
            .ok_or_else(name_not_found),
        (None, None) => Err(missing("LaunchTemplateName or LaunchTemplateId")),
    }
}

/// `$Latest`, `$Default` (also when absent) or a version number.
pub fn resolve_version(lt: &LaunchTemplate, version: Option<&str>) -> Result<i64, ApiError> {
    let n = match version.unwrap_or("$Default") {
        "$Latest" => lt.latest_version,
        "$Default" => lt.default_version,
        other => other.parse().map_err(|_| {
            Ec2Error::InvalidLaunchTemplateIdVersionNotFound.with(format!(
                "Could not find launch template version '{other}' for launch template {}.",
                lt.id
            ))
        })?,
    };
    if lt.versions.contains_key(&n) {
        Ok(n)
    } else {
        Err(
            Ec2Error::InvalidLaunchTemplateIdVersionNotFound.with(format!(
                "Could not find launch template version {n} for launch template {}.",
                lt.id
            )),
        )
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = (3..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "().-/_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Ec2Error::InvalidLaunchTemplateNameMalformedException.with("A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'",
        ))
    }
}

fn check_data(data: &LaunchTemplateData) -> Result<(), ApiError> {
    if let Some(image) = data.image_id.as_deref()
        && !image.starts_with("resolve:ssm:")
    {
        check_id_shape(image, "ami", Ec2Error::InvalidAMIIDMalformed)?;
    }
    if let Some(t) = data.instance_type.as_deref()
        && super::instance_types::find(t).is_none()
    {
        return Err(invalid(format!("Invalid value '{t}' for InstanceType.")));
    }
    Ok(())
}

/// The input of CreateLaunchTemplate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateLaunchTemplateRequest {
    launch_template_name: String,
    version_description: Option<String>,
    launch_template_data: LaunchTemplateData,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// CreateLaunchTemplate (version 1, the default).
pub fn create_launch_template(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateLaunchTemplateRequest,
) -> Result<LaunchTemplateOut, ApiError> {
    check_name(&req.launch_template_name)?;
    check_data(&req.launch_template_data)?;
    let tags = spec_tags(&req.tag_specifications, "launch-template")?;
    let now = state.clock.now();
    let out = with_store(ctx, state, |s| {
        if s.launch_templates
            .values()
            .any(|t| t.name == req.launch_template_name)
        {
            return Err(
                Ec2Error::InvalidLaunchTemplateNameAlreadyExistsException.with(format!(
                    "Launch template name already in use: {}",
                    req.launch_template_name
                )),
            );
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let id = state.ids.resource("lt");
        let version = LaunchTemplateVersion {
            number: 1,
            description: req.version_description.clone(),
            create_time: now,
            data: req.launch_template_data.clone(),
        };
        let lt = LaunchTemplate {
            id: id.clone(),
            name: req.launch_template_name.clone(),
            default_version: 1,
            latest_version: 1,
            create_time: now,
            created_by: format!("arn:aws:iam::{}:root", ctx.scope.account),
            versions: BTreeMap::from([(1, version)]),
        };
        s.launch_templates.insert(id.clone(), lt);
        s.set_tags(&id, tags);
        Ok(TemplateOut::new(s, &s.launch_templates[&id]))
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(LaunchTemplateOut {
        launch_template: out,
    })
}

/// The input of CreateLaunchTemplateVersion.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateLaunchTemplateVersionRequest {
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    source_version: Option<String>,
    version_description: Option<String>,
    launch_template_data: LaunchTemplateData,
    dry_run: bool,
}

/// CreateLaunchTemplateVersion (optionally on top of `SourceVersion`'s data).
pub fn create_launch_template_version(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateLaunchTemplateVersionRequest,
) -> Result<CreateVersionOut, ApiError> {
    check_data(&req.launch_template_data)?;
    let now = state.clock.now();
    let out = with_store(ctx, state, |s| {
        let lt = find(
            s,
            req.launch_template_id.as_deref(),
            req.launch_template_name.as_deref(),
        )?;
        let data = match &req.source_version {
            Some(v) => lt.versions[&resolve_version(lt, Some(v))?]
                .data
                .clone()
                .overlay(&req.launch_template_data),
            None => req.launch_template_data.clone(),
        };
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let id = lt.id.clone();
        let Some(lt) = s.launch_templates.get_mut(&id) else {
            return Err(name_not_found());
        };
        lt.latest_version += 1;
        let number = lt.latest_version;
        let version = LaunchTemplateVersion {
            number,
            description: req.version_description.clone(),
            create_time: now,
            data,
        };
        let out = VersionOut::new(lt, &version)?;
        lt.versions.insert(number, version);
        Ok(out)
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(CreateVersionOut {
        launch_template_version: out,
    })
}

/// The input of ModifyLaunchTemplate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ModifyLaunchTemplateRequest {
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    default_version: Option<String>,
    dry_run: bool,
}

/// ModifyLaunchTemplate: set the default version.
pub fn modify_launch_template(
    ctx: &RequestContext,
    state: &AppState,
    req: ModifyLaunchTemplateRequest,
) -> Result<LaunchTemplateOut, ApiError> {
    let out = with_store(ctx, state, |s| {
        let lt = find(
            s,
            req.launch_template_id.as_deref(),
            req.launch_template_name.as_deref(),
        )?;
        let version = match &req.default_version {
            Some(v) => Some(resolve_version(lt, Some(v))?),
            None => None,
        };
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let id = lt.id.clone();
        if let (Some(v), Some(lt)) = (version, s.launch_templates.get_mut(&id)) {
            lt.default_version = v;
        }
        Ok(TemplateOut::new(s, &s.launch_templates[&id]))
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(LaunchTemplateOut {
        launch_template: out,
    })
}

/// The input of DescribeLaunchTemplates.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeLaunchTemplatesRequest {
    launch_template_ids: Vec<String>,
    launch_template_names: Vec<String>,
    filters: Vec<Filter>,
    next_token: Option<String>,
    max_results: Option<i64>,
    dry_run: bool,
}

/// DescribeLaunchTemplates.
pub fn describe_launch_templates(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeLaunchTemplatesRequest,
) -> Result<DescribeTemplatesOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "create-time",
            "launch-template-name",
            "tag-key",
            "tag-value",
        ],
    )?;
    let list = with_store(ctx, state, |s| {
        for id in &req.launch_template_ids {
            find(s, Some(id), None)?;
        }
        for name in &req.launch_template_names {
            find(s, None, Some(name))?;
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        Ok(s.launch_templates
            .values()
            .filter(|t| {
                req.launch_template_ids.is_empty() || req.launch_template_ids.contains(&t.id)
            })
            .filter(|t| {
                req.launch_template_names.is_empty() || req.launch_template_names.contains(&t.name)
            })
            .filter(|t| {
                let tags = s.tags_of(&t.id);
                filters::matches_all(&req.filters, |f| {
                    if let Some(v) = tag_filter_values(tags, f) {
                        return v;
                    }
                    match f {
                        "launch-template-name" => vec![t.name.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|t| TemplateOut::new(s, t))
            .collect::<Vec<_>>())
    })?;
    let (launch_templates, next_token) =
        paginate(list, req.max_results, req.next_token.as_deref(), (1, 200))?;
    Ok(DescribeTemplatesOut {
        launch_templates,
        next_token,
    })
}

/// The input of DescribeLaunchTemplateVersions.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeLaunchTemplateVersionsRequest {
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    versions: Vec<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    filters: Vec<Filter>,
    dry_run: bool,
    resolve_alias: bool,
}

/// DescribeLaunchTemplateVersions (`$Latest`/`$Default`/numbers, Min/MaxVersion).
pub fn describe_launch_template_versions(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeLaunchTemplateVersionsRequest,
) -> Result<DescribeVersionsOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "is-default-version",
            "image-id",
            "instance-type",
            "key-name",
        ],
    )?;
    let mut list = with_store(ctx, state, |s| {
        let templates: Vec<&LaunchTemplate> =
            if req.launch_template_id.is_some() || req.launch_template_name.is_some() {
                vec![find(
                    s,
                    req.launch_template_id.as_deref(),
                    req.launch_template_name.as_deref(),
                )?]
            } else if req.versions.is_empty() {
                s.launch_templates.values().collect()
            } else {
                return Err(missing("LaunchTemplateName or LaunchTemplateId"));
            };
        let parse = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<i64>().ok());
        let (min, max) = (parse(&req.min_version), parse(&req.max_version));
        let mut out = Vec::new();
        for lt in templates {
            let wanted: Vec<i64> = if req.versions.is_empty() {
                lt.versions.keys().copied().collect()
            } else {
                req.versions
                    .iter()
                    .map(|v| resolve_version(lt, Some(v)))
                    .collect::<Result<_, _>>()?
            };
            for n in wanted {
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    continue;
                }
                let v = &lt.versions[&n];
                let (image, itype, key) = (
                    v.data.image_id.as_deref().unwrap_or(""),
                    v.data.instance_type.as_deref().unwrap_or(""),
                    v.data.key_name.as_deref().unwrap_or(""),
                );
                let default = (n == lt.default_version).to_string();
                if filters::matches_all(&req.filters, |f| match f {
                    "is-default-version" => vec![default.as_str()],
                    "image-id" => vec![image],
                    "instance-type" => vec![itype],
                    "key-name" => vec![key],
                    _ => vec![],
                }) {
                    out.push(VersionOut::new(lt, v)?);
                }
            }
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        Ok(out)
    })?;
    if req.resolve_alias {
        super::launch_refs::resolve_aliases(state, &ctx.scope, &mut list);
    }
    let (launch_template_versions, next_token) =
        paginate(list, req.max_results, req.next_token.as_deref(), (1, 200))?;
    Ok(DescribeVersionsOut {
        launch_template_versions,
        next_token,
    })
}

/// The input of DeleteLaunchTemplate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteLaunchTemplateRequest {
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    dry_run: bool,
}

/// DeleteLaunchTemplate (all its versions).
pub fn delete_launch_template(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteLaunchTemplateRequest,
) -> Result<LaunchTemplateOut, ApiError> {
    let out = with_store(ctx, state, |s| {
        let lt = find(
            s,
            req.launch_template_id.as_deref(),
            req.launch_template_name.as_deref(),
        )?;
        let out = TemplateOut::new(s, lt);
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let id = lt.id.clone();
        s.launch_templates.shift_remove(&id);
        s.clear_tags(&id);
        Ok(out)
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(LaunchTemplateOut {
        launch_template: out,
    })
}

/// The input of DeleteLaunchTemplateVersions.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteLaunchTemplateVersionsRequest {
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    versions: Vec<String>,
    dry_run: bool,
}

/// DeleteLaunchTemplateVersions: per-version results; the default version cannot go.
pub fn delete_launch_template_versions(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteLaunchTemplateVersionsRequest,
) -> Result<DeleteVersionsOut, ApiError> {
    let (ok, failed) = with_store(ctx, state, |s| {
        let lt = find(
            s,
            req.launch_template_id.as_deref(),
            req.launch_template_name.as_deref(),
        )?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let (id, name, default) = (lt.id.clone(), lt.name.clone(), lt.default_version);
        let Some(lt) = s.launch_templates.get_mut(&id) else {
            return Err(name_not_found());
        };
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        for v in &req.versions {
            let number = v.parse::<i64>().ok();
            let error = match number {
                Some(n) if n == default => Some((
                    "unexpectedError",
                    "Cannot delete the default version of a launch template.".to_owned(),
                )),
                Some(n) if lt.versions.remove(&n).is_some() => None,
                _ => Some((
                    "launchTemplateVersionDoesNotExist",
                    format!("The specified launch template version does not exist: {v}"),
                )),
            };
            let item = DeletedVersionOut {
                launch_template_id: id.clone(),
                launch_template_name: name.clone(),
                version_number: number,
                response_error: error.map(|(code, message)| VersionError { code, message }),
            };
            if item.response_error.is_none() {
                ok.push(item);
            } else {
                failed.push(item);
            }
        }
        Ok((ok, failed))
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(DeleteVersionsOut {
        successfully_deleted_launch_template_versions: ok,
        unsuccessfully_deleted_launch_template_versions: failed,
    })
}

/// Overlay a RunInstances input on launch template data: the request wins, tag
/// specifications add up.
pub(super) fn merge_template(mut data: Value, input: &Value) -> Value {
    let (Some(base), Some(over)) = (data.as_object_mut(), input.as_object()) else {
        return input.clone();
    };
    let template_tags = base.remove("TagSpecifications");
    for (k, v) in over {
        if k != "LaunchTemplate" {
            base.insert(k.clone(), v.clone());
        }
    }
    if let Some(Value::Array(mut tags)) = template_tags {
        if let Some(Value::Array(req_tags)) = over.get("TagSpecifications") {
            tags.extend(req_tags.iter().cloned());
        }
        base.insert("TagSpecifications".into(), Value::Array(tags));
    }
    data
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn request_overrides_template_and_tags_add_up() {
        let data = json!({"ImageId": "ami-1", "InstanceType": "t3.micro",
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "1"}]}]});
        let input = json!({"MinCount": 1, "MaxCount": 1, "InstanceType": "t3.small",
            "LaunchTemplate": {"LaunchTemplateName": "x"},
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "b", "Value": "2"}]}]});
        let merged = merge_template(data, &input);
        assert_eq!(merged["ImageId"], "ami-1");
        assert_eq!(merged["InstanceType"], "t3.small");
        assert_eq!(merged["TagSpecifications"].as_array().unwrap().len(), 2);
        assert!(merged.get("LaunchTemplate").is_none());
    }
}
