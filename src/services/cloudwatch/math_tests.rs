//! Metric math against the examples of the CloudWatch User Guide page "Using Metric Math".

use super::*;

struct Fixed(Vec<(String, Series)>);

impl Env for Fixed {
    fn lookup(&mut self, id: &str) -> Result<Val, String> {
        self.0
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, s)| Val::Ts(s.clone()))
            .ok_or_else(|| format!("unknown {id}"))
    }
    fn metrics(&mut self, filter: &str) -> Result<Vec<(String, Series)>, String> {
        Ok(self
            .0
            .iter()
            .filter(|(i, _)| i.contains(filter))
            .cloned()
            .collect())
    }
    fn period_of(&self, _id: &str) -> Option<i64> {
        Some(60)
    }
    fn grid(&self) -> Vec<i64> {
        (0..5).map(|k| k * 60).collect()
    }
}

/// A series over t = 0, 60, 120, ... from values (`None` = missing).
fn ts(values: &[Option<f64>]) -> Series {
    values
        .iter()
        .enumerate()
        .filter_map(|(k, v)| v.map(|v| (k as i64 * 60, v)))
        .collect()
}

fn env() -> Fixed {
    Fixed(vec![
        (
            "m1".into(),
            ts(&[Some(30.0), Some(20.0), Some(0.0), Some(0.0)]),
        ),
        ("m2".into(), ts(&[Some(20.0), None, Some(20.0), None])),
    ])
}

fn run(src: &str, e: &mut Fixed) -> Val {
    eval_str(src, e).unwrap_or_else(|err| panic!("{src}: {err}"))
}

#[test]
fn comparisons_and_logic_treat_missing_as_zero() {
    let mut e = env();
    assert_eq!(
        run("m1 < m2", &mut e),
        Val::Ts(ts(&[Some(0.0), Some(0.0), Some(1.0), Some(0.0)]))
    );
    assert_eq!(
        run("m1 >= 30", &mut e),
        Val::Ts(ts(&[Some(1.0), Some(0.0), Some(0.0), Some(0.0)]))
    );
    assert_eq!(
        run("m1 > 15 AND m2 > 15", &mut e),
        Val::Ts(ts(&[Some(1.0), Some(0.0), Some(0.0), Some(0.0)]))
    );
}

#[test]
fn if_follows_the_aws_tables() {
    let mut e = Fixed(vec![
        (
            "m1".into(),
            ts(&[Some(1.0), Some(1.0), Some(0.0), Some(0.0), None]),
        ),
        (
            "m2".into(),
            ts(&[Some(30.0), None, Some(0.0), Some(0.0), Some(30.0)]),
        ),
        (
            "m3".into(),
            ts(&[Some(0.0), Some(0.0), Some(20.0), None, Some(20.0)]),
        ),
    ]);
    assert_eq!(
        run("IF(m1, m2, m3)", &mut e),
        Val::Ts(ts(&[Some(30.0), Some(0.0), Some(20.0)]))
    );
    assert_eq!(
        run("IF(m1, 5, m3)", &mut e),
        Val::Ts(ts(&[Some(5.0), Some(5.0), Some(20.0)]))
    );
    assert_eq!(
        run("IF(m1, m2, 5)", &mut e),
        Val::Ts(ts(&[Some(30.0), Some(0.0), Some(5.0), Some(5.0)]))
    );
}

#[test]
fn arithmetic_functions_and_arrays() {
    let mut e = env();
    assert_eq!(run("SUM(m1)", &mut e), Val::Scalar(50.0));
    assert_eq!(
        run("(m1 + m2) / 2", &mut e),
        Val::Ts(ts(&[Some(25.0), Some(10.0), Some(10.0), Some(0.0)]))
    );
    // Division by zero drops the point.
    assert_eq!(
        run("m2 / m1", &mut e),
        Val::Ts(ts(&[Some(20.0 / 30.0), Some(0.0)]))
    );
    assert_eq!(
        run("SUM(METRICS())", &mut e),
        Val::Ts(ts(&[Some(50.0), Some(20.0), Some(20.0), Some(0.0)]))
    );
    assert_eq!(
        run("MAX(METRICS(\"2\"))", &mut e),
        Val::Ts(ts(&[Some(20.0), None, Some(20.0)]))
    );
    assert_eq!(run("METRIC_COUNT(METRICS())", &mut e), Val::Scalar(2.0));
    assert_eq!(
        run("-m1 ^ 2 + 2 * 3", &mut e),
        Val::Ts(ts(&[Some(-894.0), Some(-394.0), Some(6.0), Some(6.0)]))
    );
    assert_eq!(
        run("DIFF(m1)", &mut e),
        Val::Ts([(60, -10.0), (120, -20.0), (180, 0.0)].into())
    );
    assert_eq!(
        run("RATE(m1)", &mut e),
        Val::Ts([(60, -10.0 / 60.0), (120, -20.0 / 60.0), (180, 0.0)].into())
    );
    assert_eq!(
        run("FILL(m2, 0)", &mut e),
        Val::Ts(ts(&[
            Some(20.0),
            Some(0.0),
            Some(20.0),
            Some(0.0),
            Some(0.0)
        ]))
    );
    assert_eq!(
        run("FILL(m2, REPEAT)", &mut e),
        Val::Ts(ts(&[
            Some(20.0),
            Some(20.0),
            Some(20.0),
            Some(20.0),
            Some(20.0)
        ]))
    );
    assert_eq!(run("PERIOD(m1)", &mut e), Val::Scalar(60.0));
}

#[test]
fn syntax_errors_are_reported() {
    for bad in ["m1 +", "(m1", "NOPE(m1)", "m1 $ 2", "SUM(m1, m2)"] {
        assert!(eval_str(bad, &mut env()).is_err(), "{bad}");
    }
}

fn arr(v: Val) -> Vec<(String, Series)> {
    match v {
        Val::Arr(list) => list,
        other => panic!("not an array: {other:?}"),
    }
}

fn ids(v: Val) -> Vec<String> {
    arr(v).into_iter().map(|(id, _)| id).collect()
}

fn three() -> Fixed {
    Fixed(vec![
        ("a".into(), ts(&[Some(1.0), Some(1.0)])),
        ("b".into(), ts(&[Some(9.0), None, Some(9.0)])),
        ("c".into(), ts(&[Some(5.0), Some(5.0)])),
        ("d".into(), Series::new()),
    ])
}

#[test]
fn sort_slice_first_last_and_remove_empty() {
    let mut e = three();
    assert_eq!(
        ids(run("SORT(METRICS(), AVG, DESC)", &mut e)),
        ["b", "c", "a", "d"]
    );
    assert_eq!(ids(run("SORT(METRICS(), SUM, ASC, 2)", &mut e)), ["a", "c"]);
    assert_eq!(
        ids(run("SORT(METRICS(), COUNT, DESC)", &mut e)),
        ["a", "b", "c", "d"]
    );
    assert_eq!(ids(run("SLICE(METRICS(), 1, 3)", &mut e)), ["b", "c"]);
    assert_eq!(
        ids(run("SLICE(SORT(METRICS(), MAX, DESC), 0, 1)", &mut e)),
        ["b"]
    );
    assert_eq!(ids(run("REMOVE_EMPTY(METRICS())", &mut e)), ["a", "b", "c"]);
    assert_eq!(
        run("FIRST(SORT(METRICS(), MAX, DESC))", &mut e),
        Val::Ts(ts(&[Some(9.0), None, Some(9.0)]))
    );
    assert_eq!(
        run("LAST(REMOVE_EMPTY(METRICS()))", &mut e),
        Val::Ts(ts(&[Some(5.0), Some(5.0)]))
    );
    assert_eq!(
        run("DATAPOINT_COUNT(METRICS())", &mut e),
        Val::Ts(ts(&[Some(3.0), Some(2.0), Some(1.0)]))
    );
    assert_eq!(run("DATAPOINT_COUNT(b)", &mut e), Val::Scalar(2.0));
    for bad in [
        "SORT(METRICS(), MEDIAN, DESC)",
        "SORT(METRICS(), AVG, UP)",
        "SLICE(METRICS(), 2, 1)",
        "SLICE(METRICS(), 0.5, 1)",
        "FIRST(5)",
        "SQRT(a)",
    ] {
        assert!(eval_str(bad, &mut three()).is_err(), "{bad}");
    }
}

#[test]
fn scalar_functions_and_time_series() {
    let mut e = Fixed(vec![(
        "m".into(),
        ts(&[Some(-2.5), Some(100.0), Some(0.0), Some(2.5)]),
    )]);
    assert_eq!(
        run("ABS(m)", &mut e),
        Val::Ts(ts(&[Some(2.5), Some(100.0), Some(0.0), Some(2.5)]))
    );
    assert_eq!(
        run("FLOOR(m)", &mut e),
        Val::Ts(ts(&[Some(-3.0), Some(100.0), Some(0.0), Some(2.0)]))
    );
    assert_eq!(
        run("CEIL(m)", &mut e),
        Val::Ts(ts(&[Some(-2.0), Some(100.0), Some(0.0), Some(3.0)]))
    );
    // LOG and LOG10 drop the points where they are undefined.
    assert_eq!(
        run("LOG10(m)", &mut e),
        Val::Ts([(60, 2.0), (180, 2.5f64.log10())].into())
    );
    assert_eq!(
        run("LOG(m)", &mut e),
        Val::Ts([(60, 100f64.ln()), (180, 2.5f64.ln())].into())
    );
    assert_eq!(
        run("m ^ 0.5", &mut e),
        Val::Ts([(60, 10.0), (120, 0.0), (180, 2.5f64.sqrt())].into())
    );
    assert_eq!(run("STDDEV(ABS(m))", &mut e), {
        let v = [2.5, 100.0, 0.0, 2.5];
        let mean = v.iter().sum::<f64>() / 4.0;
        Val::Scalar((v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt())
    });
    assert_eq!(
        run("TIME_SERIES(7)", &mut e),
        Val::Ts(ts(&[Some(7.0), Some(7.0), Some(7.0), Some(7.0), Some(7.0)]))
    );
    assert_eq!(
        run("m + TIME_SERIES(PERIOD(m))", &mut e),
        Val::Ts(ts(&[
            Some(57.5),
            Some(160.0),
            Some(60.0),
            Some(62.5),
            Some(60.0)
        ]))
    );
    assert!(eval_str("TIME_SERIES(m)", &mut e).is_err());
}
