//! Create, Update and Delete Auto Scaling groups: validation with AWS's texts (defaults and
//! rules from the Auto Scaling API Reference, those operations; messages as real AWS returned
//! them, quoted in public code), then intent only — the reconciler launches and terminates.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::errors::AutoScalingError;
use super::group_config::{
    HookSpecification, check_health_check_type, check_termination_policies, placement,
};
pub use super::group_config::{
    TagIn, TrafficSourceIn, check_bounds, group_tags, mixed_template, resolve_template,
    traffic_sources,
};
use super::launch_configs::{InstanceMonitoring, LaunchConfigData, lc_not_found};
use super::store::{AutoScalingStore, Group, TemplateRef, set_desired_capacity};
use super::{policies, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::ec2::instances::LaunchTemplateSpecification;
use crate::services::ec2::store::Ec2Store;
use crate::services::errors::ErrorCode;
use crate::services::iam::{ProfileRef, profiles_of};
use crate::state::{AppState, Topic, ids};

/// The group members Create and Update share.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GroupInput {
    auto_scaling_group_name: String,
    launch_configuration_name: Option<String>,
    launch_template: Option<LaunchTemplateSpecification>,
    mixed_instances_policy: Option<Value>,
    instance_id: Option<String>,
    min_size: Option<i64>,
    max_size: Option<i64>,
    desired_capacity: Option<i64>,
    default_cooldown: Option<i64>,
    availability_zones: Option<Vec<String>>,
    load_balancer_names: Vec<String>,
    #[serde(rename = "TargetGroupARNs")]
    target_group_arns: Vec<String>,
    traffic_sources: Vec<TrafficSourceIn>,
    health_check_type: Option<String>,
    health_check_grace_period: Option<i64>,
    placement_group: Option<String>,
    #[serde(rename = "VPCZoneIdentifier")]
    vpc_zone_identifier: Option<String>,
    termination_policies: Option<Vec<String>>,
    new_instances_protected_from_scale_in: Option<bool>,
    capacity_rebalance: Option<bool>,
    tags: Vec<TagIn>,
    #[serde(rename = "ServiceLinkedRoleARN")]
    service_linked_role_arn: Option<String>,
    max_instance_lifetime: Option<i64>,
    context: Option<String>,
    desired_capacity_type: Option<String>,
    default_instance_warmup: Option<i64>,
    deletion_protection: Option<String>,
    lifecycle_hook_specification_list: Vec<HookSpecification>,
    instance_maintenance_policy: Option<Value>,
    availability_zone_distribution: Option<Value>,
    availability_zone_impairment_policy: Option<Value>,
    capacity_reservation_specification: Option<Value>,
    instance_lifecycle_policy: Option<Value>,
}

impl GroupInput {
    /// The members accepted and echoed as given, by name.
    fn passthrough(&self) -> impl Iterator<Item = (String, Value)> + '_ {
        [
            (
                "InstanceMaintenancePolicy",
                &self.instance_maintenance_policy,
            ),
            (
                "AvailabilityZoneDistribution",
                &self.availability_zone_distribution,
            ),
            (
                "AvailabilityZoneImpairmentPolicy",
                &self.availability_zone_impairment_policy,
            ),
            (
                "CapacityReservationSpecification",
                &self.capacity_reservation_specification,
            ),
            ("InstanceLifecyclePolicy", &self.instance_lifecycle_policy),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v.clone()?)))
    }
}

fn launch_source(
    a: &AutoScalingStore,
    ec2: &Ec2Store,
    profiles: &[ProfileRef],
    req: &GroupInput,
) -> Result<(Option<String>, Option<TemplateRef>), ApiError> {
    if let Some(lc) = &req.launch_configuration_name {
        if !a.launch_configurations.contains_key(lc) {
            return Err(lc_not_found(lc));
        }
        return Ok((Some(lc.clone()), None));
    }
    if let Some(spec) = &req.launch_template {
        return Ok((None, Some(resolve_template(ec2, profiles, spec)?)));
    }
    if let Some(policy) = &req.mixed_instances_policy {
        let spec = mixed_template(policy).ok_or_else(|| {
            validation("The specified MixedInstancesPolicy is missing a launch template.")
        })?;
        resolve_template(ec2, profiles, &spec)?;
        super::mixed::check_policy(policy)?;
    }
    Ok((None, None))
}

/// CreateAutoScalingGroup.
pub fn create_auto_scaling_group(
    ctx: &RequestContext,
    state: &AppState,
    req: GroupInput,
) -> Result<(), ApiError> {
    let passthrough: BTreeMap<String, Value> = req.passthrough().collect();
    let name = req.auto_scaling_group_name.clone();
    let sources_given = [
        req.launch_configuration_name.is_some(),
        req.launch_template.is_some(),
        req.mixed_instances_policy.is_some(),
        req.instance_id.is_some(),
    ];
    if sources_given.iter().filter(|b| **b).count() != 1 {
        return Err(validation(
            "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
        ));
    }
    let (min, max) = (req.min_size.unwrap_or(0), req.max_size.unwrap_or(0));
    let desired = req.desired_capacity.unwrap_or(min);
    check_bounds(min, max, desired)?;
    let health_check_type = req
        .health_check_type
        .clone()
        .unwrap_or_else(|| "EC2".into());
    check_health_check_type(&health_check_type)?;
    let termination_policies = req
        .termination_policies
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| vec!["Default".into()]);
    check_termination_policies(&termination_policies)?;
    if let Some(l) = req.max_instance_lifetime
        && l != 0
        && l < 86_400
    {
        return Err(validation(
            "The maximum instance lifetime must be equal to 0, between 86400 and 31536000 seconds (inclusive).",
        ));
    }
    let tags = group_tags(&name, &req.tags)?;
    let scope = &ctx.scope;
    let sources = traffic_sources(
        state,
        scope,
        &req.load_balancer_names,
        &req.target_group_arns,
        &req.traffic_sources,
        "InService",
    )?;
    let now = state.clock.now();
    // Copied out now: IAM lives in the account's global scope, not under this scope's lock.
    let profiles = profiles_of(state, &scope.account);
    state.stores.with(scope, |s| {
        s.ec2.ensure_defaults(scope, state);
        if s.autoscaling.groups.contains_key(&name) {
            return Err(AutoScalingError::AlreadyExists.with(format!(
                    "AutoScalingGroup by this name already exists - A group with the name {name} already exists"
                ),
            ));
        }
        let (mut lc, mut lt) = launch_source(&s.autoscaling, &s.ec2, &profiles, &req)?;
        let mut vpc_zone_identifier = req.vpc_zone_identifier.clone();
        let zones = req.availability_zones.clone();
        // InstanceId: AWS makes the group from the instance's settings (a configuration of
        // the same name as the group, in the instance's subnet).
        if let Some(id) = &req.instance_id {
            let i = s
                .ec2
                .instances
                .get(id)
                .ok_or_else(|| validation(format!("Invalid instance id: {id}")))?;
            if let Some((tid, version)) = &i.launch_template {
                let name = s.ec2.launch_templates.get(tid).map(|t| t.name.clone());
                lt = Some(TemplateRef {
                    id: tid.clone(),
                    name: name.unwrap_or_default(),
                    version: Some(version.clone()),
                });
            } else {
                let data = LaunchConfigData {
                    image_id: Some(i.image_id.clone()),
                    instance_type: Some(i.instance_type.clone()),
                    security_groups: i.security_groups.clone(),
                    key_name: i.key_name.clone(),
                    instance_monitoring: Some(InstanceMonitoring {
                        enabled: Some(i.monitoring),
                    }),
                    ..LaunchConfigData::default()
                };
                let arn = ids::arn(
                    "autoscaling",
                    &scope.region,
                    &scope.account,
                    &format!(
                        "launchConfiguration:{}:launchConfigurationName/{name}",
                        state.ids.uuid()
                    ),
                );
                s.autoscaling.launch_configurations.insert(
                    name.clone(),
                    super::store::LaunchConfiguration {
                        name: name.clone(),
                        arn,
                        created_time: now,
                        data,
                    },
                );
                lc = Some(name.clone());
            }
            if vpc_zone_identifier.is_none() && zones.is_none() {
                vpc_zone_identifier = Some(i.subnet_id.clone());
            }
        }
        let (availability_zones, subnets) = placement(
            &s.ec2,
            scope,
            zones.as_ref(),
            vpc_zone_identifier.as_deref(),
        )?;
        let arn = ids::arn(
            "autoscaling",
            &scope.region,
            &scope.account,
            &format!(
                "autoScalingGroup:{}:autoScalingGroupName/{name}",
                state.ids.uuid()
            ),
        );
        let mut group = Group {
            name: name.clone(),
            arn,
            created_time: now,
            launch_configuration_name: lc,
            launch_template: lt,
            mixed_instances_policy: req
                .mixed_instances_policy
                .as_ref()
                .map(super::mixed::with_defaults),
            min_size: min,
            max_size: max,
            desired_capacity: 0,
            default_cooldown: req.default_cooldown.unwrap_or(300),
            availability_zones,
            subnets,
            vpc_zone_identifier: vpc_zone_identifier.filter(|v| !v.is_empty()),
            traffic_sources: sources,
            health_check_type,
            health_check_grace_period: req.health_check_grace_period.unwrap_or(0),
            termination_policies,
            new_instances_protected_from_scale_in: req
                .new_instances_protected_from_scale_in
                .unwrap_or(false),
            placement_group: req.placement_group.clone(),
            service_linked_role_arn: req.service_linked_role_arn.clone().unwrap_or_else(|| {
                format!(
                    "arn:aws:iam::{}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
                    scope.account
                )
            }),
            max_instance_lifetime: req.max_instance_lifetime.filter(|l| *l > 0),
            capacity_rebalance: req.capacity_rebalance.unwrap_or(false),
            context: req.context.clone(),
            desired_capacity_type: req.desired_capacity_type.clone(),
            default_instance_warmup: req.default_instance_warmup.filter(|w| *w >= 0),
            deletion_protection: req.deletion_protection.clone(),
            passthrough,
            tags,
            ..Group::default()
        };
        for spec in &req.lifecycle_hook_specification_list {
            if let Some(hook) = spec.hook() {
                group.lifecycle_hooks.insert(hook.name.clone(), hook);
            }
        }
        set_desired_capacity(
            &mut group,
            desired,
            "a user request created an AutoScalingGroup",
            now,
        );
        tracing::info!(group = %name, min, max, desired, "auto scaling group created");
        s.autoscaling.groups.insert(name.clone(), group.into());
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

/// UpdateAutoScalingGroup: only the members given change (Auto Scaling API Reference,
/// UpdateAutoScalingGroup).
pub fn update_auto_scaling_group(
    ctx: &RequestContext,
    state: &AppState,
    req: GroupInput,
) -> Result<(), ApiError> {
    let passthrough: Vec<(String, Value)> = req.passthrough().collect();
    if let Some(t) = &req.health_check_type {
        check_health_check_type(t)?;
    }
    if let Some(p) = req.termination_policies.as_ref().filter(|p| !p.is_empty()) {
        check_termination_policies(p)?;
    }
    let scope = &ctx.scope;
    let now = state.clock.now();
    let profiles = profiles_of(state, &scope.account);
    state.stores.with(scope, |s| {
        let name = &req.auto_scaling_group_name;
        let g = s.autoscaling.group(name)?;
        let min = req.min_size.unwrap_or(g.min_size);
        let max = req.max_size.unwrap_or(g.max_size);
        let desired = match req.desired_capacity {
            Some(d) => d,
            None => g.desired_capacity.clamp(min, max.max(min)),
        };
        check_bounds(min, max, desired)?;
        let given_source = req.launch_configuration_name.is_some()
            || req.launch_template.is_some()
            || req.mixed_instances_policy.is_some();
        let (lc, lt) = if given_source {
            launch_source(&s.autoscaling, &s.ec2, &profiles, &req)?
        } else {
            (g.launch_configuration_name.clone(), g.launch_template.clone())
        };
        let placed = if req.availability_zones.is_some() || req.vpc_zone_identifier.is_some() {
            Some(placement(
                &s.ec2,
                scope,
                req.availability_zones.as_ref(),
                req.vpc_zone_identifier.as_deref(),
            )?)
        } else {
            None
        };
        let g = s.autoscaling.group_mut(name)?;
        if given_source {
            g.launch_configuration_name = lc;
            g.launch_template = lt;
            g.mixed_instances_policy = req
                .mixed_instances_policy
                .as_ref()
                .map(super::mixed::with_defaults);
        }
        if let Some((azs, subnets)) = placed {
            g.availability_zones = azs;
            g.subnets = subnets;
            g.vpc_zone_identifier = req.vpc_zone_identifier.clone().filter(|v| !v.is_empty());
        }
        g.min_size = min;
        g.max_size = max;
        macro_rules! set {
            ($field:ident, $value:expr) => {
                if let Some(v) = $value {
                    g.$field = v;
                }
            };
        }
        set!(default_cooldown, req.default_cooldown);
        set!(health_check_type, req.health_check_type.clone());
        set!(health_check_grace_period, req.health_check_grace_period);
        set!(
            termination_policies,
            req.termination_policies.clone().filter(|p| !p.is_empty())
        );
        set!(
            new_instances_protected_from_scale_in,
            req.new_instances_protected_from_scale_in
        );
        set!(capacity_rebalance, req.capacity_rebalance);
        if let Some(pg) = &req.placement_group {
            g.placement_group = Some(pg.clone()).filter(|p| !p.is_empty());
        }
        if let Some(l) = req.max_instance_lifetime {
            g.max_instance_lifetime = (l > 0).then_some(l);
        }
        if let Some(w) = req.default_instance_warmup {
            g.default_instance_warmup = (w >= 0).then_some(w);
        }
        if req.context.is_some() {
            g.context = req.context.clone();
        }
        if req.desired_capacity_type.is_some() {
            g.desired_capacity_type = req.desired_capacity_type.clone();
        }
        if req.deletion_protection.is_some() {
            g.deletion_protection = req.deletion_protection.clone();
        }
        for (k, v) in passthrough {
            g.passthrough.insert(k, v);
        }
        let trigger = format!(
            "a user request update of AutoScalingGroup constraints to min: {min}, max: {max}, desired: {desired}"
        );
        set_desired_capacity(g, desired, &trigger, now);
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteInput {
    auto_scaling_group_name: String,
    force_delete: bool,
}

/// DeleteAutoScalingGroup: `ResourceInUse` with instances, `ScalingActivityInProgress` while
/// an activity runs; ForceDelete terminates the instances (no hooks) and the reconciler removes
/// the group once they are gone. Policies go with it, and so do alarms left without actions.
pub fn delete_auto_scaling_group(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteInput,
) -> Result<(), ApiError> {
    let scope = &ctx.scope;
    let name = req.auto_scaling_group_name;
    let policy_arns = state.stores.with(scope, |s| {
        let a = &mut s.autoscaling;
        let g = a.group(&name)?;
        match g.deletion_protection.as_deref() {
            Some("prevent-all-deletion") => {
                return Err(validation(format!(
                    "Deletion protection is enabled for AutoScalingGroup {name}. Disable deletion protection to delete the group."
                )));
            }
            Some("prevent-force-deletion") if req.force_delete => {
                return Err(validation(format!(
                    "Force deletion is prevented for AutoScalingGroup {name}."
                )));
            }
            _ => {}
        }
        let members = g
            .instances
            .values()
            .filter(|i| !i.lifecycle_state.is_leaving())
            .count();
        if !req.force_delete {
            if members > 0 {
                return Err(AutoScalingError::ResourceInUse.with("You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.",
                ));
            }
            if g.activity_in_progress().is_some() {
                return Err(AutoScalingError::ScalingActivityInProgress.with("You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.",
                ));
            }
        }
        let arns: Vec<String> = a.policies_of(&name).map(|p| p.arn.clone()).collect();
        for arn in &arns {
            a.policies.shift_remove(arn);
        }
        a.scheduled_actions.retain(|(g, _), _| *g != name);
        let g = a.group_mut(&name)?;
        if g.instances.is_empty() {
            a.groups.shift_remove(&name);
        } else {
            // Force delete: every instance goes, no hooks, no replacement.
            g.status = Some("Delete in progress".into());
            g.min_size = 0;
            g.desired_capacity = 0;
            g.pending_cause = None;
            g.lifecycle_hooks.clear();
            g.warm_pool = None;
            let reason = format!(
                "At {} an instance was taken out of service in response to a user request.",
                super::store::iso_seconds(state.clock.now())
            );
            for i in g.instances.values_mut() {
                i.lifecycle_action = None;
                if !i.lifecycle_state.is_leaving() || i.termination_reason.is_none() {
                    i.termination_reason =
                        Some(super::store::TerminationReason::Other(reason.clone()));
                    i.terminate_hooks_done = true;
                }
            }
        }
        tracing::info!(group = %name, force = req.force_delete, "auto scaling group delete");
        Ok(arns)
    })?;
    policies::detach_from_alarms(state, scope, &policy_arns, true);
    state.touched(Topic::AutoScaling | Topic::CloudWatch);
    Ok(())
}
