//! Images: the region's public images, CreateImage, DescribeImages, DeregisterImage and
//! CopyImage. Snapshots and image attributes have their own modules.
//!
//! CreateImage records a `pending` image and a `pending` snapshot (and, without `NoReboot`,
//! asks for the instance to reboot); the lifecycle controller captures the instance on the
//! backend and makes both `available`/`completed` after [`IMAGE_SECONDS`].

use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::store::{Ec2Store, Image, InstanceState, Snapshot};
use super::{
    TagSpecification, check_id_shape, dry_run_ok, paginate, spec_tags, tag_filter_values, tag_list,
    with_store,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::{parse_input, to_output};
use crate::state::{AppState, Scope, Topic};

/// Virtual seconds from CreateImage/CopyImage to `available`.
pub const IMAGE_SECONDS: f64 = 20.0;
/// Amazon's image owner account.
pub const AMAZON_OWNER: &str = "137112412989";
/// Canonical's image owner account.
pub const CANONICAL_OWNER: &str = "099720109477";

/// A public image: (name, description, owner, alias, root device, creation date,
/// architecture).
type CatalogEntry = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
);

/// The public images of every region.
const CATALOG: &[CatalogEntry] = &[
    (
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
        "Amazon Linux 2023 AMI 2023.6.20241212.0 x86_64 HVM kernel-6.1",
        AMAZON_OWNER,
        Some("amazon"),
        "/dev/xvda",
        "2024-12-12T00:00:00.000Z",
        "x86_64",
    ),
    (
        "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-x86_64-gp2",
        "Amazon Linux 2 Kernel 5.10 AMI 2.0.20241217.0 x86_64 HVM gp2",
        AMAZON_OWNER,
        Some("amazon"),
        "/dev/xvda",
        "2024-12-17T00:00:00.000Z",
        "x86_64",
    ),
    (
        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20241210",
        "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-12-10",
        CANONICAL_OWNER,
        None,
        "/dev/sda1",
        "2024-12-10T00:00:00.000Z",
        "x86_64",
    ),
    (
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241210",
        "Canonical, Ubuntu, 24.04 LTS, amd64 noble image build on 2024-12-10",
        CANONICAL_OWNER,
        None,
        "/dev/sda1",
        "2024-12-10T00:00:00.000Z",
        "x86_64",
    ),
    // Appended, not inserted: existing clients pick `Images[0]` of Amazon's list. These back
    // SSM's public parameters (services::ssm::public), one per AWS "latest" alias.
    (
        "al2023-ami-2023.6.20241212.0-kernel-6.1-arm64",
        "Amazon Linux 2023 AMI 2023.6.20241212.0 arm64 HVM kernel-6.1",
        AMAZON_OWNER,
        Some("amazon"),
        "/dev/xvda",
        "2024-12-12T00:00:00.000Z",
        "arm64",
    ),
    (
        "amzn2-ami-hvm-2.0.20241217.0-x86_64-gp2",
        "Amazon Linux 2 AMI 2.0.20241217.0 x86_64 HVM gp2",
        AMAZON_OWNER,
        Some("amazon"),
        "/dev/xvda",
        "2024-12-17T00:00:00.000Z",
        "x86_64",
    ),
    (
        "amzn2-ami-hvm-2.0.20241217.0-arm64-gp2",
        "Amazon Linux 2 AMI 2.0.20241217.0 arm64 HVM gp2",
        AMAZON_OWNER,
        Some("amazon"),
        "/dev/xvda",
        "2024-12-17T00:00:00.000Z",
        "arm64",
    ),
    (
        "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-arm64-gp2",
        "Amazon Linux 2 Kernel 5.10 AMI 2.0.20241217.0 arm64 HVM gp2",
        AMAZON_OWNER,
        Some("amazon"),
        "/dev/xvda",
        "2024-12-17T00:00:00.000Z",
        "arm64",
    ),
];

/// The name and creation date of a public image, by its catalog name, for other services
/// that point at it (SSM's public parameters).
pub fn catalog_image(name: &str) -> Option<(&'static str, f64)> {
    CATALOG.iter().find(|entry| entry.0 == name).map(|entry| {
        (
            entry.0,
            Timestamp::parse_iso8601(entry.5).map_or(0.0, |t| t.0),
        )
    })
}

/// A stable id for a catalog entry in a region (the same on every start).
pub fn stable_id(prefix: &str, region: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{region}/{name}").as_bytes());
    format!("{prefix}-{}", &hex::encode(digest)[..17])
}

/// A public image as every region offers it (built in or from `--public-amis`): available,
/// an 8 GiB root of `volume_type` from a snapshot whose id is stable for (`region`, `key`),
/// Linux on x86_64 until the caller says otherwise.
pub(super) fn public_image(
    region: &str,
    id: String,
    key: &str,
    root: &str,
    volume_type: &'static str,
) -> Image {
    let snapshot = stable_id("snap", region, key);
    Image {
        block_devices: vec![super::block_devices::image_root(
            root,
            8,
            volume_type,
            snapshot.clone(),
        )],
        id,
        name: key.to_owned(),
        description: None,
        owner_id: AMAZON_OWNER.to_owned(),
        owner_alias: None,
        state: "available".into(),
        creation_date: 0.0,
        public: true,
        public_catalog: true,
        architecture: "x86_64".into(),
        platform: None,
        platform_details: "Linux/UNIX".into(),
        root_device_name: root.to_owned(),
        volume_size: 8,
        snapshot_id: Some(snapshot),
        source_instance_id: None,
        source_image_id: None,
        launch_permissions: Vec::new(),
        backend_done: true,
        reboot_source: false,
    }
}

/// The public images every region offers.
pub fn public_images(region: &str) -> Vec<Image> {
    CATALOG
        .iter()
        .map(
            |(name, description, owner, alias, root, created, arch)| Image {
                description: Some((*description).to_owned()),
                owner_id: (*owner).to_owned(),
                owner_alias: alias.map(str::to_owned),
                creation_date: Timestamp::parse_iso8601(created).map_or(0.0, |t| t.0),
                architecture: (*arch).to_owned(),
                ..public_image(
                    region,
                    stable_id("ami", region, name),
                    name,
                    root,
                    // As the real images: Amazon Linux 2023 and the gp3 Ubuntu build use gp3.
                    if name.starts_with("al2023") || name.contains("gp3") {
                        "gp3"
                    } else {
                        "gp2"
                    },
                )
            },
        )
        .collect()
}

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

pub(super) fn image_out(s: &Ec2Store, i: &Image) -> Value {
    let mut v = json!({
        "ImageId": i.id, "Name": i.name, "State": i.state, "OwnerId": i.owner_id,
        "CreationDate": Timestamp(i.creation_date).iso8601(), "Public": i.public,
        "Architecture": i.architecture, "ImageType": "machine", "PlatformDetails": i.platform_details,
        "UsageOperation": "RunInstances", "RootDeviceType": "ebs", "RootDeviceName": i.root_device_name,
        "VirtualizationType": "hvm", "Hypervisor": "xen", "EnaSupport": true, "SriovNetSupport": "simple",
        "ImageLocation": format!("{}/{}", i.owner_alias.as_deref().unwrap_or(&i.owner_id), i.name),
        "BlockDeviceMappings": i.block_devices.iter().map(super::block_devices::Mapping::image_out).collect::<Vec<_>>(),
        "Tags": to_output(&tag_list(s.tags_of(&i.id))).unwrap_or(Value::Null),
    });
    for (key, val) in [
        ("Description", &i.description),
        ("ImageOwnerAlias", &i.owner_alias),
        ("Platform", &i.platform),
        ("SourceInstanceId", &i.source_instance_id),
        ("SourceImageId", &i.source_image_id),
    ] {
        if let Some(val) = val {
            v[key] = json!(val);
        }
    }
    v
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateImageRequest {
    instance_id: String,
    name: String,
    description: Option<String>,
    no_reboot: bool,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// CreateImage.
pub fn create_image(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: CreateImageRequest = parse_input(input)?;
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
    Ok(json!({"ImageId": id}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeImagesRequest {
    executable_users: Vec<String>,
    image_ids: Vec<String>,
    owners: Vec<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// DescribeImages.
pub fn describe_images(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeImagesRequest = parse_input(input)?;
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
    let images = with_store(ctx, state, |s| {
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
        let list: Vec<Value> = s
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
            .map(|i| image_out(s, i))
            .collect();
        Ok(list)
    })?;
    let (images, next_token) = paginate(
        images,
        req.max_results,
        req.next_token.as_deref(),
        (5, 1000),
    )?;
    Ok(json!({"Images": images, "NextToken": next_token}))
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
