//! PutMetricData: validation exactly as AWS words it (limits from the CloudWatch API Reference,
//! PutMetricData; messages as AWS returned them in LocalStack's CloudWatch tests recorded
//! against AWS and in GitHub issue reports), then one sample set per datum into the store. All
//! datums are checked before any is stored: a failed call stores nothing.

use serde::Deserialize;

use super::anomaly::Empty;
use super::stats::Agg;
use super::store::MetricKey;
use super::{Dimension, Num, check_unit, dimension_pairs, invalid_combination, invalid_value};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

const MAX_DATUMS: usize = 1000;
const MAX_VALUES: usize = 150;
const MAX_DIMENSIONS: usize = 30;
const PAST: f64 = 14.0 * 86_400.0;
const FUTURE: f64 = 2.0 * 3600.0;

/// One `MetricDatum`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDatum {
    /// MetricName.
    pub metric_name: String,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// Timestamp (epoch seconds); the time of receipt when absent.
    pub timestamp: Option<f64>,
    /// A single value.
    pub value: Option<Num>,
    /// A statistic set.
    pub statistic_values: Option<StatisticSet>,
    /// Values (with `counts`).
    pub values: Option<Vec<Num>>,
    /// Counts for `values` (1 each when absent).
    pub counts: Option<Vec<Num>>,
    /// Unit (`None` when absent).
    pub unit: Option<String>,
    /// 1 (high resolution) or 60.
    pub storage_resolution: Option<i64>,
}

/// `StatisticValues`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticSet {
    /// SampleCount.
    pub sample_count: Num,
    /// Sum.
    pub sum: Num,
    /// Minimum.
    pub minimum: Num,
    /// Maximum.
    pub maximum: Num,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EntityMetricData {
    #[serde(default)]
    metric_data: Vec<MetricDatum>,
}

/// `PutMetricDataInput`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricDataInput {
    namespace: String,
    metric_data: Option<Vec<MetricDatum>>,
    entity_metric_data: Option<Vec<EntityMetricData>>,
}

/// Whether AWS accepts a value: 0, or a magnitude in [2^-360, 2^360]; never NaN or ±Inf.
pub fn value_ok(v: f64) -> bool {
    let a = v.abs();
    v == 0.0 || (a >= 2f64.powi(-360) && a <= 2f64.powi(360))
}

/// A datum check: a failing datum gives one message line.
type Check = fn(&MetricDatum, usize, f64) -> Option<String>;

fn both(n: usize, a: &str, b: &str) -> String {
    format!(
        "The parameters MetricData.member.{n}.{a} and MetricData.member.{n}.{b} are mutually exclusive and you have specified both."
    )
}

/// Checks in the order AWS reports them; each yields (code, per-datum message).
const CHECKS: &[(&str, Check)] = &[
    ("InvalidParameterCombination", |d, n, _| {
        (d.value.is_some() && d.values.is_some()).then(|| both(n, "Value", "Values"))
    }),
    ("InvalidParameterCombination", |d, n, _| {
        (d.value.is_some() && d.statistic_values.is_some())
            .then(|| both(n, "Value", "StatisticValues"))
    }),
    // UNVERIFIED: the same template for Values with StatisticValues.
    ("InvalidParameterCombination", |d, n, _| {
        (d.values.is_some() && d.statistic_values.is_some())
            .then(|| both(n, "Values", "StatisticValues"))
    }),
    ("InvalidParameterValue", |d, n, _| {
        match (&d.values, &d.counts) {
            (Some(v), Some(c)) if v.len() != c.len() => Some(format!(
                "The parameters MetricData.member.{n}.Values and MetricData.member.{n}.Counts must be of the same size."
            )),
            (None, Some(_)) => Some(format!(
                "The parameters MetricData.member.{n}.Values and MetricData.member.{n}.Counts must be of the same size."
            )),
            _ => None,
        }
    }),
    // UNVERIFIED: the collection-size template AWS uses for MetricData.
    ("InvalidParameterValue", |d, n, _| {
        d.values.as_ref().filter(|v| v.len() > MAX_VALUES).map(|_| {
            format!("The collection MetricData.member.{n}.Values must not have a size greater than {MAX_VALUES}.")
        })
    }),
    ("InvalidParameterValue", |d, n, _| {
        (d.dimensions.len() > MAX_DIMENSIONS).then(|| {
            format!("The collection MetricData.member.{n}.Dimensions must not have a size greater than {MAX_DIMENSIONS}.")
        })
    }),
    // UNVERIFIED code; the text is AWS's (botocore#1671).
    ("InvalidParameterValue", |d, n, _| {
        d.storage_resolution.filter(|r| *r != 1 && *r != 60).map(|_| {
            format!("The parameter MetricData.member.{n}.StorageResolution must be a value in the set [ 1, 60 ].")
        })
    }),
    // UNVERIFIED for the future side: AWS may word "2 hours in the future" differently.
    ("InvalidParameterValue", |d, n, now| {
        d.timestamp
            .filter(|t| *t < now - PAST || *t > now + FUTURE)
            .map(|_| {
                format!("The parameter MetricData.member.{n}.Timestamp must specify a time within the past two weeks.")
            })
    }),
    ("InvalidParameterValue", |d, n, _| {
        let bad = |v: f64| (!value_ok(v)).then_some(v);
        let found =
            d.value
                .and_then(|v| bad(v.0))
                .map(|v| (v, "Value".to_owned()))
                .or_else(|| {
                    d.values.iter().flatten().enumerate().find_map(|(i, v)| {
                        bad(v.0).map(|v| (v, format!("Values.member.{}", i + 1)))
                    })
                })
                .or_else(|| {
                    let s = d.statistic_values.as_ref()?;
                    [
                        (s.sample_count, "SampleCount"),
                        (s.sum, "Sum"),
                        (s.minimum, "Minimum"),
                        (s.maximum, "Maximum"),
                    ]
                    .into_iter()
                    .find_map(|(v, name)| bad(v.0).map(|v| (v, format!("StatisticValues.{name}"))))
                });
        found.map(|(v, path)| {
            format!(
                "The value {} for parameter MetricData.member.{n}.{path} is invalid.",
                super::format::java_double(v)
            )
        })
    }),
];

/// The samples a valid datum contributes.
fn samples(d: &MetricDatum) -> Agg {
    if let Some(v) = d.value {
        return Agg::value(v.0);
    }
    if let Some(s) = &d.statistic_values {
        return Agg::set(s.sample_count.0, s.sum.0, s.minimum.0, s.maximum.0);
    }
    if let Some(values) = &d.values {
        let pairs: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.0, d.counts.as_ref().map_or(1.0, |c| c[i].0)))
            .collect();
        return Agg::values(&pairs);
    }
    // UNVERIFIED: a datum with no value at all is accepted and stores nothing.
    Agg::values(&[])
}

/// Validate a whole request's datums; `Ok` means every datum may be stored.
pub fn validate(namespace: &str, data: &[MetricDatum], now: f64) -> Result<(), ApiError> {
    if namespace.starts_with("AWS/") {
        return Err(invalid_value(
            "The value AWS/ for parameter Namespace is invalid.",
        ));
    }
    if data.len() > MAX_DATUMS {
        return Err(invalid_value(format!(
            "The collection MetricData must not have a size greater than {MAX_DATUMS}."
        )));
    }
    for (code, check) in CHECKS {
        let lines: Vec<String> = data
            .iter()
            .enumerate()
            .filter_map(|(i, d)| check(d, i + 1, now))
            .collect();
        if !lines.is_empty() {
            let msg = lines.join("\n");
            return Err(if *code == "InvalidParameterCombination" {
                invalid_combination(msg)
            } else {
                invalid_value(msg)
            });
        }
    }
    for (i, d) in data.iter().enumerate() {
        check_unit(
            d.unit.as_deref(),
            &format!("metricData.{}.member.unit", i + 1),
        )?;
        if let Some(c) = d
            .counts
            .iter()
            .flatten()
            .find(|c| c.0.is_nan() || c.0 < 0.0)
        {
            return Err(invalid_value(format!(
                "The value {} for parameter MetricData.member.{}.Counts is invalid.",
                super::format::java_double(c.0),
                i + 1
            )));
        }
    }
    Ok(())
}

/// Store validated datums (used by the handler and by Updraft's own metric publishers).
pub fn store_data(
    store: &mut super::store::MetricStore,
    namespace: &str,
    data: &[MetricDatum],
    now: f64,
) {
    for d in data {
        let key = MetricKey::new(namespace, &d.metric_name, dimension_pairs(&d.dimensions));
        let unit = d.unit.as_deref().unwrap_or("None");
        let ts = d.timestamp.unwrap_or(now);
        store.put(
            &key,
            unit,
            ts,
            &samples(d),
            d.storage_resolution == Some(1),
            now,
        );
    }
    store.prune(now);
}

/// PutMetricData.
pub fn put_metric_data(
    ctx: &RequestContext,
    state: &AppState,
    req: PutMetricDataInput,
) -> Result<Empty, ApiError> {
    let mut data = req.metric_data.unwrap_or_default();
    for e in req.entity_metric_data.unwrap_or_default() {
        data.extend(e.metric_data);
    }
    let now = state.clock.now();
    validate(&req.namespace, &data, now)?;
    state.stores.with(&ctx.scope, |s| {
        store_data(&mut s.cloudwatch.metrics, &req.namespace, &data, now);
    });
    // Alarms read the store at their next minute; no need to wake the evaluator early.
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const NOW: f64 = 1_795_838_400.0;

    fn datums(v: Value) -> Vec<MetricDatum> {
        serde_json::from_value(v).unwrap()
    }

    fn err(ns: &str, v: Value) -> ApiError {
        validate(ns, &datums(v), NOW).unwrap_err()
    }

    #[test]
    fn aws_namespaces_are_refused() {
        let e = err("AWS/EC2", json!([{"MetricName": "m", "Value": 1}]));
        assert_eq!(e.code, "InvalidParameterValue");
        assert_eq!(
            e.message,
            "The value AWS/ for parameter Namespace is invalid."
        );
    }

    #[test]
    fn datum_errors_use_aws_texts_and_join_lines() {
        let e = err("A", json!([{"MetricName": "m", "Value": 1, "Values": [1]}]));
        assert_eq!(e.code, "InvalidParameterCombination");
        assert_eq!(
            e.message,
            "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both."
        );
        let e = err(
            "A",
            json!([{"MetricName": "m", "Values": [1, 2], "Counts": [1]}]),
        );
        assert!(
            e.message.ends_with("must be of the same size."),
            "{}",
            e.message
        );
        let old = NOW - 15.0 * 86_400.0;
        let e = err(
            "A",
            json!([{"MetricName": "m", "Value": 1, "Timestamp": old}, {"MetricName": "m", "Value": 1, "Timestamp": old}]),
        );
        assert_eq!(
            e.message,
            "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks.\nThe parameter MetricData.member.2.Timestamp must specify a time within the past two weeks."
        );
        let e = err(
            "A",
            json!([{"MetricName": "m", "Value": 1, "StorageResolution": 300}]),
        );
        assert_eq!(
            e.message,
            "The parameter MetricData.member.1.StorageResolution must be a value in the set [ 1, 60 ]."
        );
        let e = err("A", json!([{"MetricName": "m", "Value": "NaN"}]));
        assert_eq!(
            e.message,
            "The value NaN for parameter MetricData.member.1.Value is invalid."
        );
        let e = err("A", json!([{"MetricName": "m", "Value": 2f64.powi(361)}]));
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(validate("A", &datums(json!([{"MetricName": "m", "Value": 2f64.powi(360)}, {"MetricName": "m", "Value": 0}])), NOW).is_ok());
        let many: Vec<Value> = (0..1001)
            .map(|_| json!({"MetricName": "m", "Value": 1}))
            .collect();
        assert_eq!(
            err("A", Value::Array(many)).message,
            "The collection MetricData must not have a size greater than 1000."
        );
        let e = err(
            "A",
            json!([{"MetricName": "m", "Value": 1, "Unit": "Furlongs"}]),
        );
        assert_eq!(e.code, "ValidationError");
    }
}
