//! Instance state changes (Terminate/Stop/Start/Reboot), monitoring, the console and an
//! instance's launch parameters (attributes are in `instance_attributes`). State changes are recorded here; the lifecycle controller finishes them.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, missing};
use super::instance_view::{check_instance_ids, reason_time};
use super::store::{Instance, InstanceState};
use super::views::StateOut;
use super::{Tag, dry_run_ok, tag_list, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
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
    state.touched(crate::state::Topic::Ec2);
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
    state.touched(crate::state::Topic::Ec2);
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

/// GetConsoleOutput's and GetLaunchTemplateData's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceRequest {
    instance_id: String,
    dry_run: bool,
}

/// `GetConsoleOutputResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsoleOutputOut {
    instance_id: String,
    timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
}

/// GetConsoleOutput: what boot and user data printed, once the instance has run.
pub fn get_console_output(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceRequest,
) -> Result<ConsoleOutputOut, ApiError> {
    let now = state.clock.now();
    with_store(ctx, state, |s| {
        check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let i = &s.instances[&req.instance_id];
        Ok(ConsoleOutputOut {
            instance_id: i.id.clone(),
            timestamp: Timestamp(now),
            output: i
                .console_output
                .as_ref()
                .map(|text| base64::engine::general_purpose::STANDARD.encode(text)),
        })
    })
}

/// `GetLaunchTemplateDataResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateDataOut {
    launch_template_data: TemplateDataOut,
}

/// `ResponseLaunchTemplateData`, as an instance's launch parameters give it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateDataOut {
    ebs_optimized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    iam_instance_profile: Option<ProfileArn>,
    image_id: String,
    instance_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_name: Option<String>,
    monitoring: Enabled,
    placement: TemplatePlacement,
    disable_api_termination: bool,
    instance_initiated_shutdown_behavior: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_data: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tag_specifications: Vec<TemplateTags>,
    security_group_ids: Vec<String>,
    metadata_options: TemplateMetadataOptions,
    disable_api_stop: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileArn {
    arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Enabled {
    enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TemplatePlacement {
    availability_zone: String,
    group_name: &'static str,
    tenancy: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateTags {
    resource_type: &'static str,
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateMetadataOptions {
    http_tokens: String,
    http_put_response_hop_limit: i64,
    http_endpoint: String,
    http_protocol_ipv6: &'static str,
    instance_metadata_tags: &'static str,
}

/// GetLaunchTemplateData: an instance's launch parameters as `LaunchTemplateData`, ready for
/// CreateLaunchTemplate (tags that AWS itself set are left out).
pub fn get_launch_template_data(
    ctx: &RequestContext,
    state: &AppState,
    req: InstanceRequest,
) -> Result<LaunchTemplateDataOut, ApiError> {
    with_store(ctx, state, |s| {
        check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let i = &s.instances[&req.instance_id];
        let tags: Vec<Tag> = tag_list(s.tags_of(&i.id))
            .into_iter()
            .filter(|t| !t.key.starts_with("aws:"))
            .collect();
        let tag_specifications = if tags.is_empty() {
            Vec::new()
        } else {
            vec![TemplateTags {
                resource_type: "instance",
                tags,
            }]
        };
        let data = TemplateDataOut {
            ebs_optimized: i.ebs_optimized,
            iam_instance_profile: i
                .iam_instance_profile
                .as_ref()
                .map(|a| ProfileArn { arn: a.arn.clone() }),
            image_id: i.image_id.clone(),
            instance_type: i.instance_type.clone(),
            key_name: i.key_name.clone(),
            monitoring: Enabled {
                enabled: i.monitoring,
            },
            placement: TemplatePlacement {
                availability_zone: i.availability_zone.clone(),
                group_name: "",
                tenancy: "default",
            },
            disable_api_termination: i.disable_api_termination,
            instance_initiated_shutdown_behavior: i.shutdown_behavior.clone(),
            user_data: i.user_data.clone(),
            tag_specifications,
            security_group_ids: i.security_groups.clone(),
            metadata_options: TemplateMetadataOptions {
                http_tokens: i.http_tokens.clone(),
                http_put_response_hop_limit: i.http_hop_limit,
                http_endpoint: i.http_endpoint.clone(),
                http_protocol_ipv6: "disabled",
                instance_metadata_tags: "disabled",
            },
            disable_api_stop: i.disable_api_stop,
        };
        Ok(LaunchTemplateDataOut {
            launch_template_data: data,
        })
    })
}
