//! Where expressions find data beyond their own queries: SEARCH over the stored metrics,
//! Metrics Insights queries, and the anomaly band's history. Methods of the GetMetricData
//! engine, split from [`super::get_metric_data`] by subject.

use std::collections::BTreeMap;

use super::anomaly::{self, HISTORY};
use super::get_metric_data::Engine;
use super::get_metric_statistics::{period_readable, round_start};
use super::insights;
use super::math::{self, Expr, Series, Val};
use super::search;
use super::stats::{Agg, Stat};
use super::store::MetricKey;

/// The most series one SEARCH returns (AWS's limit).
const MAX_SEARCH: usize = 500;
/// The period of a SEARCH or Insights expression without one (UNVERIFIED default).
const DEFAULT_PERIOD: i64 = 300;

/// Check an expression's syntax: a Metrics Insights query, or metric math whose SEARCH
/// strings parse.
pub fn check_expression(e: &str) -> Result<(), String> {
    if insights::is_query(e) {
        return insights::parse(e).map(|_| ());
    }
    fn walk(e: &Expr) -> Result<(), String> {
        match e {
            Expr::Call(name, args) => {
                if name == "SEARCH"
                    && let Some(Expr::Str(q)) = args.first()
                {
                    search::parse(q)?;
                    if let Some(Expr::Str(stat)) = args.get(1)
                        && Stat::parse(stat).is_none()
                    {
                        return Err(format!("SEARCH: '{stat}' is not a valid statistic"));
                    }
                }
                args.iter().try_for_each(walk)
            }
            Expr::Neg(a) => walk(a),
            Expr::Bin(_, a, b) => walk(a).and_then(|()| walk(b)),
            _ => Ok(()),
        }
    }
    walk(&math::parse(e)?)
}

/// Whether an expression uses SEARCH (refused in alarms, as AWS refuses it).
pub fn uses_search(e: &str) -> bool {
    fn walk(e: &Expr) -> bool {
        match e {
            Expr::Call(name, args) => name == "SEARCH" || args.iter().any(walk),
            Expr::Neg(a) => walk(a),
            Expr::Bin(_, a, b) => walk(a) || walk(b),
            _ => false,
        }
    }
    !insights::is_query(e) && math::parse(e).is_ok_and(|x| walk(&x))
}

impl Engine<'_> {
    /// The period of the expression being evaluated.
    fn own_period(&self) -> i64 {
        let id = self.busy.last();
        self.queries
            .iter()
            .find(|q| Some(&q.id) == id)
            .and_then(|q| q.period)
            .unwrap_or(DEFAULT_PERIOD)
    }

    /// A stored metric's per-period aggregates over `[from, end)` (all units merged when
    /// `unit` is `None` and the caller asks for it; else the first unit by name).
    fn aggregates(
        &self,
        key: &MetricKey,
        from: f64,
        period: i64,
        merge: bool,
        dist: bool,
    ) -> BTreeMap<i64, Agg> {
        if !period_readable(from, period, self.now) {
            return BTreeMap::new();
        }
        let start = round_start(from, period, self.now);
        let end = self.end.ceil() as i64;
        let mut units = self
            .store
            .buckets(key, None, start, end, period, dist)
            .into_iter();
        let mut out = units.next().map(|(_, b)| b).unwrap_or_default();
        if merge {
            for (_, b) in units {
                for (t, a) in b {
                    match out.get_mut(&t) {
                        Some(x) => x.merge(&a),
                        None => {
                            out.insert(t, a);
                        }
                    }
                }
            }
        }
        out
    }

    /// SEARCH: every stored metric the search finds, at `stat` and the period.
    pub(super) fn search_metrics(
        &mut self,
        query: &str,
        stat: &str,
        period: Option<i64>,
    ) -> Result<Vec<(String, Series)>, String> {
        let s = search::parse(query)?;
        let stat = Stat::parse(stat).ok_or_else(|| format!("'{stat}' is not a valid statistic"))?;
        let period = period.unwrap_or_else(|| self.own_period());
        let found: Vec<&MetricKey> = self
            .store
            .iter()
            .map(|(k, _)| k)
            .filter(|k| s.matches(k))
            .take(MAX_SEARCH)
            .collect();
        let labels = search::labels(&found);
        Ok(found
            .iter()
            .zip(labels)
            .map(|(k, label)| {
                let series = self
                    .aggregates(k, self.start, period, false, stat.needs_distribution())
                    .iter()
                    .filter_map(|(t, a)| a.stat(stat).map(|v| (*t, v)))
                    .collect();
                (label, series)
            })
            .collect())
    }

    /// A Metrics Insights query: one series, or one per group with GROUP BY.
    pub(super) fn insights(&mut self, e: &str) -> Result<Val, String> {
        let q = insights::parse(e)?;
        let period = self.own_period();
        let mut groups: BTreeMap<String, BTreeMap<i64, Agg>> = BTreeMap::new();
        for (key, _) in self.store.iter() {
            if !q.selects(key) {
                continue;
            }
            let group = groups.entry(q.group_of(key)).or_default();
            for (t, a) in self.aggregates(key, self.start, period, true, false) {
                match group.get_mut(&t) {
                    Some(x) => x.merge(&a),
                    None => {
                        group.insert(t, a);
                    }
                }
            }
        }
        let mut out = q.finish(groups);
        Ok(if q.group_by.is_empty() {
            Val::Ts(out.pop().map(|(_, s)| s).unwrap_or_default())
        } else {
            Val::Arr(out)
        })
    }

    /// ANOMALY_DETECTION_BAND(id, k): the band model over the metric's last two weeks.
    pub(super) fn band_of(&mut self, id: &str, k: f64) -> Result<(Series, Series), String> {
        let q = self
            .queries
            .iter()
            .find(|q| q.id == id)
            .ok_or_else(|| format!("Unknown metric id {id}"))?;
        let Some(ms) = &q.metric_stat else {
            return Err(
                "ANOMALY_DETECTION_BAND over an expression is not supported by Updraft: give it a metric's id".into(),
            );
        };
        let (Some(ns), Some(name)) = (&ms.metric.namespace, &ms.metric.metric_name) else {
            return Err(format!("Metric {id} has no namespace or name"));
        };
        let stat = Stat::parse(&ms.stat).unwrap_or(Stat::Average);
        let key = MetricKey::new(ns, name, super::dimension_pairs(&ms.metric.dimensions));
        let p = ms.period;
        let start = round_start(self.start, p, self.now);
        let history: Series = self
            .aggregates(
                &key,
                (start - HISTORY) as f64,
                p,
                false,
                stat.needs_distribution(),
            )
            .iter()
            .filter_map(|(t, a)| a.stat(stat).map(|v| (*t, v)))
            .collect();
        let at: Vec<i64> = (0..)
            .map(|i| start + i * p)
            .take_while(|t| (*t as f64) < self.end)
            .take(100_800)
            .collect();
        let excluded = self
            .detectors
            .iter()
            .find(|d| d.is_for(ns, name, &ms.metric.dimensions, &ms.stat))
            .map(|d| d.configuration.excluded_time_ranges.clone())
            .unwrap_or_default();
        Ok(anomaly::band(&history, &at, k, &excluded))
    }
}
