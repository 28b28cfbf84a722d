//! Block device mappings: RunInstances' `BlockDeviceMappings` laid over the image's become
//! the instance's EBS volumes (root and extra ones).
//!
//! Rules (EC2 API reference, `BlockDeviceMapping` / `EbsBlockDevice`): a mapping naming one
//! of the image's devices overrides what it gives (size, type, IOPS, throughput,
//! DeleteOnTermination, encryption) and keeps the image's snapshot; `NoDevice` drops an
//! image device; a new device needs a size or a snapshot; a volume from a snapshot is at
//! least the snapshot's size. `VirtualName` (instance store) mappings are ignored: none of
//! the instance types offered has instance store volumes.

use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, invalid, missing};
use crate::error::ApiError;

/// What a volume is made of, as an image records it and a volume shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VolumeSpec {
    /// GiB.
    pub size: i64,
    /// `gp2`, `gp3`, `io1`, `io2`, `st1`, `sc1`, `standard`.
    #[serde(deserialize_with = "crate::state::persist::fields::static_str")]
    pub volume_type: crate::state::persist::fields::StaticStr,
    /// Provisioned (gp3, io1, io2) or baseline (gp2) IOPS.
    pub iops: Option<i64>,
    /// MiB/s (gp3).
    pub throughput: Option<i64>,
    /// Encrypted.
    pub encrypted: bool,
    /// Source snapshot.
    pub snapshot_id: Option<String>,
}

/// One device of an image (or of an instance being launched).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mapping {
    /// `/dev/xvda`, `/dev/sdb`, ...
    pub device_name: String,
    /// Delete the volume when the instance terminates.
    pub delete_on_termination: bool,
    /// The volume.
    pub spec: VolumeSpec,
}

impl Mapping {
    /// The image's `BlockDeviceMapping` output.
    pub fn image_out(&self) -> MappingOut<'_> {
        MappingOut {
            ebs: EbsOut {
                delete_on_termination: self.delete_on_termination,
                iops: self.spec.iops,
                snapshot_id: self.spec.snapshot_id.as_deref(),
                volume_size: self.spec.size,
                volume_type: self.spec.volume_type,
                throughput: self.spec.throughput,
                encrypted: self.spec.encrypted,
            },
            device_name: &self.device_name,
        }
    }
}

/// An image's `BlockDeviceMapping` (members in model order: `Ebs` comes first).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MappingOut<'a> {
    ebs: EbsOut<'a>,
    device_name: &'a str,
}

/// `EbsBlockDevice` of an image's mapping.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EbsOut<'a> {
    delete_on_termination: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    iops: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_id: Option<&'a str>,
    volume_size: i64,
    volume_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    throughput: Option<i64>,
    encrypted: bool,
}

/// `Ebs` of a requested mapping.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EbsIn {
    delete_on_termination: Option<bool>,
    iops: Option<i64>,
    snapshot_id: Option<String>,
    volume_size: Option<i64>,
    volume_type: Option<String>,
    throughput: Option<i64>,
    encrypted: Option<bool>,
}

/// One requested `BlockDeviceMapping`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MappingIn {
    device_name: Option<String>,
    virtual_name: Option<String>,
    ebs: Option<EbsIn>,
    no_device: Option<String>,
}

/// Volume types and their size bounds in GiB.
const TYPES: &[(&str, i64, i64)] = &[
    ("standard", 1, 1024),
    ("gp2", 1, 16_384),
    ("gp3", 1, 16_384),
    ("io1", 4, 16_384),
    ("io2", 4, 65_536),
    ("st1", 125, 16_384),
    ("sc1", 125, 16_384),
];

fn bad_mapping(message: impl Into<String>) -> ApiError {
    Ec2Error::InvalidBlockDeviceMapping.with(message)
}

/// A known volume type as a static name.
pub fn volume_type(name: &str) -> Result<&'static str, ApiError> {
    TYPES
        .iter()
        .find(|(t, _, _)| *t == name)
        .map(|(t, _, _)| *t)
        .ok_or_else(|| {
            // UNVERIFIED wording.
            invalid(format!(
                    "Value ({name}) for parameter volumeType is invalid. Expected: 'standard', 'io1', 'io2', 'gp2', 'sc1', 'st1', 'gp3'."
                ),
            )
        })
}

/// Fill IOPS/throughput defaults and check them and the size against the type.
fn settle(
    spec: &mut VolumeSpec,
    asked_iops: Option<i64>,
    asked_throughput: Option<i64>,
) -> Result<(), ApiError> {
    let t = spec.volume_type;
    let (_, min, max) = TYPES
        .iter()
        .find(|(n, _, _)| *n == t)
        .copied()
        .unwrap_or(("", 1, 16_384));
    if !(min..=max).contains(&spec.size) {
        return Err(invalid(format!(
            "Volume of {}GiB is outside the range {min}-{max}GiB allowed for volume type {t}.",
            spec.size
        )));
    }
    if asked_throughput.is_some() && t != "gp3" {
        return Err(Ec2Error::InvalidParameterCombination.with(format!(
            "The parameter throughput is not supported for {t} volumes."
        )));
    }
    match t {
        "gp3" => {
            let iops = asked_iops.or(spec.iops).unwrap_or(3000);
            let throughput = asked_throughput.or(spec.throughput).unwrap_or(125);
            if !(3000..=16_000).contains(&iops) || !(125..=1000).contains(&throughput) {
                return Err(invalid(
                    "gp3 volumes take 3000-16000 IOPS and 125-1000 MiB/s of throughput.",
                ));
            }
            spec.iops = Some(iops);
            spec.throughput = Some(throughput);
        }
        "io1" | "io2" => {
            let Some(iops) = asked_iops.or(spec.iops) else {
                return Err(Ec2Error::InvalidParameterCombination.with(format!(
                    "The parameter iops must be specified for {t} volumes."
                )));
            };
            if !(100..=256_000).contains(&iops) {
                return Err(invalid(format!(
                    "Value ({iops}) for parameter iops is invalid."
                )));
            }
            spec.iops = Some(iops);
            spec.throughput = None;
        }
        _ => {
            if asked_iops.is_some() {
                return Err(Ec2Error::InvalidParameterCombination.with(format!(
                    "The parameter iops is not supported for {t} volumes."
                )));
            }
            // gp2 shows its baseline: 3 IOPS per GiB, 100 to 16,000.
            spec.iops = (t == "gp2").then(|| (spec.size * 3).clamp(100, 16_000));
            spec.throughput = None;
        }
    }
    Ok(())
}

/// The devices of an instance: the image's mappings with the request's laid over them.
/// `snapshot_size` answers the size of a snapshot the account can use (`None`: unknown).
pub fn plan(
    image: &[Mapping],
    root_device: &str,
    requested: &[MappingIn],
    snapshot_size: &dyn Fn(&str) -> Option<i64>,
) -> Result<Vec<Mapping>, ApiError> {
    let mut devices: Vec<Mapping> = image.to_vec();
    let mut seen: Vec<&str> = Vec::new();
    for m in requested {
        let Some(name) = m.device_name.as_deref().filter(|n| !n.is_empty()) else {
            return Err(missing("BlockDeviceMapping.DeviceName"));
        };
        if seen.contains(&name) {
            return Err(bad_mapping(format!(
                "The device '{name}' is used in more than one block-device mapping"
            )));
        }
        seen.push(name);
        if m.no_device.is_some() {
            if name == root_device {
                // UNVERIFIED wording.
                return Err(bad_mapping(format!(
                    "The root device '{name}' cannot be suppressed with NoDevice"
                )));
            }
            devices.retain(|d| d.device_name != name);
            continue;
        }
        let Some(ebs) = &m.ebs else {
            // Instance store (`VirtualName`) or an empty mapping: nothing to attach here.
            let _ = &m.virtual_name;
            continue;
        };
        let existing = devices.iter().position(|d| d.device_name == name);
        let base = existing.map(|at| devices[at].clone());
        let snapshot_id = match (&ebs.snapshot_id, &base) {
            (Some(id), _) => {
                if snapshot_size(id).is_none() {
                    return Err(Ec2Error::InvalidSnapshotNotFound
                        .with(format!("The snapshot '{id}' does not exist.")));
                }
                Some(id.clone())
            }
            (None, Some(b)) => b.spec.snapshot_id.clone(),
            (None, None) => None,
        };
        let snap_size = snapshot_id
            .as_deref()
            .and_then(snapshot_size)
            .or(base.as_ref().map(|b| b.spec.size));
        let size = match (ebs.volume_size, snap_size) {
            (Some(size), Some(min)) if size < min => {
                return Err(bad_mapping(format!(
                    "Volume of size {size}GB is smaller than snapshot '{}', expect size >= {min}GB",
                    snapshot_id.as_deref().unwrap_or("")
                )));
            }
            (Some(size), _) => size,
            (None, Some(min)) => min,
            (None, None) => {
                // UNVERIFIED wording.
                return Err(bad_mapping(format!(
                    "The device '{name}' needs a volume size or a snapshot id"
                )));
            }
        };
        let volume_type = match &ebs.volume_type {
            Some(t) => volume_type(t)?,
            None => base.as_ref().map_or("gp2", |b| b.spec.volume_type),
        };
        let type_changed = base
            .as_ref()
            .is_some_and(|b| b.spec.volume_type != volume_type);
        let mut spec = VolumeSpec {
            size,
            volume_type,
            iops: if type_changed {
                None
            } else {
                base.as_ref().and_then(|b| b.spec.iops)
            },
            throughput: if type_changed {
                None
            } else {
                base.as_ref().and_then(|b| b.spec.throughput)
            },
            encrypted: ebs
                .encrypted
                .or(base.as_ref().map(|b| b.spec.encrypted))
                .unwrap_or(false),
            snapshot_id,
        };
        if base.as_ref().is_some_and(|b| b.spec.volume_type == "gp2") && !type_changed {
            spec.iops = None; // recomputed from the new size
        }
        settle(&mut spec, ebs.iops, ebs.throughput)?;
        let mapping = Mapping {
            device_name: name.to_owned(),
            delete_on_termination: ebs
                .delete_on_termination
                .or(base.as_ref().map(|b| b.delete_on_termination))
                .unwrap_or(true),
            spec,
        };
        match existing {
            Some(at) => devices[at] = mapping,
            None => devices.push(mapping),
        }
    }
    Ok(devices)
}

/// The root mapping of a public image: `size` GiB of `volume_type` from `snapshot_id`.
pub fn image_root(
    device: &str,
    size: i64,
    volume_type: &'static str,
    snapshot_id: String,
) -> Mapping {
    let mut spec = VolumeSpec {
        size,
        volume_type,
        iops: None,
        throughput: None,
        encrypted: false,
        snapshot_id: Some(snapshot_id),
    };
    // Sizes and types of the catalog are valid; defaults only.
    let _ = settle(&mut spec, None, None);
    Mapping {
        device_name: device.to_owned(),
        delete_on_termination: true,
        spec,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn mapping(v: Value) -> MappingIn {
        serde_json::from_value(v).unwrap()
    }

    fn ami() -> Vec<Mapping> {
        vec![image_root("/dev/xvda", 8, "gp3", "snap-root".into())]
    }

    fn sizes(id: &str) -> Option<i64> {
        match id {
            "snap-root" => Some(8),
            "snap-data" => Some(20),
            _ => None,
        }
    }

    #[test]
    fn the_image_root_is_kept_or_overridden() {
        let plain = plan(&ami(), "/dev/xvda", &[], &sizes).unwrap();
        assert_eq!(plain, ami());
        assert_eq!(plain[0].spec.iops, Some(3000));
        assert_eq!(plain[0].spec.throughput, Some(125));
        let bigger = plan(
            &ami(),
            "/dev/xvda",
            &[mapping(
                json!({"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 30,
                "VolumeType": "gp2", "DeleteOnTermination": false, "Encrypted": true}}),
            )],
            &sizes,
        )
        .unwrap();
        assert_eq!(bigger.len(), 1);
        let root = &bigger[0];
        assert_eq!(root.spec.size, 30);
        assert_eq!(root.spec.volume_type, "gp2");
        assert_eq!(
            root.spec.iops,
            Some(100),
            "gp2 baseline is 3 IOPS/GiB, at least 100"
        );
        assert_eq!(root.spec.throughput, None);
        assert!(!root.delete_on_termination && root.spec.encrypted);
        assert_eq!(root.spec.snapshot_id.as_deref(), Some("snap-root"));
    }

    #[test]
    fn extra_volumes_are_added_and_checked() {
        let got = plan(
            &ami(),
            "/dev/xvda",
            &[
                mapping(json!({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 100}})),
                mapping(
                    json!({"DeviceName": "/dev/sdc", "Ebs": {"SnapshotId": "snap-data",
                    "VolumeType": "io1", "Iops": 500}}),
                ),
                mapping(json!({"DeviceName": "/dev/sdd", "VirtualName": "ephemeral0"})),
            ],
            &sizes,
        )
        .unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].spec.volume_type, "gp2");
        assert_eq!(got[1].spec.iops, Some(300));
        assert!(got[1].delete_on_termination);
        assert_eq!(got[2].spec.size, 20, "a snapshot's size by default");
        assert_eq!(got[2].spec.iops, Some(500));
        let err = |m: Vec<Value>| {
            let m: Vec<MappingIn> = m.into_iter().map(mapping).collect();
            plan(&ami(), "/dev/xvda", &m, &sizes).unwrap_err().code
        };
        assert_eq!(
            err(vec![
                json!({"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 4}})
            ]),
            "InvalidBlockDeviceMapping"
        );
        assert_eq!(
            err(vec![json!({"DeviceName": "/dev/sdb", "Ebs": {}})]),
            "InvalidBlockDeviceMapping"
        );
        assert_eq!(
            err(vec![
                json!({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1}}),
                json!({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1}})
            ]),
            "InvalidBlockDeviceMapping"
        );
        assert_eq!(
            err(vec![
                json!({"DeviceName": "/dev/sdb", "Ebs": {"SnapshotId": "snap-nope"}})
            ]),
            "InvalidSnapshot.NotFound"
        );
        assert_eq!(
            err(vec![
                json!({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 5, "VolumeType": "gp9"}})
            ]),
            "InvalidParameterValue"
        );
        assert_eq!(
            err(vec![
                json!({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 5, "VolumeType": "io1"}})
            ]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            err(vec![
                json!({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 5, "Iops": 300}})
            ]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            err(vec![
                json!({"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 20000}})
            ]),
            "InvalidParameterValue"
        );
        assert_eq!(
            err(vec![json!({"DeviceName": "/dev/xvda", "NoDevice": ""})]),
            "InvalidBlockDeviceMapping"
        );
    }
}
