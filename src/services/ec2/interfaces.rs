//! DescribeNetworkInterfaces: the primary interface of every instance that is not terminated
//! (it is deleted with the instance), the same interface DescribeInstances shows inside the
//! instance, plus what the `NetworkInterface` shape adds (zone, attachment's instance,
//! `TagSet`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::filters::{self, Filter};
use super::instance_view::{eni_attachment_id, mac, nic_out, private_dns, tags_out};
use super::store::InstanceState;
use super::{check_id_shape, dry_run_ok, paginate, tag_filter_values, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeNetworkInterfacesRequest {
    network_interface_ids: Vec<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
}

/// Filter names DescribeNetworkInterfaces supports.
const FILTERS: &[&str] = &[
    "association.ip-owner-id",
    "association.public-dns-name",
    "association.public-ip",
    "attachment.attachment-id",
    "attachment.delete-on-termination",
    "attachment.device-index",
    "attachment.instance-id",
    "attachment.instance-owner-id",
    "attachment.status",
    "availability-zone",
    "addresses.private-ip-address",
    "addresses.primary",
    "description",
    "group-id",
    "group-name",
    "interface-type",
    "mac-address",
    "network-interface-id",
    "owner-id",
    "private-dns-name",
    "private-ip-address",
    "requester-managed",
    "source-dest-check",
    "status",
    "subnet-id",
    "tag-key",
    "tag-value",
    "vpc-id",
];

/// DescribeNetworkInterfaces.
pub fn describe_network_interfaces(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeNetworkInterfacesRequest = parse_input(input)?;
    filters::check_names(&req.filters, FILTERS)?;
    for id in &req.network_interface_ids {
        check_id_shape(id, "eni", "InvalidNetworkInterfaceID.Malformed")?;
    }
    let scope = &ctx.scope;
    let list = with_store(ctx, state, |s| {
        let live = || {
            s.instances
                .values()
                .filter(|i| i.state != InstanceState::Terminated)
        };
        if let Some(missing) = req
            .network_interface_ids
            .iter()
            .find(|id| !live().any(|i| &i.network_interface_id == *id))
        {
            return Err(ApiError::client(
                "InvalidNetworkInterfaceID.NotFound",
                format!("The networkInterface ID '{missing}' does not exist"),
            ));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let mut list = Vec::new();
        for i in live() {
            if !req.network_interface_ids.is_empty()
                && !req.network_interface_ids.contains(&i.network_interface_id)
            {
                continue;
            }
            let dns = private_dns(i.private_ip, &scope.region);
            let public_ip = i.public_ip.map(|ip| ip.to_string());
            let public_dns = i
                .public_ip
                .map(|ip| super::instance_view::public_dns(ip, &scope.region));
            let (private_ip, attachment_id, mac) =
                (i.private_ip.to_string(), eni_attachment_id(i), mac(&i.id));
            let group_names: Vec<&str> = i
                .security_groups
                .iter()
                .filter_map(|g| s.security_groups.get(g).map(|g| g.name.as_str()))
                .collect();
            let tags = s.tags_of(&i.network_interface_id);
            let keep = filters::matches_all(&req.filters, |f| {
                if let Some(t) = tag_filter_values(tags, f) {
                    return t;
                }
                match f {
                    "association.ip-owner-id" => public_ip.iter().map(|_| "amazon").collect(),
                    "association.public-dns-name" => public_dns.as_deref().into_iter().collect(),
                    "association.public-ip" => public_ip.as_deref().into_iter().collect(),
                    "attachment.attachment-id" => vec![attachment_id.as_str()],
                    "attachment.delete-on-termination" | "addresses.primary" => vec!["true"],
                    "attachment.device-index" => vec!["0"],
                    "attachment.instance-id" => vec![i.id.as_str()],
                    "attachment.instance-owner-id" | "owner-id" => vec![scope.account.as_str()],
                    "attachment.status" => vec!["attached"],
                    "availability-zone" => vec![i.availability_zone.as_str()],
                    "addresses.private-ip-address" | "private-ip-address" => {
                        vec![private_ip.as_str()]
                    }
                    "description" => vec![""],
                    "group-id" => i.security_groups.iter().map(String::as_str).collect(),
                    "group-name" => group_names.clone(),
                    "interface-type" => vec!["interface"],
                    "mac-address" => vec![mac.as_str()],
                    "network-interface-id" => vec![i.network_interface_id.as_str()],
                    "private-dns-name" => vec![dns.as_str()],
                    "requester-managed" => vec!["false"],
                    "source-dest-check" => vec![if i.source_dest_check { "true" } else { "false" }],
                    "status" => vec!["in-use"],
                    "subnet-id" => vec![i.subnet_id.as_str()],
                    "vpc-id" => vec![i.vpc_id.as_str()],
                    _ => vec![],
                }
            });
            if !keep {
                continue;
            }
            let groups: Vec<Value> = i
                .security_groups
                .iter()
                .map(|g| {
                    let name = s.security_groups.get(g).map_or("", |g| g.name.as_str());
                    json!({"GroupId": g, "GroupName": name})
                })
                .collect();
            let mut nic = nic_out(i, scope, Value::Array(groups), json!(dns));
            nic["AvailabilityZone"] = json!(i.availability_zone);
            nic["RequesterManaged"] = json!(false);
            nic["TagSet"] = tags_out(tags);
            nic["Attachment"]["InstanceId"] = json!(i.id);
            nic["Attachment"]["InstanceOwnerId"] = json!(scope.account);
            list.push(nic);
        }
        Ok(list)
    })?;
    let (list, next_token) = paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(json!({"NetworkInterfaces": list, "NextToken": next_token}))
}
