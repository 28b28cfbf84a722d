//! Output views of stored alarms: the `MetricAlarm` and `CompositeAlarm` shapes, members in
//! the model's order (the sink writes them as they come), borrowing the stored alarm so a
//! listing is written while the store lock is held, with no copy.

use serde::Serialize;

use super::Dimension;
use super::alarms::MetricAlarm;
use super::composite::CompositeAlarm;
use super::get_metric_data::MetricDataQuery;
use crate::protocol::output::Timestamp;

/// A `MetricAlarm`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarmOut<'a> {
    alarm_name: &'a str,
    alarm_arn: &'a str,
    alarm_description: Option<&'a str>,
    alarm_configuration_updated_timestamp: Timestamp,
    actions_enabled: bool,
    #[serde(rename = "OKActions")]
    ok_actions: &'a [String],
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    state_value: &'static str,
    state_reason: &'a str,
    state_reason_data: Option<&'a str>,
    state_updated_timestamp: Timestamp,
    metric_name: Option<&'a str>,
    namespace: Option<&'a str>,
    statistic: Option<&'a str>,
    extended_statistic: Option<&'a str>,
    dimensions: &'a [Dimension],
    period: Option<i64>,
    unit: Option<&'a str>,
    evaluation_periods: i64,
    datapoints_to_alarm: Option<i64>,
    /// None for anomaly band alarms, which have no threshold.
    threshold: Option<f64>,
    comparison_operator: &'a str,
    treat_missing_data: Option<&'a str>,
    evaluate_low_sample_count_percentile: Option<&'a str>,
    metrics: Option<&'a [MetricDataQuery]>,
    threshold_metric_id: Option<&'a str>,
    state_transitioned_timestamp: Timestamp,
}

impl<'a> MetricAlarmOut<'a> {
    /// The view of a stored metric alarm.
    pub fn new(a: &'a MetricAlarm) -> Self {
        let c = &a.core;
        Self {
            alarm_name: &c.alarm_name,
            alarm_arn: &c.alarm_arn,
            alarm_description: c.alarm_description.as_deref(),
            alarm_configuration_updated_timestamp: Timestamp(
                c.alarm_configuration_updated_timestamp,
            ),
            actions_enabled: c.actions_enabled,
            ok_actions: &c.ok_actions,
            alarm_actions: &c.alarm_actions,
            insufficient_data_actions: &c.insufficient_data_actions,
            state_value: c.state_value.as_str(),
            state_reason: &c.state_reason,
            state_reason_data: c.state_reason_data.as_deref(),
            state_updated_timestamp: Timestamp(c.state_updated_timestamp),
            metric_name: a.metric_name.as_deref(),
            namespace: a.namespace.as_deref(),
            statistic: a.statistic.as_deref(),
            extended_statistic: a.extended_statistic.as_deref(),
            dimensions: &a.dimensions,
            period: a.period,
            unit: a.unit.as_deref(),
            evaluation_periods: a.evaluation_periods,
            datapoints_to_alarm: a.datapoints_to_alarm,
            threshold: (!a.threshold.is_nan()).then_some(a.threshold),
            comparison_operator: &a.comparison_operator,
            treat_missing_data: a.treat_missing_data.as_deref(),
            evaluate_low_sample_count_percentile: a.evaluate_low_sample_count_percentile.as_deref(),
            metrics: a.metrics.as_deref(),
            threshold_metric_id: a.threshold_metric_id.as_deref(),
            state_transitioned_timestamp: Timestamp(c.state_transitioned_timestamp),
        }
    }
}

/// A `CompositeAlarm`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompositeAlarmOut<'a> {
    actions_enabled: bool,
    alarm_actions: &'a [String],
    alarm_arn: &'a str,
    alarm_configuration_updated_timestamp: Timestamp,
    alarm_description: Option<&'a str>,
    alarm_name: &'a str,
    alarm_rule: &'a str,
    insufficient_data_actions: &'a [String],
    #[serde(rename = "OKActions")]
    ok_actions: &'a [String],
    state_reason: &'a str,
    state_reason_data: Option<&'a str>,
    state_updated_timestamp: Timestamp,
    state_value: &'static str,
    state_transitioned_timestamp: Timestamp,
    actions_suppressed_by: Option<&'static str>,
    actions_suppressed_reason: Option<&'a str>,
    actions_suppressor: Option<&'a str>,
    actions_suppressor_wait_period: Option<i64>,
    actions_suppressor_extension_period: Option<i64>,
}

impl<'a> CompositeAlarmOut<'a> {
    /// The view of a stored composite alarm.
    pub fn new(a: &'a CompositeAlarm) -> Self {
        let c = &a.core;
        Self {
            actions_enabled: c.actions_enabled,
            alarm_actions: &c.alarm_actions,
            alarm_arn: &c.alarm_arn,
            alarm_configuration_updated_timestamp: Timestamp(
                c.alarm_configuration_updated_timestamp,
            ),
            alarm_description: c.alarm_description.as_deref(),
            alarm_name: &c.alarm_name,
            alarm_rule: &a.alarm_rule,
            insufficient_data_actions: &c.insufficient_data_actions,
            ok_actions: &c.ok_actions,
            state_reason: &c.state_reason,
            state_reason_data: c.state_reason_data.as_deref(),
            state_updated_timestamp: Timestamp(c.state_updated_timestamp),
            state_value: c.state_value.as_str(),
            state_transitioned_timestamp: Timestamp(c.state_transitioned_timestamp),
            actions_suppressed_by: a.actions_suppressed_by,
            actions_suppressed_reason: a.actions_suppressed_reason.as_deref(),
            actions_suppressor: a.actions_suppressor.as_deref(),
            actions_suppressor_wait_period: a.actions_suppressor_wait_period,
            actions_suppressor_extension_period: a.actions_suppressor_extension_period,
        }
    }
}
