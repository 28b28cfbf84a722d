//! TagResource, UntagResource and ListTagsForResource for alarm ARNs.

use serde::{Deserialize, Serialize};

use super::anomaly::Empty;
use super::errors::CloudWatchError;
use super::{alarm_arn, invalid_value};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

const MAX_TAGS: usize = 50;

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

fn not_found(arn: &str) -> ApiError {
    // UNVERIFIED wording; the code and status are the modelled ResourceNotFoundException.
    CloudWatchError::ResourceNotFoundException.with(format!("The resource {arn} does not exist."))
}

/// Run `f` on the tags of the alarm `arn` names in this scope.
fn with_tags<R>(
    ctx: &RequestContext,
    state: &AppState,
    arn: &str,
    f: impl FnOnce(&mut Vec<Tag>) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let name = arn
        .rsplit_once(":alarm:")
        .map(|(_, n)| n)
        .filter(|n| alarm_arn(&ctx.scope, n) == arn)
        .ok_or_else(|| not_found(arn))?;
    state.stores.with(&ctx.scope, |s| {
        let cw = &mut s.cloudwatch;
        if let Some(a) = cw.alarms.get_mut(name) {
            f(&mut a.tags)
        } else if let Some(c) = cw.composites.get_mut(name) {
            f(&mut c.tags)
        } else {
            Err(not_found(arn))
        }
    })
}

/// `TagResourceInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    tags: Vec<Tag>,
}

/// TagResource: add or overwrite tags (at most 50 in all).
pub fn tag_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: TagResourceInput,
) -> Result<Empty, ApiError> {
    if let Some(t) = req
        .tags
        .iter()
        .find(|t| t.key.is_empty() || t.key.chars().count() > 128 || t.value.chars().count() > 256)
    {
        return Err(invalid_value(format!("The tag {} is invalid.", t.key)));
    }
    with_tags(ctx, state, &req.resource_arn, |tags| {
        let mut merged = tags.clone();
        for t in req.tags {
            match merged.iter_mut().find(|x| x.key == t.key) {
                Some(x) => x.value = t.value,
                None => merged.push(t),
            }
        }
        if merged.len() > MAX_TAGS {
            return Err(CloudWatchError::LimitExceededException
                .with(format!("A resource can have at most {MAX_TAGS} tags.")));
        }
        *tags = merged;
        Ok(())
    })?;
    Ok(Empty {})
}

/// `UntagResourceInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
    tag_keys: Vec<String>,
}

/// UntagResource.
pub fn untag_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: UntagResourceInput,
) -> Result<Empty, ApiError> {
    with_tags(ctx, state, &req.resource_arn, |tags| {
        tags.retain(|t| !req.tag_keys.contains(&t.key));
        Ok(())
    })?;
    Ok(Empty {})
}

/// `ListTagsForResourceInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: String,
}

/// `ListTagsForResourceOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceOutput {
    tags: Vec<Tag>,
}

/// ListTagsForResource.
pub fn list_tags_for_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: ListTagsForResourceInput,
) -> Result<ListTagsForResourceOutput, ApiError> {
    let tags = with_tags(ctx, state, &req.resource_arn, |tags| Ok(tags.clone()))?;
    Ok(ListTagsForResourceOutput { tags })
}
