//! RunInstances' input as EC2 reads it (after a launch template's data is merged in).

use serde::Deserialize;

use super::errors::Ec2Error;
use crate::error::ApiError;

use super::TagSpecification;
use super::block_devices::MappingIn;
use super::internal::MetadataOptions;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct Enabled {
    pub(super) enabled: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct PlacementIn {
    pub(super) availability_zone: Option<String>,
    pub(super) availability_zone_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct IamProfileIn {
    pub(super) arn: Option<String>,
    pub(super) name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct NetworkInterfaceIn {
    pub(super) device_index: Option<i64>,
    pub(super) subnet_id: Option<String>,
    pub(super) groups: Vec<String>,
    pub(super) associate_public_ip_address: Option<bool>,
    pub(super) private_ip_address: Option<String>,
}

/// `LaunchTemplate` of RunInstances (and of Auto Scaling groups).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchTemplateSpecification {
    /// `lt-…`.
    pub launch_template_id: Option<String>,
    /// Name.
    pub launch_template_name: Option<String>,
    /// Version number, `$Latest` or `$Default` (the default).
    pub version: Option<String>,
}

/// `InstanceMarketOptions`: only the market is read (Spot options are accepted as given).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct MarketOptionsIn {
    pub(super) market_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct RunInstancesRequest {
    pub(super) image_id: Option<String>,
    pub(super) instance_type: Option<String>,
    pub(super) key_name: Option<String>,
    pub(super) min_count: i64,
    pub(super) max_count: i64,
    pub(super) monitoring: Option<Enabled>,
    pub(super) placement: Option<PlacementIn>,
    pub(super) security_group_ids: Vec<String>,
    pub(super) security_groups: Vec<String>,
    pub(super) subnet_id: Option<String>,
    pub(super) user_data: Option<String>,
    pub(super) tag_specifications: Vec<TagSpecification>,
    pub(super) dry_run: bool,
    pub(super) disable_api_termination: bool,
    pub(super) disable_api_stop: bool,
    pub(super) instance_initiated_shutdown_behavior: Option<String>,
    pub(super) private_ip_address: Option<String>,
    pub(super) client_token: Option<String>,
    pub(super) network_interfaces: Vec<NetworkInterfaceIn>,
    pub(super) iam_instance_profile: Option<IamProfileIn>,
    pub(super) ebs_optimized: bool,
    pub(super) metadata_options: Option<MetadataOptions>,
    pub(super) block_device_mappings: Vec<MappingIn>,
    pub(super) instance_market_options: Option<MarketOptionsIn>,
}

impl RunInstancesRequest {
    /// Whether `InstanceMarketOptions` asks for a Spot Instance. `capacity-block` and other
    /// markets are not modelled and are refused.
    pub(super) fn spot_market(&self) -> Result<bool, ApiError> {
        match self
            .instance_market_options
            .as_ref()
            .and_then(|m| m.market_type.as_deref())
        {
            None => Ok(false),
            Some("spot") => Ok(true),
            // UNVERIFIED wording.
            Some(other) => Err(Ec2Error::InvalidParameterValue.with(format!(
                "Value ({other}) for parameter MarketType is invalid. Supported value: spot"
            ))),
        }
    }
}
