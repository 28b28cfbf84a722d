//! A strict CBOR reader for our own responses (definite lengths, smallest integers, float64
//! floats only) and how an rpc-v2-cbor client reads them.

use minicbor::data::Type;
use serde_json::{Map, Value, json};
use updraft::protocol::model::{ServiceModel, Shape, ShapeType};

use super::values::{float_value, member_shape};

/// A CBOR item as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cbor {
    Int(i128),
    F64(f64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(String, Cbor)>),
    Tag(u64, Box<Cbor>),
    Bool(bool),
    Null,
}

/// Decode our own CBOR, insisting on what our encoder promises: definite lengths, integers
/// in their smallest form, floats only as float64, nothing after the top item.
pub(super) fn strict_cbor(body: &[u8]) -> Result<Cbor, String> {
    let mut d = minicbor::Decoder::new(body);
    let item = strict_item(&mut d, 0)?;
    if d.position() != body.len() {
        return Err(format!("{} trailing bytes", body.len() - d.position()));
    }
    Ok(item)
}

fn strict_item(d: &mut minicbor::Decoder<'_>, depth: usize) -> Result<Cbor, String> {
    if depth > 32 {
        return Err("too deep".into());
    }
    let e = |e: minicbor::decode::Error| e.to_string();
    let pos = d.position();
    let head = d.input()[pos];
    // Additional information 24..=27 must not carry a value that fits a shorter form.
    let check_min = |value: u64| -> Result<(), String> {
        let info = head & 0x1f;
        let minimal = match value {
            0..=23 => info < 24,
            24..=0xff => info == 24,
            0x100..=0xffff => info == 25,
            0x1_0000..=0xffff_ffff => info == 26,
            _ => info == 27,
        };
        if minimal {
            Ok(())
        } else {
            Err(format!("non-minimal head {head:#04x} for {value}"))
        }
    };
    Ok(match d.datatype().map_err(e)? {
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => {
            let n = i128::from(d.int().map_err(e)?);
            check_min(if n < 0 { (-1 - n) as u64 } else { n as u64 })?;
            Cbor::Int(n)
        }
        Type::F64 => Cbor::F64(d.f64().map_err(e)?),
        t @ (Type::F16 | Type::F32) => return Err(format!("float encoded as {t}, not float64")),
        Type::Bool => Cbor::Bool(d.bool().map_err(e)?),
        Type::Null => {
            d.null().map_err(e)?;
            Cbor::Null
        }
        Type::Bytes => Cbor::Bytes(d.bytes().map_err(e)?.to_vec()),
        Type::String => Cbor::Text(d.str().map_err(e)?.to_owned()),
        Type::Array => {
            let n = d.array().map_err(e)?.ok_or("indefinite array")?;
            check_min(n)?;
            (0..n)
                .map(|_| strict_item(d, depth + 1))
                .collect::<Result<_, _>>()
                .map(Cbor::Array)?
        }
        Type::Map => {
            let n = d.map().map_err(e)?.ok_or("indefinite map")?;
            check_min(n)?;
            let mut entries = Vec::new();
            for _ in 0..n {
                let Cbor::Text(k) = strict_item(d, depth + 1)? else {
                    return Err("non-text map key".into());
                };
                entries.push((k, strict_item(d, depth + 1)?));
            }
            Cbor::Map(entries)
        }
        Type::Tag => {
            let tag = d.tag().map_err(e)?.as_u64();
            Cbor::Tag(tag, Box::new(strict_item(d, depth + 1)?))
        }
        other => return Err(format!("unexpected {other} in our output")),
    })
}

pub(super) fn cbor_to_json(c: &Cbor) -> Value {
    match c {
        Cbor::Int(n) => json!(*n as i64),
        Cbor::F64(f) => float_value(*f),
        Cbor::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Cbor::Text(s) => Value::String(s.clone()),
        Cbor::Array(items) => Value::Array(items.iter().map(cbor_to_json).collect()),
        Cbor::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), cbor_to_json(v)))
                .collect(),
        ),
        Cbor::Tag(_, inner) => cbor_to_json(inner),
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Null => Value::Null,
    }
}

/// How an rpc-v2-cbor client reads our response, in the vectors' notation.
pub(super) fn client_cbor(model: &ServiceModel, shape: &Shape, c: &Cbor) -> Result<Value, String> {
    let wrong = |what: &str| Err(format!("client expected {what}, our body has {c:?}"));
    Ok(match (shape.kind, c) {
        (ShapeType::Structure, Cbor::Map(entries)) => {
            let mut out = Map::new();
            for (k, item) in entries {
                if *item == Cbor::Null {
                    continue;
                }
                let Some(m) = shape.members.get(k) else {
                    return wrong("only modelled members");
                };
                let target = model.shape(&m.shape).ok_or("missing member shape")?;
                out.insert(k.clone(), client_cbor(model, target, item)?);
            }
            Value::Object(out)
        }
        (ShapeType::List, Cbor::Array(items)) => {
            let target = member_shape(model, shape.member.as_ref()).ok_or("list member")?;
            Value::Array(
                items
                    .iter()
                    .map(|i| client_cbor(model, target, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        (ShapeType::Map, Cbor::Map(entries)) => {
            let target = member_shape(model, shape.value.as_ref()).ok_or("map value")?;
            let mut out = Map::new();
            for (k, item) in entries {
                out.insert(k.clone(), client_cbor(model, target, item)?);
            }
            Value::Object(out)
        }
        (ShapeType::Blob, Cbor::Bytes(b)) => Value::String(String::from_utf8_lossy(b).into_owned()),
        (ShapeType::Timestamp, Cbor::Tag(1, inner)) => match **inner {
            Cbor::F64(f) if f.is_finite() => json!(f),
            Cbor::Int(n) => json!(n as i64),
            _ => return wrong("tag 1 around a number"),
        },
        (k, Cbor::Int(n)) if k.is_integer() => json!(*n as i64),
        (k, Cbor::F64(f)) if k.is_float() => float_value(*f),
        (ShapeType::Boolean, Cbor::Bool(b)) => Value::Bool(*b),
        (ShapeType::String, Cbor::Text(s)) => Value::String(s.clone()),
        _ => return wrong(&format!("a {:?}", shape.kind)),
    })
}
