//! XML responses of the awsQuery and ec2Query protocols, and their error documents.
//!
//! The output value tree (see [`super::model`]) is walked along the output shape:
//! members in model order, element name = `locationName` or member name; lists
//! `<Name><member>…</member></Name>` (item element = the list member's `locationName`, default
//! `member`), flattened lists repeat `<Name>` (or the list member's `locationName`, as botocore
//! reads them); maps `<entry><key/><value/></entry>` (renamed by
//! the key/value `locationName`s), flattened maps repeat `<Name>`. Absent and `null` members are
//! omitted; a value of the wrong JSON type for its shape is written as text when it is a scalar
//! and skipped otherwise, so no value tree can make the writer panic.
//!
//! Text escaping: `&`, `<`, `>` as entities, carriage return as `&#xD;` (so XML end-of-line
//! normalisation cannot eat it), and characters XML 1.0 forbids are replaced by U+FFFD.

use std::borrow::Cow;
use std::io::Write as _;

use serde_json::Value;

use super::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use super::timestamp::{epoch_number, format_iso8601, write_iso8601};
use crate::error::ApiError;

/// `<{Op}Response xmlns=…><{Op}Result>…</{Op}Result><ResponseMetadata>…</…></{Op}Response>`.
///
/// Without an output shape only the root and `ResponseMetadata` are written. With an output
/// shape but no `resultWrapper`, the members go directly under the root (where botocore's
/// `QueryParser` then looks for them).
pub fn encode_query_output(
    model: &ServiceModel,
    operation: &Operation,
    output: &Value,
    request_id: &str,
) -> Vec<u8> {
    let mut out = Out::new();
    let root = format!("{}Response", operation.name);
    out.start(&root, model.metadata.xml_namespace.as_deref());
    if let Some(output_ref) = &operation.output {
        let mut writer = ValueWriter::new(model);
        match output_ref.result_wrapper.as_deref() {
            Some(wrapper) => {
                out.start(wrapper, None);
                writer.members(&mut out, output_ref, output, 0);
                out.end(wrapper);
            }
            None => writer.members(&mut out, output_ref, output, 0),
        }
    }
    out.start("ResponseMetadata", None);
    out.text_element("RequestId", request_id);
    out.end("ResponseMetadata");
    out.end(&root);
    out.finish()
}

/// `<?xml …?><{Op}Response xmlns="http://ec2.amazonaws.com/doc/{apiVersion}/"><requestId>…`
/// followed by the output members (no result wrapper).
pub fn encode_ec2_output(
    model: &ServiceModel,
    operation: &Operation,
    output: &Value,
    request_id: &str,
) -> Vec<u8> {
    let mut out = Out::new();
    out.decl();
    let root = format!("{}Response", operation.name);
    let namespace = ec2_namespace(model);
    out.start(&root, Some(&namespace));
    out.text_element("requestId", request_id);
    if let Some(output_ref) = &operation.output {
        ValueWriter::new(model).members(&mut out, output_ref, output, 0);
    }
    out.end(&root);
    out.finish()
}

/// AWS answers with a trailing slash although the model's namespace lacks it.
fn ec2_namespace(model: &ServiceModel) -> String {
    match model.metadata.xml_namespace.as_deref() {
        Some(ns) if ns.ends_with('/') => ns.to_owned(),
        Some(ns) if !ns.is_empty() => format!("{ns}/"),
        _ => format!(
            "http://ec2.amazonaws.com/doc/{}/",
            model.metadata.api_version
        ),
    }
}

/// `<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code/><Message/></Error>
/// <RequestId/></ErrorResponse>`.
pub fn encode_query_error(
    xml_namespace: Option<&str>,
    err: &ApiError,
    request_id: &str,
) -> Vec<u8> {
    let mut out = Out::new();
    out.start("ErrorResponse", xml_namespace);
    out.start("Error", None);
    out.text_element(
        "Type",
        if err.sender_fault {
            "Sender"
        } else {
            "Receiver"
        },
    );
    out.text_element("Code", &err.code);
    out.text_element("Message", &err.message);
    out.end("Error");
    out.text_element("RequestId", request_id);
    out.end("ErrorResponse");
    out.finish()
}

/// `<?xml …?><Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`
/// (note `RequestID`).
pub fn encode_ec2_error(err: &ApiError, request_id: &str) -> Vec<u8> {
    let mut out = Out::new();
    out.decl();
    out.start("Response", None);
    out.start("Errors", None);
    out.start("Error", None);
    out.text_element("Code", &err.code);
    out.text_element("Message", &err.message);
    out.end("Error");
    out.end("Errors");
    out.text_element("RequestID", request_id);
    out.end("Response");
    out.finish()
}

/// Deepest nesting written; only a recursive shape with a cyclic-looking value gets there.
const MAX_DEPTH: usize = 64;

/// The document under construction. Bytes are appended directly (no event layer): a
/// DescribeInstances answer for 10,000 instances is about a million elements.
struct Out {
    buf: Vec<u8>,
}

impl Out {
    fn new() -> Self {
        Self {
            buf: Vec::with_capacity(512),
        }
    }

    fn decl(&mut self) {
        self.buf
            .extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?>"#);
    }

    fn start(&mut self, name: &str, xmlns: Option<&str>) {
        self.buf.push(b'<');
        self.buf.extend_from_slice(name.as_bytes());
        if let Some(ns) = xmlns {
            self.buf.extend_from_slice(b" xmlns=\"");
            escape_attribute_into(&mut self.buf, ns);
            self.buf.push(b'"');
        }
        self.buf.push(b'>');
    }

    fn end(&mut self, name: &str) {
        self.buf.extend_from_slice(b"</");
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'>');
    }

    fn empty(&mut self, name: &str) {
        self.buf.push(b'<');
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b"/>");
    }

    fn text_element(&mut self, name: &str, text: &str) {
        if text.is_empty() {
            self.empty(name);
            return;
        }
        self.start(name, None);
        escape_into(&mut self.buf, text);
        self.end(name);
    }

    /// `<name>` + whatever `body` appends + `</name>` (numbers and timestamps are written
    /// straight into the buffer).
    fn raw_element(&mut self, name: &str, body: impl FnOnce(&mut Vec<u8>)) {
        self.start(name, None);
        body(&mut self.buf);
        self.end(name);
    }

    /// `<name>value</name>` for an integer, without going through `fmt`.
    fn integer_element(&mut self, name: &str, value: i64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = value.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.start(name, None);
        if value < 0 {
            self.buf.push(b'-');
        }
        self.buf.extend_from_slice(&digits[at..]);
        self.end(name);
    }

    fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Walks a value tree along the model, resolving each structure shape once per document
/// (shape lookups by name are otherwise the bulk of the work on large lists).
struct ValueWriter<'m, 'v> {
    model: &'m ServiceModel,
    plans: Plans<'m>,
    /// Per-structure scratch: the value of each member, by model position (a stack shared
    /// by the nested structures being written).
    slots: Vec<Option<&'v Value>>,
}

impl<'m, 'v> ValueWriter<'m, 'v> {
    fn new(model: &'m ServiceModel) -> Self {
        Self {
            model,
            plans: Plans::new(model),
            slots: Vec::new(),
        }
    }

    fn location_name(&self, r: &'m ShapeRef) -> Option<&'m str> {
        self.plans.location_name(r)
    }

    /// The members of the structure `r` points at, without an enclosing element.
    fn members(&mut self, out: &mut Out, r: &'m ShapeRef, value: &'v Value, depth: usize) {
        let (Some(shape), Value::Object(_)) = (self.model.shape(&r.shape), value) else {
            return;
        };
        self.struct_members(out, shape, value, depth);
    }

    fn struct_members(&mut self, out: &mut Out, shape: &'m Shape, value: &'v Value, depth: usize) {
        let Value::Object(object) = value else {
            return;
        };
        if depth > MAX_DEPTH || shape.kind != ShapeType::Structure {
            return;
        }
        let id = self.plans.plan(shape);
        let plan = self.plans.get(id);
        let base = self.slots.len();
        let count = plan.ordered.len();
        self.slots.resize(base + count, None);
        // Merge the object's sorted keys with the sorted member names; should the object
        // not iterate in key order, look each member up instead.
        let mut names = plan.by_name.iter().peekable();
        let mut previous: Option<&str> = None;
        let mut sorted = true;
        for (key, v) in object {
            if previous.is_some_and(|p| p > key.as_str()) {
                sorted = false;
                break;
            }
            previous = Some(key);
            while names.next_if(|(name, _)| *name < key.as_str()).is_some() {}
            if let Some((_, at)) = names.next_if(|(name, _)| *name == key.as_str()) {
                self.slots[base + at] = Some(v);
            }
        }
        if !sorted {
            for (name, at) in &plan.by_name {
                self.slots[base + at] = object.get(*name);
            }
        }
        for at in 0..count {
            match self.slots[base + at] {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let member = &self.plans.get(id).ordered[at];
                    let (element, r, shape) = (member.element, member.r, member.shape);
                    self.value(out, element, r, shape, v, depth + 1);
                }
            }
        }
        self.slots.truncate(base);
    }

    /// One member as `<element>…</element>` (or several, when flattened).
    fn value(
        &mut self,
        out: &mut Out,
        element: &'m str,
        r: &'m ShapeRef,
        shape: &'m Shape,
        value: &'v Value,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        match shape.kind {
            ShapeType::Structure => {
                if value.is_object() {
                    out.start(element, None);
                    self.struct_members(out, shape, value, depth);
                    out.end(element);
                }
            }
            ShapeType::List => self.list(out, element, r, shape, value, depth),
            ShapeType::Map => self.map(out, element, r, shape, value, depth),
            _ => scalar(out, element, r, shape, value),
        }
    }

    fn list(
        &mut self,
        out: &mut Out,
        element: &'m str,
        r: &'m ShapeRef,
        shape: &'m Shape,
        value: &'v Value,
        depth: usize,
    ) {
        let Value::Array(items) = value else {
            return;
        };
        let Some(list) = self.plans.list_plan(element, r, shape) else {
            return;
        };
        let (item_element, member, item_shape) =
            (list.item_element, list.item_ref, list.item_shape);
        let items = items.iter().filter(|v| !v.is_null());
        if list.flattened {
            for item in items {
                self.value(out, item_element, member, item_shape, item, depth + 1);
            }
            return;
        }
        if items.clone().next().is_none() {
            out.empty(element);
            return;
        }
        out.start(element, None);
        for item in items {
            self.value(out, item_element, member, item_shape, item, depth + 1);
        }
        out.end(element);
    }

    fn map(
        &mut self,
        out: &mut Out,
        element: &str,
        r: &'m ShapeRef,
        shape: &'m Shape,
        value: &'v Value,
        depth: usize,
    ) {
        let (Some(key_ref), Some(value_ref), Value::Object(entries)) =
            (shape.key.as_ref(), shape.value.as_ref(), value)
        else {
            return;
        };
        let Some(value_shape) = self.model.shape(&value_ref.shape) else {
            return;
        };
        let key_element = self.location_name(key_ref).unwrap_or("key");
        let value_element = self.location_name(value_ref).unwrap_or("value");
        let entries = entries.iter().filter(|(_, v)| !v.is_null());
        let flattened = r.flattened.unwrap_or(false) || shape.flattened;
        if !flattened && entries.clone().next().is_none() {
            out.empty(element);
            return;
        }
        let wrapper = if flattened {
            element
        } else {
            out.start(element, None);
            "entry"
        };
        for (k, v) in entries {
            out.start(wrapper, None);
            out.text_element(key_element, k);
            self.value(out, value_element, value_ref, value_shape, v, depth + 1);
            out.end(wrapper);
        }
        if !flattened {
            out.end(element);
        }
    }
}

/// A scalar member: integers and ISO 8601 timestamps straight into the buffer, the rest
/// through [`scalar_text`].
fn scalar(out: &mut Out, element: &str, r: &ShapeRef, shape: &Shape, value: &Value) {
    match (shape.kind, value) {
        (_, Value::String(s)) => out.text_element(element, s),
        (ShapeType::Timestamp, Value::Number(n))
            if n.as_f64()
                .is_some_and(|epoch| iso_timestamp(r, shape, epoch)) =>
        {
            let epoch = n.as_f64().unwrap_or_default();
            out.raw_element(element, |buf| write_iso8601(buf, epoch));
        }
        (kind, Value::Number(n)) if kind.is_integer() && (n.is_i64() || n.is_u64()) => {
            out.raw_element(element, |buf| {
                // Writing to a Vec cannot fail.
                let _ = write!(buf, "{n}");
            });
        }
        _ => {
            if let Some(text) = scalar_text(r, shape, value) {
                out.text_element(element, &text);
            }
        }
    }
}

/// Whether a timestamp member is written as ISO 8601 text (no explicit format, and a year
/// the format can spell); other timestamps go through [`scalar_text`].
fn iso_timestamp(r: &ShapeRef, shape: &Shape, epoch: f64) -> bool {
    shape.kind == ShapeType::Timestamp
        && r.timestamp_format.is_none()
        && shape.timestamp_format.is_none()
        && (MIN_EPOCH..=MAX_EPOCH).contains(&epoch)
}

/// The text of a scalar, or `None` to skip a value that cannot be one.
fn scalar_text<'v>(r: &ShapeRef, shape: &Shape, value: &'v Value) -> Option<Cow<'v, str>> {
    match (shape.kind, value) {
        (_, Value::Null | Value::Array(_) | Value::Object(_)) => None,
        (ShapeType::Boolean, Value::Bool(b)) => {
            Some(Cow::Borrowed(if *b { "true" } else { "false" }))
        }
        (ShapeType::Timestamp, Value::Number(n)) => {
            let epoch = n.as_f64()?;
            let format = r
                .timestamp_format
                .as_deref()
                .or(shape.timestamp_format.as_deref());
            Some(Cow::Owned(match format {
                _ if !(MIN_EPOCH..=MAX_EPOCH).contains(&epoch) => format_float(epoch, false),
                Some("unixTimestamp") => epoch_number(epoch).to_string(),
                Some("rfc822") => format_rfc822(epoch),
                _ => format_iso8601(epoch),
            }))
        }
        (kind, Value::Number(n)) if kind.is_float() => Some(Cow::Owned(match n.as_f64() {
            Some(v) => format_float(v, kind == ShapeType::Float),
            None => n.to_string(),
        })),
        (kind, Value::Number(n)) if kind.is_integer() => {
            if n.is_i64() || n.is_u64() {
                Some(Cow::Owned(n.to_string()))
            } else {
                let v = n.as_f64()?;
                // A whole float for an integer shape: write it as an integer.
                Some(Cow::Owned(if v.fract() == 0.0 && v.abs() < 9.0e18 {
                    (v as i64).to_string()
                } else {
                    format_float(v, false)
                }))
            }
        }
        (_, Value::String(s)) => Some(Cow::Borrowed(s.as_str())),
        (_, Value::Bool(b)) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        (_, Value::Number(n)) => Some(Cow::Owned(n.to_string())),
    }
}

/// Years 1–9999: the range ISO 8601 text can carry. Beyond it a timestamp is written as epoch
/// seconds, which clients also read.
const MIN_EPOCH: f64 = -62_135_596_800.0;
const MAX_EPOCH: f64 = 253_402_300_799.999;

/// Shortest text that reads back to the same number (`12.5`, `1.0`, `1e-7`, `1e300`);
/// `float` shapes holding an exact `f32` use the `f32` shortest form (`0.1`, not
/// `0.10000000149011612`).
fn format_float(v: f64, single: bool) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if single && f64::from(v as f32) == v {
        format!("{:?}", v as f32)
    } else {
        format!("{v:?}")
    }
}

/// `Tue, 29 Apr 2014 18:30:38 GMT`.
fn format_rfc822(epoch: f64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(epoch.floor() as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    dt.format(&fmt).unwrap_or_default()
}

#[path = "xml_escape.rs"]
mod escape;
use escape::{escape_attribute_into, escape_into};
#[cfg(test)]
use escape::{escape_text, may_need_escaping};

#[path = "xml_plan.rs"]
mod plan;
use plan::Plans;

#[path = "xml_stream.rs"]
mod stream;
pub use stream::{Ec2XmlSink, XmlSink};

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
