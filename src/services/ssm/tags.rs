//! Tags on parameters: AddTagsToResource, ListTagsForResource, RemoveTagsFromResource.
//! Only `ResourceType=Parameter` exists in Updraft; the resource id is the parameter's name.

use serde::{Deserialize, Serialize};

use super::errors::SsmError;
use super::parameters::check_tags;
use super::{StoredParameter, Tag};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddTagsToResourceRequest {
    resource_type: String,
    resource_id: String,
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceRequest {
    resource_type: String,
    resource_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceResult {
    tag_list: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveTagsFromResourceRequest {
    resource_type: String,
    resource_id: String,
    tag_keys: Vec<String>,
}

/// Run `f` on the parameter a tagging request names.
fn with_parameter<R>(
    ctx: &RequestContext,
    state: &AppState,
    resource_type: &str,
    resource_id: &str,
    f: impl FnOnce(&mut StoredParameter) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    if resource_type != "Parameter" {
        return Err(SsmError::InvalidResourceType.with(format!(
            "Updraft keeps no {resource_type} resources: only Parameter can be tagged."
        )));
    }
    state.stores.with(&ctx.scope, |s| {
        let param = s
            .ssm
            .parameters
            .get_mut(resource_id)
            .ok_or_else(|| SsmError::InvalidResourceId.with(""))?;
        f(param)
    })
}

/// AddTagsToResource: adds or overwrites; at most 50 tags per parameter, all or nothing.
pub fn add_tags_to_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: AddTagsToResourceRequest,
) -> Result<(), ApiError> {
    check_tags(&req.tags)?;
    with_parameter(ctx, state, &req.resource_type, &req.resource_id, |p| {
        let mut tags = p.tags.clone();
        for tag in req.tags {
            match tags.iter_mut().find(|t| t.key == tag.key) {
                Some(old) => old.value = tag.value,
                None => tags.push(tag),
            }
        }
        check_tags(&tags)?;
        p.tags = tags;
        Ok(())
    })
}

/// ListTagsForResource.
pub fn list_tags_for_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResult, ApiError> {
    let tag_list = with_parameter(ctx, state, &req.resource_type, &req.resource_id, |p| {
        Ok(p.tags.clone())
    })?;
    Ok(ListTagsForResourceResult { tag_list })
}

/// RemoveTagsFromResource: keys the parameter lacks are ignored.
pub fn remove_tags_from_resource(
    ctx: &RequestContext,
    state: &AppState,
    req: RemoveTagsFromResourceRequest,
) -> Result<(), ApiError> {
    with_parameter(ctx, state, &req.resource_type, &req.resource_id, |p| {
        p.tags.retain(|t| !req.tag_keys.contains(&t.key));
        Ok(())
    })
}
