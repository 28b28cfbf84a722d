//! PutMetricAlarm: AWS's validation (CloudWatch API Reference, PutMetricAlarm; the texts AWS
//! returned in GitHub issue reports where one was seen) and create-or-replace; the
//! ConfigurationUpdate history items of metric alarms.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions::check_action;
use super::alarms::{AlarmCore, AlarmSettings, MetricAlarm};
use super::anomaly::Empty;
use super::evaluate::{Comparison, MissingData};
use super::format::data_date;
use super::get_metric_data::{MetricDataQuery, check_alarm_queries};
use super::history::HistoryItem;
use super::stats::Stat;
use super::store::MetricKey;
use super::tags::Tag;
use super::{
    Dimension, Num, alarm_arn, check_unit, dimension_pairs, enum_error, invalid_combination,
    invalid_value, missing, validation,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, Scope, Topic};

/// `PutMetricAlarmInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricAlarmInput {
    alarm_name: String,
    alarm_description: Option<String>,
    actions_enabled: Option<bool>,
    #[serde(rename = "OKActions")]
    ok_actions: Option<Vec<String>>,
    alarm_actions: Option<Vec<String>>,
    insufficient_data_actions: Option<Vec<String>>,
    metric_name: Option<String>,
    namespace: Option<String>,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    dimensions: Option<Vec<Dimension>>,
    period: Option<i64>,
    unit: Option<String>,
    evaluation_periods: Option<i64>,
    datapoints_to_alarm: Option<i64>,
    threshold: Option<Num>,
    comparison_operator: Option<String>,
    treat_missing_data: Option<String>,
    evaluate_low_sample_count_percentile: Option<String>,
    metrics: Option<Vec<MetricDataQuery>>,
    tags: Option<Vec<Tag>>,
    threshold_metric_id: Option<String>,
    evaluation_criteria: Option<Value>,
}

const OPERATORS: &str = "GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold";
const STATISTICS: &str = "SampleCount, Average, Sum, Minimum, Maximum";

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(|c| c.is_ascii_control()) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255 and contain no ASCII control characters"
        )));
    }
    Ok(())
}

/// Check the three action lists (at most 5 each, well-formed ARNs in this region).
pub fn check_actions(
    lists: [(&str, &Option<Vec<String>>); 3],
    scope: &Scope,
    composite: bool,
) -> Result<(), ApiError> {
    for (field, list) in lists {
        let list = list.as_deref().unwrap_or_default();
        if list.len() > 5 {
            return Err(validation(format!(
                "1 validation error detected: Value '[{}]' at '{field}' failed to satisfy constraint: Member must have length less than or equal to 5",
                list.join(", ")
            )));
        }
        for arn in list {
            check_action(arn, scope, composite)?;
        }
    }
    Ok(())
}

/// AWS's `ValidationError` for a member a metric alarm needs and the request leaves out.
pub(super) fn not_null(member: &str) -> ApiError {
    validation(format!("{member} must not be null"))
}

/// Validate a PutMetricAlarm request into the configuration part of an alarm.
fn validate(req: &PutMetricAlarmInput, scope: &Scope) -> Result<(), ApiError> {
    check_name(&req.alarm_name)?;
    if req
        .alarm_description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1024)
    {
        return Err(validation(
            "1 validation error detected: Value at 'alarmDescription' failed to satisfy constraint: Member must have length less than or equal to 1024",
        ));
    }
    if req.evaluation_criteria.is_some() {
        return Err(validation(
            "EvaluationCriteria (PromQL alarms) is not supported by Updraft.",
        ));
    }
    let op = req
        .comparison_operator
        .as_deref()
        .ok_or_else(|| missing("ComparisonOperator"))?;
    let Some(comparison) = Comparison::parse(op) else {
        return Err(enum_error(op, "comparisonOperator", OPERATORS));
    };
    // UNVERIFIED wordings: the pairing rules of band alarms (PutMetricAlarm reference).
    match (comparison.is_band(), &req.threshold_metric_id) {
        (true, None) => {
            return Err(validation(format!(
                "ComparisonOperator {op} requires ThresholdMetricId to name an ANOMALY_DETECTION_BAND expression in Metrics."
            )));
        }
        (false, Some(_)) => {
            return Err(validation(format!(
                "ThresholdMetricId can only be used with the anomaly detection comparison operators, not {op}."
            )));
        }
        (true, Some(_)) if req.metrics.is_none() => {
            return Err(validation(
                "Anomaly detection alarms must give their metric and band in Metrics.",
            ));
        }
        (true, Some(_)) if req.threshold.is_some() => {
            return Err(invalid_combination(
                "The parameters Threshold and ThresholdMetricId are mutually exclusive.",
            ));
        }
        _ => {}
    }
    let n = req
        .evaluation_periods
        .ok_or_else(|| missing("EvaluationPeriods"))?;
    if n < 1 {
        return Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    let period = if let Some(queries) = &req.metrics {
        // AWS: "Statistic should not be set if list of Metrics is set." (ValidationError,
        // quoted in cloudtools/troposphere#1276); the other members in the same words.
        let set = [
            ("Statistic", req.statistic.is_some()),
            ("ExtendedStatistic", req.extended_statistic.is_some()),
            ("MetricName", req.metric_name.is_some()),
            ("Namespace", req.namespace.is_some()),
            ("Dimensions", req.dimensions.is_some()),
            ("Period", req.period.is_some()),
            ("Unit", req.unit.is_some()),
        ];
        if let Some((member, _)) = set.iter().find(|(_, given)| *given) {
            return Err(validation(format!(
                "{member} should not be set if list of Metrics is set."
            )));
        }
        check_alarm_queries(queries, req.threshold_metric_id.as_deref())?
    } else {
        // AWS answers a missing member of a single-metric alarm with "<Member> must not be
        // null" (ValidationError): MetricName in terraform-provider-aws#11105 and
        // cfn-lint#771, Period in terraform-provider-aws#32227; Namespace in the same words.
        if req.metric_name.is_none() {
            return Err(not_null("MetricName"));
        }
        if req.namespace.is_none() {
            return Err(not_null("Namespace"));
        }
        match (&req.statistic, &req.extended_statistic) {
            (Some(s), None) => {
                if Stat::simple(s).is_none() {
                    return Err(enum_error(s, "statistic", STATISTICS));
                }
            }
            (None, Some(e)) => {
                if Stat::extended(e).is_none() {
                    // UNVERIFIED (moto/LocalStack wording).
                    return Err(invalid_value(format!(
                        "The value {e} for parameter ExtendedStatistic is not supported."
                    )));
                }
            }
            // UNVERIFIED wording.
            _ => {
                return Err(invalid_combination(
                    "Exactly one of Statistic or ExtendedStatistic must be specified.",
                ));
            }
        }
        if req.dimensions.as_ref().is_some_and(|d| d.len() > 30) {
            return Err(invalid_value(
                "The collection Dimensions must not have a size greater than 30.",
            ));
        }
        check_unit(req.unit.as_deref(), "unit")?;
        req.period.ok_or_else(|| not_null("Period"))?
    };
    if !(matches!(period, 10 | 20 | 30) || (period > 0 && period % 60 == 0)) {
        // UNVERIFIED wording.
        return Err(invalid_value(
            "The parameter Period must be 10, 20, 30, or a multiple of 60.",
        ));
    }
    let span = period.saturating_mul(n);
    if period < 3600 && span > 86_400 {
        // UNVERIFIED code; the text is AWS's 2013 one (Eucalyptus copy).
        return Err(invalid_combination(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).",
        ));
    }
    if span > 604_800 {
        return Err(invalid_combination(
            "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800).",
        ));
    }
    if let Some(m) = req.datapoints_to_alarm {
        if m < 1 {
            return Err(validation(format!(
                "1 validation error detected: Value '{m}' at 'datapointsToAlarm' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
        if m > n {
            // UNVERIFIED wording.
            return Err(validation(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
            ));
        }
    }
    let threshold = match req.threshold {
        Some(t) => t,
        None if comparison.is_band() => Num(f64::NAN),
        None => return Err(missing("Threshold")),
    };
    if !threshold.0.is_finite() && !comparison.is_band() {
        return Err(invalid_value(format!(
            "The value {} for parameter Threshold is invalid.",
            super::format::java_double(threshold.0)
        )));
    }
    if MissingData::parse(req.treat_missing_data.as_deref()).is_none() {
        return Err(invalid_value(format!(
            "The value {} is not supported for TreatMissingData parameter. Supported values are [breaching, notBreaching, ignore, missing].",
            req.treat_missing_data.as_deref().unwrap_or_default()
        )));
    }
    if let Some(o) = &req.evaluate_low_sample_count_percentile
        && o != "evaluate"
        && o != "ignore"
    {
        return Err(invalid_value(format!(
            "Option {o} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore."
        )));
    }
    check_actions(
        [
            ("oKActions", &req.ok_actions),
            ("alarmActions", &req.alarm_actions),
            ("insufficientDataActions", &req.insufficient_data_actions),
        ],
        scope,
        false,
    )?;
    if req.tags.as_ref().is_some_and(|t| t.len() > 50) {
        return Err(invalid_value(
            "The collection Tags must not have a size greater than 50.",
        ));
    }
    Ok(())
}

/// The ConfigurationUpdate HistoryData of a metric alarm (keys of AWS's 2014 sample).
fn config_data(kind: &str, a: &MetricAlarm) -> String {
    /// A dimension as HistoryData shows it.
    #[derive(Serialize)]
    struct NameValue<'a> {
        name: &'a str,
        value: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Snapshot<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
        threshold: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        metric_name: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        period: Option<i64>,
        dimensions: Vec<NameValue<'a>>,
        state_value: &'static str,
        alarm_name: &'a str,
        okactions: &'a [String],
        alarm_actions: &'a [String],
        actions_enabled: bool,
        evaluation_periods: i64,
        comparison_operator: &'a str,
        insufficient_data_actions: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        alarm_description: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        statistic: Option<&'a str>,
        alarm_arn: &'a str,
        alarm_configuration_updated_timestamp: String,
        state_updated_timestamp: String,
    }
    let snap = Snapshot {
        namespace: a.namespace.as_deref(),
        threshold: a.threshold,
        metric_name: a.metric_name.as_deref(),
        period: a.period,
        dimensions: a
            .dimensions
            .iter()
            .map(|d| NameValue {
                name: &d.name,
                value: &d.value,
            })
            .collect(),
        state_value: a.core.state_value.as_str(),
        alarm_name: &a.core.alarm_name,
        okactions: &a.core.ok_actions,
        alarm_actions: &a.core.alarm_actions,
        actions_enabled: a.core.actions_enabled,
        evaluation_periods: a.evaluation_periods,
        comparison_operator: &a.comparison_operator,
        insufficient_data_actions: &a.core.insufficient_data_actions,
        alarm_description: a.core.alarm_description.as_deref(),
        statistic: a.statistic.as_deref(),
        alarm_arn: &a.core.alarm_arn,
        alarm_configuration_updated_timestamp: data_date(
            a.core.alarm_configuration_updated_timestamp,
        ),
        state_updated_timestamp: data_date(a.core.state_updated_timestamp),
    };
    let body = serde_json::to_string(&snap).unwrap_or_default();
    let key = match kind {
        "Create" => "createdAlarm",
        "Update" => "updatedAlarm",
        _ => "deletedAlarm",
    };
    format!("{{\"version\":\"1.0\",\"type\":\"{kind}\",\"{key}\":{body}}}")
}

/// A ConfigurationUpdate history item for a metric alarm.
pub fn config_item(kind: &str, a: &MetricAlarm, now: f64) -> HistoryItem {
    let verb = match kind {
        "Create" => "created",
        "Update" => "updated",
        _ => "deleted",
    };
    HistoryItem {
        alarm_name: a.core.alarm_name.clone(),
        alarm_type: "MetricAlarm",
        timestamp: now,
        history_item_type: "ConfigurationUpdate",
        history_summary: format!("Alarm \"{}\" {verb}", a.core.alarm_name),
        history_data: config_data(kind, a),
    }
}

/// PutMetricAlarm: create (INSUFFICIENT_DATA, evaluated at once) or replace the whole
/// configuration of an existing alarm (state kept; tags only apply on create).
pub fn put_metric_alarm(
    ctx: &RequestContext,
    state: &AppState,
    req: PutMetricAlarmInput,
) -> Result<Empty, ApiError> {
    validate(&req, &ctx.scope)?;
    let now = state.clock.now();
    let arn = alarm_arn(&ctx.scope, &req.alarm_name);
    state.stores.with(&ctx.scope, |s| {
        let cw = &mut s.cloudwatch;
        if cw.composites.contains_key(&req.alarm_name) {
            // UNVERIFIED wording: names are unique across alarm types.
            return Err(invalid_value(format!(
                "The alarm name {} is already used by a composite alarm.",
                req.alarm_name
            )));
        }
        let old = cw.alarms.get(&req.alarm_name);
        let settings = AlarmSettings {
            name: &req.alarm_name,
            arn,
            description: req.alarm_description.as_ref(),
            actions_enabled: req.actions_enabled,
            ok_actions: req.ok_actions.as_ref(),
            alarm_actions: req.alarm_actions.as_ref(),
            insufficient_data_actions: req.insufficient_data_actions.as_ref(),
        };
        let core = AlarmCore::put(settings, old.map(|o| &o.core), now);
        let alarm = MetricAlarm {
            core,
            metric_name: req.metric_name.clone(),
            namespace: req.namespace.clone(),
            statistic: req.statistic.clone(),
            extended_statistic: req.extended_statistic.clone(),
            dimensions: req.dimensions.clone().unwrap_or_default(),
            period: req.period,
            unit: req.unit.clone(),
            evaluation_periods: req.evaluation_periods.unwrap_or(1),
            datapoints_to_alarm: req.datapoints_to_alarm,
            threshold: req.threshold.map_or(f64::NAN, |t| t.0),
            comparison_operator: req.comparison_operator.clone().unwrap_or_default(),
            treat_missing_data: req.treat_missing_data.clone(),
            evaluate_low_sample_count_percentile: req.evaluate_low_sample_count_percentile.clone(),
            metrics: req.metrics.clone(),
            threshold_metric_id: req.threshold_metric_id.clone(),
            tags: match old {
                Some(o) => o.tags.clone(),
                None => req.tags.clone().unwrap_or_default(),
            },
            next_evaluation: now,
            metric_key: match (&req.namespace, &req.metric_name) {
                (Some(ns), Some(name)) => Some(MetricKey::new(
                    ns,
                    name,
                    dimension_pairs(req.dimensions.as_deref().unwrap_or_default()),
                )),
                _ => None,
            },
        };
        let kind = if old.is_some() { "Update" } else { "Create" };
        cw.history.push(config_item(kind, &alarm, now));
        cw.alarms.insert(req.alarm_name.clone(), alarm);
        Ok(())
    })?;
    state.touched(Topic::CloudWatch);
    Ok(Empty {})
}
