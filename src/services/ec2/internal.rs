//! Internal EC2 entry points for other services (Auto Scaling): launch instances, read an
//! instance's state and terminate an instance on a service's behalf, inside the caller's store
//! lock. The lifecycle controller finishes what these start, exactly as for the API calls.

use serde::{Deserialize, Serialize};

use super::instance_view::reason_time;
use super::store::{Ec2Store, InstanceState};
use crate::error::ApiError;
use crate::state::{AppState, RegionStores, Scope};

pub use super::instances::LaunchEnv;

/// `InstanceMetadataOptions` as a launch configuration keeps it and RunInstances takes it
/// (the members are named alike in both).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MetadataOptions {
    /// `optional` or `required`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_tokens: Option<String>,
    /// 1–64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_put_response_hop_limit: Option<i64>,
    /// `enabled` or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_endpoint: Option<String>,
}

/// An instance profile, by ARN or by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ProfileSpec {
    /// `arn:aws:iam::…:instance-profile/…`.
    Arn(String),
    /// The profile's name.
    Name(String),
}

/// A launch template and version (`$Default` when none).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplateSpec {
    /// `lt-…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template_id: Option<String>,
    /// Name, when no id is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template_name: Option<String>,
    /// Version number, `$Latest` or `$Default`.
    pub version: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Enabled {
    enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Placement<'a> {
    availability_zone: &'a str,
}

/// One instance a service asks EC2 to launch, in RunInstances' terms: what a launch
/// configuration or a launch template (whose data the request's members override) gives, and
/// where it goes. Checked as RunInstances checks it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaunchRequest {
    /// ImageId (may be a `resolve:ssm:` reference).
    pub image_id: Option<String>,
    /// InstanceType.
    pub instance_type: Option<String>,
    /// KeyName.
    pub key_name: Option<String>,
    /// UserData (base64).
    pub user_data: Option<String>,
    /// EbsOptimized.
    pub ebs_optimized: Option<bool>,
    /// MetadataOptions.
    pub metadata_options: Option<MetadataOptions>,
    /// Monitoring.Enabled (detailed monitoring).
    pub monitoring: Option<bool>,
    /// IamInstanceProfile.
    pub iam_instance_profile: Option<ProfileSpec>,
    /// SecurityGroupIds.
    pub security_group_ids: Vec<String>,
    /// SecurityGroups (by name).
    pub security_groups: Vec<String>,
    /// LaunchTemplate.
    pub launch_template: Option<TemplateSpec>,
    /// SubnetId.
    pub subnet_id: Option<String>,
    /// Placement.AvailabilityZone, when no subnet is given.
    pub availability_zone: Option<String>,
    /// Tags put on the instance without the `aws:` check (`aws:autoscaling:groupName`).
    pub system_tags: Vec<(String, String)>,
    /// A Spot Instance (`InstanceMarketOptions.MarketType` `spot`).
    pub spot: bool,
}

/// The RunInstances input a [`LaunchRequest`] stands for: one instance.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RunOne<'a> {
    min_count: i64,
    max_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ebs_optimized: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata_options: Option<&'a MetadataOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    monitoring: Option<Enabled>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iam_instance_profile: Option<&'a ProfileSpec>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    security_group_ids: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    security_groups: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    launch_template: Option<&'a TemplateSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subnet_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    placement: Option<Placement<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_market_options: Option<MarketOptions>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MarketOptions {
    market_type: &'static str,
}

/// Launch one instance for another service inside the caller's lock on `scope`'s stores
/// (`env` gathered before taking it). Returns the new instance ids; the lifecycle controller
/// boots them as it boots RunInstances' instances.
pub fn launch(
    stores: &mut RegionStores,
    state: &AppState,
    scope: &Scope,
    env: &LaunchEnv,
    req: &LaunchRequest,
) -> Result<Vec<String>, ApiError> {
    let run = RunOne {
        min_count: 1,
        max_count: 1,
        image_id: req.image_id.as_deref(),
        instance_type: req.instance_type.as_deref(),
        key_name: req.key_name.as_deref(),
        user_data: req.user_data.as_deref(),
        ebs_optimized: req.ebs_optimized,
        metadata_options: req.metadata_options.as_ref(),
        monitoring: req.monitoring.map(|enabled| Enabled { enabled }),
        iam_instance_profile: req.iam_instance_profile.as_ref(),
        security_group_ids: &req.security_group_ids,
        security_groups: &req.security_groups,
        launch_template: req.launch_template.as_ref(),
        subnet_id: req.subnet_id.as_deref(),
        placement: req
            .availability_zone
            .as_deref()
            .filter(|_| req.subnet_id.is_none())
            .map(|availability_zone| Placement { availability_zone }),
        instance_market_options: req.spot.then_some(MarketOptions {
            market_type: "spot",
        }),
    };
    // RunInstances merges a template's data into its input tree, so the request becomes one.
    let input = crate::services::to_output(&run)?;
    super::instances::launch_locked(stores, state, scope, env, input, req.system_tags.clone())
}

/// The state of an instance, `None` when EC2 has never heard of it.
pub fn instance_state(ec2: &Ec2Store, id: &str) -> Option<InstanceState> {
    ec2.instances.get(id).map(|i| i.state)
}

/// Whether an instance is `running` and has been since before `now` (its boot finished).
pub fn is_running(ec2: &Ec2Store, id: &str) -> bool {
    instance_state(ec2, id) == Some(InstanceState::Running)
}

/// Since when an instance's status check has failed, if it has (see `Instance::impaired_since`).
pub fn impaired_since(ec2: &Ec2Store, id: &str) -> Option<f64> {
    ec2.instances.get(id).and_then(|i| i.impaired_since)
}

/// Mark a running instance's status check failed (`impaired`) or passed again; returns false
/// when the instance is unknown or not running (only a running instance is checked).
pub fn set_impaired(ec2: &mut Ec2Store, id: &str, impaired: bool, now: f64) -> bool {
    let Some(i) = ec2.instances.get_mut(id) else {
        return false;
    };
    if i.state != InstanceState::Running {
        return false;
    }
    if !impaired {
        i.impaired_since = None;
    } else if i.impaired_since.is_none() {
        i.impaired_since = Some(now);
    }
    tracing::info!(instance_id = %id, impaired, "instance status check changed");
    true
}

/// Start terminating an instance as a service does (TerminateInstances without the API's
/// checks: termination protection does not stop Auto Scaling, as on AWS). Returns false when
/// the instance is unknown or already shutting down or terminated.
pub fn terminate(ec2: &mut Ec2Store, id: &str, now: f64) -> bool {
    let Some(i) = ec2.instances.get_mut(id) else {
        return false;
    };
    if matches!(
        i.state,
        InstanceState::ShuttingDown | InstanceState::Terminated
    ) {
        return false;
    }
    tracing::info!(instance_id = %id, from = i.state.name(), to = "shutting-down", "instance state change (service)");
    i.state = InstanceState::ShuttingDown;
    i.state_since = now;
    i.backend_done = false;
    i.transition_reason = format!("Service initiated ({})", reason_time(now));
    i.state_reason = Some("Client.UserInitiatedShutdown");
    true
}
