//! Tags of Classic load balancers: AddTags, RemoveTags, DescribeTags, and the checks
//! CreateLoadBalancer shares.

use serde::{Deserialize, Serialize};

use super::errors::ElbError;
use super::{not_found, validation, with_lb};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// Tags per load balancer.
const MAX_TAGS: usize = 10;

/// A tag as given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagInput {
    key: String,
    value: Option<String>,
}

/// Check tags to add to a load balancer that has `existing` other keys.
pub fn check_new_tags(
    tags: &[TagInput],
    existing: usize,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 || t.key.starts_with("aws:") {
            return Err(validation(format!("Invalid tag key: {:?}", t.key)));
        }
        let value = t.value.clone().unwrap_or_default();
        if value.chars().count() > 256 {
            return Err(validation(format!("Invalid tag value for key {}", t.key)));
        }
        if out.iter().any(|(k, _)| k == &t.key) {
            return Err(ElbError::DuplicateTagKeys
                .with(format!("Tag key {} is given more than once", t.key)));
        }
        out.push((t.key.clone(), value));
    }
    if existing + out.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    Ok(out)
}

/// The input of AddTags, RemoveTags and DescribeTags.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagsInput {
    load_balancer_names: Vec<String>,
    tags: Vec<TagInput>,
}

/// AddTags (one load balancer per call, as the API documents).
pub fn add_tags(ctx: &RequestContext, state: &AppState, req: TagsInput) -> Result<(), ApiError> {
    if req.load_balancer_names.len() != 1 {
        return Err(validation("AddTags takes exactly one load balancer name."));
    }
    with_lb(state, &ctx.scope, &req.load_balancer_names[0], |lb, _| {
        let new = check_new_tags(&req.tags, 0)?;
        let added = new.iter().filter(|(k, _)| !lb.tags.contains_key(k)).count();
        if lb.tags.len() + added > MAX_TAGS {
            return Err(too_many_tags());
        }
        lb.tags.extend(new);
        Ok(())
    })
}

/// RemoveTags.
pub fn remove_tags(ctx: &RequestContext, state: &AppState, req: TagsInput) -> Result<(), ApiError> {
    if req.load_balancer_names.len() != 1 {
        return Err(validation(
            "RemoveTags takes exactly one load balancer name.",
        ));
    }
    with_lb(state, &ctx.scope, &req.load_balancer_names[0], |lb, _| {
        for t in &req.tags {
            lb.tags.shift_remove(&t.key);
        }
        Ok(())
    })
}

/// `TagDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagDescriptionOut {
    load_balancer_name: String,
    tags: Vec<TagOut>,
}

/// `Tag`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagOut {
    key: String,
    value: String,
}

/// DescribeTags' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTagsOutput {
    tag_descriptions: Vec<TagDescriptionOut>,
}

/// DescribeTags (up to 20 load balancers).
pub fn describe_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: TagsInput,
) -> Result<DescribeTagsOutput, ApiError> {
    if req.load_balancer_names.is_empty() || req.load_balancer_names.len() > 20 {
        return Err(validation(
            "DescribeTags takes between 1 and 20 load balancer names.",
        ));
    }
    state.stores.with(&ctx.scope, |s| {
        let mut out = Vec::new();
        for n in &req.load_balancer_names {
            let lb = s.elb.load_balancers.get(n).ok_or_else(|| not_found(n))?;
            out.push(TagDescriptionOut {
                load_balancer_name: lb.name.clone(),
                tags: lb
                    .tags
                    .iter()
                    .map(|(k, v)| TagOut {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
            });
        }
        Ok(DescribeTagsOutput {
            tag_descriptions: out,
        })
    })
}

fn too_many_tags() -> ApiError {
    ElbError::TooManyTags.with(format!("A load balancer can have at most {MAX_TAGS} tags."))
}
