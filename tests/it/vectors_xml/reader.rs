//! A reader that follows botocore's `QueryParser` / `EC2QueryParser`: what botocore returns
//! for a success or an error response.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use quick_xml::events::Event;
use serde_json::{Map, Value, json};
use updraft::protocol::model::{Operation, ServiceModel, ShapeRef, ShapeType};
use updraft::protocol::timestamp::parse_iso8601;

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
pub(super) fn read_output(
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
pub(super) fn read_error(xml: &[u8], ec2: bool) -> Result<Value, String> {
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
