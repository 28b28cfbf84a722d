//! Extended statistics besides percentiles (CloudWatch User Guide, "CloudWatch statistics
//! definitions"): trimmed mean `TM`, winsorized mean `WM`, trimmed count `TC`, trimmed sum `TS`
//! (short forms `tmNN` = `TM(0%:NN%)` and friends, `IQM` = `TM(25%:75%)`), and percentile
//! rank `PR(n:m)`.
//!
//! Bounds are percentages (`TM(10%:90%)`: by rank, as percentiles are) or absolute values
//! (`TM(150:1000)`: values `v` with `150 < v <= 1000`); either side may be left out. With
//! percentage bounds a value whose samples straddle a bound counts for the part inside, so
//! `tm90` of 1..10 is the mean of 1..9. AWS does not document its estimator beyond that;
//! small exact sets give these exact answers.

use super::stats::Stat;

/// One bound of a trimmed statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// A percentage of the samples, by rank.
    Percent(f64),
    /// A value.
    Value(f64),
}

/// What is computed over the samples within the bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Mean of the samples within (TM).
    Mean,
    /// Mean of all samples, those outside clamped to the extremes within (WM).
    Winsorized,
    /// Number of samples within (TC).
    Count,
    /// Sum of the samples within (TS).
    Sum,
}

/// A trimmed statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trim {
    /// TM, WM, TC or TS.
    pub kind: Kind,
    /// Lower bound (exclusive), if any.
    pub lo: Option<Bound>,
    /// Upper bound (inclusive), if any.
    pub hi: Option<Bound>,
}

fn number(text: &str) -> Option<f64> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && !text.ends_with('.');
    text.parse::<f64>().ok().filter(|v| ok && v.is_finite())
}

fn percent(text: &str) -> Option<f64> {
    number(text).filter(|p| (0.0..=100.0).contains(p))
}

/// `a%:b%`, `a:b`, `:b`, `a:` (both sides of one kind).
fn bounds(inner: &str, allow_percent: bool) -> Option<(Option<Bound>, Option<Bound>)> {
    let (a, b) = inner.split_once(':')?;
    let side = |t: &str| -> Option<Option<Bound>> {
        if t.is_empty() {
            return Some(None);
        }
        match t.strip_suffix('%') {
            Some(p) if allow_percent => percent(p).map(|p| Some(Bound::Percent(p))),
            Some(_) => None,
            None => number(t).map(|v| Some(Bound::Value(v))),
        }
    };
    let (lo, hi) = (side(a)?, side(b)?);
    let is_pct = |b: Option<Bound>| b.map(|b| matches!(b, Bound::Percent(_)));
    match (is_pct(lo), is_pct(hi)) {
        (None, None) => None,
        (Some(x), Some(y)) if x != y => None,
        _ => Some((lo, hi)),
    }
}

/// Parse a trimmed statistic or `PR(n:m)`; `None` for anything else.
pub fn parse(name: &str) -> Option<Stat> {
    if name == "IQM" {
        return Some(Stat::Trimmed(Trim {
            kind: Kind::Mean,
            lo: Some(Bound::Percent(25.0)),
            hi: Some(Bound::Percent(75.0)),
        }));
    }
    let kinds = [
        ("tm", "TM", Kind::Mean),
        ("wm", "WM", Kind::Winsorized),
        ("tc", "TC", Kind::Count),
        ("ts", "TS", Kind::Sum),
    ];
    for (short, long, kind) in kinds {
        if let Some(p) = name.strip_prefix(short) {
            let p = percent(p)?;
            return Some(Stat::Trimmed(Trim {
                kind,
                lo: None,
                hi: Some(Bound::Percent(p)),
            }));
        }
        if let Some(inner) = name
            .strip_prefix(long)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
        {
            let (lo, hi) = bounds(inner, true)?;
            return Some(Stat::Trimmed(Trim { kind, lo, hi }));
        }
    }
    let inner = name.strip_prefix("PR(")?.strip_suffix(')')?;
    let (lo, hi) = bounds(inner, false)?;
    let value = |b: Option<Bound>| match b {
        Some(Bound::Value(v)) => Some(v),
        _ => None,
    };
    Some(Stat::PercentileRank(value(lo), value(hi)))
}

/// The weight of each (value, count) pair inside the bounds, in order.
fn inside(trim: &Trim, values: &[(f64, f64)], total: f64) -> Vec<f64> {
    let rank = |b: Option<Bound>, default: f64| match b {
        Some(Bound::Percent(p)) => p / 100.0 * total,
        _ => default,
    };
    let (lo_rank, hi_rank) = (rank(trim.lo, 0.0), rank(trim.hi, total));
    let mut cum = 0.0;
    values
        .iter()
        .map(|&(v, c)| {
            let (start, end) = (cum, cum + c);
            cum = end;
            let by_rank = (end.min(hi_rank) - start.max(lo_rank)).max(0.0);
            let in_values = !matches!(trim.lo, Some(Bound::Value(lo)) if v <= lo)
                && !matches!(trim.hi, Some(Bound::Value(hi)) if v > hi);
            if in_values { by_rank } else { 0.0 }
        })
        .collect()
}

/// A trimmed statistic over sorted (value, count) pairs holding `total` samples.
pub fn compute(trim: Trim, values: &[(f64, f64)], total: f64) -> Option<f64> {
    let weights = inside(&trim, values, total);
    let count: f64 = weights.iter().sum();
    let sum: f64 = values.iter().zip(&weights).map(|((v, _), w)| v * w).sum();
    match trim.kind {
        Kind::Count => Some(count),
        Kind::Sum => Some(sum),
        Kind::Mean => (count > 0.0).then(|| sum / count),
        Kind::Winsorized => {
            let within = || values.iter().zip(&weights).filter(|(_, w)| **w > 0.0);
            let low = within().next()?.0.0;
            let high = within().next_back()?.0.0;
            let mut cum = 0.0;
            let clamped: f64 = values
                .iter()
                .zip(&weights)
                .map(|(&(v, c), w)| {
                    let outside = c - w;
                    let before = cum;
                    cum += c;
                    // The part outside lies below the range when it comes before it.
                    let side = if v < low || (v == low && before < total / 2.0) {
                        low
                    } else {
                        high
                    };
                    outside * side
                })
                .sum();
            Some((sum + clamped) / total)
        }
    }
}

/// `PR(lo:hi)`: the percentage of samples with `lo < v <= hi`.
pub fn percentile_rank(
    lo: Option<f64>,
    hi: Option<f64>,
    values: &[(f64, f64)],
    total: f64,
) -> Option<f64> {
    let within: f64 = values
        .iter()
        .filter(|(v, _)| lo.is_none_or(|lo| *v > lo) && hi.is_none_or(|hi| *v <= hi))
        .map(|(_, c)| c)
        .sum();
    (total > 0.0).then(|| 100.0 * within / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_to_ten() -> Vec<(f64, f64)> {
        (1..=10).map(|v| (f64::from(v), 1.0)).collect()
    }

    fn stat(name: &str) -> f64 {
        let values = one_to_ten();
        match parse(name).unwrap_or_else(|| panic!("{name} parses")) {
            Stat::Trimmed(t) => compute(t, &values, 10.0).unwrap(),
            Stat::PercentileRank(lo, hi) => percentile_rank(lo, hi, &values, 10.0).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trimmed_statistics_of_one_to_ten() {
        assert_eq!(stat("tm90"), 5.0, "mean of 1..9");
        assert_eq!(stat("TM(10%:90%)"), 5.5, "mean of 2..9");
        assert_eq!(stat("IQM"), 5.5, "mean of the middle half, 3.5..8 by rank");
        assert_eq!(stat("TM(2:5)"), 4.0, "values 3, 4, 5");
        assert_eq!(stat("TM(:3)"), 2.0);
        assert_eq!(stat("tc90"), 9.0);
        assert_eq!(stat("ts90"), 45.0);
        assert_eq!(stat("TC(5:)"), 5.0);
        assert_eq!(
            stat("wm80"),
            (36.0 + 2.0 * 8.0) / 10.0,
            "9 and 10 count as 8"
        );
        assert_eq!(
            stat("WM(10%:90%)"),
            (44.0 + 2.0 + 9.0) / 10.0,
            "1 as 2, 10 as 9"
        );
        assert_eq!(stat("PR(:3)"), 30.0);
        assert_eq!(stat("PR(5:8)"), 30.0);
    }

    #[test]
    fn names_are_checked() {
        for bad in [
            "tm",
            "tm101",
            "TM(10%:90)",
            "TM()",
            "TM(:)",
            "PR(10%:)",
            "XX(1:2)",
            "TM(a:b)",
            "iqm",
            "TM(10%:90%",
            "tm9.",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(Stat::extended("p99"), Some(Stat::Percentile(99.0)));
        assert!(Stat::extended("TS(10%:90%)").is_some());
    }
}
