//! A lab call's parameters against the service model: checked when the file is read (every
//! name a member, every number a number), references to saved values filled in, and the
//! call written as the form a query/ec2 client sends, for the console to run it.

use serde_json::Value;

use super::expr::Vars;
use super::yaml::{Kind, Node, Problem};
use crate::protocol::model::{ServiceModel, Shape, ShapeRef, ShapeType};
use crate::protocol::query::FormFlavor;

/// The names a value refers to with `${name}`, `${name,}` or `${name*}`.
pub fn references(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    visit_strings(value, &mut |s| {
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            let (name, _) = reference(&rest[start + 2..start + end]);
            out.push(name.to_owned());
            rest = &rest[start + end + 1..];
        }
    });
    out
}

/// A reference's name and index: `name`, `name[1]`, `name,`, `name*`.
fn reference(inner: &str) -> (&str, usize) {
    let inner = inner.trim_end_matches([',', '*']);
    match inner.split_once('[') {
        Some((name, rest)) => (name, rest.trim_end_matches(']').parse().unwrap_or(0)),
        None => (inner, 0),
    }
}

fn visit_strings(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, f)),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, f)),
        _ => {}
    }
}

/// `value` with its references filled in from `vars`; `Err(name)` names a value not saved
/// yet. `${name}` is the first saved value, `${name,}` all of them joined with commas, and a
/// list item that is exactly `${name*}` becomes one item per value.
pub fn fill(value: &Value, vars: &Vars) -> Result<Value, String> {
    let get = |name: &str| match vars.get(name) {
        Some(v) if !v.is_empty() => Ok(v.clone()),
        _ => Err(name.to_owned()),
    };
    Ok(match value {
        Value::String(s) => Value::String(fill_text(s, &get)?),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match splice(item) {
                    Some(name) => {
                        for v in get(&name)? {
                            let mut one = vars.clone();
                            one.insert(name.clone(), vec![v]);
                            out.push(fill(&unstar(item, &name), &one)?);
                        }
                    }
                    None => out.push(fill(item, vars)?),
                }
            }
            Value::Array(out)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), fill(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// The name of the first `${name*}` inside a list item: the item repeats once per value.
fn splice(item: &Value) -> Option<String> {
    let mut found = None;
    visit_strings(item, &mut |s| {
        if found.is_none() {
            found = s
                .strip_prefix("${")
                .and_then(|r| r.strip_suffix("*}"))
                .map(str::to_owned);
        }
    });
    found
}

/// `item` with `${name*}` turned into `${name}`.
fn unstar(item: &Value, name: &str) -> Value {
    match item {
        Value::String(s) if *s == format!("${{{name}*}}") => Value::String(format!("${{{name}}}")),
        Value::Array(items) => Value::Array(items.iter().map(|v| unstar(v, name)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), unstar(v, name)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn fill_text(
    s: &str,
    get: &impl Fn(&str) -> Result<Vec<String>, String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + 2..start + end];
        let (name, index) = reference(inner);
        let values = get(name)?;
        if inner.ends_with(',') {
            out.push_str(&values.join(","));
        } else {
            out.push_str(
                values
                    .get(index)
                    .ok_or_else(|| format!("{name}[{index}]"))?,
            );
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn shape<'m>(model: &'m ServiceModel, r: &ShapeRef, line: usize) -> Result<&'m Shape, Problem> {
    model
        .shape(&r.shape)
        .ok_or_else(|| Problem::at(line, format!("the model lacks shape {}", r.shape)))
}

/// Check a call's parameters against its input shape.
pub fn check_params(
    model: &ServiceModel,
    input: Option<&ShapeRef>,
    node: &Node,
) -> Result<(), Problem> {
    match input {
        Some(r) => check(model, shape(model, r, node.line)?, node, "params"),
        None => match &node.kind {
            Kind::Map(e) if e.is_empty() => Ok(()),
            _ => Err(Problem::at(node.line, "this operation takes no parameters")),
        },
    }
}

fn check(model: &ServiceModel, s: &Shape, node: &Node, at: &str) -> Result<(), Problem> {
    let scalar = |what: &str| -> Result<(), Problem> {
        let Kind::Scalar { text, .. } = &node.kind else {
            return Err(Problem::at(node.line, format!("{at} must be {what}")));
        };
        let ok = text.contains("${")
            || match s.kind {
                k if k.is_integer() => text.parse::<i64>().is_ok(),
                k if k.is_float() => text.parse::<f64>().is_ok(),
                ShapeType::Boolean => text == "true" || text == "false",
                _ => true,
            };
        if ok {
            Ok(())
        } else {
            Err(Problem::at(
                node.line,
                format!("{at} must be {what}, not `{text}`"),
            ))
        }
    };
    match s.kind {
        ShapeType::Structure => {
            for (k, v) in node.entries(at)? {
                let Some(m) = s.members.get(k) else {
                    let names: Vec<&str> = s.members.keys().map(String::as_str).collect();
                    return Err(Problem::at(
                        v.line,
                        format!("{at} has no member `{k}` (members: {})", names.join(", ")),
                    ));
                };
                check(model, shape(model, m, v.line)?, v, k)?;
            }
            Ok(())
        }
        ShapeType::List => {
            let member = s
                .member
                .as_ref()
                .ok_or_else(|| Problem::at(node.line, "list without member"))?;
            let ms = shape(model, member, node.line)?;
            for item in node.items(at)? {
                let splice = matches!(&item.kind, Kind::Scalar { text, .. } if text.starts_with("${") && text.ends_with("*}"));
                if !splice {
                    check(model, ms, item, at)?;
                }
            }
            Ok(())
        }
        ShapeType::Map => {
            let value = s
                .value
                .as_ref()
                .ok_or_else(|| Problem::at(node.line, "map without value"))?;
            let vs = shape(model, value, node.line)?;
            for (k, v) in node.entries(at)? {
                check(model, vs, v, k)?;
            }
            Ok(())
        }
        ShapeType::Boolean => scalar("true or false"),
        k if k.is_integer() || k.is_float() => scalar("a number"),
        _ => scalar("text"),
    }
}

/// The form pairs a query (or ec2) client sends for `value` (filled in), without `Action` and
/// `Version`.
pub fn encode(
    model: &ServiceModel,
    input: Option<&ShapeRef>,
    value: &Value,
    flavor: FormFlavor,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(s) = input.and_then(|r| model.shape(&r.shape)) {
        Encoder {
            model,
            flavor,
            out: &mut out,
        }
        .value(s, None, value, "");
    }
    out
}

struct Encoder<'a> {
    model: &'a ServiceModel,
    flavor: FormFlavor,
    out: &'a mut Vec<(String, String)>,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

impl Encoder<'_> {
    fn member_name(&self, name: &str, r: &ShapeRef) -> String {
        match self.flavor {
            FormFlavor::Query => r.location_name.clone().unwrap_or_else(|| name.to_owned()),
            FormFlavor::Ec2 => r
                .query_name
                .clone()
                .unwrap_or_else(|| match &r.location_name {
                    Some(l) => {
                        let mut c = l.chars();
                        c.next()
                            .map(|f| f.to_uppercase().chain(c).collect())
                            .unwrap_or_default()
                    }
                    None => name.to_owned(),
                }),
        }
    }

    fn value(&mut self, s: &Shape, r: Option<&ShapeRef>, v: &Value, key: &str) {
        match (s.kind, v) {
            (ShapeType::Structure, Value::Object(map)) => {
                for (name, m) in &s.members {
                    if let (Some(x), Some(ms)) = (map.get(name), self.model.shape(&m.shape)) {
                        let k = join(key, &self.member_name(name, m));
                        self.value(ms, Some(m), x, &k);
                    }
                }
            }
            (ShapeType::List, Value::Array(items)) => {
                let Some(m) = s.member.as_ref() else { return };
                let Some(ms) = self.model.shape(&m.shape) else {
                    return;
                };
                if items.is_empty() {
                    self.out.push((key.to_owned(), String::new()));
                }
                let flat = s.flattened || r.and_then(|r| r.flattened).unwrap_or(false);
                let base = match self.flavor {
                    FormFlavor::Query if !flat => {
                        join(key, m.location_name.as_deref().unwrap_or("member"))
                    }
                    _ => key.to_owned(),
                };
                for (i, x) in items.iter().enumerate() {
                    self.value(ms, Some(m), x, &format!("{base}.{}", i + 1));
                }
            }
            (ShapeType::Map, Value::Object(map)) => {
                let Some(vr) = s.value.as_ref() else { return };
                let Some(vs) = self.model.shape(&vr.shape) else {
                    return;
                };
                for (i, (k, x)) in map.iter().enumerate() {
                    let base = format!("{key}.entry.{}", i + 1);
                    self.out.push((format!("{base}.key"), k.clone()));
                    self.value(vs, Some(vr), x, &format!("{base}.value"));
                }
            }
            (_, Value::Null) => {}
            (_, Value::String(text)) => self.out.push((key.to_owned(), text.clone())),
            (_, other) => self.out.push((key.to_owned(), other.to_string())),
        }
    }
}
