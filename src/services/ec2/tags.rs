//! Tags: CreateTags, DeleteTags and DescribeTags across every resource type.

use serde::{Deserialize, Serialize};

use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::{Tag, check_tag, dry_run_ok, paginate, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, Topic};

/// The resource type EC2 reports for an id, by its prefix.
pub fn resource_type(id: &str) -> &'static str {
    match id.rsplit_once('-').map_or("", |(p, _)| p) {
        "i" => "instance",
        "ami" => "image",
        "sg" => "security-group",
        "sgr" => "security-group-rule",
        "subnet" => "subnet",
        "vpc" => "vpc",
        "snap" => "snapshot",
        "key" => "key-pair",
        "lt" => "launch-template",
        "vol" => "volume",
        "eni" => "network-interface",
        "dopt" => "dhcp-options",
        _ => "",
    }
}

/// The `.NotFound` error EC2 gives for a missing resource of this id's type.
pub fn not_found(id: &str) -> ApiError {
    let (code, what) = match resource_type(id) {
        "instance" => (Ec2Error::InvalidInstanceIDNotFound, "instance ID"),
        "image" => (Ec2Error::InvalidAMIIDNotFound, "image id"),
        "security-group" => (Ec2Error::InvalidGroupNotFound, "security group"),
        "subnet" => (Ec2Error::InvalidSubnetIDNotFound, "subnet ID"),
        "vpc" => (Ec2Error::InvalidVpcIDNotFound, "vpc ID"),
        "snapshot" => (Ec2Error::InvalidSnapshotNotFound, "snapshot"),
        "launch-template" => (
            Ec2Error::InvalidLaunchTemplateIdNotFound,
            "launch template ID",
        ),
        "security-group-rule" => (
            Ec2Error::InvalidSecurityGroupRuleIdNotFound,
            "security group rule ID",
        ),
        "" => return Ec2Error::InvalidID.with(format!("The ID '{id}' is not valid")),
        _ => (Ec2Error::InvalidID, "ID"),
    };
    code.with(format!("The {what} '{id}' does not exist"))
}

/// CreateTags's and DeleteTags's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagsRequest {
    resources: Vec<String>,
    tags: Vec<Tag>,
    dry_run: bool,
}

/// CreateTags: add or overwrite; all resources must exist, else nothing changes.
pub fn create_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: TagsRequest,
) -> Result<(), ApiError> {
    for tag in &req.tags {
        check_tag(tag)?;
    }
    with_store(ctx, state, |s| {
        if let Some(missing) = req.resources.iter().find(|id| !s.exists(id)) {
            return Err(not_found(missing));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        for id in &req.resources {
            let pairs = req
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()));
            s.set_tags(id, pairs);
        }
        Ok(())
    })?;
    state.touched(Topic::Ec2);
    Ok(())
}

/// DeleteTags: a tag with a value is deleted only when the value matches; no tags deletes all.
pub fn delete_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: TagsRequest,
) -> Result<(), ApiError> {
    with_store(ctx, state, |s| {
        if let Some(missing) = req.resources.iter().find(|id| !s.exists(id)) {
            return Err(not_found(missing));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        for id in &req.resources {
            if req.tags.is_empty() {
                s.clear_tags(id);
            }
            for t in &req.tags {
                s.delete_tag(id, &t.key, t.value.as_deref());
            }
        }
        Ok(())
    })?;
    state.touched(Topic::Ec2);
    Ok(())
}

/// DescribeTags's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeTagsRequest {
    dry_run: bool,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// `TagDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagDescriptionOut {
    key: String,
    resource_id: String,
    resource_type: &'static str,
    value: String,
}

/// `DescribeTagsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTagsOut {
    next_token: Option<String>,
    tags: Vec<TagDescriptionOut>,
}

/// DescribeTags.
pub fn describe_tags(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeTagsRequest,
) -> Result<DescribeTagsOut, ApiError> {
    filters::check_names(
        &req.filters,
        &["key", "resource-id", "resource-type", "value"],
    )?;
    if req.dry_run {
        return Err(dry_run_ok());
    }
    let mut rows = with_store(ctx, state, |s| {
        let mut rows: Vec<(String, String, String)> = Vec::new();
        for (id, tags) in s.all_tags() {
            if !s.exists(id) {
                continue;
            }
            for (k, v) in tags {
                let rtype = resource_type(id);
                let ok = filters::matches_all(&req.filters, |f| match f {
                    "key" => vec![k.as_str()],
                    "value" => vec![v.as_str()],
                    "resource-id" => vec![id.as_str()],
                    "resource-type" => vec![rtype],
                    f => match f.strip_prefix("tag:") {
                        Some(key) => tags.get(key).map(String::as_str).into_iter().collect(),
                        None => vec![],
                    },
                });
                if ok {
                    rows.push((id.clone(), k.clone(), v.clone()));
                }
            }
        }
        rows
    });
    // The map has no order; AWS lists by resource id, then key.
    rows.sort();
    let (rows, next_token) = paginate(rows, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    let tags = rows
        .into_iter()
        .map(|(id, key, value)| TagDescriptionOut {
            key,
            resource_type: resource_type(&id),
            resource_id: id,
            value,
        })
        .collect();
    Ok(DescribeTagsOut { next_token, tags })
}
