//! awsJson 1.0: request bodies into the value tree, value trees into response bodies.
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
use super::timestamp::{epoch_number, format_iso8601, parse_iso8601};
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
pub(crate) enum Scalar<'a> {
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
            Some(Scalar::Str(s)) => write_str(&s, out),
            Some(Scalar::Blob(s)) => write_str(s, out),
            Some(Scalar::Int(i)) => out.extend_from_slice(i.to_string().as_bytes()),
            Some(Scalar::UInt(u)) => out.extend_from_slice(u.to_string().as_bytes()),
            Some(Scalar::Bool(b)) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Some(Scalar::Float(f)) => write_json_value(&float_to_value(f), out),
            Some(Scalar::Timestamp(t)) => {
                let format = member
                    .and_then(|m| m.timestamp_format.as_deref())
                    .or(shape.timestamp_format.as_deref());
                if format == Some("iso8601") {
                    write_str(&format_iso8601(t), out);
                } else {
                    write_json_value(&epoch_number(t), out);
                }
            }
            None => out.extend_from_slice(b"null"),
        },
    }
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    // Serialising a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_json_value(v: &Value, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, v);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn cloudwatch() -> &'static ServiceModel {
        static MODEL: std::sync::LazyLock<ServiceModel> = std::sync::LazyLock::new(|| {
            ServiceModel::from_json(include_str!("../../protocol/models/cloudwatch.json")).unwrap()
        });
        &MODEL
    }

    fn input_of(model: &ServiceModel, op: &str) -> ShapeRef {
        model.operations[op].input.clone().unwrap()
    }

    fn output_of(model: &ServiceModel, op: &str) -> ShapeRef {
        model.operations[op].output.clone().unwrap()
    }

    #[test]
    fn decodes_the_botocore_and_js_captures() {
        let m = cloudwatch();
        let put = input_of(m, "PutMetricData");
        let cli = br#"{"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1704164645, "Value": 12.5, "Unit": "Milliseconds"}]}"#;
        let v = decode_json(m, Some(&put), cli).unwrap();
        assert_eq!(
            v,
            json!({"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency",
                "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1704164645,
                "Value": 12.5, "Unit": "Milliseconds"}]})
        );
        let js = br#"{"Namespace":"MyApp","MetricData":[{"MetricName":"Latency","Timestamp":1704164645.678,"Value":12}]}"#;
        let v = decode_json(m, Some(&put), js).unwrap();
        assert_eq!(v["MetricData"][0]["Timestamp"], json!(1704164645.678));
        // Floats are f64 numbers in the tree even when the client sent an integer.
        assert_eq!(v["MetricData"][0]["Value"], json!(12.0));
    }

    #[test]
    fn empty_and_non_object_bodies() {
        let m = cloudwatch();
        let put = input_of(m, "PutMetricData");
        assert_eq!(decode_json(m, Some(&put), b"").unwrap(), json!({}));
        assert_eq!(decode_json(m, Some(&put), b"  \n").unwrap(), json!({}));
        assert_eq!(decode_json(m, None, b"{}").unwrap(), json!({}));
        for bad in [&b"[]"[..], b"null", b"1", b"\"x\"", b"{", b"{} x"] {
            assert!(
                matches!(
                    decode_json(m, Some(&put), bad),
                    Err(DecodeError::Malformed(_))
                ),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn type_errors_name_the_member_path() {
        let m = cloudwatch();
        let put = input_of(m, "PutMetricData");
        let body = br#"{"Namespace":"n","MetricData":[{"MetricName":"a"},{"MetricName":"b","Value":"high"}]}"#;
        assert_eq!(
            decode_json(m, Some(&put), body),
            Err(DecodeError::Invalid {
                path: "MetricData.2.Value".into(),
                expected: "double",
                got: "high".into()
            })
        );
        let body = br#"{"Namespace":5}"#;
        assert!(matches!(
            decode_json(m, Some(&put), body),
            Err(DecodeError::Invalid { path, expected: "string", .. }) if path == "Namespace"
        ));
        let stats = input_of(m, "GetMetricStatistics");
        let body = br#"{"Period": 1.5}"#;
        assert!(matches!(
            decode_json(m, Some(&stats), body),
            Err(DecodeError::Invalid {
                expected: "integer",
                ..
            })
        ));
        let body = br#"{"Period": 4294967296}"#;
        assert!(decode_json(m, Some(&stats), body).is_err());
        let body = br#"{"Period": 300.0, "StartTime": "2024-01-01T00:00:00Z"}"#;
        assert_eq!(
            decode_json(m, Some(&stats), body).unwrap(),
            json!({"Period": 300, "StartTime": 1704067200})
        );
        let body = br#"{"StartTime": true}"#;
        assert!(decode_json(m, Some(&stats), body).is_err());
        let body = br#"{"StartTime": 1704164645678}"#;
        assert!(matches!(
            decode_json(m, Some(&stats), body),
            Err(DecodeError::Invalid {
                expected: "timestamp",
                ..
            })
        ));
    }

    #[test]
    fn nulls_dropped_unknowns_ignored_specials_kept() {
        let m = cloudwatch();
        let put = input_of(m, "PutMetricData");
        let body = br#"{"Namespace":null,"Bogus":{"x":1},"MetricData":[null,{"MetricName":"m","Value":"NaN","Values":["Infinity","-Infinity",1]}]}"#;
        assert_eq!(
            decode_json(m, Some(&put), body).unwrap(),
            json!({"MetricData": [{"MetricName": "m", "Value": "NaN",
                "Values": ["Infinity", "-Infinity", 1.0]}]})
        );
    }

    #[test]
    fn blobs_are_validated_base64() {
        let m = cloudwatch();
        let out = output_of(m, "GetMetricWidgetImage");
        let v = decode_json(m, Some(&out), br#"{"MetricWidgetImage":"Zm9v"}"#).unwrap();
        assert_eq!(v, json!({"MetricWidgetImage": "Zm9v"}));
        let v = decode_json(m, Some(&out), br#"{"MetricWidgetImage":"Zm8"}"#).unwrap();
        assert_eq!(v, json!({"MetricWidgetImage": "Zm8="}));
        assert!(decode_json(m, Some(&out), br#"{"MetricWidgetImage":"not base64!"}"#).is_err());
    }

    #[test]
    fn encodes_in_model_order_and_skips_nulls() {
        let m = cloudwatch();
        let out = output_of(m, "GetMetricStatistics");
        let value = json!({"Datapoints": [{"Unit": "Percent", "Average": 12.5,
            "Timestamp": 1704067200, "Sum": null}, {"Timestamp": 1704067500.25, "Maximum": 99}],
            "Label": "CPUUtilization"});
        let body = encode_json(m, Some(&out), &value);
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"Label":"CPUUtilization","Datapoints":[{"Timestamp":1704067200,"Average":12.5,"Unit":"Percent"},{"Timestamp":1704067500.25,"Maximum":99.0}]}"#
        );
        assert_eq!(encode_json(m, None, &json!({"a": 1})), b"{}");
        assert_eq!(encode_json(m, Some(&out), &json!(null)), b"{}");
        let value = json!({"Datapoints": [{"Average": "NaN", "Minimum": "-Infinity"}]});
        assert_eq!(
            std::str::from_utf8(&encode_json(m, Some(&out), &value)).unwrap(),
            r#"{"Datapoints":[{"Average":"NaN","Minimum":"-Infinity"}]}"#
        );
    }

    #[test]
    fn error_body() {
        let err = ApiError::client("InvalidParameterValue", "bad \"value\"");
        let body = encode_json_error(
            "com.amazonaws.cloudwatch#InvalidParameterValueException",
            &err,
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({"__type": "com.amazonaws.cloudwatch#InvalidParameterValueException",
                "message": "bad \"value\""})
        );
    }

    /// Random trees for the round-trip and robustness properties (shared with the CBOR tests).
    pub(crate) mod trees {
        use super::super::*;
        use rand::rngs::StdRng;
        use rand::{Rng, RngCore, SeedableRng};

        /// A valid tree for `shape`, as the decoders would produce it.
        pub(crate) fn tree(model: &ServiceModel, shape: &Shape, seed: u64) -> Value {
            let mut rng = StdRng::seed_from_u64(seed);
            valid(model, shape, &mut rng, 0)
        }

        fn valid(model: &ServiceModel, shape: &Shape, rng: &mut StdRng, depth: u32) -> Value {
            let child = |r: &ShapeRef| model.shape(&r.shape);
            match shape.kind {
                ShapeType::Structure => {
                    let mut out = Map::new();
                    for (name, member) in &shape.members {
                        if depth < 6
                            && rng.random_bool(0.6)
                            && let Some(t) = child(member)
                        {
                            out.insert(name.clone(), valid(model, t, rng, depth + 1));
                        }
                    }
                    Value::Object(out)
                }
                ShapeType::List => {
                    let n = if depth < 6 { rng.random_range(0..4) } else { 0 };
                    let t = shape.member.as_ref().and_then(child);
                    Value::Array(
                        (0..n)
                            .filter_map(|_| t.map(|t| valid(model, t, rng, depth + 1)))
                            .collect(),
                    )
                }
                ShapeType::Map => {
                    let n = if depth < 6 { rng.random_range(0..4) } else { 0 };
                    let t = shape.value.as_ref().and_then(child);
                    let mut out = Map::new();
                    for _ in 0..n {
                        if let Some(t) = t {
                            out.insert(text(rng), valid(model, t, rng, depth + 1));
                        }
                    }
                    Value::Object(out)
                }
                ShapeType::String => Value::String(text(rng)),
                ShapeType::Boolean => Value::Bool(rng.random()),
                ShapeType::Byte => Value::from(rng.random::<i8>()),
                ShapeType::Short => Value::from(rng.random::<i16>()),
                ShapeType::Integer => Value::from(rng.random::<i32>()),
                ShapeType::Long | ShapeType::BigInteger => Value::from(rng.random::<i64>()),
                ShapeType::Float => float_to_value(f64::from(f32::from_bits(rng.next_u32()))),
                ShapeType::Double | ShapeType::BigDecimal => {
                    let f = match rng.random_range(0..4) {
                        0 => f64::from_bits(rng.next_u64()),
                        1 => f64::from(rng.random_range(-100_000i32..100_000)) / 100.0,
                        2 => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0]
                            [rng.random_range(0..5)],
                        _ => rng.random::<f64>() * 1e12,
                    };
                    float_to_value(f)
                }
                ShapeType::Timestamp => {
                    let millis = rng.random_range(-2_000_000_000_000i64..8_000_000_000_000);
                    let millis = if rng.random_bool(0.5) {
                        millis / 1000 * 1000
                    } else {
                        millis
                    };
                    epoch_number(millis as f64 / 1000.0)
                }
                ShapeType::Blob => {
                    let n = rng.random_range(0..24);
                    let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
                }
            }
        }

        fn text(rng: &mut StdRng) -> String {
            let n = rng.random_range(0..12);
            (0..n)
                .map(|_| match rng.random_range(0..4) {
                    0 => char::from(rng.random_range(b'a'..=b'z')),
                    1 => ['"', '\\', '\n', '\u{0}', '\u{7f}', '/'][rng.random_range(0..6)],
                    2 => rng.random::<char>(),
                    _ => char::from(rng.random_range(b' '..=b'~')),
                })
                .collect()
        }

        /// A tree of the shape's member names with random, often wrong, values.
        pub(crate) fn chaos(model: &ServiceModel, shape: &Shape, seed: u64) -> Value {
            let mut rng = StdRng::seed_from_u64(seed);
            wild(model, Some(shape), &mut rng, 0)
        }

        fn wild(
            model: &ServiceModel,
            shape: Option<&Shape>,
            rng: &mut StdRng,
            depth: u32,
        ) -> Value {
            if depth > 8 || rng.random_bool(0.15) {
                return match rng.random_range(0..8) {
                    0 => Value::Null,
                    1 => Value::Bool(rng.random()),
                    2 => Value::from(rng.random::<i64>()),
                    3 => Value::from(rng.random::<u64>()),
                    4 => float_to_value(f64::from_bits(rng.next_u64())),
                    5 => Value::String(
                        ["NaN", "Infinity", "x", "", "Zm9v", "2024-01-01T00:00:00Z"]
                            [rng.random_range(0..6)]
                        .into(),
                    ),
                    6 => Value::Array(vec![Value::Null; rng.random_range(0..3)]),
                    _ => Value::Object(Map::new()),
                };
            }
            let Some(shape) = shape else {
                return Value::String(text(rng));
            };
            let child = |r: &Option<ShapeRef>| r.as_ref().and_then(|r| model.shape(&r.shape));
            match shape.kind {
                ShapeType::Structure => {
                    let mut out = Map::new();
                    for (name, member) in &shape.members {
                        if rng.random_bool(0.5) {
                            let t = model.shape(&member.shape);
                            out.insert(name.clone(), wild(model, t, rng, depth + 1));
                        }
                    }
                    if rng.random_bool(0.2) {
                        out.insert(text(rng), wild(model, None, rng, depth + 1));
                    }
                    Value::Object(out)
                }
                ShapeType::List => {
                    let t = child(&shape.member);
                    Value::Array(
                        (0..rng.random_range(0..4))
                            .map(|_| wild(model, t, rng, depth + 1))
                            .collect(),
                    )
                }
                ShapeType::Map => {
                    let t = child(&shape.value);
                    let mut out = Map::new();
                    for _ in 0..rng.random_range(0..4) {
                        out.insert(text(rng), wild(model, t, rng, depth + 1));
                    }
                    Value::Object(out)
                }
                _ => valid(model, shape, rng, depth),
            }
        }
    }

    pub(crate) const ROUND_TRIP_SHAPES: [(&str, bool); 7] = [
        ("PutMetricData", true),
        ("GetMetricData", true),
        ("PutMetricAlarm", true),
        ("DescribeAlarms", false),
        ("GetMetricStatistics", false),
        ("GetMetricData", false),
        ("GetMetricWidgetImage", false),
    ];

    /// Floats compare within 2 ulps (serde_json's default float parser may be off by one);
    /// everything else exactly.
    pub(crate) fn same_tree(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                x == y || (x.to_bits().abs_diff(y.to_bits()) <= 2 && x.signum() == y.signum())
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_tree(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| same_tree(v, w)))
            }
            _ => a == b,
        }
    }

    pub(crate) fn shape_ref(model: &ServiceModel, op: &str, input: bool) -> ShapeRef {
        let op = &model.operations[op];
        if input {
            op.input.clone()
        } else {
            op.output.clone()
        }
        .unwrap()
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn decode_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..256)) {
                let m = cloudwatch();
                for op in ["PutMetricData", "GetMetricData"] {
                    let _ = decode_json(m, Some(&input_of(m, op)), &body);
                }
            }

            #[test]
            fn decode_never_panics_on_json_shaped_garbage(seed in any::<u64>()) {
                let m = cloudwatch();
                for op in ["PutMetricData", "GetMetricData"] {
                    let r = input_of(m, op);
                    let tree = trees::chaos(m, m.shape(&r.shape).unwrap(), seed);
                    let body = serde_json::to_vec(&tree).unwrap();
                    let _ = decode_json(m, Some(&r), &body);
                }
            }

            #[test]
            fn round_trips_cloudwatch_trees(seed in any::<u64>()) {
                let m = cloudwatch();
                for (op, input) in ROUND_TRIP_SHAPES {
                    let r = shape_ref(m, op, input);
                    let tree = trees::tree(m, m.shape(&r.shape).unwrap(), seed);
                    let body = encode_json(m, Some(&r), &tree);
                    let back = decode_json(m, Some(&r), &body);
                    prop_assert!(back.is_ok(), "{op}: {back:?}\n{}", String::from_utf8_lossy(&body));
                    let back = back.unwrap();
                    prop_assert!(same_tree(&tree, &back), "{op}:\n{tree}\n{back}");
                }
            }
        }
    }
}
