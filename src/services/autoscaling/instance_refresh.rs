//! Instance refresh (EC2 Auto Scaling User Guide, "Use an instance refresh to update instances in
//! an Auto Scaling group"; Auto Scaling API Reference, StartInstanceRefresh): StartInstanceRefresh,
//! DescribeInstanceRefreshes, CancelInstanceRefresh, RollbackInstanceRefresh; the rolling
//! replacement the scheduler advances is [`super::refresh_rolling::step`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::AutoScalingError;
use super::store::{Group, InstanceRefresh, RefreshPreferences, RefreshProgress, TemplateRef};
use super::views::Kept;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::services::errors::validation;
use crate::state::{AppState, Topic};

/// Whether a refresh still runs (and so blocks another).
pub fn is_active(r: &InstanceRefresh) -> bool {
    matches!(
        r.status.as_str(),
        "Pending" | "InProgress" | "Cancelling" | "RollbackInProgress" | "Baking"
    )
}

fn no_active(group: &str) -> ApiError {
    // Text not captured from AWS.
    AutoScalingError::ActiveInstanceRefreshNotFound.with(format!(
        "No in progress or pending Instance Refresh found for Auto Scaling group {group}"
    ))
}

/// Fill the preference defaults AWS reports back and check the ranges.
fn preferences(
    group: &Group,
    given: Option<RefreshPreferences>,
) -> Result<RefreshPreferences, ApiError> {
    let mut p = given.unwrap_or_default();
    let min = p.min_healthy_percentage.unwrap_or(90);
    if !(0..=100).contains(&min) {
        return Err(validation("MinHealthyPercentage must be between 0 and 100"));
    }
    if let Some(max) = p.max_healthy_percentage
        && (!(100..=200).contains(&max) || max - min > 100)
    {
        return Err(validation(
            "MaxHealthyPercentage must be between 100 and 200, and at most 100 above MinHealthyPercentage",
        ));
    }
    let checkpoints = p.checkpoint_percentages.clone().unwrap_or_default();
    if checkpoints.windows(2).any(|w| w[0] >= w[1])
        || checkpoints.iter().any(|c| !(1..=100).contains(c))
    {
        return Err(validation(
            "CheckpointPercentages must be unique, ascending and between 1 and 100",
        ));
    }
    p.min_healthy_percentage = Some(min);
    p.instance_warmup.get_or_insert_with(|| {
        group
            .default_instance_warmup
            .filter(|w| *w >= 0)
            .unwrap_or(group.health_check_grace_period)
    });
    if !checkpoints.is_empty() {
        p.checkpoint_delay.get_or_insert(3600);
    }
    p.skip_matching.get_or_insert(false);
    p.auto_rollback.get_or_insert(false);
    p.scale_in_protected_instances
        .get_or_insert_with(|| "Wait".to_owned());
    p.standby_instances.get_or_insert_with(|| "Wait".to_owned());
    p.max_healthy_percentage.get_or_insert(100);
    Ok(p)
}

/// The launch template a DesiredConfiguration names.
fn template_of(desired: &Value) -> Option<TemplateRef> {
    let lt = desired.get("LaunchTemplate").or_else(|| {
        desired.pointer("/MixedInstancesPolicy/LaunchTemplate/LaunchTemplateSpecification")
    })?;
    Some(TemplateRef {
        id: lt
            .get("LaunchTemplateId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        name: lt
            .get("LaunchTemplateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        version: lt.get("Version").and_then(Value::as_str).map(str::to_owned),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartInput {
    auto_scaling_group_name: String,
    strategy: Option<String>,
    desired_configuration: Option<Value>,
    preferences: Option<RefreshPreferences>,
}

/// StartInstanceRefresh.
pub fn start_instance_refresh(
    ctx: &RequestContext,
    state: &AppState,
    input: StartInput,
) -> Result<RefreshIdOut, ApiError> {
    let strategy = input.strategy.unwrap_or_else(|| "Rolling".to_owned());
    if strategy != "Rolling" && strategy != "ReplaceRootVolume" {
        return Err(validation(format!(
            "Invalid value for Strategy: {strategy}"
        )));
    }
    let now = state.clock.now();
    let id = state.ids.uuid();
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        if group.instance_refreshes.iter().any(is_active) {
            // Text not captured from AWS.
            return Err(AutoScalingError::InstanceRefreshInProgress.with("An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
            ));
        }
        let prefs = preferences(group, input.preferences.clone())?;
        let progress = RefreshProgress {
            previous_template: group.launch_template.clone(),
            previous_mixed_instances_policy: group.mixed_instances_policy.clone(),
            ..RefreshProgress::default()
        };
        if let Some(desired) = &input.desired_configuration {
            if let Some(t) = template_of(desired) {
                group.launch_template = Some(t);
                group.launch_configuration_name = None;
            }
            if let Some(m) = desired.get("MixedInstancesPolicy") {
                group.mixed_instances_policy = Some(m.clone());
            }
        }
        group.instance_refreshes.push(InstanceRefresh {
            id: id.clone(),
            status: "Pending".to_owned(),
            status_reason: None,
            start_time: now,
            end_time: None,
            percentage_complete: 0,
            instances_to_update: 0,
            preferences: prefs,
            desired_configuration: input.desired_configuration.clone(),
            strategy: strategy.clone(),
            replaced: Vec::new(),
            progress,
        });
        tracing::info!(group = %group.name, refresh = %id, "instance refresh started");
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(RefreshIdOut {
        instance_refresh_id: id,
    })
}

/// `StartInstanceRefreshAnswer` (and Cancel's, Rollback's).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RefreshIdOut {
    instance_refresh_id: String,
}

/// `InstanceRefreshLivePoolProgress`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PoolProgressOut {
    percentage_complete: i64,
    instances_to_update: i64,
}

/// `InstanceRefreshProgressDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProgressOut {
    live_pool_progress: PoolProgressOut,
}

/// The `InstanceRefresh` output shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RefreshOut {
    instance_refresh_id: String,
    auto_scaling_group_name: String,
    status: String,
    status_reason: Option<String>,
    start_time: Timestamp,
    end_time: Option<Timestamp>,
    percentage_complete: i64,
    instances_to_update: i64,
    progress_details: ProgressOut,
    preferences: RefreshPreferences,
    desired_configuration: Option<Kept>,
    strategy: String,
}

impl RefreshOut {
    fn new(group: &str, r: &InstanceRefresh) -> Self {
        Self {
            instance_refresh_id: r.id.clone(),
            auto_scaling_group_name: group.to_owned(),
            status: r.status.clone(),
            status_reason: r.status_reason.clone(),
            start_time: Timestamp(r.start_time),
            end_time: r.end_time.map(Timestamp),
            percentage_complete: r.percentage_complete,
            instances_to_update: r.instances_to_update,
            progress_details: ProgressOut {
                live_pool_progress: PoolProgressOut {
                    percentage_complete: r.percentage_complete,
                    instances_to_update: r.instances_to_update,
                },
            },
            preferences: r.preferences.clone(),
            desired_configuration: Kept::opt(
                "DesiredConfiguration",
                r.desired_configuration.as_ref(),
            ),
            strategy: r.strategy.clone(),
        }
    }
}

/// `DescribeInstanceRefreshesAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RefreshesOut {
    instance_refreshes: Vec<RefreshOut>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    instance_refresh_ids: Vec<String>,
    next_token: Option<String>,
    max_records: Option<i64>,
}

/// DescribeInstanceRefreshes: newest first.
pub fn describe_instance_refreshes(
    ctx: &RequestContext,
    state: &AppState,
    input: DescribeInput,
) -> Result<RefreshesOut, ApiError> {
    let rows = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group(&input.auto_scaling_group_name)?;
        Ok::<_, ApiError>(
            group
                .instance_refreshes
                .iter()
                .rev()
                .filter(|r| {
                    input.instance_refresh_ids.is_empty()
                        || input.instance_refresh_ids.contains(&r.id)
                })
                .map(|r| RefreshOut::new(&group.name, r))
                .collect::<Vec<_>>(),
        )
    })?;
    let (instance_refreshes, next_token) =
        super::limits::paginate(rows, input.next_token.as_deref(), input.max_records, 50)?;
    Ok(RefreshesOut {
        instance_refreshes,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupInput {
    auto_scaling_group_name: String,
}

/// CancelInstanceRefresh: `Cancelling`, then `Cancelled` once nothing is in flight; already
/// replaced instances stay.
pub fn cancel_instance_refresh(
    ctx: &RequestContext,
    state: &AppState,
    input: GroupInput,
) -> Result<RefreshIdOut, ApiError> {
    let id = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        let name = group.name.clone();
        let r = group
            .instance_refreshes
            .iter_mut()
            .rev()
            .find(|r| matches!(r.status.as_str(), "Pending" | "InProgress" | "Baking"))
            .ok_or_else(|| no_active(&name))?;
        r.status = "Cancelling".to_owned();
        Ok::<_, ApiError>(r.id.clone())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(RefreshIdOut {
        instance_refresh_id: id,
    })
}

/// RollbackInstanceRefresh: restore the configuration the refresh replaced and replace the
/// instances it launched. Refused when the refresh gave no desired configuration or the
/// previous one used `$Latest`/`$Default` (AWS's `IrreversibleInstanceRefresh`).
pub fn rollback_instance_refresh(
    ctx: &RequestContext,
    state: &AppState,
    input: GroupInput,
) -> Result<RefreshIdOut, ApiError> {
    let now = state.clock.now();
    let id = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        let name = group.name.clone();
        let idx = group
            .instance_refreshes
            .iter()
            .rposition(|r| matches!(r.status.as_str(), "Pending" | "InProgress" | "Baking"))
            .ok_or_else(|| no_active(&name))?;
        if !super::refresh_preferences::reversible(&group.instance_refreshes[idx]) {
            return Err(AutoScalingError::IrreversibleInstanceRefresh.with("The instance refresh cannot be rolled back: it has no desired configuration, or the previous launch template version is $Latest or $Default.",
            ));
        }
        super::refresh_preferences::begin_rollback(group, idx, None, now);
        let r = &group.instance_refreshes[idx];
        Ok::<_, ApiError>(r.id.clone())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(RefreshIdOut {
        instance_refresh_id: id,
    })
}
