//! SetSecurityGroups, SetSubnets and SetIpAddressType: changes to a load balancer's network
//! settings.

use serde::{Deserialize, Serialize};

use super::errors::Elbv2Error;
use super::errors::{load_balancer_not_found, validation};
use super::load_balancers::{SubnetMapping, check_security_groups, resolve_subnets};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, RegionStores, Scope, Topic};

fn with_lb<R>(
    state: &AppState,
    scope: &Scope,
    arn: &str,
    f: impl FnOnce(&mut RegionStores) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    state.stores.with(scope, |s| {
        if !s.elbv2.load_balancers.contains_key(arn) {
            return Err(load_balancer_not_found());
        }
        f(s)
    })
}

/// SetSecurityGroups' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetSecurityGroupsInput {
    load_balancer_arn: String,
    security_groups: Vec<String>,
}

/// SetSecurityGroups' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetSecurityGroupsOutput {
    security_group_ids: Vec<String>,
}

/// SetSecurityGroups.
pub fn set_security_groups(
    ctx: &RequestContext,
    state: &AppState,
    req: SetSecurityGroupsInput,
) -> Result<SetSecurityGroupsOutput, ApiError> {
    let ids = with_lb(state, &ctx.scope, &req.load_balancer_arn, |s| {
        let lb = &s.elbv2.load_balancers[&req.load_balancer_arn];
        if lb.kind == "network" && lb.security_groups.is_empty() {
            return Err(Elbv2Error::InvalidConfigurationRequest.with("You cannot set security groups on a Network Load Balancer which was created without any security groups",
            ));
        }
        if lb.kind == "application" && req.security_groups.is_empty() {
            return Err(validation(
                "At least one security group must be specified for an Application Load Balancer",
            ));
        }
        let vpc = lb.vpc_id.clone();
        check_security_groups(s, &req.security_groups, &vpc)?;
        let lb = s
            .elbv2
            .load_balancers
            .get_mut(&req.load_balancer_arn)
            .ok_or_else(load_balancer_not_found)?;
        lb.security_groups = req.security_groups.clone();
        Ok(lb.security_groups.clone())
    })?;
    Ok(SetSecurityGroupsOutput {
        security_group_ids: ids,
    })
}

/// SetSubnets' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetSubnetsInput {
    load_balancer_arn: String,
    #[serde(default)]
    subnets: Vec<String>,
    #[serde(default)]
    subnet_mappings: Vec<SubnetMapping>,
    ip_address_type: Option<String>,
}

/// SetSubnets: replace the load balancer's subnets (zones).
pub fn set_subnets(
    ctx: &RequestContext,
    state: &AppState,
    req: SetSubnetsInput,
) -> Result<SetSubnetsOutput, ApiError> {
    let ids: Vec<String> = if req.subnets.is_empty() {
        req.subnet_mappings
            .iter()
            .filter_map(|m| m.subnet_id.clone())
            .collect()
    } else {
        req.subnets.clone()
    };
    let out = with_lb(state, &ctx.scope, &req.load_balancer_arn, |s| {
        let kind = s.elbv2.load_balancers[&req.load_balancer_arn].kind.clone();
        let vpc_before = s.elbv2.load_balancers[&req.load_balancer_arn]
            .vpc_id
            .clone();
        let (vpc, zones) = resolve_subnets(s, &ids, &kind)?;
        if vpc != vpc_before {
            return Err(Elbv2Error::InvalidSubnet.with(format!(
                "The subnets must be in the load balancer's VPC '{vpc_before}'"
            )));
        }
        let lb = s
            .elbv2
            .load_balancers
            .get_mut(&req.load_balancer_arn)
            .ok_or_else(load_balancer_not_found)?;
        lb.zones = zones;
        if let Some(t) = &req.ip_address_type {
            lb.ip_address_type = t.clone();
        }
        Ok(SetSubnetsOutput {
            availability_zones: lb
                .zones
                .iter()
                .map(|(z, s)| ZoneOwned {
                    zone_name: z.clone(),
                    subnet_id: s.clone(),
                    load_balancer_addresses: &[],
                })
                .collect(),
            ip_address_type: lb.ip_address_type.clone(),
        })
    })?;
    state.touched(Topic::Elbv2);
    Ok(out)
}

/// SetSubnets' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetSubnetsOutput {
    availability_zones: Vec<ZoneOwned>,
    ip_address_type: String,
}

/// `AvailabilityZone`, owned (for outputs made outside the store lock).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneOwned {
    zone_name: String,
    subnet_id: String,
    load_balancer_addresses: &'static [String],
}

/// SetIpAddressType's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetIpAddressTypeInput {
    load_balancer_arn: String,
    ip_address_type: String,
}

/// SetIpAddressType: recorded (the data plane listens on loopback IPv4 either way).
pub fn set_ip_address_type(
    ctx: &RequestContext,
    state: &AppState,
    req: SetIpAddressTypeInput,
) -> Result<SetIpAddressTypeOutput, ApiError> {
    let t = with_lb(state, &ctx.scope, &req.load_balancer_arn, |s| {
        let lb = s
            .elbv2
            .load_balancers
            .get_mut(&req.load_balancer_arn)
            .ok_or_else(load_balancer_not_found)?;
        if lb.kind == "network" && req.ip_address_type == "dualstack-without-public-ipv4" {
            return Err(Elbv2Error::InvalidConfigurationRequest.with(
                "dualstack-without-public-ipv4 is supported only by Application Load Balancers",
            ));
        }
        lb.ip_address_type = req.ip_address_type.clone();
        Ok(lb.ip_address_type.clone())
    })?;
    Ok(SetIpAddressTypeOutput { ip_address_type: t })
}

/// SetIpAddressType's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetIpAddressTypeOutput {
    ip_address_type: String,
}
