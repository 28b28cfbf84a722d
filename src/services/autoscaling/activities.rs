//! DescribeScalingActivities (Auto Scaling API Reference, DescribeScalingActivities for the
//! paging rules and Activity for the record; EC2 Auto Scaling User Guide, "Verifying a scaling
//! activity for an Auto Scaling group").

use serde::{Deserialize, Serialize};

use super::describe::page;
use super::store::{AutoScalingStore, Group};
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::state::{AppState, Shared};

/// Activities older than this are not listed (six weeks).
const RETENTION: f64 = 42.0 * 86_400.0;

/// A scaling activity.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Activity {
    /// ActivityId.
    pub id: String,
    /// AutoScalingGroupName.
    pub group_name: String,
    /// AutoScalingGroupARN.
    pub group_arn: String,
    /// Description.
    pub description: String,
    /// Cause.
    pub cause: String,
    /// StartTime.
    pub start_time: f64,
    /// EndTime.
    pub end_time: Option<f64>,
    /// StatusCode.
    pub status_code: String,
    /// StatusMessage.
    pub status_message: Option<String>,
    /// Progress.
    pub progress: i64,
    /// Details (a JSON string).
    pub details: String,
    /// The instance it is about, if any.
    pub instance_id: Option<String>,
    /// Its end was announced to the group's notification topics (set by the scheduler).
    pub announced: bool,
}

/// An activity's `Details`: where its instance is (`{"Availability Zone": …, "Subnet ID": …}`,
/// no subnet for zone-only groups; `{}` when it is about no instance).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ActivityDetails {
    /// The instance's zone.
    #[serde(rename = "Availability Zone", skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// The instance's subnet.
    #[serde(rename = "Subnet ID", skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
}

impl ActivityDetails {
    /// An instance in `zone`, and in `subnet` when it has one.
    pub fn at(subnet: Option<&str>, zone: &str) -> Self {
        Self {
            availability_zone: Some(zone.to_owned()),
            subnet_id: subnet.map(str::to_owned),
        }
    }

    /// The `Details` string.
    fn to_json(&self) -> String {
        // Two optional strings always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The `Activity` output shape, members in model order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActivityOut {
    activity_id: String,
    auto_scaling_group_name: String,
    description: String,
    cause: String,
    start_time: Timestamp,
    end_time: Option<Timestamp>,
    status_code: String,
    status_message: Option<String>,
    progress: i64,
    details: String,
    /// `Deleted` for an activity of a group that is gone.
    auto_scaling_group_state: Option<&'static str>,
    #[serde(rename = "AutoScalingGroupARN")]
    auto_scaling_group_arn: String,
}

impl ActivityOut {
    /// The record as listed; `deleted` adds `AutoScalingGroupState: Deleted`.
    pub fn new(a: &Activity, deleted: bool) -> Self {
        Self {
            activity_id: a.id.clone(),
            auto_scaling_group_name: a.group_name.clone(),
            description: a.description.clone(),
            cause: a.cause.clone(),
            start_time: Timestamp(a.start_time),
            end_time: a.end_time.map(Timestamp),
            status_code: a.status_code.clone(),
            status_message: a.status_message.clone(),
            progress: a.progress,
            details: a.details.clone(),
            auto_scaling_group_state: deleted.then_some("Deleted"),
            auto_scaling_group_arn: a.group_arn.clone(),
        }
    }
}

/// `ActivitiesType` without paging: what the instance-moving calls (EnterStandby,
/// DetachInstances, ...) answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActivitiesOut {
    activities: Vec<ActivityOut>,
}

impl ActivitiesOut {
    /// These activities.
    pub fn new(activities: Vec<ActivityOut>) -> Self {
        Self { activities }
    }
}

/// `ActivityType`: one activity (TerminateInstanceInAutoScalingGroup).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OneActivityOut {
    activity: ActivityOut,
}

impl OneActivityOut {
    /// This activity.
    pub fn new(activity: ActivityOut) -> Self {
        Self { activity }
    }
}

/// DescribeScalingActivities' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    activity_ids: Vec<String>,
    auto_scaling_group_name: Option<String>,
    include_deleted_groups: bool,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// DescribeScalingActivities: in-progress first, then newest first; unknown ids ignored.
pub fn describe_scaling_activities(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<ActivitiesType, ApiError> {
    if req.activity_ids.len() > 50 {
        return Err(validation(
            "The number of activity ids that may be passed in is limited to 50",
        ));
    }
    let now = state.clock.now();
    let rows = state.stores.with(&ctx.scope, |s| {
        let a = &s.autoscaling;
        if let Some(name) = &req.auto_scaling_group_name
            && !a.groups.contains_key(name)
            && !req.include_deleted_groups
        {
            // AWS answers an empty list for an unknown group.
            return Vec::new();
        }
        let mut chosen: Vec<(&Activity, bool)> = a
            .activities
            .iter()
            .filter(|x| now - x.start_time <= RETENTION)
            .filter(|x| {
                req.auto_scaling_group_name
                    .as_ref()
                    .is_none_or(|n| *n == x.group_name)
            })
            .filter(|x| req.activity_ids.is_empty() || req.activity_ids.contains(&x.id))
            .map(|x| {
                let deleted = a
                    .groups
                    .get(&x.group_name)
                    .is_none_or(|g| g.arn != x.group_arn);
                (&**x, deleted)
            })
            .filter(|(_, deleted)| !deleted || req.include_deleted_groups)
            .collect();
        // Stable: newest first, in-progress ones ahead of finished ones.
        chosen.reverse();
        chosen.sort_by_key(|(x, _)| x.end_time.is_some());
        chosen
            .into_iter()
            .map(|(x, d)| ActivityOut::new(x, d))
            .collect::<Vec<_>>()
    });
    let (activities, next_token) = page(rows, req.max_records, req.next_token.as_deref(), 100)?;
    Ok(ActivitiesType {
        activities,
        next_token,
    })
}

/// `ActivitiesType`: a page of activities.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActivitiesType {
    activities: Vec<ActivityOut>,
    next_token: Option<String>,
}

/// Append an activity and return its id. `status_code` is AWS's (`InProgress`, `PreInService`,
/// `Successful`, ...); `details` is rendered to the `Details` JSON string. A finished
/// status (`Successful`, `Failed`, `Cancelled`) gets `end_time = now`.
#[allow(clippy::too_many_arguments)] // reason: one call per activity, every field is AWS's
pub fn record_activity(
    store: &mut AutoScalingStore,
    id: String,
    group: &Group,
    description: String,
    cause: String,
    status_code: &str,
    progress: i64,
    details: &ActivityDetails,
    instance_id: Option<&str>,
    now: f64,
) -> String {
    let finished = matches!(status_code, "Successful" | "Failed" | "Cancelled");
    tracing::info!(group = %group.name, activity = %id, status = status_code, %description, "scaling activity");
    store.activities.push(Shared::new(Activity {
        id: id.clone(),
        group_name: group.name.clone(),
        group_arn: group.arn.clone(),
        description,
        cause,
        start_time: now,
        end_time: finished.then_some(now),
        status_code: status_code.to_owned(),
        status_message: None,
        progress,
        details: details.to_json(),
        instance_id: instance_id.map(str::to_owned),
        announced: false,
    }));
    id
}

/// Move an activity on: a new status code and progress; finished statuses stamp `EndTime`;
/// a failure message becomes `StatusMessage` and is appended to the Description after two
/// spaces (`…: i-….  Status Reason: {msg}`), as AWS writes failed activities.
pub fn update_activity(
    store: &mut AutoScalingStore,
    id: &str,
    status_code: &str,
    progress: i64,
    message: Option<&str>,
    now: f64,
) {
    let Some(a) = store.activity_mut(id) else {
        return;
    };
    a.status_code = status_code.to_owned();
    a.progress = progress;
    if matches!(status_code, "Successful" | "Failed" | "Cancelled") {
        a.end_time = Some(now);
    }
    if let Some(msg) = message {
        a.status_message = Some(msg.to_owned());
        if !a.description.contains("Status Reason:") {
            a.description = format!(
                "{}.  Status Reason: {msg}",
                a.description.trim_end_matches('.')
            );
        }
    }
    tracing::info!(activity = %id, status = status_code, progress, "scaling activity update");
}

/// Mark an activity finished (`Successful`, Progress 100) — shorthand for the common case.
pub fn finish_activity(store: &mut AutoScalingStore, id: &str, now: f64) {
    update_activity(store, id, "Successful", 100, None, now);
}
