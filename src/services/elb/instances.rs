//! Registering instances and what DescribeInstanceHealth says about them, plus the entry
//! points Auto Scaling calls.

use serde::{Deserialize, Serialize};

use super::errors::ElbError;
use super::store::{LoadBalancer, Registered, Verdict};
use super::{not_found, with_lb};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::ec2::store::{Ec2Store, InstanceState};
use crate::services::errors::ErrorCode;
use crate::state::{AppState, RegionStores, Scope};

/// `InstanceState` of DescribeInstanceHealth: (State, ReasonCode, Description).
pub type HealthState = (&'static str, &'static str, &'static str);

/// In service.
pub const IN_SERVICE: HealthState = ("InService", "N/A", "N/A");
/// No verdict yet.
pub const REGISTERING: HealthState = (
    "OutOfService",
    "ELB",
    "Instance registration is still in progress.",
);
/// Failed its checks.
pub const FAILED: HealthState = (
    "OutOfService",
    "Instance",
    "Instance has failed at least the UnhealthyThreshold number of health checks consecutively.",
);
/// In a zone the load balancer does not serve.
pub const WRONG_ZONE: HealthState = (
    "OutOfService",
    "ELB",
    "Instance is in the EC2 Availability Zone for which LoadBalancer is not configured to route traffic to.",
);
/// Deregistered, draining.
pub const DEREGISTERING: HealthState = (
    "InService",
    "N/A",
    "Instance deregistration currently in progress.",
);
/// Asked about, not registered.
pub const NOT_REGISTERED: HealthState = (
    "OutOfService",
    "N/A",
    "Instance is not currently registered with the LoadBalancer.",
);

/// What DescribeInstanceHealth says about an instance (`None`: not shown, i.e. terminated).
pub fn health_state(
    lb: &LoadBalancer,
    id: &str,
    ec2_state: Option<InstanceState>,
    zone: Option<&str>,
) -> Option<HealthState> {
    let ec2_state = ec2_state?;
    if ec2_state == InstanceState::Terminated {
        return None;
    }
    let Some(reg) = lb.instances.get(id) else {
        return Some(if lb.draining.contains_key(id) {
            DEREGISTERING
        } else {
            NOT_REGISTERED
        });
    };
    Some(match ec2_state {
        InstanceState::Pending => ("OutOfService", "Instance", "Instance is in pending state."),
        InstanceState::Stopping | InstanceState::Stopped => {
            ("OutOfService", "Instance", "Instance is in stopped state.")
        }
        InstanceState::ShuttingDown | InstanceState::Terminated => (
            "OutOfService",
            "Instance",
            "Instance is in terminated state.",
        ),
        InstanceState::Running
            if zone.is_some_and(|z| !lb.availability_zones.iter().any(|a| a == z)) =>
        {
            WRONG_ZONE
        }
        InstanceState::Running => match reg.verdict {
            Verdict::Registering => REGISTERING,
            Verdict::InService => IN_SERVICE,
            Verdict::Failed => FAILED,
        },
    })
}

fn invalid_instance(id: &str) -> ApiError {
    ElbError::InvalidInstance.with(format!("Could not find EC2 instance {id}."))
}

/// Check that instances exist, are not terminated and sit in the load balancer's VPC.
fn check_instances(ec2: &Ec2Store, lb: &LoadBalancer, ids: &[String]) -> Result<(), ApiError> {
    for id in ids {
        let i = ec2.instances.get(id).ok_or_else(|| invalid_instance(id))?;
        if matches!(
            i.state,
            InstanceState::Terminated | InstanceState::ShuttingDown
        ) {
            return Err(ElbError::InvalidInstance.with(format!(
                "EC2 instance {id} is not in a valid state: {}.",
                i.state.name()
            )));
        }
        if i.vpc_id != lb.vpc_id {
            return Err(ElbError::InvalidInstance.with(format!(
                "EC2 instance {id} is not in the same VPC as load balancer {}.",
                lb.name
            )));
        }
    }
    Ok(())
}

/// `Instance`: a registered instance's id.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceOut<'a> {
    instance_id: &'a str,
}

impl<'a> InstanceOut<'a> {
    /// The instances registered with `lb`.
    pub fn all(lb: &'a LoadBalancer) -> Vec<Self> {
        lb.instances
            .keys()
            .map(|id| Self { instance_id: id })
            .collect()
    }
}

/// The output of Register/DeregisterInstances…: the instances registered afterwards.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstancesOutput {
    instances: Vec<InstanceIdOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceIdOut {
    instance_id: String,
}

fn listed(lb: &LoadBalancer) -> InstancesOutput {
    InstancesOutput {
        instances: lb
            .instances
            .keys()
            .map(|id| InstanceIdOut {
                instance_id: id.clone(),
            })
            .collect(),
    }
}

/// Register instances (already registered ones stay as they are).
pub fn register_internal(
    state: &AppState,
    scope: &Scope,
    name: &str,
    instance_ids: &[String],
) -> Result<(), ApiError> {
    register_ids(state, scope, name, instance_ids).map(|_| ())
}

fn register_ids(
    state: &AppState,
    scope: &Scope,
    name: &str,
    ids: &[String],
) -> Result<InstancesOutput, ApiError> {
    let now = state.clock.now();
    with_lb(state, scope, name, |lb, s| {
        check_instances(&s.ec2, lb, ids)?;
        for id in ids {
            if !lb.instances.contains_key(id) {
                // Registering again while draining cancels the drain.
                lb.draining.shift_remove(id);
                lb.instances
                    .insert(id.clone(), Registered::new(now, lb.health_check.interval));
            }
        }
        Ok(listed(lb))
    })
}

/// Deregister instances: drained for the ConnectionDraining timeout when draining is on.
/// Instances that exist but are not registered are ignored.
pub fn deregister_internal(
    state: &AppState,
    scope: &Scope,
    name: &str,
    instance_ids: &[String],
) -> Result<(), ApiError> {
    deregister_ids(state, scope, name, instance_ids).map(|_| ())
}

fn deregister_ids(
    state: &AppState,
    scope: &Scope,
    name: &str,
    ids: &[String],
) -> Result<InstancesOutput, ApiError> {
    let now = state.clock.now();
    with_lb(state, scope, name, |lb, s| {
        for id in ids {
            if !s.ec2.instances.contains_key(id) {
                return Err(invalid_instance(id));
            }
        }
        for id in ids {
            if let Some(reg) = lb.instances.shift_remove(id)
                && lb.attributes.draining_enabled
            {
                let until = now + lb.attributes.draining_timeout as f64;
                lb.draining.insert(id.clone(), (until, reg.inflight));
            }
        }
        Ok(listed(lb))
    })
}

/// The health checker's verdict on a registered instance: `Some(true)` InService,
/// `Some(false)` OutOfService (failed checks, stopped, wrong zone), `None` when there is no
/// verdict yet or the instance (or load balancer) is not registered.
pub fn instance_in_service(
    state: &AppState,
    scope: &Scope,
    name: &str,
    instance_id: &str,
) -> Option<bool> {
    state
        .stores
        .with(scope, |s| instance_in_service_in(s, name, instance_id))
}

/// [`instance_in_service`] inside the caller's lock on the region's stores.
pub fn instance_in_service_in(s: &RegionStores, name: &str, instance_id: &str) -> Option<bool> {
    let lb = s.elb.load_balancers.get(name)?;
    if !lb.instances.contains_key(instance_id) {
        return None;
    }
    let i = s.ec2.instances.get(instance_id);
    let st = health_state(
        lb,
        instance_id,
        i.map(|i| i.state),
        i.map(|i| i.availability_zone.as_str()),
    )?;
    match st {
        REGISTERING => None,
        (state, _, _) => Some(state == "InService"),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceRef {
    instance_id: Option<String>,
}

/// The input of Register/DeregisterInstances… and DescribeInstanceHealth.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstancesInput {
    load_balancer_name: String,
    instances: Option<Vec<InstanceRef>>,
}

fn ids_of(req: &InstancesInput) -> Vec<String> {
    req.instances
        .iter()
        .flatten()
        .filter_map(|i| i.instance_id.clone())
        .collect()
}

/// RegisterInstancesWithLoadBalancer.
pub fn register_instances_with_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: InstancesInput,
) -> Result<InstancesOutput, ApiError> {
    register_ids(state, &ctx.scope, &req.load_balancer_name, &ids_of(&req))
}

/// DeregisterInstancesFromLoadBalancer.
pub fn deregister_instances_from_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: InstancesInput,
) -> Result<InstancesOutput, ApiError> {
    deregister_ids(state, &ctx.scope, &req.load_balancer_name, &ids_of(&req))
}

/// `InstanceState` of DescribeInstanceHealth.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceStateOut {
    instance_id: String,
    state: &'static str,
    reason_code: &'static str,
    description: &'static str,
}

/// DescribeInstanceHealth's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstanceHealthOutput {
    instance_states: Vec<InstanceStateOut>,
}

/// DescribeInstanceHealth: every registered (and draining) instance, or the ones asked about.
pub fn describe_instance_health(
    ctx: &RequestContext,
    state: &AppState,
    req: InstancesInput,
) -> Result<DescribeInstanceHealthOutput, ApiError> {
    let asked = ids_of(&req);
    let name = req.load_balancer_name.clone();
    state.stores.with(&ctx.scope, |s| {
        let lb = s
            .elb
            .load_balancers
            .get(&name)
            .ok_or_else(|| not_found(&name))?;
        let ids: Vec<String> = if asked.is_empty() {
            lb.instances
                .keys()
                .chain(lb.draining.keys())
                .cloned()
                .collect()
        } else {
            for id in &asked {
                if !s.ec2.instances.contains_key(id) {
                    return Err(invalid_instance(id));
                }
            }
            asked
        };
        let instance_states = ids
            .into_iter()
            .filter_map(|id| {
                let i = s.ec2.instances.get(&id);
                let (state, reason_code, description) = health_state(
                    lb,
                    &id,
                    i.map(|i| i.state),
                    i.map(|i| i.availability_zone.as_str()),
                )?;
                Some(InstanceStateOut {
                    instance_id: id,
                    state,
                    reason_code,
                    description,
                })
            })
            .collect();
        Ok(DescribeInstanceHealthOutput { instance_states })
    })
}
