//! DescribeAutoScalingGroups (filters, pagination), DescribeAutoScalingInstances, and the
//! output shapes of a group and its instances.

use serde::Deserialize;
use serde_json::{Value, json};

use super::store::{Group, GroupInstance, TemplateRef};
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::timestamp::epoch_number;
use crate::services::parse_input;
use crate::state::AppState;

/// One page of `rows` for `MaxRecords`/`NextToken` (the token is the offset of the next row;
/// `MaxRecords` is 1–100, `default` when absent).
pub fn page<T>(
    mut rows: Vec<T>,
    max_records: Option<i64>,
    next_token: Option<&str>,
    default: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match max_records {
        None => default,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value {} 100",
                if n < 1 {
                    "greater than or equal to 1, and less than or equal to"
                } else {
                    "less than or equal to"
                }
            )));
        }
    };
    let start = match next_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= rows.len())
            .ok_or_else(|| validation("The token provided is invalid."))?,
    };
    let end = (start + max).min(rows.len());
    let next = (end < rows.len()).then(|| end.to_string());
    rows.truncate(end);
    Ok((rows.split_off(start), next))
}

/// `LaunchTemplateSpecification` output.
pub fn template_json(t: &TemplateRef) -> Value {
    let mut v = json!({"LaunchTemplateId": t.id, "LaunchTemplateName": t.name});
    if let Some(ver) = &t.version {
        v["Version"] = json!(ver);
    }
    v
}

/// The `Instance` shape inside a group (`HealthStatus` `Healthy`/`Unhealthy`).
pub fn instance_json(i: &GroupInstance) -> Value {
    let mut v = json!({
        "InstanceId": i.id,
        "InstanceType": i.instance_type,
        "AvailabilityZone": i.availability_zone,
        "LifecycleState": i.lifecycle_state.as_str(),
        "HealthStatus": if i.healthy { "Healthy" } else { "Unhealthy" },
        "ProtectedFromScaleIn": i.protected_from_scale_in,
    });
    if let Some(lc) = &i.launch_configuration_name {
        v["LaunchConfigurationName"] = json!(lc);
    }
    if let Some(t) = &i.launch_template {
        v["LaunchTemplate"] = template_json(t);
    }
    if let Some(w) = &i.weighted_capacity {
        v["WeightedCapacity"] = json!(w);
    }
    v
}

/// The `AutoScalingGroup` output shape.
pub fn group_json(g: &Group) -> Value {
    let lbs = g.load_balancer_names();
    let tgs = g.target_group_arns();
    let sources: Vec<Value> = g
        .traffic_sources
        .iter()
        .map(|t| json!({"Identifier": t.identifier, "Type": t.kind}))
        .collect();
    let mut v = json!({
        "AutoScalingGroupName": g.name,
        "AutoScalingGroupARN": g.arn,
        "MinSize": g.min_size,
        "MaxSize": g.max_size,
        "DesiredCapacity": g.desired_capacity,
        "DefaultCooldown": g.default_cooldown,
        "AvailabilityZones": g.availability_zones,
        "LoadBalancerNames": lbs,
        "TargetGroupARNs": tgs,
        "HealthCheckType": g.health_check_type,
        "HealthCheckGracePeriod": g.health_check_grace_period,
        "Instances": g.instances.values()
            .filter(|i| !i.lifecycle_state.is_warmed())
            .map(instance_json).collect::<Vec<_>>(),
        "CreatedTime": epoch_number(g.created_time),
        "SuspendedProcesses": g.suspended_processes.iter()
            .map(|(p, r)| json!({"ProcessName": p, "SuspensionReason": r}))
            .collect::<Vec<_>>(),
        "EnabledMetrics": g.enabled_metrics.iter()
            .map(|(m, gr)| json!({"Metric": m, "Granularity": gr}))
            .collect::<Vec<_>>(),
        "Tags": g.tags.iter().map(|t| json!({
            "ResourceId": g.name, "ResourceType": "auto-scaling-group",
            "Key": t.key, "Value": t.value, "PropagateAtLaunch": t.propagate_at_launch,
        })).collect::<Vec<_>>(),
        "TerminationPolicies": g.termination_policies,
        "NewInstancesProtectedFromScaleIn": g.new_instances_protected_from_scale_in,
        "ServiceLinkedRoleARN": g.service_linked_role_arn,
        "CapacityRebalance": g.capacity_rebalance,
        "TrafficSources": sources,
    });
    let opt = [
        (
            "LaunchConfigurationName",
            g.launch_configuration_name.clone().map(Value::from),
        ),
        (
            "LaunchTemplate",
            g.launch_template.as_ref().map(template_json),
        ),
        ("MixedInstancesPolicy", g.mixed_instances_policy.clone()),
        (
            "VPCZoneIdentifier",
            g.vpc_zone_identifier.clone().map(Value::from),
        ),
        ("PlacementGroup", g.placement_group.clone().map(Value::from)),
        (
            "MaxInstanceLifetime",
            g.max_instance_lifetime.map(Value::from),
        ),
        ("Context", g.context.clone().map(Value::from)),
        (
            "DesiredCapacityType",
            g.desired_capacity_type.clone().map(Value::from),
        ),
        (
            "DefaultInstanceWarmup",
            g.default_instance_warmup.map(Value::from),
        ),
        (
            "DeletionProtection",
            g.deletion_protection.clone().map(Value::from),
        ),
        ("Status", g.status.clone().map(Value::from)),
    ];
    for (k, val) in opt {
        if let Some(val) = val {
            v[k] = val;
        }
    }
    if let Some(w) = &g.warm_pool {
        let mut wp = json!({"MinSize": w.min_size, "PoolState": w.pool_state});
        if let Some(m) = w.max_group_prepared_capacity {
            wp["MaxGroupPreparedCapacity"] = json!(m);
        }
        if let Some(s) = &w.status {
            wp["Status"] = json!(s);
        }
        if let Some(p) = &w.instance_reuse_policy {
            wp["InstanceReusePolicy"] = p.clone();
        }
        v["WarmPoolConfiguration"] = wp;
        v["WarmPoolSize"] = json!(
            g.instances
                .values()
                .filter(|i| i.lifecycle_state.is_warmed())
                .count()
        );
    }
    for (k, val) in &g.passthrough {
        v[k.as_str()] = val.clone();
    }
    v
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct FilterIn {
    name: String,
    values: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeGroupsInput {
    auto_scaling_group_names: Vec<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
    filters: Vec<FilterIn>,
    include_instances: Option<bool>,
}

/// Whether a group passes one filter (`tag-key`, `tag-value`, `tag:<key>`).
fn filter_matches(g: &Group, f: &FilterIn) -> Result<bool, ApiError> {
    let name = f.name.as_str();
    Ok(if name == "tag-key" {
        g.tags.iter().any(|t| f.values.contains(&t.key))
    } else if name == "tag-value" {
        g.tags.iter().any(|t| f.values.contains(&t.value))
    } else if let Some(key) = name.strip_prefix("tag:") {
        g.tags
            .iter()
            .any(|t| t.key == key && f.values.contains(&t.value))
    } else {
        return Err(validation(format!(
            "Filter type {name} is not correct. Allowed Filter types are: tag-key tag-value tag:<key> "
        )));
    })
}

/// DescribeAutoScalingGroups.
pub fn describe_auto_scaling_groups(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeGroupsInput = parse_input(input)?;
    if req.auto_scaling_group_names.len() > 50 && req.max_records.is_none_or(|m| m <= 50) {
        return Err(validation(
            "The number of group names that may be passed in is limited to 50",
        ));
    }
    let groups: Vec<Value> = state.stores.with(&ctx.scope, |s| {
        let mut out = Vec::new();
        let chosen: Vec<&Group> = if req.auto_scaling_group_names.is_empty() {
            s.autoscaling.groups.values().collect()
        } else {
            req.auto_scaling_group_names
                .iter()
                .filter_map(|n| s.autoscaling.groups.get(n))
                .collect()
        };
        for g in chosen {
            let mut keep = true;
            for f in &req.filters {
                keep &= filter_matches(g, f)?;
            }
            if keep {
                let mut v = group_json(g);
                if req.include_instances == Some(false) {
                    v.as_object_mut().map(|o| o.remove("Instances"));
                }
                out.push(v);
            }
        }
        Ok::<_, ApiError>(out)
    })?;
    let (items, next) = page(groups, req.max_records, req.next_token.as_deref(), 50)?;
    let mut out = json!({ "AutoScalingGroups": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInstancesInput {
    instance_ids: Vec<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// DescribeAutoScalingInstances (`HealthStatus` in upper case here, research §0.8).
pub fn describe_auto_scaling_instances(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInstancesInput = parse_input(input)?;
    let rows: Vec<Value> = state.stores.with(&ctx.scope, |s| {
        let mut rows = Vec::new();
        for g in s.autoscaling.groups.values() {
            for i in g.instances.values() {
                if !req.instance_ids.is_empty() && !req.instance_ids.contains(&i.id) {
                    continue;
                }
                let mut v = instance_json(i);
                v["AutoScalingGroupName"] = json!(g.name);
                v["HealthStatus"] = json!(if i.healthy { "HEALTHY" } else { "UNHEALTHY" });
                rows.push(v);
            }
        }
        rows
    });
    let (items, next) = page(rows, req.max_records, req.next_token.as_deref(), 50)?;
    let mut out = json!({ "AutoScalingInstances": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
