//! Instance refresh (research §6.6): StartInstanceRefresh, DescribeInstanceRefreshes,
//! CancelInstanceRefresh, RollbackInstanceRefresh, and [`step`], the rolling replacement the
//! scheduler advances.
//!
//! Rolling: while healthy `InService` capacity stays at or above `MinHealthyPercentage` of the
//! desired capacity, take a batch of old instances out of service (the reconciler terminates
//! them and launches replacements from the group's — possibly new — configuration); wait
//! until nothing is pending and every replacement has warmed up (`InstanceWarmup`); repeat.
//! `PercentageComplete` counts replacements only once warmed up. Checkpoints pause for
//! `CheckpointDelay`. A suspended `InstanceRefresh` (or `Launch`/`Terminate`) process pauses
//! the refresh without cancelling it.

use serde::Deserialize;
use serde_json::{Value, json};

use super::instances::details_of;
use super::store::{
    AutoScalingStore, Group, InstanceRefresh, LifecycleState, TemplateRef, TerminationReason,
    iso_seconds, record_activity,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::timestamp::epoch_number;
use crate::services::errors::validation;
use crate::services::parse_input;
use crate::state::AppState;

/// Whether a refresh still runs (and so blocks another).
pub fn is_active(r: &InstanceRefresh) -> bool {
    matches!(
        r.status.as_str(),
        "Pending" | "InProgress" | "Cancelling" | "RollbackInProgress" | "Baking"
    )
}

fn no_active(group: &str) -> ApiError {
    // Text not captured from AWS.
    ApiError::client(
        "ActiveInstanceRefreshNotFound",
        format!("No in progress or pending Instance Refresh found for Auto Scaling group {group}"),
    )
}

/// Fill the preference defaults AWS reports back and check the ranges.
fn preferences(group: &Group, given: Option<&Value>) -> Result<Value, ApiError> {
    let mut p = given.cloned().unwrap_or_else(|| json!({}));
    let int = |p: &Value, k: &str| p.get(k).and_then(Value::as_i64);
    let min = int(&p, "MinHealthyPercentage").unwrap_or(90);
    if !(0..=100).contains(&min) {
        return Err(validation("MinHealthyPercentage must be between 0 and 100"));
    }
    if let Some(max) = int(&p, "MaxHealthyPercentage")
        && (!(100..=200).contains(&max) || max - min > 100)
    {
        return Err(validation(
            "MaxHealthyPercentage must be between 100 and 200, and at most 100 above MinHealthyPercentage",
        ));
    }
    let checkpoints: Vec<i64> = p
        .get("CheckpointPercentages")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    if checkpoints.windows(2).any(|w| w[0] >= w[1])
        || checkpoints.iter().any(|c| !(1..=100).contains(c))
    {
        return Err(validation(
            "CheckpointPercentages must be unique, ascending and between 1 and 100",
        ));
    }
    p["MinHealthyPercentage"] = json!(min);
    if int(&p, "InstanceWarmup").is_none() {
        let warmup = group
            .default_instance_warmup
            .filter(|w| *w >= 0)
            .unwrap_or(group.health_check_grace_period);
        p["InstanceWarmup"] = json!(warmup);
    }
    if !checkpoints.is_empty() && int(&p, "CheckpointDelay").is_none() {
        p["CheckpointDelay"] = json!(3600);
    }
    for (k, v) in [
        ("SkipMatching", json!(false)),
        ("AutoRollback", json!(false)),
        ("ScaleInProtectedInstances", json!("Wait")),
        ("StandbyInstances", json!("Wait")),
        ("MaxHealthyPercentage", json!(100)),
    ] {
        if p.get(k).is_none() {
            p[k] = v;
        }
    }
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
struct StartInput {
    auto_scaling_group_name: String,
    strategy: Option<String>,
    desired_configuration: Option<Value>,
    preferences: Option<Value>,
}

/// StartInstanceRefresh.
pub fn start_instance_refresh(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let input: StartInput = parse_input(input)?;
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
            return Err(ApiError::client(
                "InstanceRefreshInProgress",
                "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
            ));
        }
        let prefs = preferences(group, input.preferences.as_ref())?;
        let previous = json!({
            "LaunchTemplate": group.launch_template.as_ref().map(|t| json!({
                "LaunchTemplateId": t.id, "LaunchTemplateName": t.name, "Version": t.version,
            })),
            "MixedInstancesPolicy": group.mixed_instances_policy,
        });
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
            extra: json!({ "previous": previous }),
        });
        tracing::info!(group = %group.name, refresh = %id, "instance refresh started");
        Ok(())
    })?;
    state.changed.notify_waiters();
    Ok(json!({ "InstanceRefreshId": id }))
}

fn describe_one(group: &str, r: &InstanceRefresh) -> Value {
    let mut v = json!({
        "InstanceRefreshId": r.id,
        "AutoScalingGroupName": group,
        "Status": r.status,
        "StartTime": epoch_number(r.start_time),
        "PercentageComplete": r.percentage_complete,
        "InstancesToUpdate": r.instances_to_update,
        "ProgressDetails": { "LivePoolProgress": {
            "PercentageComplete": r.percentage_complete,
            "InstancesToUpdate": r.instances_to_update,
        }},
        "Preferences": r.preferences,
        "Strategy": r.strategy,
    });
    if let Some(reason) = &r.status_reason {
        v["StatusReason"] = json!(reason);
    }
    if let Some(end) = r.end_time {
        v["EndTime"] = epoch_number(end);
    }
    if let Some(d) = &r.desired_configuration {
        v["DesiredConfiguration"] = d.clone();
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInput {
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
    input: Value,
) -> Result<Value, ApiError> {
    let input: DescribeInput = parse_input(input)?;
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
                .map(|r| describe_one(&group.name, r))
                .collect::<Vec<_>>(),
        )
    })?;
    let (page, next) =
        super::limits::paginate(rows, input.next_token.as_deref(), input.max_records, 50)?;
    let mut out = json!({ "InstanceRefreshes": page });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupInput {
    auto_scaling_group_name: String,
}

/// CancelInstanceRefresh: `Cancelling`, then `Cancelled` once nothing is in flight; already
/// replaced instances stay.
pub fn cancel_instance_refresh(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let input: GroupInput = parse_input(input)?;
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
    state.changed.notify_waiters();
    Ok(json!({ "InstanceRefreshId": id }))
}

/// RollbackInstanceRefresh: restore the configuration the refresh replaced and replace the
/// instances it launched. Refused when the refresh gave no desired configuration or the
/// previous one used `$Latest`/`$Default` (AWS's `IrreversibleInstanceRefresh`).
pub fn rollback_instance_refresh(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let input: GroupInput = parse_input(input)?;
    let now = state.clock.now();
    let id = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        let name = group.name.clone();
        let idx = group
            .instance_refreshes
            .iter()
            .rposition(|r| matches!(r.status.as_str(), "Pending" | "InProgress" | "Baking"))
            .ok_or_else(|| no_active(&name))?;
        let r = &group.instance_refreshes[idx];
        let previous = r.extra.get("previous").cloned().unwrap_or(Value::Null);
        let prev_template = previous.get("LaunchTemplate").filter(|v| !v.is_null());
        let reversible = r.desired_configuration.is_some()
            && prev_template.is_some_and(|t| {
                !matches!(t.get("Version").and_then(Value::as_str), None | Some("$Latest" | "$Default"))
            });
        if !reversible {
            return Err(ApiError::client(
                "IrreversibleInstanceRefresh",
                "The instance refresh cannot be rolled back: it has no desired configuration, or the previous launch template version is $Latest or $Default.",
            ));
        }
        group.launch_template = prev_template.and_then(|t| template_of(&json!({ "LaunchTemplate": t })));
        if let Some(m) = previous.get("MixedInstancesPolicy") {
            group.mixed_instances_policy = Some(m.clone()).filter(|m| !m.is_null());
        }
        let r = &mut group.instance_refreshes[idx];
        r.status = "RollbackInProgress".to_owned();
        r.status_reason = None;
        // Now the instances launched by the refresh are the ones to replace.
        r.extra["rollback_from"] = json!(now);
        r.extra.as_object_mut().map(|o| o.remove("to_replace"));
        Ok::<_, ApiError>(r.id.clone())
    })?;
    state.changed.notify_waiters();
    Ok(json!({ "InstanceRefreshId": id }))
}

/// Whether an instance already runs the group's configuration (SkipMatching).
fn matches_config(group: &Group, i: &super::store::GroupInstance) -> bool {
    match (&group.launch_template, &i.launch_template) {
        (Some(g), Some(t)) => {
            (g.id == t.id || g.name == t.name)
                && g.version
                    .as_deref()
                    .is_none_or(|v| v.starts_with('$') || Some(v) == t.version.as_deref())
        }
        (None, None) => group.launch_configuration_name == i.launch_configuration_name,
        _ => false,
    }
}

/// Advance every group's active refresh by one decision at `now`. Chosen instances go
/// `Terminating` with a `Terminating EC2 instance` activity carrying AWS's refresh cause; the
/// reconciler deregisters, runs hooks, terminates them and launches replacements. Returns
/// whether anything changed.
pub fn step(store: &mut AutoScalingStore, now: f64, new_id: impl Fn() -> String) -> bool {
    let mut changed = false;
    let names: Vec<String> = store.groups.keys().cloned().collect();
    for name in names {
        let Some(group) = store.groups.get_mut(&name) else {
            continue;
        };
        let Some(idx) = group.instance_refreshes.iter().rposition(is_active) else {
            continue;
        };
        if ["InstanceRefresh", "Launch", "Terminate"]
            .iter()
            .any(|p| super::store::is_suspended(group, p))
        {
            continue;
        }
        let (c, victims) = advance(group, idx, now);
        changed |= c;
        if victims.is_empty() {
            continue;
        }
        let snapshot = group.clone();
        let t = iso_seconds(now);
        for id in victims {
            let Some(i) = snapshot.instances.get(&id) else {
                continue;
            };
            let cause = format!(
                "At {t} an instance was taken out of service in response to an instance refresh.  At {t} instance {id} was selected for termination."
            );
            let activity = record_activity(
                store,
                new_id(),
                &snapshot,
                format!("Terminating EC2 instance: {id}"),
                cause.clone(),
                "InProgress",
                0,
                &details_of(i.subnet_id.as_deref(), &i.availability_zone),
                Some(&id),
                now,
            );
            if let Some(i) = store
                .groups
                .get_mut(&name)
                .and_then(|g| g.instances.get_mut(&id))
            {
                i.termination_reason = Some(TerminationReason::Other(cause));
                i.lifecycle_state = LifecycleState::Terminating;
                i.state_since = now;
                i.activity_id = Some(activity);
            }
        }
    }
    changed
}

/// One decision for the refresh at `idx` of `group`: whether it changed, and the instances
/// to take out of service now.
fn advance(group: &mut Group, idx: usize, now: f64) -> (bool, Vec<String>) {
    let r = group.instance_refreshes[idx].clone();
    let warmup = r
        .preferences
        .get("InstanceWarmup")
        .and_then(Value::as_i64)
        .unwrap_or(0) as f64;
    let in_flight = group.instances.values().any(|i| {
        matches!(
            i.lifecycle_state,
            LifecycleState::Pending
                | LifecycleState::PendingWait
                | LifecycleState::PendingProceed
                | LifecycleState::Terminating
                | LifecycleState::TerminatingWait
                | LifecycleState::TerminatingProceed
        ) || (i.lifecycle_state == LifecycleState::InService
            && i.in_service_since.is_some_and(|t| t + warmup > now))
    });
    let mut r = r;
    let mut taken = Vec::new();
    let rolling_back = r.status == "RollbackInProgress";
    if r.status == "Pending" || (rolling_back && r.extra.get("to_replace").is_none()) {
        let skip = !rolling_back
            && r.preferences
                .get("SkipMatching")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let since = r
            .extra
            .get("rollback_from")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let ids: Vec<String> = group
            .instances
            .values()
            .filter(|i| i.lifecycle_state.counts())
            .filter(|i| !skip || !matches_config(group, i))
            .filter(|i| !rolling_back || i.launched_at >= r.start_time.min(since))
            .map(|i| i.id.clone())
            .collect();
        r.instances_to_update = ids.len() as i64;
        r.extra["to_replace"] = json!(ids);
        r.extra["total"] = json!(ids.len());
        if r.status == "Pending" {
            r.status = "InProgress".to_owned();
        }
    }
    let to_replace: Vec<String> = r.extra["to_replace"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let remaining: Vec<&String> = to_replace
        .iter()
        .filter(|id| {
            group
                .instances
                .get(*id)
                .is_some_and(|i| !i.lifecycle_state.is_leaving())
        })
        .collect();
    let total = r.extra["total"].as_i64().unwrap_or(0).max(0);
    let not_warm = group
        .instances
        .values()
        .filter(|i| {
            i.launched_at >= r.start_time
                && !to_replace.contains(&i.id)
                && (!matches!(i.lifecycle_state, LifecycleState::InService)
                    || i.in_service_since.is_none_or(|t| t + warmup > now))
                && i.lifecycle_state.counts()
        })
        .count() as i64;
    let gone = total - remaining.len() as i64;
    let done = (gone - not_warm).clamp(0, total);
    r.instances_to_update = total - done;
    r.percentage_complete = if total == 0 { 100 } else { done * 100 / total };

    if r.status == "Cancelling" {
        if !in_flight {
            r.status = "Cancelled".to_owned();
            r.end_time = Some(now);
        }
    } else if remaining.is_empty() && !in_flight {
        r.status = if rolling_back {
            "RollbackSuccessful"
        } else {
            "Successful"
        }
        .to_owned();
        r.status_reason = None;
        r.percentage_complete = 100;
        r.instances_to_update = 0;
        r.end_time = Some(now);
        tracing::info!(group = %group.name, refresh = %r.id, status = %r.status, "instance refresh finished");
    } else if r
        .extra
        .get("paused_until")
        .and_then(Value::as_f64)
        .is_some_and(|t| t > now)
    {
        r.status_reason =
            Some("Waiting for the checkpoint delay to elapse before continuing.".to_owned());
    } else if in_flight {
        r.status_reason = group
            .instances
            .values()
            .find(|i| i.lifecycle_state == LifecycleState::InService && i.in_service_since.is_some_and(|t| t + warmup > now))
            .map(|i| {
                format!(
                    "Waiting for instances to warm up before continuing. For example: {} is warming up.",
                    i.id.trim_start_matches("i-")
                )
            });
    } else {
        // Checkpoint reached since the last batch?
        let checkpoints: Vec<i64> = r
            .preferences
            .get("CheckpointPercentages")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let passed = r
            .extra
            .get("checkpoint")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if let Some(c) = checkpoints
            .iter()
            .rev()
            .find(|c| **c > passed && **c <= r.percentage_complete && **c < 100)
        {
            let delay = r
                .preferences
                .get("CheckpointDelay")
                .and_then(Value::as_i64)
                .unwrap_or(3600);
            r.extra["checkpoint"] = json!(c);
            r.extra["paused_until"] = json!(now + delay as f64);
            r.status_reason =
                Some("Waiting for the checkpoint delay to elapse before continuing.".to_owned());
        } else {
            let min_pct = r
                .preferences
                .get("MinHealthyPercentage")
                .and_then(Value::as_i64)
                .unwrap_or(90);
            let healthy = group
                .instances
                .values()
                .filter(|i| i.lifecycle_state == LifecycleState::InService && i.healthy)
                .count() as i64;
            let min_healthy = (group.desired_capacity * min_pct + 99) / 100;
            let batch = (healthy - min_healthy).max(1) as usize;
            let victims: Vec<String> = remaining
                .iter()
                .filter(|id| {
                    group
                        .instances
                        .get(**id)
                        .is_some_and(|i| i.lifecycle_state == LifecycleState::InService)
                })
                .take(batch)
                .map(|id| (*id).clone())
                .collect();
            taken = victims.clone();
            r.replaced.extend(victims);
            r.status_reason = None;
        }
    }
    let changed = r.status != group.instance_refreshes[idx].status
        || r.replaced.len() != group.instance_refreshes[idx].replaced.len()
        || r.percentage_complete != group.instance_refreshes[idx].percentage_complete
        || r.extra != group.instance_refreshes[idx].extra;
    group.instance_refreshes[idx] = r;
    (changed, taken)
}
