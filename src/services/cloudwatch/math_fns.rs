//! Metric math functions over arrays of time series and the query grid: `SORT`, `SLICE`,
//! `FIRST`, `LAST`, `REMOVE_EMPTY`, `TIME_SERIES`, `DATAPOINT_COUNT`, and `SEARCH` (whose
//! matching lives in [`super::search`]). Split from [`super::math`] by subject.

use super::math::{Env, Expr, Series, Val, eval};

/// Evaluate one of this module's functions; `None` when `name` is not one of them.
pub fn call(name: &str, args: &[Expr], env: &mut dyn Env) -> Option<Result<Val, String>> {
    let arity = |n: std::ops::RangeInclusive<usize>| {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(format!("Wrong number of arguments for {name}"))
        }
    };
    Some(match name {
        "SORT" => arity(3..=4).and_then(|()| sort(args, env)),
        "SLICE" => arity(3..=3).and_then(|()| slice(args, env)),
        "FIRST" | "LAST" => arity(1..=1).and_then(|()| {
            let list = array(name, eval(&args[0], env)?)?;
            let pick = if name == "FIRST" {
                list.into_iter().next()
            } else {
                list.into_iter().next_back()
            };
            Ok(Val::Ts(pick.map(|(_, s)| s).unwrap_or_default()))
        }),
        "REMOVE_EMPTY" => arity(1..=1).and_then(|()| match eval(&args[0], env)? {
            Val::Arr(list) => Ok(Val::Arr(
                list.into_iter().filter(|(_, s)| !s.is_empty()).collect(),
            )),
            Val::Ts(s) => Ok(Val::Ts(s)),
            Val::Scalar(_) => Err("REMOVE_EMPTY expects an array of time series".into()),
        }),
        "TIME_SERIES" => arity(1..=1).and_then(|()| match eval(&args[0], env)? {
            Val::Scalar(x) => Ok(Val::Ts(env.grid().into_iter().map(|t| (t, x)).collect())),
            _ => Err("TIME_SERIES expects a scalar".into()),
        }),
        "DATAPOINT_COUNT" => arity(1..=1).and_then(|()| match eval(&args[0], env)? {
            Val::Ts(s) => Ok(Val::Scalar(s.len() as f64)),
            Val::Arr(list) => {
                let mut out = Series::new();
                for (_, s) in &list {
                    for t in s.keys() {
                        *out.entry(*t).or_insert(0.0) += 1.0;
                    }
                }
                Ok(Val::Ts(out))
            }
            Val::Scalar(_) => Err("DATAPOINT_COUNT expects a time series".into()),
        }),
        "SEARCH" => arity(2..=3).and_then(|()| search(args, env)),
        _ => return None,
    })
}

fn array(name: &str, v: Val) -> Result<Vec<(String, Series)>, String> {
    match v {
        Val::Arr(list) => Ok(list),
        Val::Ts(s) => Ok(vec![(String::new(), s)]),
        Val::Scalar(_) => Err(format!("{name} expects an array of time series")),
    }
}

fn word(e: &Expr) -> Option<&str> {
    match e {
        Expr::Ref(w) | Expr::Str(w) => Some(w),
        _ => None,
    }
}

fn whole_number(name: &str, v: Val) -> Result<i64, String> {
    match v {
        Val::Scalar(x) if x.fract() == 0.0 && x >= 0.0 => Ok(x as i64),
        _ => Err(format!("{name} expects a non-negative whole number")),
    }
}

/// The value SORT ranks a series by.
fn rank(func: &str, s: &Series) -> f64 {
    let vals = s.values().copied();
    if s.is_empty() {
        return f64::NAN;
    }
    match func {
        "COUNT" => s.len() as f64,
        "SUM" => vals.sum(),
        "MAX" => vals.fold(f64::NEG_INFINITY, f64::max),
        "MIN" => vals.fold(f64::INFINITY, f64::min),
        _ => vals.sum::<f64>() / s.len() as f64,
    }
}

/// SORT(TS[], AVG|COUNT|MAX|MIN|SUM, ASC|DESC[, S]): the array ordered by a function of each
/// series over the whole range; empty series go last; S keeps the first S.
fn sort(args: &[Expr], env: &mut dyn Env) -> Result<Val, String> {
    let list = array("SORT", eval(&args[0], env)?)?;
    let func = word(&args[1])
        .filter(|f| matches!(*f, "AVG" | "COUNT" | "MAX" | "MIN" | "SUM"))
        .ok_or("SORT: the second argument must be one of AVG, COUNT, MAX, MIN, SUM")?;
    let desc = match word(&args[2]) {
        Some("ASC") => false,
        Some("DESC") => true,
        _ => return Err("SORT: the third argument must be ASC or DESC".into()),
    };
    let limit = match args.get(3) {
        Some(e) => Some(whole_number("SORT", eval(e, env)?)? as usize),
        None => None,
    };
    let mut ranked: Vec<(f64, (String, Series))> =
        list.into_iter().map(|m| (rank(func, &m.1), m)).collect();
    ranked.sort_by(|(a, _), (b, _)| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if desc => b.total_cmp(a),
        _ => a.total_cmp(b),
    });
    let kept = ranked
        .into_iter()
        .map(|(_, m)| m)
        .take(limit.unwrap_or(usize::MAX));
    Ok(Val::Arr(kept.collect()))
}

/// SLICE(TS[], start, end): members `start` (inclusive) to `end` (exclusive), 0-based.
fn slice(args: &[Expr], env: &mut dyn Env) -> Result<Val, String> {
    let list = array("SLICE", eval(&args[0], env)?)?;
    let from = whole_number("SLICE", eval(&args[1], env)?)? as usize;
    let to = whole_number("SLICE", eval(&args[2], env)?)? as usize;
    if to < from {
        return Err("SLICE: the end must not be before the start".into());
    }
    Ok(Val::Arr(
        list.into_iter().skip(from).take(to - from).collect(),
    ))
}

/// SEARCH('{Namespace,Dim} terms', 'Stat'[, Period]).
fn search(args: &[Expr], env: &mut dyn Env) -> Result<Val, String> {
    let (Expr::Str(query), Expr::Str(stat)) = (&args[0], &args[1]) else {
        return Err("SEARCH expects a quoted search expression and a quoted statistic".into());
    };
    let period = match args.get(2) {
        Some(e) => Some(whole_number("SEARCH", eval(e, env)?)?),
        None => None,
    };
    Ok(Val::Arr(env.search(query, stat, period)?))
}
