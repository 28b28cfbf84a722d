//! One evaluation pass over the alarms of one account and region: the part of the alarm
//! evaluator that touches the store. For each due alarm it reads the evaluation range from
//! the metric store, asks the pure [`super::evaluate::decide`], and applies a change; then it
//! re-evaluates composites and prunes old metric data.
//!
//! Cadence (CloudWatch User Guide, "Using Amazon CloudWatch alarms" and "Alarm evaluation"):
//! every minute, here at `:05` past (so a datapoint for the minute that just ended is counted),
//! every 10 s for 10/20/30 s periods, hourly when Period × N exceeds a day; at once after
//! PutMetricAlarm.

use super::CloudWatchStore;
use super::actions::{AlarmNotice, is_autoscaling};
use super::alarms::MetricAlarm;
use super::anomaly::Detector;
use super::dimension_pairs;
use super::evaluate::{
    Comparison, MissingData, Rule, Slot, Subject, decide, range_len, reason, reason_data,
};
use super::get_metric_data::compute;
use super::math::Series;
use super::stats::Stat;
use super::store::{MetricKey, MetricStore};

/// Seconds past the minute at which alarms evaluate.
pub const EVALUATION_OFFSET: f64 = 5.0;

/// How often an alarm evaluates (seconds).
pub fn cadence(period: i64, n: i64) -> f64 {
    if period < 60 {
        10.0
    } else if period.saturating_mul(n) > 86_400 {
        3600.0
    } else {
        60.0
    }
}

/// The next evaluation time after `now` on a cadence, at the offset.
pub fn next_evaluation(now: f64, cadence: f64) -> f64 {
    let candidate = (now / cadence).floor() * cadence + EVALUATION_OFFSET;
    if candidate <= now {
        candidate + cadence
    } else {
        candidate
    }
}

/// The alarm's evaluation rule.
pub fn rule_of(a: &MetricAlarm) -> Rule {
    let min_samples = match (
        &a.extended_statistic,
        a.evaluate_low_sample_count_percentile.as_deref(),
    ) {
        (Some(e), Some("ignore")) => match Stat::percentile(e) {
            Some(Stat::Percentile(p)) => {
                let p = p / 100.0;
                Some(if p >= 0.5 { 10.0 / (1.0 - p) } else { 10.0 / p })
            }
            _ => None,
        },
        _ => None,
    };
    Rule {
        period: a.eval_period(),
        evaluation_periods: a.evaluation_periods.max(1) as usize,
        datapoints_to_alarm: a.datapoints_to_alarm.map(|m| m.max(1) as usize),
        threshold: a.threshold,
        comparison: Comparison::parse(&a.comparison_operator).unwrap_or(Comparison::Ge),
        missing: MissingData::parse(a.treat_missing_data.as_deref())
            .unwrap_or(MissingData::Missing),
        min_samples,
    }
}

/// The evaluation range at `now`, newest first: slot k is `[T − k·P, T − (k−1)·P)` with
/// `T` the start of the current minute (10 s step for short periods).
pub fn slots_for(
    store: &MetricStore,
    detectors: &[Detector],
    a: &MetricAlarm,
    rule: &Rule,
    now: f64,
) -> Vec<Slot> {
    let p = rule.period;
    let step = if p < 60 { 10 } else { 60 };
    let t = (now.floor() as i64).div_euclid(step) * step;
    let r = range_len(p, rule.evaluation_periods) as i64;
    let start = t - r * p;
    let mut bands: Option<(Series, Series)> = None;
    let (values, counts) = if let Some(queries) = &a.metrics {
        match compute(store, detectors, queries, start as f64, t as f64, now) {
            Ok(results) => {
                let band_id = a.threshold_metric_id.as_deref();
                let (band, mut rest): (Vec<_>, Vec<_>) = results
                    .into_iter()
                    .partition(|r| Some(r.id.as_str()) == band_id);
                if let [lower, upper] = &band[..] {
                    bands = Some((lower.series.clone(), upper.series.clone()));
                }
                if rest.is_empty() {
                    Default::default()
                } else {
                    let first = rest.swap_remove(0);
                    (first.series, first.counts)
                }
            }
            Err(_) => Default::default(),
        }
    } else {
        let built;
        let key = match &a.metric_key {
            Some(k) => k,
            None => {
                built = MetricKey::new(
                    a.namespace.as_deref().unwrap_or_default(),
                    a.metric_name.as_deref().unwrap_or_default(),
                    dimension_pairs(&a.dimensions),
                );
                &built
            }
        };
        let stat = a
            .statistic
            .as_deref()
            .and_then(Stat::simple)
            .or_else(|| a.extended_statistic.as_deref().and_then(Stat::extended))
            .unwrap_or(Stat::Average);
        // Without a Unit, an alarm on a multi-unit metric reads the first unit by name
        // (the choice GetMetricData makes; AWS calls the result unpredictable).
        let buckets = store
            .buckets(
                key,
                a.unit.as_deref(),
                start,
                t,
                p,
                stat.needs_distribution(),
            )
            .into_iter()
            .next();
        let mut values = Series::new();
        let mut counts = Series::new();
        for (ts, agg) in buckets.map(|(_, b)| b).unwrap_or_default() {
            counts.insert(ts, agg.count);
            if let Some(v) = agg.stat(stat) {
                values.insert(ts, v);
            }
        }
        (values, counts)
    };
    (1..=r)
        .map(|k| {
            let s = t - k * p;
            Slot {
                start: s as f64,
                value: values.get(&s).copied(),
                sample_count: counts.get(&s).copied(),
                band: bands
                    .as_ref()
                    .and_then(|(lo, hi)| Some((*lo.get(&s)?, *hi.get(&s)?))),
            }
        })
        .collect()
}

/// What one pass produced.
#[derive(Debug, Default)]
pub struct TickOutcome {
    /// Actions to dispatch outside the lock.
    pub dispatch: Vec<(AlarmNotice, Vec<String>)>,
    /// The earliest next evaluation among the alarms.
    pub next_due: Option<f64>,
}

/// Evaluate every due alarm of one account and region.
pub fn tick(cw: &mut CloudWatchStore, now: f64) -> TickOutcome {
    let mut out = TickOutcome::default();
    let CloudWatchStore {
        metrics,
        alarms,
        history,
        anomaly_detectors,
        ..
    } = cw;
    for a in alarms.values_mut() {
        if a.next_evaluation <= now {
            let rule = rule_of(a);
            a.next_evaluation = next_evaluation(now, cadence(rule.period, a.evaluation_periods));
            let slots = slots_for(metrics, anomaly_detectors, a, &rule, now);
            let before = a.core.state_value;
            if let Some((state, basis)) = decide(&rule, &slots)
                && state != before
            {
                let text = reason(&rule, &slots, state, &basis);
                let subject = Subject {
                    unit: a.unit.as_deref(),
                    statistic: a.statistic.as_deref(),
                    extended_statistic: a.extended_statistic.as_deref(),
                };
                let data = reason_data(&rule, &slots, &basis, subject, now);
                if let Some(d) =
                    a.core
                        .transition("MetricAlarm", history, state, text, Some(data), now)
                {
                    out.dispatch.push(d);
                }
            } else if a.core.actions_enabled {
                // Auto Scaling actions run again at every evaluation while the state lasts.
                let again: Vec<String> = a
                    .core
                    .actions_for(before)
                    .iter()
                    .filter(|x| is_autoscaling(x))
                    .cloned()
                    .collect();
                if !again.is_empty() {
                    out.dispatch.push((a.core.notice(before, true), again));
                }
            }
        }
        out.next_due = Some(
            out.next_due
                .map_or(a.next_evaluation, |d: f64| d.min(a.next_evaluation)),
        );
    }
    out.dispatch
        .extend(super::composite::evaluate_composites(cw, now));
    cw.metrics.prune(now);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::context::RequestContext;
    use crate::state::{AppState, Scope};

    fn setup() -> (std::sync::Arc<AppState>, Scope, RequestContext) {
        let state = AppState::new(Config {
            time_scale: 0.0,
            ..Config::default()
        });
        let scope = Scope::new("000000000000", "us-east-1");
        let ctx = RequestContext::in_process("t", &scope, "cloudwatch", "Test");
        (state, scope, ctx)
    }

    /// A handler's typed input from its request tree.
    fn typed<T: serde::de::DeserializeOwned>(input: serde_json::Value) -> T {
        crate::services::parse_input(input).expect("input fits the request type")
    }

    fn state_of(state: &AppState, scope: &Scope, name: &str) -> (String, String) {
        state.stores.with(scope, |s| {
            let a = &s.cloudwatch.alarms[name];
            (
                a.core.state_value.as_str().to_owned(),
                a.core.state_reason.clone(),
            )
        })
    }

    #[test]
    fn math_alarms_evaluate_their_expression() {
        let (state, scope, ctx) = setup();
        let now = state.clock.now();
        let minute = (now / 60.0).floor() * 60.0;
        let data = json!({"Namespace": "App", "MetricData": [
            {"MetricName": "Errors", "Value": 30.0, "Timestamp": minute - 30.0},
            {"MetricName": "Requests", "Value": 100.0, "Timestamp": minute - 30.0}]});
        super::super::put_metric_data::put_metric_data(&ctx, &state, typed(data)).unwrap();
        let stat = |id: &str, name: &str| {
            json!({"Id": id, "ReturnData": false,
            "MetricStat": {"Metric": {"Namespace": "App", "MetricName": name}, "Period": 60, "Stat": "Sum"}})
        };
        let alarm = json!({"AlarmName": "error-rate", "EvaluationPeriods": 1, "Threshold": 10.0,
            "ComparisonOperator": "GreaterThanThreshold", "Metrics": [
                stat("e", "Errors"), stat("r", "Requests"),
                {"Id": "rate", "Expression": "100 * e / r", "Label": "Error %", "ReturnData": true}]});
        super::super::put_alarm::put_metric_alarm(&ctx, &state, typed(alarm)).unwrap();
        state.stores.with(&scope, |s| tick(&mut s.cloudwatch, now));
        let (value, reason) = state_of(&state, &scope, "error-rate");
        assert_eq!(value, "ALARM");
        assert!(
            reason.starts_with("Threshold Crossed: 1 datapoint [30.0 ("),
            "{reason}"
        );
        // A second ReturnData, or none, is refused.
        let bad = json!({"AlarmName": "bad", "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold", "Metrics": [stat("e", "Errors")]});
        let e = super::super::put_alarm::put_metric_alarm(&ctx, &state, typed(bad)).unwrap_err();
        assert_eq!(e.code, "ValidationError");
    }

    #[test]
    fn high_resolution_alarms_evaluate_every_ten_seconds() {
        let (state, scope, ctx) = setup();
        let now = state.clock.now();
        let ten = (now / 10.0).floor() * 10.0;
        let alarm = json!({"AlarmName": "fast", "Namespace": "App", "MetricName": "Lat",
            "Statistic": "Maximum", "Period": 10, "EvaluationPeriods": 1, "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold"});
        super::super::put_alarm::put_metric_alarm(&ctx, &state, typed(alarm)).unwrap();
        let out = state.stores.with(&scope, |s| tick(&mut s.cloudwatch, now));
        assert_eq!(out.next_due, Some(next_evaluation(now, 10.0)));
        let data = json!({"Namespace": "App", "MetricData": [
            {"MetricName": "Lat", "Value": 9.0, "Timestamp": ten + 1.0, "StorageResolution": 1}]});
        super::super::put_metric_data::put_metric_data(&ctx, &state, typed(data)).unwrap();
        let at = ten + 15.0;
        state.stores.with(&scope, |s| tick(&mut s.cloudwatch, at));
        assert_eq!(state_of(&state, &scope, "fast").0, "ALARM");
    }

    #[test]
    fn autoscaling_actions_repeat_every_minute_while_the_state_lasts() {
        let state = AppState::new(Config {
            time_scale: 0.0,
            ..Config::default()
        });
        let scope = Scope::new("000000000000", "us-east-1");
        let ctx = RequestContext::in_process("t", &scope, "cloudwatch", "PutMetricAlarm");
        let policy = "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:0c3b9c3a-1d2e-4f5a-8b7c-6d5e4f3a2b1c:autoScalingGroupName/web:policyName/up";
        let topic = "arn:aws:sns:us-east-1:000000000000:alerts";
        let input = json!({"AlarmName": "scale-out", "Namespace": "App", "MetricName": "CPU",
            "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 80.0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "breaching",
            "AlarmActions": [policy, topic]});
        super::super::put_alarm::put_metric_alarm(&ctx, &state, typed(input)).unwrap();
        let mut now = state.clock.now();
        let mut passes = Vec::new();
        for _ in 0..6 {
            let out = state.stores.with(&scope, |s| tick(&mut s.cloudwatch, now));
            passes.push(
                out.dispatch
                    .iter()
                    .map(|(n, a)| (n.repeat, n.old_state.as_str(), a.clone()))
                    .collect::<Vec<_>>(),
            );
            now = out.next_due.unwrap();
        }
        // The transition runs both actions; each later minute in ALARM runs the policy again.
        assert_eq!(
            passes[0],
            vec![(
                false,
                "INSUFFICIENT_DATA",
                vec![policy.to_owned(), topic.to_owned()]
            )]
        );
        for p in &passes[1..] {
            assert_eq!(p, &vec![(true, "ALARM", vec![policy.to_owned()])]);
        }
    }

    #[test]
    fn evaluations_fall_five_seconds_past_the_minute() {
        let t = 1_795_838_400.0; // 04:00:00
        assert_eq!(next_evaluation(t + 30.0, 60.0), t + 65.0);
        assert_eq!(next_evaluation(t + 65.0, 60.0), t + 125.0);
        assert_eq!(next_evaluation(t + 2.0, 60.0), t + 5.0);
        assert_eq!(next_evaluation(t + 12.0, 10.0), t + 15.0);
        assert_eq!(cadence(300, 3), 60.0);
        assert_eq!(cadence(10, 3), 10.0);
        assert_eq!(cadence(3600, 48), 3600.0);
    }
}
