//! GetMetricData: MetricStat queries and metric math over the store, AWS's default labels, the
//! `MultipleUnits` message, ScanBy and MaxDatapoints pagination (CloudWatch API Reference,
//! GetMetricData; labels and `MultipleUnits` as recorded against AWS in LocalStack's CloudWatch
//! tests). The same query engine serves alarms on metric math.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::anomaly::Detector;
use super::get_metric_statistics::{period_readable, period_valid, round_start};
use super::insights;
use super::math::{self, Env, Series, Val};
use super::sources::{check_expression, uses_search};
use super::stats::Stat;
use super::store::{MetricKey, MetricStore};
use super::{Dimension, check_unit, dimension_pairs, enum_error, invalid_token, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::paging::Token;
use crate::state::AppState;

const MAX_QUERIES: usize = 500;
const DEFAULT_MAX_DATAPOINTS: usize = 100_800;

/// `Metric` inside a MetricStat.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricRef {
    /// Namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// MetricName.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
}

/// `MetricStat`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    /// The metric.
    pub metric: MetricRef,
    /// Period.
    pub period: i64,
    /// Stat.
    pub stat: String,
    /// Unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// `MetricDataQuery`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    /// Id.
    pub id: String,
    /// MetricStat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    /// Expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// ReturnData (true when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
    /// Period (for expressions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    /// AccountId (cross-account; only the caller's account is served).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

fn id_ok(id: &str) -> bool {
    id.len() <= 255
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Validate queries (ids, one of MetricStat/Expression, stats, periods, expression syntax).
pub fn check_queries(queries: &[MetricDataQuery]) -> Result<(), ApiError> {
    if queries.len() > MAX_QUERIES {
        return Err(validation(format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )));
    }
    let mut bad_stats = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let n = i + 1;
        // UNVERIFIED wordings below, except the Stat one (yace#1435).
        if !id_ok(&q.id) {
            return Err(validation(format!(
                "The value {} for parameter MetricDataQueries.member.{n}.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.",
                q.id
            )));
        }
        if queries[..i].iter().any(|o| o.id == q.id) {
            return Err(validation(format!(
                "The value {} for parameter MetricDataQueries.member.{n}.Id is not unique.",
                q.id
            )));
        }
        match (&q.metric_stat, &q.expression) {
            (Some(ms), None) => {
                if Stat::parse(&ms.stat).is_none() {
                    bad_stats.push(format!(
                        "The value for parameter MetricDataQueries.member.{n}.MetricStat.Stat is not a valid statistic."
                    ));
                }
                if !period_valid(ms.period) {
                    return Err(validation(format!(
                        "The parameter MetricDataQueries.member.{n}.MetricStat.Period must be a value in the set [ 1, 5, 10, 20, 30 ] or a multiple of 60."
                    )));
                }
                if ms.metric.namespace.is_none() || ms.metric.metric_name.is_none() {
                    return Err(validation(format!(
                        "The parameter MetricDataQueries.member.{n}.MetricStat.Metric must name a Namespace and a MetricName."
                    )));
                }
                check_unit(
                    ms.unit.as_deref(),
                    &format!("metricDataQueries.{n}.member.metricStat.unit"),
                )?;
            }
            (None, Some(e)) => {
                check_expression(e)
                    .map_err(|err| validation(format!("Error in expression {}: {err}", q.id)))?;
            }
            _ => {
                return Err(validation(format!(
                    "Exactly one of MetricStat or Expression must be specified for MetricDataQueries.member.{n}."
                )));
            }
        }
    }
    if !bad_stats.is_empty() {
        return Err(validation(bad_stats.join("\n")));
    }
    Ok(())
}

/// Validate the `Metrics` of a math alarm (with the id of its anomaly band, if any); returns
/// its period.
pub fn check_alarm_queries(
    queries: &[MetricDataQuery],
    band_id: Option<&str>,
) -> Result<i64, ApiError> {
    // An alarm answers a statistic it does not know with "Invalid metrics list", not with
    // GetMetricData's per-query text (hashicorp/terraform-provider-aws#19567).
    if queries
        .iter()
        .filter_map(|q| q.metric_stat.as_ref())
        .any(|ms| Stat::parse(&ms.stat).is_none())
    {
        return Err(validation("Invalid metrics list"));
    }
    check_queries(queries)?;
    // UNVERIFIED wordings for the three rules below.
    if queries
        .iter()
        .any(|q| q.expression.as_deref().is_some_and(uses_search))
    {
        return Err(validation(
            "SEARCH expressions are not supported in alarms.",
        ));
    }
    if let Some(id) = band_id {
        let band = queries.iter().find(|q| q.id == id);
        if !band
            .and_then(|q| q.expression.as_deref())
            .is_some_and(|e| e.trim_start().starts_with("ANOMALY_DETECTION_BAND("))
        {
            return Err(validation(format!(
                "ThresholdMetricId {id} must be the id of an ANOMALY_DETECTION_BAND expression in Metrics."
            )));
        }
    }
    if queries.iter().any(|q| {
        q.expression.as_deref().is_some_and(|e| {
            insights::is_query(e) && insights::parse(e).is_ok_and(|x| !x.group_by.is_empty())
        })
    }) {
        return Err(validation(
            "Alarms on Metrics Insights queries with GROUP BY (multi time series alarms) are not supported by Updraft.",
        ));
    }
    if queries.iter().filter(|q| q.metric_stat.is_some()).count() > 10 {
        return Err(validation(
            "Alarms on metric math can use at most 10 metrics.",
        ));
    }
    let returned = queries
        .iter()
        .filter(|q| q.return_data.unwrap_or(true) && Some(q.id.as_str()) != band_id)
        .count();
    if returned != 1 {
        return Err(validation(
            "Exactly one element of the metrics list should return data.",
        ));
    }
    let mut periods = queries
        .iter()
        .filter_map(|q| q.metric_stat.as_ref().map(|m| m.period));
    // An alarm on expressions alone needs a query's Period: AWS answers "Period must not be
    // null" (terraform-provider-aws#11011, aws-cdk#7155).
    let first = periods
        .next()
        .or_else(|| queries.iter().find_map(|q| q.period))
        .ok_or_else(|| super::put_alarm::not_null("Period"))?;
    if periods.any(|p| p != first) {
        return Err(validation(
            "All metrics in an alarm must have the same period.",
        ));
    }
    Ok(first)
}

/// A computed query result.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Values by timestamp.
    pub series: Series,
    /// SampleCount per timestamp (MetricStat queries only).
    pub counts: Series,
    /// Per-result messages (`MultipleUnits`).
    pub messages: Vec<(String, String)>,
}

/// The query engine of one GetMetricData call or alarm evaluation.
pub(super) struct Engine<'a> {
    pub(super) store: &'a MetricStore,
    pub(super) detectors: &'a [Detector],
    pub(super) queries: &'a [MetricDataQuery],
    pub(super) start: f64,
    pub(super) end: f64,
    pub(super) now: f64,
    done: HashMap<String, Val>,
    counts: HashMap<String, Series>,
    messages: HashMap<String, Vec<(String, String)>>,
    pub(super) busy: Vec<String>,
}

impl Engine<'_> {
    fn fetch(&mut self, q: &MetricDataQuery, ms: &MetricStat) -> Series {
        let (Some(ns), Some(name)) = (&ms.metric.namespace, &ms.metric.metric_name) else {
            return Series::new();
        };
        if !period_readable(self.start, ms.period, self.now) {
            return Series::new();
        }
        let key = MetricKey::new(ns, name, dimension_pairs(&ms.metric.dimensions));
        let start = round_start(self.start, ms.period, self.now);
        let end = self.end.ceil() as i64;
        let stat = Stat::parse(&ms.stat).unwrap_or(Stat::Average);
        let with_dist = stat.needs_distribution();
        let mut units =
            self.store
                .buckets(&key, ms.unit.as_deref(), start, end, ms.period, with_dist);
        if units.len() > 1 {
            let names: Vec<&str> = units.iter().map(|(u, _)| u.as_str()).collect();
            self.messages.entry(q.id.clone()).or_default().push((
                "MultipleUnits".into(),
                format!("Multiple units returned: '[{}]'", names.join(", ")),
            ));
        }
        let Some((_, buckets)) = units.drain(..).next() else {
            return Series::new();
        };
        let mut counts = Series::new();
        let series = buckets
            .iter()
            .filter_map(|(t, agg)| {
                counts.insert(*t, agg.count);
                agg.stat(stat).map(|v| (*t, v))
            })
            .collect();
        self.counts.insert(q.id.clone(), counts);
        series
    }

    fn value(&mut self, id: &str) -> Result<Val, String> {
        if let Some(v) = self.done.get(id) {
            return Ok(v.clone());
        }
        let queries = self.queries;
        let q = queries
            .iter()
            .find(|q| q.id == id)
            .ok_or_else(|| format!("Unknown metric or expression id {id}"))?;
        if self.busy.iter().any(|b| b == id) {
            return Err(format!("Circular reference to {id}"));
        }
        self.busy.push(id.to_owned());
        let v = match (&q.metric_stat, &q.expression) {
            (Some(ms), _) => Ok(Val::Ts(self.fetch(q, ms))),
            (None, Some(e)) if insights::is_query(e) => self.insights(e),
            (None, Some(e)) => math::parse(e).and_then(|ex| math::eval(&ex, self)),
            (None, None) => Ok(Val::Ts(Series::new())),
        };
        self.busy.pop();
        let v = v?;
        self.done.insert(id.to_owned(), v.clone());
        Ok(v)
    }
}

impl Env for Engine<'_> {
    fn lookup(&mut self, id: &str) -> Result<Val, String> {
        self.value(id)
    }

    fn metrics(&mut self, filter: &str) -> Result<Vec<(String, Series)>, String> {
        let ids: Vec<String> = self
            .queries
            .iter()
            .filter(|q| q.metric_stat.is_some() && q.id.contains(filter))
            .map(|q| q.id.clone())
            .collect();
        ids.into_iter()
            .map(|id| match self.value(&id)? {
                Val::Ts(s) => Ok((id, s)),
                _ => Ok((id, Series::new())),
            })
            .collect()
    }

    fn period_of(&self, id: &str) -> Option<i64> {
        let q = self.queries.iter().find(|q| q.id == id)?;
        q.metric_stat.as_ref().map(|m| m.period).or(q.period)
    }

    fn grid(&self) -> Vec<i64> {
        let period = self
            .queries
            .iter()
            .filter_map(|q| q.metric_stat.as_ref().map(|m| m.period))
            .min()
            .unwrap_or(60);
        let start = round_start(self.start, period, self.now);
        (0..)
            .map(|k| start + k * period)
            .take_while(|t| (*t as f64) < self.end)
            .take(100_800)
            .collect()
    }

    fn search(
        &mut self,
        query: &str,
        stat: &str,
        period: Option<i64>,
    ) -> Result<Vec<(String, Series)>, String> {
        self.search_metrics(query, stat, period)
    }

    fn band(&mut self, id: &str, k: f64) -> Result<(Series, Series), String> {
        self.band_of(id, k)
    }
}

/// Default labels, as recorded against AWS in LocalStack's CloudWatch tests: MetricName, plus
/// the stat and/or period when the MetricStat queries of the call differ in them; an
/// expression's id.
fn labels(queries: &[MetricDataQuery]) -> Vec<String> {
    let stats: Vec<&MetricStat> = queries
        .iter()
        .filter_map(|q| q.metric_stat.as_ref())
        .collect();
    let stat_differs = stats.windows(2).any(|w| w[0].stat != w[1].stat);
    let period_differs = stats.windows(2).any(|w| w[0].period != w[1].period);
    queries
        .iter()
        .map(|q| match (&q.label, &q.metric_stat) {
            (Some(l), _) => l.clone(),
            (None, Some(ms)) => {
                let mut l = ms.metric.metric_name.clone().unwrap_or_default();
                if stat_differs {
                    l = format!("{l} {}", ms.stat);
                }
                if period_differs {
                    l = format!("{l} {}", ms.period);
                }
                l
            }
            (None, None) => q.id.clone(),
        })
        .collect()
}

/// Run every query over `[start, end)`; returns the results of queries with ReturnData.
pub fn compute(
    store: &MetricStore,
    detectors: &[Detector],
    queries: &[MetricDataQuery],
    start: f64,
    end: f64,
    now: f64,
) -> Result<Vec<QueryResult>, ApiError> {
    let mut engine = Engine {
        store,
        detectors,
        queries,
        start,
        end,
        now,
        done: HashMap::new(),
        counts: HashMap::new(),
        messages: HashMap::new(),
        busy: Vec::new(),
    };
    let labels = labels(queries);
    let mut out = Vec::new();
    for (q, label) in queries.iter().zip(labels) {
        if !q.return_data.unwrap_or(true) {
            continue;
        }
        let v = engine
            .value(&q.id)
            .map_err(|e| validation(format!("Error in expression {}: {e}", q.id)))?;
        let messages = engine.messages.get(&q.id).cloned().unwrap_or_default();
        let counts = engine.counts.get(&q.id).cloned().unwrap_or_default();
        match v {
            Val::Ts(series) => out.push(QueryResult {
                id: q.id.clone(),
                label,
                series,
                counts,
                messages,
            }),
            Val::Arr(list) => {
                for (member, series) in list {
                    let label = match &q.label {
                        Some(l) => format!("{l} {member}"),
                        None => member,
                    };
                    out.push(QueryResult {
                        id: q.id.clone(),
                        label,
                        series,
                        counts: Series::new(),
                        messages: messages.clone(),
                    });
                }
            }
            Val::Scalar(_) => {
                // UNVERIFIED wording: AWS requires a time series as the final result.
                return Err(validation(format!(
                    "Error in expression {}: the expression must return a time series or an array of time series.",
                    q.id
                )));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricDataInput {
    metric_data_queries: Vec<MetricDataQuery>,
    start_time: f64,
    end_time: f64,
    next_token: Option<String>,
    scan_by: Option<String>,
    max_datapoints: Option<i64>,
}

/// A `MessageData`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageData {
    code: String,
    value: String,
}

/// A `MetricDataResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataResult {
    id: String,
    label: String,
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
    status_code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<MessageData>,
}

/// GetMetricData output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricDataOutput {
    metric_data_results: Vec<MetricDataResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    messages: Vec<MessageData>,
}

/// GetMetricData.
pub fn get_metric_data(
    ctx: &RequestContext,
    state: &AppState,
    req: GetMetricDataInput,
) -> Result<GetMetricDataOutput, ApiError> {
    check_queries(&req.metric_data_queries)?;
    if req.start_time == req.end_time {
        return Err(validation(
            "The parameter StartTime must not equal parameter EndTime.",
        ));
    }
    if req.start_time > req.end_time {
        return Err(validation(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
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
    let max = match req.max_datapoints {
        None => DEFAULT_MAX_DATAPOINTS,
        Some(n) if n >= 1 => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'maxDatapoints' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    };
    let skip = match req.next_token.as_deref() {
        None => 0,
        Some(t) => Token::Offset.decode(t).ok_or_else(invalid_token)?,
    };
    let now = state.clock.now();
    let results = state.stores.with(&ctx.scope, |s| {
        compute(
            &s.cloudwatch.metrics,
            &s.cloudwatch.anomaly_detectors,
            &req.metric_data_queries,
            req.start_time,
            req.end_time,
            now,
        )
    })?;
    // Pagination: the call's points in result order, `skip` already sent, `max` per page.
    let mut seen = 0usize;
    let mut out = Vec::new();
    let mut more = false;
    for r in results {
        let mut points: Vec<(i64, f64)> = r.series.into_iter().collect();
        if descending {
            points.reverse();
        }
        let from = skip.saturating_sub(seen).min(points.len());
        let to = (skip + max)
            .saturating_sub(seen)
            .min(points.len())
            .max(from);
        seen += points.len();
        let partial = to < points.len();
        more |= partial;
        let slice = &points[from..to];
        out.push(MetricDataResult {
            id: r.id,
            label: r.label,
            timestamps: slice.iter().map(|(t, _)| Timestamp(*t as f64)).collect(),
            values: slice.iter().map(|(_, v)| *v).collect(),
            status_code: if partial { "PartialData" } else { "Complete" },
            messages: r
                .messages
                .into_iter()
                .map(|(code, value)| MessageData { code, value })
                .collect(),
        });
    }
    Ok(GetMetricDataOutput {
        metric_data_results: out,
        next_token: more.then(|| Token::Offset.encode(skip + max)),
        messages: Vec::new(),
    })
}
