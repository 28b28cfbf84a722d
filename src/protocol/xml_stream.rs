//! The ec2Query and awsQuery codecs as an [`OutputSink`]: the same documents
//! [`super::encode_ec2_output`] and [`super::encode_query_output`] write from a value tree,
//! written while the handler walks its state (or [`crate::protocol::output`] walks a typed
//! output).
//!
//! Element names, list wrappers, escaping and scalar text all come from the tree path's own
//! pieces ([`Plans`], [`Out`], [`scalar`]), so the two paths cannot drift apart in how a
//! member is spelled; only the order of members is the handler's duty.
//!
//! A large listing writes the same members for each of thousands of items, so each member
//! is resolved once per document: the plan caches what opening it needs, and the member is
//! found by name from where the last one was found.

use serde_json::Value;

use super::plan::{Child, ListPlan, MapPlan, PlanId, Plans};
use super::{Out, ec2_namespace, iso_timestamp, scalar};
use crate::protocol::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use crate::protocol::sink::OutputSink;
use crate::protocol::timestamp::iso8601_bytes;

/// What is open.
enum Frame<'m> {
    /// A structure (the root has no element of its own). `cursor` is where the next member is
    /// looked for first: handlers write in model order, so the search is nearly always one step.
    /// `entry` is the map entry element to close after it, when it is a map's value.
    Structure {
        plan: PlanId,
        cursor: usize,
        element: Option<&'m str>,
        entry: Option<&'m str>,
    },
    /// A list; its wrapper is written with the first item (an empty list is `<Name/>`).
    List {
        element: &'m str,
        list: ListPlan<'m>,
        started: bool,
    },
    /// A map; its wrapper is written with the first entry (an empty map is `<Name/>`).
    Map {
        element: &'m str,
        map: MapPlan<'m>,
        started: bool,
    },
    /// Something the model does not have: everything under it is dropped.
    Skipped,
}

/// Where a scalar goes: its element, reference and shape, and the map entry element to close
/// after it.
type Target<'m> = (&'m str, &'m ShapeRef, &'m Shape, Option<&'m str>);

/// What closes the document.
enum Tail<'m> {
    /// ec2Query: the root only.
    Ec2,
    /// awsQuery: the result wrapper (if any), then `ResponseMetadata`.
    Query {
        wrapper: Option<&'m str>,
        request_id: String,
    },
}

/// Streams an ec2Query or awsQuery response body.
pub struct XmlSink<'m> {
    plans: Plans<'m>,
    out: Out,
    root: String,
    tail: Tail<'m>,
    frames: Vec<Frame<'m>>,
    /// The last timestamp written (its bits) and its text: the instances of one launch
    /// share their launch time, and each is written twice (launch, interface attachment).
    last_timestamp: Option<(u64, [u8; 24])>,
}

/// The ec2Query sink's historical name.
pub type Ec2XmlSink<'m> = XmlSink<'m>;

impl<'m> XmlSink<'m> {
    /// Start `<?xml …?><{Op}Response xmlns=…><requestId>…</requestId>` (ec2Query).
    pub fn new(model: &'m ServiceModel, operation: &'m Operation, request_id: &str) -> Self {
        let mut out = Out::new();
        out.decl();
        let root = format!("{}Response", operation.name);
        out.start(&root, Some(&ec2_namespace(model)));
        out.text_element("requestId", request_id);
        Self::with_root(model, operation, out, root, Tail::Ec2)
    }

    /// Start `<{Op}Response xmlns=…><{Op}Result>` (awsQuery; no result element when the
    /// output has no `resultWrapper`, no members when the operation has no output).
    pub fn query(model: &'m ServiceModel, operation: &'m Operation, request_id: &str) -> Self {
        let mut out = Out::new();
        let root = format!("{}Response", operation.name);
        out.start(&root, model.metadata.xml_namespace.as_deref());
        let wrapper = operation
            .output
            .as_ref()
            .and_then(|r| r.result_wrapper.as_deref());
        if let Some(wrapper) = wrapper {
            out.start(wrapper, None);
        }
        let tail = Tail::Query {
            wrapper,
            request_id: request_id.to_owned(),
        };
        Self::with_root(model, operation, out, root, tail)
    }

    fn with_root(
        model: &'m ServiceModel,
        operation: &'m Operation,
        out: Out,
        root: String,
        tail: Tail<'m>,
    ) -> Self {
        let mut plans = Plans::new(model);
        let frame = match operation
            .output
            .as_ref()
            .and_then(|r| model.shape(&r.shape))
        {
            Some(shape) if shape.kind == ShapeType::Structure => Frame::Structure {
                plan: plans.plan(shape),
                cursor: 0,
                element: None,
                entry: None,
            },
            _ => Frame::Skipped,
        };
        Self {
            plans,
            out,
            root,
            tail,
            frames: vec![frame],
            last_timestamp: None,
        }
    }

    /// Close the root and hand back the body.
    pub fn finish(mut self) -> Vec<u8> {
        if let Tail::Query {
            wrapper,
            request_id,
        } = &self.tail
        {
            if let Some(wrapper) = wrapper {
                self.out.end(wrapper);
            }
            self.out.start("ResponseMetadata", None);
            self.out.text_element("RequestId", request_id);
            self.out.end("ResponseMetadata");
        }
        self.out.end(&self.root);
        self.out.finish()
    }

    /// The member of the current structure named `member`: its plan and position. `None`
    /// inside a list or a skipped part, or when the model lacks the member.
    fn member(&mut self, member: &str) -> Option<(PlanId, usize)> {
        let Some(Frame::Structure { plan, cursor, .. }) = self.frames.last_mut() else {
            return None;
        };
        let ordered = &self.plans.get(*plan).ordered;
        let found = if ordered.get(*cursor).is_some_and(|m| same(m.name, member)) {
            *cursor
        } else {
            (*cursor..ordered.len())
                .chain(0..*cursor)
                .find(|&at| same(ordered[at].name, member))?
        };
        debug_assert!(
            found >= *cursor,
            "output member {member} comes before the one written last in the model: write members in model order"
        );
        *cursor = found + 1;
        Some((*plan, found))
    }

    /// Start the next entry of the current map (its wrapper, its key) when the value's shape
    /// is `wanted`; the value's element, reference and shape, and the entry element.
    fn map_entry(&mut self, key: &str, wanted: impl Fn(&Shape) -> bool) -> Option<Target<'m>> {
        let Some(Frame::Map {
            element,
            map,
            started,
        }) = self.frames.last_mut()
        else {
            return None;
        };
        if !wanted(map.value_shape) {
            return None;
        }
        if !*started && !map.flattened {
            self.out.start(element, None);
        }
        *started = true;
        let entry = if map.flattened { *element } else { "entry" };
        self.out.start(entry, None);
        self.out.text_element(map.key_element, key);
        Some((
            map.value_element,
            map.value_ref,
            map.value_shape,
            Some(entry),
        ))
    }

    /// Where a scalar goes: a structure member, the next item of a list or a map's entry.
    fn scalar_target(&mut self, member: &str) -> Option<Target<'m>> {
        match self.frames.last_mut() {
            Some(Frame::List {
                element,
                list,
                started,
            }) => {
                if !*started && !list.flattened {
                    self.out.start(element, None);
                }
                *started = true;
                Some((list.item_element, list.item_ref, list.item_shape, None))
            }
            Some(Frame::Map { .. }) => self.map_entry(member, |shape| {
                !matches!(
                    shape.kind,
                    ShapeType::Structure | ShapeType::List | ShapeType::Map
                )
            }),
            _ => {
                let (plan, at) = self.member(member)?;
                let m = &self.plans.get(plan).ordered[at];
                Some((m.element, m.r, m.shape, None))
            }
        }
    }

    /// After a scalar: close its map entry, if it is a map's value.
    fn end_entry(&mut self, entry: Option<&str>) {
        if let Some(entry) = entry {
            self.out.end(entry);
        }
    }

    /// Open a structure as `element`, or skip what is under it when there is no plan.
    fn open_structure_frame(
        &mut self,
        element: &'m str,
        plan: Option<PlanId>,
        entry: Option<&'m str>,
    ) {
        let frame = match plan {
            Some(plan) => {
                self.out.start(element, None);
                Frame::Structure {
                    plan,
                    cursor: 0,
                    element: Some(element),
                    entry,
                }
            }
            None => {
                self.end_entry(entry);
                Frame::Skipped
            }
        };
        self.frames.push(frame);
    }

    /// Open the structure or map member `member`, whichever its shape is.
    fn open_member(&mut self, member: &str) {
        if matches!(self.frames.last(), Some(Frame::Map { .. })) {
            let value_plan = match self.frames.last() {
                Some(Frame::Map { map, .. }) => map.value_plan,
                _ => None,
            };
            match self.map_entry(member, |shape| shape.kind == ShapeType::Structure) {
                Some((element, _, _, entry)) => {
                    self.open_structure_frame(element, value_plan, entry);
                }
                None => self.frames.push(Frame::Skipped),
            }
            return;
        }
        let Some((plan, at)) = self.member(member) else {
            self.frames.push(Frame::Skipped);
            return;
        };
        let element = self.plans.get(plan).ordered[at].element;
        match self.plans.child(plan, at) {
            Child::Structure(child) => self.open_structure_frame(element, Some(child), None),
            Child::Map(map) => self.frames.push(Frame::Map {
                element,
                map,
                started: false,
            }),
            _ => self.frames.push(Frame::Skipped),
        }
    }
}

/// `a == b`, compared in place: member names are short, one is compared per member written
/// (a million for a large listing), and a call into `memcmp` costs more than the comparison.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    // Fixed-size pieces compare as single loads; the last piece overlaps the ones before
    // it where the length is not a multiple of its size, which is harmless.
    if let (Some(a_last), Some(b_last)) = (a.last_chunk::<8>(), b.last_chunk::<8>()) {
        return a_last == b_last
            && a.as_chunks::<8>()
                .0
                .iter()
                .zip(b.as_chunks::<8>().0)
                .all(|(x, y)| x == y);
    }
    if let (Some(a_first), Some(b_first)) = (a.first_chunk::<4>(), b.first_chunk::<4>()) {
        return a_first == b_first && a.last_chunk::<4>() == b.last_chunk::<4>();
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

impl OutputSink for XmlSink<'_> {
    fn open_structure(&mut self, member: &str) {
        self.open_member(member);
    }

    fn open_map(&mut self, member: &str) {
        self.open_member(member);
    }

    fn open_list(&mut self, member: &str) {
        let frame = self.member(member).and_then(|(plan, at)| {
            let element = self.plans.get(plan).ordered[at].element;
            match self.plans.child(plan, at) {
                Child::List(list) => Some(Frame::List {
                    element,
                    list,
                    started: false,
                }),
                _ => None,
            }
        });
        self.frames.push(frame.unwrap_or(Frame::Skipped));
    }

    fn open_item(&mut self) {
        let item_plan = match self.frames.last() {
            Some(Frame::List { list, .. }) => list.item_plan,
            _ => None,
        };
        if !matches!(self.frames.last(), Some(Frame::List { .. })) {
            self.frames.push(Frame::Skipped);
            return;
        }
        match self.scalar_target("") {
            Some((element, _, _, _)) => self.open_structure_frame(element, item_plan, None),
            None => self.frames.push(Frame::Skipped),
        }
    }

    fn close(&mut self) {
        // The root frame stays: `finish` closes it.
        if self.frames.len() < 2 {
            return;
        }
        match self.frames.pop() {
            Some(Frame::Structure {
                element: Some(element),
                entry,
                ..
            }) => {
                self.out.end(element);
                self.end_entry(entry);
            }
            Some(Frame::List {
                element,
                list,
                started,
            }) if !list.flattened => {
                if started {
                    self.out.end(element);
                } else {
                    self.out.empty(element);
                }
            }
            Some(Frame::Map {
                element,
                map,
                started,
            }) if !map.flattened => {
                if started {
                    self.out.end(element);
                } else {
                    self.out.empty(element);
                }
            }
            _ => {}
        }
    }

    fn string(&mut self, member: &str, value: &str) {
        // `scalar` writes every string as text, whatever its shape.
        if let Some((element, _, _, entry)) = self.scalar_target(member) {
            self.out.text_element(element, value);
            self.end_entry(entry);
        }
    }

    fn integer(&mut self, member: &str, value: i64) {
        if let Some((element, r, shape, entry)) = self.scalar_target(member) {
            if shape.kind.is_integer() {
                self.out.integer_element(element, value);
            } else {
                scalar(&mut self.out, element, r, shape, &Value::from(value));
            }
            self.end_entry(entry);
        }
    }

    fn float(&mut self, member: &str, value: f64) {
        if let Some((element, r, shape, entry)) = self.scalar_target(member) {
            scalar(&mut self.out, element, r, shape, &Value::from(value));
            self.end_entry(entry);
        }
    }

    fn boolean(&mut self, member: &str, value: bool) {
        // `scalar` writes a boolean as this text, whatever its shape.
        if let Some((element, _, _, entry)) = self.scalar_target(member) {
            self.out
                .text_element(element, if value { "true" } else { "false" });
            self.end_entry(entry);
        }
    }

    fn timestamp(&mut self, member: &str, epoch: f64) {
        // As the tree holds it: a non-finite number is `null` there, so omitted.
        if !epoch.is_finite() {
            return;
        }
        if let Some((element, r, shape, entry)) = self.scalar_target(member) {
            if iso_timestamp(r, shape, epoch) {
                let bits = epoch.to_bits();
                let text = match self.last_timestamp {
                    Some((last, text)) if last == bits => text,
                    _ => {
                        let text = iso8601_bytes(epoch);
                        self.last_timestamp = Some((bits, text));
                        text
                    }
                };
                self.out
                    .raw_element(element, |buf| buf.extend_from_slice(&text));
            } else {
                scalar(&mut self.out, element, r, shape, &Value::from(epoch));
            }
            self.end_entry(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    /// Every length up to a few words, equal and differing at each position.
    #[test]
    fn names_compare_as_strings() {
        let base = "abcdefghijklmnopqrstuvwxyz";
        for len in 0..=base.len() {
            let a = &base[..len];
            assert!(same(a, a));
            assert!(!same(a, &base[..len.saturating_sub(1)]) || len == 0);
            for at in 0..len {
                let mut b = a.to_owned().into_bytes();
                b[at] = b'_';
                let b = String::from_utf8(b).expect("ascii");
                assert!(!same(a, &b), "{a} vs {b}");
            }
        }
    }
}
