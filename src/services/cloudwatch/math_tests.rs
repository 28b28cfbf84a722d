//! Metric math against the examples of AWS's `using-metric-math` page (research §2.6).

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
