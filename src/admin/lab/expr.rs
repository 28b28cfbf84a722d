//! The check language: a small expression over an API answer, written in a lab file.
//!
//! ```text
//! expr  := and ("or" and)*          and  := unary ("and" unary)*
//! unary := "not" unary | cmp        cmp  := term (op term)?   op := == != >= <= > < has
//! term  := "(" expr ")" | 'text' | "text" | number | true | false | $var | count(path) | path
//! path  := name ("[" expr "]")? ("." name ("[" expr "]")?)*
//! ```
//!
//! A path reads member names of the output (`Instances.LifecycleState`); a list met on the
//! way is walked item by item, so a path yields every value it reaches. `[expr]` keeps the
//! items for which `expr` holds (read from the item). A comparison holds when *any* pair of
//! values compares true (`LoadBalancerNames == $elb`: the group names that load balancer);
//! `has` is "contains the text". `$var` is a value a lookup or an earlier check saved.

use std::collections::HashMap;

use serde_json::Value;

/// Values saved by checks and lookups, by name.
pub type Vars = HashMap<String, Vec<String>>;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `a op b`
    Cmp(Box<Expr>, Op, Box<Expr>),
    /// A literal.
    Lit(Value),
    /// `$name`
    Var(String),
    /// `count(path)`
    Count(Path),
    /// A path into the current value.
    Path(Path),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
    Has,
}

/// A path: names, each with an optional filter.
pub type Path = Vec<(String, Option<Box<Expr>>)>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Var(String),
    Str(String),
    Num(f64),
    Op(Op),
    Open,
    Close,
    LBracket,
    RBracket,
    Dot,
}

fn tokens(src: &str) -> Result<Vec<(usize, Tok)>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let name = |i: &mut usize| {
            let s = *i;
            while *i < chars.len() && (chars[*i].is_ascii_alphanumeric() || chars[*i] == '_') {
                *i += 1;
            }
            chars[s..*i].iter().collect::<String>()
        };
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            '.' => Some(Tok::Dot),
            _ => None,
        };
        if let Some(tok) = single {
            out.push((start, tok));
            i += 1;
            continue;
        }
        let tok = match c {
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .ok_or_else(|| format!("unclosed text starting at column {}", i + 1))?;
                let text = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                Tok::Str(text)
            }
            '$' => {
                i += 1;
                let n = name(&mut i);
                if n.is_empty() {
                    return Err(format!("`$` without a name at column {}", start + 1));
                }
                Tok::Var(n)
            }
            '=' | '!' | '>' | '<' => {
                let two = chars.get(i + 1) == Some(&'=');
                let op = match (c, two) {
                    ('=', true) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('>', true) => Op::Ge,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('<', false) => Op::Lt,
                    _ => return Err(format!("unknown operator at column {}", i + 1)),
                };
                i += if two { 2 } else { 1 };
                Tok::Op(op)
            }
            c if c.is_ascii_digit() || c == '-' => {
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                Tok::Num(
                    text.parse()
                        .map_err(|_| format!("`{text}` is not a number"))?,
                )
            }
            c if c.is_ascii_alphabetic() || c == '_' => match name(&mut i).as_str() {
                "has" => Tok::Op(Op::Has),
                n => Tok::Name(n.to_owned()),
            },
            other => return Err(format!("unexpected `{other}` at column {}", i + 1)),
        };
        out.push((start, tok));
    }
    Ok(out)
}

struct P {
    toks: Vec<(usize, Tok)>,
    at: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        t
    }
    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == w)
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(got) if got == t => Ok(()),
            _ => Err(format!("expected {what}")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.word("or") {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while self.word("and") {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.word("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        let left = self.term()?;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.at += 1;
            return Ok(Expr::Cmp(Box::new(left), op, Box::new(self.term()?)));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                self.expect(Tok::Close, "`)`")?;
                Ok(e)
            }
            Some(Tok::Str(s)) => Ok(Expr::Lit(Value::String(s))),
            Some(Tok::Num(n)) => Ok(Expr::Lit(Value::from(n))),
            Some(Tok::Var(v)) => Ok(Expr::Var(v)),
            Some(Tok::Name(n)) if n == "true" || n == "false" => {
                Ok(Expr::Lit(Value::Bool(n == "true")))
            }
            Some(Tok::Name(n)) if n == "count" && self.peek() == Some(&Tok::Open) => {
                self.at += 1;
                let first = match self.next() {
                    Some(Tok::Name(first)) => first,
                    _ => return Err("count( needs a path".into()),
                };
                let path = self.path(first)?;
                self.expect(Tok::Close, "`)` after count(path")?;
                Ok(Expr::Count(path))
            }
            Some(Tok::Name(n)) => Ok(Expr::Path(self.path(n)?)),
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("the expression ends too early".into()),
        }
    }

    fn path(&mut self, first: String) -> Result<Path, String> {
        let mut path = vec![(first, self.filter()?)];
        while self.peek() == Some(&Tok::Dot) {
            self.at += 1;
            match self.next() {
                Some(Tok::Name(n)) => {
                    let f = self.filter()?;
                    path.push((n, f));
                }
                _ => return Err("a name must follow `.`".into()),
            }
        }
        Ok(path)
    }

    fn filter(&mut self) -> Result<Option<Box<Expr>>, String> {
        if self.peek() != Some(&Tok::LBracket) {
            return Ok(None);
        }
        self.at += 1;
        let e = self.or()?;
        self.expect(Tok::RBracket, "`]`")?;
        Ok(Some(Box::new(e)))
    }
}

/// Parse an expression.
pub fn parse(src: &str) -> Result<Expr, String> {
    let mut p = P {
        toks: tokens(src)?,
        at: 0,
    };
    let e = p.or()?;
    match p.toks.get(p.at) {
        None => Ok(e),
        Some((col, t)) => Err(format!("unexpected {t:?} at column {}", col + 1)),
    }
}

impl Expr {
    /// The variables the expression reads.
    pub fn vars(&self, out: &mut Vec<String>) {
        match self {
            Self::Or(a, b) | Self::And(a, b) | Self::Cmp(a, _, b) => {
                a.vars(out);
                b.vars(out);
            }
            Self::Not(a) => a.vars(out),
            Self::Var(v) => out.push(v.clone()),
            Self::Path(p) | Self::Count(p) => {
                for (_, f) in p {
                    if let Some(f) = f {
                        f.vars(out);
                    }
                }
            }
            Self::Lit(_) => {}
        }
    }

    /// Whether the expression holds for `item`.
    pub fn holds(&self, item: &Value, vars: &Vars) -> bool {
        self.values(item, vars).iter().any(truthy)
    }

    fn values(&self, item: &Value, vars: &Vars) -> Vec<Value> {
        match self {
            Self::Or(a, b) => vec![Value::Bool(a.holds(item, vars) || b.holds(item, vars))],
            Self::And(a, b) => vec![Value::Bool(a.holds(item, vars) && b.holds(item, vars))],
            Self::Not(a) => vec![Value::Bool(!a.holds(item, vars))],
            Self::Cmp(a, op, b) => {
                let (l, r) = (a.values(item, vars), b.values(item, vars));
                let any = l.iter().any(|x| r.iter().any(|y| compare(x, *op, y)));
                vec![Value::Bool(any)]
            }
            Self::Lit(v) => vec![v.clone()],
            Self::Var(name) => vars
                .get(name)
                .map(|vs| vs.iter().cloned().map(Value::String).collect())
                .unwrap_or_default(),
            Self::Count(path) => vec![Value::from(walk(item, path, vars).len())],
            Self::Path(path) => walk(item, path, vars),
        }
    }
}

/// Every value `path` reaches from `root` (lists walked, nulls dropped).
pub fn walk(root: &Value, path: &[(String, Option<Box<Expr>>)], vars: &Vars) -> Vec<Value> {
    let mut at = vec![root.clone()];
    for (name, filter) in path {
        let mut next = Vec::new();
        for v in &at {
            match v.get(name) {
                Some(Value::Array(items)) => next.extend(items.iter().cloned()),
                Some(Value::Null) | None => {}
                Some(x) => next.push(x.clone()),
            }
        }
        if let Some(f) = filter {
            next.retain(|x| f.holds(x, vars));
        }
        at = next;
    }
    at
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Text of a scalar value, as the answer shows it.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Numbers compare as numbers (a number against numeric text too); everything else as text.
fn compare(a: &Value, op: Op, b: &Value) -> bool {
    let ord = match (number(a), number(b)) {
        (Some(x), Some(y)) if !(a.is_string() && b.is_string()) => x.partial_cmp(&y),
        _ => Some(text(a).cmp(&text(b))),
    };
    match (op, ord) {
        (Op::Has, _) => text(a).contains(&text(b)),
        (_, None) => false,
        (Op::Eq, Some(o)) => o.is_eq(),
        (Op::Ne, Some(o)) => o.is_ne(),
        (Op::Ge, Some(o)) => o.is_ge(),
        (Op::Le, Some(o)) => o.is_le(),
        (Op::Gt, Some(o)) => o.is_gt(),
        (Op::Lt, Some(o)) => o.is_lt(),
    }
}
