//! Security group rules: the `IpPermission` shapes, their expansion into one rule per peer,
//! Authorize/Revoke Ingress/Egress.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, invalid};
use super::security_groups::{Peer, find_group};
use super::store::{Ec2Store, SgRule};
use super::{Tag, TagSpecification, dry_run_ok, spec_tags, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, Topic, ids::arn};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
struct IpRange {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cidr_ip: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
struct Ipv6Range {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cidr_ipv6: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
struct PrefixListId {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix_list_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
struct UserIdGroupPair {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
}

/// `IpPermission`, as requests give it and DescribeSecurityGroups answers it (fields in the
/// model's member order).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpPermission {
    ip_protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_port: Option<i64>,
    user_id_group_pairs: Vec<UserIdGroupPair>,
    ip_ranges: Vec<IpRange>,
    ipv6_ranges: Vec<Ipv6Range>,
    prefix_list_ids: Vec<PrefixListId>,
}

fn normalize_protocol(p: &str) -> Result<String, ApiError> {
    Ok(match p.to_ascii_lowercase().as_str() {
        "tcp" | "6" => "tcp".into(),
        "udp" | "17" => "udp".into(),
        "icmp" | "1" => "icmp".into(),
        "icmpv6" | "58" => "icmpv6".into(),
        "-1" | "all" => "-1".into(),
        n if n.parse::<u8>().is_ok() => n.to_owned(),
        _ => {
            return Err(invalid(format!(
                "Invalid value '{p}' for IP protocol. Unknown protocol."
            )));
        }
    })
}

fn check_cidr4(c: &str) -> Result<(), ApiError> {
    let ok = c.split_once('/').is_some_and(|(a, p)| {
        a.parse::<std::net::Ipv4Addr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 32)
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("CIDR block {c} is malformed")))
    }
}

fn check_cidr6(c: &str) -> Result<(), ApiError> {
    let ok = c.split_once('/').is_some_and(|(a, p)| {
        a.parse::<std::net::Ipv6Addr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 128)
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("CIDR block {c} is malformed")))
    }
}

/// Expand permissions into rules (without ids yet), resolving group references.
fn expand(
    s: &Ec2Store,
    vpc_id: &str,
    perms: &[IpPermission],
    egress: bool,
) -> Result<Vec<SgRule>, ApiError> {
    let mut out = Vec::new();
    for p in perms {
        let protocol = normalize_protocol(p.ip_protocol.as_deref().unwrap_or("-1"))?;
        let (from_port, to_port) = match protocol.as_str() {
            "-1" => (None, None),
            "tcp" | "udp" => {
                let (f, t) = (p.from_port.unwrap_or(-1), p.to_port.unwrap_or(-1));
                if !(0..=65535).contains(&f) || !(0..=65535).contains(&t) || f > t {
                    return Err(invalid(format!(
                        "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange. From port {f} to port {t} is not a valid range."
                    )));
                }
                (Some(f), Some(t))
            }
            _ => (p.from_port, p.to_port),
        };
        let mut push = |peer: Peer, description: &Option<String>| {
            out.push(SgRule {
                id: String::new(),
                egress,
                protocol: protocol.clone(),
                from_port,
                to_port,
                peer,
                description: description.clone(),
            });
        };
        for r in &p.ip_ranges {
            let c = r.cidr_ip.clone().unwrap_or_default();
            check_cidr4(&c)?;
            push(Peer::Cidr4(c), &r.description);
        }
        for r in &p.ipv6_ranges {
            let c = r.cidr_ipv6.clone().unwrap_or_default();
            check_cidr6(&c)?;
            push(Peer::Cidr6(c), &r.description);
        }
        for r in &p.prefix_list_ids {
            push(
                Peer::PrefixList(r.prefix_list_id.clone().unwrap_or_default()),
                &r.description,
            );
        }
        for g in &p.user_id_group_pairs {
            let id = match (&g.group_id, &g.group_name) {
                (Some(id), _) => {
                    s.security_groups
                        .get(id)
                        .map(|g| g.id.clone())
                        .ok_or_else(|| {
                            Ec2Error::InvalidGroupNotFound
                                .with(format!("The security group '{id}' does not exist"))
                        })?
                }
                (None, Some(name)) => s
                    .group_by_name(vpc_id, name)
                    .map(|g| g.id.clone())
                    .ok_or_else(|| {
                        Ec2Error::InvalidGroupNotFound.with(format!(
                            "The security group '{name}' does not exist in VPC '{vpc_id}'"
                        ))
                    })?,
                (None, None) => {
                    return Err(Ec2Error::MissingParameter
                        .with("Either GroupId or GroupName must be given in a UserIdGroupPair"));
                }
            };
            push(Peer::Group(id), &g.description);
        }
    }
    if out.is_empty() {
        return Err(Ec2Error::MissingParameter.with(
            "No IP permissions were given: specify IpPermissions or CidrIp/IpProtocol/ports.",
        ));
    }
    Ok(out)
}

fn same_rule(a: &SgRule, b: &SgRule) -> bool {
    a.egress == b.egress
        && a.protocol == b.protocol
        && a.from_port == b.from_port
        && a.to_port == b.to_port
        && a.peer == b.peer
}

fn describe_rule(r: &SgRule) -> String {
    let peer = match &r.peer {
        Peer::Cidr4(c) | Peer::Cidr6(c) | Peer::PrefixList(c) | Peer::Group(c) => c.clone(),
    };
    let proto = if r.protocol == "-1" {
        "ALL".to_owned()
    } else {
        r.protocol.to_ascii_uppercase()
    };
    format!(
        "peer: {peer}, {proto}, from port: {}, to port: {}, ALLOW",
        r.from_port.unwrap_or(-1),
        r.to_port.unwrap_or(-1)
    )
}

/// Group the rules of one direction back into `IpPermission`s.
pub(super) fn permissions(rules: &[SgRule], egress: bool, account: &str) -> Vec<IpPermission> {
    let mut grouped: IndexMap<(String, Option<i64>, Option<i64>), IpPermission> = IndexMap::new();
    for r in rules.iter().filter(|r| r.egress == egress) {
        let p = grouped
            .entry((r.protocol.clone(), r.from_port, r.to_port))
            .or_insert_with(|| IpPermission {
                ip_protocol: Some(r.protocol.clone()),
                from_port: r.from_port,
                to_port: r.to_port,
                ..Default::default()
            });
        let d = r.description.clone();
        match &r.peer {
            Peer::Cidr4(c) => p.ip_ranges.push(IpRange {
                cidr_ip: Some(c.clone()),
                description: d,
            }),
            Peer::Cidr6(c) => p.ipv6_ranges.push(Ipv6Range {
                cidr_ipv6: Some(c.clone()),
                description: d,
            }),
            Peer::PrefixList(c) => p.prefix_list_ids.push(PrefixListId {
                prefix_list_id: Some(c.clone()),
                description: d,
            }),
            Peer::Group(id) => p.user_id_group_pairs.push(UserIdGroupPair {
                group_id: Some(id.clone()),
                group_name: None,
                user_id: Some(account.to_owned()),
                description: d,
            }),
        }
    }
    grouped.into_values().collect()
}

/// `SecurityGroupRule`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroupRuleOut {
    security_group_rule_id: String,
    group_id: String,
    group_owner_id: String,
    is_egress: bool,
    ip_protocol: String,
    from_port: i64,
    to_port: i64,
    cidr_ipv4: Option<String>,
    cidr_ipv6: Option<String>,
    prefix_list_id: Option<String>,
    referenced_group_info: Option<ReferencedGroupOut>,
    description: Option<String>,
    tags: Vec<Tag>,
    security_group_rule_arn: String,
}

/// `ReferencedSecurityGroup`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReferencedGroupOut {
    group_id: String,
    user_id: String,
}

/// A rule as `SecurityGroupRule`, with `tags`.
pub(super) fn rule_out(
    r: &SgRule,
    group_id: &str,
    ctx: &RequestContext,
    tags: Vec<Tag>,
) -> SecurityGroupRuleOut {
    let (mut cidr_ipv4, mut cidr_ipv6, mut prefix_list_id, mut referenced_group_info) =
        (None, None, None, None);
    match &r.peer {
        Peer::Cidr4(c) => cidr_ipv4 = Some(c.clone()),
        Peer::Cidr6(c) => cidr_ipv6 = Some(c.clone()),
        Peer::PrefixList(c) => prefix_list_id = Some(c.clone()),
        Peer::Group(id) => {
            referenced_group_info = Some(ReferencedGroupOut {
                group_id: id.clone(),
                user_id: ctx.scope.account.clone(),
            });
        }
    }
    SecurityGroupRuleOut {
        security_group_rule_id: r.id.clone(),
        group_id: group_id.to_owned(),
        group_owner_id: ctx.scope.account.clone(),
        is_egress: r.egress,
        ip_protocol: r.protocol.clone(),
        from_port: r.from_port.unwrap_or(-1),
        to_port: r.to_port.unwrap_or(-1),
        cidr_ipv4,
        cidr_ipv6,
        prefix_list_id,
        referenced_group_info,
        description: r.description.clone(),
        tags,
        security_group_rule_arn: arn(
            "ec2",
            &ctx.scope.region,
            &ctx.scope.account,
            &format!("security-group-rule/{}", r.id),
        ),
    }
}

/// The input of Authorize/Revoke Ingress/Egress.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RuleChangeRequest {
    group_id: Option<String>,
    group_name: Option<String>,
    ip_permissions: Vec<IpPermission>,
    ip_protocol: Option<String>,
    from_port: Option<i64>,
    to_port: Option<i64>,
    cidr_ip: Option<String>,
    source_security_group_name: Option<String>,
    security_group_rule_ids: Vec<String>,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

impl RuleChangeRequest {
    /// IpPermissions plus the flat legacy parameters as one more permission.
    fn all_permissions(&self) -> Vec<IpPermission> {
        let mut perms = self.ip_permissions.clone();
        if self.cidr_ip.is_some() || self.source_security_group_name.is_some() {
            perms.push(IpPermission {
                ip_protocol: self.ip_protocol.clone(),
                from_port: self.from_port,
                to_port: self.to_port,
                ip_ranges: self
                    .cidr_ip
                    .iter()
                    .map(|c| IpRange {
                        cidr_ip: Some(c.clone()),
                        description: None,
                    })
                    .collect(),
                user_id_group_pairs: self
                    .source_security_group_name
                    .iter()
                    .map(|n| UserIdGroupPair {
                        group_name: Some(n.clone()),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            });
        }
        perms
    }
}

/// `Authorize…Result`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthorizeOut {
    r#return: bool,
    security_group_rules: Vec<SecurityGroupRuleOut>,
}

/// `RevokedSecurityGroupRule`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RevokedRuleOut {
    security_group_rule_id: String,
    group_id: String,
    is_egress: bool,
    ip_protocol: String,
}

/// `Revoke…Result`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeOut {
    r#return: bool,
    revoked_security_group_rules: Vec<RevokedRuleOut>,
}

fn authorize(
    ctx: &RequestContext,
    state: &AppState,
    req: RuleChangeRequest,
    egress: bool,
) -> Result<AuthorizeOut, ApiError> {
    let rule_tags = spec_tags(&req.tag_specifications, "security-group-rule")?;
    let rules = with_store(ctx, state, |s| {
        let g = find_group(s, req.group_id.as_deref(), req.group_name.as_deref())?;
        let (gid, vpc) = (g.id.clone(), g.vpc_id.clone());
        let mut new = expand(s, &vpc, &req.all_permissions(), egress)?;
        let existing = &s.security_groups[&gid].rules;
        for (i, r) in new.iter().enumerate() {
            if existing.iter().chain(&new[..i]).any(|e| same_rule(e, r)) {
                return Err(Ec2Error::InvalidPermissionDuplicate.with(format!(
                    "the specified rule \"{}\" already exists",
                    describe_rule(r)
                )));
            }
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        for r in &mut new {
            r.id = state.ids.resource("sgr");
            s.set_tags(&r.id, rule_tags.clone());
        }
        // The answer lists each new rule without its tags.
        let out: Vec<SecurityGroupRuleOut> = new
            .iter()
            .map(|r| rule_out(r, &gid, ctx, Vec::new()))
            .collect();
        if let Some(g) = s.security_groups.get_mut(&gid) {
            g.rules.extend(new);
        }
        Ok(out)
    })?;
    state.touched(Topic::Ec2);
    Ok(AuthorizeOut {
        r#return: true,
        security_group_rules: rules,
    })
}

fn revoke(
    ctx: &RequestContext,
    state: &AppState,
    req: RuleChangeRequest,
    egress: bool,
) -> Result<RevokeOut, ApiError> {
    let revoked = with_store(ctx, state, |s| {
        let g = find_group(s, req.group_id.as_deref(), req.group_name.as_deref())?;
        let (gid, vpc) = (g.id.clone(), g.vpc_id.clone());
        let mut remove: Vec<String> = Vec::new();
        for rid in &req.security_group_rule_ids {
            match g.rules.iter().find(|r| &r.id == rid && r.egress == egress) {
                Some(r) => remove.push(r.id.clone()),
                None => {
                    return Err(Ec2Error::InvalidSecurityGroupRuleIdNotFound
                        .with(format!("The security group rule ID '{rid}' does not exist")));
                }
            }
        }
        let perms = req.all_permissions();
        if !perms.is_empty() {
            for wanted in expand(s, &vpc, &perms, egress)? {
                match g.rules.iter().find(|r| same_rule(r, &wanted)) {
                    Some(r) => remove.push(r.id.clone()),
                    None => {
                        return Err(Ec2Error::InvalidPermissionNotFound
                            .with("The specified rule does not exist in this security group."));
                    }
                }
            }
        } else if remove.is_empty() {
            return Err(Ec2Error::MissingParameter
                .with("No IP permissions or security group rule ids were given."));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let out: Vec<RevokedRuleOut> = g
            .rules
            .iter()
            .filter(|r| remove.contains(&r.id))
            .map(|r| RevokedRuleOut {
                security_group_rule_id: r.id.clone(),
                group_id: gid.clone(),
                is_egress: r.egress,
                ip_protocol: r.protocol.clone(),
            })
            .collect();
        if let Some(g) = s.security_groups.get_mut(&gid) {
            g.rules.retain(|r| !remove.contains(&r.id));
        }
        for id in &remove {
            s.clear_tags(id);
        }
        Ok(out)
    })?;
    state.touched(Topic::Ec2);
    Ok(RevokeOut {
        r#return: true,
        revoked_security_group_rules: revoked,
    })
}

/// AuthorizeSecurityGroupIngress.
pub fn authorize_security_group_ingress(
    ctx: &RequestContext,
    state: &AppState,
    req: RuleChangeRequest,
) -> Result<AuthorizeOut, ApiError> {
    authorize(ctx, state, req, false)
}

/// AuthorizeSecurityGroupEgress.
pub fn authorize_security_group_egress(
    ctx: &RequestContext,
    state: &AppState,
    req: RuleChangeRequest,
) -> Result<AuthorizeOut, ApiError> {
    authorize(ctx, state, req, true)
}

/// RevokeSecurityGroupIngress.
pub fn revoke_security_group_ingress(
    ctx: &RequestContext,
    state: &AppState,
    req: RuleChangeRequest,
) -> Result<RevokeOut, ApiError> {
    revoke(ctx, state, req, false)
}

/// RevokeSecurityGroupEgress.
pub fn revoke_security_group_egress(
    ctx: &RequestContext,
    state: &AppState,
    req: RuleChangeRequest,
) -> Result<RevokeOut, ApiError> {
    revoke(ctx, state, req, true)
}
