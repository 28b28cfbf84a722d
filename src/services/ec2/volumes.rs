//! EBS volumes of instances: made by RunInstances from the block device mappings, shown by
//! DescribeVolumes and in DescribeInstances' `BlockDeviceMappings`.
//!
//! A volume's state follows its instance: `in-use` while attached to an instance that is not
//! terminated; when the instance terminates, a volume with DeleteOnTermination is gone and
//! the others become `available` with no attachment (as on AWS). Gone volumes are swept from
//! the store lazily.

use serde::{Deserialize, Serialize};

use super::block_devices::VolumeSpec;
use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::store::{Ec2Store, InstanceState};
use super::views::TagsOut;
use super::{check_id_shape, dry_run_ok, paginate, tag_filter_values, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::{Reply, Sent};
use crate::state::AppState;

/// Where a volume is attached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VolumeAttachment {
    /// The instance.
    pub instance_id: String,
    /// Device name on the instance.
    pub device: String,
    /// Deleted with the instance.
    pub delete_on_termination: bool,
    /// When attached.
    pub attach_time: f64,
}

/// An EBS volume.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Volume {
    /// `vol-…`.
    pub id: String,
    /// Size, type, IOPS, encryption, snapshot.
    pub spec: VolumeSpec,
    /// Its Availability Zone.
    pub availability_zone: String,
    /// When created.
    pub create_time: f64,
    /// Its attachment, while it has one.
    pub attachment: Option<VolumeAttachment>,
}

/// What a volume looks like now: `None` when it is gone (deleted with its instance);
/// else the state and whether the attachment still holds.
pub fn status(s: &Ec2Store, v: &Volume) -> Option<(&'static str, bool)> {
    let Some(a) = &v.attachment else {
        return Some(("available", false));
    };
    let instance = s.instances.get(&a.instance_id);
    match instance.map(|i| i.state) {
        Some(InstanceState::Terminated) | None if a.delete_on_termination => None,
        Some(InstanceState::Terminated) | None => Some(("available", false)),
        Some(_) => Some(("in-use", true)),
    }
}

/// A volume's `Attachments` item (as DescribeVolumes shows it; members in model order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttachmentOut<'a> {
    delete_on_termination: bool,
    volume_id: &'a str,
    instance_id: &'a str,
    device: &'a str,
    state: &'static str,
    attach_time: Timestamp,
}

/// `Volume` (members in model order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct VolumeOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    iops: Option<i64>,
    tags: TagsOut<'a>,
    volume_type: &'a str,
    multi_attach_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    throughput: Option<i64>,
    volume_id: &'a str,
    size: i64,
    snapshot_id: &'a str,
    availability_zone: &'a str,
    state: &'static str,
    create_time: Timestamp,
    attachments: Vec<AttachmentOut<'a>>,
    encrypted: bool,
}

/// `DescribeVolumesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeVolumesOut<'a> {
    next_token: Option<String>,
    volumes: Vec<VolumeOut<'a>>,
}

fn volume_out<'a>(
    s: &'a Ec2Store,
    v: &'a Volume,
    state: &'static str,
    attached: bool,
) -> VolumeOut<'a> {
    let attachments = match (&v.attachment, attached) {
        (Some(a), true) => vec![AttachmentOut {
            delete_on_termination: a.delete_on_termination,
            volume_id: &v.id,
            instance_id: &a.instance_id,
            device: &a.device,
            state: "attached",
            attach_time: Timestamp(a.attach_time),
        }],
        _ => Vec::new(),
    };
    VolumeOut {
        iops: v.spec.iops,
        tags: TagsOut(s.tags_of(&v.id)),
        volume_type: v.spec.volume_type,
        multi_attach_enabled: false,
        throughput: v.spec.throughput,
        volume_id: &v.id,
        size: v.spec.size,
        snapshot_id: v.spec.snapshot_id.as_deref().unwrap_or_default(),
        availability_zone: &v.availability_zone,
        state,
        create_time: Timestamp(v.create_time),
        attachments,
        encrypted: v.spec.encrypted,
    }
}

/// Create and attach an instance's volumes at launch (root first, as planned from the image
/// and the request), tagged with the request's `volume` tags.
pub fn create_for_launch(
    s: &mut Ec2Store,
    ids: &crate::state::IdGen,
    instance: &mut super::store::Instance,
    devices: &[super::block_devices::Mapping],
    root_device: &str,
    tags: &[(String, String)],
) {
    for d in devices {
        let vol_id = ids.resource("vol");
        if d.device_name == root_device {
            instance.root_volume_id = vol_id.clone();
        }
        instance.volume_ids.push(vol_id.clone());
        s.set_tags(&vol_id, tags.iter().cloned());
        s.volumes.insert(
            vol_id.clone(),
            Volume {
                id: vol_id,
                spec: d.spec.clone(),
                availability_zone: instance.availability_zone.clone(),
                create_time: instance.launch_time,
                attachment: Some(VolumeAttachment {
                    instance_id: instance.id.clone(),
                    device: d.device_name.clone(),
                    delete_on_termination: d.delete_on_termination,
                    attach_time: instance.launch_time,
                }),
            }
            .into(),
        );
    }
}

/// Forget volumes deleted with their instances (and their tags).
fn sweep(s: &mut Ec2Store) {
    let gone: Vec<String> = s
        .volumes
        .values()
        .filter(|v| status(s, v).is_none())
        .map(|v| v.id.clone())
        .collect();
    for id in gone {
        s.volumes.shift_remove(&id);
        s.clear_tags(&id);
    }
}

/// DescribeVolumes' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeVolumesRequest {
    volume_ids: Vec<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
}

/// Filter names DescribeVolumes supports.
const VOLUME_FILTERS: &[&str] = &[
    "attachment.attach-time",
    "attachment.delete-on-termination",
    "attachment.device",
    "attachment.instance-id",
    "attachment.status",
    "availability-zone",
    "create-time",
    "encrypted",
    "multi-attach-enabled",
    "fast-restored",
    "size",
    "snapshot-id",
    "status",
    "tag-key",
    "tag-value",
    "volume-id",
    "volume-type",
];

/// DescribeVolumes.
pub fn describe_volumes(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeVolumesRequest,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    filters::check_names(&req.filters, VOLUME_FILTERS)?;
    for id in &req.volume_ids {
        check_id_shape(id, "vol", Ec2Error::InvalidVolumeIDMalformed)?;
    }
    // AWS returns at most 500 volumes a page but accepts larger MaxResults (the CLI sends 1000).
    let max = req.max_results.map(|m| if m > 500 { 500 } else { m });
    with_store(ctx, state, |s| {
        sweep(s);
        let s = &*s;
        if let Some(missing) = req
            .volume_ids
            .iter()
            .find(|id| !s.volumes.contains_key(*id))
        {
            return Err(Ec2Error::InvalidVolumeNotFound
                .with(format!("The volume '{missing}' does not exist.")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let mut list = Vec::new();
        for v in s.volumes.values() {
            if !req.volume_ids.is_empty() && !req.volume_ids.contains(&v.id) {
                continue;
            }
            let Some((state_name, attached)) = status(s, v) else {
                continue;
            };
            let a = v.attachment.as_ref().filter(|_| attached);
            let (size, attach_time, create_time) = (
                v.spec.size.to_string(),
                a.map(|a| Timestamp(a.attach_time).iso8601()),
                Timestamp(v.create_time).iso8601(),
            );
            let dot = a.map(|a| a.delete_on_termination.to_string());
            let encrypted = v.spec.encrypted.to_string();
            let tags = s.tags_of(&v.id);
            let keep = filters::matches_all(&req.filters, |f| {
                if let Some(t) = tag_filter_values(tags, f) {
                    return t;
                }
                match f {
                    "attachment.attach-time" => attach_time.as_deref().into_iter().collect(),
                    "attachment.delete-on-termination" => dot.as_deref().into_iter().collect(),
                    "attachment.device" => a.map(|a| a.device.as_str()).into_iter().collect(),
                    "attachment.instance-id" => {
                        a.map(|a| a.instance_id.as_str()).into_iter().collect()
                    }
                    "attachment.status" => a.map(|_| "attached").into_iter().collect(),
                    "availability-zone" => vec![v.availability_zone.as_str()],
                    "create-time" => vec![create_time.as_str()],
                    "encrypted" => vec![encrypted.as_str()],
                    "multi-attach-enabled" | "fast-restored" => vec!["false"],
                    "size" => vec![size.as_str()],
                    "snapshot-id" => v.spec.snapshot_id.as_deref().into_iter().collect(),
                    "status" => vec![state_name],
                    "volume-id" => vec![v.id.as_str()],
                    "volume-type" => vec![v.spec.volume_type],
                    _ => vec![],
                }
            });
            if keep {
                list.push((v, state_name, attached));
            }
        }
        let (page, next_token) = paginate(list, max, req.next_token.as_deref(), (5, 500))?;
        reply.send(&DescribeVolumesOut {
            next_token,
            volumes: page
                .into_iter()
                .map(|(v, state_name, attached)| volume_out(s, v, state_name, attached))
                .collect(),
        })
    })
}
