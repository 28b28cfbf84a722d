//! DescribeInstances written into an [`OutputSink`] instead of built as a tree: the whole
//! list of 10,000 instances is then a few allocations per instance, not a few hundred.
//!
//! The members are those of [`instance_view::instance_out`] and [`instance_view::nic_out`],
//! written in the order of the model's shapes (`Instance`, `InstanceNetworkInterface`, …),
//! which is the order the sink writes them in. The test below holds the two paths to the same
//! bytes; a member added to one must be added to the other.

use serde_json::Value;

use super::instance_names::{
    append_eni_attachment_id, append_ip, append_mac, append_private_dns, append_public_dns,
};
use super::instance_view::{self, DescribeInstancesRequest};
use super::store::{Ec2Store, Instance, InstanceState};
use super::with_store;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::sink::OutputSink;
use crate::state::{AppState, Scope};

/// DescribeInstances, streamed: everything is checked before the first write, then the page
/// is written while the store lock is held (no copy of the instances is made).
pub fn describe_instances_streamed(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
    out: &mut dyn OutputSink,
) -> Result<(), ApiError> {
    let req = DescribeInstancesRequest::parse(input)?;
    let scope = &ctx.scope;
    with_store(ctx, state, |s| {
        let (page, next_token) = req.select(s, scope)?;
        if let Some(token) = &next_token {
            out.string("NextToken", token);
        }
        out.open_list("Reservations");
        let mut texts = Texts::default();
        // Adjacent instances of one reservation form one `Reservation`.
        for run in page.chunk_by(|a, b| a.reservation_id == b.reservation_id) {
            out.open_item();
            out.string("ReservationId", &run[0].reservation_id);
            out.string("OwnerId", &scope.account);
            out.open_list("Groups");
            out.close();
            out.open_list("Instances");
            for i in run {
                out.open_item();
                write_instance(out, s, i, scope, &mut texts);
                out.close();
            }
            out.close();
            out.close();
        }
        out.close();
        Ok(())
    })
}

/// The text an instance's members are made of, written per instance into buffers that are
/// kept from one instance to the next (else each name is an allocation and a `fmt` call).
#[derive(Default)]
struct Texts {
    private_ip: String,
    /// Empty for a terminated instance.
    private_dns: String,
    /// Both empty without a public address.
    public_ip: String,
    public_dns: String,
    /// Scratch for one member at a time.
    scratch: String,
}

impl Texts {
    fn fill(&mut self, i: &Instance, region: &str, gone: bool) {
        for text in [
            &mut self.private_ip,
            &mut self.private_dns,
            &mut self.public_ip,
            &mut self.public_dns,
        ] {
            text.clear();
        }
        append_ip(&mut self.private_ip, i.private_ip, '.');
        if !gone {
            append_private_dns(&mut self.private_dns, i.private_ip, region);
        }
        if let Some(ip) = i.public_ip {
            append_ip(&mut self.public_ip, ip, '.');
            append_public_dns(&mut self.public_dns, ip, region);
        }
    }

    /// The scratch buffer, emptied.
    fn scratch(&mut self) -> &mut String {
        self.scratch.clear();
        &mut self.scratch
    }
}

/// The members of one `Instance`.
fn write_instance(
    out: &mut dyn OutputSink,
    s: &Ec2Store,
    i: &Instance,
    scope: &Scope,
    texts: &mut Texts,
) {
    let gone = i.state == InstanceState::Terminated;
    texts.fill(i, &scope.region, gone);
    out.string("Architecture", &i.architecture);
    out.open_list("BlockDeviceMappings");
    if !gone {
        for v in i.volume_ids.iter().filter_map(|id| s.volumes.get(id)) {
            let Some(a) = &v.attachment else { continue };
            out.open_item();
            out.string("DeviceName", &a.device);
            out.open_structure("Ebs");
            out.timestamp("AttachTime", a.attach_time);
            out.boolean("DeleteOnTermination", a.delete_on_termination);
            out.string("Status", "attached");
            out.string("VolumeId", &v.id);
            out.close();
            out.close();
        }
    }
    out.close();
    out.string("ClientToken", i.client_token.as_deref().unwrap_or_default());
    out.boolean("EbsOptimized", i.ebs_optimized);
    out.boolean("EnaSupport", true);
    out.string("Hypervisor", "xen");
    if let Some(a) = &i.iam_instance_profile {
        out.open_structure("IamInstanceProfile");
        out.string("Arn", &a.arn);
        out.string("Id", &a.profile_id);
        out.close();
    }
    out.open_list("NetworkInterfaces");
    if !gone {
        out.open_item();
        write_nic(out, s, i, scope, texts);
        out.close();
    }
    out.close();
    out.string("RootDeviceName", &i.root_device_name);
    out.string("RootDeviceType", "ebs");
    write_group_list(out, "SecurityGroups", s, i);
    out.boolean("SourceDestCheck", i.source_dest_check);
    if let Some(code) = i.state_reason {
        out.open_structure("StateReason");
        out.string("Code", code);
        out.string("Message", instance_view::state_reason_message(code));
        out.close();
    }
    out.open_list("Tags");
    for (key, value) in s.tags_of(&i.id) {
        out.open_item();
        out.string("Key", key);
        out.string("Value", value);
        out.close();
    }
    out.close();
    out.string("VirtualizationType", "hvm");
    out.open_structure("CpuOptions");
    out.integer("CoreCount", 1);
    out.integer("ThreadsPerCore", 2);
    out.close();
    out.open_structure("CapacityReservationSpecification");
    out.string("CapacityReservationPreference", "open");
    out.close();
    out.open_structure("HibernationOptions");
    out.boolean("Configured", false);
    out.close();
    out.open_structure("MetadataOptions");
    let metadata_state = if i.state == InstanceState::Pending {
        "pending"
    } else {
        "applied"
    };
    out.string("State", metadata_state);
    out.string("HttpTokens", &i.http_tokens);
    out.integer("HttpPutResponseHopLimit", i.http_hop_limit);
    out.string("HttpEndpoint", &i.http_endpoint);
    out.string("HttpProtocolIpv6", "disabled");
    out.string("InstanceMetadataTags", "disabled");
    out.close();
    out.open_structure("EnclaveOptions");
    out.boolean("Enabled", false);
    out.close();
    out.string("BootMode", "legacy-bios");
    out.string("PlatformDetails", &i.platform_details);
    out.string("UsageOperation", i.usage_operation());
    out.open_structure("MaintenanceOptions");
    out.string("AutoRecovery", "default");
    out.close();
    out.string("CurrentInstanceBootMode", "legacy-bios");
    out.string("InstanceId", &i.id);
    out.string("ImageId", &i.image_id);
    out.open_structure("State");
    out.integer("Code", i.state.code());
    out.string("Name", i.state.name());
    out.close();
    out.string("PrivateDnsName", &texts.private_dns);
    out.string("PublicDnsName", &texts.public_dns);
    out.string("StateTransitionReason", &i.transition_reason);
    if let Some(key) = &i.key_name {
        out.string("KeyName", key);
    }
    out.integer("AmiLaunchIndex", i.ami_launch_index);
    out.open_list("ProductCodes");
    out.close();
    out.string("InstanceType", &i.instance_type);
    out.timestamp("LaunchTime", i.launch_time);
    out.open_structure("Placement");
    out.string("GroupName", "");
    out.string("Tenancy", "default");
    out.string("AvailabilityZone", &i.availability_zone);
    out.close();
    if let Some(platform) = &i.platform {
        out.string("Platform", platform);
    }
    out.open_structure("Monitoring");
    out.string("State", if i.monitoring { "enabled" } else { "disabled" });
    out.close();
    if !gone {
        out.string("SubnetId", &i.subnet_id);
        out.string("VpcId", &i.vpc_id);
        out.string("PrivateIpAddress", &texts.private_ip);
        if i.public_ip.is_some() {
            out.string("PublicIpAddress", &texts.public_ip);
        }
    }
}

/// `SecurityGroups` (of the instance) or `Groups` (of its interface): the same list.
fn write_group_list(out: &mut dyn OutputSink, member: &str, s: &Ec2Store, i: &Instance) {
    out.open_list(member);
    for g in &i.security_groups {
        out.open_item();
        out.string("GroupId", g);
        out.string(
            "GroupName",
            s.security_groups.get(g).map_or("", |g| g.name.as_str()),
        );
        out.close();
    }
    out.close();
}

/// The members of a live instance's primary `InstanceNetworkInterface`.
fn write_nic(
    out: &mut dyn OutputSink,
    s: &Ec2Store,
    i: &Instance,
    scope: &Scope,
    texts: &mut Texts,
) {
    let association = |out: &mut dyn OutputSink, texts: &Texts| {
        if i.public_ip.is_some() {
            out.open_structure("Association");
            out.string("IpOwnerId", "amazon");
            out.string("PublicDnsName", &texts.public_dns);
            out.string("PublicIp", &texts.public_ip);
            out.close();
        }
    };
    association(out, texts);
    out.open_structure("Attachment");
    out.timestamp("AttachTime", i.launch_time);
    append_eni_attachment_id(texts.scratch(), i);
    out.string("AttachmentId", &texts.scratch);
    out.boolean("DeleteOnTermination", true);
    out.integer("DeviceIndex", 0);
    out.string("Status", "attached");
    out.integer("NetworkCardIndex", 0);
    out.close();
    out.string("Description", "");
    write_group_list(out, "Groups", s, i);
    out.open_list("Ipv6Addresses");
    out.close();
    append_mac(texts.scratch(), &i.id);
    out.string("MacAddress", &texts.scratch);
    out.string("NetworkInterfaceId", &i.network_interface_id);
    out.string("OwnerId", &scope.account);
    out.string("PrivateDnsName", &texts.private_dns);
    out.string("PrivateIpAddress", &texts.private_ip);
    out.open_list("PrivateIpAddresses");
    out.open_item();
    association(out, texts);
    out.boolean("Primary", true);
    out.string("PrivateDnsName", &texts.private_dns);
    out.string("PrivateIpAddress", &texts.private_ip);
    out.close();
    out.close();
    out.boolean("SourceDestCheck", i.source_dest_check);
    out.string("Status", "in-use");
    out.string("SubnetId", &i.subnet_id);
    out.string("VpcId", &i.vpc_id);
    out.string("InterfaceType", "interface");
}

#[cfg(test)]
#[path = "instance_stream_tests.rs"]
mod tests;
