//! Metrics Insights queries in `MetricDataQueries[].Expression` (CloudWatch User Guide, "query
//! components and syntax"):
//!
//! ```text
//! SELECT FUNCTION(metricName) FROM namespace | SCHEMA(namespace[, labelKey ...])
//!   [WHERE labelKey OPERATOR labelValue [AND ...]] [GROUP BY labelKey [, ...]]
//!   [ORDER BY FUNCTION() [DESC | ASC]] [LIMIT number]
//! ```
//!
//! FUNCTION is AVG, COUNT, MAX, MIN or SUM over the raw observations of every matching metric
//! in each period; OPERATOR is `=`, `!=`, `LIKE`, `NOT LIKE`, `IN (...)` or `NOT IN (...)`
//! with `%` the LIKE wildcard. Keywords are case-insensitive, names are not. `FROM namespace`
//! takes the metric with any dimensions, `SCHEMA(...)` only those whose dimension names are
//! exactly the listed keys. Without GROUP BY the query returns one series; with it one per
//! group (metrics lacking a group key fall in the group `Other`), ranked by ORDER BY
//! (ascending by default) over the whole range, at most LIMIT (default 500) of them.
//! Anything else (OR, parentheses in WHERE, other functions) is refused with a message
//! naming what is unsupported.

use std::collections::BTreeMap;

use super::math::Series;
use super::stats::{Agg, Stat};
use super::store::MetricKey;

/// An aggregation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// AVG.
    Avg,
    /// COUNT.
    Count,
    /// MAX.
    Max,
    /// MIN.
    Min,
    /// SUM.
    Sum,
}

impl Func {
    fn parse(s: &str) -> Result<Func, String> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "AVG" => Func::Avg,
            "COUNT" => Func::Count,
            "MAX" => Func::Max,
            "MIN" => Func::Min,
            "SUM" => Func::Sum,
            _ => {
                return Err(format!(
                    "Unsupported function {s}: Metrics Insights supports AVG, COUNT, MAX, MIN and SUM"
                ));
            }
        })
    }

    /// The statistic computing this function over an aggregate.
    pub fn stat(self) -> Stat {
        match self {
            Func::Avg => Stat::Average,
            Func::Count => Stat::SampleCount,
            Func::Max => Stat::Maximum,
            Func::Min => Stat::Minimum,
            Func::Sum => Stat::Sum,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Eq(String, String, bool),
    Like(String, String, bool),
    In(String, Vec<String>, bool),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// SELECT function.
    pub func: Func,
    /// The metric name.
    pub metric: String,
    /// The namespace.
    pub namespace: String,
    schema: Option<Vec<String>>,
    filters: Vec<Cond>,
    /// GROUP BY keys.
    pub group_by: Vec<String>,
    order: Option<(Func, bool)>,
    limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Name(String),
    Value(String),
    Num(f64),
    Sym(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '"' || ch == '\'' {
            let s = i + 1;
            i += 1;
            while i < c.len() && c[i] != ch {
                i += 1;
            }
            if i >= c.len() {
                return Err(format!("Unterminated string at position {s}"));
            }
            let text: String = c[s..i].iter().collect();
            out.push(if ch == '"' {
                Tok::Name(text)
            } else {
                Tok::Value(text)
            });
            i += 1;
        } else if ch == '!' && c.get(i + 1) == Some(&'=') {
            out.push(Tok::Sym("!="));
            i += 2;
        } else if let Some(sym) = ["(", ")", ",", "="].into_iter().find(|s| s.starts_with(ch)) {
            out.push(Tok::Sym(sym));
            i += 1;
        } else if ch.is_alphanumeric() || matches!(ch, '_' | '/' | '.' | '-' | ':' | '#') {
            let s = i;
            while i < c.len()
                && (c[i].is_alphanumeric() || matches!(c[i], '_' | '/' | '.' | '-' | ':' | '#'))
            {
                i += 1;
            }
            let text: String = c[s..i].iter().collect();
            out.push(match text.parse::<f64>() {
                Ok(n) if ch.is_ascii_digit() => Tok::Num(n),
                _ => Tok::Word(text),
            });
        } else {
            return Err(format!(
                "Unsupported character '{ch}' at position {}",
                i + 1
            ));
        }
    }
    Ok(out)
}

/// Whether an expression is a Metrics Insights query rather than metric math.
pub fn is_query(expr: &str) -> bool {
    let word: String = expr
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    word.eq_ignore_ascii_case("SELECT")
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_kw(&self, k: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn kw(&mut self, k: &str) -> Result<(), String> {
        if self.peek_kw(k) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("Expected {k} {}", self.at()))
        }
    }

    fn at(&self) -> String {
        match self.toks.get(self.pos) {
            None => "at the end of the query".into(),
            Some(Tok::Word(w) | Tok::Name(w)) => format!("near '{w}'"),
            Some(Tok::Value(v)) => format!("near '{v}'"),
            Some(Tok::Num(n)) => format!("near '{n}'"),
            Some(Tok::Sym(s)) => format!("near '{s}'"),
        }
    }

    fn sym(&mut self, s: &'static str) -> Result<(), String> {
        if self.toks.get(self.pos) == Some(&Tok::Sym(s)) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("Expected '{s}' {}", self.at()))
        }
    }

    fn peek_sym(&self, s: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Sym(x)) if *x == s)
    }

    fn name(&mut self) -> Result<String, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Word(w) | Tok::Name(w)) => {
                self.pos += 1;
                Ok(w)
            }
            _ => Err(format!("Expected a name {}", self.at())),
        }
    }

    fn value(&mut self) -> Result<String, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Value(v)) => {
                self.pos += 1;
                Ok(v)
            }
            _ => Err(format!("Expected a quoted value {}", self.at())),
        }
    }

    fn cond(&mut self) -> Result<Cond, String> {
        if self.peek_sym("(") {
            return Err("Parentheses in WHERE are not supported by Updraft".into());
        }
        let key = self.name()?;
        let negated = self.peek_kw("NOT");
        if negated {
            self.pos += 1;
        }
        if self.peek_sym("=") && !negated {
            self.pos += 1;
            return Ok(Cond::Eq(key, self.value()?, false));
        }
        if self.peek_sym("!=") && !negated {
            self.pos += 1;
            return Ok(Cond::Eq(key, self.value()?, true));
        }
        if self.peek_kw("LIKE") {
            self.pos += 1;
            return Ok(Cond::Like(key, self.value()?, negated));
        }
        if self.peek_kw("IN") {
            self.pos += 1;
            self.sym("(")?;
            let mut vals = vec![self.value()?];
            while self.peek_sym(",") {
                self.pos += 1;
                vals.push(self.value()?);
            }
            self.sym(")")?;
            return Ok(Cond::In(key, vals, negated));
        }
        Err(format!(
            "Unsupported operator {}: WHERE supports =, !=, LIKE, NOT LIKE, IN and NOT IN",
            self.at()
        ))
    }

    fn func_call(&mut self) -> Result<Func, String> {
        let f = Func::parse(&self.name()?)?;
        self.sym("(")?;
        Ok(f)
    }
}

/// Parse a query.
pub fn parse(src: &str) -> Result<Query, String> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
    };
    p.kw("SELECT")?;
    let func = p.func_call()?;
    let metric = p.name()?;
    p.sym(")")?;
    p.kw("FROM")?;
    let (namespace, schema) =
        if p.peek_kw("SCHEMA") && matches!(p.toks.get(p.pos + 1), Some(Tok::Sym("("))) {
            p.pos += 2;
            let ns = p.name()?;
            let mut keys = Vec::new();
            while p.peek_sym(",") {
                p.pos += 1;
                keys.push(p.name()?);
            }
            p.sym(")")?;
            (ns, Some(keys))
        } else {
            (p.name()?, None)
        };
    let mut filters = Vec::new();
    if p.peek_kw("WHERE") {
        p.pos += 1;
        filters.push(p.cond()?);
        loop {
            if p.peek_kw("AND") {
                p.pos += 1;
                filters.push(p.cond()?);
            } else if p.peek_kw("OR") {
                return Err(
                    "OR in WHERE is not supported by Updraft: combine conditions with AND".into(),
                );
            } else {
                break;
            }
        }
    }
    let mut group_by = Vec::new();
    if p.peek_kw("GROUP") {
        p.pos += 1;
        p.kw("BY")?;
        group_by.push(p.name()?);
        while p.peek_sym(",") {
            p.pos += 1;
            group_by.push(p.name()?);
        }
    }
    let mut order = None;
    if p.peek_kw("ORDER") {
        p.pos += 1;
        p.kw("BY")?;
        let f = p.func_call()?;
        p.sym(")")?;
        let desc = if p.peek_kw("DESC") {
            p.pos += 1;
            true
        } else {
            if p.peek_kw("ASC") {
                p.pos += 1;
            }
            false
        };
        order = Some((f, desc));
    }
    let mut limit = 500;
    if p.peek_kw("LIMIT") {
        p.pos += 1;
        limit = match p.toks.get(p.pos) {
            Some(Tok::Num(n)) if n.fract() == 0.0 && (1.0..=500.0).contains(n) => *n as usize,
            _ => {
                return Err(format!(
                    "LIMIT must be a whole number from 1 to 500 {}",
                    p.at()
                ));
            }
        };
        p.pos += 1;
    }
    if p.pos < p.toks.len() {
        return Err(format!("Unsupported clause {}", p.at()));
    }
    Ok(Query {
        func,
        metric,
        namespace,
        schema,
        filters,
        group_by,
        order,
        limit,
    })
}

fn like(value: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return value == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || !value[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &value[first.len()..value.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Query {
    /// Whether a stored metric is selected by FROM and WHERE.
    pub fn selects(&self, key: &MetricKey) -> bool {
        if key.namespace != self.namespace || key.name != self.metric {
            return false;
        }
        if let Some(keys) = &self.schema
            && (keys.len() != key.dimensions.len()
                || !keys
                    .iter()
                    .all(|k| key.dimensions.iter().any(|(n, _)| n == k)))
        {
            return false;
        }
        let dim = |k: &str| {
            key.dimensions
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        self.filters.iter().all(|c| match c {
            Cond::Eq(k, v, neg) => (dim(k) == Some(v.as_str())) != *neg,
            Cond::Like(k, p, neg) => dim(k).is_some_and(|v| like(v, p)) != *neg,
            Cond::In(k, vals, neg) => dim(k).is_some_and(|v| vals.iter().any(|x| x == v)) != *neg,
        })
    }

    /// The group a selected metric falls in (its GROUP BY values, `Other` when absent).
    pub fn group_of(&self, key: &MetricKey) -> String {
        self.group_by
            .iter()
            .map(|g| {
                key.dimensions
                    .iter()
                    .find(|(n, _)| n == g)
                    .map_or("Other", |(_, v)| v.as_str())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Groups' per-period aggregates → the ranked, limited (label, series) results.
    pub fn finish(&self, groups: BTreeMap<String, BTreeMap<i64, Agg>>) -> Vec<(String, Series)> {
        let stat = self.func.stat();
        let mut out: Vec<(f64, String, Series)> = groups
            .into_iter()
            .map(|(label, buckets)| {
                let rank = self.order.map_or(0.0, |(f, _)| {
                    let mut all: Option<Agg> = None;
                    for a in buckets.values() {
                        match &mut all {
                            Some(x) => x.merge(a),
                            None => all = Some(a.summary()),
                        }
                    }
                    all.and_then(|a| a.stat(f.stat())).unwrap_or(f64::NAN)
                });
                let series = buckets
                    .iter()
                    .filter_map(|(t, a)| a.stat(stat).map(|v| (*t, v)))
                    .collect();
                (rank, label, series)
            })
            .collect();
        if let Some((_, desc)) = self.order {
            out.sort_by(|a, b| {
                if desc {
                    b.0.total_cmp(&a.0)
                } else {
                    a.0.total_cmp(&b.0)
                }
            });
        }
        out.into_iter()
            .take(self.limit)
            .map(|(_, l, s)| (l, s))
            .collect()
    }
}
