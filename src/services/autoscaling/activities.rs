//! DescribeScalingActivities (research §1.1 paging rules, §7.1 the record).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::describe::page;
use super::store::Activity;
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::state::AppState;

/// Activities older than this are not listed (six weeks).
const RETENTION: f64 = 42.0 * 86_400.0;

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

/// The `Activity` output shape as a tree, for operations not yet typed.
pub fn activity_json(a: &Activity, deleted: bool) -> Value {
    // A plain struct of strings, numbers and options always serializes.
    serde_json::to_value(ActivityOut::new(a, deleted)).unwrap_or_default()
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
                (x, deleted)
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
