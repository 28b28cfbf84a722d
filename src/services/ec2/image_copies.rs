//! DeregisterImage and CopyImage: the end of an image and its copies across regions.

use serde::{Deserialize, Serialize};

use super::errors::Ec2Error;
use super::images::{ImageIdOut, check_name, check_unique_name, own_image, visible};
use super::store::{Image, Snapshot};
use super::{TagSpecification, check_id_shape, dry_run_ok, spec_tags, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, Scope, Topic};

/// DeregisterImage's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeregisterImageRequest {
    image_id: String,
    delete_associated_snapshots: bool,
    dry_run: bool,
}

/// `DeregisterImageResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeregisterImageOut {
    r#return: bool,
    /// Only when the request asked for the snapshots to go.
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_snapshot_results: Option<Vec<DeleteSnapshotResult>>,
}

/// `DeleteSnapshotReturnCode`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSnapshotResult {
    snapshot_id: String,
    return_code: &'static str,
}

/// DeregisterImage (its snapshots stay unless `DeleteAssociatedSnapshots`).
pub fn deregister_image(
    ctx: &RequestContext,
    state: &AppState,
    req: DeregisterImageRequest,
) -> Result<DeregisterImageOut, ApiError> {
    let account = ctx.scope.account.clone();
    let deleted = with_store(ctx, state, |s| {
        let image = own_image(s, &req.image_id, &account)?;
        let mut snapshots: Vec<String> = image
            .block_devices
            .iter()
            .filter_map(|m| m.spec.snapshot_id.clone())
            .collect();
        snapshots.extend(image.snapshot_id.clone());
        snapshots.dedup();
        if req.dry_run {
            return Err(dry_run_ok());
        }
        s.images.shift_remove(&req.image_id);
        s.clear_tags(&req.image_id);
        let mut deleted = Vec::new();
        if req.delete_associated_snapshots {
            for snap in snapshots {
                if s.snapshots.shift_remove(&snap).is_some() {
                    s.clear_tags(&snap);
                    deleted.push(DeleteSnapshotResult {
                        snapshot_id: snap,
                        return_code: "success",
                    });
                }
            }
        }
        Ok(deleted)
    })?;
    tracing::info!(image_id = %req.image_id, "image deregistered");
    state.touched(Topic::Ec2);
    Ok(DeregisterImageOut {
        r#return: true,
        delete_snapshot_results: req.delete_associated_snapshots.then_some(deleted),
    })
}

/// CopyImage's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CopyImageRequest {
    name: String,
    description: Option<String>,
    source_image_id: String,
    source_region: String,
    copy_image_tags: bool,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// CopyImage: from any region of the same account into the request's region.
pub fn copy_image(
    ctx: &RequestContext,
    state: &AppState,
    req: CopyImageRequest,
) -> Result<ImageIdOut, ApiError> {
    check_name(&req.name)?;
    check_id_shape(&req.source_image_id, "ami", Ec2Error::InvalidAMIIDMalformed)?;
    if !super::regions::REGIONS
        .iter()
        .any(|(r, _)| *r == req.source_region)
    {
        return Err(Ec2Error::InvalidRegion.with(format!(
            "The source region '{}' does not exist",
            req.source_region
        )));
    }
    let image_tags = spec_tags(&req.tag_specifications, "image")?;
    let account = ctx.scope.account.clone();
    let source_scope = Scope::new(account.clone(), req.source_region.clone());
    // Read the source first (its own lock pass), then write the copy: never two scopes at once.
    let (source, source_tags) = state.stores.with(&source_scope, |stores| {
        stores.ec2.ensure_defaults(&source_scope, state);
        let s = &stores.ec2;
        match s
            .images
            .get(&req.source_image_id)
            .filter(|i| visible(i, &account))
        {
            Some(i) => Ok((i.clone(), s.tags_of(&i.id).clone())),
            None => Err(Ec2Error::InvalidAMIIDNotFound.with(format!(
                "The image id '[{}]' does not exist",
                req.source_image_id
            ))),
        }
    })?;
    if source.state != "available" {
        return Err(Ec2Error::IncorrectState.with(format!("Image {} is not available", source.id)));
    }
    let now = state.clock.now();
    let id = with_store(ctx, state, |s| {
        check_unique_name(s, &req.name, &account)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let image_id = state.ids.resource("ami");
        // Every snapshot of the source is copied; the copy's mappings point at the copies.
        let mut block_devices = source.block_devices.clone();
        let mut snap_id = None;
        for m in &mut block_devices {
            let Some(from) = m.spec.snapshot_id.clone() else {
                continue;
            };
            let copy = state.ids.resource("snap");
            s.snapshots.insert(
                copy.clone(),
                Snapshot {
                    id: copy.clone(),
                    volume_id: "vol-ffffffff".into(),
                    volume_size: m.spec.size,
                    state: "pending".into(),
                    start_time: now,
                    description: format!(
                        "Copied for DestinationAmi {image_id} from SourceAmi {} for SourceSnapshot {from}",
                        source.id
                    ),
                    owner_id: account.clone(),
                },
            );
            if m.device_name == source.root_device_name {
                snap_id = Some(copy.clone());
            }
            m.spec.snapshot_id = Some(copy);
        }
        s.images.insert(
            image_id.clone(),
            Image {
                id: image_id.clone(),
                name: req.name.clone(),
                description: req.description.clone().or(source.description.clone()),
                owner_id: account.clone(),
                owner_alias: None,
                state: "pending".into(),
                creation_date: now,
                public: false,
                public_catalog: false,
                snapshot_id: snap_id,
                block_devices,
                source_instance_id: None,
                source_image_id: Some(source.id.clone()),
                launch_permissions: Vec::new(),
                // Nothing to capture: the copy is ready once its time has passed.
                backend_done: true,
                reboot_source: false,
                ..source.clone()
            },
        );
        if req.copy_image_tags {
            s.set_tags(&image_id, source_tags.clone());
        }
        s.set_tags(&image_id, image_tags);
        Ok(image_id)
    })?;
    state.touched(Topic::Ec2);
    Ok(ImageIdOut { image_id: id })
}
