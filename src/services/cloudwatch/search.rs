//! SEARCH expressions (CloudWatch User Guide, "search expression syntax"): an optional metric
//! schema `{Namespace, DimensionName, ...}` and search terms, matched against the stored
//! metrics' identities.
//!
//! - A schema keeps the metrics of that namespace whose dimension names are exactly the
//!   schema's (none: metrics without dimensions).
//! - A bare term matches partially: case-insensitively, each of its words must be a word of
//!   the namespace, the metric name, a dimension name or a dimension value, where words are
//!   split at punctuation and at camel-case boundaries (`cpu` finds `CPUUtilization`, `micro`
//!   finds `t2.micro`). A double-quoted term matches one of those strings exactly.
//! - `MetricName=`, `Namespace=` or `<DimensionName>=` restrict a term to that property.
//! - Terms side by side are ANDed; `AND`, `OR`, `NOT` and parentheses combine them.

use super::store::MetricKey;

/// A parsed search: the schema, if any, and the term expression, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    schema: Option<(String, Vec<String>)>,
    terms: Option<Term>,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Match {
        property: Option<String>,
        text: String,
        exact: bool,
    },
    Not(Box<Term>),
    And(Box<Term>, Box<Term>),
    Or(Box<Term>, Box<Term>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Eq,
    LParen,
    RParen,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = src.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '=' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    _ => Tok::Eq,
                });
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(ch) => text.push(ch),
                        None => return Err("Unterminated quoted search term".into()),
                    }
                }
                out.push(Tok::Quoted(text));
            }
            _ => {
                let mut text = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | '=' | '"') {
                        break;
                    }
                    text.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(text));
            }
        }
    }
    Ok(out)
}

fn schema_part(inner: &str) -> Result<(String, Vec<String>), String> {
    let parts: Vec<String> = inner
        .split(',')
        .map(|p| p.trim().trim_matches('"').to_owned())
        .collect();
    let (ns, dims) = parts.split_first().ok_or("Empty metric schema")?;
    if ns.is_empty() || dims.iter().any(String::is_empty) {
        return Err("The metric schema must name a namespace and dimension names".into());
    }
    Ok((ns.clone(), dims.to_vec()))
}

/// Parse a search expression.
pub fn parse(src: &str) -> Result<Search, String> {
    let src = src.trim();
    let (schema, rest) = if let Some(body) = src.strip_prefix('{') {
        let end = body
            .find('}')
            .ok_or("Missing '}' after the metric schema")?;
        (Some(schema_part(&body[..end])?), &body[end + 1..])
    } else {
        (None, src)
    };
    let toks = lex(rest)?;
    let terms = if toks.is_empty() {
        None
    } else {
        let mut p = Parser { toks, pos: 0 };
        let t = p.or()?;
        if p.pos < p.toks.len() {
            return Err("Unexpected ')' in the search terms".into());
        }
        Some(t)
    };
    if schema.is_none() && terms.is_none() {
        return Err("A search needs a metric schema or search terms".into());
    }
    Ok(Search { schema, terms })
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn keyword(&self, k: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w == k)
    }

    fn or(&mut self) -> Result<Term, String> {
        let mut lhs = self.and()?;
        while self.keyword("OR") {
            self.pos += 1;
            lhs = Term::Or(Box::new(lhs), Box::new(self.and()?));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Term, String> {
        let mut lhs = self.not()?;
        loop {
            if self.keyword("AND") {
                self.pos += 1;
            } else if self.pos >= self.toks.len()
                || self.keyword("OR")
                || self.toks[self.pos] == Tok::RParen
            {
                return Ok(lhs);
            }
            lhs = Term::And(Box::new(lhs), Box::new(self.not()?));
        }
    }

    fn not(&mut self) -> Result<Term, String> {
        if self.keyword("NOT") {
            self.pos += 1;
            return Ok(Term::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Term, String> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(Tok::LParen) => {
                let t = self.or()?;
                match self.toks.get(self.pos) {
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        Ok(t)
                    }
                    _ => Err("Missing ')' in the search terms".into()),
                }
            }
            Some(Tok::Word(w)) | Some(Tok::Quoted(w))
                if self.toks.get(self.pos) == Some(&Tok::Eq) =>
            {
                self.pos += 1;
                let (text, exact) = match self.toks.get(self.pos).cloned() {
                    Some(Tok::Word(v)) => (v, false),
                    Some(Tok::Quoted(v)) => (v, true),
                    _ => return Err(format!("Missing a value after {w}=")),
                };
                self.pos += 1;
                Ok(Term::Match {
                    property: Some(w),
                    text,
                    exact,
                })
            }
            Some(Tok::Word(w)) => Ok(Term::Match {
                property: None,
                text: w,
                exact: false,
            }),
            Some(Tok::Quoted(w)) => Ok(Term::Match {
                property: None,
                text: w,
                exact: true,
            }),
            Some(Tok::Eq) => Err("Unexpected '=' in the search terms".into()),
            Some(Tok::RParen) => Err("Unexpected ')' in the search terms".into()),
            None => Err("Unexpected end of the search terms".into()),
        }
    }
}

/// The lowercase words of a string: split at punctuation and camel-case boundaries
/// (`CPUUtilization` → `cpu`, `utilization`), plus each punctuation-free chunk whole.
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in s.split(|c: char| !c.is_alphanumeric()) {
        if chunk.is_empty() {
            continue;
        }
        out.push(chunk.to_lowercase());
        let c: Vec<char> = chunk.chars().collect();
        let mut start = 0;
        for i in 1..c.len() {
            let boundary = (c[i].is_uppercase() && c[i - 1].is_lowercase())
                || (c[i].is_uppercase()
                    && c[i - 1].is_uppercase()
                    && c.get(i + 1).is_some_and(|n| n.is_lowercase()))
                || (c[i].is_ascii_digit() != c[i - 1].is_ascii_digit());
            if boundary {
                out.push(c[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        if start > 0 {
            out.push(c[start..].iter().collect::<String>().to_lowercase());
        }
    }
    out
}

fn text_matches(field: &str, text: &str, exact: bool) -> bool {
    if exact {
        return field == text;
    }
    let have = words(field);
    let want: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    !want.is_empty() && want.iter().all(|w| have.contains(w))
}

fn term_matches(t: &Term, key: &MetricKey) -> bool {
    match t {
        Term::Not(a) => !term_matches(a, key),
        Term::And(a, b) => term_matches(a, key) && term_matches(b, key),
        Term::Or(a, b) => term_matches(a, key) || term_matches(b, key),
        Term::Match {
            property,
            text,
            exact,
        } => {
            let m = |f: &str| text_matches(f, text, *exact);
            match property.as_deref() {
                Some("MetricName") => m(&key.name),
                Some("Namespace") => m(&key.namespace),
                Some(dim) => key.dimensions.iter().any(|(n, v)| n == dim && m(v)),
                None => {
                    m(&key.name)
                        || m(&key.namespace)
                        || key.dimensions.iter().any(|(n, v)| m(n) || m(v))
                }
            }
        }
    }
}

impl Search {
    /// Whether a stored metric is found by this search.
    pub fn matches(&self, key: &MetricKey) -> bool {
        if let Some((ns, dims)) = &self.schema {
            if &key.namespace != ns || key.dimensions.len() != dims.len() {
                return false;
            }
            if !dims
                .iter()
                .all(|d| key.dimensions.iter().any(|(n, _)| n == d))
            {
                return false;
            }
        }
        self.terms.as_ref().is_none_or(|t| term_matches(t, key))
    }
}

/// Labels for the metrics a search found: the dimension values, and the metric name when the
/// found metrics differ in it (UNVERIFIED: the rule AWS's console legends appear to follow).
pub fn labels(found: &[&MetricKey]) -> Vec<String> {
    let names_differ = found.windows(2).any(|w| w[0].name != w[1].name);
    found
        .iter()
        .map(|k| {
            let mut parts: Vec<&str> = k.dimensions.iter().map(|(_, v)| v.as_str()).collect();
            if names_differ || parts.is_empty() {
                parts.push(&k.name);
            }
            parts.join(" ")
        })
        .collect()
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
