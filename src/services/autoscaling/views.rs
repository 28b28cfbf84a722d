//! The output shapes several Auto Scaling operations share: a group, its instances, a launch
//! template reference, a warm pool's configuration, and kept request members echoed back.
//! Fields are in the model's member order (see `protocol::output`).

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::store::{Group, GroupInstance, TemplateRef, WarmPool};
use crate::protocol::output::Timestamp;
use crate::services::echo::Echo;

/// A member kept as the caller gave it, echoed as the Auto Scaling model shape `shape`.
#[derive(Debug, Clone)]
pub struct Kept {
    shape: &'static str,
    value: Value,
}

impl Kept {
    /// `value` echoed as `shape`.
    pub fn new(shape: &'static str, value: Value) -> Self {
        Self { shape, value }
    }

    /// `value`, when given, echoed as `shape`.
    pub fn opt(shape: &'static str, value: Option<&Value>) -> Option<Self> {
        value.map(|v| Self::new(shape, v.clone()))
    }
}

impl Serialize for Kept {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Echo::new("autoscaling", self.shape, &self.value).serialize(serializer)
    }
}

/// `LaunchTemplateSpecification`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplateOut {
    launch_template_id: String,
    launch_template_name: String,
    version: Option<String>,
}

impl TemplateOut {
    /// The reference as a group stores it (no `Version` when none was given).
    pub fn new(t: &TemplateRef) -> Self {
        Self {
            launch_template_id: t.id.clone(),
            launch_template_name: t.name.clone(),
            version: t.version.clone(),
        }
    }
}

/// The `Instance` shape of a group (and, with its group's name, `AutoScalingInstanceDetails`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceOut {
    instance_id: String,
    instance_type: String,
    /// Only in `AutoScalingInstanceDetails`.
    auto_scaling_group_name: Option<String>,
    availability_zone: String,
    lifecycle_state: &'static str,
    health_status: &'static str,
    launch_configuration_name: Option<String>,
    launch_template: Option<TemplateOut>,
    image_id: Option<String>,
    protected_from_scale_in: bool,
    weighted_capacity: Option<String>,
}

impl InstanceOut {
    /// A group member as DescribeAutoScalingGroups lists it (`HealthStatus` `Healthy`).
    pub fn new(i: &GroupInstance) -> Self {
        Self {
            instance_id: i.id.clone(),
            instance_type: i.instance_type.clone(),
            auto_scaling_group_name: None,
            availability_zone: i.availability_zone.clone(),
            lifecycle_state: i.lifecycle_state.as_str(),
            health_status: if i.healthy { "Healthy" } else { "Unhealthy" },
            launch_configuration_name: i.launch_configuration_name.clone(),
            launch_template: i.launch_template.as_ref().map(TemplateOut::new),
            image_id: None,
            protected_from_scale_in: i.protected_from_scale_in,
            weighted_capacity: i.weighted_capacity.clone(),
        }
    }

    /// As DescribeAutoScalingInstances lists it: with its group, `HealthStatus` in capitals.
    pub fn details(i: &GroupInstance, group: &str) -> Self {
        Self {
            auto_scaling_group_name: Some(group.to_owned()),
            health_status: if i.healthy { "HEALTHY" } else { "UNHEALTHY" },
            ..Self::new(i)
        }
    }

    /// As DescribeWarmPool lists it: with its image, and `$Default` for an unversioned
    /// template.
    pub fn warmed(i: &GroupInstance) -> Self {
        let mut out = Self::new(i);
        if let Some(t) = &mut out.launch_template {
            t.version.get_or_insert_with(|| "$Default".to_owned());
        }
        out.image_id = Some(i.image_id.clone()).filter(|id| !id.is_empty());
        out
    }
}

/// `WarmPoolConfiguration`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WarmPoolOut {
    max_group_prepared_capacity: Option<i64>,
    min_size: i64,
    pool_state: String,
    status: Option<String>,
    instance_reuse_policy: Option<Kept>,
}

impl WarmPoolOut {
    /// The pool's configuration.
    pub fn new(p: &WarmPool) -> Self {
        Self {
            max_group_prepared_capacity: p.max_group_prepared_capacity,
            min_size: p.min_size,
            pool_state: p.pool_state.clone(),
            status: p.status.clone(),
            instance_reuse_policy: Kept::opt(
                "InstanceReusePolicy",
                p.instance_reuse_policy.as_ref(),
            ),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SuspendedProcessOut {
    process_name: String,
    suspension_reason: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnabledMetricOut {
    metric: String,
    granularity: String,
}

/// `TagDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagOut {
    resource_id: String,
    resource_type: &'static str,
    key: String,
    value: String,
    propagate_at_launch: bool,
}

impl TagOut {
    /// A tag of the group `group`.
    pub fn new(group: &str, key: &str, value: &str, propagate_at_launch: bool) -> Self {
        Self {
            resource_id: group.to_owned(),
            resource_type: "auto-scaling-group",
            key: key.to_owned(),
            value: value.to_owned(),
            propagate_at_launch,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TrafficSourceOut {
    identifier: String,
    #[serde(rename = "Type")]
    kind: String,
}

/// The `AutoScalingGroup` shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupOut {
    auto_scaling_group_name: String,
    #[serde(rename = "AutoScalingGroupARN")]
    auto_scaling_group_arn: String,
    launch_configuration_name: Option<String>,
    launch_template: Option<TemplateOut>,
    mixed_instances_policy: Option<Kept>,
    min_size: i64,
    max_size: i64,
    desired_capacity: i64,
    default_cooldown: i64,
    availability_zones: Vec<String>,
    load_balancer_names: Vec<String>,
    #[serde(rename = "TargetGroupARNs")]
    target_group_arns: Vec<String>,
    health_check_type: String,
    health_check_grace_period: i64,
    /// Left out when the caller asks for no instances.
    instances: Option<Vec<InstanceOut>>,
    created_time: Timestamp,
    suspended_processes: Vec<SuspendedProcessOut>,
    placement_group: Option<String>,
    #[serde(rename = "VPCZoneIdentifier")]
    vpc_zone_identifier: Option<String>,
    enabled_metrics: Vec<EnabledMetricOut>,
    status: Option<String>,
    tags: Vec<TagOut>,
    termination_policies: Vec<String>,
    new_instances_protected_from_scale_in: bool,
    #[serde(rename = "ServiceLinkedRoleARN")]
    service_linked_role_arn: String,
    max_instance_lifetime: Option<i64>,
    capacity_rebalance: bool,
    warm_pool_configuration: Option<WarmPoolOut>,
    warm_pool_size: Option<usize>,
    context: Option<String>,
    desired_capacity_type: Option<String>,
    default_instance_warmup: Option<i64>,
    traffic_sources: Vec<TrafficSourceOut>,
    instance_maintenance_policy: Option<Kept>,
    deletion_protection: Option<String>,
    availability_zone_distribution: Option<Kept>,
    availability_zone_impairment_policy: Option<Kept>,
    capacity_reservation_specification: Option<Kept>,
    instance_lifecycle_policy: Option<Kept>,
}

impl GroupOut {
    /// The group as described; `with_instances` false leaves `Instances` out.
    pub fn new(g: &Group, with_instances: bool) -> Self {
        let kept = |name: &'static str| Kept::opt(name, g.passthrough.get(name));
        Self {
            auto_scaling_group_name: g.name.clone(),
            auto_scaling_group_arn: g.arn.clone(),
            launch_configuration_name: g.launch_configuration_name.clone(),
            launch_template: g.launch_template.as_ref().map(TemplateOut::new),
            mixed_instances_policy: Kept::opt(
                "MixedInstancesPolicy",
                g.mixed_instances_policy.as_ref(),
            ),
            min_size: g.min_size,
            max_size: g.max_size,
            desired_capacity: g.desired_capacity,
            default_cooldown: g.default_cooldown,
            availability_zones: g.availability_zones.clone(),
            load_balancer_names: g.load_balancer_names(),
            target_group_arns: g.target_group_arns(),
            health_check_type: g.health_check_type.clone(),
            health_check_grace_period: g.health_check_grace_period,
            instances: with_instances.then(|| {
                g.instances
                    .values()
                    .filter(|i| !i.lifecycle_state.is_warmed())
                    .map(InstanceOut::new)
                    .collect()
            }),
            created_time: Timestamp(g.created_time),
            suspended_processes: g
                .suspended_processes
                .iter()
                .map(|(p, r)| SuspendedProcessOut {
                    process_name: p.clone(),
                    suspension_reason: r.clone(),
                })
                .collect(),
            placement_group: g.placement_group.clone(),
            vpc_zone_identifier: g.vpc_zone_identifier.clone(),
            enabled_metrics: g
                .enabled_metrics
                .iter()
                .map(|(m, gr)| EnabledMetricOut {
                    metric: m.clone(),
                    granularity: gr.clone(),
                })
                .collect(),
            status: g.status.clone(),
            tags: g
                .tags
                .iter()
                .map(|t| TagOut::new(&g.name, &t.key, &t.value, t.propagate_at_launch))
                .collect(),
            termination_policies: g.termination_policies.clone(),
            new_instances_protected_from_scale_in: g.new_instances_protected_from_scale_in,
            service_linked_role_arn: g.service_linked_role_arn.clone(),
            max_instance_lifetime: g.max_instance_lifetime,
            capacity_rebalance: g.capacity_rebalance,
            warm_pool_configuration: g.warm_pool.as_ref().map(WarmPoolOut::new),
            warm_pool_size: g.warm_pool.as_ref().map(|_| {
                g.instances
                    .values()
                    .filter(|i| i.lifecycle_state.is_warmed())
                    .count()
            }),
            context: g.context.clone(),
            desired_capacity_type: g.desired_capacity_type.clone(),
            default_instance_warmup: g.default_instance_warmup,
            traffic_sources: g
                .traffic_sources
                .iter()
                .map(|t| TrafficSourceOut {
                    identifier: t.identifier.clone(),
                    kind: t.kind.clone(),
                })
                .collect(),
            instance_maintenance_policy: kept("InstanceMaintenancePolicy"),
            deletion_protection: g.deletion_protection.clone(),
            availability_zone_distribution: kept("AvailabilityZoneDistribution"),
            availability_zone_impairment_policy: kept("AvailabilityZoneImpairmentPolicy"),
            capacity_reservation_specification: kept("CapacityReservationSpecification"),
            instance_lifecycle_policy: kept("InstanceLifecyclePolicy"),
        }
    }
}
