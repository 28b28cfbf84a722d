//! GetPredictiveScalingForecast: the load and capacity forecast of a `PredictiveScaling`
//! policy, computed from the group's metric history in CloudWatch.
//!
//! The model (deliberately simple and reproducible, not AWS's machine-learned one):
//! 1. **Load history.** The load metric of each `MetricSpecification` (the predefined pair's or
//!    load metric's: `CPUUtilization`, `NetworkIn`, `NetworkOut` of `AWS/EC2` by
//!    `AutoScalingGroupName`, or `RequestCount` of `AWS/ApplicationELB` by `TargetGroup`; a
//!    customized load metric's first `MetricStat`) is read minute by minute for the 14 days
//!    before now. A minute's load is the Sum over the group (total CPU of all instances, total
//!    requests); an hour's load is the mean of its minutes that have data.
//! 2. **Daily seasonality.** The forecast for an hour is the mean load of the same hour of the
//!    day (UTC) over those days; an hour of the day with no history takes the mean of all
//!    history. No history at all gives an empty forecast (AWS needs 24 hours of data first).
//! 3. **Capacity.** Each hour's capacity is `ceil(load / TargetValue)` (the target is per
//!    instance), the largest over the specifications, kept within the group's `MinSize` and
//!    `MaxSize` (with `MaxCapacityBreachBehavior` `IncreaseMaxCapacity`, up to `MaxSize` plus
//!    `MaxCapacityBuffer` percent).
//!
//! Timestamps are hourly from `StartTime` (rounded down to the hour) to `EndTime`. The policy's
//! `Mode` is stored and described; forecasts are not acted on (`ForecastAndScale` does not
//! change the group's capacity).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::store::{Group, Policy};
use super::validation;
use super::views::Kept;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::cloudwatch::store::{MetricKey, MetricStore};
use crate::state::AppState;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// How far back the history is read (days).
const HISTORY_DAYS: i64 = 14;
/// Longest forecast window AWS accepts (30 days).
const MAX_WINDOW: f64 = 30.0 * 86_400.0;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ForecastInput {
    auto_scaling_group_name: String,
    policy_name: String,
    start_time: Option<f64>,
    end_time: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoadOut {
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
    metric_specification: Kept,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CapacityOut {
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
}

/// `GetPredictiveScalingForecastAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForecastOut {
    load_forecast: Vec<LoadOut>,
    capacity_forecast: CapacityOut,
    update_time: Timestamp,
}

/// Check a `PredictiveScalingConfiguration` at PutScalingPolicy: at least one metric
/// specification, each with a `TargetValue` above zero and a metric to forecast.
pub fn check_config(config: &Value) -> Result<(), ApiError> {
    let specs = config
        .get("MetricSpecifications")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| validation("MetricSpecifications must contain at least one element."))?;
    for spec in specs {
        let target = spec.get("TargetValue").and_then(Value::as_f64);
        if !target.is_some_and(|t| t > 0.0) {
            return Err(validation("TargetValue must be greater than 0."));
        }
        if load_metric(spec, "").is_none() {
            return Err(validation(
                "A predictive scaling metric specification needs a predefined metric pair, a load metric or a customized load metric.",
            ));
        }
    }
    Ok(())
}

/// The load metric of one specification for group `group`: (namespace, name, dimensions).
fn load_metric(spec: &Value, group: &str) -> Option<MetricKey> {
    let predefined = spec
        .get("PredefinedMetricPairSpecification")
        .or_else(|| spec.get("PredefinedLoadMetricSpecification"));
    if let Some(p) = predefined {
        let kind = p.get("PredefinedMetricType")?.as_str()?;
        let asg = || vec![("AutoScalingGroupName".to_owned(), group.to_owned())];
        return Some(match kind {
            "ASGCPUUtilization" | "ASGTotalCPUUtilization" => {
                MetricKey::new("AWS/EC2", "CPUUtilization", asg())
            }
            "ASGNetworkIn" | "ASGTotalNetworkIn" => MetricKey::new("AWS/EC2", "NetworkIn", asg()),
            "ASGNetworkOut" | "ASGTotalNetworkOut" => {
                MetricKey::new("AWS/EC2", "NetworkOut", asg())
            }
            "ALBRequestCount" | "ALBTargetGroupRequestCount" => {
                let label = p.get("ResourceLabel").and_then(Value::as_str)?;
                let (_, tg) = label.split_once("/targetgroup/")?;
                let dims = vec![("TargetGroup".to_owned(), format!("targetgroup/{tg}"))];
                MetricKey::new("AWS/ApplicationELB", "RequestCount", dims)
            }
            _ => return None,
        });
    }
    let queries = spec
        .pointer("/CustomizedLoadMetricSpecification/MetricDataQueries")?
        .as_array()?;
    let metric = queries
        .iter()
        .find_map(|q| q.pointer("/MetricStat/Metric"))?;
    let dims = metric
        .get("Dimensions")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| {
                    Some((
                        x.get("Name")?.as_str()?.to_owned(),
                        x.get("Value")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(MetricKey::new(
        metric.get("Namespace")?.as_str()?,
        metric.get("MetricName")?.as_str()?,
        dims,
    ))
}

/// Mean load per hour of the day (0–23) over the history, and the mean of all hours.
fn daily_profile(
    metrics: &MetricStore,
    key: &MetricKey,
    now: f64,
) -> Option<([Option<f64>; 24], f64)> {
    let end = (now.floor() as i64).div_euclid(60) * 60;
    let start = end - HISTORY_DAYS * DAY;
    let mut per_hour: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for (_, buckets) in metrics.buckets(key, None, start, end, 60, false) {
        for (t, agg) in buckets {
            let Some(sum) = agg.stat(crate::services::cloudwatch::stats::Stat::Sum) else {
                continue;
            };
            let e = per_hour.entry(t.div_euclid(HOUR) * HOUR).or_default();
            e.0 += sum;
            e.1 += 1.0;
        }
    }
    if per_hour.is_empty() {
        return None;
    }
    let mut by_hour_of_day = [(0.0, 0.0); 24];
    let mut all = (0.0, 0.0);
    for (hour, (sum, minutes)) in per_hour {
        let load = sum / minutes;
        let slot = &mut by_hour_of_day[(hour.rem_euclid(DAY) / HOUR) as usize];
        slot.0 += load;
        slot.1 += 1.0;
        all.0 += load;
        all.1 += 1.0;
    }
    let profile = by_hour_of_day.map(|(s, n)| (n > 0.0).then(|| s / n));
    Some((profile, all.0 / all.1))
}

/// The capacity bound a forecast keeps to.
fn capacity_ceiling(g: &Group, config: &Value) -> f64 {
    let max = g.max_size as f64;
    if config
        .get("MaxCapacityBreachBehavior")
        .and_then(Value::as_str)
        == Some("IncreaseMaxCapacity")
    {
        let buffer = config
            .get("MaxCapacityBuffer")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        return (max * (1.0 + buffer / 100.0)).ceil();
    }
    max
}

/// The forecast of `policy` over hourly `hours` (see the module's model).
fn compute(
    metrics: &MetricStore,
    g: &Group,
    config: &Value,
    hours: &[i64],
    now: f64,
) -> (Vec<LoadOut>, Vec<f64>) {
    let specs = config
        .get("MetricSpecifications")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut loads = Vec::new();
    let mut capacity: Vec<Option<f64>> = vec![None; hours.len()];
    for spec in specs {
        let profile = load_metric(&spec, &g.name).and_then(|k| daily_profile(metrics, &k, now));
        let target = spec
            .get("TargetValue")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let values: Vec<f64> = match profile {
            Some((by_hour, mean)) => hours
                .iter()
                .map(|h| by_hour[(h.rem_euclid(DAY) / HOUR) as usize].unwrap_or(mean))
                .collect(),
            None => Vec::new(),
        };
        if target > 0.0 {
            for (c, v) in capacity.iter_mut().zip(&values) {
                let need = (v / target).ceil();
                *c = Some(c.map_or(need, |x: f64| x.max(need)));
            }
        }
        let timestamps = hours[..values.len()]
            .iter()
            .map(|h| Timestamp(*h as f64))
            .collect();
        loads.push(LoadOut {
            timestamps,
            values,
            metric_specification: Kept::new("PredictiveScalingMetricSpecification", spec),
        });
    }
    let ceiling = capacity_ceiling(g, config);
    let capacity = capacity
        .into_iter()
        .map_while(|c| c.map(|c| c.clamp(g.min_size as f64, ceiling.max(g.min_size as f64))))
        .collect();
    (loads, capacity)
}

fn find<'a>(mut policies: impl Iterator<Item = &'a Policy>, name: &str) -> Option<&'a Policy> {
    policies.find(|p| p.name == name || p.arn == name)
}

/// GetPredictiveScalingForecast.
pub fn get_predictive_scaling_forecast(
    ctx: &RequestContext,
    state: &AppState,
    req: ForecastInput,
) -> Result<ForecastOut, ApiError> {
    let (Some(start), Some(end)) = (req.start_time, req.end_time) else {
        return Err(validation("StartTime and EndTime are required."));
    };
    if end <= start {
        return Err(validation("EndTime must be after StartTime."));
    }
    if end - start > MAX_WINDOW {
        // UNVERIFIED wording.
        return Err(validation(
            "The time range between StartTime and EndTime must not exceed 30 days.",
        ));
    }
    let now = state.clock.now();
    let first = (start.floor() as i64).div_euclid(HOUR) * HOUR;
    let hours: Vec<i64> = (0..)
        .map(|k| first + k * HOUR)
        .take_while(|h| (*h as f64) < end)
        .collect();
    state.stores.with(&ctx.scope, |s| {
        let a = &s.autoscaling;
        let g = a.group(&req.auto_scaling_group_name)?;
        let policy = find(a.policies_of(&g.name), &req.policy_name).ok_or_else(|| {
            // UNVERIFIED wording.
            validation(format!("No such policy {} found.", req.policy_name))
        })?;
        let Some(config) = policy
            .predictive
            .as_ref()
            .filter(|_| policy.policy_type == "PredictiveScaling")
        else {
            // UNVERIFIED wording.
            return Err(validation(format!(
                "Policy {} is not a predictive scaling policy.",
                req.policy_name
            )));
        };
        let (loads, capacity) = compute(&s.cloudwatch.metrics, g, config, &hours, now);
        let timestamps = hours[..capacity.len()]
            .iter()
            .map(|h| Timestamp(*h as f64))
            .collect();
        Ok(ForecastOut {
            load_forecast: loads,
            capacity_forecast: CapacityOut {
                timestamps,
                values: capacity,
            },
            update_time: Timestamp(now.floor()),
        })
    })
}

#[cfg(test)]
#[path = "forecast_tests.rs"]
mod tests;
