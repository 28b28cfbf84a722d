//! Anomaly detection: the detectors (PutAnomalyDetector, DescribeAnomalyDetectors,
//! DeleteAnomalyDetector) and the band model behind `ANOMALY_DETECTION_BAND(m, k)`.
//!
//! The model (documented in the README) is a plain seasonal mean and deviation, computed
//! from the metric's own stored values at the query's statistic and period, never from the
//! point it judges: for a period starting at `t`,
//! - **seasonal**: the values in the same half hour of the week one and two weeks earlier
//!   (`t − 7 d ± 30 min`, `t − 14 d ± 30 min`), when there are at least 3;
//! - otherwise **trailing**: every value in `[t − 14 d, t)`, when there are at least 3;
//! - otherwise no band point for `t`.
//!
//! The band is `mean ± k · σ` (σ the population standard deviation), with σ at least 1 % of
//! |mean| (and 1e-9) so that a perfectly flat metric still has a band. Values in a
//! detector's `ExcludedTimeRanges` are left out of the model.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::CloudWatchError;
use super::get_metric_data::MetricDataQuery;
use super::math::Series;
use super::stats::Stat;
use super::{Dimension, dimension_pairs, invalid_value, missing, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::services::paging::{Paging, page};
use crate::state::AppState;

const WEEK: i64 = 7 * 86_400;
const HALF_HOUR: i64 = 1800;
/// How far back the model looks.
pub const HISTORY: i64 = 2 * WEEK;
const MIN_POINTS: usize = 3;

/// `Range`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Range {
    /// StartTime.
    #[serde(serialize_with = "timestamp")]
    pub start_time: f64,
    /// EndTime.
    #[serde(serialize_with = "timestamp")]
    pub end_time: f64,
}

fn timestamp<S: serde::Serializer>(t: &f64, s: S) -> Result<S::Ok, S::Error> {
    // A snapshot keeps the number, which is what `Deserialize` reads back.
    if crate::state::persist::fields::is_persisting() {
        return s.serialize_f64(*t);
    }
    Timestamp(*t).serialize(s)
}

/// `AnomalyDetectorConfiguration`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Configuration {
    /// ExcludedTimeRanges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_time_ranges: Vec<Range>,
    /// MetricTimezone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_timezone: Option<String>,
}

/// `SingleMetricAnomalyDetector`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct SingleMetric {
    /// AccountId.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// MetricName.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// Stat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
}

/// `MetricMathAnomalyDetector`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricMath {
    /// MetricDataQueries.
    #[serde(default)]
    pub metric_data_queries: Vec<MetricDataQuery>,
}

/// A stored detector, as `AnomalyDetector` on the wire.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Detector {
    /// Namespace (deprecated top-level copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// MetricName (deprecated top-level copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// Dimensions (deprecated top-level copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Vec<Dimension>>,
    /// Stat (deprecated top-level copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    /// Configuration.
    pub configuration: Configuration,
    /// StateValue.
    #[serde(deserialize_with = "crate::state::persist::fields::static_str")]
    pub state_value: crate::state::persist::fields::StaticStr,
    /// MetricCharacteristics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_characteristics: Option<Value>,
    /// SingleMetricAnomalyDetector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_metric_anomaly_detector: Option<SingleMetric>,
    /// MetricMathAnomalyDetector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_math_anomaly_detector: Option<MetricMath>,
}

impl Detector {
    /// Whether this is the single-metric detector of (namespace, name, dims, stat).
    pub fn is_for(&self, namespace: &str, name: &str, dims: &[Dimension], stat: &str) -> bool {
        self.single_metric_anomaly_detector
            .as_ref()
            .is_some_and(|s| {
                let mut a = dimension_pairs(&s.dimensions);
                let mut b = dimension_pairs(dims);
                a.sort();
                b.sort();
                s.namespace.as_deref() == Some(namespace)
                    && s.metric_name.as_deref() == Some(name)
                    && s.stat.as_deref() == Some(stat)
                    && a == b
            })
    }

    fn same(&self, other: &Detector) -> bool {
        match (
            &self.single_metric_anomaly_detector,
            &other.single_metric_anomaly_detector,
        ) {
            (Some(s), Some(_)) => other.is_for(
                s.namespace.as_deref().unwrap_or_default(),
                s.metric_name.as_deref().unwrap_or_default(),
                &s.dimensions,
                s.stat.as_deref().unwrap_or_default(),
            ),
            (None, None) => {
                serde_json::to_value(&self.metric_math_anomaly_detector).ok()
                    == serde_json::to_value(&other.metric_math_anomaly_detector).ok()
            }
            _ => false,
        }
    }
}

/// PutAnomalyDetector / DeleteAnomalyDetector input (the deprecated top-level fields are the
/// single-metric detector's).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectorInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<Vec<Dimension>>,
    stat: Option<String>,
    configuration: Option<Configuration>,
    metric_characteristics: Option<Value>,
    single_metric_anomaly_detector: Option<SingleMetric>,
    metric_math_anomaly_detector: Option<MetricMath>,
}

/// An empty output.
#[derive(Debug, Serialize)]
pub struct Empty {}

fn detector_of(req: DetectorInput) -> Result<Detector, ApiError> {
    let legacy = req.namespace.is_some()
        || req.metric_name.is_some()
        || req.dimensions.is_some()
        || req.stat.is_some();
    let single = match (req.single_metric_anomaly_detector, legacy) {
        (Some(_), true) => {
            // UNVERIFIED wording.
            return Err(super::invalid_combination(
                "The deprecated Namespace, MetricName, Dimensions and Stat parameters cannot be combined with SingleMetricAnomalyDetector.",
            ));
        }
        (Some(s), false) => Some(s),
        (None, true) => Some(SingleMetric {
            account_id: None,
            namespace: req.namespace,
            metric_name: req.metric_name,
            dimensions: req.dimensions.unwrap_or_default(),
            stat: req.stat,
        }),
        (None, false) => None,
    };
    match (&single, &req.metric_math_anomaly_detector) {
        (Some(s), None) => {
            if s.namespace.is_none() {
                return Err(missing("Namespace"));
            }
            if s.metric_name.is_none() {
                return Err(missing("MetricName"));
            }
            let stat = s.stat.as_deref().ok_or_else(|| missing("Stat"))?;
            if Stat::parse(stat).is_none() {
                return Err(invalid_value(format!(
                    "The value {stat} for parameter Stat is not a valid statistic."
                )));
            }
        }
        (None, Some(m)) => {
            super::get_metric_data::check_queries(&m.metric_data_queries)?;
        }
        _ => {
            // UNVERIFIED wording.
            return Err(super::invalid_combination(
                "Exactly one of SingleMetricAnomalyDetector or MetricMathAnomalyDetector must be specified.",
            ));
        }
    }
    let configuration = req.configuration.unwrap_or_default();
    if configuration
        .excluded_time_ranges
        .iter()
        .any(|r| r.start_time >= r.end_time)
    {
        return Err(invalid_value(
            "The StartTime of an excluded time range must be before its EndTime.",
        ));
    }
    let flat = single.clone().unwrap_or_default();
    Ok(Detector {
        namespace: flat.namespace,
        metric_name: flat.metric_name,
        dimensions: single.as_ref().map(|s| s.dimensions.clone()),
        stat: flat.stat,
        configuration,
        state_value: "TRAINED",
        metric_characteristics: req.metric_characteristics,
        single_metric_anomaly_detector: single,
        metric_math_anomaly_detector: req.metric_math_anomaly_detector,
    })
}

/// PutAnomalyDetector: create or replace the detector of a metric and stat (or a math
/// expression). Bands need no detector; one only adds excluded time ranges.
pub fn put_anomaly_detector(
    ctx: &RequestContext,
    state: &AppState,
    req: DetectorInput,
) -> Result<Empty, ApiError> {
    let d = detector_of(req)?;
    state.stores.with(&ctx.scope, |s| {
        let list = &mut s.cloudwatch.anomaly_detectors;
        list.retain(|o| !o.same(&d));
        list.push(d);
    });
    Ok(Empty {})
}

/// DeleteAnomalyDetector.
pub fn delete_anomaly_detector(
    ctx: &RequestContext,
    state: &AppState,
    req: DetectorInput,
) -> Result<Empty, ApiError> {
    let d = detector_of(req)?;
    state.stores.with(&ctx.scope, |s| {
        let list = &mut s.cloudwatch.anomaly_detectors;
        let before = list.len();
        list.retain(|o| !o.same(&d));
        if list.len() == before {
            return Err(CloudWatchError::ResourceNotFoundException
                .with("No anomaly detector found for the given metric and stat."));
        }
        Ok(Empty {})
    })
}

/// DescribeAnomalyDetectors input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    next_token: Option<String>,
    max_results: Option<i64>,
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<Vec<Dimension>>,
    anomaly_detector_types: Vec<String>,
}

/// DescribeAnomalyDetectors output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeOutput {
    anomaly_detectors: Vec<Detector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// DescribeAnomalyDetectors: filtered by metric and type, paged.
pub fn describe_anomaly_detectors(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<DescribeOutput, ApiError> {
    if let Some(bad) = req
        .anomaly_detector_types
        .iter()
        .find(|t| !matches!(t.as_str(), "SINGLE_METRIC" | "METRIC_MATH"))
    {
        return Err(validation(format!(
            "1 validation error detected: Value '[{bad}]' at 'anomalyDetectorTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [SINGLE_METRIC, METRIC_MATH]]"
        )));
    }
    if req.max_results.is_some_and(|m| !(1..=100).contains(&m)) {
        return Err(invalid_value(
            "The parameter MaxResults must be between 1 and 100.",
        ));
    }
    let max = req.max_results.unwrap_or(100) as usize;
    let want = |t: &str| {
        req.anomaly_detector_types.is_empty() || req.anomaly_detector_types.iter().any(|x| x == t)
    };
    let (anomaly_detectors, next_token) = state.stores.with(&ctx.scope, |s| {
        let listed = s.cloudwatch.anomaly_detectors.iter().filter(|d| {
            match &d.single_metric_anomaly_detector {
                Some(m) => {
                    want("SINGLE_METRIC")
                        && req
                            .namespace
                            .as_ref()
                            .is_none_or(|n| m.namespace.as_ref() == Some(n))
                        && req
                            .metric_name
                            .as_ref()
                            .is_none_or(|n| m.metric_name.as_ref() == Some(n))
                        && req
                            .dimensions
                            .as_ref()
                            .is_none_or(|want| want.iter().all(|w| m.dimensions.contains(w)))
                }
                None => {
                    want("METRIC_MATH")
                        && req.namespace.is_none()
                        && req.metric_name.is_none()
                        && req.dimensions.is_none()
                }
            }
        });
        page(
            listed.cloned(),
            req.next_token.as_deref(),
            max,
            Paging::LENIENT_OFFSET,
        )
        .map_err(|_| super::invalid_token())
    })?;
    Ok(DescribeOutput {
        anomaly_detectors,
        next_token,
    })
}

/// The model's band at each of `at` from the metric's values `history` (which may include
/// the points judged; the model never uses a point at or after the time it judges).
pub fn band(history: &Series, at: &[i64], k: f64, excluded: &[Range]) -> (Series, Series) {
    let pts: Vec<(i64, f64)> = history
        .iter()
        .filter(|(t, _)| {
            !excluded
                .iter()
                .any(|r| (**t as f64) >= r.start_time && (**t as f64) < r.end_time)
        })
        .map(|(t, v)| (*t, *v))
        .collect();
    let mut sum = vec![0.0];
    let mut sq = vec![0.0];
    for (_, v) in &pts {
        sum.push(sum[sum.len() - 1] + v);
        sq.push(sq[sq.len() - 1] + v * v);
    }
    let idx = |t: i64| pts.partition_point(|(p, _)| *p < t);
    let stats = |ranges: &[(usize, usize)]| {
        let n: usize = ranges.iter().map(|(a, b)| b - a).sum();
        let s: f64 = ranges.iter().map(|(a, b)| sum[*b] - sum[*a]).sum();
        let q: f64 = ranges.iter().map(|(a, b)| sq[*b] - sq[*a]).sum();
        (n, s, q)
    };
    let (mut lower, mut upper) = (Series::new(), Series::new());
    for &t in at {
        let seasonal: Vec<(usize, usize)> = [WEEK, 2 * WEEK]
            .iter()
            .map(|w| (idx(t - w - HALF_HOUR), idx(t - w + HALF_HOUR)))
            .collect();
        let (mut n, mut s, mut q) = stats(&seasonal);
        if n < MIN_POINTS {
            (n, s, q) = stats(&[(idx(t - HISTORY), idx(t))]);
        }
        if n < MIN_POINTS {
            continue;
        }
        let mean = s / n as f64;
        let var = (q / n as f64 - mean * mean).max(0.0);
        let sigma = var.sqrt().max(mean.abs() * 0.01).max(1e-9);
        lower.insert(t, mean - k * sigma);
        upper.insert(t, mean + k * sigma);
    }
    (lower, upper)
}
