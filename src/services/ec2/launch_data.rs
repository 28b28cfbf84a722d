//! Launch template data as a version stores it: the members Updraft itself reads (image,
//! instance type, key, instance profile) as typed fields, every other member of
//! `RequestLaunchTemplateData` kept as the caller gave it, so a version echoes back exactly
//! what was saved. Stored flat, as one object, the same as the value tree it replaces.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::services::to_output;

/// `RequestLaunchTemplateData` as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchTemplateData {
    /// `IamInstanceProfile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_instance_profile: Option<ProfileSpec>,
    /// `ImageId` (an AMI id or a `resolve:ssm:` reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// `InstanceType`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// `KeyName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Every other member, as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `LaunchTemplateIamInstanceProfileSpecificationRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ProfileSpec {
    /// `Arn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `Name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl LaunchTemplateData {
    /// `over`'s members on top of these, member by member (CreateLaunchTemplateVersion
    /// with a `SourceVersion`).
    pub fn overlay(mut self, over: &Self) -> Self {
        fn take<T: Clone>(base: &mut Option<T>, over: &Option<T>) {
            if over.is_some() {
                base.clone_from(over);
            }
        }
        take(&mut self.iam_instance_profile, &over.iam_instance_profile);
        take(&mut self.image_id, &over.image_id);
        take(&mut self.instance_type, &over.instance_type);
        take(&mut self.key_name, &over.key_name);
        for (k, v) in &over.other {
            self.other.insert(k.clone(), v.clone());
        }
        self
    }

    /// As a value tree: what DescribeLaunchTemplateVersions echoes and RunInstances merges its
    /// request into.
    pub fn to_tree(&self) -> Result<Value, ApiError> {
        to_output(self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_round_trip_and_overlay_member_by_member() {
        let given = json!({"ImageId": "ami-1", "KeyName": "k",
            "IamInstanceProfile": {"Name": "p"}, "UserData": "aGk=",
            "Monitoring": {"Enabled": true}});
        let data: LaunchTemplateData = serde_json::from_value(given.clone()).unwrap();
        assert_eq!(data.image_id.as_deref(), Some("ami-1"));
        assert_eq!(
            data.iam_instance_profile.as_ref().unwrap().name.as_deref(),
            Some("p")
        );
        assert_eq!(
            data.to_tree().unwrap(),
            given,
            "stored flat, nothing lost or added"
        );
        let over: LaunchTemplateData =
            serde_json::from_value(json!({"ImageId": "ami-2", "UserData": "eW8="})).unwrap();
        let merged = data.overlay(&over).to_tree().unwrap();
        assert_eq!(merged["ImageId"], "ami-2");
        assert_eq!(merged["KeyName"], "k");
        assert_eq!(merged["UserData"], "eW8=");
        assert_eq!(merged["Monitoring"]["Enabled"], true);
    }
}
