//! Group tags: CreateOrUpdateTags, DeleteTags, DescribeTags. Tags with `PropagateAtLaunch`
//! are copied onto instances the group launches afterwards (by the reconciler).

use serde::{Deserialize, Serialize};

use super::describe::page;
use super::errors::AutoScalingError;
use super::groups::TagIn;
use super::store::{GroupTag, group_not_found};
use super::validation;
use super::views::TagOut;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagsInput {
    tags: Vec<TagIn>,
}

fn resource(t: &TagIn) -> Result<&str, ApiError> {
    if let Some(rt) = t.resource_type.as_deref()
        && rt != "auto-scaling-group"
    {
        return Err(validation(format!(
            "Invalid resource type: {rt}. Valid values are auto-scaling-group"
        )));
    }
    t.resource_id
        .as_deref()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| validation("ResourceId is required for a tag."))
}

/// CreateOrUpdateTags: all checked first, then applied.
pub fn create_or_update_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: TagsInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let a = &mut s.autoscaling;
        for t in &req.tags {
            let r = resource(t)?;
            a.group(r)?;
            super::groups::group_tags(r, std::slice::from_ref(t))?;
        }
        for t in &req.tags {
            let r = resource(t)?;
            let g = a.group_mut(r)?;
            let tag = GroupTag {
                key: t.key.clone(),
                value: t.value.clone().unwrap_or_default(),
                propagate_at_launch: t.propagate_at_launch.unwrap_or(false),
            };
            match g.tags.iter_mut().find(|o| o.key == tag.key) {
                Some(o) => *o = tag,
                None => g.tags.push(tag),
            }
            if g.tags.len() > 50 {
                return Err(AutoScalingError::LimitExceeded
                    .with("The number of tags for the AutoScalingGroup exceeds the limit of 50"));
            }
        }
        Ok(())
    })
}

/// DeleteTags (a tag that does not exist is no error; an unknown group is).
pub fn delete_tags(ctx: &RequestContext, state: &AppState, req: TagsInput) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let a = &mut s.autoscaling;
        for t in &req.tags {
            a.group(resource(t)?)?;
        }
        for t in &req.tags {
            let g = a
                .groups
                .get_mut(resource(t)?)
                .ok_or_else(|| group_not_found(""))?;
            g.tags.retain(|o| {
                !(o.key == t.key
                    && t.value
                        .as_ref()
                        .is_none_or(|v| v.is_empty() || *v == o.value))
            });
        }
        Ok(())
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct FilterIn {
    name: String,
    values: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    filters: Vec<FilterIn>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// DescribeTags with filters `auto-scaling-group`, `key`, `value`, `propagate-at-launch`
/// (values OR within a filter, AND across filters).
pub fn describe_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<TagsOut, ApiError> {
    for f in &req.filters {
        if !matches!(
            f.name.as_str(),
            "auto-scaling-group" | "key" | "value" | "propagate-at-launch"
        ) {
            return Err(validation(format!(
                "Filter type {} is not correct. Allowed Filter types are: auto-scaling-group key value propagate-at-launch",
                f.name
            )));
        }
    }
    let rows: Vec<TagOut> = state.stores.with(&ctx.scope, |s| {
        let mut rows = Vec::new();
        for g in s.autoscaling.groups.values() {
            for t in &g.tags {
                let ok = req.filters.iter().all(|f| {
                    let field = match f.name.as_str() {
                        "auto-scaling-group" => g.name.clone(),
                        "key" => t.key.clone(),
                        "value" => t.value.clone(),
                        _ => t.propagate_at_launch.to_string(),
                    };
                    f.values.iter().any(|v| v.eq_ignore_ascii_case(&field))
                });
                if ok {
                    rows.push(TagOut::new(
                        &g.name,
                        &t.key,
                        &t.value,
                        t.propagate_at_launch,
                    ));
                }
            }
        }
        rows
    });
    let (tags, next_token) = page(rows, req.max_records, req.next_token.as_deref(), 50)?;
    Ok(TagsOut { tags, next_token })
}

/// `TagsType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsOut {
    tags: Vec<TagOut>,
    next_token: Option<String>,
}
