//! Images: CreateImage and DescribeImages. The region's public images (`image_catalog`),
//! DeregisterImage and CopyImage (`image_copies`), snapshots and image attributes have their
//! own modules.
//!
//! CreateImage records a `pending` image and a `pending` snapshot (and, without `NoReboot`,
//! asks for the instance to reboot); the lifecycle controller captures the instance on the
//! backend and makes both `available`/`completed` after [`IMAGE_SECONDS`].

use serde::{Deserialize, Serialize};

use super::block_devices::{Mapping, MappingOut};
use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::store::{Ec2Store, Image, InstanceState, Snapshot};
use super::views::TagsOut;
use super::{
    TagSpecification, check_id_shape, dry_run_ok, paginate, spec_tags, tag_filter_values,
    with_store,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::{Reply, Sent};
use crate::state::{AppState, Scope, Topic};

pub(super) use super::image_catalog::public_image;
pub use super::image_catalog::{
    AMAZON_OWNER, CANONICAL_OWNER, catalog_image, public_images, stable_id,
};

/// Virtual seconds from CreateImage/CopyImage to `available`.
pub const IMAGE_SECONDS: f64 = 20.0;
/// Images other accounts of `scope`'s region share with its account (launch permission or
/// public). They live in their owners' stores; a copy is taken under the lock, so call this
/// before taking the request's own scope.
pub fn shared_images(state: &AppState, scope: &Scope) -> Vec<Image> {
    let mut shared = Vec::new();
    state.stores.for_each(|other, stores| {
        if other.region != scope.region || other.account == scope.account {
            return;
        }
        shared.extend(
            stores
                .ec2
                .images
                .values()
                .filter(|i| !i.public_catalog && visible(i, &scope.account))
                .cloned(),
        );
    });
    shared
}

pub(super) fn visible(i: &Image, account: &str) -> bool {
    i.public || i.owner_id == account || i.launch_permissions.iter().any(|a| a == account)
}

/// `Image` (members in model order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImageOut<'a> {
    platform_details: &'a str,
    usage_operation: &'static str,
    block_device_mappings: Vec<MappingOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    ena_support: bool,
    hypervisor: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_owner_alias: Option<&'a str>,
    name: &'a str,
    root_device_name: &'a str,
    root_device_type: &'static str,
    sriov_net_support: &'static str,
    tags: TagsOut<'a>,
    virtualization_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_instance_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_image_id: Option<&'a str>,
    image_id: &'a str,
    image_location: String,
    state: &'a str,
    owner_id: &'a str,
    creation_date: String,
    public: bool,
    architecture: &'a str,
    image_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a str>,
}

fn image_out<'a>(s: &'a Ec2Store, i: &'a Image) -> ImageOut<'a> {
    ImageOut {
        platform_details: &i.platform_details,
        usage_operation: "RunInstances",
        block_device_mappings: i.block_devices.iter().map(Mapping::image_out).collect(),
        description: i.description.as_deref(),
        ena_support: true,
        hypervisor: "xen",
        image_owner_alias: i.owner_alias.as_deref(),
        name: &i.name,
        root_device_name: &i.root_device_name,
        root_device_type: "ebs",
        sriov_net_support: "simple",
        tags: TagsOut(s.tags_of(&i.id)),
        virtualization_type: "hvm",
        source_instance_id: i.source_instance_id.as_deref(),
        source_image_id: i.source_image_id.as_deref(),
        image_id: &i.id,
        image_location: format!(
            "{}/{}",
            i.owner_alias.as_deref().unwrap_or(&i.owner_id),
            i.name
        ),
        state: &i.state,
        owner_id: &i.owner_id,
        creation_date: Timestamp(i.creation_date).iso8601(),
        public: i.public,
        architecture: &i.architecture,
        image_type: "machine",
        platform: i.platform.as_deref(),
    }
}

pub(super) fn check_name(name: &str) -> Result<(), ApiError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "()[] ./-'@_".contains(c));
    if !(3..=128).contains(&name.len()) || !ok_chars {
        return Err(Ec2Error::InvalidAMINameMalformed.with(format!(
                "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_': {name}"
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_unique_name(s: &Ec2Store, name: &str, account: &str) -> Result<(), ApiError> {
    match s
        .images
        .values()
        .find(|i| i.owner_id == account && i.name == name)
    {
        Some(i) => Err(Ec2Error::InvalidAMINameDuplicate
            .with(format!("AMI name {name} is already in use by AMI {}", i.id))),
        None => Ok(()),
    }
}

/// CreateImage's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateImageRequest {
    instance_id: String,
    name: String,
    description: Option<String>,
    no_reboot: bool,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// `CreateImageResult` and `CopyImageResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageIdOut {
    /// The new image.
    pub image_id: String,
}

/// CreateImage.
pub fn create_image(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateImageRequest,
) -> Result<ImageIdOut, ApiError> {
    check_name(&req.name)?;
    let image_tags = spec_tags(&req.tag_specifications, "image")?;
    let snapshot_tags = spec_tags(&req.tag_specifications, "snapshot")?;
    let account = ctx.scope.account.clone();
    let now = state.clock.now();
    let id = with_store(ctx, state, |s| {
        super::instance_view::check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        let inst = &s.instances[&req.instance_id];
        if !matches!(
            inst.state,
            InstanceState::Running | InstanceState::Stopped | InstanceState::Stopping
        ) {
            return Err(Ec2Error::IncorrectInstanceState.with(format!(
                "The instance '{}' is not in a state from which it can be imaged.",
                inst.id
            )));
        }
        check_unique_name(s, &req.name, &account)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let (root_device, reboot) = (
            inst.root_device_name.clone(),
            !req.no_reboot && inst.state == InstanceState::Running,
        );
        let image_id = state.ids.resource("ami");
        // One snapshot per attached EBS volume; the image maps each device to its snapshot.
        let mut mappings = Vec::new();
        let mut snap_ids = Vec::new();
        for vol_id in &inst.volume_ids {
            let Some(vol) = s.volumes.get(vol_id) else {
                continue;
            };
            let Some(attachment) = &vol.attachment else {
                continue;
            };
            let snap_id = state.ids.resource("snap");
            mappings.push(super::block_devices::Mapping {
                device_name: attachment.device.clone(),
                delete_on_termination: attachment.delete_on_termination,
                spec: super::block_devices::VolumeSpec {
                    snapshot_id: Some(snap_id.clone()),
                    ..vol.spec.clone()
                },
            });
            snap_ids.push((snap_id, vol_id.clone(), vol.spec.size));
        }
        let root = mappings
            .iter()
            .find(|m| m.device_name == root_device)
            .map(|m| (m.spec.snapshot_id.clone(), m.spec.size));
        let (snap_id, root_size) = root.unwrap_or((None, 8));
        for (id, volume_id, size) in &snap_ids {
            s.snapshots.insert(
                id.clone(),
                Snapshot {
                    id: id.clone(),
                    volume_id: volume_id.clone(),
                    volume_size: *size,
                    state: "pending".into(),
                    start_time: now,
                    description: format!(
                        "Created by CreateImage({}) for {image_id}",
                        req.instance_id
                    ),
                    owner_id: account.clone(),
                },
            );
        }
        s.images.insert(
            image_id.clone(),
            Image {
                id: image_id.clone(),
                name: req.name.clone(),
                description: req.description.clone(),
                owner_id: account.clone(),
                owner_alias: None,
                state: "pending".into(),
                creation_date: now,
                public: false,
                public_catalog: false,
                architecture: "x86_64".into(),
                platform: None,
                platform_details: "Linux/UNIX".into(),
                root_device_name: root_device,
                volume_size: root_size,
                block_devices: mappings,
                snapshot_id: snap_id,
                source_instance_id: Some(req.instance_id.clone()),
                source_image_id: None,
                launch_permissions: Vec::new(),
                backend_done: false,
                reboot_source: reboot,
            },
        );
        s.set_tags(&image_id, image_tags);
        for (id, _, _) in &snap_ids {
            s.set_tags(id, snapshot_tags.clone());
        }
        if reboot && let Some(i) = s.instances.get_mut(&req.instance_id) {
            i.reboot_pending = true;
        }
        Ok(image_id)
    })?;
    tracing::info!(image_id = %id, instance_id = %req.instance_id, "image pending");
    state.touched(Topic::Ec2);
    Ok(ImageIdOut { image_id: id })
}

/// DescribeImages' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImagesRequest {
    executable_users: Vec<String>,
    image_ids: Vec<String>,
    owners: Vec<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// `DescribeImagesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeImagesOut<'a> {
    next_token: Option<String>,
    images: Vec<ImageOut<'a>>,
}

/// DescribeImages.
pub fn describe_images(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeImagesRequest,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "architecture",
            "block-device-mapping.delete-on-termination",
            "block-device-mapping.device-name",
            "block-device-mapping.encrypted",
            "block-device-mapping.snapshot-id",
            "block-device-mapping.volume-size",
            "block-device-mapping.volume-type",
            "description",
            "image-id",
            "image-type",
            "is-public",
            "name",
            "owner-alias",
            "owner-id",
            "platform-details",
            "root-device-name",
            "root-device-type",
            "source-instance-id",
            "state",
            "tag-key",
            "tag-value",
            "virtualization-type",
        ],
    )?;
    for id in &req.image_ids {
        check_id_shape(id, "ami", Ec2Error::InvalidAMIIDMalformed)?;
    }
    let account = ctx.scope.account.clone();
    let shared = shared_images(state, &ctx.scope);
    with_store(ctx, state, |s| {
        if let Some(missing) = req.image_ids.iter().find(|id| {
            !s.images.get(*id).is_some_and(|i| visible(i, &account))
                && !shared.iter().any(|i| &i.id == *id)
        }) {
            return Err(Ec2Error::InvalidAMIIDNotFound
                .with(format!("The image id '[{missing}]' does not exist")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let owner_ok = |i: &Image| {
            req.owners.is_empty()
                || req.owners.iter().any(|o| match o.as_str() {
                    "self" => i.owner_id == account,
                    "amazon" => i.owner_alias.as_deref() == Some("amazon"),
                    other => i.owner_id == other,
                })
        };
        let exec_ok = |i: &Image| {
            req.executable_users.is_empty()
                || req.executable_users.iter().any(|u| match u.as_str() {
                    "all" => i.public,
                    // Images shared with the caller explicitly (not every public image).
                    "self" => i.launch_permissions.contains(&account),
                    other => i.launch_permissions.iter().any(|a| a == other),
                })
        };
        let list: Vec<&Image> = s
            .images
            .values()
            .chain(&shared)
            .filter(|i| visible(i, &account))
            .filter(|i| req.image_ids.is_empty() || req.image_ids.contains(&i.id))
            .filter(|i| owner_ok(i) && exec_ok(i))
            .filter(|i| {
                let tags = s.tags_of(&i.id);
                let public = i.public.to_string();
                let sizes: Vec<String> = i
                    .block_devices
                    .iter()
                    .map(|m| m.spec.size.to_string())
                    .collect();
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "architecture" => vec![i.architecture.as_str()],
                        "block-device-mapping.snapshot-id" => i
                            .block_devices
                            .iter()
                            .filter_map(|m| m.spec.snapshot_id.as_deref())
                            .collect(),
                        "block-device-mapping.device-name" => i
                            .block_devices
                            .iter()
                            .map(|m| m.device_name.as_str())
                            .collect(),
                        "block-device-mapping.volume-size" => {
                            sizes.iter().map(String::as_str).collect()
                        }
                        "block-device-mapping.volume-type" => {
                            i.block_devices.iter().map(|m| m.spec.volume_type).collect()
                        }
                        "block-device-mapping.delete-on-termination" => i
                            .block_devices
                            .iter()
                            .map(|m| {
                                if m.delete_on_termination {
                                    "true"
                                } else {
                                    "false"
                                }
                            })
                            .collect(),
                        "block-device-mapping.encrypted" => i
                            .block_devices
                            .iter()
                            .map(|m| if m.spec.encrypted { "true" } else { "false" })
                            .collect(),
                        "description" => i.description.as_deref().into_iter().collect(),
                        "image-id" => vec![i.id.as_str()],
                        "image-type" => vec!["machine"],
                        "is-public" => vec![public.as_str()],
                        "name" => vec![i.name.as_str()],
                        "owner-alias" => i.owner_alias.as_deref().into_iter().collect(),
                        "owner-id" => vec![i.owner_id.as_str()],
                        "platform-details" => vec![i.platform_details.as_str()],
                        "root-device-name" => vec![i.root_device_name.as_str()],
                        "root-device-type" => vec!["ebs"],
                        "source-instance-id" => {
                            i.source_instance_id.as_deref().into_iter().collect()
                        }
                        "state" => vec![i.state.as_str()],
                        "virtualization-type" => vec!["hvm"],
                        _ => vec![],
                    }
                })
            })
            .collect();
        let (page, next_token) =
            paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
        reply.send(&DescribeImagesOut {
            next_token,
            images: page.into_iter().map(|i| image_out(s, i)).collect(),
        })
    })
}

/// An image this account owns, or the error AWS gives.
pub(super) fn own_image<'a>(
    s: &'a Ec2Store,
    id: &str,
    account: &str,
) -> Result<&'a Image, ApiError> {
    check_id_shape(id, "ami", Ec2Error::InvalidAMIIDMalformed)?;
    match s.images.get(id) {
        Some(i) if i.owner_id == account => Ok(i),
        Some(i) if visible(i, account) => {
            Err(Ec2Error::AuthFailure.with(format!("Not authorized for image:{id}")))
        }
        _ => {
            Err(Ec2Error::InvalidAMIIDNotFound
                .with(format!("The image id '[{id}]' does not exist")))
        }
    }
}
