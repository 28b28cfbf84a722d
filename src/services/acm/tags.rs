//! Tags on certificates: AddTagsToCertificate, ListTagsForCertificate,
//! RemoveTagsFromCertificate.

use serde::{Deserialize, Serialize};

use super::{StoredCertificate, Tag, check_arn, check_tags, not_found};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsRequest {
    certificate_arn: String,
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsRequest {
    certificate_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsResponse {
    tags: Vec<Tag>,
}

fn with_certificate<R>(
    ctx: &RequestContext,
    state: &AppState,
    arn: &str,
    f: impl FnOnce(&mut StoredCertificate) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    check_arn(&ctx.scope, arn)?;
    state.stores.with(&ctx.scope, |s| {
        let c = super::certs_mut(s)
            .get_mut(arn)
            .ok_or_else(|| not_found(arn))?;
        f(c)
    })
}

/// AddTagsToCertificate: adds or overwrites, at most 50 tags in all (all or nothing).
pub fn add_tags_to_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: TagsRequest,
) -> Result<(), ApiError> {
    check_tags(&req.tags)?;
    with_certificate(ctx, state, &req.certificate_arn, |c| {
        let mut tags = c.tags.clone();
        for tag in req.tags {
            match tags.iter_mut().find(|t| t.key == tag.key) {
                Some(old) => old.value = tag.value,
                None => tags.push(tag),
            }
        }
        check_tags(&tags)?;
        c.tags = tags;
        Ok(())
    })
}

/// ListTagsForCertificate.
pub fn list_tags_for_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: ListTagsRequest,
) -> Result<ListTagsResponse, ApiError> {
    let tags = with_certificate(ctx, state, &req.certificate_arn, |c| Ok(c.tags.clone()))?;
    Ok(ListTagsResponse { tags })
}

/// RemoveTagsFromCertificate: a tag goes when its key matches and, if the request gives a
/// value, its value too.
pub fn remove_tags_from_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: TagsRequest,
) -> Result<(), ApiError> {
    check_tags(&req.tags)?;
    with_certificate(ctx, state, &req.certificate_arn, |c| {
        c.tags.retain(|t| {
            !req.tags
                .iter()
                .any(|r| r.key == t.key && (r.value.is_none() || r.value == t.value))
        });
        Ok(())
    })
}
