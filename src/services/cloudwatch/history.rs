//! Alarm history: ConfigurationUpdate, StateUpdate and Action items with AWS's summaries and
//! HistoryData JSON, as real histories show them (LocalStack's CloudWatch tests recorded
//! against AWS; alarm histories quoted in public blog posts and code). Kept two weeks
//! (CloudWatch API Reference, DescribeAlarmHistory) and bounded in count; survives deletion of
//! the alarm.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{enum_error, invalid_token, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::paging::{BadToken, Paging, page};
use crate::state::AppState;

const RETENTION: f64 = 14.0 * 86_400.0;
/// Items kept per account and region at most (oldest dropped first).
const MAX_ITEMS: usize = 50_000;
const DEFAULT_PAGE: usize = 50;

/// One history item, as DescribeAlarmHistory returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// AlarmName.
    pub alarm_name: String,
    /// `MetricAlarm` or `CompositeAlarm`.
    #[serde(deserialize_with = "crate::state::persist::fields::static_str")]
    pub alarm_type: crate::state::persist::fields::StaticStr,
    /// When.
    pub timestamp: f64,
    /// `ConfigurationUpdate`, `StateUpdate` or `Action`.
    #[serde(deserialize_with = "crate::state::persist::fields::static_str")]
    pub history_item_type: crate::state::persist::fields::StaticStr,
    /// Summary.
    pub history_summary: String,
    /// HistoryData (a JSON string).
    pub history_data: String,
}

/// The history of one account and region, oldest first.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct History {
    items: VecDeque<HistoryItem>,
}

impl History {
    /// Record an item, dropping what is past retention or over the bound.
    pub fn push(&mut self, item: HistoryItem) {
        let cut = item.timestamp - RETENTION;
        while self
            .items
            .front()
            .is_some_and(|i| i.timestamp < cut || self.items.len() >= MAX_ITEMS)
        {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    /// Every item, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &HistoryItem> {
        self.items.iter()
    }
}

/// `{"version":"1.0","oldState":{...},"newState":{...}}` for a StateUpdate; `reason_data`
/// strings are embedded as JSON objects, as AWS does.
pub fn state_update_data(
    old: (&str, &str, Option<&str>),
    new: (&str, &str, Option<&str>),
) -> String {
    fn state(value: &str, reason: &str, data: Option<&str>) -> String {
        let mut s = format!(
            "{{\"stateValue\":{},\"stateReason\":{}",
            Value::from(value),
            Value::from(reason)
        );
        // Only valid JSON is embedded raw; SetAlarmState checked it, the evaluator wrote it.
        if let Some(d) = data.filter(|d| serde_json::from_str::<Value>(d).is_ok()) {
            s.push_str(",\"stateReasonData\":");
            s.push_str(d);
        }
        s.push('}');
        s
    }
    format!(
        "{{\"version\":\"1.0\",\"oldState\":{},\"newState\":{}}}",
        state(old.0, old.1, old.2),
        state(new.0, new.1, new.2)
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAlarmHistoryInput {
    alarm_name: Option<String>,
    alarm_types: Option<Vec<String>>,
    history_item_type: Option<String>,
    start_date: Option<f64>,
    end_date: Option<f64>,
    max_records: Option<i64>,
    next_token: Option<String>,
    scan_by: Option<String>,
}

/// DescribeAlarmHistory output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmHistoryOutput {
    alarm_history_items: Vec<HistoryItemOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

const ITEM_TYPES: &str =
    "ConfigurationUpdate, StateUpdate, Action, AlarmContributorStateUpdate, AlarmContributorAction";

/// DescribeAlarmHistory.
pub fn describe_alarm_history(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeAlarmHistoryInput,
) -> Result<DescribeAlarmHistoryOutput, ApiError> {
    if let Some(t) = &req.history_item_type
        && !ITEM_TYPES.split(", ").any(|x| x == t)
    {
        return Err(enum_error(t, "historyItemType", ITEM_TYPES));
    }
    let types = super::describe::alarm_types(req.alarm_types.as_deref())?;
    let descending = match req.scan_by.as_deref() {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => {
            return Err(enum_error(
                other,
                "scanBy",
                "TimestampDescending, TimestampAscending",
            ));
        }
    };
    let limit = match req.max_records {
        None => DEFAULT_PAGE,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100"
            )));
        }
    };
    let keep = |i: &&HistoryItem| {
        req.alarm_name.as_ref().is_none_or(|n| *n == i.alarm_name)
            // Without AlarmName and AlarmTypes, AWS returns metric alarms only.
            && (req.alarm_name.is_some() && req.alarm_types.is_none() || types.contains(&i.alarm_type))
            && req.history_item_type.as_ref().is_none_or(|t| t == i.history_item_type)
            && req.start_date.is_none_or(|s| i.timestamp >= s)
            && req.end_date.is_none_or(|e| i.timestamp <= e)
    };
    let token = req.next_token.as_deref();
    let (alarm_history_items, next_token) = state
        .stores
        .with(&ctx.scope, |s| {
            let all = s.cloudwatch.history.iter();
            let (items, next) = if descending {
                page(all.rev().filter(keep), token, limit, Paging::LENIENT_OFFSET)
            } else {
                page(all.filter(keep), token, limit, Paging::LENIENT_OFFSET)
            }?;
            Ok::<_, BadToken>((items.into_iter().map(HistoryItemOut::new).collect(), next))
        })
        .map_err(|_| invalid_token())?;
    Ok(DescribeAlarmHistoryOutput {
        alarm_history_items,
        next_token,
    })
}

/// An `AlarmHistoryItem`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItemOut {
    alarm_name: String,
    alarm_type: &'static str,
    timestamp: Timestamp,
    history_item_type: &'static str,
    history_summary: String,
    history_data: String,
}

impl HistoryItemOut {
    fn new(i: &HistoryItem) -> Self {
        Self {
            alarm_name: i.alarm_name.clone(),
            alarm_type: i.alarm_type,
            timestamp: Timestamp(i.timestamp),
            history_item_type: i.history_item_type,
            history_summary: i.history_summary.clone(),
            history_data: i.history_data.clone(),
        }
    }
}
