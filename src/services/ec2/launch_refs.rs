//! What a launch names in other services, checked or resolved at launch: a `resolve:ssm:`
//! ImageId (SSM, same scope; also shown resolved by DescribeLaunchTemplateVersions'
//! `ResolveAlias`) and an `IamInstanceProfile` (IAM, the account's global scope).

use serde_json::Value;

use super::errors::invalid;
use super::launch_template_views::VersionOut;
use crate::error::ApiError;
use crate::services::iam::{ProfileRef, find_profile};
use crate::services::ssm::{SsmStore, resolve};
use crate::state::{AppState, Scope};

/// Replace a `resolve:ssm:` ImageId (given or from the template) by the AMI id the parameter
/// holds now: AWS reads it at each launch, not when a template is saved.
pub(super) fn resolve_image_id(
    ssm: &SsmStore,
    scope: &Scope,
    input: &mut Value,
) -> Result<(), ApiError> {
    if let Some(reference) = input
        .get("ImageId")
        .and_then(Value::as_str)
        .and_then(|i| i.strip_prefix(resolve::PREFIX))
    {
        let ami = resolve::resolve_image(ssm, scope, reference)?;
        input["ImageId"] = Value::String(ami);
    }
    Ok(())
}

/// DescribeLaunchTemplateVersions with `ResolveAlias`: each version's `resolve:ssm:` ImageId
/// shown as the AMI id it resolves to now (left as stored when it resolves to nothing).
pub(super) fn resolve_aliases(state: &AppState, scope: &Scope, versions: &mut [VersionOut]) {
    state.stores.with(scope, |s| {
        for v in versions.iter_mut() {
            // An unresolvable reference stays as stored, which is what the caller saved.
            let _ = resolve_image_id(&s.ssm, scope, &mut v.launch_template_data.0);
        }
    });
}

/// The instance profile an `IamInstanceProfile` (RunInstances, AssociateIamInstanceProfile)
/// names; it must exist in the account's IAM, with EC2's own error wording.
pub fn instance_profile<'a>(
    profiles: &'a [ProfileRef],
    name: Option<&str>,
    arn: Option<&str>,
) -> Result<Option<&'a ProfileRef>, ApiError> {
    if name.is_none() && arn.is_none() {
        return Ok(None);
    }
    match find_profile(profiles, name, arn) {
        Some(p) => Ok(Some(p)),
        None => {
            let (value, param, what) = match (arn, name) {
                (Some(arn), _) => (arn, "iamInstanceProfile.arn", "ARN"),
                (None, name) => (name.unwrap_or_default(), "iamInstanceProfile.name", "name"),
            };
            Err(invalid(format!(
                "Value ({value}) for parameter {param} is invalid. Invalid IAM Instance Profile {what}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_must_exist_with_ec2s_wording() {
        let profiles = vec![ProfileRef {
            name: "Web".into(),
            arn: "arn:aws:iam::123456789012:instance-profile/Web".into(),
            id: "AIPAEXAMPLE".into(),
        }];
        assert_eq!(
            instance_profile(&profiles, Some("web"), None).unwrap(),
            Some(&profiles[0])
        );
        assert_eq!(instance_profile(&profiles, None, None).unwrap(), None);
        assert_eq!(
            instance_profile(&profiles, Some("ExampleEC2Role"), None)
                .unwrap_err()
                .message,
            "Value (ExampleEC2Role) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
        );
        assert!(
            instance_profile(&profiles, None, Some("arn:aws:iam::1:instance-profile/x"))
                .unwrap_err()
                .message
                .ends_with("Invalid IAM Instance Profile ARN")
        );
    }
}
