//! Value conversions between our tree and the vectors' notation, comparison, and how
//! botocore's JSON parser reads a response body.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use updraft::protocol::model::{ServiceModel, Shape, ShapeRef, ShapeType};
use updraft::protocol::timestamp::parse_iso8601;

pub(super) fn member_shape<'m>(model: &'m ServiceModel, r: Option<&ShapeRef>) -> Option<&'m Shape> {
    r.and_then(|r| model.shape(&r.shape))
}

/// Our tree → the vectors' notation (blobs as plain text).
pub(super) fn tree_to_vector(model: &ServiceModel, shape: &Shape, v: &Value) -> Value {
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(o)) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let m = member_shape(model, shape.members.get(k));
                    (
                        k.clone(),
                        m.map_or_else(|| v.clone(), |m| tree_to_vector(model, m, v)),
                    )
                })
                .collect(),
        ),
        (ShapeType::List, Value::Array(items)) => {
            match member_shape(model, shape.member.as_ref()) {
                Some(m) => {
                    Value::Array(items.iter().map(|i| tree_to_vector(model, m, i)).collect())
                }
                None => v.clone(),
            }
        }
        (ShapeType::Map, Value::Object(o)) => match member_shape(model, shape.value.as_ref()) {
            Some(m) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), tree_to_vector(model, m, v)))
                    .collect(),
            ),
            None => v.clone(),
        },
        (ShapeType::Blob, Value::String(b64)) => match STANDARD.decode(b64) {
            Ok(bytes) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => json!(format!("<not base64: {b64}>")),
        },
        _ => v.clone(),
    }
}

/// The vectors' notation → our tree (blobs as base64).
pub(super) fn vector_to_tree(model: &ServiceModel, shape: &Shape, v: &Value) -> Value {
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(o)) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let m = member_shape(model, shape.members.get(k));
                    (
                        k.clone(),
                        m.map_or_else(|| v.clone(), |m| vector_to_tree(model, m, v)),
                    )
                })
                .collect(),
        ),
        (ShapeType::List, Value::Array(items)) => {
            match member_shape(model, shape.member.as_ref()) {
                Some(m) => {
                    Value::Array(items.iter().map(|i| vector_to_tree(model, m, i)).collect())
                }
                None => v.clone(),
            }
        }
        (ShapeType::Map, Value::Object(o)) => match member_shape(model, shape.value.as_ref()) {
            Some(m) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), vector_to_tree(model, m, v)))
                    .collect(),
            ),
            None => v.clone(),
        },
        (ShapeType::Blob, Value::String(text)) => Value::String(STANDARD.encode(text)),
        _ => v.clone(),
    }
}

/// Equality with numbers compared by value (`1 == 1.0`).
pub(super) fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| loose_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| loose_eq(v, w)))
        }
        _ => a == b,
    }
}

pub(super) fn float_value(f: f64) -> Value {
    if f.is_nan() {
        json!("NaN")
    } else if f.is_infinite() {
        json!(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(f)
    }
}

/// How botocore's JSON parser reads a response body, in the vectors' notation.
pub(super) fn client_json(model: &ServiceModel, shape: &Shape, v: &Value) -> Result<Value, String> {
    let wrong = |what: &str| Err(format!("client expected {what}, our body has {v}"));
    Ok(match shape.kind {
        ShapeType::Structure => {
            let Value::Object(o) = v else {
                return wrong("an object");
            };
            let mut out = Map::new();
            for (name, m) in &shape.members {
                let wire = m.location_name.as_deref().unwrap_or(name);
                let Some(item) = o.get(wire).filter(|i| !i.is_null()) else {
                    continue;
                };
                let target = model.shape(&m.shape).ok_or("missing member shape")?;
                out.insert(name.clone(), client_json(model, target, item)?);
            }
            Value::Object(out)
        }
        ShapeType::List => {
            let Value::Array(items) = v else {
                return wrong("an array");
            };
            let target = member_shape(model, shape.member.as_ref()).ok_or("list member")?;
            Value::Array(
                items
                    .iter()
                    .map(|i| client_json(model, target, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        ShapeType::Map => {
            let Value::Object(o) = v else {
                return wrong("an object");
            };
            let target = member_shape(model, shape.value.as_ref()).ok_or("map value")?;
            let mut out = Map::new();
            for (k, item) in o {
                out.insert(k.clone(), client_json(model, target, item)?);
            }
            Value::Object(out)
        }
        ShapeType::Blob => match v.as_str().map(|s| STANDARD.decode(s)) {
            Some(Ok(bytes)) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            _ => return wrong("a base64 string"),
        },
        ShapeType::Timestamp => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) => match parse_iso8601(s) {
                Some(t) => json!(t),
                None => return wrong("a timestamp"),
            },
            _ => return wrong("a timestamp"),
        },
        k if k.is_integer() => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            _ => return wrong("an integer"),
        },
        k if k.is_float() => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) if ["NaN", "Infinity", "-Infinity"].contains(&s.as_str()) => v.clone(),
            _ => return wrong("a float"),
        },
        ShapeType::Boolean if v.is_boolean() => v.clone(),
        ShapeType::String if v.is_string() => v.clone(),
        _ => return wrong("a scalar of the right type"),
    })
}
