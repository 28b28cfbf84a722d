//! AWS's public parameters: `/aws/service/ami-amazon-linux-latest/<alias>` names the newest
//! Amazon Linux AMI of each flavour. They exist in every account and region, read-only, and
//! point at the region's public images from EC2's catalog, so that the AMI id SSM returns is
//! one DescribeImages shows (same name, architecture and creation date).

use crate::services::ec2::images::{catalog_image, stable_id};

/// The namespace AWS publishes Amazon Linux AMI aliases in.
pub const AMI_NAMESPACE: &str = "/aws/service/ami-amazon-linux-latest";

/// (alias, image name in EC2's catalog). The `kernel-default` aliases name the same image as
/// the kernel they currently default to (6.1), as on AWS.
const AMI_ALIASES: &[(&str, &str)] = &[
    (
        "al2023-ami-kernel-6.1-arm64",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-arm64",
    ),
    (
        "al2023-ami-kernel-6.1-x86_64",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    ),
    (
        "al2023-ami-kernel-default-arm64",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-arm64",
    ),
    (
        "al2023-ami-kernel-default-x86_64",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    ),
    (
        "amzn2-ami-hvm-arm64-gp2",
        "amzn2-ami-hvm-2.0.20241217.0-arm64-gp2",
    ),
    (
        "amzn2-ami-hvm-x86_64-gp2",
        "amzn2-ami-hvm-2.0.20241217.0-x86_64-gp2",
    ),
    (
        "amzn2-ami-kernel-5.10-hvm-arm64-gp2",
        "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-arm64-gp2",
    ),
    (
        "amzn2-ami-kernel-5.10-hvm-x86_64-gp2",
        "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-x86_64-gp2",
    ),
];

/// A public parameter as GetParameter shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicParameter {
    /// Full name.
    pub name: String,
    /// The AMI id in the region.
    pub value: String,
    /// When the image was published.
    pub last_modified: f64,
}

/// Whether `name` lies in AWS's reserved public namespace (`/aws/...`).
pub fn is_public_name(name: &str) -> bool {
    name.starts_with("/aws/")
}

/// Every public parameter of `region`, sorted by name.
pub fn all(region: &str) -> Vec<PublicParameter> {
    AMI_ALIASES
        .iter()
        .filter_map(|(alias, image)| {
            let (image_name, created) = catalog_image(image)?;
            Some(PublicParameter {
                name: format!("{AMI_NAMESPACE}/{alias}"),
                value: stable_id("ami", region, image_name),
                last_modified: created,
            })
        })
        .collect()
}

/// One public parameter of `region` by name.
pub fn get(region: &str, name: &str) -> Option<PublicParameter> {
    if !is_public_name(name) {
        return None;
    }
    all(region).into_iter().find(|p| p.name == name)
}

/// The ARN of a public parameter: no account, as AWS writes it.
pub fn arn(region: &str, name: &str) -> String {
    format!(
        "arn:aws:ssm:{region}::parameter/{}",
        name.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_points_at_a_catalog_image() {
        let params = all("us-east-1");
        assert_eq!(params.len(), AMI_ALIASES.len());
        let default = get(
            "us-east-1",
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        )
        .unwrap();
        let pinned = get(
            "us-east-1",
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64",
        )
        .unwrap();
        assert_eq!(default.value, pinned.value);
        assert_ne!(
            default.value,
            get(
                "eu-west-1",
                "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
            )
            .unwrap()
            .value
        );
        assert!(params.windows(2).all(|w| w[0].name < w[1].name));
    }
}
