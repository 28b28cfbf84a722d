//! Metric alarms: the stored shape and the state operations — SetAlarmState, DeleteAlarms and
//! Enable/DisableAlarmActions, as the CloudWatch API Reference describes those operations
//! (SetAlarmState's errors as recorded against AWS in LocalStack's CloudWatch tests; a
//! refused DeleteAlarms as AWS answered in GitHub issue reports). PutMetricAlarm is in
//! [`super::put_alarm`], reads in [`super::describe`]; evaluation runs in
//! `controllers::alarm_evaluator`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions::{AlarmNotice, dispatch_alarm_actions};
use super::anomaly::Empty;
use super::errors::CloudWatchError;
use super::evaluate::StateValue;
use super::get_metric_data::MetricDataQuery;
use super::history::{History, HistoryItem, state_update_data};
use super::put_alarm::config_item;
use super::store::MetricKey;
use super::tags::Tag;
use super::{Dimension, enum_error, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

/// Fields metric and composite alarms share, serialized as AWS names them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmCore {
    /// AlarmName.
    pub alarm_name: String,
    /// AlarmArn.
    pub alarm_arn: String,
    /// AlarmDescription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    /// AlarmConfigurationUpdatedTimestamp.
    pub alarm_configuration_updated_timestamp: f64,
    /// ActionsEnabled.
    pub actions_enabled: bool,
    /// OKActions.
    #[serde(rename = "OKActions")]
    pub ok_actions: Vec<String>,
    /// AlarmActions.
    pub alarm_actions: Vec<String>,
    /// InsufficientDataActions.
    pub insufficient_data_actions: Vec<String>,
    /// StateValue.
    pub state_value: StateValue,
    /// StateReason.
    pub state_reason: String,
    /// StateReasonData.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    /// StateUpdatedTimestamp.
    pub state_updated_timestamp: f64,
    /// StateTransitionedTimestamp.
    pub state_transitioned_timestamp: f64,
}

/// The settings an alarm's Put request gives, shared by metric and composite alarms.
#[derive(Debug)]
pub struct AlarmSettings<'a> {
    /// AlarmName.
    pub name: &'a str,
    /// AlarmArn.
    pub arn: String,
    /// AlarmDescription.
    pub description: Option<&'a String>,
    /// ActionsEnabled.
    pub actions_enabled: Option<bool>,
    /// OKActions.
    pub ok_actions: Option<&'a Vec<String>>,
    /// AlarmActions.
    pub alarm_actions: Option<&'a Vec<String>>,
    /// InsufficientDataActions.
    pub insufficient_data_actions: Option<&'a Vec<String>>,
}

impl AlarmCore {
    /// The core of an alarm being put at `now`: new settings, and the state of the alarm it
    /// replaces (a put never changes the state), or INSUFFICIENT_DATA for a new alarm.
    pub fn put(settings: AlarmSettings<'_>, old: Option<&AlarmCore>, now: f64) -> Self {
        Self {
            alarm_name: settings.name.to_owned(),
            alarm_arn: settings.arn,
            alarm_description: settings.description.cloned(),
            alarm_configuration_updated_timestamp: now,
            actions_enabled: settings.actions_enabled.unwrap_or(true),
            ok_actions: settings.ok_actions.cloned().unwrap_or_default(),
            alarm_actions: settings.alarm_actions.cloned().unwrap_or_default(),
            insufficient_data_actions: settings
                .insufficient_data_actions
                .cloned()
                .unwrap_or_default(),
            state_value: old.map_or(StateValue::InsufficientData, |o| o.state_value),
            state_reason: old.map_or_else(
                || "Unchecked: Initial alarm creation".to_owned(),
                |o| o.state_reason.clone(),
            ),
            state_reason_data: old.and_then(|o| o.state_reason_data.clone()),
            state_updated_timestamp: old.map_or(now, |o| o.state_updated_timestamp),
            state_transitioned_timestamp: old.map_or(now, |o| o.state_transitioned_timestamp),
        }
    }

    /// The actions of a state.
    pub fn actions_for(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok_actions,
            StateValue::Alarm => &self.alarm_actions,
            StateValue::InsufficientData => &self.insufficient_data_actions,
        }
    }

    /// Move to `new` (a no-op when already there): update the state fields, write the
    /// StateUpdate history item, and return what the caller must dispatch (outside the lock)
    /// when actions are enabled.
    pub fn transition(
        &mut self,
        alarm_type: &'static str,
        history: &mut History,
        new: StateValue,
        reason: String,
        reason_data: Option<String>,
        now: f64,
    ) -> Option<(AlarmNotice, Vec<String>)> {
        let old = self.state_value;
        if old == new {
            return None;
        }
        history.push(HistoryItem {
            alarm_name: self.alarm_name.clone(),
            alarm_type,
            timestamp: now,
            history_item_type: "StateUpdate",
            history_summary: format!("Alarm updated from {} to {}", old.as_str(), new.as_str()),
            history_data: state_update_data(
                (
                    old.as_str(),
                    &self.state_reason,
                    self.state_reason_data.as_deref(),
                ),
                (new.as_str(), &reason, reason_data.as_deref()),
            ),
        });
        tracing::info!(alarm = %self.alarm_name, from = old.as_str(), to = new.as_str(), reason = %reason, "alarm state changed");
        self.state_value = new;
        self.state_reason = reason;
        self.state_reason_data = reason_data;
        self.state_updated_timestamp = now;
        self.state_transitioned_timestamp = now;
        let actions = self.actions_for(new).to_vec();
        (self.actions_enabled && !actions.is_empty()).then(|| (self.notice(old, false), actions))
    }

    /// A notice of the current state, coming from `old`.
    pub fn notice(&self, old: StateValue, repeat: bool) -> AlarmNotice {
        AlarmNotice {
            alarm_name: self.alarm_name.clone(),
            alarm_arn: self.alarm_arn.clone(),
            alarm_type: "MetricAlarm",
            old_state: old,
            new_state: self.state_value,
            reason: self.state_reason.clone(),
            reason_data: self.state_reason_data.clone(),
            state_change_time: self.state_transitioned_timestamp,
            repeat,
        }
    }
}

/// A metric alarm as stored; serializes as the `MetricAlarm` shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarm {
    /// The shared fields.
    #[serde(flatten)]
    pub core: AlarmCore,
    /// MetricName.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// Namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Statistic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    /// ExtendedStatistic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    /// Dimensions.
    pub dimensions: Vec<Dimension>,
    /// Period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    /// Unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// EvaluationPeriods.
    pub evaluation_periods: i64,
    /// DatapointsToAlarm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i64>,
    /// Threshold; NaN for anomaly band alarms, which have none (and show none).
    #[serde(skip_serializing_if = "no_threshold", default = "no_threshold_value")]
    pub threshold: f64,
    /// ComparisonOperator.
    pub comparison_operator: String,
    /// TreatMissingData.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    /// EvaluateLowSampleCountPercentile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluate_low_sample_count_percentile: Option<String>,
    /// Metrics (metric-math alarms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<MetricDataQuery>>,
    /// ThresholdMetricId (anomaly band alarms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_metric_id: Option<String>,
    /// Tags.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub tags: Vec<Tag>,
    /// When the evaluator runs this alarm next (virtual epoch seconds).
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub next_evaluation: f64,
    /// The store key of the alarm's metric (single-metric alarms), built once.
    #[serde(
        skip_serializing_if = "crate::state::persist::fields::on_wire",
        default
    )]
    pub metric_key: Option<MetricKey>,
}

fn no_threshold_value() -> f64 {
    f64::NAN
}

fn no_threshold(t: &f64) -> bool {
    t.is_nan()
}

impl MetricAlarm {
    /// The period the alarm evaluates at (its own, or its math queries').
    pub fn eval_period(&self) -> i64 {
        self.period.unwrap_or_else(|| {
            self.metrics
                .iter()
                .flatten()
                .find_map(|q| q.metric_stat.as_ref().map(|m| m.period).or(q.period))
                .unwrap_or(60)
        })
    }
}

/// SetAlarmState input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetAlarmStateInput {
    alarm_name: String,
    state_value: String,
    state_reason: String,
    state_reason_data: Option<String>,
}

/// SetAlarmState: a real transition (history, actions) when the state differs; the next
/// evaluation (metric alarms) or child change (composites) may override it.
pub fn set_alarm_state(
    ctx: &RequestContext,
    state: &AppState,
    req: SetAlarmStateInput,
) -> Result<Empty, ApiError> {
    let new = StateValue::parse(&req.state_value).ok_or_else(|| {
        enum_error(
            &req.state_value,
            "stateValue",
            "INSUFFICIENT_DATA, ALARM, OK",
        )
    })?;
    if req.state_reason.chars().count() > 1023 {
        return Err(validation(
            "1 validation error detected: Value at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to 1023",
        ));
    }
    if let Some(data) = &req.state_reason_data
        && (data.chars().count() > 4000 || serde_json::from_str::<Value>(data).is_err())
    {
        // UNVERIFIED wording; the code is the modelled InvalidFormat.
        return Err(
            CloudWatchError::InvalidFormat.with("The value of StateReasonData is not valid JSON.")
        );
    }
    let now = state.clock.now();
    let dispatch = state.stores.with(&ctx.scope, |s| {
        let cw = &mut s.cloudwatch;
        let (core, kind) = if let Some(a) = cw.alarms.get_mut(&req.alarm_name) {
            (&mut a.core, "MetricAlarm")
        } else if let Some(c) = cw.composites.get_mut(&req.alarm_name) {
            // Holds until a child changes: composites re-evaluate only on new child states.
            (&mut c.core, "CompositeAlarm")
        } else {
            return Err(CloudWatchError::ResourceNotFound.with(""));
        };
        Ok(core
            .transition(
                kind,
                &mut cw.history,
                new,
                req.state_reason,
                req.state_reason_data,
                now,
            )
            .map(|(mut notice, actions)| {
                notice.alarm_type = kind;
                (notice, actions)
            }))
    })?;
    if let Some((notice, actions)) = dispatch {
        dispatch_alarm_actions(state, &ctx.scope, &notice, &actions);
    }
    state.touched(Topic::CloudWatch);
    Ok(Empty {})
}

/// DeleteAlarms, EnableAlarmActions and DisableAlarmActions input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmNamesInput {
    alarm_names: Vec<String>,
}

/// DeleteAlarms: unknown names are ignored; alarms a composite depends on are refused.
pub fn delete_alarms(
    ctx: &RequestContext,
    state: &AppState,
    req: AlarmNamesInput,
) -> Result<Empty, ApiError> {
    if req.alarm_names.len() > 100 {
        return Err(validation(
            "1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100",
        ));
    }
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let cw = &mut s.cloudwatch;
        let deleting: Vec<&String> = req.alarm_names.iter().collect();
        let blocked: Vec<&str> = req
            .alarm_names
            .iter()
            .filter(|name| {
                cw.composites.values().any(|c| {
                    !deleting.contains(&&c.core.alarm_name)
                        && c.children().iter().any(|ch| ch == *name)
                })
            })
            .map(String::as_str)
            .collect();
        if !blocked.is_empty() {
            let it = if blocked.len() == 1 { "it" } else { "them" };
            return Err(validation(format!(
                "Cannot delete {} as there are composite alarm(s) depending on {it}.",
                blocked.join(",")
            )));
        }
        for name in &req.alarm_names {
            if let Some(a) = cw.alarms.remove(name) {
                cw.history.push(config_item("Delete", &a, now));
            } else if let Some(c) = cw.composites.remove(name) {
                cw.history
                    .push(super::composite::config_item("Delete", &c, now));
            }
        }
        Ok(())
    })?;
    state.touched(Topic::CloudWatch);
    Ok(Empty {})
}

fn set_actions_enabled(
    ctx: &RequestContext,
    state: &AppState,
    req: AlarmNamesInput,
    enabled: bool,
) -> Result<Empty, ApiError> {
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let cw = &mut s.cloudwatch;
        for name in &req.alarm_names {
            if let Some(a) = cw.alarms.get_mut(name) {
                a.core.actions_enabled = enabled;
                // UNVERIFIED for AWS (Eucalyptus writes it): an "updated" item.
                let item = config_item("Update", a, now);
                cw.history.push(item);
            } else if let Some(c) = cw.composites.get_mut(name) {
                c.core.actions_enabled = enabled;
                let item = super::composite::config_item("Update", c, now);
                cw.history.push(item);
            }
        }
    });
    state.touched(Topic::CloudWatch);
    Ok(Empty {})
}

/// EnableAlarmActions (does not replay missed actions).
pub fn enable_alarm_actions(
    ctx: &RequestContext,
    state: &AppState,
    req: AlarmNamesInput,
) -> Result<Empty, ApiError> {
    set_actions_enabled(ctx, state, req, true)
}

/// DisableAlarmActions (transitions are still evaluated and recorded).
pub fn disable_alarm_actions(
    ctx: &RequestContext,
    state: &AppState,
    req: AlarmNamesInput,
) -> Result<Empty, ApiError> {
    set_actions_enabled(ctx, state, req, false)
}
