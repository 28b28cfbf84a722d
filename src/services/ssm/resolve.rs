//! `resolve:ssm:<parameter>` as an EC2 ImageId: RunInstances and launch templates keep the
//! reference as given and resolve it at each launch, so a group launching from such a template
//! follows the parameter.
//!
//! AWS accepts a public parameter (`/aws/service/...`), or a parameter of the account by name or
//! ARN, optionally with `:version` or `:label`; the account's own parameter must have the data
//! type `aws:ec2:image` (EC2 answers `SsmInvalidParameter` otherwise).

use super::{SsmStore, public};
use crate::error::ApiError;
use crate::services::ec2::errors::Ec2Error;
use crate::state::Scope;

/// The prefix that marks an ImageId as a parameter reference.
pub const PREFIX: &str = "resolve:ssm:";

/// EC2's `InvalidParameterValue`: the reference names no parameter or version.
fn invalid(message: String) -> ApiError {
    crate::services::ec2::errors::invalid(message)
}

/// The AMI id `reference` (without [`PREFIX`]) resolves to in `scope` now.
pub fn resolve_image(ssm: &SsmStore, scope: &Scope, reference: &str) -> Result<String, ApiError> {
    // An ARN names the parameter after `parameter`; only this account's and region's (or AWS's
    // public ones, whose ARNs have no account) can be read here.
    let local = match reference.strip_prefix("arn:aws:ssm:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(3, ':').collect();
            match parts.as_slice() {
                [region, account, resource]
                    if *region == scope.region
                        && (account.is_empty() || *account == scope.account) =>
                {
                    let name = resource.strip_prefix("parameter").unwrap_or(resource);
                    name.to_owned()
                }
                _ => {
                    return Err(invalid(format!(
                        "The Systems Manager parameter {reference} is not in this account and Region."
                    )));
                }
            }
        }
        None => reference.to_owned(),
    };
    let (name, selector) = match local.split_once(':') {
        Some((name, sel)) => (name, Some(sel)),
        None => (local.as_str(), None),
    };
    let missing = || {
        invalid(format!(
            "Invalid value for ImageId: the Systems Manager parameter {PREFIX}{reference} could not be resolved because it does not exist."
        ))
    };
    if let Some(p) = public::get(&scope.region, name) {
        return Ok(p.value);
    }
    let param = ssm.parameters.get(name).ok_or_else(missing)?;
    let version = match selector {
        None => param.latest(),
        Some(sel) => match sel.parse::<i64>() {
            Ok(n) => param.versions.iter().find(|v| v.version == n),
            Err(_) => param
                .versions
                .iter()
                .find(|v| v.labels.iter().any(|l| l == sel)),
        }
        .ok_or_else(missing)?,
    };
    if version.data_type != "aws:ec2:image" {
        return Err(Ec2Error::SsmInvalidParameter.with(
            "Unsupported data type. The following parameter data types are supported: aws:ec2:image",
        ));
    }
    Ok(version.value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::ssm::{ParameterVersion, StoredParameter};

    fn version(n: i64, value: &str, data_type: &str, labels: &[&str]) -> ParameterVersion {
        ParameterVersion {
            version: n,
            value: value.into(),
            kind: "String".into(),
            key_id: None,
            description: None,
            allowed_pattern: None,
            tier: "Standard".into(),
            data_type: data_type.into(),
            last_modified: 0.0,
            last_modified_user: String::new(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    #[test]
    fn references_resolve_by_name_version_label_and_arn() {
        let scope = Scope::new("123456789012", "us-east-1");
        let mut ssm = SsmStore::default();
        ssm.parameters.insert(
            "/app/ami".into(),
            StoredParameter {
                versions: vec![
                    version(1, "ami-1", "aws:ec2:image", &["stable"]),
                    version(2, "ami-2", "aws:ec2:image", &[]),
                ],
                tags: Vec::new(),
            },
        );
        ssm.parameters.insert(
            "/app/text".into(),
            StoredParameter {
                versions: vec![version(1, "ami-3", "text", &[])],
                tags: Vec::new(),
            },
        );
        assert_eq!(resolve_image(&ssm, &scope, "/app/ami").unwrap(), "ami-2");
        assert_eq!(resolve_image(&ssm, &scope, "/app/ami:1").unwrap(), "ami-1");
        assert_eq!(
            resolve_image(&ssm, &scope, "/app/ami:stable").unwrap(),
            "ami-1"
        );
        assert_eq!(
            resolve_image(
                &ssm,
                &scope,
                "arn:aws:ssm:us-east-1:123456789012:parameter/app/ami"
            )
            .unwrap(),
            "ami-2"
        );
        assert_eq!(
            resolve_image(&ssm, &scope, "/app/text").unwrap_err().code,
            "SsmInvalidParameter"
        );
        assert_eq!(
            resolve_image(&ssm, &scope, "/nope").unwrap_err().code,
            "InvalidParameterValue"
        );
        let public = resolve_image(
            &ssm,
            &scope,
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        )
        .unwrap();
        assert!(public.starts_with("ami-"));
    }
}
