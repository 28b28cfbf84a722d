//! Subscription filter policies ([AWS: "Amazon SNS message filtering"](
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html)).
//!
//! A policy is a JSON object: every key must match (AND), any condition in a key's array may
//! (OR). Conditions: exact strings and numbers, `prefix`, `suffix`, `equals-ignore-case`,
//! `anything-but` (a value, a list, or `{"prefix": …}`), `numeric` ranges and `exists`; `$or`
//! joins alternative policies. With scope `MessageAttributes` keys name message attributes
//! (`String`, `Number`, `String.Array`); with scope `MessageBody` they walk the JSON body, nested.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::delivery::MessageAttributeValue;

/// AWS's limit on the combinations of values a policy spells out.
const MAX_COMBINATIONS: usize = 150;

/// Check a policy when it is set; `Err` is the reason.
pub fn check(policy: &str, body_scope: bool) -> Result<(), String> {
    let value: Value =
        serde_json::from_str(policy).map_err(|_| "failed to parse JSON.".to_owned())?;
    let Value::Object(map) = value else {
        return Err("Filter policy must be a JSON object".into());
    };
    if map.is_empty() {
        return Err("Filter policy can not be empty".into());
    }
    let combinations = check_object(&map, body_scope, 0)?;
    if combinations > MAX_COMBINATIONS {
        return Err("Filter policy is too complex".into());
    }
    Ok(())
}

/// Check an object level; returns the number of value combinations it spells out.
fn check_object(map: &Map<String, Value>, body_scope: bool, depth: usize) -> Result<usize, String> {
    if depth > 5 {
        return Err("Filter policy is nested too deeply".into());
    }
    let mut product = 1usize;
    for (key, value) in map {
        let count = match value {
            Value::Array(conditions) if key != "$or" => {
                if conditions.is_empty() {
                    return Err(format!("Empty arrays are not allowed ({key})"));
                }
                for c in conditions {
                    check_condition(key, c)?;
                }
                conditions.len()
            }
            Value::Array(alternatives) => {
                if alternatives.len() < 2 {
                    return Err("$or must list at least two policies".into());
                }
                let mut sum = 0;
                for alt in alternatives {
                    let Value::Object(alt) = alt else {
                        return Err("$or must list policies (JSON objects)".into());
                    };
                    sum += check_object(alt, body_scope, depth + 1)?;
                }
                sum
            }
            Value::Object(nested) if body_scope => check_object(nested, body_scope, depth + 1)?,
            _ => {
                return Err(format!("\"{key}\" must be an object or an array"));
            }
        };
        product = product.saturating_mul(count);
    }
    Ok(product)
}

fn check_condition(key: &str, condition: &Value) -> Result<(), String> {
    let Value::Object(op) = condition else {
        return match condition {
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => Ok(()),
            _ => Err(format!(
                "Match value must be String, number, true, false, or null ({key})"
            )),
        };
    };
    let Some((name, operand)) = op.iter().next().filter(|_| op.len() == 1) else {
        return Err(format!("Only one key allowed in match expression ({key})"));
    };
    let ok = match name.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" => operand.is_string(),
        "exists" => operand.is_boolean(),
        "anything-but" => match operand {
            Value::String(_) | Value::Number(_) => true,
            Value::Array(items) => {
                !items.is_empty() && items.iter().all(|i| i.is_string() || i.is_number())
            }
            Value::Object(inner) => {
                inner.len() == 1
                    && inner
                        .get("prefix")
                        .or_else(|| inner.get("suffix"))
                        .is_some_and(Value::is_string)
            }
            _ => false,
        },
        "numeric" => numeric_ranges(operand).is_some(),
        _ => return Err(format!("Unrecognized match type {name}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("Value of {name} must be well formed ({key})"))
    }
}

/// `["=", 5]`, `[">", 0, "<=", 10]` → (operator, number) pairs.
fn numeric_ranges(operand: &Value) -> Option<Vec<(&str, f64)>> {
    let items = operand.as_array()?;
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return None;
    }
    items
        .chunks(2)
        .map(|pair| {
            let op = pair[0].as_str()?;
            matches!(op, "=" | "<" | "<=" | ">" | ">=").then_some(())?;
            Some((op, pair[1].as_f64()?))
        })
        .collect()
}

/// One value a key resolved to, for matching.
#[derive(Debug, Clone)]
enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// Does a message with these attributes match the policy (attribute scope)?
pub fn matches_attributes(
    policy: &str,
    attributes: &BTreeMap<String, MessageAttributeValue>,
) -> bool {
    let Ok(Value::Object(policy)) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    object_matches(&policy, &|key| attribute_values(attributes.get(key)))
}

/// Does a message body match the policy (body scope)? Bodies that are not JSON objects match
/// nothing.
pub fn matches_body(policy: &str, message: &str) -> bool {
    let (Ok(Value::Object(policy)), Ok(Value::Object(body))) = (
        serde_json::from_str::<Value>(policy),
        serde_json::from_str::<Value>(message),
    ) else {
        return false;
    };
    body_matches(&policy, &body)
}

fn attribute_values(attr: Option<&MessageAttributeValue>) -> Option<Vec<Scalar>> {
    let attr = attr?;
    let text = attr.string_value.as_deref();
    // Publish checked the values; one that still does not parse simply matches no value.
    if attr.data_type.starts_with("String.Array") {
        let items: Vec<Value> = serde_json::from_str(text?).ok()?;
        return Some(items.iter().filter_map(scalar).collect());
    }
    if attr.data_type.starts_with("Number") {
        return Some(vec![
            text.and_then(|t| t.parse().ok())
                .map_or(Scalar::Null, Scalar::Num),
        ]);
    }
    if attr.data_type.starts_with("String") {
        return Some(vec![Scalar::Str(text.unwrap_or_default().to_owned())]);
    }
    // Binary attributes exist but match no value condition.
    Some(Vec::new())
}

fn scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::String(s) => Some(Scalar::Str(s.clone())),
        Value::Number(n) => n.as_f64().map(Scalar::Num),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Null => Some(Scalar::Null),
        _ => None,
    }
}

fn object_matches(
    policy: &Map<String, Value>,
    lookup: &dyn Fn(&str) -> Option<Vec<Scalar>>,
) -> bool {
    policy.iter().all(|(key, conditions)| match conditions {
        Value::Array(alts) if key == "$or" => alts
            .iter()
            .any(|alt| alt.as_object().is_some_and(|a| object_matches(a, lookup))),
        Value::Array(conditions) => key_matches(conditions, lookup(key).as_deref()),
        _ => false,
    })
}

fn body_matches(policy: &Map<String, Value>, body: &Map<String, Value>) -> bool {
    policy.iter().all(|(key, conditions)| match conditions {
        Value::Array(alts) if key == "$or" => alts
            .iter()
            .any(|alt| alt.as_object().is_some_and(|a| body_matches(a, body))),
        Value::Object(nested) => match body.get(key) {
            Some(Value::Object(inner)) => body_matches(nested, inner),
            _ => false,
        },
        Value::Array(conditions) => {
            let values = body.get(key).map(|v| match v {
                Value::Array(items) => items.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect::<Vec<_>>(),
            });
            key_matches(conditions, values.as_deref())
        }
        _ => false,
    })
}

/// Any condition matches any of the key's values (or its absence, for `exists: false`).
fn key_matches(conditions: &[Value], values: Option<&[Scalar]>) -> bool {
    conditions.iter().any(|c| match (c, values) {
        (Value::Object(op), _) if op.contains_key("exists") => {
            op["exists"].as_bool() == Some(values.is_some())
        }
        (_, None) => false,
        (c, Some(values)) => values.iter().any(|v| condition_matches(c, v)),
    })
}

fn condition_matches(condition: &Value, value: &Scalar) -> bool {
    match (condition, value) {
        (Value::String(want), Scalar::Str(got)) => want == got,
        (Value::Number(want), Scalar::Num(got)) => want.as_f64() == Some(*got),
        (Value::Bool(want), Scalar::Bool(got)) => want == got,
        (Value::Null, Scalar::Null) => true,
        (Value::Object(op), _) => {
            let Some((name, operand)) = op.iter().next() else {
                return false;
            };
            operator_matches(name, operand, value)
        }
        _ => false,
    }
}

fn operator_matches(name: &str, operand: &Value, value: &Scalar) -> bool {
    match (name, value) {
        ("prefix", Scalar::Str(s)) => operand.as_str().is_some_and(|p| s.starts_with(p)),
        ("suffix", Scalar::Str(s)) => operand.as_str().is_some_and(|p| s.ends_with(p)),
        ("equals-ignore-case", Scalar::Str(s)) => {
            operand.as_str().is_some_and(|p| p.eq_ignore_ascii_case(s))
        }
        ("numeric", Scalar::Num(n)) => numeric_ranges(operand).is_some_and(|ranges| {
            ranges.iter().all(|(op, bound)| match *op {
                "=" => n == bound,
                "<" => n < bound,
                "<=" => n <= bound,
                ">" => n > bound,
                _ => n >= bound,
            })
        }),
        ("anything-but", value) => match operand {
            Value::Array(items) => !items.iter().any(|i| condition_matches(i, value)),
            Value::Object(inner) => match (value, inner.iter().next()) {
                (Scalar::Str(s), Some((kind, Value::String(p)))) => {
                    if kind == "prefix" {
                        !s.starts_with(p.as_str())
                    } else {
                        !s.ends_with(p.as_str())
                    }
                }
                _ => false,
            },
            single => !condition_matches(single, value),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, MessageAttributeValue> {
        pairs
            .iter()
            .map(|(k, t, v)| {
                (
                    (*k).to_owned(),
                    MessageAttributeValue {
                        data_type: (*t).to_owned(),
                        string_value: Some((*v).to_owned()),
                        binary_value: None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn policies_are_checked() {
        assert!(check(r#"{"event":["launch"]}"#, false).is_ok());
        assert!(check(r#"{"n":[{"numeric":[">",0,"<=",10]}]}"#, false).is_ok());
        assert!(check("[]", false).is_err());
        assert!(check("{}", false).is_err());
        assert!(check(r#"{"a":"b"}"#, false).is_err());
        assert!(check(r#"{"a":{"b":["c"]}}"#, false).is_err());
        assert!(check(r#"{"a":{"b":["c"]}}"#, true).is_ok());
        assert!(check(r#"{"a":[{"bogus":1}]}"#, false).is_err());
        assert!(check(r#"{"a":[{"numeric":["~",1]}]}"#, false).is_err());
        let many: Vec<String> = (0..20).map(|i| format!("\"v{i}\"")).collect();
        let big = format!(r#"{{"a":[{0}],"b":[{0}]}}"#, many.join(","));
        assert!(check(&big, false).is_err());
    }

    #[test]
    fn attribute_policies_match_as_documented() {
        let m = attrs(&[
            ("event", "String", "autoscaling:EC2_INSTANCE_LAUNCH"),
            ("size", "Number", "7"),
            ("tags", "String.Array", r#"["red","blue"]"#),
        ]);
        let yes = |p: &str| matches_attributes(p, &m);
        assert!(yes(r#"{"event":["autoscaling:EC2_INSTANCE_LAUNCH","x"]}"#));
        assert!(!yes(r#"{"event":["x"]}"#));
        assert!(yes(
            r#"{"event":[{"prefix":"autoscaling:"}],"size":[{"numeric":[">",5]}]}"#
        ));
        assert!(!yes(r#"{"size":[{"numeric":[">",5,"<",7]}]}"#));
        assert!(yes(r#"{"size":[7]}"#));
        assert!(yes(r#"{"tags":["blue"]}"#));
        assert!(yes(r#"{"missing":[{"exists":false}]}"#));
        assert!(!yes(r#"{"missing":[{"exists":true}]}"#));
        assert!(!yes(r#"{"missing":[{"anything-but":"x"}]}"#));
        assert!(yes(r#"{"event":[{"anything-but":["a","b"]}]}"#));
        assert!(!yes(r#"{"event":[{"anything-but":{"prefix":"auto"}}]}"#));
        assert!(yes(r#"{"event":[{"suffix":"LAUNCH"}]}"#));
        assert!(yes(
            r#"{"event":[{"equals-ignore-case":"AUTOSCALING:ec2_instance_launch"}]}"#
        ));
        assert!(yes(r#"{"$or":[{"event":["x"]},{"size":[7]}]}"#));
        assert!(!yes(r#"{"$or":[{"event":["x"]},{"size":[8]}]}"#));
    }

    #[test]
    fn body_policies_walk_the_json() {
        let body = r#"{"Event":"launch","Details":{"Zone":"us-east-1a","Count":2}}"#;
        assert!(matches_body(
            r#"{"Details":{"Zone":[{"prefix":"us-"}]}}"#,
            body
        ));
        assert!(matches_body(
            r#"{"Event":["launch"],"Details":{"Count":[2]}}"#,
            body
        ));
        assert!(!matches_body(r#"{"Details":{"Count":[3]}}"#, body));
        assert!(!matches_body(r#"{"Event":["launch"]}"#, "not json"));
    }
}
