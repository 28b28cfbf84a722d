//! Snapshots: DescribeSnapshots and DeleteSnapshot (CreateImage and CopyImage make them).

use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::{dry_run_ok, paginate, tag_filter_values, tag_list, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::{parse_input, to_output};
use crate::state::{AppState, Topic};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeSnapshotsRequest {
    max_results: Option<i64>,
    next_token: Option<String>,
    owner_ids: Vec<String>,
    snapshot_ids: Vec<String>,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// DescribeSnapshots (this account's snapshots).
pub fn describe_snapshots(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeSnapshotsRequest = parse_input(input)?;
    filters::check_names(
        &req.filters,
        &[
            "description",
            "owner-id",
            "snapshot-id",
            "status",
            "tag-key",
            "tag-value",
            "volume-id",
            "volume-size",
        ],
    )?;
    let account = ctx.scope.account.clone();
    let list = with_store(ctx, state, |s| {
        if let Some(missing) = req
            .snapshot_ids
            .iter()
            .find(|id| !s.snapshots.contains_key(*id))
        {
            return Err(Ec2Error::InvalidSnapshotNotFound
                .with(format!("The snapshot '{missing}' does not exist.")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        Ok(s.snapshots
            .values()
            .filter(|n| req.snapshot_ids.is_empty() || req.snapshot_ids.contains(&n.id))
            .filter(|n| {
                req.owner_ids.is_empty()
                    || req
                        .owner_ids
                        .iter()
                        .any(|o| (o == "self" && n.owner_id == account) || *o == n.owner_id)
            })
            .map(|n| {
                // The lifecycle controller completes an image's root snapshot; the snapshots of
                // its other volumes complete with the image.
                let done = n.state == "pending"
                    && s.images.values().any(|i| {
                        i.state == "available"
                            && i.block_devices
                                .iter()
                                .any(|m| m.spec.snapshot_id.as_deref() == Some(n.id.as_str()))
                    });
                let state = if done { "completed" } else { n.state.as_str() };
                (n, state)
            })
            .filter(|(n, state)| {
                let tags = s.tags_of(&n.id);
                let size = n.volume_size.to_string();
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "description" => vec![n.description.as_str()],
                        "owner-id" => vec![n.owner_id.as_str()],
                        "snapshot-id" => vec![n.id.as_str()],
                        "status" => vec![*state],
                        "volume-id" => vec![n.volume_id.as_str()],
                        "volume-size" => vec![size.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|(n, state)| {
                json!({
                    "SnapshotId": n.id, "VolumeId": n.volume_id, "VolumeSize": n.volume_size,
                    "State": state, "StartTime": n.start_time, "Description": n.description,
                    "OwnerId": n.owner_id, "Encrypted": false, "StorageTier": "standard",
                    "Progress": if state == "completed" { "100%" } else { "0%" },
                    "Tags": to_output(&tag_list(s.tags_of(&n.id))).unwrap_or(Value::Null),
                })
            })
            .collect::<Vec<_>>())
    })?;
    let (list, next_token) = paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(json!({"Snapshots": list, "NextToken": next_token}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DeleteSnapshotRequest {
    snapshot_id: String,
    dry_run: bool,
}

/// DeleteSnapshot: refused while a registered image uses it.
pub fn delete_snapshot(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DeleteSnapshotRequest = parse_input(input)?;
    with_store(ctx, state, |s| {
        if !s.snapshots.contains_key(&req.snapshot_id) {
            return Err(Ec2Error::InvalidSnapshotNotFound.with(format!(
                "The snapshot '{}' does not exist.",
                req.snapshot_id
            )));
        }
        if let Some(image) = s.images.values().find(|i| {
            i.snapshot_id.as_deref() == Some(req.snapshot_id.as_str())
                || i.block_devices
                    .iter()
                    .any(|m| m.spec.snapshot_id.as_deref() == Some(req.snapshot_id.as_str()))
        }) {
            return Err(Ec2Error::InvalidSnapshotInUse.with(format!(
                "The snapshot {} is currently in use by {}",
                req.snapshot_id, image.id
            )));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        s.snapshots.shift_remove(&req.snapshot_id);
        s.clear_tags(&req.snapshot_id);
        Ok(())
    })?;
    state.touched(Topic::Ec2);
    Ok(json!({}))
}
