//! The `Reservation` and `Instance` outputs (DescribeInstances, RunInstances) as typed values
//! that borrow the store: the one rendering of an instance. Serialized into a protocol sink
//! they write 10,000 instances with a few allocations each; serialized by serde_json they are
//! the output tree.
//!
//! Members come in the model's order (`Instance`, `InstanceNetworkInterface`, …), the order
//! the sink writes them in. The text an instance's members are made of (addresses, DNS names,
//! MAC) is written into buffers kept from one instance to the next ([`Texts`]).

use std::cell::RefCell;

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::instance_names::{
    append_eni_attachment_id, append_ip, append_mac, append_private_dns, append_public_dns,
};
use super::store::{Ec2Store, Instance, InstanceState};
use super::views::{EmptyList, GroupsOut, StateOut, TagsOut, field_opt};
use crate::protocol::output::Timestamp;
use crate::state::Scope;

/// `StateReason` message for a code.
pub fn state_reason_message(code: &str) -> &'static str {
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

/// What every instance of one answer reads: the store, the scope and the reused text buffers.
#[derive(Clone, Copy)]
pub struct View<'a> {
    store: &'a Ec2Store,
    scope: &'a Scope,
    texts: &'a RefCell<Texts>,
}

impl<'a> View<'a> {
    /// A view of `store` in `scope`, writing text into `texts`.
    pub fn new(store: &'a Ec2Store, scope: &'a Scope, texts: &'a RefCell<Texts>) -> Self {
        Self {
            store,
            scope,
            texts,
        }
    }
}

/// The instances of one reservation, in launch order. They are adjacent in the store;
/// searching from the end makes the answer to RunInstances cost its own instances, not the
/// whole store.
pub fn reservation_instances<'s>(s: &'s Ec2Store, reservation_id: &str) -> Vec<&'s Instance> {
    let mut run: Vec<&Instance> = s
        .instances
        .values()
        .rev()
        .skip_while(|i| i.reservation_id != reservation_id)
        .take_while(|i| i.reservation_id == reservation_id)
        .map(|i| &**i)
        .collect();
    run.reverse();
    run
}

/// The `Reservations` of a page of instances: adjacent instances of one reservation form one
/// `Reservation`.
pub struct ReservationsOut<'a> {
    /// Store, scope, buffers.
    pub view: View<'a>,
    /// The instances, in launch order.
    pub page: &'a [&'a Instance],
}

impl Serialize for ReservationsOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.page
                .chunk_by(|a, b| a.reservation_id == b.reservation_id)
                .map(|run| ReservationOut {
                    view: self.view,
                    run,
                }),
        )
    }
}

/// One `Reservation`: the instances `run` (not empty, all of one reservation).
pub struct ReservationOut<'a> {
    /// Store, scope, buffers.
    pub view: View<'a>,
    /// Its instances, in launch order.
    pub run: &'a [&'a Instance],
}

impl Serialize for ReservationOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("Reservation", 4)?;
        let id = self.run.first().map_or("", |i| i.reservation_id.as_str());
        st.serialize_field("ReservationId", id)?;
        st.serialize_field("OwnerId", &self.view.scope.account)?;
        st.serialize_field("Groups", &EmptyList)?;
        st.serialize_field(
            "Instances",
            &InstancesOut {
                view: self.view,
                run: self.run,
            },
        )?;
        st.end()
    }
}

struct InstancesOut<'a> {
    view: View<'a>,
    run: &'a [&'a Instance],
}

impl Serialize for InstancesOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.run.len()))?;
        for i in self.run {
            let mut texts = self.view.texts.borrow_mut();
            texts.fill(i, &self.view.scope.region);
            seq.serialize_element(&InstanceOut {
                s: self.view.store,
                i,
                scope: self.view.scope,
                texts: &texts,
            })?;
        }
        seq.end()
    }
}

/// The text an instance's members are made of, refilled for each instance.
#[derive(Debug, Default)]
pub struct Texts {
    private_ip: String,
    /// Empty for a terminated instance.
    private_dns: String,
    /// Both empty without a public address.
    public_ip: String,
    public_dns: String,
    attachment_id: String,
    mac: String,
}

impl Texts {
    fn fill(&mut self, i: &Instance, region: &str) {
        for text in [
            &mut self.private_ip,
            &mut self.private_dns,
            &mut self.public_ip,
            &mut self.public_dns,
            &mut self.attachment_id,
            &mut self.mac,
        ] {
            text.clear();
        }
        append_ip(&mut self.private_ip, i.private_ip, '.');
        if i.state != InstanceState::Terminated {
            append_private_dns(&mut self.private_dns, i.private_ip, region);
        }
        if let Some(ip) = i.public_ip {
            append_ip(&mut self.public_ip, ip, '.');
            append_public_dns(&mut self.public_dns, ip, region);
        }
        append_eni_attachment_id(&mut self.attachment_id, i);
        append_mac(&mut self.mac, &i.id);
    }
}

/// One `Instance`.
struct InstanceOut<'a> {
    s: &'a Ec2Store,
    i: &'a Instance,
    scope: &'a Scope,
    texts: &'a Texts,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileOut<'a> {
    arn: &'a str,
    id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CodeMessage<'a> {
    code: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CpuOptions {
    core_count: i64,
    threads_per_core: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataOptionsOut<'a> {
    state: &'a str,
    http_tokens: &'a str,
    http_put_response_hop_limit: i64,
    http_endpoint: &'a str,
    http_protocol_ipv6: &'a str,
    instance_metadata_tags: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PlacementOut<'a> {
    group_name: &'a str,
    tenancy: &'a str,
    availability_zone: &'a str,
}

/// A one-member structure (`{"State": ..}`, `{"Enabled": ..}`, ...).
struct One<T>(&'static str, T);

impl<T: Serialize> Serialize for One<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("", 1)?;
        st.serialize_field(self.0, &self.1)?;
        st.end()
    }
}

impl Serialize for InstanceOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (s, i, t) = (self.s, self.i, self.texts);
        let gone = i.state == InstanceState::Terminated;
        let mut st = serializer.serialize_struct("Instance", 48)?;
        st.serialize_field("Architecture", &i.architecture)?;
        let volumes: &[String] = if gone { &[] } else { &i.volume_ids };
        st.serialize_field("BlockDeviceMappings", &MappingsOut { s, ids: volumes })?;
        st.serialize_field("ClientToken", i.client_token.as_deref().unwrap_or_default())?;
        st.serialize_field("EbsOptimized", &i.ebs_optimized)?;
        st.serialize_field("EnaSupport", &true)?;
        st.serialize_field("Hypervisor", "xen")?;
        let profile = i.iam_instance_profile.as_ref().map(|a| ProfileOut {
            arn: &a.arn,
            id: &a.profile_id,
        });
        field_opt(&mut st, "IamInstanceProfile", profile)?;
        let lifecycle = i.spot_request_id.as_ref().map(|_| "spot");
        field_opt(&mut st, "InstanceLifecycle", lifecycle)?;
        let nic = (!gone).then_some(NicOut {
            s,
            i,
            scope: self.scope,
            texts: t,
        });
        st.serialize_field("NetworkInterfaces", nic.as_slice())?;
        st.serialize_field("RootDeviceName", &i.root_device_name)?;
        st.serialize_field("RootDeviceType", "ebs")?;
        let groups = GroupsOut {
            store: s,
            ids: &i.security_groups,
        };
        st.serialize_field("SecurityGroups", &groups)?;
        st.serialize_field("SourceDestCheck", &i.source_dest_check)?;
        field_opt(
            &mut st,
            "SpotInstanceRequestId",
            i.spot_request_id.as_deref(),
        )?;
        let reason = i.state_reason.map(|code| CodeMessage {
            code,
            message: state_reason_message(code),
        });
        field_opt(&mut st, "StateReason", reason)?;
        st.serialize_field("Tags", &TagsOut(s.tags_of(&i.id)))?;
        st.serialize_field("VirtualizationType", "hvm")?;
        let cpu = CpuOptions {
            core_count: 1,
            threads_per_core: 2,
        };
        st.serialize_field("CpuOptions", &cpu)?;
        let capacity = One("CapacityReservationPreference", "open");
        st.serialize_field("CapacityReservationSpecification", &capacity)?;
        st.serialize_field("HibernationOptions", &One("Configured", false))?;
        st.serialize_field("MetadataOptions", &metadata_options(i))?;
        st.serialize_field("EnclaveOptions", &One("Enabled", false))?;
        st.serialize_field("BootMode", "legacy-bios")?;
        st.serialize_field("PlatformDetails", &i.platform_details)?;
        st.serialize_field("UsageOperation", i.usage_operation())?;
        st.serialize_field("MaintenanceOptions", &One("AutoRecovery", "default"))?;
        st.serialize_field("CurrentInstanceBootMode", "legacy-bios")?;
        st.serialize_field("InstanceId", &i.id)?;
        st.serialize_field("ImageId", &i.image_id)?;
        st.serialize_field("State", &StateOut(i.state))?;
        st.serialize_field("PrivateDnsName", &t.private_dns)?;
        st.serialize_field("PublicDnsName", &t.public_dns)?;
        st.serialize_field("StateTransitionReason", &i.transition_reason)?;
        field_opt(&mut st, "KeyName", i.key_name.as_deref())?;
        st.serialize_field("AmiLaunchIndex", &i.ami_launch_index)?;
        st.serialize_field("ProductCodes", &EmptyList)?;
        st.serialize_field("InstanceType", &i.instance_type)?;
        st.serialize_field("LaunchTime", &Timestamp(i.launch_time))?;
        let placement = PlacementOut {
            group_name: "",
            tenancy: "default",
            availability_zone: &i.availability_zone,
        };
        st.serialize_field("Placement", &placement)?;
        field_opt(&mut st, "Platform", i.platform.as_deref())?;
        let monitoring = if i.monitoring { "enabled" } else { "disabled" };
        st.serialize_field("Monitoring", &One("State", monitoring))?;
        field_opt(&mut st, "SubnetId", (!gone).then_some(&i.subnet_id))?;
        field_opt(&mut st, "VpcId", (!gone).then_some(&i.vpc_id))?;
        field_opt(
            &mut st,
            "PrivateIpAddress",
            (!gone).then_some(&t.private_ip),
        )?;
        let public_ip = (!gone && i.public_ip.is_some()).then_some(&t.public_ip);
        field_opt(&mut st, "PublicIpAddress", public_ip)?;
        st.end()
    }
}

fn metadata_options(i: &Instance) -> MetadataOptionsOut<'_> {
    MetadataOptionsOut {
        state: if i.state == InstanceState::Pending {
            "pending"
        } else {
            "applied"
        },
        http_tokens: &i.http_tokens,
        http_put_response_hop_limit: i.http_hop_limit,
        http_endpoint: &i.http_endpoint,
        http_protocol_ipv6: "disabled",
        instance_metadata_tags: "disabled",
    }
}

/// An instance's `BlockDeviceMappings`: its attached volumes (also DescribeInstanceAttribute's
/// `blockDeviceMapping`).
#[derive(Clone, Copy)]
pub struct MappingsOut<'a> {
    /// The store the volumes are in.
    pub s: &'a Ec2Store,
    /// The instance's volume ids.
    pub ids: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MappingOut<'a> {
    device_name: &'a str,
    ebs: EbsOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EbsOut<'a> {
    attach_time: Timestamp,
    delete_on_termination: bool,
    status: &'a str,
    volume_id: &'a str,
}

impl Serialize for MappingsOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let volumes = self.ids.iter().filter_map(|id| self.s.volumes.get(id));
        serializer.collect_seq(volumes.filter_map(|v| {
            let a = v.attachment.as_ref()?;
            Some(MappingOut {
                device_name: &a.device,
                ebs: EbsOut {
                    attach_time: Timestamp(a.attach_time),
                    delete_on_termination: a.delete_on_termination,
                    status: "attached",
                    volume_id: &v.id,
                },
            })
        }))
    }
}

/// A live instance's primary `InstanceNetworkInterface`.
struct NicOut<'a> {
    s: &'a Ec2Store,
    i: &'a Instance,
    scope: &'a Scope,
    texts: &'a Texts,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssociationOut<'a> {
    ip_owner_id: &'a str,
    public_dns_name: &'a str,
    public_ip: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NicAttachmentOut<'a> {
    attach_time: Timestamp,
    attachment_id: &'a str,
    delete_on_termination: bool,
    device_index: i64,
    status: &'a str,
    network_card_index: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PrivateAddressOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    association: Option<AssociationOut<'a>>,
    primary: bool,
    private_dns_name: &'a str,
    private_ip_address: &'a str,
}

impl Serialize for NicOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (i, t) = (self.i, self.texts);
        let association = || {
            i.public_ip.map(|_| AssociationOut {
                ip_owner_id: "amazon",
                public_dns_name: &t.public_dns,
                public_ip: &t.public_ip,
            })
        };
        let mut st = serializer.serialize_struct("InstanceNetworkInterface", 16)?;
        field_opt(&mut st, "Association", association())?;
        let attachment = NicAttachmentOut {
            attach_time: Timestamp(i.launch_time),
            attachment_id: &t.attachment_id,
            delete_on_termination: true,
            device_index: 0,
            status: "attached",
            network_card_index: 0,
        };
        st.serialize_field("Attachment", &attachment)?;
        st.serialize_field("Description", "")?;
        let groups = GroupsOut {
            store: self.s,
            ids: &i.security_groups,
        };
        st.serialize_field("Groups", &groups)?;
        st.serialize_field("Ipv6Addresses", &EmptyList)?;
        st.serialize_field("MacAddress", &t.mac)?;
        st.serialize_field("NetworkInterfaceId", &i.network_interface_id)?;
        st.serialize_field("OwnerId", &self.scope.account)?;
        st.serialize_field("PrivateDnsName", &t.private_dns)?;
        st.serialize_field("PrivateIpAddress", &t.private_ip)?;
        let address = PrivateAddressOut {
            association: association(),
            primary: true,
            private_dns_name: &t.private_dns,
            private_ip_address: &t.private_ip,
        };
        st.serialize_field("PrivateIpAddresses", &[address])?;
        st.serialize_field("SourceDestCheck", &i.source_dest_check)?;
        field_opt(
            &mut st,
            "SpotInstanceRequestId",
            i.spot_request_id.as_deref(),
        )?;
        st.serialize_field("Status", "in-use")?;
        st.serialize_field("SubnetId", &i.subnet_id)?;
        st.serialize_field("VpcId", &i.vpc_id)?;
        st.serialize_field("InterfaceType", "interface")?;
        st.end()
    }
}
