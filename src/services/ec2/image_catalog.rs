//! The public images every region offers: a small built-in catalog of Amazon Linux and
//! Ubuntu images with ids that are stable for (region, name), and the record a public image
//! (built in or from `--public-amis`) is stored as.

use sha2::{Digest, Sha256};

use super::store::Image;
use crate::protocol::output::Timestamp;

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
