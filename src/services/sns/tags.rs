//! Tags: TagResource, UntagResource, ListTagsForResource. SNS tags only topics.

use serde::{Deserialize, Serialize};

use super::errors::SnsError;
use super::invalid;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// Tags per topic.
pub(crate) const MAX_TAGS: usize = 50;

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    key: String,
    value: String,
}

/// Tag keys of 1–128 characters, values of at most 256.
pub(crate) fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(invalid("Duplicated keys are not allowed."));
        }
        if tag.key.is_empty() || tag.key.chars().count() > 128 {
            return Err(invalid(
                "Tags Reason: Tag keys must be between 1 and 128 characters",
            ));
        }
        if tag.value.chars().count() > 256 {
            return Err(invalid(
                "Tags Reason: Tag values must be at most 256 characters",
            ));
        }
    }
    Ok(())
}

fn merge_tags(existing: &mut Vec<Tag>, new: Vec<Tag>) {
    for tag in new {
        match existing.iter_mut().find(|t| t.key == tag.key) {
            Some(old) => old.value = tag.value,
            None => existing.push(tag),
        }
    }
}

/// More than 50 tags on a topic.
pub(crate) fn tag_limit() -> ApiError {
    SnsError::TagLimitExceeded
        .with("Could not complete request: tag quota of per resource exceeded")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    resource_arn: String,
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsInput {
    resource_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOutput {
    tags: Vec<Tag>,
}

fn resource_not_found() -> ApiError {
    SnsError::ResourceNotFound.with("Resource does not exist")
}

/// Run `f` on the tags of the topic `resource_arn` names in the caller's scope.
fn with_tags<R>(
    ctx: &RequestContext,
    state: &AppState,
    resource_arn: &str,
    f: impl FnOnce(&mut Vec<Tag>) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    match super::topic_arn_parts(resource_arn) {
        Some((scope, _)) if scope == ctx.scope => {}
        Some(_) => return Err(resource_not_found()),
        None => return Err(invalid("ResourceArn")),
    }
    state.stores.with(&ctx.scope, |s| {
        let topic = s
            .sns
            .topics
            .get_mut(resource_arn)
            .ok_or_else(resource_not_found)?;
        f(&mut topic.tags)
    })
}

/// TagResource: adds or overwrites tags; at most 50 per topic, all or nothing.
pub fn tag_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: TagResourceInput,
) -> Result<(), ApiError> {
    check_tags(&req.tags)?;
    with_tags(ctx, state, &req.resource_arn, |tags| {
        let mut merged = tags.clone();
        merge_tags(&mut merged, req.tags);
        if merged.len() > MAX_TAGS {
            return Err(tag_limit());
        }
        *tags = merged;
        Ok(())
    })?;
    Ok(())
}

/// UntagResource: removes the named keys; unknown keys are ignored.
pub fn untag_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: UntagResourceInput,
) -> Result<(), ApiError> {
    with_tags(ctx, state, &req.resource_arn, |tags| {
        tags.retain(|t| !req.tag_keys.contains(&t.key));
        Ok(())
    })?;
    Ok(())
}

/// ListTagsForResource.
pub fn list_tags_for_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: ListTagsInput,
) -> Result<ListTagsOutput, ApiError> {
    let tags = with_tags(ctx, state, &req.resource_arn, |tags| Ok(tags.clone()))?;
    Ok(ListTagsOutput { tags })
}
