//! awsJson 1.0 and 1.1 (the bodies are the same; only the `Content-Type` differs, see
//! `ServiceDef::json_content_type`): request bodies into the value tree, value trees into
//! response bodies.
//!
//! Requests are JSON objects keyed by member name (or `locationName` when a member has one);
//! timestamps are epoch seconds (botocore sends integers, JS v3 floats with milliseconds),
//! blobs base64 strings, and floats may be the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
//! Conversion is driven by the operation's shapes: `null` members are dropped, unknown members
//! ignored, and a value of the wrong type is a [`DecodeError::Invalid`] naming its member path
//! (`MetricData.1.Value`, list positions counted from 1 as in the query protocols).
//! `required` is not checked here; the validator does that on the tree.
//!
//! The scalar rules shared with the CBOR encoder live here too ([`scalar`]).

use std::borrow::Cow;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::DecodeError;
use super::model::{ServiceModel, Shape, ShapeRef, ShapeType};
use super::timestamp::{Epoch, epoch, epoch_number, format_iso8601, parse_iso8601};
use crate::error::ApiError;

/// Decode an awsJson 1.0 request body into the value tree of `input`.
///
/// An empty body is `{}`; anything else must be a JSON object.
pub fn decode_json(
    model: &ServiceModel,
    input: Option<&ShapeRef>,
    body: &[u8],
) -> Result<Value, DecodeError> {
    if body.trim_ascii().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Malformed(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(object) = parsed else {
        return Err(DecodeError::Malformed(
            "the body must be a JSON object".into(),
        ));
    };
    let Some(shape) = input.and_then(|r| model.shape(&r.shape)) else {
        return Ok(Value::Object(Map::new()));
    };
    let mut path = String::new();
    let value = Decoder {
        model,
        path: &mut path,
    }
    .structure(shape, object)?;
    Ok(value)
}

/// Encode `value` (a tree of `output`) as an awsJson 1.0 body: members in model order,
/// `null`s and values that do not fit their shape omitted, `{}` when there is no output.
pub fn encode_json(model: &ServiceModel, output: Option<&ShapeRef>, value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    match output.and_then(|r| model.shape(&r.shape)) {
        Some(shape) if shape.kind == ShapeType::Structure && value.is_object() => {
            write_value(model, shape, None, value, &mut out);
        }
        _ => out.extend_from_slice(b"{}"),
    }
    out
}

/// The awsJson 1.0 error body: `{"__type": type_name, "message": err.message}`.
///
/// `type_name` is the absolute shape id (`com.amazonaws.cloudwatch#InvalidParameterValueException`);
/// the `x-amzn-query-error` header is the server's business.
pub fn encode_json_error(type_name: &str, err: &ApiError) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + type_name.len() + err.message.len());
    out.extend_from_slice(b"{\"__type\":");
    write_str(type_name, &mut out);
    out.extend_from_slice(b",\"message\":");
    write_str(&err.message, &mut out);
    out.push(b'}');
    out
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Decoder<'a> {
    model: &'a ServiceModel,
    path: &'a mut String,
}

impl Decoder<'_> {
    /// Convert one JSON value; `Ok(None)` means "absent" (JSON `null`).
    fn value(&mut self, shape: &Shape, value: Value) -> Result<Option<Value>, DecodeError> {
        if value.is_null() {
            return Ok(None);
        }
        let converted = match shape.kind {
            ShapeType::Structure => match value {
                Value::Object(object) => self.structure(shape, object)?,
                other => return Err(self.invalid("structure", &other)),
            },
            ShapeType::List => match value {
                Value::Array(items) => self.list(shape, items)?,
                other => return Err(self.invalid("list", &other)),
            },
            ShapeType::Map => match value {
                Value::Object(object) => self.map(shape, object)?,
                other => return Err(self.invalid("map", &other)),
            },
            ShapeType::String => match value {
                Value::String(_) => value,
                other => return Err(self.invalid("string", &other)),
            },
            ShapeType::Boolean => match value {
                Value::Bool(_) => value,
                other => return Err(self.invalid("boolean", &other)),
            },
            kind if kind.is_integer() => match value.as_number().and_then(|n| integer(kind, n)) {
                Some(v) => v,
                None => return Err(self.invalid(type_name(kind), &value)),
            },
            kind if kind.is_float() => match float_value(&value) {
                Some(v) => v,
                None => return Err(self.invalid(type_name(kind), &value)),
            },
            ShapeType::Timestamp => {
                let seconds = match &value {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => parse_iso8601(s),
                    _ => None,
                };
                match seconds.and_then(timestamp_value) {
                    Some(t) => t,
                    None => return Err(self.invalid("timestamp", &value)),
                }
            }
            ShapeType::Blob => match value.as_str().and_then(canonical_base64) {
                Some(b64) => Value::String(b64),
                None => return Err(self.invalid("blob (base64)", &value)),
            },
            // Every kind is covered above; keep the value rather than fail on a new one.
            _ => value,
        };
        Ok(Some(converted))
    }

    fn structure(
        &mut self,
        shape: &Shape,
        mut object: Map<String, Value>,
    ) -> Result<Value, DecodeError> {
        let mut out = Map::new();
        for (name, member) in &shape.members {
            let wire = member.location_name.as_deref().unwrap_or(name);
            let Some(raw) = object.remove(wire).or_else(|| object.remove(name.as_str())) else {
                continue;
            };
            let Some(target) = self.model.shape(&member.shape) else {
                continue;
            };
            let len = self.push(name);
            let converted = self.value(target, raw);
            self.path.truncate(len);
            if let Some(v) = converted? {
                out.insert(name.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn list(&mut self, shape: &Shape, items: Vec<Value>) -> Result<Value, DecodeError> {
        let Some(target) = shape
            .member
            .as_ref()
            .and_then(|m| self.model.shape(&m.shape))
        else {
            return Ok(Value::Array(Vec::new()));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let len = self.push(&(i + 1).to_string());
            let converted = self.value(target, item);
            self.path.truncate(len);
            out.extend(converted?);
        }
        Ok(Value::Array(out))
    }

    fn map(&mut self, shape: &Shape, object: Map<String, Value>) -> Result<Value, DecodeError> {
        let Some(target) = shape
            .value
            .as_ref()
            .and_then(|m| self.model.shape(&m.shape))
        else {
            return Ok(Value::Object(Map::new()));
        };
        let mut out = Map::new();
        for (key, raw) in object {
            let len = self.push(&key);
            let converted = self.value(target, raw);
            self.path.truncate(len);
            if let Some(v) = converted? {
                out.insert(key, v);
            }
        }
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

    fn invalid(&self, expected: &'static str, got: &Value) -> DecodeError {
        DecodeError::Invalid {
            path: self.path.clone(),
            expected,
            got: describe(got),
        }
    }
}

/// A short rendering of an offending JSON value.
fn describe(value: &Value) -> String {
    match value {
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        Value::String(s) => truncate(s),
        other => truncate(&other.to_string()),
    }
}

/// At most 64 characters of `text`, marked when cut.
pub(crate) fn truncate(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The botocore name of a shape type, for error messages.
pub(crate) fn type_name(kind: ShapeType) -> &'static str {
    match kind {
        ShapeType::Structure => "structure",
        ShapeType::List => "list",
        ShapeType::Map => "map",
        ShapeType::String => "string",
        ShapeType::Integer => "integer",
        ShapeType::Long => "long",
        ShapeType::Short => "short",
        ShapeType::Byte => "byte",
        ShapeType::Float => "float",
        ShapeType::Double => "double",
        ShapeType::Boolean => "boolean",
        ShapeType::Timestamp => "timestamp",
        ShapeType::Blob => "blob",
        ShapeType::BigInteger => "bigInteger",
        ShapeType::BigDecimal => "bigDecimal",
    }
}

/// The inclusive range of an integer kind.
pub(crate) fn integer_range(kind: ShapeType) -> (i128, i128) {
    match kind {
        ShapeType::Byte => (i8::MIN.into(), i8::MAX.into()),
        ShapeType::Short => (i16::MIN.into(), i16::MAX.into()),
        ShapeType::Integer => (i32::MIN.into(), i32::MAX.into()),
        ShapeType::BigInteger => (i64::MIN.into(), u64::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    }
}

/// Epoch seconds as a tree timestamp, if they fall in years 1 to 9999 (a client that sends
/// milliseconds by mistake gets an error rather than a date in the year 55970).
pub(crate) fn timestamp_value(seconds: f64) -> Option<Value> {
    const MIN: f64 = -62_135_596_800.0; // 0001-01-01T00:00:00Z
    const MAX: f64 = 253_402_300_800.0; // 10000-01-01T00:00:00Z
    (seconds.is_finite() && (MIN..MAX).contains(&seconds)).then(|| epoch_number(seconds))
}

/// A tree integer for `kind` from a whole number, if it fits.
pub(crate) fn integer_from_i128(kind: ShapeType, n: i128) -> Option<Value> {
    let (min, max) = integer_range(kind);
    if n < min || n > max {
        return None;
    }
    match i64::try_from(n) {
        Ok(v) => Some(Value::from(v)),
        Err(_) => u64::try_from(n).ok().map(Value::from),
    }
}

/// A whole `f64` as an `i128`, if it is one and fits.
pub(crate) fn whole(f: f64) -> Option<i128> {
    // 2^64 bounds every integer kind; the cast is exact below it.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 18_446_744_073_709_551_616.0)
        .then_some(f as i128)
}

fn integer(kind: ShapeType, n: &serde_json::Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        return integer_from_i128(kind, i.into());
    }
    if let Some(u) = n.as_u64() {
        return integer_from_i128(kind, u.into());
    }
    n.as_f64()
        .and_then(whole)
        .and_then(|i| integer_from_i128(kind, i))
}

/// A float as the tree holds it: an `f64` number, or one of the non-finite strings.
pub(crate) fn float_to_value(f: f64) -> Value {
    if f.is_nan() {
        Value::String("NaN".into())
    } else if f == f64::INFINITY {
        Value::String("Infinity".into())
    } else if f == f64::NEG_INFINITY {
        Value::String("-Infinity".into())
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// Read a float from a tree value: a number or a non-finite string.
pub(crate) fn float_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

fn float_value(value: &Value) -> Option<Value> {
    float_of(value).map(float_to_value)
}

/// Base64 as clients send it: standard alphabet, padding optional.
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Validate base64 text and return it in canonical (padded) form.
fn canonical_base64(text: &str) -> Option<String> {
    let bytes = LENIENT_BASE64.decode(text).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// A tree scalar ready for the wire, after checking it against its shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// A string (or enum).
    Str(Cow<'a, str>),
    /// A whole number that fits an `i64`.
    Int(i64),
    /// A whole number above `i64::MAX` (bigInteger only).
    UInt(u64),
    /// A float, possibly non-finite.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Epoch seconds.
    Timestamp(f64),
    /// Base64 text of a blob.
    Blob(&'a str),
}

/// Check a scalar tree value against its shape. `None` when the value does not fit (it is then
/// left out of the response) or when the shape is not a scalar.
pub(crate) fn scalar<'a>(shape: &Shape, value: &'a Value) -> Option<Scalar<'a>> {
    match shape.kind {
        ShapeType::String => match value {
            Value::String(s) => Some(Scalar::Str(Cow::Borrowed(s))),
            // A number or boolean where a string belongs: its text is the only sensible reading.
            Value::Number(n) => Some(Scalar::Str(Cow::Owned(n.to_string()))),
            Value::Bool(b) => Some(Scalar::Str(Cow::Owned(b.to_string()))),
            _ => None,
        },
        ShapeType::Boolean => value.as_bool().map(Scalar::Bool),
        kind if kind.is_integer() => {
            let n = value.as_number()?;
            let i = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i128::from(i),
                (None, Some(u)) => i128::from(u),
                _ => whole(n.as_f64()?)?,
            };
            let (min, max) = integer_range(kind);
            if i < min || i > max {
                return None;
            }
            match i64::try_from(i) {
                Ok(v) => Some(Scalar::Int(v)),
                Err(_) => u64::try_from(i).ok().map(Scalar::UInt),
            }
        }
        kind if kind.is_float() => float_of(value).map(Scalar::Float),
        ShapeType::Timestamp => match value {
            Value::Number(n) => n.as_f64().map(Scalar::Timestamp),
            Value::String(s) => parse_iso8601(s).map(Scalar::Timestamp),
            _ => None,
        },
        ShapeType::Blob => value.as_str().map(Scalar::Blob),
        _ => None,
    }
}

/// Whether the JSON writer would write something for `value`.
fn writable(shape: &Shape, value: &Value) -> bool {
    match shape.kind {
        ShapeType::Structure | ShapeType::Map => value.is_object(),
        ShapeType::List => value.is_array(),
        _ => scalar(shape, value).is_some(),
    }
}

/// Write `value` as JSON for `shape`. `member` carries a member-level `timestampFormat`.
/// Callers check [`writable`] first; a value that does not fit writes `null`.
fn write_value(
    model: &ServiceModel,
    shape: &Shape,
    member: Option<&ShapeRef>,
    value: &Value,
    out: &mut Vec<u8>,
) {
    match (shape.kind, value) {
        (ShapeType::Structure, Value::Object(object)) => {
            out.push(b'{');
            let mut first = true;
            for (name, member) in &shape.members {
                let Some(v) = object.get(name) else { continue };
                let Some(target) = model.shape(&member.shape) else {
                    continue;
                };
                if !writable(target, v) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(member.location_name.as_deref().unwrap_or(name), out);
                out.push(b':');
                write_value(model, target, Some(member), v, out);
            }
            out.push(b'}');
        }
        (ShapeType::List, Value::Array(items)) => {
            out.push(b'[');
            let target = shape.member.as_ref().and_then(|m| model.shape(&m.shape));
            let mut first = true;
            for item in items {
                let Some(target) = target.filter(|t| writable(t, item)) else {
                    continue;
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                write_value(model, target, shape.member.as_ref(), item, out);
            }
            out.push(b']');
        }
        (ShapeType::Map, Value::Object(object)) => {
            out.push(b'{');
            let target = shape.value.as_ref().and_then(|m| model.shape(&m.shape));
            let mut first = true;
            for (key, item) in object {
                let Some(target) = target.filter(|t| writable(t, item)) else {
                    continue;
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(key, out);
                out.push(b':');
                write_value(model, target, shape.value.as_ref(), item, out);
            }
            out.push(b'}');
        }
        _ => match scalar(shape, value) {
            Some(s) => write_scalar(&s, timestamp_format(member, shape), out),
            None => out.extend_from_slice(b"null"),
        },
    }
}

/// A timestamp's `timestampFormat`: the member's, else its shape's.
pub(crate) fn timestamp_format<'m>(
    member: Option<&'m ShapeRef>,
    shape: &'m Shape,
) -> Option<&'m str> {
    member
        .and_then(|m| m.timestamp_format.as_deref())
        .or(shape.timestamp_format.as_deref())
}

/// Write a checked scalar as JSON (`format`: see [`timestamp_format`]). Numbers are written
/// as the tree path's `Value`s serialize, without making one.
pub(crate) fn write_scalar(value: &Scalar<'_>, format: Option<&str>, out: &mut Vec<u8>) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    match value {
        Scalar::Str(s) => write_str(s, out),
        Scalar::Blob(s) => write_str(s, out),
        Scalar::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Scalar::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        Scalar::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Scalar::Float(f) if f.is_finite() => {
            let _ = serde_json::to_writer(&mut *out, f);
        }
        Scalar::Float(f) => write_json_value(&float_to_value(*f), out),
        Scalar::Timestamp(t) => {
            if format == Some("iso8601") {
                write_str(&format_iso8601(*t), out);
            } else {
                match epoch(*t) {
                    Epoch::Whole(seconds) => {
                        let _ = write!(out, "{seconds}");
                    }
                    Epoch::Millis(seconds) => {
                        let _ = serde_json::to_writer(&mut *out, &seconds);
                    }
                }
            }
        }
    }
}

pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    // Serialising a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_json_value(v: &Value, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, v);
}

#[cfg(test)]
#[path = "json_tests.rs"]
pub(crate) mod tests;
