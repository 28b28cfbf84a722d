//! Load balancers: Create/Describe/DeleteLoadBalancer, SetSubnets, SetSecurityGroups,
//! SetIpAddressType.
//!
//! A new load balancer is `provisioning` for [`PROVISIONING_SECONDS`] of the clock, then
//! `active`. Its DNS name is `<name>-<digits>.<region>.elb.localhost` (the data plane answers
//! it on the main port). Application load balancers need subnets in two Availability Zones and
//! get the VPC's default security group when none is given, as on AWS.

use serde::{Deserialize, Serialize};

use super::attributes::default_lb_attributes;
use super::errors::Elbv2Error;
use super::errors::{ArnKind, missing, page_size, paginate, validation};
use super::store::{LoadBalancer, PROVISIONING_SECONDS};
use super::tags::{Tag, check_tags, set_tags};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::services::{Reply, Sent};
use crate::state::ids::arn;
use crate::state::{AppState, RegionStores, Topic};

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
            Elbv2Error::SubnetNotFound.with(format!("The subnet ID '{id}' does not exist"))
        })?;
        if vpc.as_ref().is_some_and(|v| *v != subnet.vpc_id) {
            return Err(Elbv2Error::InvalidSubnet.with("The subnets must all be in the same VPC"));
        }
        vpc = Some(subnet.vpc_id.clone());
        if zones.iter().any(|(z, _)| *z == subnet.availability_zone) {
            return Err(Elbv2Error::InvalidConfigurationRequest.with("A load balancer cannot be attached to multiple subnets in the same Availability Zone",
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
            return Err(Elbv2Error::InvalidSecurityGroup.with(format!(
                "Security group '{g}' does not exist in VPC '{vpc}'"
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
/// `SubnetMapping` (only the subnet is read).
pub struct SubnetMapping {
    /// The subnet.
    pub subnet_id: Option<String>,
}

/// CreateLoadBalancer's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerInput {
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

/// The API view of a load balancer (`LoadBalancer`), borrowing its record.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerOut<'a> {
    load_balancer_arn: &'a str,
    #[serde(rename = "DNSName")]
    dns_name: &'a str,
    canonical_hosted_zone_id: &'static str,
    created_time: Timestamp,
    load_balancer_name: &'a str,
    scheme: &'a str,
    vpc_id: &'a str,
    state: StateOut,
    #[serde(rename = "Type")]
    kind: &'a str,
    availability_zones: Vec<ZoneOut<'a>>,
    /// Application load balancers always; network ones when they have groups.
    security_groups: Option<&'a [String]>,
    ip_address_type: &'a str,
}

/// `LoadBalancerState`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StateOut {
    code: &'static str,
}

/// `AvailabilityZone`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ZoneOut<'a> {
    zone_name: &'a str,
    subnet_id: &'a str,
    /// Always empty: no Elastic IPs or static addresses here.
    load_balancer_addresses: &'static [String],
}

/// The API view of a load balancer.
pub fn view<'a>(lb: &'a LoadBalancer, now: f64, region: &str) -> LoadBalancerOut<'a> {
    LoadBalancerOut {
        load_balancer_arn: &lb.arn,
        dns_name: &lb.dns_name,
        canonical_hosted_zone_id: hosted_zone(region, lb.kind == "network"),
        created_time: Timestamp(lb.created),
        load_balancer_name: &lb.name,
        scheme: &lb.scheme,
        vpc_id: &lb.vpc_id,
        state: StateOut {
            code: lb.state(now),
        },
        kind: &lb.kind,
        availability_zones: zones_view(&lb.zones),
        security_groups: (lb.kind == "application" || !lb.security_groups.is_empty())
            .then_some(lb.security_groups.as_slice()),
        ip_address_type: &lb.ip_address_type,
    }
}

fn zones_view(zones: &[(String, String)]) -> Vec<ZoneOut<'_>> {
    zones
        .iter()
        .map(|(z, s)| ZoneOut {
            zone_name: z,
            subnet_id: s,
            load_balancer_addresses: &[],
        })
        .collect()
}

/// The output of CreateLoadBalancer and DescribeLoadBalancers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoadBalancersOutput<'a> {
    load_balancers: Vec<LoadBalancerOut<'a>>,
    next_marker: Option<String>,
}

/// CreateLoadBalancer (the same call again answers with the existing one).
pub fn create_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateLoadBalancerInput,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
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
    let sent = state.stores.with(&scope, |s| {
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
                return Err(Elbv2Error::DuplicateLoadBalancerName.with(format!(
                    "A load balancer with the same name '{}' exists, but with different settings",
                    req.name
                )));
            }
            return reply.send(&LoadBalancersOutput {
                load_balancers: vec![view(existing, now, &scope.region)],
                next_marker: None,
            });
        }
        if s.elbv2.load_balancers.len() >= 50 {
            return Err(Elbv2Error::TooManyLoadBalancers
                .with("The quota for the number of load balancers has been reached"));
        }
        let short = if kind == "network" { "net" } else { "app" };
        let id = hex16(state);
        let lb_arn = arn(
            "elasticloadbalancing",
            &scope.region,
            &scope.account,
            &format!("loadbalancer/{short}/{}/{id}", req.name),
        );
        let dns_name = crate::lb::dns_name(
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
        super::dataplane::index(state, &scope, &lb, &[], &[]);
        let sent = reply.send(&LoadBalancersOutput {
            load_balancers: vec![view(&lb, now, &scope.region)],
            next_marker: None,
        })?;
        s.elbv2.load_balancers.insert(lb_arn.clone(), lb);
        set_tags(&mut s.elbv2, &lb_arn, &req.tags);
        tracing::info!(load_balancer = %lb_arn, "load balancer created");
        Ok(sent)
    })?;
    state.touched(Topic::Elbv2);
    Ok(sent)
}

/// DescribeLoadBalancers' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeLoadBalancersInput {
    load_balancer_arns: Vec<String>,
    names: Vec<String>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// DescribeLoadBalancers: by ARN, by name, or all; unknown ones fail the call. The page is
/// written while the store lock is held (the output borrows the records).
pub fn describe_load_balancers(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeLoadBalancersInput,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    if !req.load_balancer_arns.is_empty() && !req.names.is_empty() {
        return Err(validation(
            "Load balancer names and load balancer ARNs cannot be specified at the same time",
        ));
    }
    let page = page_size(req.page_size, 400)?;
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let lbs = &s.elbv2.load_balancers;
        let selected: Vec<&LoadBalancer> = if !req.load_balancer_arns.is_empty() {
            req.load_balancer_arns
                .iter()
                .map(|a| {
                    lbs.get(a)
                        .ok_or_else(|| missing(&ctx.scope, a, ArnKind::LoadBalancer))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else if !req.names.is_empty() {
            let missing: Vec<&String> = req
                .names
                .iter()
                .filter(|n| !lbs.values().any(|l| l.name == **n))
                .collect();
            if !missing.is_empty() {
                let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                return Err(Elbv2Error::LoadBalancerNotFound
                    .with(format!("Load balancers '[{}]' not found", list.join(", "))));
            }
            lbs.values()
                .filter(|l| req.names.contains(&l.name))
                .collect()
        } else {
            lbs.values().collect()
        };
        let (items, next_marker) = paginate(selected, req.marker.as_deref(), page)?;
        reply.send(&LoadBalancersOutput {
            load_balancers: items
                .into_iter()
                .map(|lb| view(lb, now, &ctx.scope.region))
                .collect(),
            next_marker,
        })
    })
}

/// DeleteLoadBalancer's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteLoadBalancerInput {
    load_balancer_arn: String,
}

/// DeleteLoadBalancer: removes its listeners and rules; target groups stay. Deleting one that
/// does not exist succeeds, as the API reference says.
pub fn delete_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteLoadBalancerInput,
) -> Result<(), ApiError> {
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
            return Err(Elbv2Error::OperationNotPermitted.with(format!(
                "Load balancer '{}' cannot be deleted because deletion protection is enabled",
                lb.arn
            )));
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
    Ok(())
}

/// Seconds until the youngest provisioning load balancer turns active (for the controller).
pub fn until_active(lbs: impl Iterator<Item = f64>, now: f64) -> Option<f64> {
    lbs.map(|created| created + PROVISIONING_SECONDS - now)
        .filter(|d| *d > 0.0)
        .fold(None, |acc: Option<f64>, d| {
            Some(acc.map_or(d, |a| a.min(d)))
        })
}
