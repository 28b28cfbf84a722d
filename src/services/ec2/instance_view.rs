//! Instances as AWS shows them: the `Instance` output, filters, DescribeInstances and
//! DescribeInstanceStatus.

use serde::Deserialize;
use serde_json::{Value, json};

use super::filters::{self, Filter};
pub use super::instance_names::{eni_attachment_id, mac, private_dns, public_dns};
use super::store::{Ec2Store, Instance, InstanceState};
use super::{check_id_shape, dry_run_ok, paginate, tag_filter_values, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::timestamp::format_iso8601;
use crate::services::parse_input;
use crate::state::{AppState, Scope};

/// Seconds a running instance's status checks stay `initializing`.
pub const STATUS_INITIALIZING_SECONDS: f64 = 60.0;

/// `StateReason` message for a code.
pub(super) fn state_reason_message(code: &str) -> &'static str {
    match code {
        "pending" => "pending",
        "Client.UserInitiatedShutdown" => "Client.UserInitiatedShutdown: User initiated shutdown",
        "Client.InstanceInitiatedShutdown" => {
            "Client.InstanceInitiatedShutdown: Instance initiated shutdown"
        }
        "Server.InternalError" => "Server.InternalError: Internal error on launch",
        _ => "",
    }
}

/// One instance as the `Instance` output shape.
///
/// Sub-trees that are already `Value`s are inserted after the `json!` literal: inside it, any
/// expression goes through `serde_json::to_value`, which copies a `Value` node by node (that
/// copying was most of DescribeInstances' cost).
pub fn instance_out(s: &Ec2Store, i: &Instance, scope: &Scope) -> Value {
    let region = &scope.region;
    let groups: Vec<Value> = i
        .security_groups
        .iter()
        .map(|g| {
            let name = s.security_groups.get(g).map_or("", |g| g.name.as_str());
            json!({"GroupId": g, "GroupName": name})
        })
        .collect();
    let gone = i.state == InstanceState::Terminated;
    let private_dns_name = if gone {
        String::new()
    } else {
        private_dns(i.private_ip, region)
    };
    let public_dns_name = i
        .public_ip
        .map(|ip| public_dns(ip, region))
        .unwrap_or_default();
    let mut v = json!({
        "InstanceId": i.id, "ImageId": i.image_id, "InstanceType": i.instance_type,
        "StateTransitionReason": i.transition_reason,
        "PublicDnsName": public_dns_name,
        "AmiLaunchIndex": i.ami_launch_index, "ProductCodes": [],
        "LaunchTime": i.launch_time,
        "Placement": {"AvailabilityZone": i.availability_zone, "GroupName": "", "Tenancy": "default"},
        "Monitoring": {"State": if i.monitoring { "enabled" } else { "disabled" }},
        "Architecture": i.architecture, "RootDeviceType": "ebs", "RootDeviceName": i.root_device_name,
        "VirtualizationType": "hvm", "Hypervisor": "xen", "EbsOptimized": i.ebs_optimized,
        "EnaSupport": true, "SourceDestCheck": i.source_dest_check,
        "ClientToken": i.client_token.as_deref().unwrap_or_default(),
        "PlatformDetails": i.platform_details, "UsageOperation": i.usage_operation(),
        "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
        "CapacityReservationSpecification": {"CapacityReservationPreference": "open"},
        "HibernationOptions": {"Configured": false},
        "MetadataOptions": {"State": if i.state == InstanceState::Pending { "pending" } else { "applied" },
            "HttpTokens": i.http_tokens, "HttpPutResponseHopLimit": i.http_hop_limit,
            "HttpEndpoint": i.http_endpoint, "HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "disabled"},
        "EnclaveOptions": {"Enabled": false},
        "BootMode": "legacy-bios", "CurrentInstanceBootMode": "legacy-bios",
        "MaintenanceOptions": {"AutoRecovery": "default"},
    });
    v["State"] = i.state.to_value();
    v["Tags"] = tags_out(s.tags_of(&i.id));
    if let Some(p) = &i.platform {
        v["Platform"] = json!(p);
    }
    if let Some(k) = &i.key_name {
        v["KeyName"] = json!(k);
    }
    if let Some(code) = i.state_reason {
        v["StateReason"] = json!({"Code": code, "Message": state_reason_message(code)});
    }
    if let Some(a) = &i.iam_instance_profile {
        v["IamInstanceProfile"] = json!({"Arn": a.arn, "Id": a.profile_id});
    }
    if !gone {
        v["SubnetId"] = json!(i.subnet_id);
        v["VpcId"] = json!(i.vpc_id);
        v["PrivateIpAddress"] = json!(i.private_ip.to_string());
        if let Some(ip) = i.public_ip {
            v["PublicIpAddress"] = json!(ip.to_string());
        }
        let nic = nic_out(
            i,
            scope,
            Value::Array(groups.clone()),
            Value::String(private_dns_name.clone()),
        );
        v["NetworkInterfaces"] = Value::Array(vec![nic]);
        let ids: Vec<&str> = i.volume_ids.iter().map(String::as_str).collect();
        v["BlockDeviceMappings"] = super::volumes::instance_mappings(s, &ids);
    } else {
        v["NetworkInterfaces"] = Value::Array(Vec::new());
        v["BlockDeviceMappings"] = Value::Array(Vec::new());
    }
    v["PrivateDnsName"] = Value::String(private_dns_name);
    v["SecurityGroups"] = Value::Array(groups);
    v
}

/// `[{"Key": .., "Value": ..}]`, built directly (this runs for every listed instance).
pub fn tags_out(tags: &super::store::Tags) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| {
                let mut tag = serde_json::Map::new();
                tag.insert("Key".to_owned(), Value::String(k.clone()));
                tag.insert("Value".to_owned(), Value::String(v.clone()));
                Value::Object(tag)
            })
            .collect(),
    )
}

/// The primary network interface of a live instance, as the instance's
/// `InstanceNetworkInterface` (DescribeNetworkInterfaces adds to it).
pub fn nic_out(i: &Instance, scope: &Scope, groups: Value, private_dns_name: Value) -> Value {
    let private_ip = i.private_ip.to_string();
    let mut nic = json!({
        "NetworkInterfaceId": i.network_interface_id, "SubnetId": i.subnet_id, "VpcId": i.vpc_id,
        "Description": "", "OwnerId": scope.account, "Status": "in-use",
        "MacAddress": mac(&i.id), "PrivateIpAddress": private_ip,
        "SourceDestCheck": i.source_dest_check,
        "Ipv6Addresses": [], "InterfaceType": "interface",
        "Attachment": {"AttachmentId": eni_attachment_id(i),
            "AttachTime": i.launch_time, "DeleteOnTermination": true, "DeviceIndex": 0,
            "Status": "attached", "NetworkCardIndex": 0},
    });
    let mut address = serde_json::Map::new();
    address.insert("Primary".to_owned(), Value::Bool(true));
    address.insert("PrivateIpAddress".to_owned(), Value::String(private_ip));
    address.insert("PrivateDnsName".to_owned(), private_dns_name.clone());
    if let Some(ip) = i.public_ip {
        let assoc = json!({"IpOwnerId": "amazon", "PublicIp": ip.to_string(),
            "PublicDnsName": public_dns(ip, &scope.region)});
        address.insert("Association".to_owned(), assoc.clone());
        nic["Association"] = assoc;
    }
    nic["PrivateIpAddresses"] = Value::Array(vec![Value::Object(address)]);
    nic["PrivateDnsName"] = private_dns_name;
    nic["Groups"] = groups;
    nic
}

/// One reservation (all its instances) as the `Reservation` output. The instances of a
/// reservation are adjacent in launch order; searching from the end makes the answer to
/// RunInstances cost its own instances, not the whole store.
pub fn reservation_out(s: &Ec2Store, reservation_id: &str, scope: &Scope) -> Value {
    let mut instances: Vec<Value> = s
        .instances
        .values()
        .rev()
        .skip_while(|i| i.reservation_id != reservation_id)
        .take_while(|i| i.reservation_id == reservation_id)
        .map(|i| instance_out(s, i, scope))
        .collect();
    instances.reverse();
    reservation_value(reservation_id, scope, instances)
}

/// `{"ReservationId", "OwnerId", "Groups": [], "Instances"}`, moving the instances in (a
/// `json!` literal would copy them).
fn reservation_value(reservation_id: &str, scope: &Scope, instances: Vec<Value>) -> Value {
    let mut v = json!({"ReservationId": reservation_id, "OwnerId": scope.account, "Groups": []});
    v["Instances"] = Value::Array(instances);
    v
}

/// Filter names DescribeInstances supports.
const INSTANCE_FILTERS: &[&str] = &[
    "architecture",
    "availability-zone",
    "client-token",
    "dns-name",
    "group-id",
    "group-name",
    "iam-instance-profile.arn",
    "image-id",
    "instance-id",
    "instance-lifecycle",
    "instance-state-code",
    "instance-state-name",
    "instance-type",
    "instance.group-id",
    "instance.group-name",
    "ip-address",
    "key-name",
    "launch-index",
    "monitoring-state",
    "network-interface.network-interface-id",
    "network-interface.subnet-id",
    "owner-id",
    "placement-group-name",
    "private-dns-name",
    "private-ip-address",
    "reservation-id",
    "root-device-name",
    "root-device-type",
    "subnet-id",
    "tag-key",
    "tag-value",
    "tenancy",
    "vpc-id",
];

/// Whether an instance passes the filters.
pub fn instance_matches(s: &Ec2Store, i: &Instance, filters: &[Filter], scope: &Scope) -> bool {
    if filters.is_empty() {
        return true;
    }
    let tags = s.tags_of(&i.id);
    // Computed values only when asked for.
    let computed = |name: &str| -> Option<String> {
        Some(match name {
            "instance-state-code" => i.state.code().to_string(),
            "private-ip-address" => i.private_ip.to_string(),
            "ip-address" => i.public_ip?.to_string(),
            "private-dns-name" => private_dns(i.private_ip, &scope.region),
            "dns-name" => public_dns(i.public_ip?, &scope.region),
            "launch-index" => i.ami_launch_index.to_string(),
            _ => return None,
        })
    };
    filters.iter().all(|f| {
        let owned;
        let have: Vec<&str> = if let Some(t) = tag_filter_values(tags, &f.name) {
            t
        } else {
            match f.name.as_str() {
                "instance-id" => vec![i.id.as_str()],
                "instance-state-name" => vec![i.state.name()],
                "availability-zone" => vec![i.availability_zone.as_str()],
                "image-id" => vec![i.image_id.as_str()],
                "instance-type" => vec![i.instance_type.as_str()],
                "subnet-id" | "network-interface.subnet-id" => vec![i.subnet_id.as_str()],
                "vpc-id" => vec![i.vpc_id.as_str()],
                "key-name" => i.key_name.as_deref().into_iter().collect(),
                "reservation-id" => vec![i.reservation_id.as_str()],
                "client-token" => i.client_token.as_deref().into_iter().collect(),
                "group-id" | "instance.group-id" => {
                    i.security_groups.iter().map(String::as_str).collect()
                }
                "group-name" | "instance.group-name" => i
                    .security_groups
                    .iter()
                    .filter_map(|g| s.security_groups.get(g).map(|g| g.name.as_str()))
                    .collect(),
                "monitoring-state" => vec![if i.monitoring { "enabled" } else { "disabled" }],
                "iam-instance-profile.arn" => i
                    .iam_instance_profile
                    .iter()
                    .map(|a| a.arn.as_str())
                    .collect(),
                "architecture" => vec!["x86_64"],
                "root-device-type" => vec!["ebs"],
                "root-device-name" => vec![i.root_device_name.as_str()],
                "tenancy" => vec!["default"],
                "owner-id" => vec![scope.account.as_str()],
                "network-interface.network-interface-id" => vec![i.network_interface_id.as_str()],
                other => {
                    owned = computed(other);
                    owned.as_deref().into_iter().collect()
                }
            }
        };
        f.values
            .iter()
            .any(|p| have.iter().any(|v| filters::wildcard_match(p, v)))
    })
}

/// The instances an exact `tag:KEY` filter (no wildcards) admits, in launch order, from the
/// tag index; `None` when no filter narrows that way. The caller still applies every filter.
fn tag_candidates<'a>(s: &'a Ec2Store, filters: &[Filter]) -> Option<Vec<&'a Instance>> {
    let f = filters
        .iter()
        .find(|f| f.name.starts_with("tag:") && f.values.iter().all(|v| !v.contains(['*', '?'])))?;
    let key = &f.name["tag:".len()..];
    let mut positions: Vec<usize> = f
        .values
        .iter()
        .filter_map(|v| s.ids_tagged(key, v))
        .flatten()
        .filter_map(|id| s.instances.get_index_of(id))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    Some(
        positions
            .into_iter()
            .filter_map(|p| s.instances.get_index(p).map(|(_, i)| i))
            .collect(),
    )
}

/// The named instances (each once) in launch order, looked up by id rather than by scanning
/// the store: asking for one instance costs one instance. Ids that do not exist are skipped
/// (the caller has already refused them).
fn id_candidates<'a>(s: &'a Ec2Store, ids: &[String]) -> Vec<&'a Instance> {
    let mut positions: Vec<usize> = ids
        .iter()
        .filter_map(|id| s.instances.get_index_of(id))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    positions
        .into_iter()
        .filter_map(|p| s.instances.get_index(p).map(|(_, i)| i))
        .collect()
}

/// Check instance ids: shape first, then existence; AWS names every missing id at once.
pub fn check_instance_ids(s: &Ec2Store, ids: &[String]) -> Result<(), ApiError> {
    for id in ids {
        check_id_shape(id, "i", "InvalidInstanceID.Malformed")?;
    }
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !s.instances.contains_key(*id))
        .map(String::as_str)
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(ApiError::client(
            "InvalidInstanceID.NotFound",
            format!("The instance ID '{one}' does not exist"),
        )),
        many => Err(ApiError::client(
            "InvalidInstanceID.NotFound",
            format!("The instance IDs '{}' do not exist", many.join(", ")),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct DescribeInstancesRequest {
    instance_ids: Vec<String>,
    dry_run: bool,
    filters: Vec<Filter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

impl DescribeInstancesRequest {
    /// Parse and check what needs no state.
    pub(super) fn parse(input: Value) -> Result<Self, ApiError> {
        let req: Self = parse_input(input)?;
        filters::check_names(&req.filters, INSTANCE_FILTERS)?;
        if req.max_results.is_some() && !req.instance_ids.is_empty() {
            return Err(ApiError::client(
                "InvalidParameterCombination",
                "The parameter instancesSet cannot be used with the parameter maxResults",
            ));
        }
        Ok(req)
    }

    /// The page of matching instances in launch order and the next page's token, or the
    /// error (unknown ids, DryRun, a bad token) before anything is written.
    pub(super) fn select<'s>(
        &self,
        s: &'s Ec2Store,
        scope: &Scope,
    ) -> Result<(Vec<&'s Instance>, Option<String>), ApiError> {
        check_instance_ids(s, &self.instance_ids)?;
        if self.dry_run {
            return Err(dry_run_ok());
        }
        let candidates: Vec<&Instance> = if self.instance_ids.is_empty() {
            match tag_candidates(s, &self.filters) {
                Some(c) => c,
                None => s.instances.values().collect(),
            }
        } else {
            id_candidates(s, &self.instance_ids)
        };
        let matching: Vec<&Instance> = candidates
            .into_iter()
            .filter(|i| instance_matches(s, i, &self.filters, scope))
            .collect();
        paginate(
            matching,
            self.max_results,
            self.next_token.as_deref(),
            (5, 1000),
        )
    }
}

/// DescribeInstances: reservations of the matching instances (terminated ones stay visible
/// for an hour, as on AWS). `instance_stream` streams the same answer.
pub fn describe_instances(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req = DescribeInstancesRequest::parse(input)?;
    let scope = &ctx.scope;
    with_store(ctx, state, |s| {
        let (page, next_token) = req.select(s, scope)?;
        // Adjacent instances of one reservation form one `Reservation`.
        let mut reservations: Vec<Value> = Vec::new();
        for run in page.chunk_by(|a, b| a.reservation_id == b.reservation_id) {
            let instances: Vec<Value> = run.iter().map(|i| instance_out(s, i, scope)).collect();
            reservations.push(reservation_value(&run[0].reservation_id, scope, instances));
        }
        let mut out = json!({"NextToken": next_token});
        out["Reservations"] = Value::Array(reservations);
        Ok(out)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInstanceStatusRequest {
    instance_ids: Vec<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
    filters: Vec<Filter>,
    include_all_instances: bool,
}

/// DescribeInstanceStatus: running instances (all with `IncludeAllInstances`), their status
/// checks `initializing` for a minute after boot, then `ok`.
pub fn describe_instance_status(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInstanceStatusRequest = parse_input(input)?;
    filters::check_names(
        &req.filters,
        &[
            "availability-zone",
            "instance-state-code",
            "instance-state-name",
            "instance-status.reachability",
            "instance-status.status",
            "system-status.reachability",
            "system-status.status",
            "instance-id",
        ],
    )?;
    let now = state.clock.now();
    with_store(ctx, state, |s| {
        check_instance_ids(s, &req.instance_ids)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let mut list = Vec::new();
        for i in s.instances.values() {
            if !req.instance_ids.is_empty() && !req.instance_ids.contains(&i.id) {
                continue;
            }
            if !req.include_all_instances && i.state != InstanceState::Running {
                continue;
            }
            let (system, system_reach) = match (i.state, i.running_since) {
                (InstanceState::Running, Some(t)) if now - t >= STATUS_INITIALIZING_SECONDS => {
                    ("ok", "passed")
                }
                (InstanceState::Running, _) => ("initializing", "initializing"),
                _ => ("not-applicable", ""),
            };
            // An impaired instance fails its instance check; the system check still passes.
            let impaired = i
                .impaired_since
                .filter(|_| i.state == InstanceState::Running);
            let (status, reach) = if impaired.is_some() {
                ("impaired", "failed")
            } else {
                (system, system_reach)
            };
            let code = i.state.code().to_string();
            if !filters::matches_all(&req.filters, |f| match f {
                "availability-zone" => vec![i.availability_zone.as_str()],
                "instance-state-name" => vec![i.state.name()],
                "instance-state-code" => vec![code.as_str()],
                "instance-id" => vec![i.id.as_str()],
                "instance-status.status" => vec![status],
                "system-status.status" => vec![system],
                "instance-status.reachability" => vec![reach],
                "system-status.reachability" => vec![system_reach],
                _ => vec![],
            }) {
                continue;
            }
            let summary = |status: &str, reach: &str, since: Option<f64>| {
                if reach.is_empty() {
                    json!({"Status": status})
                } else if let Some(t) = since {
                    json!({"Status": status, "Details": [{"Name": "reachability", "Status": reach, "ImpairedSince": format_iso8601(t)}]})
                } else {
                    json!({"Status": status, "Details": [{"Name": "reachability", "Status": reach}]})
                }
            };
            list.push(json!({
                "InstanceId": i.id, "AvailabilityZone": i.availability_zone,
                "InstanceState": i.state.to_value(), "InstanceStatus": summary(status, reach, impaired),
                "SystemStatus": summary(system, system_reach, None),
                "AttachedEbsStatus": summary(system, system_reach, None), "Events": [],
            }));
        }
        let (list, next_token) =
            paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
        Ok(json!({"InstanceStatuses": list, "NextToken": next_token}))
    })
}

/// `LaunchTime` and similar as AWS's text (for messages).
pub fn reason_time(epoch: f64) -> String {
    let iso = format_iso8601(epoch);
    // 2026-11-28T05:30:00.000Z -> 2026-11-28 05:30:00 GMT
    format!("{} {} GMT", &iso[..10], &iso[11..19])
}
