//! Security groups: Create/Describe/Delete, Authorize/Revoke Ingress/Egress, the default
//! group of every VPC and DescribeSecurityGroupRules.
//!
//! Rules are kept expanded, one per (protocol, ports, peer), each with its `sgr-` id, and are
//! grouped back into `IpPermission`s when described, as EC2 does.

use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, invalid, missing};
use super::filters::{self, Filter};
use super::sg_rules::{IpPermission, SecurityGroupRuleOut, permissions, rule_out};
use super::store::{Ec2Store, InstanceState, SecurityGroup, SgRule};
use super::{
    Tag, TagSpecification, dry_run_ok, paginate, spec_tags, tag_filter_values, tag_list, with_store,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, IdGen, Topic, ids::arn};

/// Who a rule lets in (or out to).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Peer {
    /// IPv4 CIDR.
    Cidr4(String),
    /// IPv6 CIDR.
    Cidr6(String),
    /// Managed prefix list id.
    PrefixList(String),
    /// Another (or the same) security group, by id.
    Group(String),
}

/// The egress rule every new group starts with: all traffic to 0.0.0.0/0.
pub fn default_egress(ids: &IdGen) -> SgRule {
    SgRule {
        id: ids.resource("sgr"),
        egress: true,
        protocol: "-1".into(),
        from_port: None,
        to_port: None,
        peer: Peer::Cidr4("0.0.0.0/0".into()),
        description: None,
    }
}

pub(super) fn find_group<'a>(
    s: &'a Ec2Store,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<&'a SecurityGroup, ApiError> {
    match (id, name) {
        (Some(id), _) => s.security_groups.get(id).ok_or_else(|| {
            Ec2Error::InvalidGroupNotFound.with(format!("The security group '{id}' does not exist"))
        }),
        (None, Some(name)) => {
            let vpc = s.default_vpc().map(|v| v.id.clone()).unwrap_or_default();
            s.group_by_name(&vpc, name).ok_or_else(|| {
                Ec2Error::InvalidGroupNotFound.with(format!(
                    "The security group '{name}' does not exist in default VPC '{vpc}'"
                ))
            })
        }
        (None, None) => Err(missing("groupName or groupId")),
    }
}

/// CreateSecurityGroup's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateSecurityGroupRequest {
    description: Option<String>,
    group_name: Option<String>,
    vpc_id: Option<String>,
    tag_specifications: Vec<TagSpecification>,
    dry_run: bool,
}

/// `CreateSecurityGroupResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecurityGroupOut {
    group_id: String,
    tags: Vec<Tag>,
    security_group_arn: String,
}

/// CreateSecurityGroup.
pub fn create_security_group(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateSecurityGroupRequest,
) -> Result<CreateSecurityGroupOut, ApiError> {
    let name = req.group_name.unwrap_or_default();
    if name.is_empty() || name.len() > 255 {
        return Err(invalid(
            "Invalid value for parameter groupName: must be 1 to 255 characters",
        ));
    }
    if name.to_ascii_lowercase().starts_with("sg-") {
        return Err(invalid("Group names may not be in the format sg-*."));
    }
    let tags = spec_tags(&req.tag_specifications, "security-group")?;
    let (id, tags) = with_store(ctx, state, |s| {
        let vpc_id =
            match &req.vpc_id {
                Some(v) if !s.vpcs.contains_key(v) => {
                    return Err(Ec2Error::InvalidVpcIDNotFound
                        .with(format!("The vpc ID '{v}' does not exist")));
                }
                Some(v) => v.clone(),
                None => s.default_vpc().map(|v| v.id.clone()).ok_or_else(|| {
                    Ec2Error::VPCIdNotSpecified.with("No default VPC for this user")
                })?,
            };
        if s.group_by_name(&vpc_id, &name).is_some() {
            return Err(Ec2Error::InvalidGroupDuplicate.with(format!(
                "The security group '{name}' already exists for VPC '{vpc_id}'"
            )));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let id = state.ids.resource("sg");
        s.security_groups.insert(
            id.clone(),
            SecurityGroup {
                id: id.clone(),
                name: name.clone(),
                description: req.description.clone().unwrap_or_default(),
                vpc_id,
                rules: vec![default_egress(&state.ids)],
            },
        );
        s.set_tags(&id, tags);
        Ok((id.clone(), tag_list(s.tags_of(&id))))
    })?;
    state.touched(Topic::Ec2);
    let arn = arn(
        "ec2",
        &ctx.scope.region,
        &ctx.scope.account,
        &format!("security-group/{id}"),
    );
    Ok(CreateSecurityGroupOut {
        group_id: id,
        tags,
        security_group_arn: arn,
    })
}

/// DescribeSecurityGroups's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeSecurityGroupsRequest {
    group_ids: Vec<String>,
    group_names: Vec<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// `SecurityGroup`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SecurityGroupOut {
    group_id: String,
    ip_permissions_egress: Vec<IpPermission>,
    tags: Vec<Tag>,
    vpc_id: String,
    security_group_arn: String,
    owner_id: String,
    group_name: String,
    description: String,
    ip_permissions: Vec<IpPermission>,
}

/// `DescribeSecurityGroupsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSecurityGroupsOut {
    next_token: Option<String>,
    security_groups: Vec<SecurityGroupOut>,
}

/// DescribeSecurityGroups.
pub fn describe_security_groups(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeSecurityGroupsRequest,
) -> Result<DescribeSecurityGroupsOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "description",
            "egress.ip-permission.cidr",
            "egress.ip-permission.from-port",
            "egress.ip-permission.protocol",
            "egress.ip-permission.to-port",
            "group-id",
            "group-name",
            "ip-permission.cidr",
            "ip-permission.from-port",
            "ip-permission.group-id",
            "ip-permission.protocol",
            "ip-permission.to-port",
            "owner-id",
            "tag-key",
            "tag-value",
            "vpc-id",
        ],
    )?;
    let account = ctx.scope.account.clone();
    let groups = with_store(ctx, state, |s| {
        for id in &req.group_ids {
            find_group(s, Some(id), None)?;
        }
        for name in &req.group_names {
            find_group(s, None, Some(name))?;
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let default_vpc = s.default_vpc().map(|v| v.id.clone()).unwrap_or_default();
        let mut out = Vec::new();
        for g in s.security_groups.values() {
            if !req.group_ids.is_empty() && !req.group_ids.contains(&g.id) {
                continue;
            }
            if !req.group_names.is_empty()
                && (g.vpc_id != default_vpc || !req.group_names.contains(&g.name))
            {
                continue;
            }
            let tags = s.tags_of(&g.id);
            // The rule values a `[egress.]ip-permission.*` filter looks at.
            let rule_values = |egress: bool, what: &str| -> Vec<String> {
                g.rules
                    .iter()
                    .filter(|r| r.egress == egress)
                    .filter_map(|r| match (what, &r.peer) {
                        ("cidr", Peer::Cidr4(c) | Peer::Cidr6(c)) => Some(c.clone()),
                        ("group-id", Peer::Group(c)) => Some(c.clone()),
                        ("from-port", _) => r.from_port.map(|p| p.to_string()),
                        ("to-port", _) => r.to_port.map(|p| p.to_string()),
                        ("protocol", _) => Some(r.protocol.clone()),
                        _ => None,
                    })
                    .collect()
            };
            let ok = req.filters.iter().all(|f| {
                let have: Vec<String> = if let Some(t) = tag_filter_values(tags, &f.name) {
                    t.into_iter().map(str::to_owned).collect()
                } else if let Some(what) = f.name.strip_prefix("egress.ip-permission.") {
                    rule_values(true, what)
                } else if let Some(what) = f.name.strip_prefix("ip-permission.") {
                    rule_values(false, what)
                } else {
                    let v = match f.name.as_str() {
                        "description" => &g.description,
                        "group-id" => &g.id,
                        "group-name" => &g.name,
                        "owner-id" => &account,
                        "vpc-id" => &g.vpc_id,
                        _ => return false,
                    };
                    vec![v.clone()]
                };
                f.values
                    .iter()
                    .any(|p| have.iter().any(|v| filters::wildcard_match(p, v)))
            });
            if !ok {
                continue;
            }
            out.push(SecurityGroupOut {
                group_id: g.id.clone(),
                ip_permissions_egress: permissions(&g.rules, true, &account),
                tags: tag_list(tags),
                vpc_id: g.vpc_id.clone(),
                security_group_arn: arn(
                    "ec2",
                    &ctx.scope.region,
                    &account,
                    &format!("security-group/{}", g.id),
                ),
                owner_id: account.clone(),
                group_name: g.name.clone(),
                description: g.description.clone(),
                ip_permissions: permissions(&g.rules, false, &account),
            });
        }
        Ok(out)
    })?;
    let (groups, next_token) = paginate(
        groups,
        req.max_results,
        req.next_token.as_deref(),
        (5, 1000),
    )?;
    Ok(DescribeSecurityGroupsOut {
        next_token,
        security_groups: groups,
    })
}

/// DeleteSecurityGroup's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteSecurityGroupRequest {
    group_id: Option<String>,
    group_name: Option<String>,
    dry_run: bool,
}

/// `DeleteSecurityGroupResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecurityGroupOut {
    r#return: bool,
    group_id: String,
}

/// DeleteSecurityGroup: not the default group, not while instances or other groups use it.
pub fn delete_security_group(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteSecurityGroupRequest,
) -> Result<DeleteSecurityGroupOut, ApiError> {
    let id = with_store(ctx, state, |s| {
        let g = find_group(s, req.group_id.as_deref(), req.group_name.as_deref())?;
        let id = g.id.clone();
        if g.name == "default" {
            return Err(Ec2Error::CannotDelete.with(format!(
                "the specified group: \"{id}\" name: \"default\" cannot be deleted by a user"
            )));
        }
        let used_by_instance = s
            .instances
            .values()
            .any(|i| i.state != InstanceState::Terminated && i.security_groups.contains(&id));
        let referenced = s
            .security_groups
            .values()
            .any(|o| o.id != id && o.rules.iter().any(|r| r.peer == Peer::Group(id.clone())));
        if used_by_instance || referenced {
            return Err(
                Ec2Error::DependencyViolation.with(format!("resource {id} has a dependent object"))
            );
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        s.security_groups.shift_remove(&id);
        s.clear_tags(&id);
        Ok(id)
    })?;
    state.touched(Topic::Ec2);
    Ok(DeleteSecurityGroupOut {
        r#return: true,
        group_id: id,
    })
}

/// DescribeSecurityGroupRules's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeSecurityGroupRulesRequest {
    filters: Vec<Filter>,
    security_group_rule_ids: Vec<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    dry_run: bool,
}

/// `DescribeSecurityGroupRulesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSecurityGroupRulesOut {
    security_group_rules: Vec<SecurityGroupRuleOut>,
    next_token: Option<String>,
}

/// DescribeSecurityGroupRules.
pub fn describe_security_group_rules(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeSecurityGroupRulesRequest,
) -> Result<DescribeSecurityGroupRulesOut, ApiError> {
    filters::check_names(
        &req.filters,
        &["group-id", "security-group-rule-id", "tag-key", "tag-value"],
    )?;
    let rules = with_store(ctx, state, |s| {
        let all: Vec<(&SgRule, &str)> = s
            .security_groups
            .values()
            .flat_map(|g| g.rules.iter().map(move |r| (r, g.id.as_str())))
            .collect();
        if let Some(missing) = req
            .security_group_rule_ids
            .iter()
            .find(|id| !all.iter().any(|(r, _)| &r.id == *id))
        {
            return Err(Ec2Error::InvalidSecurityGroupRuleIdNotFound.with(format!(
                "The security group rule ID '{missing}' does not exist"
            )));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        Ok(all
            .into_iter()
            .filter(|(r, _)| {
                req.security_group_rule_ids.is_empty()
                    || req.security_group_rule_ids.contains(&r.id)
            })
            .filter(|(r, gid)| {
                let tags = s.tags_of(&r.id);
                filters::matches_all(&req.filters, |f| {
                    if let Some(t) = tag_filter_values(tags, f) {
                        return t;
                    }
                    match f {
                        "group-id" => vec![*gid],
                        "security-group-rule-id" => vec![r.id.as_str()],
                        _ => vec![],
                    }
                })
            })
            .map(|(r, gid)| rule_out(r, gid, ctx, tag_list(s.tags_of(&r.id))))
            .collect::<Vec<_>>())
    })?;
    let (rules, next_token) =
        paginate(rules, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(DescribeSecurityGroupRulesOut {
        security_group_rules: rules,
        next_token,
    })
}

/// Widest port range of one rule that [`ingress_tcp_ports`] still lists (a rule opening more,
/// `0-65535` or all traffic, lists nothing: a published host port each would be a proxy each).
pub const LISTED_RANGE_MAX: i64 = 16;
/// Most ports [`ingress_tcp_ports`] lists for one instance (the lowest).
pub const LISTED_PORTS_MAX: usize = 64;

/// The TCP ports the groups `group_ids` let in from address ranges (IPv4/IPv6 CIDRs and
/// prefix lists), sorted: what a backend may open to the host (the Docker backend publishes
/// them on 127.0.0.1). Rules whose source is a security group are about traffic between
/// instances and list nothing; ranges wider than [`LISTED_RANGE_MAX`] ports are skipped, and
/// at most [`LISTED_PORTS_MAX`] ports are listed.
pub fn ingress_tcp_ports(store: &Ec2Store, group_ids: &[String]) -> Vec<u16> {
    let mut ports = std::collections::BTreeSet::new();
    let rules = group_ids
        .iter()
        .filter_map(|id| store.security_groups.get(id))
        .flat_map(|g| &g.rules)
        .filter(|r| !r.egress && !matches!(r.peer, Peer::Group(_)))
        .filter(|r| r.protocol.eq_ignore_ascii_case("tcp") || r.protocol == "6");
    for r in rules {
        let (Some(from), Some(to)) = (r.from_port, r.to_port) else {
            continue;
        };
        if from < 1 || to > 65535 || to < from || to - from + 1 > LISTED_RANGE_MAX {
            continue;
        }
        ports.extend((from..=to).filter_map(|p| u16::try_from(p).ok()));
    }
    ports.into_iter().take(LISTED_PORTS_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: i64, to: i64, peer: Peer) -> SgRule {
        SgRule {
            id: "sgr-1".into(),
            egress: false,
            protocol: protocol.into(),
            from_port: Some(from),
            to_port: Some(to),
            peer,
            description: None,
        }
    }

    #[test]
    fn ingress_ports_are_tcp_from_ranges_in_small_ranges() {
        let world = || Peer::Cidr4("0.0.0.0/0".into());
        let mut store = Ec2Store::default();
        let group = |id: &str, rules: Vec<SgRule>| SecurityGroup {
            id: id.into(),
            name: id.into(),
            description: String::new(),
            vpc_id: "vpc-1".into(),
            rules,
        };
        let mut out = rule("tcp", 443, 443, world());
        out.egress = true;
        store.security_groups.insert(
            "sg-web".into(),
            group(
                "sg-web",
                vec![
                    rule("tcp", 80, 80, world()),
                    rule("6", 8080, 8081, Peer::Cidr6("::/0".into())),
                    rule("tcp", 22, 22, Peer::Group("sg-admin".into())),
                    rule("udp", 53, 53, world()),
                    rule("tcp", 0, 65535, world()),
                    rule("tcp", 9000, 9100, world()),
                    out,
                ],
            ),
        );
        store.security_groups.insert(
            "sg-app".into(),
            group(
                "sg-app",
                vec![
                    rule("TCP", 80, 80, Peer::PrefixList("pl-1".into())),
                    rule("tcp", 3000, 3002, world()),
                ],
            ),
        );
        let groups = [
            "sg-web".to_owned(),
            "sg-app".to_owned(),
            "sg-gone".to_owned(),
        ];
        assert_eq!(
            ingress_tcp_ports(&store, &groups),
            [80, 3000, 3001, 3002, 8080, 8081]
        );
        store.security_groups.insert(
            "sg-many".into(),
            group(
                "sg-many",
                (0..10)
                    .map(|i| rule("tcp", 10_000 + i * 16, 10_015 + i * 16, world()))
                    .collect(),
            ),
        );
        let many = ingress_tcp_ports(&store, &["sg-many".to_owned()]);
        assert_eq!(many.len(), LISTED_PORTS_MAX);
        assert_eq!(many[0], 10_000);
    }
}
