//! Images: the region's public images, CreateImage, DescribeImages, DeregisterImage and
//! CopyImage. Snapshots and image attributes have their own modules.
//!
//! CreateImage records a `pending` image and a `pending` snapshot (and, without `NoReboot`,
//! asks for the instance to reboot); the lifecycle controller captures the instance on the
//! backend and makes both `available`/`completed` after [`IMAGE_SECONDS`].

use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::filters::{self, Filter};
use super::store::{Ec2Store, Image, InstanceState, Snapshot};
use super::{
    TagSpecification, check_id_shape, dry_run_ok, paginate, spec_tags, tag_filter_values, tag_list,
    with_store,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::timestamp::format_iso8601;
use crate::services::{parse_input, to_output};
use crate::state::{AppState, Scope};

/// Virtual seconds from CreateImage/CopyImage to `available`.
pub const IMAGE_SECONDS: f64 = 20.0;
/// Amazon's image owner account.
pub const AMAZON_OWNER: &str = "137112412989";
/// Canonical's image owner account.
pub const CANONICAL_OWNER: &str = "099720109477";

/// A public image: (name, description, owner, alias, root device, creation date).
type CatalogEntry = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
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
    ),
    (
        "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-x86_64-gp2",
        "Amazon Linux 2 Kernel 5.10 AMI 2.0.20241217.0 x86_64 HVM gp2",
        AMAZON_OWNER,
        Some("amazon"),
        "/dev/xvda",
        "2024-12-17T00:00:00.000Z",
    ),
    (
        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20241210",
        "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-12-10",
        CANONICAL_OWNER,
        None,
        "/dev/sda1",
        "2024-12-10T00:00:00.000Z",
    ),
    (
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241210",
        "Canonical, Ubuntu, 24.04 LTS, amd64 noble image build on 2024-12-10",
        CANONICAL_OWNER,
        None,
        "/dev/sda1",
        "2024-12-10T00:00:00.000Z",
    ),
];

/// A stable id for a catalog entry in a region (the same on every start).
pub fn stable_id(prefix: &str, region: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{region}/{name}").as_bytes());
    format!("{prefix}-{}", &hex::encode(digest)[..17])
}

/// The public images every region offers.
pub fn public_images(region: &str) -> Vec<Image> {
    CATALOG
        .iter()
        .map(|(name, description, owner, alias, root, created)| Image {
            id: stable_id("ami", region, name),
            name: (*name).to_owned(),
            description: Some((*description).to_owned()),
            owner_id: (*owner).to_owned(),
            owner_alias: alias.map(str::to_owned),
            state: "available".into(),
            creation_date: crate::protocol::timestamp::parse_iso8601(created).unwrap_or(0.0),
            public: true,
            public_catalog: true,
            architecture: "x86_64".into(),
            platform_details: "Linux/UNIX".into(),
            root_device_name: (*root).to_owned(),
            volume_size: 8,
            snapshot_id: Some(stable_id("snap", region, name)),
            source_instance_id: None,
            source_image_id: None,
            launch_permissions: Vec::new(),
            backend_done: true,
            reboot_source: false,
        })
        .collect()
}

pub(super) fn visible(i: &Image, account: &str) -> bool {
    i.public || i.owner_id == account || i.launch_permissions.iter().any(|a| a == account)
}

pub(super) fn image_out(s: &Ec2Store, i: &Image) -> Value {
    let mut v = json!({
        "ImageId": i.id, "Name": i.name, "State": i.state, "OwnerId": i.owner_id,
        "CreationDate": format_iso8601(i.creation_date), "Public": i.public,
        "Architecture": i.architecture, "ImageType": "machine", "PlatformDetails": i.platform_details,
        "UsageOperation": "RunInstances", "RootDeviceType": "ebs", "RootDeviceName": i.root_device_name,
        "VirtualizationType": "hvm", "Hypervisor": "xen", "EnaSupport": true, "SriovNetSupport": "simple",
        "ImageLocation": format!("{}/{}", i.owner_alias.as_deref().unwrap_or(&i.owner_id), i.name),
        "BlockDeviceMappings": [{"DeviceName": i.root_device_name, "Ebs": {
            "DeleteOnTermination": true, "SnapshotId": i.snapshot_id, "VolumeSize": i.volume_size,
            "VolumeType": "gp3", "Encrypted": false}}],
        "Tags": to_output(&tag_list(s.tags_of(&i.id))).unwrap_or(Value::Null),
    });
    for (key, val) in [
        ("Description", &i.description),
        ("ImageOwnerAlias", &i.owner_alias),
        ("SourceInstanceId", &i.source_instance_id),
        ("SourceImageId", &i.source_image_id),
    ] {
        if let Some(val) = val {
            v[key] = json!(val);
        }
    }
    v
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "()[] ./-'@_".contains(c));
    if !(3..=128).contains(&name.len()) || !ok_chars {
        return Err(ApiError::client(
            "InvalidAMIName.Malformed",
            format!(
                "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_': {name}"
            ),
        ));
    }
    Ok(())
}

fn check_unique_name(s: &Ec2Store, name: &str, account: &str) -> Result<(), ApiError> {
    match s
        .images
        .values()
        .find(|i| i.owner_id == account && i.name == name)
    {
        Some(i) => Err(ApiError::client(
            "InvalidAMIName.Duplicate",
            format!("AMI name {name} is already in use by AMI {}", i.id),
        )),
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
            return Err(ApiError::client(
                "IncorrectInstanceState",
                format!(
                    "The instance '{}' is not in a state from which it can be imaged.",
                    inst.id
                ),
            ));
        }
        check_unique_name(s, &req.name, &account)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let (root_volume, root_device, reboot) = (
            inst.root_volume_id.clone(),
            inst.root_device_name.clone(),
            !req.no_reboot && inst.state == InstanceState::Running,
        );
        let snap_id = state.ids.resource("snap");
        let image_id = state.ids.resource("ami");
        s.snapshots.insert(
            snap_id.clone(),
            Snapshot {
                id: snap_id.clone(),
                volume_id: root_volume,
                volume_size: 8,
                state: "pending".into(),
                start_time: now,
                description: format!("Created by CreateImage({}) for {image_id}", req.instance_id),
                owner_id: account.clone(),
            },
        );
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
                platform_details: "Linux/UNIX".into(),
                root_device_name: root_device,
                volume_size: 8,
                snapshot_id: Some(snap_id.clone()),
                source_instance_id: Some(req.instance_id.clone()),
                source_image_id: None,
                launch_permissions: Vec::new(),
                backend_done: false,
                reboot_source: reboot,
            },
        );
        s.set_tags(&image_id, image_tags);
        s.set_tags(&snap_id, snapshot_tags);
        if reboot && let Some(i) = s.instances.get_mut(&req.instance_id) {
            i.reboot_pending = true;
        }
        Ok(image_id)
    })?;
    tracing::info!(image_id = %id, instance_id = %req.instance_id, "image pending");
    state.changed.notify_waiters();
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
            "block-device-mapping.snapshot-id",
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
        check_id_shape(id, "ami", "InvalidAMIID.Malformed")?;
    }
    let account = ctx.scope.account.clone();
    let images = with_store(ctx, state, |s| {
        if let Some(missing) = req
            .image_ids
            .iter()
            .find(|id| !s.images.get(*id).is_some_and(|i| visible(i, &account)))
        {
            return Err(ApiError::client(
                "InvalidAMIID.NotFound",
                format!("The image id '[{missing}]' does not exist"),
            ));
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
                    "self" => {
                        i.launch_permissions.contains(&account)
                            || (i.public && i.owner_id != account)
                    }
                    other => i.launch_permissions.iter().any(|a| a == other),
                })
        };
        let list: Vec<Value> = s
            .images
            .values()
            .filter(|i| visible(i, &account))
            .filter(|i| req.image_ids.is_empty() || req.image_ids.contains(&i.id))
            .filter(|i| owner_ok(i) && exec_ok(i))
            .filter(|i| {
                let tags = s.tags_of(&i.id);
                let public = i.public.to_string();
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "architecture" => vec![i.architecture.as_str()],
                        "block-device-mapping.snapshot-id" => {
                            i.snapshot_id.as_deref().into_iter().collect()
                        }
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
    check_id_shape(id, "ami", "InvalidAMIID.Malformed")?;
    match s.images.get(id) {
        Some(i) if i.owner_id == account => Ok(i),
        Some(i) if visible(i, account) => Err(ApiError::client(
            "AuthFailure",
            format!("Not authorized for image:{id}"),
        )),
        _ => Err(ApiError::client(
            "InvalidAMIID.NotFound",
            format!("The image id '[{id}]' does not exist"),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DeregisterImageRequest {
    image_id: String,
    delete_associated_snapshots: bool,
    dry_run: bool,
}

/// DeregisterImage (its snapshots stay unless `DeleteAssociatedSnapshots`).
pub fn deregister_image(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DeregisterImageRequest = parse_input(input)?;
    let account = ctx.scope.account.clone();
    let deleted = with_store(ctx, state, |s| {
        let snapshot = own_image(s, &req.image_id, &account)?.snapshot_id.clone();
        if req.dry_run {
            return Err(dry_run_ok());
        }
        s.images.shift_remove(&req.image_id);
        s.clear_tags(&req.image_id);
        let mut deleted = Vec::new();
        if req.delete_associated_snapshots
            && let Some(snap) = snapshot
            && s.snapshots.shift_remove(&snap).is_some()
        {
            s.clear_tags(&snap);
            deleted.push(json!({"SnapshotId": snap, "ReturnCode": "success"}));
        }
        Ok(deleted)
    })?;
    tracing::info!(image_id = %req.image_id, "image deregistered");
    state.changed.notify_waiters();
    let mut out = json!({"Return": true});
    if req.delete_associated_snapshots {
        out["DeleteSnapshotResults"] = json!(deleted);
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CopyImageRequest {
    name: String,
    description: Option<String>,
    source_image_id: String,
    source_region: String,
    copy_image_tags: bool,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// CopyImage: from any region of the same account into the request's region.
pub fn copy_image(ctx: &RequestContext, state: &AppState, input: Value) -> Result<Value, ApiError> {
    let req: CopyImageRequest = parse_input(input)?;
    check_name(&req.name)?;
    check_id_shape(&req.source_image_id, "ami", "InvalidAMIID.Malformed")?;
    if !super::regions::REGIONS
        .iter()
        .any(|(r, _)| *r == req.source_region)
    {
        return Err(ApiError::client(
            "InvalidRegion",
            format!("The source region '{}' does not exist", req.source_region),
        ));
    }
    let image_tags = spec_tags(&req.tag_specifications, "image")?;
    let account = ctx.scope.account.clone();
    let source_scope = Scope::new(account.clone(), req.source_region.clone());
    // Read the source first (its own lock pass), then write the copy: never two scopes at once.
    let (source, source_tags) = state.stores.with(&source_scope, |stores| {
        stores.ec2.ensure_defaults(&source_scope, &state.ids);
        let s = &stores.ec2;
        match s
            .images
            .get(&req.source_image_id)
            .filter(|i| visible(i, &account))
        {
            Some(i) => Ok((i.clone(), s.tags_of(&i.id).clone())),
            None => Err(ApiError::client(
                "InvalidAMIID.NotFound",
                format!("The image id '[{}]' does not exist", req.source_image_id),
            )),
        }
    })?;
    if source.state != "available" {
        return Err(ApiError::client(
            "IncorrectState",
            format!("Image {} is not available", source.id),
        ));
    }
    let now = state.clock.now();
    let id = with_store(ctx, state, |s| {
        check_unique_name(s, &req.name, &account)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let image_id = state.ids.resource("ami");
        let snap_id = state.ids.resource("snap");
        s.snapshots.insert(
            snap_id.clone(),
            Snapshot {
                id: snap_id.clone(),
                volume_id: "vol-ffffffff".into(),
                volume_size: source.volume_size,
                state: "pending".into(),
                start_time: now,
                description: format!(
                    "Copied for DestinationAmi {image_id} from SourceAmi {} for SourceSnapshot {}",
                    source.id,
                    source.snapshot_id.clone().unwrap_or_default()
                ),
                owner_id: account.clone(),
            },
        );
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
                snapshot_id: Some(snap_id),
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
    state.changed.notify_waiters();
    Ok(json!({"ImageId": id}))
}
