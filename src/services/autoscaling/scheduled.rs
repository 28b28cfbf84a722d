//! Scheduled actions: PutScheduledUpdateGroupAction, BatchPut/BatchDeleteScheduledAction,
//! DescribeScheduledActions, DeleteScheduledAction (EC2 Auto Scaling User Guide, "Scheduled
//! scaling for Amazon EC2 Auto Scaling"; Auto Scaling API Reference,
//! PutScheduledUpdateGroupAction), and the pure pieces the scheduler
//! (`controllers::asg_scheduler`) fires them with.
//!
//! An action runs once at `StartTime`, or on its `Recurrence` (cron in `TimeZone`, see
//! [`super::cron`]) — at `StartTime` first when both are given — until `EndTime`. A one-off
//! action and a recurring one past its end are removed once they have run. Running sets the
//! sizes present with UpdateAutoScalingGroup's semantics; the activity Cause starts with
//! `At {t} a scheduled action update of AutoScalingGroup constraints to min: …, max: …,
//! desired: … changing the desired capacity from {x} to {y}.`

use serde::{Deserialize, Serialize};

use super::cron::{Cron, Zone};
use super::errors::AutoScalingError;
use super::store::{AutoScalingStore, Group, ScheduledAction, set_desired_capacity};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::services::errors::validation;
use crate::state::{AppState, Topic};

/// At most this many scheduled actions per group (EC2 Auto Scaling User Guide, "Quotas for
/// Amazon EC2 Auto Scaling").
const MAX_PER_GROUP: usize = 125;

/// One action as Put and BatchPut receive it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ActionRequest {
    scheduled_action_name: String,
    time: Option<f64>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    recurrence: Option<String>,
    min_size: Option<i64>,
    max_size: Option<i64>,
    desired_capacity: Option<i64>,
    time_zone: Option<String>,
}

/// The zone of an action (`None` = UTC).
fn zone_of(time_zone: Option<&str>) -> Option<Zone> {
    match time_zone {
        None | Some("") => Some(Zone::Fixed(0)),
        Some(name) => Zone::named(name),
    }
}

/// When an action runs next, strictly after `after` (`None`: never again).
pub fn next_run(action: &ScheduledAction, after: f64, first: bool) -> Option<f64> {
    let start = action.start_time.filter(|s| first && *s > after - 1.0);
    let next = match (&action.recurrence, start) {
        (_, Some(s)) => Some(s),
        (Some(expr), None) => {
            let cron = Cron::parse(expr)?;
            let zone = zone_of(action.time_zone.as_deref())?;
            // A recurrence does not begin before its StartTime.
            cron.next_after(after.max(action.start_time.unwrap_or(f64::MIN)), &zone)
        }
        (None, None) => None,
    };
    next.filter(|n| action.end_time.is_none_or(|end| *n <= end))
}

/// Check one request against the group and build the action (keeping the ARN of an action
/// it replaces). Errors carry AWS's code and message.
fn build(
    store: &AutoScalingStore,
    scope_region: &str,
    scope_account: &str,
    group_name: &str,
    req: &ActionRequest,
    now: f64,
    uuid: impl FnOnce() -> String,
) -> Result<ScheduledAction, ApiError> {
    let start_time = req.start_time.or(req.time);
    if req.scheduled_action_name.is_empty() {
        return Err(validation("ScheduledActionName must not be empty"));
    }
    if req.min_size.is_none() && req.max_size.is_none() && req.desired_capacity.is_none() {
        // Text not captured from AWS.
        return Err(validation(
            "At least one of MinSize, MaxSize or DesiredCapacity must be specified",
        ));
    }
    if let (Some(min), Some(max)) = (req.min_size, req.max_size)
        && min > max
    {
        return Err(validation(format!(
            "Max bound, {max}, must be greater than or equal to min bound, {min}"
        )));
    }
    if let Some(start) = start_time
        && start < now.floor()
    {
        return Err(validation("Given start time is in the past"));
    }
    if let (Some(start), Some(end)) = (start_time, req.end_time)
        && end <= start
    {
        return Err(validation("Given end time is before start time"));
    }
    if let Some(end) = req.end_time
        && end < now.floor()
    {
        return Err(validation("Given end time is in the past"));
    }
    if let Some(expr) = req.recurrence.as_deref()
        && Cron::parse(expr).is_none()
    {
        return Err(validation(format!(
            "Given recurrence string is invalid: {expr}"
        )));
    }
    if let Some(tz) = req.time_zone.as_deref()
        && zone_of(Some(tz)).is_none()
    {
        return Err(validation(format!("Invalid time zone: {tz}")));
    }
    let name = &req.scheduled_action_name;
    let existing = store
        .scheduled_actions
        .get(&(group_name.to_owned(), name.clone()));
    if existing.is_none()
        && store
            .scheduled_actions
            .keys()
            .filter(|(g, _)| g == group_name)
            .count()
            >= MAX_PER_GROUP
    {
        return Err(AutoScalingError::LimitExceeded.with(format!(
                "Maximum number of scheduled actions ({MAX_PER_GROUP}) reached for AutoScalingGroup {group_name}"
            ),
        ));
    }
    if let Some(start) = start_time
        && store
            .scheduled_actions
            .values()
            .any(|a| a.group_name == group_name && a.name != *name && a.start_time == Some(start))
    {
        return Err(AutoScalingError::AlreadyExists
            .with("Scheduled action with this scheduled start time already exists"));
    }
    let arn = existing.map_or_else(
        || {
            format!(
                "arn:aws:autoscaling:{scope_region}:{scope_account}:scheduledUpdateGroupAction:{}:autoScalingGroupName/{group_name}:scheduledActionName/{name}",
                uuid()
            )
        },
        |a| a.arn.clone(),
    );
    let mut action = ScheduledAction {
        group_name: group_name.to_owned(),
        name: name.clone(),
        arn,
        start_time,
        end_time: req.end_time,
        recurrence: req.recurrence.clone().filter(|r| !r.is_empty()),
        time_zone: req.time_zone.clone().filter(|z| !z.is_empty()),
        min_size: req.min_size,
        max_size: req.max_size,
        desired_capacity: req.desired_capacity,
        next_run: None,
    };
    action.next_run = next_run(&action, now, true);
    Ok(action)
}

#[derive(Deserialize)]
pub struct PutInput {
    #[serde(rename = "AutoScalingGroupName")]
    group: String,
    #[serde(flatten)]
    action: ActionRequest,
}

/// PutScheduledUpdateGroupAction: create or replace one action.
pub fn put_scheduled_update_group_action(
    ctx: &RequestContext,
    state: &AppState,
    input: PutInput,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let store = &mut s.autoscaling;
        store.group(&input.group)?;
        let action = build(
            store,
            &ctx.scope.region,
            &ctx.scope.account,
            &input.group,
            &input.action,
            now,
            || state.ids.uuid(),
        )?;
        store
            .scheduled_actions
            .insert((input.group.clone(), action.name.clone()), action);
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchPutInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    scheduled_update_group_actions: Vec<ActionRequest>,
}

/// BatchPutScheduledUpdateGroupAction: each action succeeds or is reported failed on its own.
pub fn batch_put_scheduled_update_group_action(
    ctx: &RequestContext,
    state: &AppState,
    input: BatchPutInput,
) -> Result<BatchPutOut, ApiError> {
    let now = state.clock.now();
    let failed = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.autoscaling;
        store.group(&input.auto_scaling_group_name)?;
        let mut failed = Vec::new();
        for req in &input.scheduled_update_group_actions {
            match build(
                store,
                &ctx.scope.region,
                &ctx.scope.account,
                &input.auto_scaling_group_name,
                req,
                now,
                || state.ids.uuid(),
            ) {
                Ok(action) => {
                    store.scheduled_actions.insert(
                        (input.auto_scaling_group_name.clone(), action.name.clone()),
                        action,
                    );
                }
                Err(err) => failed.push(FailedAction::new(&req.scheduled_action_name, err)),
            }
        }
        Ok::<_, ApiError>(failed)
    })?;
    state.touched(Topic::AutoScaling);
    Ok(BatchPutOut {
        failed_scheduled_update_group_actions: failed,
    })
}

/// `FailedScheduledUpdateGroupActionRequest`: an action a batch call could not put or delete.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailedAction {
    scheduled_action_name: String,
    error_code: String,
    error_message: String,
}

impl FailedAction {
    fn new(name: &str, err: ApiError) -> Self {
        Self {
            scheduled_action_name: name.to_owned(),
            error_code: err.code.into_owned(),
            error_message: err.message,
        }
    }
}

/// `BatchPutScheduledUpdateGroupActionAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchPutOut {
    failed_scheduled_update_group_actions: Vec<FailedAction>,
}

/// `BatchDeleteScheduledActionAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchDeleteOut {
    failed_scheduled_actions: Vec<FailedAction>,
}

fn action_not_found(name: &str) -> ApiError {
    // Text not captured from AWS.
    validation(format!(
        "Scheduled action name not found - Scheduled action {name} not found"
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    auto_scaling_group_name: String,
    scheduled_action_name: String,
}

/// DeleteScheduledAction.
pub fn delete_scheduled_action(
    ctx: &RequestContext,
    state: &AppState,
    input: DeleteInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let store = &mut s.autoscaling;
        store.group(&input.auto_scaling_group_name)?;
        store
            .scheduled_actions
            .shift_remove(&(
                input.auto_scaling_group_name.clone(),
                input.scheduled_action_name.clone(),
            ))
            .map(|_| ())
            .ok_or_else(|| action_not_found(&input.scheduled_action_name))
    })?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchDeleteInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    scheduled_action_names: Vec<String>,
}

/// BatchDeleteScheduledAction: unknown names are reported, the rest deleted.
pub fn batch_delete_scheduled_action(
    ctx: &RequestContext,
    state: &AppState,
    input: BatchDeleteInput,
) -> Result<BatchDeleteOut, ApiError> {
    if input.scheduled_action_names.len() > 50 {
        return Err(validation(
            "The number of scheduled actions that may be passed in is limited to 50",
        ));
    }
    let failed = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.autoscaling;
        store.group(&input.auto_scaling_group_name)?;
        let mut failed = Vec::new();
        for name in &input.scheduled_action_names {
            let key = (input.auto_scaling_group_name.clone(), name.clone());
            if store.scheduled_actions.shift_remove(&key).is_none() {
                failed.push(FailedAction::new(name, action_not_found(name)));
            }
        }
        Ok::<_, ApiError>(failed)
    })?;
    Ok(BatchDeleteOut {
        failed_scheduled_actions: failed,
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    auto_scaling_group_name: Option<String>,
    scheduled_action_names: Vec<String>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    next_token: Option<String>,
    max_records: Option<i64>,
}

/// `ScheduledUpdateGroupAction`: a recurring action shows its next run as `StartTime`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActionOut {
    auto_scaling_group_name: String,
    scheduled_action_name: String,
    #[serde(rename = "ScheduledActionARN")]
    scheduled_action_arn: String,
    time: Option<Timestamp>,
    start_time: Option<Timestamp>,
    end_time: Option<Timestamp>,
    recurrence: Option<String>,
    min_size: Option<i64>,
    max_size: Option<i64>,
    desired_capacity: Option<i64>,
    time_zone: Option<String>,
}

impl ActionOut {
    fn new(a: &ScheduledAction) -> Self {
        let start = if a.recurrence.is_some() {
            a.next_run.or(a.start_time)
        } else {
            a.start_time
        };
        Self {
            auto_scaling_group_name: a.group_name.clone(),
            scheduled_action_name: a.name.clone(),
            scheduled_action_arn: a.arn.clone(),
            time: start.map(Timestamp),
            start_time: start.map(Timestamp),
            end_time: a.end_time.map(Timestamp),
            recurrence: a.recurrence.clone(),
            min_size: a.min_size,
            max_size: a.max_size,
            desired_capacity: a.desired_capacity,
            time_zone: a.time_zone.clone(),
        }
    }
}

/// `ScheduledActionsType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActionsOut {
    scheduled_update_group_actions: Vec<ActionOut>,
    next_token: Option<String>,
}

/// DescribeScheduledActions: filtered by group, names and a start-time window, paginated.
pub fn describe_scheduled_actions(
    ctx: &RequestContext,
    state: &AppState,
    input: DescribeInput,
) -> Result<ActionsOut, ApiError> {
    if input.scheduled_action_names.len() > 50 {
        return Err(validation(
            "The number of scheduled actions that may be passed in is limited to 50",
        ));
    }
    let rows = state.stores.with(&ctx.scope, |s| {
        let store = &s.autoscaling;
        if let Some(g) = &input.auto_scaling_group_name {
            store.group(g)?;
        }
        Ok::<_, ApiError>(
            store
                .scheduled_actions
                .values()
                .filter(|a| {
                    input
                        .auto_scaling_group_name
                        .as_ref()
                        .is_none_or(|g| *g == a.group_name)
                })
                .filter(|a| {
                    input.scheduled_action_names.is_empty()
                        || input.scheduled_action_names.contains(&a.name)
                })
                .filter(|a| {
                    let t = a.next_run.or(a.start_time);
                    input.start_time.is_none_or(|s| t.is_some_and(|t| t >= s))
                        && input.end_time.is_none_or(|e| t.is_some_and(|t| t <= e))
                })
                .map(ActionOut::new)
                .collect::<Vec<_>>(),
        )
    })?;
    let (scheduled_update_group_actions, next_token) =
        super::limits::paginate(rows, input.next_token.as_deref(), input.max_records, 50)?;
    Ok(ActionsOut {
        scheduled_update_group_actions,
        next_token,
    })
}

/// Apply an action's sizes to its group with UpdateAutoScalingGroup's rules (an unchanged
/// desired capacity moves into the new [min, max]). `Err` (logged by the scheduler, group
/// untouched) when the result would be inconsistent.
pub fn apply(group: &mut Group, action: &ScheduledAction, now: f64) -> Result<bool, String> {
    let min = action.min_size.unwrap_or(group.min_size);
    let max = action.max_size.unwrap_or(group.max_size);
    if min > max {
        return Err(format!(
            "Max bound, {max}, must be greater than or equal to min bound, {min}"
        ));
    }
    let desired = action
        .desired_capacity
        .unwrap_or_else(|| group.desired_capacity.clamp(min, max));
    if desired < min || desired > max {
        return Err(format!(
            "Desired capacity:{desired} must be between the specified min size:{min} and max size:{max}"
        ));
    }
    group.min_size = min;
    group.max_size = max;
    let trigger = format!(
        "a scheduled action update of AutoScalingGroup constraints to min: {min}, max: {max}, desired: {desired}"
    );
    Ok(set_desired_capacity(group, desired, &trigger, now))
}

/// Run every action due at `now` in one store: apply it (unless the group suspended
/// `ScheduledActions`, in which case the run is skipped), then schedule the next run or remove
/// the action. Returns whether anything changed and the next due time.
pub fn run_due(store: &mut AutoScalingStore, now: f64) -> (bool, Option<f64>) {
    let due: Vec<(String, String)> = store
        .scheduled_actions
        .iter()
        .filter(|(_, a)| a.next_run.is_some_and(|t| t <= now))
        .map(|(k, _)| k.clone())
        .collect();
    let mut changed = false;
    for key in due {
        let Some(action) = store.scheduled_actions.get(&key).cloned() else {
            continue;
        };
        if let Some(group) = store.groups.get_mut(&action.group_name) {
            if super::store::is_suspended(group, "ScheduledActions") {
                tracing::info!(group = %group.name, action = %action.name, "scheduled action skipped: ScheduledActions suspended");
            } else {
                match apply(group, &action, now) {
                    Ok(_) => {
                        tracing::info!(group = %group.name, action = %action.name, "scheduled action ran");
                    }
                    Err(why) => {
                        tracing::warn!(group = %group.name, action = %action.name, %why, "scheduled action not applied")
                    }
                }
            }
        }
        let fired_at = action.next_run.unwrap_or(now);
        match next_run(&action, fired_at.max(now), false) {
            Some(next) if action.recurrence.is_some() => {
                if let Some(a) = store.scheduled_actions.get_mut(&key) {
                    a.next_run = Some(next);
                }
            }
            _ => {
                store.scheduled_actions.shift_remove(&key);
            }
        }
        changed = true;
    }
    let next = store
        .scheduled_actions
        .values()
        .filter_map(|a| a.next_run)
        .reduce(f64::min);
    (changed, next)
}

#[cfg(test)]
#[path = "scheduled_tests.rs"]
mod tests;
