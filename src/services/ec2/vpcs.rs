//! VPCs and subnets: Describe/Create/Delete.

use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, invalid};
use super::filters::{self, Filter};
use super::network::{Cidr, RESERVED_LOW, add_vpc, available_ips, zones};
use super::store::{Ec2Store, Subnet, Vpc};
use super::views::EmptyList;
use super::{
    Tag, TagSpecification, dry_run_ok, paginate, spec_tags, tag_filter_values, tag_list, with_store,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, Scope};

/// DescribeVpcs's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeVpcsRequest {
    filters: Vec<Filter>,
    vpc_ids: Vec<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    dry_run: bool,
}

/// `Vpc`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct VpcOut {
    owner_id: String,
    instance_tenancy: &'static str,
    cidr_block_association_set: [CidrAssociationOut; 1],
    is_default: bool,
    tags: Vec<Tag>,
    vpc_id: String,
    state: &'static str,
    cidr_block: String,
    dhcp_options_id: String,
}

/// `VpcCidrBlockAssociation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CidrAssociationOut {
    association_id: String,
    cidr_block: String,
    cidr_block_state: CidrStateOut,
}

/// `VpcCidrBlockState`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CidrStateOut {
    state: &'static str,
}

/// `DescribeVpcsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVpcsOut {
    next_token: Option<String>,
    vpcs: Vec<VpcOut>,
}

/// `CreateVpcResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateVpcOut {
    vpc: VpcOut,
}

fn vpc_out(s: &Ec2Store, v: &Vpc, account: &str) -> VpcOut {
    VpcOut {
        owner_id: account.to_owned(),
        instance_tenancy: "default",
        cidr_block_association_set: [CidrAssociationOut {
            association_id: v.cidr_association_id.clone(),
            cidr_block: v.cidr.to_string(),
            cidr_block_state: CidrStateOut {
                state: "associated",
            },
        }],
        is_default: v.is_default,
        tags: tag_list(s.tags_of(&v.id)),
        vpc_id: v.id.clone(),
        state: "available",
        cidr_block: v.cidr.to_string(),
        dhcp_options_id: v.dhcp_options_id.clone(),
    }
}

/// DescribeVpcs.
pub fn describe_vpcs(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeVpcsRequest,
) -> Result<DescribeVpcsOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "cidr",
            "cidr-block-association.cidr-block",
            "dhcp-options-id",
            "is-default",
            "owner-id",
            "state",
            "tag-key",
            "tag-value",
            "vpc-id",
        ],
    )?;
    let account = &ctx.scope.account;
    let vpcs = with_store(ctx, state, |s| {
        if let Some(missing) = req.vpc_ids.iter().find(|id| !s.vpcs.contains_key(*id)) {
            return Err(Ec2Error::InvalidVpcIDNotFound
                .with(format!("The vpc ID '{missing}' does not exist")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        Ok(s.vpcs
            .values()
            .filter(|v| req.vpc_ids.is_empty() || req.vpc_ids.contains(&v.id))
            .filter(|v| {
                let cidr = v.cidr.to_string();
                let default = v.is_default.to_string();
                let tags = s.tags_of(&v.id);
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "cidr" | "cidr-block-association.cidr-block" => vec![cidr.as_str()],
                        "dhcp-options-id" => vec![v.dhcp_options_id.as_str()],
                        "is-default" => vec![default.as_str()],
                        "owner-id" => vec![account.as_str()],
                        "state" => vec!["available"],
                        "vpc-id" => vec![v.id.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|v| vpc_out(s, v, account))
            .collect::<Vec<_>>())
    })?;
    let (vpcs, next_token) = paginate(vpcs, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(DescribeVpcsOut { next_token, vpcs })
}

/// DescribeSubnets's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeSubnetsRequest {
    filters: Vec<Filter>,
    subnet_ids: Vec<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    dry_run: bool,
}

/// `Subnet`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubnetOut {
    availability_zone_id: String,
    owner_id: String,
    assign_ipv6_address_on_creation: bool,
    ipv6_cidr_block_association_set: EmptyList,
    tags: Vec<Tag>,
    subnet_arn: String,
    subnet_id: String,
    state: &'static str,
    vpc_id: String,
    cidr_block: String,
    available_ip_address_count: i64,
    availability_zone: String,
    default_for_az: bool,
    map_public_ip_on_launch: bool,
}

/// `DescribeSubnetsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSubnetsOut {
    next_token: Option<String>,
    subnets: Vec<SubnetOut>,
}

/// `CreateSubnetResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSubnetOut {
    subnet: SubnetOut,
}

fn subnet_out(s: &Ec2Store, n: &Subnet, scope: &Scope) -> SubnetOut {
    let resource = format!("subnet/{}", n.id);
    SubnetOut {
        availability_zone_id: n.availability_zone_id.clone(),
        owner_id: scope.account.clone(),
        assign_ipv6_address_on_creation: false,
        ipv6_cidr_block_association_set: EmptyList,
        tags: tag_list(s.tags_of(&n.id)),
        subnet_arn: crate::state::ids::arn("ec2", &scope.region, &scope.account, &resource),
        subnet_id: n.id.clone(),
        state: "available",
        vpc_id: n.vpc_id.clone(),
        cidr_block: n.cidr.to_string(),
        available_ip_address_count: available_ips(n),
        availability_zone: n.availability_zone.clone(),
        default_for_az: n.default_for_az,
        map_public_ip_on_launch: n.map_public_ip_on_launch,
    }
}

/// DescribeSubnets.
pub fn describe_subnets(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeSubnetsRequest,
) -> Result<DescribeSubnetsOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "availability-zone",
            "availabilityZone",
            "availability-zone-id",
            "available-ip-address-count",
            "cidr-block",
            "cidr",
            "cidrBlock",
            "default-for-az",
            "defaultForAz",
            "map-public-ip-on-launch",
            "owner-id",
            "state",
            "subnet-arn",
            "subnet-id",
            "tag-key",
            "tag-value",
            "vpc-id",
            "vpcId",
        ],
    )?;
    let subnets = with_store(ctx, state, |s| {
        if let Some(missing) = req
            .subnet_ids
            .iter()
            .find(|id| !s.subnets.contains_key(*id))
        {
            return Err(Ec2Error::InvalidSubnetIDNotFound
                .with(format!("The subnet ID '{missing}' does not exist")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        Ok(s.subnets
            .values()
            .filter(|n| req.subnet_ids.is_empty() || req.subnet_ids.contains(&n.id))
            .filter(|n| {
                let tags = s.tags_of(&n.id);
                let cidr = n.cidr.to_string();
                let count = available_ips(n).to_string();
                let default = n.default_for_az.to_string();
                let public = n.map_public_ip_on_launch.to_string();
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "availability-zone" | "availabilityZone" => {
                            vec![n.availability_zone.as_str()]
                        }
                        "availability-zone-id" => vec![n.availability_zone_id.as_str()],
                        "available-ip-address-count" => vec![count.as_str()],
                        "cidr-block" | "cidr" | "cidrBlock" => vec![cidr.as_str()],
                        "default-for-az" | "defaultForAz" => vec![default.as_str()],
                        "map-public-ip-on-launch" => vec![public.as_str()],
                        "owner-id" => vec![ctx.scope.account.as_str()],
                        "state" => vec!["available"],
                        "subnet-id" => vec![n.id.as_str()],
                        "vpc-id" | "vpcId" => vec![n.vpc_id.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|n| subnet_out(s, n, &ctx.scope))
            .collect::<Vec<_>>())
    })?;
    let (subnets, next_token) = paginate(
        subnets,
        req.max_results,
        req.next_token.as_deref(),
        (5, 1000),
    )?;
    Ok(DescribeSubnetsOut {
        next_token,
        subnets,
    })
}

/// CreateVpc's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateVpcRequest {
    cidr_block: Option<String>,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// CreateVpc (with its default security group).
pub fn create_vpc(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateVpcRequest,
) -> Result<CreateVpcOut, ApiError> {
    let text = req.cidr_block.unwrap_or_default();
    let cidr = Cidr::parse(&text)
        .filter(|c| (16..=28).contains(&c.prefix))
        .ok_or_else(|| {
            invalid(format!(
                "Value ({text}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
            ))
        })?;
    let tags = spec_tags(&req.tag_specifications, "vpc")?;
    if req.dry_run {
        return Err(dry_run_ok());
    }
    let vpc = with_store(ctx, state, |s| {
        let id = add_vpc(s, &state.ids, cidr, false);
        s.set_tags(&id, tags);
        vpc_out(s, &s.vpcs[&id], &ctx.scope.account)
    });
    state.touched(crate::state::Topic::Ec2);
    Ok(CreateVpcOut { vpc })
}

/// DeleteVpc's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteVpcRequest {
    vpc_id: String,
    dry_run: bool,
}

/// DeleteVpc: only when nothing but its default security group is left in it.
pub fn delete_vpc(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteVpcRequest,
) -> Result<(), ApiError> {
    with_store(ctx, state, |s| {
        if !s.vpcs.contains_key(&req.vpc_id) {
            return Err(Ec2Error::InvalidVpcIDNotFound
                .with(format!("The vpc ID '{}' does not exist", req.vpc_id)));
        }
        let in_use = s.subnets.values().any(|n| n.vpc_id == req.vpc_id)
            || s.security_groups
                .values()
                .any(|g| g.vpc_id == req.vpc_id && g.name != "default");
        if in_use {
            return Err(Ec2Error::DependencyViolation.with(format!(
                "The vpc '{}' has dependencies and cannot be deleted.",
                req.vpc_id
            )));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        s.vpcs.shift_remove(&req.vpc_id);
        s.clear_tags(&req.vpc_id);
        s.security_groups.retain(|_, g| g.vpc_id != req.vpc_id);
        Ok(())
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(())
}

/// CreateSubnet's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateSubnetRequest {
    vpc_id: String,
    cidr_block: Option<String>,
    availability_zone: Option<String>,
    availability_zone_id: Option<String>,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// CreateSubnet.
pub fn create_subnet(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateSubnetRequest,
) -> Result<CreateSubnetOut, ApiError> {
    let text = req.cidr_block.clone().unwrap_or_default();
    let cidr = Cidr::parse(&text).ok_or_else(|| {
        invalid(format!(
            "Value ({text}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
        ))
    })?;
    let all = zones(&ctx.scope.region);
    let zone = match (&req.availability_zone, &req.availability_zone_id) {
        (Some(name), _) => all.iter().find(|(z, _)| z == name),
        (None, Some(id)) => all.iter().find(|(_, z)| z == id),
        // AWS picks one; the first is as good as any.
        (None, None) => all.first(),
    }
    .cloned()
    .ok_or_else(|| {
        invalid(format!("Value ({}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}.",
                req.availability_zone.clone().or(req.availability_zone_id.clone()).unwrap_or_default(),
                all.iter().map(|(z, _)| z.as_str()).collect::<Vec<_>>().join(", ")),
        )
    })?;
    let tags = spec_tags(&req.tag_specifications, "subnet")?;
    let id = with_store(ctx, state, |s| {
        let vpc = s.vpcs.get(&req.vpc_id).ok_or_else(|| {
            Ec2Error::InvalidVpcIDNotFound
                .with(format!("The vpc ID '{}' does not exist", req.vpc_id))
        })?;
        if !vpc.cidr.contains(cidr) || !(16..=28).contains(&cidr.prefix) {
            return Err(Ec2Error::InvalidSubnetRange.with(format!("The CIDR '{text}' is invalid.")));
        }
        if s.subnets
            .values()
            .any(|n| n.vpc_id == req.vpc_id && n.cidr.overlaps(cidr))
        {
            return Err(Ec2Error::InvalidSubnetConflict
                .with(format!("The CIDR '{text}' conflicts with another subnet")));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let id = state.ids.resource("subnet");
        s.subnets.insert(
            id.clone(),
            Subnet {
                id: id.clone(),
                vpc_id: req.vpc_id.clone(),
                cidr,
                availability_zone: zone.0.clone(),
                availability_zone_id: zone.1.clone(),
                default_for_az: false,
                map_public_ip_on_launch: false,
                allocated: Default::default(),
                cursor: RESERVED_LOW,
            },
        );
        s.set_tags(&id, tags);
        Ok(id)
    })?;
    state.touched(crate::state::Topic::Ec2);
    let subnet = with_store(ctx, state, |s| subnet_out(s, &s.subnets[&id], &ctx.scope));
    Ok(CreateSubnetOut { subnet })
}

/// DeleteSubnet's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteSubnetRequest {
    subnet_id: String,
    dry_run: bool,
}

/// DeleteSubnet: refused while instances (in any state but terminated) use it.
pub fn delete_subnet(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteSubnetRequest,
) -> Result<(), ApiError> {
    with_store(ctx, state, |s| {
        if !s.subnets.contains_key(&req.subnet_id) {
            return Err(Ec2Error::InvalidSubnetIDNotFound
                .with(format!("The subnet ID '{}' does not exist", req.subnet_id)));
        }
        if s.instances.values().any(|i| {
            i.subnet_id == req.subnet_id && i.state != super::store::InstanceState::Terminated
        }) {
            return Err(Ec2Error::DependencyViolation.with(format!(
                "The subnet '{}' has dependencies and cannot be deleted.",
                req.subnet_id
            )));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        s.subnets.shift_remove(&req.subnet_id);
        s.clear_tags(&req.subnet_id);
        Ok(())
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(())
}
