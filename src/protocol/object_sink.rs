//! The awsJson 1.0 and rpc-v2-cbor codecs as an [`OutputSink`]: the same bodies
//! [`super::json::encode_json`] and [`super::cbor::encode_cbor`] write from a value tree,
//! written member by member.
//!
//! Both protocols write objects of members, arrays and maps, so one walker follows the model
//! (which shape a member targets, whether a value fits it) and an [`Encoding`] writes bytes.
//! Scalars are checked and written by the tree path's own functions ([`scalar`],
//! [`json::write_scalar`], [`cbor::write_scalar`]), so the two paths cannot disagree on a
//! value; a value that does not fit its shape is left out, as there.

use std::borrow::Cow;

use minicbor::Encoder;
use serde_json::Value;

use super::cbor;
use super::json::{self, Scalar, integer_range, scalar};
use super::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use super::sink::OutputSink;
use plan::{Child, PlanId, Plans, SeqId, Source};

/// How one protocol writes the pieces the walker decides on.
pub trait Encoding {
    /// Whether member keys are `locationName`s (JSON) or member names (CBOR).
    const LOCATION_NAMES: bool;
    /// `{` or a map header; what follows are `key` + value pairs.
    fn begin_object(&mut self);
    /// Close what the last `begin_*` opened.
    fn end(&mut self);
    /// `[` or an array header; what follows are `item` + value.
    fn begin_array(&mut self);
    /// A member or entry key.
    fn key(&mut self, key: &str);
    /// The next array item follows.
    fn item(&mut self);
    /// A scalar (`format`: its `timestampFormat`).
    fn scalar(&mut self, value: &Scalar<'_>, format: Option<&str>);
    /// The body.
    fn finish(self) -> Vec<u8>;
}

/// What is open.
enum Frame {
    /// A structure; `cursor` is the model position after the member written last: the next
    /// member is looked for there first (debug builds check that members come in model order).
    Structure { plan: PlanId, cursor: usize },
    /// A list of these items (`None`: the model lacks the item shape).
    List(Option<SeqId>),
    /// A map with these values.
    Map(Option<SeqId>),
    /// Something the model does not have: everything under it is dropped.
    Skipped,
}

/// Where a value goes: the reference and shape it targets, how its key is written, and what
/// opening it gives.
struct Slot<'m> {
    r: &'m ShapeRef,
    shape: &'m Shape,
    key: Key<'m>,
    source: Source,
}

enum Key<'m> {
    /// A structure member at model position `at` (`next`: see [`Frame::Structure`]).
    Member {
        at: usize,
        next: usize,
        key: &'m str,
    },
    /// The next list item.
    Item,
    /// A map entry: the key is the member name given.
    Entry,
}

/// A JSON or CBOR response body written through [`OutputSink`].
pub struct ObjectSink<'m, E> {
    plans: Plans<'m>,
    enc: E,
    frames: Vec<Frame>,
}

/// The awsJson 1.0 sink.
pub type JsonSink<'m> = ObjectSink<'m, JsonEncoding>;
/// The rpc-v2-cbor sink.
pub type CborSink<'m> = ObjectSink<'m, CborEncoding>;

impl<'m, E: Encoding> ObjectSink<'m, E> {
    /// Start the body of `operation`'s output (`{}` when it has none).
    pub fn new(model: &'m ServiceModel, operation: &'m Operation, mut enc: E) -> Self {
        let mut plans = Plans::new(model, E::LOCATION_NAMES);
        let root = operation
            .output
            .as_ref()
            .and_then(|r| model.shape(&r.shape))
            .filter(|shape| shape.kind == ShapeType::Structure);
        enc.begin_object();
        let frame = match root {
            Some(shape) => Frame::Structure {
                plan: plans.plan(shape),
                cursor: 0,
            },
            None => Frame::Skipped,
        };
        Self {
            plans,
            enc,
            frames: vec![frame],
        }
    }

    /// Close the root and hand back the body.
    pub fn finish(mut self) -> Vec<u8> {
        self.enc.end();
        self.enc.finish()
    }

    /// Where a value for `member` goes here, without writing anything yet.
    fn peek(&self, member: &str) -> Option<Slot<'m>> {
        match *self.frames.last()? {
            Frame::Structure { plan, cursor } => {
                let members = self.plans.members(plan);
                // Handlers write in model order: the member is nearly always the next one.
                let at = if members.get(cursor).is_some_and(|m| m.name == member) {
                    cursor
                } else {
                    (cursor..members.len())
                        .chain(0..cursor)
                        .find(|&at| members[at].name == member)?
                };
                let m = &members[at];
                Some(Slot {
                    r: m.r,
                    shape: m.shape?,
                    key: Key::Member {
                        at,
                        next: cursor,
                        key: m.key,
                    },
                    source: Source::Member(plan, at),
                })
            }
            Frame::List(Some(seq)) => {
                let items = self.plans.seq(seq);
                Some(Slot {
                    r: items.r,
                    shape: items.shape,
                    key: Key::Item,
                    source: Source::Seq(seq),
                })
            }
            Frame::Map(Some(seq)) => {
                let values = self.plans.seq(seq);
                Some(Slot {
                    r: values.r,
                    shape: values.shape,
                    key: Key::Entry,
                    source: Source::Seq(seq),
                })
            }
            _ => None,
        }
    }

    /// Write the key of a value [`Self::peek`] placed (`member` is a map entry's key).
    fn commit(&mut self, slot: &Slot<'m>, member: &str) {
        match slot.key {
            Key::Member { at, next, key } => {
                debug_assert!(
                    at >= next,
                    "output member {member} comes before the one written last in the model: write members in model order"
                );
                if let Some(Frame::Structure { cursor, .. }) = self.frames.last_mut() {
                    *cursor = at + 1;
                }
                self.enc.key(key);
            }
            Key::Item => self.enc.item(),
            Key::Entry => self.enc.key(member),
        }
    }

    /// A scalar: `fast` where the value already fits its shape's kind, else the tree's
    /// reading of `tree()`. A value that does not fit is left out, key and all.
    fn scalar<'v>(
        &mut self,
        member: &str,
        fast: impl FnOnce(&Shape) -> Option<Scalar<'v>>,
        tree: impl FnOnce() -> Value,
    ) {
        let Some(slot) = self.peek(member) else {
            return;
        };
        let tree_value;
        let value = match fast(slot.shape) {
            Some(value) => value,
            None => {
                tree_value = tree();
                match scalar(slot.shape, &tree_value) {
                    Some(value) => value,
                    None => return,
                }
            }
        };
        self.commit(&slot, member);
        self.enc
            .scalar(&value, json::timestamp_format(Some(slot.r), slot.shape));
    }

    /// Open the structure or map `member` (or the next item): whichever its shape is.
    fn open_object(&mut self, member: &str) {
        let frame = match self.peek(member) {
            Some(slot) if matches!(slot.shape.kind, ShapeType::Structure | ShapeType::Map) => {
                self.commit(&slot, member);
                self.enc.begin_object();
                self.child_frame(slot.source)
            }
            _ => Frame::Skipped,
        };
        self.frames.push(frame);
    }

    fn child_frame(&mut self, source: Source) -> Frame {
        match self.plans.child(source) {
            Child::Structure(plan) => Frame::Structure { plan, cursor: 0 },
            Child::Map(values) => Frame::Map(values),
            Child::List(items) => Frame::List(items),
            Child::Other => Frame::Skipped,
        }
    }
}

impl<E: Encoding> OutputSink for ObjectSink<'_, E> {
    fn open_structure(&mut self, member: &str) {
        self.open_object(member);
    }

    fn open_map(&mut self, member: &str) {
        self.open_object(member);
    }

    fn open_list(&mut self, member: &str) {
        let frame = match self.peek(member) {
            Some(slot) if slot.shape.kind == ShapeType::List => {
                self.commit(&slot, member);
                self.enc.begin_array();
                self.child_frame(slot.source)
            }
            _ => Frame::Skipped,
        };
        self.frames.push(frame);
    }

    fn open_item(&mut self) {
        if matches!(self.frames.last(), Some(Frame::List(_))) {
            self.open_object("");
        } else {
            self.frames.push(Frame::Skipped);
        }
    }

    fn close(&mut self) {
        // The root frame stays: `finish` closes it.
        if self.frames.len() < 2 {
            return;
        }
        if !matches!(self.frames.pop(), Some(Frame::Skipped) | None) {
            self.enc.end();
        }
    }

    fn string(&mut self, member: &str, value: &str) {
        self.scalar(
            member,
            |shape| (shape.kind == ShapeType::String).then_some(Scalar::Str(Cow::Borrowed(value))),
            || Value::String(value.to_owned()),
        );
    }

    fn integer(&mut self, member: &str, value: i64) {
        let fast = |shape: &Shape| {
            let (min, max) = integer_range(shape.kind);
            (shape.kind.is_integer() && (min..=max).contains(&i128::from(value)))
                .then_some(Scalar::Int(value))
        };
        self.scalar(member, fast, || Value::from(value));
    }

    fn float(&mut self, member: &str, value: f64) {
        let fast = |shape: &Shape| shape.kind.is_float().then_some(Scalar::Float(value));
        self.scalar(member, fast, || Value::from(value));
    }

    fn boolean(&mut self, member: &str, value: bool) {
        let fast =
            |shape: &Shape| (shape.kind == ShapeType::Boolean).then_some(Scalar::Bool(value));
        self.scalar(member, fast, || Value::Bool(value));
    }

    fn timestamp(&mut self, member: &str, epoch: f64) {
        let fast = |shape: &Shape| {
            (shape.kind == ShapeType::Timestamp).then_some(Scalar::Timestamp(epoch))
        };
        self.scalar(member, fast, || Value::from(epoch));
    }
}

/// awsJson 1.0 bytes.
#[derive(Default)]
pub struct JsonEncoding {
    out: Vec<u8>,
    /// Per open object or array: its closing byte, and whether something was written in it
    /// (then a comma goes before the next).
    open: Vec<(u8, bool)>,
}

impl JsonEncoding {
    fn separate(&mut self) {
        if let Some((_, nonempty)) = self.open.last_mut() {
            if *nonempty {
                self.out.push(b',');
            }
            *nonempty = true;
        }
    }
}

impl Encoding for JsonEncoding {
    const LOCATION_NAMES: bool = true;

    fn begin_object(&mut self) {
        self.out.push(b'{');
        self.open.push((b'}', false));
    }
    fn begin_array(&mut self) {
        self.out.push(b'[');
        self.open.push((b']', false));
    }
    fn end(&mut self) {
        if let Some((close, _)) = self.open.pop() {
            self.out.push(close);
        }
    }
    fn key(&mut self, key: &str) {
        self.separate();
        json::write_str(key, &mut self.out);
        self.out.push(b':');
    }
    fn item(&mut self) {
        self.separate();
    }
    fn scalar(&mut self, value: &Scalar<'_>, format: Option<&str>) {
        json::write_scalar(value, format, &mut self.out);
    }
    fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// rpc-v2-cbor bytes: definite lengths, as the tree path writes them. A container's header
/// is written as one byte and widened when it closes with 24 entries or more.
#[derive(Default)]
pub struct CborEncoding {
    out: Vec<u8>,
    /// Per open container: where its header is, its major type's first byte, its count.
    open: Vec<(usize, u8, u64)>,
}

impl CborEncoding {
    fn count(&mut self) {
        if let Some((_, _, count)) = self.open.last_mut() {
            *count += 1;
        }
    }
}

impl Encoding for CborEncoding {
    const LOCATION_NAMES: bool = false;

    fn begin_object(&mut self) {
        self.open.push((self.out.len(), 0xa0, 0));
        self.out.push(0xa0);
    }
    fn begin_array(&mut self) {
        self.open.push((self.out.len(), 0x80, 0));
        self.out.push(0x80);
    }
    fn end(&mut self) {
        let Some((at, major, count)) = self.open.pop() else {
            return;
        };
        if count < 24 {
            self.out[at] = major | count as u8;
            return;
        }
        let mut header = Vec::with_capacity(9);
        let mut e = Encoder::new(&mut header);
        // Writing into a Vec cannot fail.
        let _ = if major == 0xa0 {
            e.map(count)
        } else {
            e.array(count)
        };
        self.out.splice(at..=at, header);
    }
    fn key(&mut self, key: &str) {
        self.count();
        let _ = Encoder::new(&mut self.out).str(key);
    }
    fn item(&mut self) {
        self.count();
    }
    fn scalar(&mut self, value: &Scalar<'_>, _: Option<&str>) {
        cbor::write_scalar(&mut Encoder::new(&mut self.out), value);
    }
    fn finish(self) -> Vec<u8> {
        self.out
    }
}

#[path = "object_plan.rs"]
mod plan;
