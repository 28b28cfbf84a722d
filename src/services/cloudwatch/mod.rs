//! The `cloudwatch` service: metrics, alarms and dashboards.
//!
//! - [`store`] keeps metric data with AWS's retention tiers; [`stats`] computes statistics.
//! - [`put_metric_data`], [`get_metric_statistics`], [`get_metric_data`] and [`list_metrics`]
//!   are the metric operations.
//! - [`alarms`], [`put_alarm`], [`describe`] and [`composite`] hold the alarm operations;
//!   [`evaluate`] is the pure decision an evaluation makes, [`tick`] applies it (run every
//!   minute by `controllers::alarm_evaluator`); [`history`] and [`actions`] record what
//!   happened; [`math`] is metric math ([`math_fns`] its array functions, [`search`] SEARCH,
//!   [`insights`] Metrics Insights, [`sources`] where they read); [`anomaly`] holds anomaly
//!   detectors and the band model; [`tags`] tags alarms.
//! - [`dashboards`] are account-global JSON documents.
//!
//! Every operation of the model not listed in [`TYPED_OPERATIONS`] answers `NotImplemented`.

pub mod actions;
pub mod alarms;
pub mod anomaly;
pub mod composite;
pub mod composite_data;
pub mod dashboards;
pub mod describe;
pub mod errors;
pub mod evaluate;
pub mod format;
pub mod get_metric_data;
pub mod get_metric_statistics;
pub mod history;
pub mod insights;
pub mod list_metrics;
pub mod math;
pub mod math_fns;
pub mod notify;
pub mod notify_email;
pub mod packed;
pub mod put_alarm;
pub mod put_metric_data;
pub mod search;
pub mod sources;
pub mod stats;
pub mod store;
pub mod suppression;
pub mod tags;
pub mod tick;
pub mod trimmed;
pub mod views;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::{Handler, Replying, Typed, TypedOperation};
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use errors::CloudWatchError;

/// Operations still answering with value trees: none.
pub const OPERATIONS: &[(&str, Handler)] = &[];

/// Implemented operations: all typed (see `services::Typed` and `services::Replying`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    ("DeleteAlarms", &Typed(alarms::delete_alarms)),
    (
        "DeleteAnomalyDetector",
        &Typed(anomaly::delete_anomaly_detector),
    ),
    ("DeleteDashboards", &Typed(dashboards::delete_dashboards)),
    (
        "DescribeAlarmHistory",
        &Typed(history::describe_alarm_history),
    ),
    ("DescribeAlarms", &Replying(describe::describe_alarms)),
    (
        "DescribeAlarmsForMetric",
        &Replying(describe::describe_alarms_for_metric),
    ),
    (
        "DescribeAnomalyDetectors",
        &Typed(anomaly::describe_anomaly_detectors),
    ),
    ("DisableAlarmActions", &Typed(alarms::disable_alarm_actions)),
    ("EnableAlarmActions", &Typed(alarms::enable_alarm_actions)),
    ("GetDashboard", &Typed(dashboards::get_dashboard)),
    ("GetMetricData", &Typed(get_metric_data::get_metric_data)),
    (
        "GetMetricStatistics",
        &Typed(get_metric_statistics::get_metric_statistics),
    ),
    ("ListDashboards", &Typed(dashboards::list_dashboards)),
    ("ListMetrics", &Typed(list_metrics::list_metrics)),
    ("ListTagsForResource", &Typed(tags::list_tags_for_resource)),
    ("PutAnomalyDetector", &Typed(anomaly::put_anomaly_detector)),
    ("PutCompositeAlarm", &Typed(composite::put_composite_alarm)),
    ("PutDashboard", &Typed(dashboards::put_dashboard)),
    ("PutMetricAlarm", &Typed(put_alarm::put_metric_alarm)),
    ("PutMetricData", &Typed(put_metric_data::put_metric_data)),
    ("SetAlarmState", &Typed(alarms::set_alarm_state)),
    ("TagResource", &Typed(tags::tag_resource)),
    ("UntagResource", &Typed(tags::untag_resource)),
];

/// CloudWatch's data in one account and region.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct CloudWatchStore {
    /// Metric data.
    pub metrics: store::MetricStore,
    /// Metric alarms by name.
    pub alarms: BTreeMap<String, alarms::MetricAlarm>,
    /// Composite alarms by name.
    pub composites: BTreeMap<String, composite::CompositeAlarm>,
    /// Alarm history, oldest first (kept two weeks, bounded in size).
    pub history: history::History,
    /// Anomaly detectors, in creation order.
    pub anomaly_detectors: Vec<anomaly::Detector>,
}

/// A double as the value tree carries it: a number, or `"NaN"` / `"Infinity"` /
/// `"-Infinity"` for the non-finite values clients can send (AWS refuses them, so handlers
/// must see them to say so).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A direct visitor (no untagged-enum buffering): PutMetricData reads many of these.
        struct NumVisitor;
        impl serde::de::Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, NaN, Infinity or -Infinity")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Num, E> {
                match v {
                    "NaN" => Ok(Num(f64::NAN)),
                    "Infinity" => Ok(Num(f64::INFINITY)),
                    "-Infinity" => Ok(Num(f64::NEG_INFINITY)),
                    other => Err(E::custom(format!("not a number: {other}"))),
                }
            }
        }
        d.deserialize_any(NumVisitor)
    }
}

/// A metric dimension.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// Dimension name.
    pub name: String,
    /// Dimension value.
    pub value: String,
}

/// Dimensions as store pairs.
pub fn dimension_pairs(dims: &[Dimension]) -> Vec<(String, String)> {
    dims.iter()
        .map(|d| (d.name.clone(), d.value.clone()))
        .collect()
}

/// Store pairs as dimensions.
pub fn dimensions_of(pairs: &[(String, String)]) -> Vec<Dimension> {
    pairs
        .iter()
        .map(|(n, v)| Dimension {
            name: n.clone(),
            value: v.clone(),
        })
        .collect()
}

/// The `StandardUnit` enum (botocore does not check enums, so the server must).
pub const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// `InvalidParameterValue` (400).
pub fn invalid_value(message: impl Into<String>) -> ApiError {
    CloudWatchError::InvalidParameterValue.with(message)
}

/// `InvalidParameterCombination` (400).
pub fn invalid_combination(message: impl Into<String>) -> ApiError {
    CloudWatchError::InvalidParameterCombination.with(message)
}

/// `MissingParameter` (400), worded as the codec words it for CloudWatch.
pub fn missing(param: &str) -> ApiError {
    CloudWatchError::MissingParameter.with(format!("The parameter {param} is required."))
}

/// `ValidationError` (400): the one helper all services share.
pub use crate::services::errors::validation;

/// AWS's framework text for an enum member outside its set.
pub fn enum_error(value: &str, path: &str, allowed: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
    ))
}

/// Check a `Unit` against the enum.
// UNVERIFIED: AWS's text for an unknown unit; the framework enum template is the likely one.
pub fn check_unit(unit: Option<&str>, path: &str) -> Result<(), ApiError> {
    match unit {
        Some(u) if !UNITS.contains(&u) => Err(enum_error(u, path, &UNITS.join(", "))),
        _ => Ok(()),
    }
}

/// `InvalidNextToken` (400).
pub fn invalid_token() -> ApiError {
    CloudWatchError::InvalidNextToken.with("The service couldn't process the NextToken.")
}

/// The ARN of an alarm.
pub fn alarm_arn(scope: &crate::state::Scope, name: &str) -> String {
    crate::state::ids::arn(
        "cloudwatch",
        &scope.region,
        &scope.account,
        &format!("alarm:{name}"),
    )
}

/// Seconds since the epoch rounded down to the minute.
pub fn floor_minute(t: f64) -> f64 {
    (t / 60.0).floor() * 60.0
}
