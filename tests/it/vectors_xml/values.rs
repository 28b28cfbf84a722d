//! Value comparison and shape-driven conversions for the `query` / `ec2` vectors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value};
use updraft::protocol::model::{ServiceModel, ShapeRef, ShapeType};
use updraft::protocol::query::FormFlavor;

/// Structural equality with loose numbers (`1 == 1.0`, tiny float differences tolerated).
pub(super) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => {
                    x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
                }
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Vector values → our value tree: blobs are plain text in the vectors, base64 in the tree.
pub(super) fn to_tree(model: &ServiceModel, r: &ShapeRef, value: &Value) -> Value {
    let Some(shape) = model.shape(&r.shape) else {
        return value.clone();
    };
    match (shape.kind, value) {
        (ShapeType::Blob, Value::String(s)) => Value::String(B64.encode(s.as_bytes())),
        (ShapeType::Structure, Value::Object(o)) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match shape.members.get(k) {
                        Some(m) => to_tree(model, m, v),
                        None => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        (ShapeType::List, Value::Array(items)) => match &shape.member {
            Some(m) => Value::Array(items.iter().map(|v| to_tree(model, m, v)).collect()),
            None => value.clone(),
        },
        (ShapeType::Map, Value::Object(o)) => match &shape.value {
            Some(m) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), to_tree(model, m, v)))
                    .collect(),
            ),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}

/// What of an input value a form can carry: empty structures and maps are never sent, nor (in
/// ec2) empty lists. Returns `None` when nothing is left.
pub(super) fn wire_visible(
    model: &ServiceModel,
    r: &ShapeRef,
    value: &Value,
    flavor: FormFlavor,
) -> Option<Value> {
    let Some(shape) = model.shape(&r.shape) else {
        return Some(value.clone());
    };
    match (shape.kind, value) {
        (_, Value::Null) => None,
        (ShapeType::Structure, Value::Object(o)) => {
            let kept: Map<String, Value> = o
                .iter()
                .filter_map(|(k, v)| {
                    let m = shape.members.get(k)?;
                    wire_visible(model, m, v, flavor).map(|v| (k.clone(), v))
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        (ShapeType::List, Value::Array(items)) => {
            let m = shape.member.as_ref()?;
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|v| wire_visible(model, m, v, flavor))
                .collect();
            (!kept.is_empty() || flavor == FormFlavor::Query).then_some(Value::Array(kept))
        }
        (ShapeType::Map, Value::Object(o)) => {
            let m = shape.value.as_ref()?;
            let kept: Map<String, Value> = o
                .iter()
                .filter_map(|(k, v)| wire_visible(model, m, v, flavor).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        _ => Some(value.clone()),
    }
}
