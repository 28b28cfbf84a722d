//! Zones, subnets and security groups of a load balancer.

use serde::{Deserialize, Serialize};

use super::errors::ElbError;
use super::load_balancers::{check_security_groups, check_subnets, subnets_for_zones};
use super::{invalid_configuration, validation, with_lb};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// The input of the zone, subnet and security group operations.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ZonesInput {
    load_balancer_name: String,
    availability_zones: Vec<String>,
    subnets: Vec<String>,
    security_groups: Vec<String>,
}

/// The output of Enable/DisableAvailabilityZonesForLoadBalancer: the zones afterwards.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ZonesOutput {
    availability_zones: Vec<String>,
}

/// The output of Attach/DetachLoadBalancer…Subnets: the subnets afterwards.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubnetsOutput {
    subnets: Vec<String>,
}

/// ApplySecurityGroupsToLoadBalancer's output: the groups afterwards.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupsOutput {
    security_groups: Vec<String>,
}

/// EnableAvailabilityZonesForLoadBalancer: adds the zones' default subnets.
pub fn enable_availability_zones_for_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: ZonesInput,
) -> Result<ZonesOutput, ApiError> {
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, s| {
        let new: Vec<String> = req
            .availability_zones
            .iter()
            .filter(|z| !lb.availability_zones.contains(z))
            .cloned()
            .collect();
        let (vpc, subnets) = subnets_for_zones(&s.ec2, &new)?;
        if !new.is_empty() && vpc != lb.vpc_id {
            return Err(invalid_configuration(
                "The load balancer is not in the default VPC: attach subnets instead.",
            ));
        }
        lb.availability_zones.extend(new);
        lb.subnets.extend(subnets);
        Ok(ZonesOutput {
            availability_zones: lb.availability_zones.clone(),
        })
    })
}

/// DisableAvailabilityZonesForLoadBalancer.
pub fn disable_availability_zones_for_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: ZonesInput,
) -> Result<ZonesOutput, ApiError> {
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, s| {
        let keep: Vec<usize> = (0..lb.availability_zones.len())
            .filter(|&i| !req.availability_zones.contains(&lb.availability_zones[i]))
            .collect();
        if keep.is_empty() {
            return Err(validation(
                "Cannot disable all Availability Zones of a load balancer.",
            ));
        }
        let zones: Vec<String> = keep
            .iter()
            .map(|&i| lb.availability_zones[i].clone())
            .collect();
        lb.subnets.retain(|sn| {
            s.ec2
                .subnets
                .get(sn)
                .is_none_or(|x| zones.contains(&x.availability_zone))
        });
        lb.availability_zones = zones;
        Ok(ZonesOutput {
            availability_zones: lb.availability_zones.clone(),
        })
    })
}

/// AttachLoadBalancerToSubnets.
pub fn attach_load_balancer_to_subnets(
    ctx: &RequestContext,
    state: &AppState,
    req: ZonesInput,
) -> Result<SubnetsOutput, ApiError> {
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, s| {
        let new: Vec<String> = req
            .subnets
            .iter()
            .filter(|sn| !lb.subnets.contains(sn))
            .cloned()
            .collect();
        let mut all = lb.subnets.clone();
        all.extend(new);
        let (vpc, zones) = check_subnets(&s.ec2, &all)?;
        if vpc != lb.vpc_id {
            return Err(ElbError::InvalidSubnet.with(format!(
                "The subnets must belong to the load balancer's VPC {}.",
                lb.vpc_id
            )));
        }
        lb.subnets = all;
        lb.availability_zones = zones;
        Ok(SubnetsOutput {
            subnets: lb.subnets.clone(),
        })
    })
}

/// DetachLoadBalancerFromSubnets.
pub fn detach_load_balancer_from_subnets(
    ctx: &RequestContext,
    state: &AppState,
    req: ZonesInput,
) -> Result<SubnetsOutput, ApiError> {
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, s| {
        let keep: Vec<String> = lb
            .subnets
            .iter()
            .filter(|sn| !req.subnets.contains(sn))
            .cloned()
            .collect();
        if keep.is_empty() {
            return Err(validation("Cannot detach all subnets of a load balancer."));
        }
        let (_, zones) = check_subnets(&s.ec2, &keep)?;
        lb.subnets = keep;
        lb.availability_zones = zones;
        Ok(SubnetsOutput {
            subnets: lb.subnets.clone(),
        })
    })
}

/// ApplySecurityGroupsToLoadBalancer.
pub fn apply_security_groups_to_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: ZonesInput,
) -> Result<SecurityGroupsOutput, ApiError> {
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, s| {
        check_security_groups(&s.ec2, &lb.vpc_id, &req.security_groups)?;
        lb.security_groups = req.security_groups.clone();
        lb.security_groups.dedup();
        Ok(SecurityGroupsOutput {
            security_groups: lb.security_groups.clone(),
        })
    })
}
