//! Metric math (CloudWatch User Guide, "Using Metric Math"): a parser and evaluator for the
//! subset target tracking, dashboards and math alarms use — arithmetic `+ - * / ^`,
//! comparisons, `AND`/`OR`, `IF`, `SUM/AVG/MIN/MAX/STDDEV`, `METRICS()`, `METRIC_COUNT`,
//! `FILL`, `RATE`, `DIFF`, `DIFF_TIME`, `RUNNING_SUM`, `ABS`, `CEIL`, `FLOOR`, `LOG`, `LOG10`,
//! `PERIOD`; the array and grid functions (`SORT`, `SLICE`, `FIRST`, `LAST`, `REMOVE_EMPTY`,
//! `TIME_SERIES`, `DATAPOINT_COUNT`, `SEARCH`) are in [`super::math_fns`],
//! `ANOMALY_DETECTION_BAND` in [`super::anomaly`]. AWS has no `SQRT`: `m1 ^ 0.5` is its square
//! root.
//!
//! Semantics follow AWS's documented rules: a missing value meets arithmetic as 0, division
//! by zero drops the point, functions of one series give a scalar, of an array a series.

use std::collections::BTreeMap;

/// A time series: timestamp (epoch seconds) → value.
pub type Series = BTreeMap<i64, f64>;

/// A math value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// S.
    Scalar(f64),
    /// TS.
    Ts(Series),
    /// TS[] with each member's id.
    Arr(Vec<(String, Series)>),
}

/// What an expression can refer to.
pub trait Env {
    /// The value of query `id` (a metric or another expression).
    fn lookup(&mut self, id: &str) -> Result<Val, String>;
    /// The MetricStat queries (id, series) whose id contains `filter`, in request order.
    fn metrics(&mut self, filter: &str) -> Result<Vec<(String, Series)>, String>;
    /// The period of query `id`.
    fn period_of(&self, id: &str) -> Option<i64>;
    /// The timestamps of the query grid (for FILL).
    fn grid(&self) -> Vec<i64>;
    /// SEARCH: the stored metrics matching `query`, as (label, series) at `stat` and `period`
    /// (`None`: the expression's own period).
    fn search(
        &mut self,
        _query: &str,
        _stat: &str,
        _period: Option<i64>,
    ) -> Result<Vec<(String, Series)>, String> {
        Err("SEARCH is not available here".into())
    }
    /// ANOMALY_DETECTION_BAND: the (lower, upper) series of the band around metric `id`,
    /// `k` standard deviations wide.
    fn band(&mut self, _id: &str, _k: f64) -> Result<(Series, Series), String> {
        Err("ANOMALY_DETECTION_BAND is not available here".into())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let s = i;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || b[i] == '.'
                    || b[i] == 'e'
                    || b[i] == 'E'
                    || ((b[i] == '-' || b[i] == '+') && matches!(b[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            let text: String = b[s..i].iter().collect();
            out.push(Tok::Num(text.parse().map_err(|_| {
                format!("Unsupported token '{text}' at char {}", s + 1)
            })?));
        } else if c.is_alphabetic() || c == '_' {
            let s = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            let word: String = b[s..i].iter().collect();
            out.push(match word.as_str() {
                "AND" => Tok::Op("AND"),
                "OR" => Tok::Op("OR"),
                _ => Tok::Ident(word),
            });
        } else if c == '"' || c == '\'' {
            let s = i + 1;
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            if i >= b.len() {
                return Err(format!("Unterminated string at char {s}"));
            }
            out.push(Tok::Str(b[s..i].iter().collect()));
            i += 1;
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let op2 = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|o| *o == two);
            if let Some(op) = op2 {
                out.push(Tok::Op(match op {
                    "&&" => "AND",
                    "||" => "OR",
                    o => o,
                }));
                i += 2;
                continue;
            }
            out.push(match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                ',' => Tok::Comma,
                '+' => Tok::Op("+"),
                '-' => Tok::Op("-"),
                '*' => Tok::Op("*"),
                '/' => Tok::Op("/"),
                '^' => Tok::Op("^"),
                '<' => Tok::Op("<"),
                '>' => Tok::Op(">"),
                _ => return Err(format!("Unsupported token '{c}' at char {}", i + 1)),
            });
            i += 1;
        }
    }
    Ok(out)
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64),
    /// A string (METRICS filter).
    Str(String),
    /// A query id.
    Ref(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operator.
    Bin(&'static str, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(String, Vec<Expr>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

const LEVELS: &[&[&str]] = &[
    &["OR"],
    &["AND"],
    &["==", "!=", "<=", ">=", "<", ">"],
    &["+", "-"],
    &["*", "/"],
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn binary(&mut self, level: usize) -> Result<Expr, String> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        while let Some(Tok::Op(op)) = self.peek().cloned() {
            if !LEVELS[level].contains(&op) {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Tok::Op("-")) {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let base = self.primary()?;
        if self.peek() == Some(&Tok::Op("^")) {
            self.pos += 1;
            let exp = self.unary()?;
            return Ok(Expr::Bin("^", Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::LParen) => {
                let e = self.binary(0)?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err("Missing ')'".into()),
                }
            }
            Some(Tok::Ident(name)) if self.peek() == Some(&Tok::LParen) => {
                self.pos += 1;
                let mut args = Vec::new();
                if self.peek() == Some(&Tok::RParen) {
                    self.pos += 1;
                } else {
                    loop {
                        args.push(self.binary(0)?);
                        match self.next() {
                            Some(Tok::Comma) => {}
                            Some(Tok::RParen) => break,
                            _ => return Err(format!("Missing ')' in call to {name}")),
                        }
                    }
                }
                Ok(Expr::Call(name, args))
            }
            Some(Tok::Ident(name)) => Ok(Expr::Ref(name)),
            Some(t) => Err(format!("Unsupported token {t:?}")),
            None => Err("Unexpected end of expression".into()),
        }
    }
}

/// Parse an expression.
pub fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
    };
    let e = p.binary(0)?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(format!(
            "Unsupported token {t:?} after a complete expression"
        )),
    }
}

/// The query ids an expression refers to directly.
pub fn references(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Ref(id) => out.push(id.clone()),
        Expr::Neg(a) => references(a, out),
        Expr::Bin(_, a, b) => {
            references(a, out);
            references(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| references(a, out)),
        Expr::Num(_) | Expr::Str(_) => {}
    }
}

fn binop(op: &str, a: f64, b: f64) -> Option<f64> {
    let t = |c: bool| Some(if c { 1.0 } else { 0.0 });
    match op {
        "+" => Some(a + b),
        "-" => Some(a - b),
        "*" => Some(a * b),
        "/" => (b != 0.0).then(|| a / b),
        "^" => Some(a.powf(b)).filter(|v| v.is_finite()),
        "==" => t(a == b),
        "!=" => t(a != b),
        "<=" => t(a <= b),
        ">=" => t(a >= b),
        "<" => t(a < b),
        ">" => t(a > b),
        "AND" => t(a != 0.0 && b != 0.0),
        "OR" => t(a != 0.0 || b != 0.0),
        _ => None,
    }
}

fn series_op(op: &str, a: &Series, b: &Series) -> Series {
    let mut out = Series::new();
    for t in a.keys().chain(b.keys()) {
        if out.contains_key(t) {
            continue;
        }
        let x = a.get(t).copied().unwrap_or(0.0);
        let y = b.get(t).copied().unwrap_or(0.0);
        if let Some(v) = binop(op, x, y) {
            out.insert(*t, v);
        }
    }
    out
}

fn map_series(s: &Series, f: impl Fn(f64) -> Option<f64>) -> Series {
    s.iter()
        .filter_map(|(t, v)| f(*v).map(|v| (*t, v)))
        .collect()
}

fn apply(op: &str, a: Val, b: Val) -> Val {
    use Val::*;
    match (a, b) {
        (Scalar(x), Scalar(y)) => binop(op, x, y).map_or(Ts(Series::new()), Scalar),
        (Ts(s), Scalar(y)) => Ts(map_series(&s, |x| binop(op, x, y))),
        (Scalar(x), Ts(s)) => Ts(map_series(&s, |y| binop(op, x, y))),
        (Ts(s), Ts(u)) => Ts(series_op(op, &s, &u)),
        (Arr(v), other) => Arr(v
            .into_iter()
            .map(|(id, s)| match apply(op, Ts(s), other.clone()) {
                Ts(r) => (id, r),
                _ => (id, Series::new()),
            })
            .collect()),
        (other, Arr(v)) => Arr(v
            .into_iter()
            .map(|(id, s)| match apply(op, other.clone(), Ts(s)) {
                Ts(r) => (id, r),
                _ => (id, Series::new()),
            })
            .collect()),
    }
}

fn reduce(name: &str, vals: &[f64], n_series: usize) -> Option<f64> {
    if vals.is_empty() {
        return None;
    }
    let sum: f64 = vals.iter().sum();
    Some(match name {
        "SUM" => sum,
        "AVG" => sum / n_series.max(vals.len()) as f64,
        "MIN" => vals.iter().copied().fold(f64::INFINITY, f64::min),
        "MAX" => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        _ => {
            let mean = sum / vals.len() as f64;
            (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64).sqrt()
        }
    })
}

fn per_point(s: &Series, f: impl Fn(i64, f64, i64, f64) -> Option<f64>) -> Series {
    s.iter()
        .zip(s.iter().skip(1))
        .filter_map(|((t0, v0), (t1, v1))| f(*t0, *v0, *t1, *v1).map(|v| (*t1, v)))
        .collect()
}

/// Evaluate an expression.
pub fn eval(e: &Expr, env: &mut dyn Env) -> Result<Val, String> {
    Ok(match e {
        Expr::Num(n) => Val::Scalar(*n),
        Expr::Str(_) => {
            return Err("A string is only allowed as the argument of METRICS or SEARCH".into());
        }
        Expr::Ref(id) => env.lookup(id)?,
        Expr::Neg(a) => apply("*", eval(a, env)?, Val::Scalar(-1.0)),
        Expr::Bin(op, a, b) => apply(op, eval(a, env)?, eval(b, env)?),
        Expr::Call(name, args) => call(name, args, env)?,
    })
}

fn call(name: &str, args: &[Expr], env: &mut dyn Env) -> Result<Val, String> {
    let arity = |n: std::ops::RangeInclusive<usize>| {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(format!("Wrong number of arguments for {name}"))
        }
    };
    match name {
        "METRICS" => {
            arity(0..=1)?;
            let filter = match args.first() {
                None => String::new(),
                Some(Expr::Str(s)) => s.clone(),
                Some(_) => return Err("METRICS expects a string".into()),
            };
            Ok(Val::Arr(env.metrics(&filter)?))
        }
        "PERIOD" => {
            arity(1..=1)?;
            match &args[0] {
                Expr::Ref(id) => env
                    .period_of(id)
                    .map(|p| Val::Scalar(p as f64))
                    .ok_or_else(|| format!("PERIOD: unknown metric {id}")),
                _ => Err("PERIOD expects a metric id".into()),
            }
        }
        "SUM" | "AVG" | "MIN" | "MAX" | "STDDEV" => {
            arity(1..=1)?;
            match eval(&args[0], env)? {
                Val::Scalar(x) => Ok(Val::Scalar(x)),
                Val::Ts(s) => {
                    let vals: Vec<f64> = s.values().copied().collect();
                    reduce(name, &vals, vals.len())
                        .map_or_else(|| Ok(Val::Ts(Series::new())), |v| Ok(Val::Scalar(v)))
                }
                Val::Arr(list) => {
                    let mut by_t: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                    for (_, s) in &list {
                        for (t, v) in s {
                            by_t.entry(*t).or_default().push(*v);
                        }
                    }
                    Ok(Val::Ts(
                        by_t.into_iter()
                            .filter_map(|(t, vals)| reduce(name, &vals, list.len()).map(|v| (t, v)))
                            .collect(),
                    ))
                }
            }
        }
        "METRIC_COUNT" => {
            arity(1..=1)?;
            match eval(&args[0], env)? {
                Val::Arr(list) => Ok(Val::Scalar(list.len() as f64)),
                Val::Ts(_) => Ok(Val::Scalar(1.0)),
                Val::Scalar(_) => Err("METRIC_COUNT expects an array of time series".into()),
            }
        }
        "ABS" | "CEIL" | "FLOOR" | "LOG" | "LOG10" | "RATE" | "DIFF" | "DIFF_TIME"
        | "RUNNING_SUM" => {
            arity(1..=1)?;
            let v = eval(&args[0], env)?;
            unary(name, v)
        }
        "FILL" => {
            arity(2..=2)?;
            let v = eval(&args[0], env)?;
            let how = match &args[1] {
                Expr::Ref(w) if w == "REPEAT" || w == "LINEAR" => Fill::Mode(w.clone()),
                other => match eval(other, env)? {
                    Val::Scalar(x) => Fill::Value(x),
                    _ => return Err("FILL expects a number, REPEAT or LINEAR".into()),
                },
            };
            let grid = env.grid();
            map_val(v, &|s| fill(s, &how, &grid))
        }
        "IF" => {
            arity(2..=3)?;
            let cond = eval(&args[0], env)?;
            let a = eval(&args[1], env)?;
            let b = args.get(2).map(|x| eval(x, env)).transpose()?;
            if_(cond, a, b)
        }
        "ANOMALY_DETECTION_BAND" => {
            arity(1..=2)?;
            let Expr::Ref(id) = &args[0] else {
                return Err("ANOMALY_DETECTION_BAND expects the id of a metric".into());
            };
            let k = match args.get(1) {
                None => 2.0,
                Some(e) => match eval(e, env)? {
                    Val::Scalar(k) if k > 0.0 => k,
                    _ => return Err("ANOMALY_DETECTION_BAND expects a positive width".into()),
                },
            };
            let (lower, upper) = env.band(id, k)?;
            Ok(Val::Arr(vec![
                ("Lower".into(), lower),
                ("Upper".into(), upper),
            ]))
        }
        _ => super::math_fns::call(name, args, env)
            .unwrap_or_else(|| Err(format!("Unsupported function {name}"))),
    }
}

enum Fill {
    Value(f64),
    Mode(String),
}

fn fill(s: &Series, how: &Fill, grid: &[i64]) -> Series {
    let mut out = s.clone();
    for &t in grid {
        if s.contains_key(&t) {
            continue;
        }
        let before = s.range(..t).next_back();
        let after = s.range(t..).next();
        let v = match how {
            Fill::Value(x) => Some(*x),
            Fill::Mode(m) if m == "REPEAT" => before.or(after).map(|(_, v)| *v),
            Fill::Mode(_) => match (before, after) {
                (Some((t0, v0)), Some((t1, v1))) => {
                    Some(v0 + (v1 - v0) * (t - t0) as f64 / (t1 - t0) as f64)
                }
                _ => None,
            },
        };
        if let Some(v) = v {
            out.insert(t, v);
        }
    }
    out
}

fn map_val(v: Val, f: &dyn Fn(&Series) -> Series) -> Result<Val, String> {
    Ok(match v {
        Val::Ts(s) => Val::Ts(f(&s)),
        Val::Arr(list) => Val::Arr(list.into_iter().map(|(id, s)| (id, f(&s))).collect()),
        Val::Scalar(_) => return Err("expected a time series".into()),
    })
}

fn unary(name: &str, v: Val) -> Result<Val, String> {
    let scalar = |x: f64| -> Option<f64> {
        match name {
            "ABS" => Some(x.abs()),
            "CEIL" => Some(x.ceil()),
            "FLOOR" => Some(x.floor()),
            "LOG" => (x > 0.0).then(|| x.ln()),
            "LOG10" => (x > 0.0).then(|| x.log10()),
            _ => None,
        }
    };
    if let Val::Scalar(x) = v {
        return scalar(x)
            .map(Val::Scalar)
            .ok_or_else(|| format!("{name} expects a time series"));
    }
    map_val(v, &|s: &Series| match name {
        "RATE" => per_point(s, |t0, v0, t1, v1| Some((v1 - v0) / (t1 - t0) as f64)),
        "DIFF" => per_point(s, |_, v0, _, v1| Some(v1 - v0)),
        "DIFF_TIME" => per_point(s, |t0, _, t1, _| Some((t1 - t0) as f64)),
        "RUNNING_SUM" => {
            let mut acc = 0.0;
            s.iter()
                .map(|(t, v)| {
                    acc += v;
                    (*t, acc)
                })
                .collect()
        }
        _ => map_series(s, scalar),
    })
}

fn if_(cond: Val, a: Val, b: Option<Val>) -> Result<Val, String> {
    let at = |v: &Val, t: i64| match v {
        Val::Scalar(x) => Some(*x),
        Val::Ts(s) => s.get(&t).copied(),
        Val::Arr(_) => None,
    };
    match cond {
        Val::Scalar(c) => Ok(if c != 0.0 {
            a
        } else {
            b.unwrap_or(Val::Ts(Series::new()))
        }),
        Val::Ts(c) => Ok(Val::Ts(
            c.iter()
                .filter_map(|(t, cv)| {
                    if *cv != 0.0 {
                        Some((*t, at(&a, *t).unwrap_or(0.0)))
                    } else {
                        b.as_ref().and_then(|b| at(b, *t)).map(|v| (*t, v))
                    }
                })
                .collect(),
        )),
        Val::Arr(_) => Err("IF expects a time series condition".into()),
    }
}

/// Convenience for tests and single expressions without references.
pub fn eval_str(src: &str, env: &mut dyn Env) -> Result<Val, String> {
    eval(&parse(src)?, env)
}

#[cfg(test)]
#[path = "math_tests.rs"]
mod tests;
