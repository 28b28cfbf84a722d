//! Decoder for awsQuery and ec2Query form parameters.
//!
//! The body is already split into percent-decoded `(key, value)` pairs. The input shape drives
//! the walk: for each member we compute the wire key the client would have produced and look it
//! up in a sorted index of the pairs, so the cost is `O(n log n)` whatever the order of the
//! pairs, and list items are read by index in numeric order (gaps tolerated, huge indices never
//! allocate).
//!
//! Naming rules (botocore `QuerySerializer` / `EC2Serializer`, Smithy awsQuery / ec2Query):
//!
//! | | awsQuery | ec2Query |
//! | --- | --- | --- |
//! | member | `locationName`, else member name | `queryName`, else `locationName` with its first letter upper-cased, else member name |
//! | list | `Name.member.N` (`member` = list member's `locationName`); flattened `Name.N`; empty `Name=` | always `Name.N` |
//! | map | `Name.entry.N.key` / `.value` (renamed by key/value `locationName`); flattened `Name.N.key` | as awsQuery (unused by EC2) |
//!
//! Leniency beyond what botocore sends: a flattened list is also read under the name botocore
//! derives from the list member's `locationName`; an ec2 member without `queryName` or
//! `locationName` whose name starts lower-case is also read with its first letter upper-cased
//! (what Smithy-generated SDKs send); booleans are case-insensitive; a blob whose `+` signs were
//! sent unencoded (and so became spaces) is repaired.
//!
//! `required` is not checked here (see [`super::validate`]); unknown keys are ignored.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::DecodeError;
use super::model::{ServiceModel, Shape, ShapeRef, ShapeType};
use super::timestamp::{epoch_number, parse_iso8601};

/// Which form dialect the body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFlavor {
    /// awsQuery (Auto Scaling, ELB, ELBv2, SNS, CloudWatch-legacy).
    Query,
    /// ec2Query (EC2).
    Ec2,
}

/// Deepest nesting of structures/lists/maps followed; only recursive shapes can get there.
const MAX_DEPTH: usize = 64;

/// Longest offending value copied into a [`DecodeError::Invalid`].
const MAX_GOT: usize = 200;

/// Decode form parameters into the value tree of `input` (see [`super::model`]).
///
/// `params` are percent-decoded pairs, `Action` and `Version` included (they are skipped).
/// Returns `{}` when the operation has no input.
pub fn decode_form(
    model: &ServiceModel,
    input: Option<&ShapeRef>,
    params: &[(String, String)],
    flavor: FormFlavor,
) -> Result<Value, DecodeError> {
    let Some(input) = input else {
        return Ok(Value::Object(Map::new()));
    };
    let Some(shape) = model.shape(&input.shape) else {
        return Ok(Value::Object(Map::new()));
    };
    if shape.kind != ShapeType::Structure {
        return Ok(Value::Object(Map::new()));
    }
    let mut entries: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "Action" && k != "Version")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Stable: among duplicate keys the first one sent stays first.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let decoder = Decoder {
        model,
        entries,
        flavor,
    };
    Ok(decoder
        .structure(shape, "", 0)?
        .unwrap_or_else(|| Value::Object(Map::new())))
}

struct Decoder<'a> {
    model: &'a ServiceModel,
    /// Pairs sorted by key.
    entries: Vec<(&'a str, &'a str)>,
    flavor: FormFlavor,
}

impl<'a> Decoder<'a> {
    /// The first value sent for exactly `key`.
    fn get(&self, key: &str) -> Option<&'a str> {
        let at = self.entries.partition_point(|(k, _)| *k < key);
        match self.entries.get(at) {
            Some((k, v)) if *k == key => Some(*v),
            _ => None,
        }
    }

    /// All pairs whose key starts with `prefix` (a contiguous run of the sorted index).
    fn with_prefix(&self, prefix: &str) -> &[(&'a str, &'a str)] {
        let start = self.entries.partition_point(|(k, _)| *k < prefix);
        let rest = &self.entries[start..];
        let len = rest.partition_point(|(k, _)| k.starts_with(prefix));
        &rest[..len]
    }

    /// The distinct numeric segments right after `base.`, in numeric order, with the segment
    /// text as sent (so `member.01` is looked up as sent).
    fn indices(&self, base: &str) -> BTreeMap<u64, &'a str> {
        let mut prefix = String::with_capacity(base.len() + 1);
        prefix.push_str(base);
        prefix.push('.');
        let mut out = BTreeMap::new();
        for (key, _) in self.with_prefix(&prefix) {
            let rest = &key[prefix.len()..];
            let segment = rest.split('.').next().unwrap_or(rest);
            if segment.is_empty()
                || segment.len() > 19
                || !segment.bytes().all(|b| b.is_ascii_digit())
            {
                continue;
            }
            if let Ok(index) = segment.parse::<u64>() {
                out.entry(index).or_insert(segment);
            }
        }
        out
    }

    fn target(&self, r: &ShapeRef) -> Option<&'a Shape> {
        self.model.shape(&r.shape)
    }

    /// `locationName` of a reference, falling back to the target shape's (botocore merges them).
    fn location_name<'s>(&'s self, r: &'s ShapeRef) -> Option<&'s str> {
        r.location_name
            .as_deref()
            .or_else(|| self.target(r).and_then(|s| s.location_name.as_deref()))
    }

    fn flattened(&self, r: &ShapeRef, shape: &Shape) -> bool {
        r.flattened.unwrap_or(false) || shape.flattened
    }

    /// The wire name(s) of a structure member: the primary one, and for ec2 a capitalised
    /// fallback.
    fn member_names(&self, name: &str, r: &ShapeRef) -> (String, Option<String>) {
        match self.flavor {
            FormFlavor::Query => (self.location_name(r).unwrap_or(name).to_owned(), None),
            FormFlavor::Ec2 => {
                if let Some(q) = r.query_name.as_deref() {
                    (q.to_owned(), None)
                } else if let Some(l) = self.location_name(r) {
                    (capitalize(l), None)
                } else if name.starts_with(|c: char| c.is_lowercase()) {
                    (name.to_owned(), Some(capitalize(name)))
                } else {
                    (name.to_owned(), None)
                }
            }
        }
    }

    /// A query flattened list whose items botocore sends under the list member's name, so its
    /// keys need not start with the member's own name.
    fn renamed_flat_list(&self, r: &ShapeRef) -> bool {
        self.flavor == FormFlavor::Query
            && self.target(r).is_some_and(|s| {
                s.kind == ShapeType::List
                    && self.flattened(r, s)
                    && s.member
                        .as_ref()
                        .is_some_and(|m| self.location_name(m).is_some())
            })
    }

    /// The suffix naming a map key or value (`key`/`value` unless renamed).
    fn map_part_name(&self, r: &ShapeRef, default: &str) -> String {
        match (self.flavor, r.query_name.as_deref(), self.location_name(r)) {
            (FormFlavor::Ec2, Some(q), _) => q.to_owned(),
            (FormFlavor::Ec2, None, Some(l)) => capitalize(l),
            (FormFlavor::Query, _, Some(l)) => l.to_owned(),
            _ => default.to_owned(),
        }
    }

    fn member(&self, r: &ShapeRef, key: &str, depth: usize) -> Result<Option<Value>, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::Malformed(format!(
                "parameter {key} is nested too deeply"
            )));
        }
        let Some(shape) = self.target(r) else {
            return Ok(None);
        };
        match shape.kind {
            ShapeType::Structure => self.structure(shape, key, depth + 1),
            ShapeType::List => self.list(r, shape, key, depth + 1),
            ShapeType::Map => self.map(r, shape, key, depth + 1),
            _ => match self.get(key) {
                Some(text) => scalar(r, shape, key, text).map(Some),
                None => Ok(None),
            },
        }
    }

    /// A structure whose members sit under `prefix.` (or at the top level when `prefix` is
    /// empty). `None` when no member was found.
    fn structure(
        &self,
        shape: &Shape,
        prefix: &str,
        depth: usize,
    ) -> Result<Option<Value>, DecodeError> {
        if !prefix.is_empty() && self.with_prefix(&format!("{prefix}.")).is_empty() {
            return Ok(None);
        }
        let mut out = Map::new();
        for (name, r) in &shape.members {
            let (primary, fallback) = self.member_names(name, r);
            for wire in std::iter::once(primary).chain(fallback) {
                let key = if prefix.is_empty() {
                    wire
                } else {
                    format!("{prefix}.{wire}")
                };
                if !self.renamed_flat_list(r) && self.with_prefix(&key).is_empty() {
                    continue;
                }
                if let Some(value) = self.member(r, &key, depth)? {
                    out.insert(name.clone(), value);
                    break;
                }
            }
        }
        Ok(if out.is_empty() && !prefix.is_empty() {
            None
        } else {
            Some(Value::Object(out))
        })
    }

    fn list(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        key: &str,
        depth: usize,
    ) -> Result<Option<Value>, DecodeError> {
        let Some(member) = shape.member.as_ref() else {
            return Ok(None);
        };
        let bases: Vec<String> = match self.flavor {
            FormFlavor::Ec2 => vec![key.to_owned()],
            FormFlavor::Query if self.flattened(r, shape) => {
                let mut bases = vec![key.to_owned()];
                if let Some(name) = self.location_name(member) {
                    // botocore replaces the last segment with the list member's name.
                    let renamed = match key.rfind('.') {
                        Some(dot) => format!("{}.{name}", &key[..dot]),
                        None => name.to_owned(),
                    };
                    if renamed != key {
                        bases.push(renamed);
                    }
                }
                bases
            }
            FormFlavor::Query => {
                vec![format!(
                    "{key}.{}",
                    self.location_name(member).unwrap_or("member")
                )]
            }
        };
        for base in &bases {
            let indices = self.indices(base);
            if indices.is_empty() {
                continue;
            }
            let mut items = Vec::with_capacity(indices.len());
            for segment in indices.values() {
                if let Some(item) = self.member(member, &format!("{base}.{segment}"), depth)? {
                    items.push(item);
                }
            }
            if !items.is_empty() {
                return Ok(Some(Value::Array(items)));
            }
        }
        Ok(match self.get(key) {
            Some("") => Some(Value::Array(Vec::new())),
            _ => None,
        })
    }

    fn map(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        key: &str,
        depth: usize,
    ) -> Result<Option<Value>, DecodeError> {
        let (Some(key_ref), Some(value_ref)) = (shape.key.as_ref(), shape.value.as_ref()) else {
            return Ok(None);
        };
        let base = if self.flattened(r, shape) {
            key.to_owned()
        } else {
            format!("{key}.entry")
        };
        let key_name = self.map_part_name(key_ref, "key");
        let value_name = self.map_part_name(value_ref, "value");
        let mut out = Map::new();
        for segment in self.indices(&base).values() {
            let Some(entry_key) = self.get(&format!("{base}.{segment}.{key_name}")) else {
                continue;
            };
            let value_key = format!("{base}.{segment}.{value_name}");
            if let Some(value) = self.member(value_ref, &value_key, depth)? {
                out.insert(entry_key.to_owned(), value);
            }
        }
        if !out.is_empty() {
            return Ok(Some(Value::Object(out)));
        }
        Ok(match self.get(key) {
            Some("") => Some(Value::Object(Map::new())),
            _ => None,
        })
    }
}

/// Upper-case the first character (ec2 names).
fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn invalid(key: &str, expected: &'static str, got: &str) -> DecodeError {
    let mut end = got.len().min(MAX_GOT);
    while !got.is_char_boundary(end) {
        end -= 1;
    }
    DecodeError::Invalid {
        path: key.to_owned(),
        expected,
        got: got[..end].to_owned(),
    }
}

/// Standard alphabet, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One scalar from its form text.
fn scalar(r: &ShapeRef, shape: &Shape, key: &str, text: &str) -> Result<Value, DecodeError> {
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    match shape.kind {
        ShapeType::String => Ok(Value::String(text.to_owned())),
        ShapeType::Boolean => {
            if trimmed.eq_ignore_ascii_case("true") {
                Ok(Value::Bool(true))
            } else if trimmed.eq_ignore_ascii_case("false") {
                Ok(Value::Bool(false))
            } else {
                Err(invalid(key, "boolean", text))
            }
        }
        ShapeType::Byte => int_in(key, "byte", text, trimmed, i8::MIN.into(), i8::MAX.into()),
        ShapeType::Short => int_in(
            key,
            "short",
            text,
            trimmed,
            i16::MIN.into(),
            i16::MAX.into(),
        ),
        ShapeType::Integer => int_in(
            key,
            "integer",
            text,
            trimmed,
            i32::MIN.into(),
            i32::MAX.into(),
        ),
        ShapeType::Long => int_in(key, "long", text, trimmed, i64::MIN, i64::MAX),
        ShapeType::BigInteger => match trimmed.parse::<i64>() {
            Ok(v) => Ok(Value::from(v)),
            Err(_) => match trimmed.parse::<u64>() {
                Ok(v) => Ok(Value::from(v)),
                Err(_) => Err(invalid(key, "integer", text)),
            },
        },
        ShapeType::Float | ShapeType::Double | ShapeType::BigDecimal => {
            let expected = match shape.kind {
                ShapeType::Float => "float",
                _ => "double",
            };
            match trimmed.parse::<f64>() {
                Ok(v) if v.is_nan() => Ok(Value::String("NaN".to_owned())),
                Ok(v) if v == f64::INFINITY => Ok(Value::String("Infinity".to_owned())),
                Ok(v) if v == f64::NEG_INFINITY => Ok(Value::String("-Infinity".to_owned())),
                Ok(v) => serde_json::Number::from_f64(v)
                    .map(Value::Number)
                    .ok_or_else(|| invalid(key, expected, text)),
                Err(_) => Err(invalid(key, expected, text)),
            }
        }
        ShapeType::Timestamp => {
            let format = r
                .timestamp_format
                .as_deref()
                .or(shape.timestamp_format.as_deref());
            parse_timestamp(trimmed, format)
                .map(epoch_number)
                .filter(|v| !v.is_null())
                .ok_or_else(|| invalid(key, "timestamp", text))
        }
        ShapeType::Blob => {
            if BASE64.decode(trimmed).is_ok() {
                return Ok(Value::String(trimmed.to_owned()));
            }
            // A `+` sent unencoded arrives as a space; no valid base64 contains a space.
            let repaired = trimmed.replace(' ', "+");
            if repaired != trimmed && BASE64.decode(&repaired).is_ok() {
                return Ok(Value::String(repaired));
            }
            Err(invalid(key, "blob", text))
        }
        // Aggregates are handled by the caller; reaching here means a model quirk.
        ShapeType::Structure | ShapeType::List | ShapeType::Map => {
            Err(invalid(key, "structure", text))
        }
    }
}

fn int_in(
    key: &str,
    expected: &'static str,
    text: &str,
    trimmed: &str,
    min: i64,
    max: i64,
) -> Result<Value, DecodeError> {
    match trimmed.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(Value::from(v)),
        _ => Err(invalid(key, expected, text)),
    }
}

/// Epoch seconds from a form timestamp: ISO 8601 (or bare epoch seconds, which botocore sends
/// for `unixTimestamp` members), then RFC 822 for `rfc822` members.
fn parse_timestamp(text: &str, format: Option<&str>) -> Option<f64> {
    if let Some(epoch) = parse_iso8601(text) {
        return Some(epoch);
    }
    if format == Some("iso8601") && !text.contains(',') {
        return None;
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822)
        .ok()
        .map(|dt| dt.unix_timestamp() as f64 + f64::from(dt.nanosecond()) / 1e9)
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
