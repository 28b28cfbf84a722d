//! DescribeNetworkInterfaces: the primary interface of every instance that is not terminated
//! (it is deleted with the instance), the same interface DescribeInstances shows inside the
//! instance, plus what the `NetworkInterface` shape adds (zone, attachment's instance,
//! `TagSet`).

use serde::{Deserialize, Serialize};

use super::errors::Ec2Error;
use super::filters::{self, Filter};
use super::instance_view::{eni_attachment_id, mac, private_dns};
use super::store::{Ec2Store, Instance, InstanceState};
use super::views::EmptyList;
use super::{Tag, check_id_shape, dry_run_ok, paginate, tag_filter_values, tag_list, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::state::{AppState, Scope};

/// DescribeNetworkInterfaces' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeNetworkInterfacesRequest {
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
    req: DescribeNetworkInterfacesRequest,
) -> Result<DescribeNetworkInterfacesOut, ApiError> {
    filters::check_names(&req.filters, FILTERS)?;
    for id in &req.network_interface_ids {
        check_id_shape(id, "eni", Ec2Error::InvalidNetworkInterfaceIDMalformed)?;
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
            return Err(Ec2Error::InvalidNetworkInterfaceIDNotFound.with(format!(
                "The networkInterface ID '{missing}' does not exist"
            )));
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
            let mut nic = interface_out(s, i, scope, dns);
            nic.tag_set = tag_list(tags);
            list.push(nic);
        }
        Ok(list)
    })?;
    let (network_interfaces, next_token) =
        paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(DescribeNetworkInterfacesOut {
        network_interfaces,
        next_token,
    })
}

/// A live instance's primary interface as the `NetworkInterface` output (tags left empty).
fn interface_out(s: &Ec2Store, i: &Instance, scope: &Scope, dns: String) -> NetworkInterfaceOut {
    let private_ip = i.private_ip.to_string();
    let association = i.public_ip.map(|ip| AssociationOut {
        ip_owner_id: "amazon",
        public_dns_name: super::instance_view::public_dns(ip, &scope.region),
        public_ip: ip.to_string(),
    });
    NetworkInterfaceOut {
        association: association.clone(),
        attachment: AttachmentOut {
            attach_time: Timestamp(i.launch_time),
            attachment_id: eni_attachment_id(i),
            delete_on_termination: true,
            device_index: 0,
            network_card_index: 0,
            instance_id: i.id.clone(),
            instance_owner_id: scope.account.clone(),
            status: "attached",
        },
        availability_zone: i.availability_zone.clone(),
        description: "",
        groups: i
            .security_groups
            .iter()
            .map(|g| GroupOut {
                group_id: g.clone(),
                group_name: s
                    .security_groups
                    .get(g)
                    .map_or_else(String::new, |g| g.name.clone()),
            })
            .collect(),
        interface_type: "interface",
        ipv6_addresses: EmptyList,
        mac_address: mac(&i.id),
        network_interface_id: i.network_interface_id.clone(),
        owner_id: scope.account.clone(),
        private_dns_name: dns.clone(),
        private_ip_address: private_ip.clone(),
        private_ip_addresses: vec![PrivateAddressOut {
            association,
            primary: true,
            private_dns_name: dns,
            private_ip_address: private_ip,
        }],
        requester_managed: false,
        source_dest_check: i.source_dest_check,
        status: "in-use",
        subnet_id: i.subnet_id.clone(),
        tag_set: Vec::new(),
        vpc_id: i.vpc_id.clone(),
    }
}

/// `DescribeNetworkInterfacesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeNetworkInterfacesOut {
    network_interfaces: Vec<NetworkInterfaceOut>,
    next_token: Option<String>,
}

/// `NetworkInterface`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkInterfaceOut {
    association: Option<AssociationOut>,
    attachment: AttachmentOut,
    availability_zone: String,
    description: &'static str,
    groups: Vec<GroupOut>,
    interface_type: &'static str,
    ipv6_addresses: EmptyList,
    mac_address: String,
    network_interface_id: String,
    owner_id: String,
    private_dns_name: String,
    private_ip_address: String,
    private_ip_addresses: Vec<PrivateAddressOut>,
    requester_managed: bool,
    source_dest_check: bool,
    status: &'static str,
    subnet_id: String,
    tag_set: Vec<Tag>,
    vpc_id: String,
}

/// `NetworkInterfaceAssociation`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssociationOut {
    ip_owner_id: &'static str,
    public_dns_name: String,
    public_ip: String,
}

/// `NetworkInterfaceAttachment`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttachmentOut {
    attach_time: Timestamp,
    attachment_id: String,
    delete_on_termination: bool,
    device_index: i64,
    network_card_index: i64,
    instance_id: String,
    instance_owner_id: String,
    status: &'static str,
}

/// `GroupIdentifier`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupOut {
    group_id: String,
    group_name: String,
}

/// `NetworkInterfacePrivateIpAddress`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PrivateAddressOut {
    association: Option<AssociationOut>,
    primary: bool,
    private_dns_name: String,
    private_ip_address: String,
}
