//! Launch configurations: Create, Describe, Delete (error texts as real AWS returned them, in
//! CLI output, service events and fixtures quoted in public code).
//!
//! A configuration keeps the members it was created with ([`LaunchConfigData`]), so describing
//! it echoes what was given plus AWS's defaults, and launching maps it onto RunInstances.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::describe::page;
use super::errors::AutoScalingError;
use super::validation;
use super::views::Kept;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::ec2::internal::MetadataOptions;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, ids};

/// `Launch configuration name not found - Launch configuration {name} not found`.
pub fn lc_not_found(name: &str) -> ApiError {
    validation(format!(
        "Launch configuration name not found - Launch configuration {name} not found"
    ))
}

/// A launch configuration: what CreateLaunchConfiguration gave (`InstanceId` resolved into
/// the members it stands for) plus the members AWS adds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LaunchConfiguration {
    /// LaunchConfigurationName.
    pub name: String,
    /// LaunchConfigurationARN.
    pub arn: String,
    /// CreatedTime (epoch seconds).
    pub created_time: f64,
    /// The members given, used both to describe and to launch.
    pub data: LaunchConfigData,
}

/// `InstanceMonitoring`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceMonitoring {
    /// Detailed monitoring (true when left out).
    pub enabled: Option<bool>,
}

/// The members of CreateLaunchConfiguration a configuration keeps.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchConfigData {
    /// ImageId.
    pub image_id: Option<String>,
    /// KeyName.
    pub key_name: Option<String>,
    /// SecurityGroups (ids or, outside a VPC, names).
    pub security_groups: Vec<String>,
    /// ClassicLinkVPCId.
    #[serde(rename = "ClassicLinkVPCId")]
    pub classic_link_vpc_id: Option<String>,
    /// ClassicLinkVPCSecurityGroups.
    #[serde(rename = "ClassicLinkVPCSecurityGroups")]
    pub classic_link_vpc_security_groups: Vec<String>,
    /// UserData (base64).
    pub user_data: Option<String>,
    /// InstanceType.
    pub instance_type: Option<String>,
    /// KernelId.
    pub kernel_id: Option<String>,
    /// RamdiskId.
    pub ramdisk_id: Option<String>,
    /// BlockDeviceMappings, echoed as given.
    pub block_device_mappings: Vec<Value>,
    /// InstanceMonitoring.
    pub instance_monitoring: Option<InstanceMonitoring>,
    /// SpotPrice.
    pub spot_price: Option<String>,
    /// IamInstanceProfile (name or ARN).
    pub iam_instance_profile: Option<String>,
    /// EbsOptimized.
    pub ebs_optimized: Option<bool>,
    /// AssociatePublicIpAddress.
    pub associate_public_ip_address: Option<bool>,
    /// PlacementTenancy.
    pub placement_tenancy: Option<String>,
    /// MetadataOptions.
    pub metadata_options: Option<MetadataOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateInput {
    launch_configuration_name: String,
    instance_id: Option<String>,
    #[serde(flatten)]
    data: LaunchConfigData,
}

/// CreateLaunchConfiguration.
pub fn create_launch_configuration(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateInput,
) -> Result<(), ApiError> {
    let CreateInput {
        launch_configuration_name: name,
        instance_id,
        mut data,
    } = req;
    let scope = &ctx.scope;
    let now = state.clock.now();
    // A launch configuration takes an AMI id only (`resolve:ssm:` is a launch-template
    // feature): anything else is refused with EC2's malformed-id text inside Auto Scaling's
    // (the answer to `resolve:ssm:portalAMI` is quoted in aws/aws-cdk#28090).
    if let Some(image) = data.image_id.as_deref() {
        crate::services::ec2::check_id_shape(
            image,
            "ami",
            crate::services::ec2::errors::Ec2Error::InvalidAMIIDMalformed,
        )
        .map_err(|e| validation(format!("AMI {image} is invalid: {}", e.message)))?;
    }
    // The profile, by name or ARN, must exist in the account's IAM (checked outside this
    // scope's lock: IAM lives in the account's global scope).
    if let Some(profile) = data.iam_instance_profile.as_deref() {
        let profiles = crate::services::iam::profiles_of(state, &scope.account);
        let (name, arn) = if profile.starts_with("arn:") {
            (None, Some(profile))
        } else {
            (Some(profile), None)
        };
        if crate::services::iam::find_profile(&profiles, name, arn).is_none() {
            return Err(validation(format!("Invalid IamInstanceProfile: {profile}")));
        }
    }
    state.stores.with(scope, |s| {
        if s.autoscaling.launch_configurations.contains_key(&name) {
            return Err(AutoScalingError::AlreadyExists.with(format!(
                    "Launch Configuration by this name already exists - A launch configuration already exists with the name {name}"
                ),
            ));
        }
        // InstanceId: the configuration takes its image, type, key and groups from a running
        // instance, for the fields the request leaves out.
        if let Some(id) = instance_id.as_deref() {
            let i = s
                .ec2
                .instances
                .get(id)
                .ok_or_else(|| validation(format!("Invalid instance id: {id}")))?;
            data.image_id.get_or_insert_with(|| i.image_id.clone());
            data.instance_type
                .get_or_insert_with(|| i.instance_type.clone());
            if data.key_name.is_none() {
                data.key_name.clone_from(&i.key_name);
            }
            if data.security_groups.is_empty() {
                data.security_groups.clone_from(&i.security_groups);
            }
        } else {
            if data.image_id.is_none() {
                return Err(validation(
                    "Valid requests must contain either the ImageId or the InstanceId parameter.",
                ));
            }
            if data.instance_type.is_none() {
                return Err(validation(
                    "Valid requests must contain either the InstanceType or the InstanceId parameter.",
                ));
            }
        }
        let arn = ids::arn(
            "autoscaling",
            &scope.region,
            &scope.account,
            &format!(
                "launchConfiguration:{}:launchConfigurationName/{name}",
                state.ids.uuid()
            ),
        );
        tracing::info!(launch_configuration = %name, "launch configuration created");
        s.autoscaling.launch_configurations.insert(
            name.clone(),
            LaunchConfiguration {
                name,
                arn,
                created_time: now,
                data,
            },
        );
        Ok(())
    })?;
    Ok(())
}

/// Whether detailed monitoring is on for instances launched from this configuration
/// (`InstanceMonitoring.Enabled`, default true in the API).
pub fn monitoring(lc: &LaunchConfiguration) -> bool {
    lc.data
        .instance_monitoring
        .and_then(|m| m.enabled)
        .unwrap_or(true)
}

/// The `LaunchConfiguration` output shape: the stored members with AWS's defaults.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchConfigurationOut {
    launch_configuration_name: String,
    #[serde(rename = "LaunchConfigurationARN")]
    launch_configuration_arn: String,
    image_id: Option<String>,
    key_name: String,
    security_groups: Vec<String>,
    #[serde(rename = "ClassicLinkVPCId")]
    classic_link_vpc_id: Option<String>,
    #[serde(rename = "ClassicLinkVPCSecurityGroups")]
    classic_link_vpc_security_groups: Vec<String>,
    user_data: String,
    instance_type: Option<String>,
    kernel_id: String,
    ramdisk_id: String,
    block_device_mappings: Kept,
    instance_monitoring: InstanceMonitoring,
    spot_price: Option<String>,
    iam_instance_profile: Option<String>,
    created_time: Timestamp,
    ebs_optimized: bool,
    associate_public_ip_address: Option<bool>,
    placement_tenancy: Option<String>,
    metadata_options: Option<MetadataOptions>,
}

impl LaunchConfigurationOut {
    /// A configuration as described.
    pub fn new(lc: &LaunchConfiguration) -> Self {
        let d = &lc.data;
        Self {
            launch_configuration_name: lc.name.clone(),
            launch_configuration_arn: lc.arn.clone(),
            image_id: d.image_id.clone(),
            key_name: d.key_name.clone().unwrap_or_default(),
            security_groups: d.security_groups.clone(),
            classic_link_vpc_id: d.classic_link_vpc_id.clone(),
            classic_link_vpc_security_groups: d.classic_link_vpc_security_groups.clone(),
            user_data: d.user_data.clone().unwrap_or_default(),
            instance_type: d.instance_type.clone(),
            kernel_id: d.kernel_id.clone().unwrap_or_default(),
            ramdisk_id: d.ramdisk_id.clone().unwrap_or_default(),
            block_device_mappings: Kept::new(
                "BlockDeviceMappings",
                Value::Array(d.block_device_mappings.clone()),
            ),
            instance_monitoring: d.instance_monitoring.unwrap_or(InstanceMonitoring {
                enabled: Some(true),
            }),
            spot_price: d.spot_price.clone(),
            iam_instance_profile: d.iam_instance_profile.clone(),
            created_time: Timestamp(lc.created_time),
            ebs_optimized: d.ebs_optimized.unwrap_or(false),
            associate_public_ip_address: d.associate_public_ip_address,
            placement_tenancy: d.placement_tenancy.clone(),
            metadata_options: d.metadata_options.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    launch_configuration_names: Vec<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// DescribeLaunchConfigurations (unknown names are left out, as AWS does).
pub fn describe_launch_configurations(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<LaunchConfigurationsOut, ApiError> {
    let all: Vec<LaunchConfigurationOut> = state.stores.with(&ctx.scope, |s| {
        let lcs = &s.autoscaling.launch_configurations;
        if req.launch_configuration_names.is_empty() {
            lcs.values().map(LaunchConfigurationOut::new).collect()
        } else {
            req.launch_configuration_names
                .iter()
                .filter_map(|n| lcs.get(n))
                .map(LaunchConfigurationOut::new)
                .collect()
        }
    });
    let (launch_configurations, next_token) =
        page(all, req.max_records, req.next_token.as_deref(), 50)?;
    Ok(LaunchConfigurationsOut {
        launch_configurations,
        next_token,
    })
}

/// `LaunchConfigurationsType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchConfigurationsOut {
    launch_configurations: Vec<LaunchConfigurationOut>,
    next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteInput {
    launch_configuration_name: String,
}

/// DeleteLaunchConfiguration: refused while a group uses it.
pub fn delete_launch_configuration(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteInput,
) -> Result<(), ApiError> {
    let name = req.launch_configuration_name;
    state.stores.with(&ctx.scope, |s| {
        let a = &mut s.autoscaling;
        if !a.launch_configurations.contains_key(&name) {
            return Err(lc_not_found(&name));
        }
        if let Some(g) = a
            .groups
            .values()
            .find(|g| g.launch_configuration_name.as_deref() == Some(name.as_str()))
        {
            return Err(AutoScalingError::ResourceInUse.with(format!(
                    "Cannot delete launch configuration {name} because it is attached to AutoScalingGroup {}",
                    g.name
                ),
            ));
        }
        a.launch_configurations.shift_remove(&name);
        Ok(())
    })?;
    Ok(())
}
