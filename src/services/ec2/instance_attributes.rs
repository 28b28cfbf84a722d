//! DescribeInstanceAttribute and ModifyInstanceAttribute: one attribute of an instance at a
//! time, as the `InstanceAttribute` output.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, invalid};
use super::instance_out::MappingsOut;
use super::instance_view::check_instance_ids;
use super::store::{Ec2Store, Instance, InstanceState};
use super::views::{EmptyList, GroupsOut};
use super::{AttrValue, dry_run_ok, instance_types, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::{Reply, Sent};
use crate::state::AppState;

/// DescribeInstanceAttribute's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstanceAttributeRequest {
    instance_id: String,
    attribute: String,
    dry_run: bool,
}

/// `InstanceAttribute`: the instance id and the one attribute asked for.
#[derive(Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceAttributeOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    block_device_mappings: Option<MappingsOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_api_termination: Option<AttrValue<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ena_support: Option<AttrValue<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enclave_options: Option<EnclaveOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ebs_optimized: Option<AttrValue<bool>>,
    instance_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_initiated_shutdown_behavior: Option<AttrValue<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_type: Option<AttrValue<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel_id: Option<AttrValue<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_codes: Option<EmptyList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ramdisk_id: Option<AttrValue<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_device_name: Option<AttrValue<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_dest_check: Option<AttrValue<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sriov_net_support: Option<AttrValue<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_data: Option<AttrValue<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_api_stop: Option<AttrValue<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<GroupsOut<'a>>,
}

/// `EnclaveOptions`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnclaveOptions {
    enabled: bool,
}

/// `{"Value": v}`.
fn value<T>(v: T) -> Option<AttrValue<T>> {
    Some(AttrValue { value: Some(v) })
}

/// An attribute with no value (`{}`).
fn no_value<T>() -> Option<AttrValue<T>> {
    Some(AttrValue { value: None })
}

/// The output for `attribute` of `i`, or the error for an attribute EC2 does not know.
fn attribute_out<'a>(
    s: &'a Ec2Store,
    i: &'a Instance,
    attribute: &str,
) -> Result<InstanceAttributeOut<'a>, ApiError> {
    let mut out = InstanceAttributeOut {
        instance_id: &i.id,
        ..InstanceAttributeOut::default()
    };
    match attribute {
        "instanceType" => out.instance_type = value(&i.instance_type),
        "kernel" => out.kernel_id = no_value(),
        "ramdisk" => out.ramdisk_id = no_value(),
        "userData" => {
            out.user_data = Some(AttrValue {
                value: i.user_data.as_deref(),
            });
        }
        "disableApiTermination" => out.disable_api_termination = value(i.disable_api_termination),
        "disableApiStop" => out.disable_api_stop = value(i.disable_api_stop),
        "instanceInitiatedShutdownBehavior" => {
            out.instance_initiated_shutdown_behavior = value(&i.shutdown_behavior);
        }
        "rootDeviceName" => out.root_device_name = value(&i.root_device_name),
        "blockDeviceMapping" => {
            out.block_device_mappings = Some(MappingsOut {
                s,
                ids: &i.volume_ids,
            });
        }
        "productCodes" => out.product_codes = Some(EmptyList),
        "sourceDestCheck" => out.source_dest_check = value(i.source_dest_check),
        "groupSet" => {
            out.groups = Some(GroupsOut {
                store: s,
                ids: &i.security_groups,
            });
        }
        "ebsOptimized" => out.ebs_optimized = value(i.ebs_optimized),
        "sriovNetSupport" => out.sriov_net_support = no_value(),
        "enaSupport" => out.ena_support = value(true),
        "enclaveOptions" => out.enclave_options = Some(EnclaveOptions { enabled: false }),
        other => {
            return Err(invalid(format!(
                "Value ({other}) for parameter attribute is invalid. Unknown attribute."
            )));
        }
    }
    Ok(out)
}

/// DescribeInstanceAttribute.
pub fn describe_instance_attribute(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInstanceAttributeRequest,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    with_store(ctx, state, |s| {
        check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        let i = &s.instances[&req.instance_id];
        let out = attribute_out(s, i, &req.attribute)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        reply.send(&out)
    })
}

/// ModifyInstanceAttribute's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ModifyInstanceAttributeRequest {
    instance_id: String,
    attribute: Option<String>,
    value: Option<String>,
    source_dest_check: Option<AttrValue<bool>>,
    disable_api_stop: Option<AttrValue<bool>>,
    disable_api_termination: Option<AttrValue<bool>>,
    instance_type: Option<AttrValue<String>>,
    user_data: Option<AttrValue<String>>,
    instance_initiated_shutdown_behavior: Option<AttrValue<String>>,
    groups: Vec<String>,
    ebs_optimized: Option<AttrValue<bool>>,
    dry_run: bool,
}

/// ModifyInstanceAttribute. Type, user data and EBS optimization change only when stopped.
pub fn modify_instance_attribute(
    ctx: &RequestContext,
    state: &AppState,
    mut req: ModifyInstanceAttributeRequest,
) -> Result<(), ApiError> {
    // The `Attribute` + `Value` form names one attribute.
    if let (Some(attr), Some(value)) = (req.attribute.clone(), req.value.clone()) {
        let flag = || AttrValue {
            value: Some(value.eq_ignore_ascii_case("true")),
        };
        match attr.as_str() {
            "instanceType" => req.instance_type = Some(AttrValue { value: Some(value) }),
            "userData" => req.user_data = Some(AttrValue { value: Some(value) }),
            "disableApiTermination" => req.disable_api_termination = Some(flag()),
            "disableApiStop" => req.disable_api_stop = Some(flag()),
            "sourceDestCheck" => req.source_dest_check = Some(flag()),
            "ebsOptimized" => req.ebs_optimized = Some(flag()),
            "instanceInitiatedShutdownBehavior" => {
                req.instance_initiated_shutdown_behavior = Some(AttrValue { value: Some(value) })
            }
            other => {
                return Err(invalid(format!(
                    "Value ({other}) for parameter attribute is invalid. Unknown attribute."
                )));
            }
        }
    }
    let user_data = match req.user_data.as_ref().and_then(|u| u.value.clone()) {
        // The tree carries blobs as base64 already; check that it decodes.
        Some(u) => {
            base64::engine::general_purpose::STANDARD
                .decode(&u)
                .map_err(|_| invalid("Invalid BASE64 encoding of user data."))?;
            Some(u)
        }
        None => None,
    };
    with_store(ctx, state, |s| {
        check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        let i = &s.instances[&req.instance_id];
        let needs_stopped =
            req.instance_type.is_some() || user_data.is_some() || req.ebs_optimized.is_some();
        if needs_stopped && i.state != InstanceState::Stopped {
            return Err(Ec2Error::IncorrectInstanceState.with(format!(
                "The instance '{}' is not in the 'stopped' state.",
                i.id
            )));
        }
        if let Some(t) = req.instance_type.as_ref().and_then(|t| t.value.as_deref())
            && instance_types::find(t).is_none()
        {
            return Err(invalid(format!("Invalid value '{t}' for InstanceType.")));
        }
        if let Some(b) = req
            .instance_initiated_shutdown_behavior
            .as_ref()
            .and_then(|b| b.value.as_deref())
            && b != "stop"
            && b != "terminate"
        {
            return Err(invalid(format!(
                "Value ({b}) for parameter instanceInitiatedShutdownBehavior is invalid."
            )));
        }
        for g in &req.groups {
            if s.security_groups
                .get(g)
                .is_none_or(|sg| sg.vpc_id != i.vpc_id)
            {
                return Err(Ec2Error::InvalidGroupNotFound.with(format!(
                    "The security group '{g}' does not exist in VPC '{}'",
                    i.vpc_id
                )));
            }
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let Some(i) = s.instances.get_mut(&req.instance_id) else {
            return Ok(());
        };
        if let Some(t) = req.instance_type.and_then(|t| t.value) {
            i.instance_type = t;
        }
        if let Some(u) = user_data {
            i.user_data = Some(u);
        }
        if let Some(v) = req.disable_api_termination.and_then(|v| v.value) {
            i.disable_api_termination = v;
        }
        if let Some(v) = req.disable_api_stop.and_then(|v| v.value) {
            i.disable_api_stop = v;
        }
        if let Some(v) = req.source_dest_check.and_then(|v| v.value) {
            i.source_dest_check = v;
        }
        if let Some(v) = req.ebs_optimized.and_then(|v| v.value) {
            i.ebs_optimized = v;
        }
        if let Some(v) = req
            .instance_initiated_shutdown_behavior
            .and_then(|v| v.value)
        {
            i.shutdown_behavior = v;
        }
        if !req.groups.is_empty() {
            i.security_groups = req.groups.clone();
        }
        Ok(())
    })?;
    state.touched(crate::state::Topic::Ec2);
    Ok(())
}
