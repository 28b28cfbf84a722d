//! Smithy rpc-v2-cbor: request bodies into the value tree, value trees into response bodies.
//!
//! Decoding accepts everything the spec lets a client send: definite and indefinite lengths for
//! maps, arrays, text and byte strings; integers of any width; half, single and double floats
//! (non-finite ones become the tree's `"NaN"`/`"Infinity"`/`"-Infinity"` strings); `null` and
//! `undefined` as "absent"; timestamps as tag 1 around an integer or a float. The body is
//! untrusted: the decoder never allocates by a declared length before the bytes are there,
//! bounds nesting at [`MAX_DEPTH`], rejects trailing bytes, and does not panic.
//!
//! Encoding writes definite lengths only, integers in their smallest form, every float as a
//! float64 (`fb`, never half precision), timestamps as tag 1 + float64, blobs as byte strings.

use base64::Engine as _;
use minicbor::data::Type;
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Value};

use super::DecodeError;
use super::json::{
    LENIENT_BASE64, Scalar, float_to_value, integer_from_i128, scalar, timestamp_value, truncate,
    type_name, whole,
};
use super::model::{ServiceModel, Shape, ShapeRef, ShapeType};
use crate::error::ApiError;

/// How deeply maps and arrays may nest in a request (tags are read in a loop, not nested).
pub const MAX_DEPTH: usize = 64;

/// The tag of an epoch-seconds timestamp.
const TAG_EPOCH: u64 = 1;

/// Decode an rpc-v2-cbor request body into the value tree of `input`.
///
/// An empty body is `{}`; anything else must be exactly one CBOR map.
pub fn decode_cbor(
    model: &ServiceModel,
    input: Option<&ShapeRef>,
    body: &[u8],
) -> Result<Value, DecodeError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut path = String::new();
    let mut reader = Reader {
        d: Decoder::new(body),
        model,
        path: &mut path,
    };
    reader.skip_tags()?;
    if !matches!(reader.datatype()?, Type::Map | Type::MapIndef) {
        return Err(DecodeError::Malformed("the body must be a CBOR map".into()));
    }
    let value = match input.and_then(|r| model.shape(&r.shape)) {
        Some(shape) if shape.kind == ShapeType::Structure => reader.structure(shape, 1)?,
        _ => {
            reader.skip(1)?;
            Value::Object(Map::new())
        }
    };
    if reader.d.position() != body.len() {
        return Err(DecodeError::Malformed(format!(
            "{} unexpected bytes after the CBOR map",
            body.len() - reader.d.position()
        )));
    }
    Ok(value)
}

/// Encode `value` (a tree of `output`) as an rpc-v2-cbor body. `{}` (`a0`) when there is no
/// output; values that do not fit their shape are omitted.
pub fn encode_cbor(model: &ServiceModel, output: Option<&ShapeRef>, value: &Value) -> Vec<u8> {
    let mut w = Writer {
        e: Encoder::new(Vec::with_capacity(256)),
        model,
    };
    match output.and_then(|r| model.shape(&r.shape)) {
        Some(shape) if shape.kind == ShapeType::Structure && value.is_object() => {
            w.value(shape, value);
        }
        _ => w.map_len(0),
    }
    w.e.into_writer()
}

/// The rpc-v2-cbor error body: a map with `__type` (the absolute shape id) and `message`.
pub fn encode_cbor_error(type_name: &str, err: &ApiError) -> Vec<u8> {
    let mut e = Encoder::new(Vec::with_capacity(32 + type_name.len() + err.message.len()));
    // Writing into a Vec cannot fail.
    let _ = e
        .map(2)
        .and_then(|e| e.str("__type"))
        .and_then(|e| e.str(type_name));
    let _ = e.str("message").and_then(|e| e.str(&err.message));
    e.into_writer()
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Reader<'b, 'a> {
    d: Decoder<'b>,
    model: &'a ServiceModel,
    path: &'a mut String,
}

fn malformed(e: minicbor::decode::Error) -> DecodeError {
    if e.is_end_of_input() {
        DecodeError::Malformed("the CBOR body ends too early".into())
    } else {
        DecodeError::Malformed(format!("invalid CBOR: {e}"))
    }
}

fn too_deep() -> DecodeError {
    DecodeError::Malformed(format!("CBOR nesting deeper than {MAX_DEPTH} levels"))
}

impl Reader<'_, '_> {
    fn datatype(&self) -> Result<Type, DecodeError> {
        self.d.datatype().map_err(malformed)
    }

    /// Consume any tags before the next item; returns the innermost (last read) one.
    /// Each tag consumes at least one byte, so this ends with the input.
    fn skip_tags(&mut self) -> Result<Option<u64>, DecodeError> {
        let mut last = None;
        while self.datatype()? == Type::Tag {
            last = Some(self.d.tag().map_err(malformed)?.as_u64());
        }
        Ok(last)
    }

    /// At a break byte ending an indefinite-length item? Consumes it if so.
    fn at_break(&mut self) -> Result<bool, DecodeError> {
        if self.datatype()? == Type::Break {
            self.d.set_position(self.d.position() + 1);
            return Ok(true);
        }
        Ok(false)
    }

    /// Walk the entries of the array or map that was just opened with length `len`
    /// (`None` = indefinite), calling `each` once per element (arrays) or entry (maps).
    /// A definite count is only a loop bound: every element consumes input or fails.
    fn items(
        &mut self,
        len: Option<u64>,
        mut each: impl FnMut(&mut Self) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        match len {
            Some(n) => {
                for _ in 0..n {
                    each(self)?;
                }
            }
            None => {
                while !self.at_break()? {
                    each(self)?;
                }
            }
        }
        Ok(())
    }

    /// Read a text string (definite or chunked).
    fn text(&mut self) -> Result<String, DecodeError> {
        let mut out = String::new();
        for chunk in self.d.str_iter().map_err(malformed)? {
            out.push_str(chunk.map_err(malformed)?);
        }
        Ok(out)
    }

    /// Read a byte string (definite or chunked).
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        for chunk in self.d.bytes_iter().map_err(malformed)? {
            out.extend_from_slice(chunk.map_err(malformed)?);
        }
        Ok(out)
    }

    /// Read a map key, which must be a text string.
    fn key(&mut self) -> Result<String, DecodeError> {
        self.skip_tags()?;
        match self.datatype()? {
            Type::String | Type::StringIndef => self.text(),
            other => Err(DecodeError::Malformed(format!(
                "a CBOR map key is {other}, not text"
            ))),
        }
    }

    /// Skip one item of any type, bounding nesting at [`MAX_DEPTH`].
    fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        self.skip_tags()?;
        match self.datatype()? {
            Type::Array | Type::ArrayIndef => {
                let len = self.d.array().map_err(malformed)?;
                self.items(len, |r| r.skip(depth + 1))
            }
            Type::Map | Type::MapIndef => {
                let len = self.d.map().map_err(malformed)?;
                self.items(len, |r| {
                    r.skip(depth + 1)?;
                    r.skip(depth + 1)
                })
            }
            _ => self.scalar_item().map(drop),
        }
    }

    /// Read one non-container item as a loose value (for skipping and error messages).
    fn scalar_item(&mut self) -> Result<Value, DecodeError> {
        let d = &mut self.d;
        Ok(match d.datatype().map_err(malformed)? {
            Type::Bool => Value::Bool(d.bool().map_err(malformed)?),
            Type::Null => {
                d.null().map_err(malformed)?;
                Value::Null
            }
            Type::Undefined => {
                d.undefined().map_err(malformed)?;
                Value::Null
            }
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => {
                let n = i128::from(d.int().map_err(malformed)?);
                Value::String(n.to_string())
            }
            Type::F16 | Type::F32 | Type::F64 => float_to_value(d.f64().map_err(malformed)?),
            Type::Simple => Value::from(d.simple().map_err(malformed)?),
            Type::String | Type::StringIndef => Value::String(self.text()?),
            Type::Bytes | Type::BytesIndef => {
                Value::String(format!("{} bytes", self.bytes()?.len()))
            }
            Type::Break => return Err(DecodeError::Malformed("unexpected CBOR break".into())),
            other => {
                return Err(DecodeError::Malformed(format!(
                    "unsupported CBOR item {other}"
                )));
            }
        })
    }

    /// Convert one item for `shape`; `Ok(None)` means absent (`null`/`undefined`).
    fn value(&mut self, shape: &Shape, depth: usize) -> Result<Option<Value>, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let tag = self.skip_tags()?;
        let ty = self.datatype()?;
        if matches!(ty, Type::Null | Type::Undefined) {
            self.d.set_position(self.d.position() + 1);
            return Ok(None);
        }
        let kind = shape.kind;
        let value = match (kind, ty) {
            (ShapeType::Structure, Type::Map | Type::MapIndef) => self.structure(shape, depth)?,
            (ShapeType::Map, Type::Map | Type::MapIndef) => self.map(shape, depth)?,
            (ShapeType::List, Type::Array | Type::ArrayIndef) => self.list(shape, depth)?,
            (ShapeType::String, Type::String | Type::StringIndef) => Value::String(self.text()?),
            (ShapeType::Boolean, Type::Bool) => Value::Bool(self.d.bool().map_err(malformed)?),
            (ShapeType::Blob, Type::Bytes | Type::BytesIndef) => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(self.bytes()?))
            }
            (ShapeType::Timestamp, _) if tag.is_none_or(|t| t == TAG_EPOCH) && is_number(ty) => {
                let seconds = self.number()?;
                timestamp_value(seconds)
                    .ok_or_else(|| self.invalid("timestamp", float_to_value(seconds)))?
            }
            (k, _) if k.is_integer() && is_number(ty) => {
                let n = if is_float(ty) {
                    let f = self.d.f64().map_err(malformed)?;
                    whole(f).ok_or_else(|| self.invalid(type_name(k), float_to_value(f)))?
                } else {
                    i128::from(self.d.int().map_err(malformed)?)
                };
                integer_from_i128(k, n)
                    .ok_or_else(|| self.invalid(type_name(k), Value::String(n.to_string())))?
            }
            (k, _) if k.is_float() && is_number(ty) => float_to_value(self.number()?),
            (k, Type::Map | Type::MapIndef | Type::Array | Type::ArrayIndef) => {
                let got = if matches!(ty, Type::Array | Type::ArrayIndef) {
                    "an array"
                } else {
                    "a map"
                };
                return Err(self.invalid(expected(k), Value::String(got.into())));
            }
            (k, _) => {
                let got = self.scalar_item()?;
                return Err(self.invalid(expected(k), got));
            }
        };
        Ok(Some(value))
    }

    /// Read an integer or a float of any width as `f64`.
    fn number(&mut self) -> Result<f64, DecodeError> {
        if is_float(self.datatype()?) {
            self.d.f64().map_err(malformed)
        } else {
            // Integers beyond 2^53 lose precision, as any JSON number would.
            Ok(i128::from(self.d.int().map_err(malformed)?) as f64)
        }
    }

    fn structure(&mut self, shape: &Shape, depth: usize) -> Result<Value, DecodeError> {
        let len = self.d.map().map_err(malformed)?;
        let mut out = Map::new();
        self.items(len, |r| {
            let key = r.key()?;
            let member = shape
                .members
                .iter()
                .find(|(name, m)| **name == key || m.location_name.as_deref() == Some(&key));
            let Some((name, target)) =
                member.and_then(|(name, m)| r.model.shape(&m.shape).map(|t| (name, t)))
            else {
                return r.skip(depth + 1);
            };
            let mark = r.push(name);
            let converted = r.value(target, depth + 1);
            r.path.truncate(mark);
            if let Some(v) = converted? {
                out.insert(name.clone(), v);
            }
            Ok(())
        })?;
        Ok(Value::Object(out))
    }

    fn list(&mut self, shape: &Shape, depth: usize) -> Result<Value, DecodeError> {
        let len = self.d.array().map_err(malformed)?;
        let target = shape
            .member
            .as_ref()
            .and_then(|m| self.model.shape(&m.shape));
        let mut out = Vec::new();
        let mut index = 0usize;
        self.items(len, |r| {
            index += 1;
            let Some(target) = target else {
                return r.skip(depth + 1);
            };
            let mark = r.push(&index.to_string());
            let converted = r.value(target, depth + 1);
            r.path.truncate(mark);
            out.extend(converted?);
            Ok(())
        })?;
        Ok(Value::Array(out))
    }

    fn map(&mut self, shape: &Shape, depth: usize) -> Result<Value, DecodeError> {
        let len = self.d.map().map_err(malformed)?;
        let target = shape
            .value
            .as_ref()
            .and_then(|m| self.model.shape(&m.shape));
        let mut out = Map::new();
        self.items(len, |r| {
            let key = r.key()?;
            let Some(target) = target else {
                return r.skip(depth + 1);
            };
            let mark = r.push(&key);
            let converted = r.value(target, depth + 1);
            r.path.truncate(mark);
            if let Some(v) = converted? {
                out.insert(key, v);
            }
            Ok(())
        })?;
        Ok(Value::Object(out))
    }

    /// Append a path segment; returns the length to truncate back to.
    fn push(&mut self, segment: &str) -> usize {
        let len = self.path.len();
        if len > 0 {
            self.path.push('.');
        }
        self.path.push_str(segment);
        len
    }

    fn invalid(&self, expected: &'static str, got: Value) -> DecodeError {
        let got = match got {
            Value::String(s) => truncate(&s),
            other => truncate(&other.to_string()),
        };
        DecodeError::Invalid {
            path: self.path.clone(),
            expected,
            got,
        }
    }
}

fn is_float(ty: Type) -> bool {
    matches!(ty, Type::F16 | Type::F32 | Type::F64)
}

fn is_number(ty: Type) -> bool {
    is_float(ty)
        || matches!(
            ty,
            Type::U8
                | Type::U16
                | Type::U32
                | Type::U64
                | Type::I8
                | Type::I16
                | Type::I32
                | Type::I64
                | Type::Int
        )
}

fn expected(kind: ShapeType) -> &'static str {
    match kind {
        ShapeType::Timestamp => "timestamp (tag 1 + number)",
        ShapeType::Blob => "blob (byte string)",
        k => type_name(k),
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

struct Writer<'a> {
    e: Encoder<Vec<u8>>,
    model: &'a ServiceModel,
}

// Writing into a Vec cannot fail (`Infallible`), so the results below are dropped.
impl<'a> Writer<'a> {
    fn map_len(&mut self, n: usize) {
        let _ = self.e.map(n as u64);
    }

    fn str(&mut self, s: &str) {
        let _ = self.e.str(s);
    }

    /// Whether [`Writer::value`] writes something for `value`.
    fn writable(shape: &Shape, value: &Value) -> bool {
        match shape.kind {
            ShapeType::Structure | ShapeType::Map => value.is_object(),
            ShapeType::List => value.is_array(),
            _ => scalar(shape, value).is_some(),
        }
    }

    fn child(&self, r: Option<&ShapeRef>) -> Option<&'a Shape> {
        r.and_then(|r| self.model.shape(&r.shape))
    }

    /// Write `value` for `shape`. Callers check [`Writer::writable`]; a value that does not fit
    /// writes `null` so that a declared length stays right.
    fn value(&mut self, shape: &Shape, value: &Value) {
        match (shape.kind, value) {
            (ShapeType::Structure, Value::Object(object)) => {
                let model = self.model;
                let members: Vec<(&str, &Shape, &Value)> = shape
                    .members
                    .iter()
                    .filter_map(|(name, m)| {
                        let v = object.get(name)?;
                        let t = model.shape(&m.shape)?;
                        Self::writable(t, v).then_some((name.as_str(), t, v))
                    })
                    .collect();
                self.map_len(members.len());
                for (name, t, v) in members {
                    self.str(name);
                    self.value(t, v);
                }
            }
            (ShapeType::List, Value::Array(items)) => {
                let target = self.child(shape.member.as_ref());
                let items: Vec<(&Shape, &Value)> = items
                    .iter()
                    .filter_map(|v| target.filter(|t| Self::writable(t, v)).map(|t| (t, v)))
                    .collect();
                let _ = self.e.array(items.len() as u64);
                for (t, v) in items {
                    self.value(t, v);
                }
            }
            (ShapeType::Map, Value::Object(object)) => {
                let target = self.child(shape.value.as_ref());
                let entries: Vec<(&str, &Shape, &Value)> = object
                    .iter()
                    .filter_map(|(k, v)| {
                        target
                            .filter(|t| Self::writable(t, v))
                            .map(|t| (k.as_str(), t, v))
                    })
                    .collect();
                self.map_len(entries.len());
                for (k, t, v) in entries {
                    self.str(k);
                    self.value(t, v);
                }
            }
            _ => match scalar(shape, value) {
                Some(s) => write_scalar(&mut self.e, &s),
                None => {
                    let _ = self.e.null();
                }
            },
        }
    }
}

/// Write a checked scalar as CBOR.
pub(crate) fn write_scalar<W: minicbor::encode::Write>(e: &mut Encoder<W>, value: &Scalar<'_>) {
    // Writing into a Vec cannot fail (`Infallible`), so the result is dropped.
    let _ = match value {
        Scalar::Str(s) => e.str(s),
        Scalar::Int(i) => e.i64(*i),
        Scalar::UInt(u) => e.u64(*u),
        Scalar::Float(f) => e.f64(*f),
        Scalar::Bool(b) => e.bool(*b),
        Scalar::Timestamp(t) => {
            // Millisecond resolution, like every other timestamp Updraft emits.
            let t = (t * 1000.0).round() / 1000.0;
            e.tag(minicbor::data::Tag::new(TAG_EPOCH))
                .and_then(|e| e.f64(t))
        }
        Scalar::Blob(text) => match LENIENT_BASE64.decode(text) {
            Ok(bytes) => e.bytes(&bytes),
            // Not base64 after all: its own bytes are the best guess.
            Err(_) => e.bytes(text.as_bytes()),
        },
    };
}

#[cfg(test)]
#[path = "cbor_tests.rs"]
mod tests;
