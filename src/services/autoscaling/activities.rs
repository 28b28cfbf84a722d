//! DescribeScalingActivities (research §1.1 paging rules, §7.1 the record).

use serde::Deserialize;
use serde_json::{Value, json};

use super::describe::page;
use super::store::Activity;
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::timestamp::epoch_number;
use crate::services::parse_input;
use crate::state::AppState;

/// Activities older than this are not listed (six weeks).
const RETENTION: f64 = 42.0 * 86_400.0;

/// The `Activity` output shape; `deleted` adds `AutoScalingGroupState: Deleted`.
pub fn activity_json(a: &Activity, deleted: bool) -> Value {
    let mut v = json!({
        "ActivityId": a.id,
        "AutoScalingGroupName": a.group_name,
        "Description": a.description,
        "Cause": a.cause,
        "StartTime": epoch_number(a.start_time),
        "StatusCode": a.status_code,
        "Progress": a.progress,
        "Details": a.details,
        "AutoScalingGroupARN": a.group_arn,
    });
    if let Some(end) = a.end_time {
        v["EndTime"] = epoch_number(end);
    }
    if let Some(m) = &a.status_message {
        v["StatusMessage"] = json!(m);
    }
    if deleted {
        v["AutoScalingGroupState"] = json!("Deleted");
    }
    v
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInput {
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
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInput = parse_input(input)?;
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
            .map(|(x, d)| activity_json(x, d))
            .collect::<Vec<_>>()
    });
    let (items, next) = page(rows, req.max_records, req.next_token.as_deref(), 100)?;
    let mut out = json!({ "Activities": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
