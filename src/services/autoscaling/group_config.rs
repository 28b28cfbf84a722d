//! What Create/UpdateAutoScalingGroup check and normalise before a group changes: capacity
//! bounds, launch templates, zones and subnets, health-check types, termination policies,
//! traffic sources and tags, with AWS's messages (as real AWS returned them, in CLI output,
//! eksctl and CloudFormation logs quoted in public code).

use serde::Deserialize;
use serde_json::Value;

use super::errors::AutoScalingError;
use super::store::{GroupTag, LifecycleHook, TemplateRef, TrafficSource};
use super::{lb, lifecycle_hooks, validation};
use crate::error::ApiError;
use crate::services::ec2::instances::LaunchTemplateSpecification;
use crate::services::ec2::launch_refs::instance_profile;
use crate::services::ec2::store::Ec2Store;
use crate::services::errors::ErrorCode;
use crate::services::iam::ProfileRef;
use crate::state::{AppState, Scope};

/// The termination policies AWS knows (a Lambda ARN is accepted too).
const TERMINATION_POLICIES: &[&str] = &[
    "Default",
    "OldestInstance",
    "NewestInstance",
    "OldestLaunchConfiguration",
    "OldestLaunchTemplate",
    "ClosestToNextInstanceHour",
    "AllocationStrategy",
];

/// A tag in Create/Update/CreateOrUpdateTags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagIn {
    /// ResourceId.
    pub resource_id: Option<String>,
    /// ResourceType.
    pub resource_type: Option<String>,
    /// Key.
    pub key: String,
    /// Value.
    pub value: Option<String>,
    /// PropagateAtLaunch.
    pub propagate_at_launch: Option<bool>,
}

/// A traffic source identifier in requests.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrafficSourceIn {
    /// Identifier.
    pub identifier: String,
    /// Type (default `elbv2` for ARNs of target groups, else `elb`... AWS requires it for
    /// VPC Lattice; we infer it when absent).
    #[serde(rename = "Type")]
    pub kind: Option<String>,
}

/// A `LifecycleHookSpecification` of CreateAutoScalingGroup.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HookSpecification {
    lifecycle_hook_name: Option<String>,
    lifecycle_transition: Option<String>,
    notification_metadata: Option<String>,
    heartbeat_timeout: Option<i64>,
    default_result: Option<String>,
    #[serde(rename = "NotificationTargetARN")]
    notification_target_arn: Option<String>,
    #[serde(rename = "RoleARN")]
    role_arn: Option<String>,
}

impl HookSpecification {
    /// The hook it stands for (defaults: heartbeat 3600 s, `ABANDON`); `None` when it names
    /// no hook or no transition.
    pub fn hook(&self) -> Option<LifecycleHook> {
        let heartbeat = self
            .heartbeat_timeout
            .unwrap_or(lifecycle_hooks::DEFAULT_HEARTBEAT);
        Some(LifecycleHook {
            name: self.lifecycle_hook_name.clone()?,
            transition: self.lifecycle_transition.clone()?,
            notification_target_arn: self.notification_target_arn.clone(),
            role_arn: self.role_arn.clone(),
            notification_metadata: self.notification_metadata.clone(),
            heartbeat_timeout: heartbeat,
            global_timeout: lifecycle_hooks::global_timeout(heartbeat),
            default_result: self
                .default_result
                .clone()
                .unwrap_or_else(|| "ABANDON".into()),
        })
    }
}

/// `Max bound, …` then `Desired capacity:…` (min > max is checked first: AWS does not
/// document the order).
pub fn check_bounds(min: i64, max: i64, desired: i64) -> Result<(), ApiError> {
    if min > max {
        return Err(validation(format!(
            "Max bound, {max}, must be greater than or equal to min bound, {min}"
        )));
    }
    if desired < min || desired > max {
        return Err(validation(format!(
            "Desired capacity:{desired} must be between the specified min size:{min} and max size:{max}"
        )));
    }
    Ok(())
}

/// Resolve a launch template spec against EC2's templates: AWS wraps EC2's message, also when
/// the version's `IamInstanceProfile` is not one of the account's `profiles` ("You must use a
/// valid fully-formed launch template. Value (…) for parameter iamInstanceProfile.name is
/// invalid. Invalid IAM Instance Profile name", quoted in
/// hashicorp/terraform-provider-aws#4769 and aws-samples/amazon-ec2-gitlab-runner#16).
pub fn resolve_template(
    ec2: &Ec2Store,
    profiles: &[ProfileRef],
    spec: &LaunchTemplateSpecification,
) -> Result<TemplateRef, ApiError> {
    let wrap = |e: ApiError| {
        validation(format!(
            "You must use a valid fully-formed launch template. {}",
            e.message
        ))
    };
    let lt = crate::services::ec2::launch_templates::find(
        ec2,
        spec.launch_template_id.as_deref(),
        spec.launch_template_name.as_deref(),
    )
    .map_err(wrap)?;
    let version =
        crate::services::ec2::launch_templates::resolve_version(lt, spec.version.as_deref())
            .map_err(wrap)?;
    if let Some(profile) = lt
        .versions
        .get(&version)
        .and_then(|v| v.data.iam_instance_profile.as_ref())
    {
        instance_profile(profiles, profile.name.as_deref(), profile.arn.as_deref())
            .map_err(wrap)?;
    }
    Ok(TemplateRef {
        id: lt.id.clone(),
        name: lt.name.clone(),
        version: spec.version.clone(),
    })
}

/// The template of a MixedInstancesPolicy (`LaunchTemplate.LaunchTemplateSpecification`).
pub fn mixed_template(policy: &Value) -> Option<LaunchTemplateSpecification> {
    policy
        .pointer("/LaunchTemplate/LaunchTemplateSpecification")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
}

/// A group's zones, and its subnets with their zones.
pub type Placement = (Vec<String>, Vec<(String, String)>);

/// Zones and subnets from AvailabilityZones / VPCZoneIdentifier.
pub fn placement(
    ec2: &Ec2Store,
    scope: &Scope,
    zones: Option<&Vec<String>>,
    vpc_zone_identifier: Option<&str>,
) -> Result<Placement, ApiError> {
    if let Some(ids) = vpc_zone_identifier.filter(|v| !v.trim().is_empty()) {
        let mut subnets = Vec::new();
        for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let subnet = ec2
                .subnets
                .get(id)
                .ok_or_else(|| validation(format!("The subnet ID '{id}' does not exist")))?;
            if !subnets.iter().any(|(s, _)| s == id) {
                subnets.push((id.to_owned(), subnet.availability_zone.clone()));
            }
        }
        let mut azs: Vec<String> = Vec::new();
        for (_, az) in &subnets {
            if !azs.contains(az) {
                azs.push(az.clone());
            }
        }
        return Ok((azs, subnets));
    }
    let zones = zones
        .filter(|z| !z.is_empty())
        .ok_or_else(|| validation("At least one Availability Zone or VPC Subnet is required."))?;
    let known = crate::services::ec2::network::zones(&scope.region);
    let mut azs = Vec::new();
    for z in zones {
        if !known.iter().any(|(name, _)| name == z) {
            return Err(validation(format!("Invalid Availability Zone: {z}")));
        }
        if !azs.contains(z) {
            azs.push(z.clone());
        }
    }
    Ok((azs, Vec::new()))
}

pub fn check_health_check_type(t: &str) -> Result<(), ApiError> {
    for part in t.split(',').map(str::trim) {
        if !matches!(part, "EC2" | "ELB" | "EBS" | "VPC_LATTICE") {
            return Err(validation(format!(
                "Health check type {part} is not valid. Valid values are EC2, ELB, EBS and VPC_LATTICE."
            )));
        }
    }
    Ok(())
}

pub fn check_termination_policies(p: &[String]) -> Result<(), ApiError> {
    for (i, name) in p.iter().enumerate() {
        if name.starts_with("arn:aws:lambda:") {
            continue;
        }
        if !TERMINATION_POLICIES.contains(&name.as_str()) {
            return Err(validation(format!(
                "Termination policy {name} is not a valid termination policy."
            )));
        }
        if name == "Default" && i + 1 != p.len() {
            return Err(validation(
                "Default termination policy must be the last one in the list.",
            ));
        }
    }
    Ok(())
}

/// Traffic sources of a request (LoadBalancerNames, TargetGroupARNs, TrafficSources), each
/// checked through [`lb`].
pub fn traffic_sources(
    state: &AppState,
    scope: &Scope,
    lbs: &[String],
    tgs: &[String],
    others: &[TrafficSourceIn],
    initial_state: &str,
) -> Result<Vec<TrafficSource>, ApiError> {
    let mut out: Vec<TrafficSource> = Vec::new();
    let mut push = |identifier: &str, kind: &str| {
        if !out.iter().any(|t| t.identifier == identifier) {
            out.push(TrafficSource {
                identifier: identifier.to_owned(),
                kind: kind.to_owned(),
                state: initial_state.to_owned(),
            });
        }
    };
    for name in lbs {
        if !lb::classic_exists(state, scope, name) {
            return Err(validation(format!(
                "Provided Load Balancers may not be valid. Please ensure they exist and try again. LoadBalancer {name} not found"
            )));
        }
        push(name, "elb");
    }
    let is_tg = |id: &str| id.contains(":targetgroup/");
    for arn in tgs.iter().map(String::as_str).chain(
        others
            .iter()
            .filter(|t| is_tg(&t.identifier))
            .map(|t| t.identifier.as_str()),
    ) {
        if !lb::target_group_exists(state, scope, arn) {
            return Err(validation(format!(
                "Provided Target Groups may not be valid. Please ensure they exist and try again. TargetGroup {arn} not found"
            )));
        }
        push(arn, "elbv2");
    }
    for t in others.iter().filter(|t| !is_tg(&t.identifier)) {
        let kind = t.kind.clone().unwrap_or_else(|| {
            if t.identifier.starts_with("arn:") {
                "vpc-lattice".into()
            } else {
                "elb".into()
            }
        });
        if kind == "elb" && !lb::classic_exists(state, scope, &t.identifier) {
            return Err(validation(format!(
                "Provided Load Balancers may not be valid. Please ensure they exist and try again. LoadBalancer {} not found",
                t.identifier
            )));
        }
        push(&t.identifier, &kind);
    }
    Ok(out)
}

/// Tags of a request for one group, checked.
pub fn group_tags(group: &str, tags: &[TagIn]) -> Result<Vec<GroupTag>, ApiError> {
    let mut out: Vec<GroupTag> = Vec::new();
    for t in tags {
        if t.key.is_empty() {
            return Err(validation("Tag key cannot be empty."));
        }
        if t.key.starts_with("aws:") {
            return Err(validation(
                "Tag keys starting with 'aws:' are reserved for internal use",
            ));
        }
        if let Some(rid) = t.resource_id.as_deref().filter(|r| *r != group) {
            return Err(validation(format!(
                "AutoScalingGroup name not found - AutoScalingGroup {rid} not found"
            )));
        }
        let tag = GroupTag {
            key: t.key.clone(),
            value: t.value.clone().unwrap_or_default(),
            propagate_at_launch: t.propagate_at_launch.unwrap_or(false),
        };
        match out.iter_mut().find(|o| o.key == tag.key) {
            Some(o) => *o = tag,
            None => out.push(tag),
        }
    }
    if out.len() > 50 {
        return Err(AutoScalingError::LimitExceeded
            .with("The number of tags for the AutoScalingGroup exceeds the limit of 50"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::services::parse_input;

    #[test]
    fn hook_specifications_take_awss_defaults_and_need_a_name_and_transition() {
        let spec: HookSpecification = parse_input(json!({
            "LifecycleHookName": "drain",
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
            "NotificationTargetARN": "arn:aws:sns:us-east-1:123456789012:t"
        }))
        .unwrap();
        let hook = spec.hook().unwrap();
        assert_eq!(hook.heartbeat_timeout, 3600);
        assert_eq!(hook.global_timeout, lifecycle_hooks::global_timeout(3600));
        assert_eq!(hook.default_result, "ABANDON");
        assert_eq!(
            hook.notification_target_arn.as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:t")
        );
        let no_transition: HookSpecification =
            parse_input(json!({"LifecycleHookName": "drain"})).unwrap();
        assert!(no_transition.hook().is_none());
    }
}
