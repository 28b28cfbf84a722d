//! The outputs of the launch template operations: `LaunchTemplate`, `LaunchTemplateVersion`
//! (its data echoed as the caller gave it, in the `ResponseLaunchTemplateData` shape's order)
//! and the per-version results of DeleteLaunchTemplateVersions.

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::store::{Ec2Store, LaunchTemplate, LaunchTemplateVersion};
use super::{Tag, tag_list};
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::echo::Echo;

/// `LaunchTemplate`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplateOut {
    launch_template_id: String,
    launch_template_name: String,
    create_time: Timestamp,
    created_by: String,
    default_version_number: i64,
    latest_version_number: i64,
    tags: Vec<Tag>,
}

impl TemplateOut {
    /// `lt` with its tags.
    pub fn new(s: &Ec2Store, lt: &LaunchTemplate) -> Self {
        Self {
            launch_template_id: lt.id.clone(),
            launch_template_name: lt.name.clone(),
            create_time: Timestamp(lt.create_time),
            created_by: lt.created_by.clone(),
            default_version_number: lt.default_version,
            latest_version_number: lt.latest_version,
            tags: tag_list(s.tags_of(&lt.id)),
        }
    }
}

/// The output of the operations that answer with one template (Create, Modify, Delete).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateOut {
    /// The template.
    pub launch_template: TemplateOut,
}

/// Launch template data as stored, echoed as `ResponseLaunchTemplateData`.
#[derive(Debug, Clone)]
pub struct DataOut(pub Value);

impl Serialize for DataOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Echo::new("ec2", "ResponseLaunchTemplateData", &self.0).serialize(serializer)
    }
}

/// `LaunchTemplateVersion`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionOut {
    launch_template_id: String,
    launch_template_name: String,
    version_number: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_description: Option<String>,
    create_time: Timestamp,
    created_by: String,
    default_version: bool,
    /// The data (DescribeLaunchTemplateVersions may resolve its image alias).
    pub launch_template_data: DataOut,
}

impl VersionOut {
    /// Version `v` of `lt`.
    pub fn new(lt: &LaunchTemplate, v: &LaunchTemplateVersion) -> Result<Self, ApiError> {
        Ok(Self {
            launch_template_id: lt.id.clone(),
            launch_template_name: lt.name.clone(),
            version_number: v.number,
            version_description: v.description.clone(),
            create_time: Timestamp(v.create_time),
            created_by: lt.created_by.clone(),
            default_version: v.number == lt.default_version,
            launch_template_data: DataOut(v.data.to_tree()?),
        })
    }
}

/// `CreateLaunchTemplateVersionResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateVersionOut {
    /// The new version.
    pub launch_template_version: VersionOut,
}

/// `DescribeLaunchTemplatesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTemplatesOut {
    /// One page.
    pub launch_templates: Vec<TemplateOut>,
    /// The next page's token.
    pub next_token: Option<String>,
}

/// `DescribeLaunchTemplateVersionsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVersionsOut {
    /// One page.
    pub launch_template_versions: Vec<VersionOut>,
    /// The next page's token.
    pub next_token: Option<String>,
}

/// `ResponseError`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionError {
    /// `unexpectedError`, `launchTemplateVersionDoesNotExist`, ...
    pub code: &'static str,
    /// The text.
    pub message: String,
}

/// `DeleteLaunchTemplateVersionsResponseSuccessItem` and (with its error)
/// `…ErrorItem`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeletedVersionOut {
    /// The template's id.
    pub launch_template_id: String,
    /// Its name.
    pub launch_template_name: String,
    /// The version asked for, when it was a number.
    pub version_number: Option<i64>,
    /// Why it was not deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_error: Option<VersionError>,
}

/// `DeleteLaunchTemplateVersionsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteVersionsOut {
    /// Deleted.
    pub successfully_deleted_launch_template_versions: Vec<DeletedVersionOut>,
    /// Not deleted, with why.
    pub unsuccessfully_deleted_launch_template_versions: Vec<DeletedVersionOut>,
}
