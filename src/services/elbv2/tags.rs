//! Tags of load balancers, target groups, listeners and rules: AddTags, RemoveTags,
//! DescribeTags, and the `Tags` parameter of the Create calls.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::errors::Elbv2Error;
use super::errors::{
    listener_not_found, load_balancer_not_found, rule_not_found, target_group_not_found, validation,
};
use super::store::Elbv2Store;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// Tags per resource, as AWS limits them.
pub const MAX_TAGS: usize = 50;

/// One tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Key, 1–128 characters, not starting with `aws:`.
    pub key: String,
    /// Value, 0–256 characters.
    #[serde(default)]
    pub value: Option<String>,
}

/// Check a tag list given to a Create call or AddTags.
pub fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    let mut seen: Vec<&str> = Vec::new();
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 {
            return Err(validation(format!(
                "Tag key '{}' must be between 1 and 128 characters",
                t.key
            )));
        }
        if t.key.starts_with("aws:") {
            return Err(validation(format!(
                "Tag key '{}' cannot start with 'aws:'",
                t.key
            )));
        }
        if t.value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return Err(validation(format!(
                "The value of tag '{}' must be at most 256 characters",
                t.key
            )));
        }
        if seen.contains(&t.key.as_str()) {
            return Err(
                Elbv2Error::DuplicateTagKeys.with(format!("Tag key '{}' is duplicated", t.key))
            );
        }
        seen.push(&t.key);
    }
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    Ok(())
}

fn too_many_tags() -> ApiError {
    Elbv2Error::TooManyTags.with(format!("A resource can have at most '{MAX_TAGS}' tags"))
}

/// Set tags on a resource (Create calls, after the resource exists).
pub fn set_tags(store: &mut Elbv2Store, arn: &str, tags: &[Tag]) {
    if tags.is_empty() {
        return;
    }
    let entry = store.tags.entry(arn.to_owned()).or_default();
    for t in tags {
        entry.insert(t.key.clone(), t.value.clone().unwrap_or_default());
    }
}

/// Check that a resource ARN names something that exists, with the right NotFound error.
fn check_exists(store: &Elbv2Store, arn: &str) -> Result<(), ApiError> {
    let (found, missing): (bool, fn() -> ApiError) = if arn.contains(":loadbalancer/") {
        (
            store.load_balancers.contains_key(arn),
            load_balancer_not_found,
        )
    } else if arn.contains(":targetgroup/") {
        (
            store.target_groups.contains_key(arn),
            target_group_not_found,
        )
    } else if arn.contains(":listener/") {
        (store.listeners.contains_key(arn), listener_not_found)
    } else if arn.contains(":listener-rule/") {
        (store.rules.contains_key(arn), rule_not_found)
    } else {
        return Err(validation(format!("'{arn}' is not a valid resource ARN")));
    };
    if found { Ok(()) } else { Err(missing()) }
}

/// The input of add_tags.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddTagsInput {
    resource_arns: Vec<String>,
    tags: Vec<Tag>,
}

/// AddTags: add or overwrite tags on up to 20 resources; all or nothing.
pub fn add_tags(ctx: &RequestContext, state: &AppState, req: AddTagsInput) -> Result<(), ApiError> {
    check_tags(&req.tags)?;
    if req.resource_arns.len() > 20 {
        return Err(validation("You can tag at most 20 resources at a time"));
    }
    state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        for arn in &req.resource_arns {
            check_exists(store, arn)?;
            let existing = store.tags.get(arn);
            let after = existing.map_or(0, IndexMap::len)
                + req
                    .tags
                    .iter()
                    .filter(|t| existing.is_none_or(|e| !e.contains_key(&t.key)))
                    .count();
            if after > MAX_TAGS {
                return Err(too_many_tags());
            }
        }
        for arn in &req.resource_arns {
            set_tags(store, arn, &req.tags);
        }
        Ok(())
    })
}

/// The input of remove_tags.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveTagsInput {
    resource_arns: Vec<String>,
    tag_keys: Vec<String>,
}

/// RemoveTags: remove keys from resources (absent keys are ignored).
pub fn remove_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: RemoveTagsInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        for arn in &req.resource_arns {
            check_exists(store, arn)?;
        }
        for arn in &req.resource_arns {
            if let Some(tags) = store.tags.get_mut(arn) {
                for k in &req.tag_keys {
                    tags.shift_remove(k);
                }
            }
        }
        Ok(())
    })
}

/// The input of describe_tags.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTagsInput {
    resource_arns: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagDescription {
    resource_arn: String,
    tags: Vec<Tag>,
}

/// DescribeTags' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTagsOutput {
    tag_descriptions: Vec<TagDescription>,
}

/// DescribeTags: the tags of up to 20 resources.
pub fn describe_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeTagsInput,
) -> Result<DescribeTagsOutput, ApiError> {
    if req.resource_arns.len() > 20 {
        return Err(validation(
            "You can describe the tags of at most 20 resources at a time",
        ));
    }
    let out = state.stores.with(&ctx.scope, |s| {
        let store = &s.elbv2;
        req.resource_arns
            .iter()
            .map(|arn| {
                check_exists(store, arn)?;
                Ok(TagDescription {
                    resource_arn: arn.clone(),
                    tags: store
                        .tags
                        .get(arn)
                        .map(|t| {
                            t.iter()
                                .map(|(k, v)| Tag {
                                    key: k.clone(),
                                    value: Some(v.clone()),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })?;
    Ok(DescribeTagsOutput {
        tag_descriptions: out,
    })
}
