//! Load balancers: Create/Describe/DeleteLoadBalancer, SetSubnets, SetSecurityGroups,
//! SetIpAddressType.
//!
//! A new load balancer is `provisioning` for [`PROVISIONING_SECONDS`] of the clock, then
//! `active`. Its DNS name is `<name>-<digits>.<region>.elb.localhost` (the data plane answers
//! it on the main port). Application load balancers need subnets in two Availability Zones and
//! get the VPC's default security group when none is given, as on AWS.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::attributes::default_lb_attributes;
use super::errors::{ArnKind, load_balancer_not_found, missing, page_size, paginate, validation};
use super::store::{LoadBalancer, PROVISIONING_SECONDS};
use super::tags::{Tag, check_tags, set_tags};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::{parse_input, to_output};
use crate::state::ids::arn;
use crate::state::{AppState, RegionStores, Scope, Topic};

/// `CanonicalHostedZoneId` of ALBs and NLBs in the regions we know; others get us-east-1's.
fn hosted_zone(region: &str, network: bool) -> &'static str {
    let table: &[(&str, &str, &str)] = &[
        ("us-east-1", "Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"),
        ("us-east-2", "Z3AADJGX6KTTL2", "ZLMOA37VPKANP"),
        ("us-west-1", "Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"),
        ("us-west-2", "Z1H1FL5HABSF5", "Z18D5FSROUN65G"),
        ("eu-west-1", "Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"),
        ("eu-central-1", "Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"),
        ("ap-northeast-1", "Z14GRHDCWA56QT", "Z31USIVHYNEOWT"),
        ("ap-northeast-2", "ZWKZPGTI48KDX", "ZIBE1TIR4HY56"),
        ("ap-southeast-1", "Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"),
        ("ap-southeast-2", "Z1GM3OXH4ZPM65", "ZCT6FZBF4DROD"),
    ];
    let row = table.iter().find(|r| r.0 == region).unwrap_or(&table[0]);
    if network { row.2 } else { row.1 }
}

/// `<16 hex digits>`, the id part of ELBv2 ARNs.
pub fn hex16(state: &AppState) -> String {
    let id = state.ids.hex_id("x", 16);
    id[2..].to_owned()
}

fn check_name(name: &str, what: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 32 {
        return Err(validation(format!(
            "{what} name '{name}' must be between 1 and 32 characters"
        )));
    }
    let ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        return Err(validation(format!(
            "{what} name '{name}' can contain only alphanumeric characters and hyphens, and cannot begin or end with a hyphen"
        )));
    }
    if what == "Load balancer" && name.to_ascii_lowercase().starts_with("internal-") {
        return Err(validation(format!(
            "Load balancer name '{name}' cannot begin with 'internal-'"
        )));
    }
    Ok(())
}

/// Check a target-group or load-balancer name (1–32, alphanumerics and inner hyphens).
pub fn check_resource_name(name: &str, what: &str) -> Result<(), ApiError> {
    check_name(name, what)
}

/// Resolve subnets to (zone, subnet) pairs and their VPC, with AWS's checks.
pub fn resolve_subnets(
    stores: &RegionStores,
    subnets: &[String],
    kind: &str,
) -> Result<(String, Vec<(String, String)>), ApiError> {
    let mut zones: Vec<(String, String)> = Vec::new();
    let mut vpc: Option<String> = None;
    for id in subnets {
        let subnet = stores.ec2.subnets.get(id).ok_or_else(|| {
            ApiError::client(
                "SubnetNotFound",
                format!("The subnet ID '{id}' does not exist"),
            )
        })?;
        if vpc.as_ref().is_some_and(|v| *v != subnet.vpc_id) {
            return Err(ApiError::client(
                "InvalidSubnet",
                "The subnets must all be in the same VPC",
            ));
        }
        vpc = Some(subnet.vpc_id.clone());
        if zones.iter().any(|(z, _)| *z == subnet.availability_zone) {
            return Err(ApiError::client(
                "InvalidConfigurationRequest",
                "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
            ));
        }
        zones.push((subnet.availability_zone.clone(), id.clone()));
    }
    if kind == "application" && zones.len() < 2 {
        return Err(validation(
            "At least two subnets in two different Availability Zones must be specified",
        ));
    }
    let vpc = vpc.ok_or_else(|| validation("At least one subnet must be specified"))?;
    zones.sort();
    Ok((vpc, zones))
}

/// Check that security groups exist in the VPC.
pub fn check_security_groups(
    stores: &RegionStores,
    groups: &[String],
    vpc: &str,
) -> Result<(), ApiError> {
    for g in groups {
        if stores
            .ec2
            .security_groups
            .get(g)
            .is_none_or(|sg| sg.vpc_id != vpc)
        {
            return Err(ApiError::client(
                "InvalidSecurityGroup",
                format!("Security group '{g}' does not exist in VPC '{vpc}'"),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SubnetMapping {
    subnet_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    name: String,
    #[serde(default)]
    subnets: Vec<String>,
    #[serde(default)]
    subnet_mappings: Vec<SubnetMapping>,
    security_groups: Option<Vec<String>>,
    scheme: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    ip_address_type: Option<String>,
}

/// The API view of a load balancer.
pub fn view(lb: &LoadBalancer, now: f64, region: &str) -> Value {
    let mut v = json!({
        "LoadBalancerArn": lb.arn,
        "DNSName": lb.dns_name,
        "CanonicalHostedZoneId": hosted_zone(region, lb.kind == "network"),
        "CreatedTime": lb.created,
        "LoadBalancerName": lb.name,
        "Scheme": lb.scheme,
        "VpcId": lb.vpc_id,
        "State": {"Code": lb.state(now)},
        "Type": lb.kind,
        "AvailabilityZones": zones_view(&lb.zones),
        "IpAddressType": lb.ip_address_type,
    });
    if lb.kind == "application" || !lb.security_groups.is_empty() {
        v["SecurityGroups"] = json!(lb.security_groups);
    }
    v
}

fn zones_view(zones: &[(String, String)]) -> Value {
    json!(
        zones
            .iter()
            .map(|(z, s)| json!({"ZoneName": z, "SubnetId": s, "LoadBalancerAddresses": []}))
            .collect::<Vec<_>>()
    )
}

/// CreateLoadBalancer.
pub fn create_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: CreateInput = parse_input(input)?;
    check_name(&req.name, "Load balancer")?;
    let kind = req.kind.clone().unwrap_or_else(|| "application".into());
    if kind == "gateway" {
        return Err(validation(
            "Updraft does not support gateway load balancers; use type application or network",
        ));
    }
    let scheme = req
        .scheme
        .clone()
        .unwrap_or_else(|| "internet-facing".into());
    let ip_type = req.ip_address_type.clone().unwrap_or_else(|| "ipv4".into());
    check_tags(&req.tags)?;
    if !req.subnets.is_empty() && !req.subnet_mappings.is_empty() {
        return Err(validation(
            "You can specify subnets or subnet mappings, but not both",
        ));
    }
    let subnet_ids: Vec<String> = if req.subnets.is_empty() {
        req.subnet_mappings
            .iter()
            .filter_map(|m| m.subnet_id.clone())
            .collect()
    } else {
        req.subnets.clone()
    };
    let now = state.clock.now();
    let scope = ctx.scope.clone();
    let out = state.stores.with(&scope, |s| {
        s.ec2.ensure_defaults(&scope, state);
        let (vpc, zones) = resolve_subnets(s, &subnet_ids, &kind)?;
        let groups = match &req.security_groups {
            Some(g) => {
                check_security_groups(s, g, &vpc)?;
                g.clone()
            }
            None if kind == "application" => s
                .ec2
                .group_by_name(&vpc, "default")
                .map(|g| vec![g.id.clone()])
                .unwrap_or_default(),
            None => Vec::new(),
        };
        if let Some(existing) = s.elbv2.load_balancers.values().find(|l| l.name == req.name) {
            let same = existing.kind == kind
                && existing.scheme == scheme
                && existing.zones == zones
                && (req.security_groups.is_none() || existing.security_groups == groups);
            if !same {
                return Err(ApiError::client(
                    "DuplicateLoadBalancerName",
                    format!(
                        "A load balancer with the same name '{}' exists, but with different settings",
                        req.name
                    ),
                ));
            }
            return Ok(view(existing, now, &scope.region));
        }
        if s.elbv2.load_balancers.len() >= 50 {
            return Err(ApiError::client(
                "TooManyLoadBalancers",
                "The quota for the number of load balancers has been reached",
            ));
        }
        let short = if kind == "network" { "net" } else { "app" };
        let id = hex16(state);
        let lb_arn = arn(
            "elasticloadbalancing",
            &scope.region,
            &scope.account,
            &format!("loadbalancer/{short}/{}/{id}", req.name),
        );
        let dns_name = crate::dataplane::dns_name(
            &req.name,
            &state.ids.dns_digits(),
            &scope.region,
            scheme == "internal",
        );
        let lb = LoadBalancer {
            arn: lb_arn.clone(),
            name: req.name.clone(),
            kind: kind.clone(),
            scheme: scheme.clone(),
            dns_name,
            vpc_id: vpc,
            created: now,
            zones,
            security_groups: groups,
            ip_address_type: ip_type,
            attributes: default_lb_attributes(&kind),
        };
        let v = view(&lb, now, &scope.region);
        super::dataplane::index(state, &scope, &lb, &[], &[]);
        s.elbv2.load_balancers.insert(lb_arn.clone(), lb);
        set_tags(&mut s.elbv2, &lb_arn, &req.tags);
        tracing::info!(load_balancer = %lb_arn, "load balancer created");
        Ok(v)
    })?;
    state.touched(Topic::Elbv2);
    Ok(json!({ "LoadBalancers": [out] }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInput {
    load_balancer_arns: Vec<String>,
    names: Vec<String>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// DescribeLoadBalancers: by ARN, by name, or all; unknown ones fail the call.
pub fn describe_load_balancers(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInput = parse_input(input)?;
    if !req.load_balancer_arns.is_empty() && !req.names.is_empty() {
        return Err(validation(
            "Load balancer names and load balancer ARNs cannot be specified at the same time",
        ));
    }
    let page = page_size(req.page_size, 400)?;
    let now = state.clock.now();
    let views = state.stores.with(&ctx.scope, |s| {
        let lbs = &s.elbv2.load_balancers;
        if !req.load_balancer_arns.is_empty() {
            return req
                .load_balancer_arns
                .iter()
                .map(|a| {
                    lbs.get(a)
                        .map(|lb| view(lb, now, &ctx.scope.region))
                        .ok_or_else(|| missing(&ctx.scope, a, ArnKind::LoadBalancer))
                })
                .collect::<Result<Vec<_>, _>>();
        }
        if !req.names.is_empty() {
            let missing: Vec<&String> = req
                .names
                .iter()
                .filter(|n| !lbs.values().any(|l| l.name == **n))
                .collect();
            if !missing.is_empty() {
                let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                return Err(ApiError::client(
                    "LoadBalancerNotFound",
                    format!("Load balancers '[{}]' not found", list.join(", ")),
                ));
            }
            return Ok(lbs
                .values()
                .filter(|l| req.names.contains(&l.name))
                .map(|lb| view(lb, now, &ctx.scope.region))
                .collect());
        }
        Ok(lbs
            .values()
            .map(|lb| view(lb, now, &ctx.scope.region))
            .collect())
    })?;
    let (items, next) = paginate(views, req.marker.as_deref(), page)?;
    let mut out = json!({ "LoadBalancers": items });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    load_balancer_arn: String,
}

/// DeleteLoadBalancer: removes its listeners and rules; target groups stay. Deleting one that
/// does not exist succeeds, as the API reference says.
pub fn delete_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: ArnInput = parse_input(input)?;
    state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        let Some(lb) = store.load_balancers.get(&req.load_balancer_arn) else {
            return Ok(());
        };
        if lb
            .attributes
            .get("deletion_protection.enabled")
            .map(String::as_str)
            == Some("true")
        {
            return Err(ApiError::client(
                "OperationNotPermitted",
                format!(
                    "Load balancer '{}' cannot be deleted because deletion protection is enabled",
                    lb.arn
                ),
            ));
        }
        let dns = lb.dns_name.clone();
        let listeners: Vec<String> = store
            .listeners
            .values()
            .filter(|l| l.lb_arn == req.load_balancer_arn)
            .map(|l| l.arn.clone())
            .collect();
        for l in &listeners {
            store.listeners.shift_remove(l);
            store.tags.remove(l);
        }
        let rules: Vec<String> = store
            .rules
            .values()
            .filter(|r| listeners.contains(&r.listener_arn))
            .map(|r| r.arn.clone())
            .collect();
        for r in &rules {
            store.rules.shift_remove(r);
            store.tags.remove(r);
        }
        store.load_balancers.shift_remove(&req.load_balancer_arn);
        store.tags.remove(&req.load_balancer_arn);
        store
            .traffic
            .retain(|(lb, _, _, _), _| *lb != req.load_balancer_arn);
        state.dataplane.index.remove(&dns);
        tracing::info!(load_balancer = %req.load_balancer_arn, "load balancer deleted");
        Ok(())
    })?;
    state.touched(Topic::Elbv2);
    Ok(json!({}))
}

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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetSecurityGroupsInput {
    load_balancer_arn: String,
    security_groups: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SetSecurityGroupsOutput {
    security_group_ids: Vec<String>,
}

/// SetSecurityGroups.
pub fn set_security_groups(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: SetSecurityGroupsInput = parse_input(input)?;
    let ids = with_lb(state, &ctx.scope, &req.load_balancer_arn, |s| {
        let lb = &s.elbv2.load_balancers[&req.load_balancer_arn];
        if lb.kind == "network" && lb.security_groups.is_empty() {
            return Err(ApiError::client(
                "InvalidConfigurationRequest",
                "You cannot set security groups on a Network Load Balancer which was created without any security groups",
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
    to_output(&SetSecurityGroupsOutput {
        security_group_ids: ids,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetSubnetsInput {
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
    input: Value,
) -> Result<Value, ApiError> {
    let req: SetSubnetsInput = parse_input(input)?;
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
            return Err(ApiError::client(
                "InvalidSubnet",
                format!("The subnets must be in the load balancer's VPC '{vpc_before}'"),
            ));
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
        Ok(json!({
            "AvailabilityZones": zones_view(&lb.zones),
            "IpAddressType": lb.ip_address_type,
        }))
    })?;
    state.touched(Topic::Elbv2);
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetIpAddressTypeInput {
    load_balancer_arn: String,
    ip_address_type: String,
}

/// SetIpAddressType: recorded (the data plane listens on loopback IPv4 either way).
pub fn set_ip_address_type(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: SetIpAddressTypeInput = parse_input(input)?;
    let t = with_lb(state, &ctx.scope, &req.load_balancer_arn, |s| {
        let lb = s
            .elbv2
            .load_balancers
            .get_mut(&req.load_balancer_arn)
            .ok_or_else(load_balancer_not_found)?;
        if lb.kind == "network" && req.ip_address_type == "dualstack-without-public-ipv4" {
            return Err(ApiError::client(
                "InvalidConfigurationRequest",
                "dualstack-without-public-ipv4 is supported only by Application Load Balancers",
            ));
        }
        lb.ip_address_type = req.ip_address_type.clone();
        Ok(lb.ip_address_type.clone())
    })?;
    Ok(json!({ "IpAddressType": t }))
}

/// Seconds until the youngest provisioning load balancer turns active (for the controller).
pub fn until_active(lbs: impl Iterator<Item = f64>, now: f64) -> Option<f64> {
    lbs.map(|created| created + PROVISIONING_SECONDS - now)
        .filter(|d| *d > 0.0)
        .fold(None, |acc: Option<f64>, d| {
            Some(acc.map_or(d, |a| a.min(d)))
        })
}
