//! botocore's own protocol vectors for `query` and `ec2`, run in the server's direction, plus
//! property tests over the real models.
//!
//! * Input vectors: the serialized form body goes through [`decode_form`] and must give the
//!   case's `params` (as far as the wire can carry them: empty maps, and for ec2 empty lists,
//!   are never sent).
//! * Output vectors: the case's `result` goes through our XML writer, and a small reader that
//!   follows botocore's `QueryParser` / `EC2QueryParser` must read back `result`. The same reader
//!   must also read the vector's own response body to `result`, which keeps the reader honest.
//! * Error vectors: an [`ApiError`] with the case's code and message is written and read back.
//!
//! The vectors are fetched by `protocol/fetch_vectors.sh`; without them these tests fail.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use quick_xml::events::Event;
use serde_json::{Map, Value, json};
use updraft::error::ApiError;
use updraft::protocol::model::{Metadata, Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use updraft::protocol::query::{FormFlavor, decode_form};
use updraft::protocol::timestamp::{epoch_number, parse_iso8601};
use updraft::protocol::xml::{
    encode_ec2_error, encode_ec2_output, encode_query_error, encode_query_output,
};

// ---------------------------------------------------------------------------------------------
// Loading

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("protocol/vectors/protocols")
}

struct Suite {
    description: String,
    model: ServiceModel,
    cases: Vec<Value>,
}

fn load(rel: &str) -> Vec<Suite> {
    let dir = vectors_dir();
    assert!(
        dir.is_dir(),
        "protocol vectors are missing at {}: run `protocol/fetch_vectors.sh` first",
        dir.display()
    );
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run `protocol/fetch_vectors.sh`",
            path.display()
        )
    });
    let suites: Vec<Value> = serde_json::from_str(&text).expect("vector file is JSON");
    suites
        .into_iter()
        .map(|mut suite| {
            let description = suite["description"].as_str().unwrap_or_default().to_owned();
            let metadata: Metadata =
                serde_json::from_value(suite["metadata"].take()).expect("suite metadata");
            let mut shapes = suite["shapes"].take();
            if let Some(map) = shapes.as_object_mut() {
                for shape in map.values_mut() {
                    // botocore's `character` is a one-letter string; our model has no such type.
                    if shape["type"] == "character" {
                        shape["type"] = json!("string");
                    }
                }
            }
            let shapes: HashMap<String, Shape> =
                serde_json::from_value(shapes).expect("suite shapes");
            let cases = match suite["cases"].take() {
                Value::Array(cases) => cases,
                _ => Vec::new(),
            };
            Suite {
                description,
                model: ServiceModel::from_parts(metadata, shapes),
                cases,
            }
        })
        .collect()
}

/// The case id; legacy cases have none, so they are named `{suite description} #{index}`.
fn case_id(suite: &Suite, index: usize, case: &Value) -> String {
    match case["id"].as_str() {
        Some(id) => id.to_owned(),
        None => format!("{} #{index}", suite.description),
    }
}

// ---------------------------------------------------------------------------------------------
// Skip list: every case we do not run, with the reason.

const IDEMPOTENCY: &str = "the client auto-fills the idempotency token; the server just receives \
                           it as a value, while `params` (the client's input) lacks it";
const COMPRESSION: &str =
    "request compression is the client's job; the vector has no body for a server to decode";
const FLATTENED_ITEM_NAME: &str = "Smithy names the elements of a flattened list after the \
    structure member, botocore after the list member's locationName when it has one; we write \
    what botocore reads (as the legacy vector `Flattened list with location name` expects), and \
    botocore skips this case itself (protocol-tests-ignore-list.json)";

const SKIPS: &[(&str, &str, &str)] = &[
    (
        "input/query.json",
        "SDKAppliedContentEncoding_awsQuery",
        COMPRESSION,
    ),
    (
        "input/query.json",
        "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsQuery",
        COMPRESSION,
    ),
    (
        "input/query.json",
        "QueryProtocolIdempotencyTokenAutoFill",
        IDEMPOTENCY,
    ),
    (
        "legacy/input/query.json",
        "Idempotency token auto fill #1",
        IDEMPOTENCY,
    ),
    (
        "input/ec2.json",
        "SDKAppliedContentEncoding_ec2Query",
        COMPRESSION,
    ),
    (
        "input/ec2.json",
        "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_ec2Query",
        COMPRESSION,
    ),
    (
        "input/ec2.json",
        "Ec2ProtocolIdempotencyTokenAutoFill",
        IDEMPOTENCY,
    ),
    (
        "legacy/input/ec2.json",
        "Idempotency token auto fill #1",
        IDEMPOTENCY,
    ),
    ("output/query.json", "QueryXmlLists", FLATTENED_ITEM_NAME),
    ("output/ec2.json", "Ec2XmlLists", FLATTENED_ITEM_NAME),
];

fn skip_reason(file: &str, id: &str) -> Option<&'static str> {
    SKIPS
        .iter()
        .find(|(f, i, _)| *f == file && *i == id)
        .map(|(_, _, r)| *r)
}

#[derive(Default)]
struct Tally {
    passed: usize,
    skipped: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, file: &str, id: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.passed += 1,
            Err(why) => self.failures.push(format!("[{file}] {id}: {why}")),
        }
    }

    fn finish(self, label: &str) -> Vec<String> {
        println!(
            "{label}: {} passed, {} skipped (listed)",
            self.passed, self.skipped
        );
        assert!(self.passed > 0, "{label}: no case ran");
        self.failures
    }
}

fn assert_no_failures(failures: Vec<String>) {
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAIL {f}");
        }
        panic!("{} vector case(s) failed (listed above)", failures.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Value comparison and shape-driven conversions

/// Structural equality with loose numbers (`1 == 1.0`, tiny float differences tolerated).
fn same(a: &Value, b: &Value) -> bool {
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
fn to_tree(model: &ServiceModel, r: &ShapeRef, value: &Value) -> Value {
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
fn wire_visible(
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

// ---------------------------------------------------------------------------------------------
// A reader that follows botocore's QueryParser / EC2QueryParser

#[derive(Debug, Default)]
struct Node {
    tag: String,
    /// Text before the first child (ElementTree's `.text`), `None` when there is none.
    text: Option<String>,
    children: Vec<Node>,
}

fn parse_xml(xml: &[u8]) -> Result<Node, String> {
    let text = std::str::from_utf8(xml).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let name = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    loop {
        let event = reader.read_event().map_err(|e| format!("bad XML: {e}"))?;
        match event {
            Event::Start(e) => stack.push(Node {
                tag: name(e.local_name().as_ref()),
                ..Node::default()
            }),
            Event::Empty(e) => {
                let node = Node {
                    tag: name(e.local_name().as_ref()),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(top) => top.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err("two root elements".into()),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(top) => top.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err("two root elements".into()),
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| format!("bad text: {e}"))?;
                push_text(&mut stack, &s);
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| format!("bad CDATA: {e}"))?;
                push_text(&mut stack, &s);
            }
            Event::GeneralRef(r) => {
                let s = match r
                    .resolve_char_ref()
                    .map_err(|e| format!("bad char ref: {e}"))?
                {
                    Some(c) => c.to_string(),
                    None => {
                        let entity = r.decode().map_err(|e| format!("bad ref: {e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&entity)
                            .ok_or_else(|| format!("unknown entity &{entity};"))?
                            .to_owned()
                    }
                };
                push_text(&mut stack, &s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

/// Text goes to the innermost open element, and only before its first child.
fn push_text(stack: &mut [Node], s: &str) {
    if let Some(top) = stack.last_mut()
        && top.children.is_empty()
    {
        top.text.get_or_insert_with(String::new).push_str(s);
    }
}

/// A node, or the several nodes a repeated tag aggregates into.
#[derive(Clone)]
enum Item<'a> {
    One(&'a Node),
    Many(Vec<&'a Node>),
}

impl<'a> Item<'a> {
    fn first(&self) -> &'a Node {
        match self {
            Item::One(n) => n,
            Item::Many(v) => v[0],
        }
    }
}

/// `_build_name_to_xml_node`: children by tag, repeated tags aggregated.
fn by_tag(node: &Node) -> HashMap<&str, Item<'_>> {
    let mut out: HashMap<&str, Item<'_>> = HashMap::new();
    for child in &node.children {
        match out.remove(child.tag.as_str()) {
            None => {
                out.insert(&child.tag, Item::One(child));
            }
            Some(Item::One(prev)) => {
                out.insert(&child.tag, Item::Many(vec![prev, child]));
            }
            Some(Item::Many(mut v)) => {
                v.push(child);
                out.insert(&child.tag, Item::Many(v));
            }
        }
    }
    out
}

struct XmlReader<'m> {
    model: &'m ServiceModel,
}

impl XmlReader<'_> {
    fn location_name<'s>(&'s self, r: &'s ShapeRef) -> Option<&'s str> {
        r.location_name.as_deref().or_else(|| {
            self.model
                .shape(&r.shape)
                .and_then(|s| s.location_name.as_deref())
        })
    }

    /// `_member_key_name`.
    fn member_key<'s>(&'s self, r: &'s ShapeRef, name: &'s str) -> &'s str {
        if let Some(shape) = self.model.shape(&r.shape)
            && shape.kind == ShapeType::List
            && (r.flattened.unwrap_or(false) || shape.flattened)
            && let Some(item) = shape.member.as_ref().and_then(|m| self.location_name(m))
        {
            return item;
        }
        self.location_name(r).unwrap_or(name)
    }

    fn parse(&self, r: &ShapeRef, item: Item<'_>) -> Result<Value, String> {
        let shape = self.model.shape(&r.shape).ok_or("unknown shape")?;
        let flattened = r.flattened.unwrap_or(false) || shape.flattened;
        match shape.kind {
            ShapeType::Structure => {
                let mapping = by_tag(item.first());
                let mut out = Map::new();
                for (name, m) in &shape.members {
                    if m.location.is_some() {
                        continue;
                    }
                    if let Some(child) = mapping.get(self.member_key(m, name)) {
                        out.insert(name.clone(), self.parse(m, child.clone())?);
                    }
                }
                Ok(Value::Object(out))
            }
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let nodes: Vec<&Node> = match item {
                    Item::One(n) if flattened => vec![n],
                    Item::One(n) => n.children.iter().collect(),
                    Item::Many(v) => v,
                };
                nodes
                    .into_iter()
                    .map(|n| self.parse(member, Item::One(n)))
                    .collect::<Result<_, _>>()
                    .map(Value::Array)
            }
            ShapeType::Map => {
                let (key_ref, value_ref) = (
                    shape.key.as_ref().ok_or("no key")?,
                    shape.value.as_ref().ok_or("no value")?,
                );
                let key_name = self.location_name(key_ref).unwrap_or("key");
                let value_name = self.location_name(value_ref).unwrap_or("value");
                let entries: Vec<&Node> = match item {
                    Item::One(n) if flattened => vec![n],
                    Item::One(n) => n.children.iter().collect(),
                    Item::Many(v) => v,
                };
                let mut out = Map::new();
                for entry in entries {
                    let (mut key, mut value) = (None, None);
                    for pair in &entry.children {
                        if pair.tag == key_name {
                            key = Some(pair.text.clone().unwrap_or_default());
                        } else if pair.tag == value_name {
                            value = Some(self.parse(value_ref, Item::One(pair))?);
                        } else {
                            return Err(format!("Unknown tag: {}", pair.tag));
                        }
                    }
                    match (key, value) {
                        (Some(k), Some(v)) => {
                            out.insert(k, v);
                        }
                        _ => return Err("map entry without key or value".into()),
                    }
                }
                Ok(Value::Object(out))
            }
            kind => {
                let Item::One(node) = item else {
                    return Err(format!("repeated element for a {kind:?}"));
                };
                let text = node.text.clone().unwrap_or_default();
                read_scalar(kind, &text)
            }
        }
    }
}

/// Python's `float()` text, special values in the tree's string convention.
fn read_float(text: &str) -> Result<Value, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("float({text:?})"))?;
    Ok(if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(v)
    })
}

/// botocore's scalar handlers (timestamps as epoch seconds, blobs re-encoded as base64).
fn read_scalar(kind: ShapeType, text: &str) -> Result<Value, String> {
    match kind {
        ShapeType::Boolean => Ok(Value::Bool(text == "true")),
        k if k.is_integer() => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("int({text:?})")),
        k if k.is_float() => read_float(text),
        ShapeType::Timestamp => {
            let t = text.trim();
            let epoch = t
                .parse::<f64>()
                .ok()
                .or_else(|| parse_iso8601(t))
                .or_else(|| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc2822)
                        .ok()
                        .map(|d| d.unix_timestamp() as f64)
                })
                .ok_or_else(|| format!("timestamp {text:?}"))?;
            Ok(json!(epoch))
        }
        ShapeType::Blob => B64
            .decode(text)
            .map(|b| json!(B64.encode(b)))
            .map_err(|e| format!("base64: {e}")),
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// What botocore returns for a success response (without `ResponseMetadata`), and the request
/// id it found.
fn read_output(
    model: &ServiceModel,
    op: &Operation,
    xml: &[u8],
    ec2: bool,
) -> Result<(Value, Option<String>), String> {
    let root = parse_xml(xml)?;
    let reader = XmlReader { model };
    let parsed = match &op.output {
        None => json!({}),
        Some(out) => {
            let start = match out.result_wrapper.as_deref() {
                Some(wrapper) if !ec2 => by_tag(&root)
                    .get(wrapper)
                    .cloned()
                    .ok_or_else(|| format!("KeyError: {wrapper}"))?,
                _ => Item::One(&root),
            };
            reader.parse(out, start)?
        }
    };
    let mapping = by_tag(&root);
    let request_id = if ec2 {
        mapping
            .get("requestId")
            .and_then(|n| n.first().text.clone())
    } else {
        mapping.get("ResponseMetadata").and_then(|m| {
            by_tag(m.first())
                .get("RequestId")
                .and_then(|n| n.first().text.clone())
        })
    };
    Ok((parsed, request_id))
}

/// `_replace_nodes`: an element tree as nested objects, leaves as text (`null` when empty).
fn replace_nodes(node: &Node) -> Value {
    if node.children.is_empty() {
        return node.text.clone().map_or(Value::Null, Value::String);
    }
    Value::Object(
        by_tag(node)
            .into_iter()
            .map(|(k, item)| (k.to_owned(), replace_nodes(item.first())))
            .collect(),
    )
}

/// What botocore's `_do_error_parse` returns.
fn read_error(xml: &[u8], ec2: bool) -> Result<Value, String> {
    let root = parse_xml(xml)?;
    let Value::Object(mut parsed) = replace_nodes(&root) else {
        return Err("empty error document".into());
    };
    if let Some(Value::Object(errors)) = parsed.remove("Errors") {
        parsed.extend(errors);
    }
    let id_key = if ec2 { "RequestID" } else { "RequestId" };
    if let Some(id) = parsed.remove(id_key) {
        parsed.insert("ResponseMetadata".into(), json!({ "RequestId": id }));
    }
    Ok(Value::Object(parsed))
}

// ---------------------------------------------------------------------------------------------
// Vector runners

fn flavor_of(model: &ServiceModel) -> FormFlavor {
    if model.metadata.protocol == "ec2" {
        FormFlavor::Ec2
    } else {
        FormFlavor::Query
    }
}

fn run_input_case(suite: &Suite, case: &Value) -> Result<(), String> {
    let model = &suite.model;
    let flavor = flavor_of(model);
    let input: Option<ShapeRef> = match &case["given"]["input"] {
        Value::Null => None,
        v => Some(serde_json::from_value(v.clone()).map_err(|e| format!("input ref: {e}"))?),
    };
    let body = case["serialized"]["body"]
        .as_str()
        .ok_or("no serialized body")?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let decoded =
        decode_form(model, input.as_ref(), &pairs, flavor).map_err(|e| format!("decode: {e}"))?;
    let params = &case["params"];
    let expected = match &input {
        Some(r) => {
            wire_visible(model, r, &to_tree(model, r, params), flavor).unwrap_or_else(|| json!({}))
        }
        None => params.clone(),
    };
    if same(&decoded, &expected) {
        Ok(())
    } else {
        Err(format!(
            "body {body}\n    decoded  {decoded}\n    expected {expected}"
        ))
    }
}

fn run_output_case(suite: &Suite, case: &Value) -> Result<(), String> {
    let model = &suite.model;
    let ec2 = model.metadata.protocol == "ec2";
    let given = &case["given"];
    let name = given["name"].as_str().unwrap_or("OperationName").to_owned();
    let mut output: Option<ShapeRef> = match &given["output"] {
        Value::Null => None,
        v => Some(serde_json::from_value(v.clone()).map_err(|e| format!("output ref: {e}"))?),
    };
    let rid = "vector-request-id";
    if case.get("error").is_some() {
        let code = case["errorCode"].as_str().ok_or("no errorCode")?.to_owned();
        let message = case["errorMessage"]
            .as_str()
            .or_else(|| case["error"]["Message"].as_str())
            .unwrap_or_default()
            .to_owned();
        let err = ApiError::client(code.clone(), message.clone());
        let xml = if ec2 {
            encode_ec2_error(&err, rid)
        } else {
            encode_query_error(model.metadata.xml_namespace.as_deref(), &err, rid)
        };
        let parsed = read_error(&xml, ec2)?;
        let error = &parsed["Error"];
        let got_message = error["Message"].as_str().unwrap_or_default();
        let ok = error["Code"] == json!(code)
            && got_message == message
            && parsed["ResponseMetadata"]["RequestId"] == json!(rid)
            && (ec2 || error["Type"] == json!("Sender"));
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "error read back as {parsed} from {}",
                String::from_utf8_lossy(&xml)
            ))
        };
    }
    // Like botocore's runner: a query output shape with members is wrapped in `{Op}Result`.
    if !ec2
        && let Some(out) = output.as_mut()
        && out.result_wrapper.is_none()
        && model
            .shape(&out.shape)
            .is_some_and(|s| !s.members.is_empty())
    {
        out.result_wrapper = Some(format!("{name}Result"));
    }
    let op = Operation {
        name,
        input: None,
        output,
        errors: Vec::new(),
        authtype: None,
    };
    let result = &case["result"];
    let expected = match &op.output {
        Some(r) => to_tree(model, r, result),
        None => result.clone(),
    };
    // 1. The reader agrees with botocore on the vector's own body.
    if let Some(body) = case["response"]["body"]
        .as_str()
        .filter(|b| !b.trim().is_empty())
    {
        let (theirs, _) = read_output(model, &op, body.as_bytes(), ec2)
            .map_err(|e| format!("reader failed on the vector body: {e}"))?;
        if !same(&theirs, &expected) {
            return Err(format!(
                "reader self-check: read {theirs}, expected {expected}"
            ));
        }
    }
    // 2. Our XML reads back as the result.
    let xml = if ec2 {
        encode_ec2_output(model, &op, &expected, rid)
    } else {
        encode_query_output(model, &op, &expected, rid)
    };
    let shown = || String::from_utf8_lossy(&xml).into_owned();
    let (ours, request_id) =
        read_output(model, &op, &xml, ec2).map_err(|e| format!("{e} in {}", shown()))?;
    if request_id.as_deref() != Some(rid) {
        return Err(format!("request id not found in {}", shown()));
    }
    if same(&ours, &expected) {
        Ok(())
    } else {
        Err(format!(
            "read back {ours}\n    expected {expected}\n    from {}",
            shown()
        ))
    }
}

fn run_files(
    label: &str,
    files: &[&str],
    run: fn(&Suite, &Value) -> Result<(), String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for file in files {
        let mut tally = Tally::default();
        for suite in load(file) {
            for (index, case) in suite.cases.iter().enumerate() {
                let id = case_id(&suite, index, case);
                if skip_reason(file, &id).is_some() {
                    tally.skipped += 1;
                    continue;
                }
                tally.record(file, &id, run(&suite, case));
            }
        }
        let legacy = if file.starts_with("legacy/") {
            "legacy "
        } else {
            ""
        };
        failures.extend(tally.finish(&format!("{legacy}{label}")));
    }
    failures
}

#[test]
fn skip_list_names_real_cases() {
    for (file, id, reason) in SKIPS {
        assert!(!reason.is_empty());
        let found = load(file).iter().any(|suite| {
            suite
                .cases
                .iter()
                .enumerate()
                .any(|(i, c)| case_id(suite, i, c) == *id)
        });
        assert!(found, "skip list names {id} which is not in {file}");
    }
}

#[test]
fn query_input_vectors() {
    assert_no_failures(run_files(
        "query input",
        &["input/query.json", "legacy/input/query.json"],
        run_input_case,
    ));
}

#[test]
fn ec2_input_vectors() {
    assert_no_failures(run_files(
        "ec2 input",
        &["input/ec2.json", "legacy/input/ec2.json"],
        run_input_case,
    ));
}

#[test]
fn query_output_vectors() {
    assert_no_failures(run_files(
        "query output",
        &["output/query.json", "legacy/output/query.json"],
        run_output_case,
    ));
}

#[test]
fn ec2_output_vectors() {
    assert_no_failures(run_files(
        "ec2 output",
        &["output/ec2.json", "legacy/output/ec2.json"],
        run_output_case,
    ));
}

// ---------------------------------------------------------------------------------------------
// Property tests over the real models

fn real_model(name: &str) -> &'static ServiceModel {
    static MODELS: OnceLock<Vec<(&'static str, ServiceModel)>> = OnceLock::new();
    let all = MODELS.get_or_init(|| {
        [
            (
                "autoscaling",
                include_str!("../../protocol/models/autoscaling.json"),
            ),
            ("ec2", include_str!("../../protocol/models/ec2.json")),
            (
                "cloudwatch",
                include_str!("../../protocol/models/cloudwatch.json"),
            ),
            ("elbv2", include_str!("../../protocol/models/elbv2.json")),
            ("sns", include_str!("../../protocol/models/sns.json")),
        ]
        .into_iter()
        .map(|(n, j)| (n, ServiceModel::from_json(j).expect("model parses")))
        .collect()
    });
    &all.iter().find(|(n, _)| *n == name).expect("known model").1
}

/// Where a generated value goes, which decides what "canonical" means.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    /// A form body: no empty structures or maps (never sent); no empty lists in ec2.
    Form(FormFlavor),
    /// An XML response: anything goes.
    Xml,
}

const MAX_GEN_DEPTH: usize = 6;

/// A strategy for canonical values of `r`'s shape; `Null` means "absent".
fn gen_value(
    model: &'static ServiceModel,
    r: &ShapeRef,
    depth: usize,
    target: Target,
) -> BoxedStrategy<Value> {
    let Some(shape) = model.shape(&r.shape) else {
        return Just(Value::Null).boxed();
    };
    match shape.kind {
        ShapeType::Structure => {
            if depth >= MAX_GEN_DEPTH {
                return Just(Value::Null).boxed();
            }
            let names: Vec<String> = shape.members.keys().cloned().collect();
            let members: Vec<BoxedStrategy<Value>> = shape
                .members
                .values()
                .map(|m| {
                    prop_oneof![2 => Just(Value::Null), 1 => gen_value(model, m, depth + 1, target)]
                        .boxed()
                })
                .collect();
            members
                .prop_map(move |values| {
                    let object: Map<String, Value> = names
                        .iter()
                        .zip(values)
                        .filter(|(_, v)| !v.is_null())
                        .map(|(n, v)| (n.clone(), v))
                        .collect();
                    if object.is_empty() && target != Target::Xml {
                        Value::Null
                    } else {
                        Value::Object(object)
                    }
                })
                .boxed()
        }
        ShapeType::List => {
            let Some(member) = shape.member.as_ref() else { return Just(Value::Null).boxed() };
            if depth >= MAX_GEN_DEPTH {
                return Just(Value::Null).boxed();
            }
            prop::collection::vec(gen_value(model, member, depth + 1, target), 0..4)
                .prop_map(move |items| {
                    let items: Vec<Value> = items.into_iter().filter(|v| !v.is_null()).collect();
                    if items.is_empty() && target == Target::Form(FormFlavor::Ec2) {
                        Value::Null
                    } else {
                        Value::Array(items)
                    }
                })
                .boxed()
        }
        ShapeType::Map => {
            let Some(value) = shape.value.as_ref() else { return Just(Value::Null).boxed() };
            if depth >= MAX_GEN_DEPTH {
                return Just(Value::Null).boxed();
            }
            prop::collection::btree_map(text(), gen_value(model, value, depth + 1, target), 0..3)
                .prop_map(move |entries: BTreeMap<String, Value>| {
                    let object: Map<String, Value> =
                        entries.into_iter().filter(|(_, v)| !v.is_null()).collect();
                    if object.is_empty() && target != Target::Xml {
                        Value::Null
                    } else {
                        Value::Object(object)
                    }
                })
                .boxed()
        }
        ShapeType::String => match &shape.enum_values {
            Some(values) if !values.is_empty() => {
                prop::sample::select(values.clone()).prop_map(Value::String).boxed()
            }
            _ => text().prop_map(Value::String).boxed(),
        },
        ShapeType::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        ShapeType::Byte => any::<i8>().prop_map(Value::from).boxed(),
        ShapeType::Short => any::<i16>().prop_map(Value::from).boxed(),
        ShapeType::Integer => any::<i32>().prop_map(Value::from).boxed(),
        ShapeType::Long | ShapeType::BigInteger => any::<i64>().prop_map(Value::from).boxed(),
        ShapeType::Float => prop_oneof![
            8 => (any::<i32>(), 0u32..4).prop_map(|(n, k)| json!(f64::from(n) / 10f64.powi(k as i32))),
            1 => prop::sample::select(vec!["NaN", "Infinity", "-Infinity"]).prop_map(|s| json!(s)),
        ]
        .boxed(),
        ShapeType::Double | ShapeType::BigDecimal => prop_oneof![
            8 => any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| json!(v)),
            1 => prop::sample::select(vec!["NaN", "Infinity", "-Infinity"]).prop_map(|s| json!(s)),
        ]
        .boxed(),
        ShapeType::Timestamp => (0i64..4_102_444_800_000)
            .prop_map(|ms| epoch_number(ms as f64 / 1000.0))
            .boxed(),
        ShapeType::Blob => prop::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| Value::String(B64.encode(b)))
            .boxed(),
    }
}

/// Strings with the characters that need care: XML specials, CR/LF/tab, `+`, `%`, `&`, `=`,
/// non-ASCII, surrounding spaces.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>\"'\r\n\t+%=/.é€😀-]{0,10}"
}

// --- a botocore-style form serializer (test-only) ---

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

struct FormWriter {
    model: &'static ServiceModel,
    flavor: FormFlavor,
    pairs: Vec<(String, String)>,
}

impl FormWriter {
    fn loc(&self, r: &ShapeRef) -> Option<String> {
        r.location_name.clone().or_else(|| {
            self.model
                .shape(&r.shape)
                .and_then(|s| s.location_name.clone())
        })
    }

    /// `_get_serialized_name`.
    fn name(&self, r: &ShapeRef, default: &str) -> String {
        match self.flavor {
            FormFlavor::Query => self.loc(r).unwrap_or_else(|| default.to_owned()),
            FormFlavor::Ec2 => match (&r.query_name, self.loc(r)) {
                (Some(q), _) => q.clone(),
                (None, Some(l)) => capitalize(&l),
                (None, None) => default.to_owned(),
            },
        }
    }

    fn structure(&mut self, shape: &Shape, value: &Map<String, Value>, prefix: &str) {
        for (name, member) in &shape.members {
            if let Some(v) = value.get(name) {
                let key = self.name(member, name);
                let key = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                self.value(member, v, &key);
            }
        }
    }

    fn value(&mut self, r: &ShapeRef, value: &Value, key: &str) {
        let Some(shape) = self.model.shape(&r.shape) else {
            return;
        };
        match (shape.kind, value) {
            (ShapeType::Structure, Value::Object(o)) => self.structure(shape, o, key),
            (ShapeType::List, Value::Array(items)) => {
                let Some(member) = shape.member.as_ref() else {
                    return;
                };
                let list_prefix = match self.flavor {
                    FormFlavor::Ec2 => key.to_owned(),
                    FormFlavor::Query => {
                        if items.is_empty() {
                            self.pairs.push((key.to_owned(), String::new()));
                            return;
                        }
                        if r.flattened.unwrap_or(false) || shape.flattened {
                            match self.loc(member) {
                                Some(name) => match key.rsplit_once('.') {
                                    Some((head, _)) => format!("{head}.{name}"),
                                    None => name,
                                },
                                None => key.to_owned(),
                            }
                        } else {
                            format!(
                                "{key}.{}",
                                self.loc(member).unwrap_or_else(|| "member".into())
                            )
                        }
                    }
                };
                for (i, item) in items.iter().enumerate() {
                    self.value(member, item, &format!("{list_prefix}.{}", i + 1));
                }
            }
            (ShapeType::Map, Value::Object(entries)) => {
                let (Some(k), Some(v)) = (shape.key.as_ref(), shape.value.as_ref()) else {
                    return;
                };
                let prefix = if r.flattened.unwrap_or(false) || shape.flattened {
                    key.to_owned()
                } else {
                    format!("{key}.entry")
                };
                let (ks, vs) = (self.name(k, "key"), self.name(v, "value"));
                for (i, (entry_key, entry_value)) in entries.iter().enumerate() {
                    self.pairs
                        .push((format!("{prefix}.{}.{ks}", i + 1), entry_key.clone()));
                    self.value(v, entry_value, &format!("{prefix}.{}.{vs}", i + 1));
                }
            }
            (kind, v) => {
                let text = match (kind, v) {
                    (ShapeType::Boolean, Value::Bool(b)) => b.to_string(),
                    (ShapeType::Timestamp, Value::Number(n)) => {
                        iso_micros(n.as_f64().unwrap_or(0.0))
                    }
                    (k, Value::Number(n)) if k.is_float() => py_float(n.as_f64().unwrap_or(0.0)),
                    (_, Value::String(s)) => s.clone(),
                    (_, other) => other.to_string(),
                };
                self.pairs.push((key.to_owned(), text));
            }
        }
    }
}

/// Python's `repr(float)`: `12.5`, `1.0`, `1e-07`, `1.5e+16`.
fn py_float(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..16).contains(&exp) {
        format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let plain = format!("{v}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    }
}

/// botocore's query timestamp: `%Y-%m-%dT%H:%M:%SZ`, or `.%fZ` (microseconds) when fractional.
fn iso_micros(epoch: f64) -> String {
    let ms = (epoch * 1000.0).round() as i64;
    let dt = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).expect("in range");
    let frac = ms.rem_euclid(1000);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if frac == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{:06}Z", frac * 1000)
    }
}

fn form_round_trip(model_name: &str, op_name: &str, flavor: FormFlavor) -> u32 {
    let model = real_model(model_name);
    let op = &model.operations[op_name];
    let input = op.input.clone().expect("operation has input");
    let strategy = gen_value(model, &input, 0, Target::Form(flavor))
        .prop_map(|v| if v.is_null() { json!({}) } else { v });
    let config = PropConfig {
        cases: 256,
        failure_persistence: None,
        ..PropConfig::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let pairs_seen = std::cell::Cell::new(0usize);
    runner
        .run(&strategy, |value| {
            let shape = model.shape(&input.shape).expect("input shape");
            let mut writer = FormWriter {
                model,
                flavor,
                pairs: Vec::new(),
            };
            writer.pairs.push(("Action".into(), op_name.into()));
            writer
                .pairs
                .push(("Version".into(), model.metadata.api_version.clone()));
            if let Value::Object(o) = &value {
                writer.structure(shape, o, "");
            }
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(writer.pairs.iter())
                .finish();
            let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
            pairs_seen.set(pairs_seen.get() + pairs.len() - 2);
            let decoded = decode_form(model, Some(&input), &pairs, flavor)
                .map_err(|e| TestCaseError::fail(format!("decode failed: {e}\nbody: {body}")))?;
            prop_assert!(
                same(&decoded, &value),
                "decoded {decoded}\nexpected {value}\nbody {body}"
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{model_name} {op_name}: {e}"));
    let average = pairs_seen.get() as f64 / f64::from(config.cases);
    println!(
        "  {model_name} {op_name}: {} cases, {average:.1} parameters per body",
        config.cases
    );
    // A guard against a generator that only makes empty inputs. SNS Publish averages 3.1-3.4
    // parameters, so the bar sits well below that to stay deterministic across random runs.
    assert!(
        average >= 2.0,
        "{model_name} {op_name}: generated bodies are too small to mean much"
    );
    config.cases
}

fn xml_round_trip(model_name: &str, op_name: &str) -> u32 {
    let model = real_model(model_name);
    let op = &model.operations[op_name];
    let output = op.output.clone().expect("operation has output");
    let ec2 = model.metadata.protocol == "ec2";
    let strategy = gen_value(model, &output, 0, Target::Xml);
    let config = PropConfig {
        cases: 256,
        failure_persistence: None,
        ..PropConfig::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let bytes_seen = std::cell::Cell::new(0usize);
    runner
        .run(&strategy, |value| {
            let xml = if ec2 {
                encode_ec2_output(model, op, &value, "rid")
            } else {
                encode_query_output(model, op, &value, "rid")
            };
            bytes_seen.set(bytes_seen.get() + xml.len());
            let shown = String::from_utf8_lossy(&xml).into_owned();
            let (read, rid) = read_output(model, op, &xml, ec2)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{shown}")))?;
            prop_assert_eq!(rid.as_deref(), Some("rid"));
            prop_assert!(
                same(&read, &value),
                "read {read}\nexpected {value}\nxml {shown}"
            );
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{model_name} {op_name}: {e}"));
    let average = bytes_seen.get() as f64 / f64::from(config.cases);
    println!(
        "  {model_name} {op_name}: {} cases, {average:.0} bytes of XML per response",
        config.cases
    );
    config.cases
}

#[test]
fn form_round_trips_through_a_botocore_style_serializer() {
    let targets = [
        ("autoscaling", "CreateAutoScalingGroup", FormFlavor::Query),
        ("autoscaling", "PutScalingPolicy", FormFlavor::Query),
        ("ec2", "RunInstances", FormFlavor::Ec2),
        ("ec2", "CreateLaunchTemplate", FormFlavor::Ec2),
        ("ec2", "AuthorizeSecurityGroupIngress", FormFlavor::Ec2),
        ("cloudwatch", "PutMetricData", FormFlavor::Query),
        ("cloudwatch", "PutMetricAlarm", FormFlavor::Query),
        ("elbv2", "CreateListener", FormFlavor::Query),
        ("sns", "Publish", FormFlavor::Query),
    ];
    let mut total = 0;
    for (model, op, flavor) in targets {
        total += form_round_trip(model, op, flavor);
    }
    println!(
        "form round trip: {total} proptest cases over {} operations",
        targets.len()
    );
}

#[test]
fn xml_round_trips_through_a_botocore_style_reader() {
    let targets = [
        ("autoscaling", "DescribeAutoScalingGroups"),
        ("autoscaling", "DescribePolicies"),
        ("ec2", "DescribeInstances"),
        ("ec2", "RunInstances"),
        ("ec2", "DescribeSecurityGroups"),
        ("cloudwatch", "DescribeAlarms"),
        ("cloudwatch", "GetMetricStatistics"),
        ("elbv2", "DescribeListeners"),
        ("sns", "GetTopicAttributes"),
    ];
    let mut total = 0;
    for (model, op) in targets {
        total += xml_round_trip(model, op);
    }
    println!(
        "xml round trip: {total} proptest cases over {} operations",
        targets.len()
    );
}
