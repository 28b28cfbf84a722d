//! Table tests of the evaluation decision, against the two tables of the CloudWatch User
//! Guide ("Using Amazon CloudWatch alarms", "How alarm state is evaluated when data is
//! missing": N = 3 with M = 3 and M = 2), and of its texts, against real StateReasons.

use super::*;

const T0: f64 = 1_795_838_400.0; // 2026-11-28T04:00:00Z

fn rule(n: usize, m: Option<usize>, missing: MissingData) -> Rule {
    Rule {
        period: 300,
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold: 50.0,
        comparison: Comparison::Ge,
        missing,
        min_samples: None,
    }
}

/// Slots from a pattern written oldest → newest (`0` good, `X` breaching, `-` missing).
fn slots(pattern: &str, period: f64) -> Vec<Slot> {
    let cells: Vec<&str> = pattern.split_whitespace().collect();
    cells
        .iter()
        .rev()
        .enumerate()
        .map(|(k, c)| Slot {
            start: T0 - (k as f64 + 1.0) * period,
            value: match *c {
                "0" => Some(0.0),
                "X" => Some(100.0),
                _ => None,
            },
            sample_count: (*c != "-").then_some(1.0),
            band: None,
        })
        .collect()
}

fn outcome(r: &Rule, pattern: &str) -> &'static str {
    match decide(r, &slots(pattern, 300.0)) {
        None => "keep",
        Some((s, _)) => s.as_str(),
    }
}

const TREATMENTS: [MissingData; 4] = [
    MissingData::Missing,
    MissingData::Ignore,
    MissingData::Breaching,
    MissingData::NotBreaching,
];

#[test]
fn aws_table_three_of_three() {
    let rows = [
        ("0 - X - X", ["OK", "OK", "OK", "OK"]),
        ("0 - - - -", ["OK", "OK", "OK", "OK"]),
        ("- - - - -", ["INSUFFICIENT_DATA", "keep", "ALARM", "OK"]),
        ("0 X X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
        ("- - X - -", ["ALARM", "keep", "ALARM", "OK"]),
        ("- - - - X", ["keep", "keep", "ALARM", "OK"]),
        ("- - - X -", ["keep", "keep", "ALARM", "OK"]),
    ];
    for (pattern, expected) in rows {
        for (t, want) in TREATMENTS.iter().zip(expected) {
            assert_eq!(
                outcome(&rule(3, None, *t), pattern),
                want,
                "{pattern} {t:?}"
            );
        }
    }
}

#[test]
fn aws_table_two_of_three() {
    let rows = [
        ("0 - X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
        ("0 0 X 0 X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
        ("0 - X - -", ["OK", "OK", "ALARM", "OK"]),
        ("- - - - 0", ["OK", "OK", "ALARM", "OK"]),
        ("- - - X -", ["ALARM", "keep", "ALARM", "OK"]),
    ];
    for (pattern, expected) in rows {
        for (t, want) in TREATMENTS.iter().zip(expected) {
            assert_eq!(
                outcome(&rule(3, Some(2), *t), pattern),
                want,
                "{pattern} {t:?}"
            );
        }
    }
}

#[test]
fn range_length() {
    assert_eq!(range_len(60, 1), 6);
    assert_eq!(range_len(300, 3), 5);
    assert_eq!(range_len(120, 1), 4);
    assert_eq!(range_len(3600, 2), 4);
}

fn reason_for(r: &Rule, values: &[Option<f64>]) -> (StateValue, String, String) {
    let s: Vec<Slot> = values
        .iter()
        .enumerate()
        .map(|(k, v)| Slot {
            start: T0 + 60.0 - (k as f64 + 1.0) * r.period as f64,
            value: *v,
            sample_count: v.map(|_| 1.0),
            band: None,
        })
        .collect();
    let (state, basis) = decide(r, &s).expect("a decision");
    let subject = Subject {
        unit: None,
        statistic: Some("Average"),
        extended_statistic: None,
    };
    (
        state,
        reason(r, &s, state, &basis),
        reason_data(r, &s, &basis, subject, T0 + 125.0),
    )
}

#[test]
fn single_datapoint_reasons() {
    let mut r = rule(1, None, MissingData::Missing);
    r.period = 60;
    r.threshold = 80.0;
    let (state, text, data) = reason_for(&r, &[Some(85.0), None, None, None, None, None]);
    assert_eq!(state, StateValue::Alarm);
    assert_eq!(
        text,
        "Threshold Crossed: 1 datapoint [85.0 (28/11/26 04:00:00)] was greater than or equal to the threshold (80.0)."
    );
    assert_eq!(
        data,
        r#"{"version":"1.0","queryDate":"2026-11-28T04:02:05.000+0000","startDate":"2026-11-28T04:00:00.000+0000","statistic":"Average","period":60,"recentDatapoints":[85.0],"threshold":80.0,"evaluatedDatapoints":[{"timestamp":"2026-11-28T04:00:00.000+0000","sampleCount":1.0,"value":85.0}]}"#
    );
    let (state, text, _) = reason_for(&r, &[Some(10.0)]);
    assert_eq!(state, StateValue::Ok);
    assert_eq!(
        text,
        "Threshold Crossed: 1 datapoint [10.0 (28/11/26 04:00:00)] was not greater than or equal to the threshold (80.0)."
    );
    let (state, text, data) = reason_for(&r, &[None; 6]);
    assert_eq!(state, StateValue::InsufficientData);
    assert_eq!(text, "Insufficient Data: 1 datapoint was unknown.");
    assert!(data.contains(r#""recentDatapoints":[]"#), "{data}");
    assert!(
        data.contains(r#""evaluatedDatapoints":[{"timestamp":"2026-11-28T04:00:00.000+0000"}]"#),
        "{data}"
    );
}

#[test]
fn m_of_n_and_missing_treatment_reasons() {
    let mut r = rule(4, Some(2), MissingData::Missing);
    r.period = 60;
    r.comparison = Comparison::Gt;
    let (state, text, _) = reason_for(&r, &[Some(60.0), Some(10.0), Some(70.0), Some(1.0)]);
    assert_eq!(state, StateValue::Alarm);
    assert_eq!(
        text,
        "Threshold Crossed: 2 out of the last 4 datapoints [60.0 (28/11/26 04:00:00), 70.0 (28/11/26 03:58:00)] were greater than the threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    let r2 = Rule {
        missing: MissingData::Breaching,
        evaluation_periods: 2,
        ..r.clone()
    };
    let r2 = Rule {
        datapoints_to_alarm: None,
        ..r2
    };
    let (state, text, _) = reason_for(&r2, &[None; 7]);
    assert_eq!(state, StateValue::Alarm);
    assert_eq!(
        text,
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."
    );
    let r1 = Rule {
        missing: MissingData::NotBreaching,
        evaluation_periods: 1,
        ..r2
    };
    let (_, text, _) = reason_for(&r1, &[None; 6]);
    assert_eq!(
        text,
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    );
}

#[test]
fn long_form_lists_the_five_newest() {
    let mut r = rule(6, None, MissingData::Missing);
    r.period = 60;
    let (_, text, _) = reason_for(
        &r,
        &[
            Some(91.0),
            Some(92.0),
            Some(93.0),
            Some(94.0),
            Some(95.0),
            Some(96.0),
        ],
    );
    assert_eq!(
        text,
        "Threshold Crossed: 6 datapoints were greater than or equal to the threshold (50.0). The most recent datapoints which crossed the threshold: [91.0 (28/11/26 04:00:00), 92.0 (28/11/26 03:59:00), 93.0 (28/11/26 03:58:00), 94.0 (28/11/26 03:57:00), 95.0 (28/11/26 03:56:00)]."
    );
}

#[test]
fn low_sample_percentiles_can_be_ignored() {
    let mut r = rule(1, None, MissingData::Missing);
    r.min_samples = Some(1000.0);
    assert_eq!(outcome(&r, "- - - - X"), "keep");
    r.min_samples = None;
    assert_eq!(outcome(&r, "- - - - X"), "ALARM");
}

#[test]
fn band_operators_compare_each_period_with_its_band() {
    let mut r = rule(2, None, MissingData::Missing);
    r.period = 60;
    let at = |k: usize, v: f64, band: Option<(f64, f64)>| Slot {
        start: T0 - (k as f64 + 1.0) * 60.0,
        value: Some(v),
        sample_count: Some(1.0),
        band,
    };
    // Newest first: 75 above [30, 70]; 20 below [10, 40] (a band that moved); then no band.
    let s = [
        at(0, 75.0, Some((30.0, 70.0))),
        at(1, 20.0, Some((10.0, 40.0))),
        at(2, 99.0, None),
    ];
    let outcome = |c: Comparison| {
        let mut r = r.clone();
        r.comparison = c;
        decide(&r, &s).map(|(state, _)| state)
    };
    assert_eq!(outcome(Comparison::AboveBand), Some(StateValue::Ok));
    assert_eq!(outcome(Comparison::BelowBand), Some(StateValue::Ok));
    let s2 = [
        at(0, 75.0, Some((30.0, 70.0))),
        at(1, 5.0, Some((10.0, 40.0))),
    ];
    r.comparison = Comparison::OutsideBand;
    let (state, basis) = decide(&r, &s2).expect("a decision");
    assert_eq!(state, StateValue::Alarm);
    assert_eq!(
        reason(&r, &s2, state, &basis),
        "Threshold Crossed: 2 datapoints [75.0 (28/11/26 03:59:00), 5.0 (28/11/26 03:58:00)] were less than the lower thresholds [30.0, 10.0] or greater than the upper thresholds [70.0, 40.0]."
    );
    r.comparison = Comparison::AboveBand;
    assert_eq!(decide(&r, &s2).map(|(st, _)| st), Some(StateValue::Ok));
    // A value without a band point never breaches.
    assert_eq!(
        decide(&r, &[at(0, 1e9, None), at(1, 1e9, None)]).map(|(st, _)| st),
        Some(StateValue::Ok)
    );
}
