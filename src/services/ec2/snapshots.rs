//! Snapshots: DescribeSnapshots and DeleteSnapshot (CreateImage and CopyImage make them).

use serde::{Deserialize, Serialize};

use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::store::Snapshot;
use super::views::TagsOut;
use super::{dry_run_ok, paginate, tag_filter_values, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::{Reply, Sent};
use crate::state::{AppState, Topic};

/// DescribeSnapshots' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeSnapshotsRequest {
    max_results: Option<i64>,
    next_token: Option<String>,
    owner_ids: Vec<String>,
    snapshot_ids: Vec<String>,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// `Snapshot` (members in model order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SnapshotOut<'a> {
    tags: TagsOut<'a>,
    storage_tier: &'static str,
    snapshot_id: &'a str,
    volume_id: &'a str,
    state: &'a str,
    start_time: Timestamp,
    progress: &'static str,
    owner_id: &'a str,
    description: &'a str,
    volume_size: i64,
    encrypted: bool,
}

/// `DescribeSnapshotsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeSnapshotsOut<'a> {
    next_token: Option<String>,
    snapshots: Vec<SnapshotOut<'a>>,
}

/// DescribeSnapshots (this account's snapshots).
pub fn describe_snapshots(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeSnapshotsRequest,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
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
    with_store(ctx, state, |s| {
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
        let list: Vec<(&Snapshot, &str)> = s
            .snapshots
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
            .collect();
        let (page, next_token) =
            paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
        let snapshots = page
            .into_iter()
            .map(|(n, state)| SnapshotOut {
                tags: TagsOut(s.tags_of(&n.id)),
                storage_tier: "standard",
                snapshot_id: &n.id,
                volume_id: &n.volume_id,
                state,
                start_time: Timestamp(n.start_time),
                progress: if state == "completed" { "100%" } else { "0%" },
                owner_id: &n.owner_id,
                description: &n.description,
                volume_size: n.volume_size,
                encrypted: false,
            })
            .collect();
        reply.send(&DescribeSnapshotsOut {
            next_token,
            snapshots,
        })
    })
}

/// DeleteSnapshot's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteSnapshotRequest {
    snapshot_id: String,
    dry_run: bool,
}

/// DeleteSnapshot: refused while a registered image uses it.
pub fn delete_snapshot(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteSnapshotRequest,
) -> Result<(), ApiError> {
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
    Ok(())
}
