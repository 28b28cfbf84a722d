//! The pure decision of one metric-alarm evaluation (CloudWatch User Guide, "Using Amazon
//! CloudWatch alarms": the evaluation range, M out of N, and the tables of "Configuring how
//! CloudWatch alarms treat missing data"), and the StateReason and StateReasonData texts AWS
//! writes for it, as real alarms show them (LocalStack's CloudWatch tests recorded against
//! AWS; alarm notifications and events quoted in public code).
//!
//! Input: the alarm's rule and the values of the last R periods (the *evaluation range*, newest
//! first, minute-aligned by the caller). Output: the state the data calls for, or "keep the
//! current state". Nothing here reads the clock or the store.

use serde::Serialize;

use super::format::{data_date, java_double, reason_date};

/// An alarm state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateValue {
    /// `OK`.
    Ok,
    /// `ALARM`.
    Alarm,
    /// `INSUFFICIENT_DATA`.
    InsufficientData,
}

impl StateValue {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StateValue::Ok => "OK",
            StateValue::Alarm => "ALARM",
            StateValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "OK" => StateValue::Ok,
            "ALARM" => StateValue::Alarm,
            "INSUFFICIENT_DATA" => StateValue::InsufficientData,
            _ => return None,
        })
    }
}

impl Serialize for StateValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Read back from the wire name (snapshots keep alarms).
impl<'de> serde::Deserialize<'de> for StateValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown alarm state {name:?}")))
    }
}

/// A comparison operator: against the static threshold, or (the last three) against an
/// anomaly band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`.
    Ge,
    /// `GreaterThanThreshold`.
    Gt,
    /// `LessThanThreshold`.
    Lt,
    /// `LessThanOrEqualToThreshold`.
    Le,
    /// `LessThanLowerOrGreaterThanUpperThreshold`.
    OutsideBand,
    /// `LessThanLowerThreshold`.
    BelowBand,
    /// `GreaterThanUpperThreshold`.
    AboveBand,
}

impl Comparison {
    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "GreaterThanOrEqualToThreshold" => Comparison::Ge,
            "GreaterThanThreshold" => Comparison::Gt,
            "LessThanThreshold" => Comparison::Lt,
            "LessThanOrEqualToThreshold" => Comparison::Le,
            "LessThanLowerOrGreaterThanUpperThreshold" => Comparison::OutsideBand,
            "LessThanLowerThreshold" => Comparison::BelowBand,
            "GreaterThanUpperThreshold" => Comparison::AboveBand,
            _ => return None,
        })
    }

    /// Whether this operator compares against an anomaly band.
    pub fn is_band(self) -> bool {
        matches!(
            self,
            Comparison::OutsideBand | Comparison::BelowBand | Comparison::AboveBand
        )
    }

    /// Whether a value breaches; a band operator without a band at that period does not.
    fn breaches(self, v: f64, threshold: f64, band: Option<(f64, f64)>) -> bool {
        match (self, band) {
            (Comparison::Ge, _) => v >= threshold,
            (Comparison::Gt, _) => v > threshold,
            (Comparison::Lt, _) => v < threshold,
            (Comparison::Le, _) => v <= threshold,
            (Comparison::OutsideBand, Some((lo, hi))) => v < lo || v > hi,
            (Comparison::BelowBand, Some((lo, _))) => v < lo,
            (Comparison::AboveBand, Some((_, hi))) => v > hi,
            (_, None) => false,
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Comparison::Ge => "greater than or equal to",
            Comparison::Gt => "greater than",
            Comparison::Lt => "less than",
            Comparison::Le => "less than or equal to",
            Comparison::OutsideBand => "outside",
            Comparison::BelowBand => "less than",
            Comparison::AboveBand => "greater than",
        }
    }
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingData {
    /// `missing` (the default).
    Missing,
    /// `ignore`.
    Ignore,
    /// `breaching`.
    Breaching,
    /// `notBreaching`.
    NotBreaching,
}

impl MissingData {
    /// From the wire name; `None` (absent) is `missing`.
    pub fn parse(s: Option<&str>) -> Option<Self> {
        Some(match s {
            None | Some("missing") => MissingData::Missing,
            Some("ignore") => MissingData::Ignore,
            Some("breaching") => MissingData::Breaching,
            Some("notBreaching") => MissingData::NotBreaching,
            Some(_) => return None,
        })
    }
}

/// What an evaluation needs to know about the alarm.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Period in seconds.
    pub period: i64,
    /// N: EvaluationPeriods.
    pub evaluation_periods: usize,
    /// M: DatapointsToAlarm when set.
    pub datapoints_to_alarm: Option<usize>,
    /// Threshold.
    pub threshold: f64,
    /// Comparison.
    pub comparison: Comparison,
    /// TreatMissingData.
    pub missing: MissingData,
    /// For a percentile alarm with `EvaluateLowSampleCountPercentile=ignore`: the minimum
    /// SampleCount a period needs to be evaluated.
    pub min_samples: Option<f64>,
}

/// One period of the evaluation range.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Period start (epoch seconds).
    pub start: f64,
    /// The statistic's value, `None` when the period has no data.
    pub value: Option<f64>,
    /// The period's SampleCount, when known.
    pub sample_count: Option<f64>,
    /// The anomaly band (lower, upper) at this period, for band alarms.
    pub band: Option<(f64, f64)>,
}

/// The evaluation range length R: N + max(2, ⌈300 / P⌉). AWS does not document R; this is our
/// inference, fitting the examples of the CloudWatch User Guide ("Using Amazon CloudWatch
/// alarms": N = 3 at P = 300 gives R = 5) and Eucalyptus's 2013 measurements against AWS.
pub fn range_len(period: i64, n: usize) -> usize {
    let extra = (300 + period - 1) / period.max(1);
    n + (extra.max(2) as usize)
}

/// How a member of the evaluated set counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Crosses the threshold.
    Breaching,
    /// Does not.
    NotBreaching,
    /// A missing period filled as unknown (`missing`, `ignore`).
    Unknown,
}

/// One member of the evaluated set E.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Index into the slots (0 = newest).
    pub slot: usize,
    /// How it counts.
    pub class: Class,
    /// Real data (false: a filled missing period).
    pub real: bool,
}

/// Why the decided state holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Basis {
    /// The whole range was empty.
    NoData,
    /// The evaluated set, newest first.
    Evaluated(Vec<Entry>),
}

/// The decision: a state and its basis, or `None` to keep the current state.
pub fn decide(rule: &Rule, slots: &[Slot]) -> Option<(StateValue, Basis)> {
    let n = rule.evaluation_periods.max(1);
    let m = rule.datapoints_to_alarm.unwrap_or(n).clamp(1, n);
    let class_of = |v: f64, band: Option<(f64, f64)>| {
        if rule.comparison.breaches(v, rule.threshold, band) {
            Class::Breaching
        } else {
            Class::NotBreaching
        }
    };
    let real: Vec<usize> = (0..slots.len())
        .filter(|&i| slots[i].value.is_some())
        .collect();
    let mut entries: Vec<Entry> =
        if slots.len() >= n && slots[..n].iter().all(|s| s.value.is_some()) {
            (0..n)
                .map(|i| Entry {
                    slot: i,
                    class: Class::Unknown,
                    real: true,
                })
                .collect()
        } else if real.len() >= n {
            real[..n]
                .iter()
                .map(|&i| Entry {
                    slot: i,
                    class: Class::Unknown,
                    real: true,
                })
                .collect()
        } else if real.is_empty() {
            return match rule.missing {
                MissingData::Missing => Some((StateValue::InsufficientData, Basis::NoData)),
                MissingData::Ignore => None,
                MissingData::Breaching => Some((StateValue::Alarm, Basis::NoData)),
                MissingData::NotBreaching => Some((StateValue::Ok, Basis::NoData)),
            };
        } else {
            let fill = match rule.missing {
                MissingData::Breaching => Class::Breaching,
                MissingData::NotBreaching => Class::NotBreaching,
                MissingData::Missing | MissingData::Ignore => Class::Unknown,
            };
            let mut e: Vec<Entry> = real
                .iter()
                .map(|&i| Entry {
                    slot: i,
                    class: Class::Unknown,
                    real: true,
                })
                .collect();
            e.extend(
                (0..slots.len())
                    .filter(|&i| slots[i].value.is_none())
                    .take(n - real.len())
                    .map(|i| Entry {
                        slot: i,
                        class: fill,
                        real: false,
                    }),
            );
            e.sort_by_key(|x| x.slot);
            e
        };
    for e in entries.iter_mut().filter(|e| e.real) {
        e.class = class_of(slots[e.slot].value.unwrap_or_default(), slots[e.slot].band);
    }
    if let Some(min) = rule.min_samples
        && entries
            .iter()
            .any(|e| e.real && slots[e.slot].sample_count.is_some_and(|c| c < min))
    {
        return None;
    }
    let breaching = entries
        .iter()
        .filter(|e| e.class == Class::Breaching)
        .count();
    let any_good = entries.iter().any(|e| e.class == Class::NotBreaching);
    // Age 1 is the newest member of E; entries are sorted newest first.
    let oldest_breach_age = entries
        .iter()
        .rposition(|e| e.class == Class::Breaching)
        .map(|p| p + 1);
    let state = if breaching >= m {
        StateValue::Alarm
    } else if matches!(rule.missing, MissingData::Missing | MissingData::Ignore)
        && !any_good
        && oldest_breach_age.is_some_and(|age| age >= m)
    {
        // The "premature alarm" rule: a breach old enough that M periods have passed.
        if rule.missing == MissingData::Ignore {
            return None;
        }
        StateValue::Alarm
    } else if any_good {
        StateValue::Ok
    } else {
        // UNVERIFIED: only young breaches and unknowns; AWS says only "not ALARM yet".
        return None;
    };
    Some((state, Basis::Evaluated(entries)))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The StateReason AWS writes for a decision: `Threshold Crossed` with or without
/// DatapointsToAlarm, the all-missing text for `breaching`/`notBreaching`, and `Insufficient
/// Data` (templates from real StateReasons: LocalStack's CloudWatch tests recorded against AWS,
/// alarm notifications and events quoted in public code).
pub fn reason(rule: &Rule, slots: &[Slot], state: StateValue, basis: &Basis) -> String {
    let n = rule.evaluation_periods;
    let thr = java_double(rule.threshold);
    let Basis::Evaluated(entries) = basis else {
        return match state {
            StateValue::InsufficientData => {
                format!(
                    "Insufficient Data: {} unknown.",
                    were(n, "datapoint", "datapoints")
                )
            }
            _ => no_data_reason(n, state),
        };
    };
    let side = if state == StateValue::Alarm {
        Class::Breaching
    } else {
        Class::NotBreaching
    };
    let support: Vec<&Slot> = entries
        .iter()
        .filter(|e| e.real && e.class == side)
        .map(|e| &slots[e.slot])
        .collect();
    if support.is_empty() {
        // UNVERIFIED: a state carried only by filled periods reads like the all-missing text.
        let filled = entries
            .iter()
            .filter(|e| !e.real && e.class == side)
            .count();
        return no_data_reason(filled, state);
    }
    let not = if state == StateValue::Ok { "not " } else { "" };
    let phrase = format!("{not}{}", rule.comparison.phrase());
    // UNVERIFIED: the band wording ("the upper thresholds [..]") follows AWS's console texts.
    let bounds = |pick: fn((f64, f64)) -> f64| {
        support
            .iter()
            .filter_map(|s| s.band.map(pick))
            .map(java_double)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let crossed = match rule.comparison {
        Comparison::AboveBand => format!("{phrase} the upper thresholds [{}]", bounds(|b| b.1)),
        Comparison::BelowBand => format!("{phrase} the lower thresholds [{}]", bounds(|b| b.0)),
        Comparison::OutsideBand => format!(
            "{not}less than the lower thresholds [{}] or greater than the upper thresholds [{}]",
            bounds(|b| b.0),
            bounds(|b| b.1)
        ),
        _ => format!("{phrase} the threshold ({thr})"),
    };
    let list = |k: usize| {
        support
            .iter()
            .take(k)
            .map(|s| {
                format!(
                    "{} ({})",
                    java_double(s.value.unwrap_or_default()),
                    reason_date(s.start)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let k = support.len();
    let verb = if k == 1 { "was" } else { "were" };
    match rule.datapoints_to_alarm {
        None if k <= 3 => format!(
            "Threshold Crossed: {} [{}] {verb} {crossed}.",
            plural(k, "datapoint", "datapoints"),
            list(k)
        ),
        None => format!(
            "Threshold Crossed: {k} datapoints were {crossed}. The most recent datapoints which crossed the threshold: [{}].",
            list(5)
        ),
        Some(m) => {
            let (min, arrow) = if state == StateValue::Alarm {
                (m, "OK -> ALARM")
            } else {
                (n + 1 - m.min(n), "ALARM -> OK")
            };
            let tail = format!(
                "(minimum {} for {arrow} transition).",
                plural(min, "datapoint", "datapoints")
            );
            if k < 5 {
                format!(
                    "Threshold Crossed: {k} out of the last {n} datapoints [{}] {verb} {crossed} {tail}",
                    list(k)
                )
            } else {
                format!(
                    "Threshold Crossed: {k} out of the last {n} datapoints were {crossed}. The most recent datapoints which crossed the threshold: [{}] {tail}",
                    list(5)
                )
            }
        }
    }
}

fn were(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        plural(n, one, many),
        if n == 1 { "was" } else { "were" }
    )
}

fn no_data_reason(n: usize, state: StateValue) -> String {
    let treated = if state == StateValue::Alarm {
        "Breaching"
    } else {
        "NonBreaching"
    };
    format!(
        "Threshold Crossed: no datapoints were received for {} and {} treated as [{treated}].",
        plural(n, "period", "periods"),
        were(n, "missing datapoint", "missing datapoints")
    )
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonData<'a> {
    version: &'static str,
    query_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    period: i64,
    recent_datapoints: Vec<f64>,
    threshold: f64,
    evaluated_datapoints: Vec<EvaluatedPoint>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EvaluatedPoint {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
}

/// What the alarm reads, for StateReasonData.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The alarm's Unit, if set.
    pub unit: Option<&'a str>,
    /// Statistic, if a plain one.
    pub statistic: Option<&'a str>,
    /// ExtendedStatistic, if a percentile.
    pub extended_statistic: Option<&'a str>,
}

/// The StateReasonData JSON AWS writes for a decision (keys and formats as in real payloads:
/// LocalStack's CloudWatch tests recorded against AWS, alarm events quoted in public code).
pub fn reason_data(
    rule: &Rule,
    slots: &[Slot],
    basis: &Basis,
    subject: Subject<'_>,
    query_date: f64,
) -> String {
    let (recent, evaluated, start) = match basis {
        Basis::NoData => (
            Vec::new(),
            slots
                .iter()
                .take(rule.evaluation_periods)
                .map(|s| EvaluatedPoint {
                    timestamp: data_date(s.start),
                    sample_count: None,
                    value: None,
                })
                .collect(),
            None,
        ),
        Basis::Evaluated(entries) => {
            let real: Vec<&Slot> = entries
                .iter()
                .filter(|e| e.real)
                .map(|e| &slots[e.slot])
                .collect();
            let recent = real.iter().rev().filter_map(|s| s.value).collect();
            let start = real.last().map(|s| data_date(s.start));
            let evaluated = entries
                .iter()
                .map(|e| {
                    let s = &slots[e.slot];
                    EvaluatedPoint {
                        timestamp: data_date(s.start),
                        sample_count: if e.real { s.sample_count } else { None },
                        value: if e.real { s.value } else { None },
                    }
                })
                .collect();
            (recent, evaluated, start)
        }
    };
    let data = ReasonData {
        version: "1.0",
        query_date: data_date(query_date),
        start_date: start,
        unit: subject.unit,
        statistic: subject.statistic,
        extended_statistic: subject.extended_statistic,
        period: rule.period,
        recent_datapoints: recent,
        threshold: rule.threshold,
        evaluated_datapoints: evaluated,
    };
    serde_json::to_string(&data).unwrap_or_default()
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
