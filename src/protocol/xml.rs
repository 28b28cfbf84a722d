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

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;

use super::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use super::timestamp::{epoch_number, format_iso8601};
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
        let writer = ValueWriter { model };
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
        ValueWriter { model }.members(&mut out, output_ref, output, 0);
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

/// The quick-xml writer over a growing buffer. Writing to a `Vec` cannot fail, so the
/// `io::Result`s are dropped here once.
struct Out {
    w: Writer<Vec<u8>>,
}

impl Out {
    fn new() -> Self {
        Self {
            w: Writer::new(Vec::with_capacity(512)),
        }
    }

    fn emit(&mut self, event: Event<'_>) {
        // Infallible for Vec<u8>.
        let _ = self.w.write_event(event);
    }

    fn decl(&mut self) {
        self.emit(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    }

    fn start(&mut self, name: &str, xmlns: Option<&str>) {
        let mut start = BytesStart::new(name);
        if let Some(ns) = xmlns {
            start.push_attribute(("xmlns", ns));
        }
        self.emit(Event::Start(start));
    }

    fn end(&mut self, name: &str) {
        self.emit(Event::End(BytesEnd::new(name)));
    }

    fn empty(&mut self, name: &str) {
        self.emit(Event::Empty(BytesStart::new(name)));
    }

    fn text_element(&mut self, name: &str, text: &str) {
        if text.is_empty() {
            self.empty(name);
            return;
        }
        self.start(name, None);
        self.emit(Event::Text(BytesText::from_escaped(escape_text(text))));
        self.end(name);
    }

    fn finish(self) -> Vec<u8> {
        self.w.into_inner()
    }
}

/// Escape character data (see the module docs).
fn escape_text(text: &str) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>' | '\r') || !is_xml_char(c);
    if !text.contains(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// XML 1.0 `Char`: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

struct ValueWriter<'a> {
    model: &'a ServiceModel,
}

impl ValueWriter<'_> {
    fn location_name<'s>(&'s self, r: &'s ShapeRef) -> Option<&'s str> {
        r.location_name.as_deref().or_else(|| {
            self.model
                .shape(&r.shape)
                .and_then(|s| s.location_name.as_deref())
        })
    }

    /// The members of the structure `r` points at, without an enclosing element.
    fn members(&self, out: &mut Out, r: &ShapeRef, value: &Value, depth: usize) {
        let (Some(shape), Value::Object(object)) = (self.model.shape(&r.shape), value) else {
            return;
        };
        if depth > MAX_DEPTH || shape.kind != ShapeType::Structure {
            return;
        }
        for (name, member) in &shape.members {
            if member.location.is_some() {
                continue;
            }
            match object.get(name) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let element = self.location_name(member).unwrap_or(name);
                    self.value(out, element, member, v, depth + 1);
                }
            }
        }
    }

    /// One member as `<element>…</element>` (or several, when flattened).
    fn value(&self, out: &mut Out, element: &str, r: &ShapeRef, value: &Value, depth: usize) {
        let Some(shape) = self.model.shape(&r.shape) else {
            return;
        };
        if depth > MAX_DEPTH {
            return;
        }
        match shape.kind {
            ShapeType::Structure => {
                if value.is_object() {
                    out.start(element, None);
                    self.members(out, r, value, depth);
                    out.end(element);
                }
            }
            ShapeType::List => self.list(out, element, r, shape, value, depth),
            ShapeType::Map => self.map(out, element, r, shape, value, depth),
            _ => {
                if let Some(text) = scalar_text(r, shape, value) {
                    out.text_element(element, &text);
                }
            }
        }
    }

    fn list(
        &self,
        out: &mut Out,
        element: &str,
        r: &ShapeRef,
        shape: &Shape,
        value: &Value,
        depth: usize,
    ) {
        let (Some(member), Value::Array(items)) = (shape.member.as_ref(), value) else {
            return;
        };
        let items = items.iter().filter(|v| !v.is_null());
        if r.flattened.unwrap_or(false) || shape.flattened {
            // botocore reads a flattened list's elements under the list member's name when it
            // has one (Smithy would use the structure member's; no model of ours is flattened).
            let element = self.location_name(member).unwrap_or(element);
            for item in items {
                self.value(out, element, member, item, depth + 1);
            }
            return;
        }
        if items.clone().next().is_none() {
            out.empty(element);
            return;
        }
        let item_element = self.location_name(member).unwrap_or("member");
        out.start(element, None);
        for item in items {
            self.value(out, item_element, member, item, depth + 1);
        }
        out.end(element);
    }

    fn map(
        &self,
        out: &mut Out,
        element: &str,
        r: &ShapeRef,
        shape: &Shape,
        value: &Value,
        depth: usize,
    ) {
        let (Some(key_ref), Some(value_ref), Value::Object(entries)) =
            (shape.key.as_ref(), shape.value.as_ref(), value)
        else {
            return;
        };
        let key_element = self.location_name(key_ref).unwrap_or("key");
        let value_element = self.location_name(value_ref).unwrap_or("value");
        let entries = entries.iter().filter(|(_, v)| !v.is_null());
        let entry = |out: &mut Out, wrapper: &str, key: &str, v: &Value| {
            out.start(wrapper, None);
            out.text_element(key_element, key);
            self.value(out, value_element, value_ref, v, depth + 1);
            out.end(wrapper);
        };
        if r.flattened.unwrap_or(false) || shape.flattened {
            for (k, v) in entries {
                entry(out, element, k, v);
            }
            return;
        }
        if entries.clone().next().is_none() {
            out.empty(element);
            return;
        }
        out.start(element, None);
        for (k, v) in entries {
            entry(out, "entry", k, v);
        }
        out.end(element);
    }
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

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
