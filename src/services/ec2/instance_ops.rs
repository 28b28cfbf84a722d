//! Instance state changes (Terminate/Stop/Start/Reboot), monitoring, attributes and the
//! console. State changes are recorded here; the lifecycle controller finishes them.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{Ec2Error, invalid, missing};
use super::instance_view::{check_instance_ids, reason_time};
use super::store::{Instance, InstanceState};
use super::views::StateOut;
use super::{AttrValue, dry_run_ok, instance_types, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::AppState;

/// The input of the state changes and of Monitor/UnmonitorInstances.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceIdsRequest {
    instance_ids: Vec<String>,
    dry_run: bool,
}

fn incorrect_state(id: &str, what: &str) -> ApiError {
    Ec2Error::IncorrectInstanceState.with(format!(
        "The instance '{id}' is not in a state from which it can be {what}."
    ))
}

/// Apply `change` to every instance after `check` passed for all of them; returns the
/// `InstanceStateChange` list.
fn change_states(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
    check: fn(&Instance) -> Result<(), ApiError>,
    change: fn(&mut Instance, f64),
) -> Result<Vec<StateChangeOut>, ApiError> {
    if req.instance_ids.is_empty() {
        return Err(missing("InstanceId"));
    }
    let now = state.clock.now();
    let out = with_store(ctx, state, |s| {
        check_instance_ids(s, &req.instance_ids)?;
        for id in &req.instance_ids {
            check(&s.instances[id])?;
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let mut out = Vec::new();
        for id in &req.instance_ids {
            let Some(i) = s.instances.get_mut(id) else {
                continue;
            };
            let previous = i.state;
            change(i, now);
            if i.state != previous {
                tracing::info!(instance_id = %i.id, from = previous.name(), to = i.state.name(), "instance state change");
            }
            out.push(StateChangeOut {
                instance_id: id.clone(),
                current_state: StateOut(i.state),
                previous_state: StateOut(previous),
            });
        }
        Ok(out)
    })?;
    state.changed.notify_waiters();
    Ok(out)
}

/// `InstanceStateChange`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateChangeOut {
    instance_id: String,
    current_state: StateOut,
    previous_state: StateOut,
}

/// `TerminateInstancesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TerminateInstancesOut {
    terminating_instances: Vec<StateChangeOut>,
}

/// `StopInstancesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StopInstancesOut {
    stopping_instances: Vec<StateChangeOut>,
}

/// `StartInstancesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartInstancesOut {
    starting_instances: Vec<StateChangeOut>,
}

/// `MonitorInstancesResult` (and `UnmonitorInstancesResult`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MonitorInstancesOut {
    instance_monitorings: Vec<InstanceMonitoringOut>,
}

/// `InstanceMonitoring`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceMonitoringOut {
    instance_id: String,
    monitoring: MonitoringOut,
}

/// `Monitoring`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MonitoringOut {
    state: &'static str,
}

fn set_state(i: &mut Instance, to: InstanceState, now: f64) {
    i.state = to;
    i.state_since = now;
    i.backend_done = false;
}

/// TerminateInstances.
pub fn terminate_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
) -> Result<TerminateInstancesOut, ApiError> {
    let out = change_states(
        ctx,
        state,
        req,
        |i| {
            if i.disable_api_termination {
                return Err(Ec2Error::OperationNotPermitted.with(format!(
                        "The instance '{}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
                        i.id
                    ),
                ));
            }
            Ok(())
        },
        |i, now| {
            if matches!(
                i.state,
                InstanceState::Terminated | InstanceState::ShuttingDown
            ) {
                return;
            }
            set_state(i, InstanceState::ShuttingDown, now);
            i.transition_reason = format!("User initiated ({})", reason_time(now));
            i.state_reason = Some("Client.UserInitiatedShutdown");
        },
    )?;
    Ok(TerminateInstancesOut {
        terminating_instances: out,
    })
}

/// StopInstances.
pub fn stop_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
) -> Result<StopInstancesOut, ApiError> {
    let out = change_states(
        ctx,
        state,
        req,
        |i| {
            if i.disable_api_stop {
                return Err(Ec2Error::OperationNotPermitted.with(format!(
                        "The instance '{}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.",
                        i.id
                    ),
                ));
            }
            match i.state {
                InstanceState::Running | InstanceState::Stopping | InstanceState::Stopped => Ok(()),
                _ => Err(incorrect_state(&i.id, "stopped")),
            }
        },
        |i, now| {
            if i.state == InstanceState::Running {
                set_state(i, InstanceState::Stopping, now);
                i.transition_reason = format!("User initiated ({})", reason_time(now));
                i.state_reason = Some("Client.UserInitiatedShutdown");
            }
        },
    )?;
    Ok(StopInstancesOut {
        stopping_instances: out,
    })
}

/// StartInstances.
pub fn start_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
) -> Result<StartInstancesOut, ApiError> {
    let out = change_states(
        ctx,
        state,
        req,
        |i| match i.state {
            InstanceState::Stopped | InstanceState::Running | InstanceState::Pending => Ok(()),
            _ => Err(incorrect_state(&i.id, "started")),
        },
        |i, now| {
            if i.state == InstanceState::Stopped {
                set_state(i, InstanceState::Pending, now);
                i.launch_time = now;
                i.transition_reason = String::new();
                i.state_reason = None;
            }
        },
    )?;
    Ok(StartInstancesOut {
        starting_instances: out,
    })
}

/// RebootInstances: the instance stays `running`; the backend reboots it.
pub fn reboot_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
) -> Result<(), ApiError> {
    change_states(
        ctx,
        state,
        req,
        |i| match i.state {
            InstanceState::Running | InstanceState::Pending => Ok(()),
            _ => Err(incorrect_state(&i.id, "rebooted")),
        },
        |i, _| i.reboot_pending = true,
    )?;
    Ok(())
}

fn set_monitoring(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
    on: bool,
) -> Result<MonitorInstancesOut, ApiError> {
    let list = with_store(ctx, state, |s| {
        check_instance_ids(s, &req.instance_ids)?;
        if let Some(i) = req
            .instance_ids
            .iter()
            .map(|id| &s.instances[id])
            .find(|i| i.state == InstanceState::Terminated)
        {
            return Err(incorrect_state(&i.id, "monitored"));
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let mut list = Vec::new();
        for id in &req.instance_ids {
            if let Some(i) = s.instances.get_mut(id) {
                i.monitoring = on;
                list.push(InstanceMonitoringOut {
                    instance_id: i.id.clone(),
                    monitoring: MonitoringOut {
                        state: if on { "pending" } else { "disabling" },
                    },
                });
            }
        }
        Ok(list)
    })?;
    state.changed.notify_waiters();
    Ok(MonitorInstancesOut {
        instance_monitorings: list,
    })
}

/// MonitorInstances (detailed, 1-minute monitoring).
pub fn monitor_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
) -> Result<MonitorInstancesOut, ApiError> {
    set_monitoring(ctx, state, req, true)
}

/// UnmonitorInstances.
pub fn unmonitor_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceIdsRequest,
) -> Result<MonitorInstancesOut, ApiError> {
    set_monitoring(ctx, state, req, false)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInstanceAttributeRequest {
    instance_id: String,
    attribute: String,
    dry_run: bool,
}

/// DescribeInstanceAttribute.
pub fn describe_instance_attribute(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInstanceAttributeRequest = parse_input(input)?;
    with_store(ctx, state, |s| {
        check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        let i = &s.instances[&req.instance_id];
        let value = match req.attribute.as_str() {
            "instanceType" => json!({"InstanceType": {"Value": i.instance_type}}),
            "kernel" => json!({"KernelId": {}}),
            "ramdisk" => json!({"RamdiskId": {}}),
            "userData" => {
                json!({"UserData": match &i.user_data { Some(u) => json!({"Value": u}), None => json!({}) }})
            }
            "disableApiTermination" => {
                json!({"DisableApiTermination": {"Value": i.disable_api_termination}})
            }
            "disableApiStop" => json!({"DisableApiStop": {"Value": i.disable_api_stop}}),
            "instanceInitiatedShutdownBehavior" => {
                json!({"InstanceInitiatedShutdownBehavior": {"Value": i.shutdown_behavior}})
            }
            "rootDeviceName" => json!({"RootDeviceName": {"Value": i.root_device_name}}),
            "blockDeviceMapping" => {
                json!({"BlockDeviceMappings": super::volumes::instance_mappings(s,
                    &i.volume_ids.iter().map(String::as_str).collect::<Vec<_>>())})
            }
            "productCodes" => json!({"ProductCodes": []}),
            "sourceDestCheck" => json!({"SourceDestCheck": {"Value": i.source_dest_check}}),
            "groupSet" => {
                json!({"Groups": i.security_groups.iter().map(|g| json!({"GroupId": g, "GroupName": s.security_groups.get(g).map_or("", |g| g.name.as_str())})).collect::<Vec<_>>()})
            }
            "ebsOptimized" => json!({"EbsOptimized": {"Value": i.ebs_optimized}}),
            "sriovNetSupport" => json!({"SriovNetSupport": {}}),
            "enaSupport" => json!({"EnaSupport": {"Value": true}}),
            "enclaveOptions" => json!({"EnclaveOptions": {"Enabled": false}}),
            other => {
                return Err(invalid(format!(
                    "Value ({other}) for parameter attribute is invalid. Unknown attribute."
                )));
            }
        };
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let mut value = value;
        value["InstanceId"] = json!(i.id);
        Ok(value)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ModifyInstanceAttributeRequest {
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
    input: Value,
) -> Result<Value, ApiError> {
    let mut req: ModifyInstanceAttributeRequest = parse_input(input)?;
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
    state.changed.notify_waiters();
    Ok(json!({}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct GetConsoleOutputRequest {
    instance_id: String,
    dry_run: bool,
}

/// GetConsoleOutput: what boot and user data printed, once the instance has run.
pub fn get_console_output(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: GetConsoleOutputRequest = parse_input(input)?;
    let now = state.clock.now();
    with_store(ctx, state, |s| {
        check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let i = &s.instances[&req.instance_id];
        let mut out = json!({"InstanceId": i.id, "Timestamp": now});
        if let Some(text) = &i.console_output {
            out["Output"] = json!(base64::engine::general_purpose::STANDARD.encode(text));
        }
        Ok(out)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct GetLaunchTemplateDataRequest {
    instance_id: String,
    dry_run: bool,
}

/// GetLaunchTemplateData: an instance's launch parameters as `LaunchTemplateData`, ready for
/// CreateLaunchTemplate (tags that AWS itself set are left out).
pub fn get_launch_template_data(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: GetLaunchTemplateDataRequest = parse_input(input)?;
    with_store(ctx, state, |s| {
        check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let i = &s.instances[&req.instance_id];
        let tags: Vec<Value> = s
            .tags_of(&i.id)
            .iter()
            .filter(|(k, _)| !k.starts_with("aws:"))
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        let mut data = json!({
            "ImageId": i.image_id, "InstanceType": i.instance_type,
            "SecurityGroupIds": i.security_groups, "Monitoring": {"Enabled": i.monitoring},
            "Placement": {"AvailabilityZone": i.availability_zone, "GroupName": "", "Tenancy": "default"},
            "DisableApiTermination": i.disable_api_termination, "DisableApiStop": i.disable_api_stop,
            "InstanceInitiatedShutdownBehavior": i.shutdown_behavior, "EbsOptimized": i.ebs_optimized,
            "MetadataOptions": {"HttpTokens": i.http_tokens, "HttpPutResponseHopLimit": i.http_hop_limit,
                "HttpEndpoint": i.http_endpoint, "HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "disabled"},
        });
        if let Some(k) = &i.key_name {
            data["KeyName"] = json!(k);
        }
        if let Some(u) = &i.user_data {
            data["UserData"] = json!(u);
        }
        if let Some(a) = &i.iam_instance_profile {
            data["IamInstanceProfile"] = json!({"Arn": a.arn});
        }
        if !tags.is_empty() {
            data["TagSpecifications"] = json!([{"ResourceType": "instance", "Tags": tags}]);
        }
        Ok(json!({"LaunchTemplateData": data}))
    })
}
