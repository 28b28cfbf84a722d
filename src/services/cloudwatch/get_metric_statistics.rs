//! GetMetricStatistics, and the time rules it shares with GetMetricData: StartTime rounding by
//! age, the period rules for old data (CloudWatch API Reference, GetMetricStatistics), buckets
//! aligned to the rounded StartTime (as an AWS engineer explained in boto/boto3#3457).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stats::Stat;
use super::store::{MetricKey, SEC_RETENTION};
use super::{
    Dimension, check_unit, dimension_pairs, enum_error, invalid_combination, invalid_value,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::state::AppState;

const MAX_POINTS: i64 = 1440;
const DAY: f64 = 86_400.0;

/// Round a query's StartTime down as AWS does: by its age (minute, 5 minutes, hour), or to the
/// period's own mark for high-resolution periods.
pub fn round_start(start: f64, period: i64, now: f64) -> i64 {
    let s = start.floor() as i64;
    let g = if matches!(period, 1 | 5 | 10 | 20 | 30) {
        period
    } else if now - start < 15.0 * DAY {
        60
    } else if now - start < 63.0 * DAY {
        300
    } else {
        3600
    };
    s.div_euclid(g) * g
}

/// Whether data of this age can be read at this period; otherwise AWS returns no points
/// (not an error).
pub fn period_readable(start: f64, period: i64, now: f64) -> bool {
    let age = now - start;
    if age > 63.0 * DAY {
        period % 3600 == 0
    } else if age > 15.0 * DAY {
        period % 300 == 0
    } else if age > SEC_RETENTION {
        period % 60 == 0
    } else {
        true
    }
}

/// Whether a period is one CloudWatch stores at: 1, 5, 10, 20, 30 or a multiple of 60.
pub fn period_valid(period: i64) -> bool {
    matches!(period, 1 | 5 | 10 | 20 | 30) || (period > 0 && period % 60 == 0)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsInput {
    namespace: String,
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    start_time: f64,
    end_time: f64,
    period: i64,
    statistics: Option<Vec<String>>,
    extended_statistics: Option<Vec<String>>,
    unit: Option<String>,
}

/// A `Datapoint`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Datapoint {
    timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    average: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum: Option<f64>,
    unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistics: Option<BTreeMap<String, f64>>,
}

/// GetMetricStatistics output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsOutput {
    label: String,
    datapoints: Vec<Datapoint>,
}

const SIMPLE: &str = "Maximum, SampleCount, Sum, Minimum, Average";

/// Check StartTime < EndTime, the 1,440-point limit and the period, in AWS's order.
pub fn check_range(start: f64, end: f64, period: i64) -> Result<(), ApiError> {
    if start >= end {
        return Err(invalid_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    if period < 1 {
        return Err(invalid_value(
            "The parameter Period must be greater than 0.",
        ));
    }
    let points = ((end - start) / period as f64).floor() as i64;
    if points > MAX_POINTS {
        return Err(invalid_combination(format!(
            "You have requested up to {points} datapoints, which exceeds the limit of {MAX_POINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    if !period_valid(period) {
        // UNVERIFIED: AWS's wording for a period outside 1, 5, 10, 20, 30 and multiples of 60.
        return Err(invalid_value(
            "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.",
        ));
    }
    Ok(())
}

/// GetMetricStatistics.
pub fn get_metric_statistics(
    ctx: &RequestContext,
    state: &AppState,
    req: GetMetricStatisticsInput,
) -> Result<GetMetricStatisticsOutput, ApiError> {
    let statistics = req.statistics.unwrap_or_default();
    let extended = req.extended_statistics.unwrap_or_default();
    // UNVERIFIED: AWS's text for neither or both (moto's wording).
    if statistics.is_empty() == extended.is_empty() {
        return Err(invalid_combination(
            "Must specify either Statistics or ExtendedStatistics, but not both.",
        ));
    }
    let mut simple = Vec::new();
    for (i, s) in statistics.iter().enumerate() {
        let stat = Stat::simple(s)
            .ok_or_else(|| enum_error(s, &format!("statistics.{}.member", i + 1), SIMPLE))?;
        simple.push(stat);
    }
    let mut percentiles = Vec::new();
    for s in &extended {
        let stat = Stat::extended(s).ok_or_else(|| {
            invalid_value(format!(
                "The value {s} for parameter ExtendedStatistics is not supported."
            ))
        })?;
        percentiles.push((s.clone(), stat));
    }
    check_unit(req.unit.as_deref(), "unit")?;
    check_range(req.start_time, req.end_time, req.period)?;

    let now = state.clock.now();
    let key = MetricKey::new(
        &req.namespace,
        &req.metric_name,
        dimension_pairs(&req.dimensions),
    );
    let start = round_start(req.start_time, req.period, now);
    let end = req.end_time.ceil() as i64;
    let buckets = if period_readable(req.start_time, req.period, now) {
        state.stores.with(&ctx.scope, |s| {
            s.cloudwatch.metrics.buckets(
                &key,
                req.unit.as_deref(),
                start,
                end,
                req.period,
                !percentiles.is_empty(),
            )
        })
    } else {
        Vec::new()
    };
    let mut datapoints = Vec::new();
    for (unit, points) in buckets {
        for (t, agg) in points {
            let pick = |stat: Stat| simple.contains(&stat).then(|| agg.stat(stat)).flatten();
            let ext: BTreeMap<String, f64> = percentiles
                .iter()
                .filter_map(|(name, stat)| agg.stat(*stat).map(|v| (name.clone(), v)))
                .collect();
            datapoints.push(Datapoint {
                timestamp: Timestamp(t as f64),
                sample_count: pick(Stat::SampleCount),
                average: pick(Stat::Average),
                sum: pick(Stat::Sum),
                minimum: pick(Stat::Minimum),
                maximum: pick(Stat::Maximum),
                unit: unit.clone(),
                extended_statistics: (!percentiles.is_empty()).then_some(ext),
            });
        }
    }
    Ok(GetMetricStatisticsOutput {
        label: req.metric_name,
        datapoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_795_838_400.0;

    #[test]
    fn start_rounds_by_age() {
        let t = NOW - 3600.0 + 154.0; // 03:02:34
        assert_eq!(round_start(t, 60, NOW), (NOW - 3600.0 + 120.0) as i64);
        let old = NOW - 20.0 * DAY + 154.0;
        assert_eq!(round_start(old, 300, NOW), (NOW - 20.0 * DAY) as i64);
        let older = NOW - 70.0 * DAY + 1954.0;
        assert_eq!(round_start(older, 3600, NOW), (NOW - 70.0 * DAY) as i64);
        assert_eq!(round_start(NOW - 7.0, 10, NOW), (NOW - 10.0) as i64);
    }

    #[test]
    fn range_errors_in_aws_order() {
        let e = check_range(NOW, NOW, 60).unwrap_err();
        assert_eq!(
            e.message,
            "The parameter StartTime must be less than the parameter EndTime."
        );
        let e = check_range(NOW - DAY, NOW, 1).unwrap_err();
        assert_eq!(e.code, "InvalidParameterCombination");
        assert_eq!(
            e.message,
            "You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        );
        assert!(check_range(NOW - 600.0, NOW, 7).is_err());
        assert!(check_range(NOW - DAY, NOW, 60).is_ok());
        assert!(period_readable(NOW - 600.0, 10, NOW));
        assert!(!period_readable(NOW - 4.0 * 3600.0, 10, NOW));
        assert!(!period_readable(NOW - 20.0 * DAY, 60, NOW));
    }
}
