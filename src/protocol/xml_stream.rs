//! The ec2Query codec as an [`OutputSink`]: the same document [`super::encode_ec2_output`]
//! writes from a value tree, written while the handler walks its state.
//!
//! Element names, list wrappers, escaping and scalar text all come from the tree path's own
//! pieces ([`StructPlan`], [`Out`], [`scalar`]), so the two paths cannot drift apart in how a
//! member is spelled; only the order of members is the handler's duty.

use std::rc::Rc;

use serde_json::Value;

use super::{MemberPlan, Out, StructPlan, ValueWriter, ec2_namespace, scalar};
use crate::protocol::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use crate::protocol::sink::OutputSink;

/// What is open.
enum Frame<'m> {
    /// A structure (the root has no element of its own). `cursor` is where the next member is
    /// looked for first: handlers write in model order, so the search is nearly always one step.
    Structure {
        plan: Rc<StructPlan<'m>>,
        cursor: usize,
        element: Option<&'m str>,
    },
    /// A list; its wrapper is written with the first item (an empty list is `<Name/>`).
    List {
        element: &'m str,
        item_element: &'m str,
        item_ref: &'m ShapeRef,
        item_shape: &'m Shape,
        flattened: bool,
        started: bool,
    },
    /// Something the model does not have: everything under it is dropped.
    Skipped,
}

/// Streams an ec2Query response body.
pub struct Ec2XmlSink<'m> {
    model: &'m ServiceModel,
    plans: ValueWriter<'m, 'static>,
    out: Out,
    root: String,
    frames: Vec<Frame<'m>>,
}

impl<'m> Ec2XmlSink<'m> {
    /// Start `<?xml …?><{Op}Response xmlns=…><requestId>…</requestId>`.
    pub fn new(model: &'m ServiceModel, operation: &'m Operation, request_id: &str) -> Self {
        let mut out = Out::new();
        out.decl();
        let root = format!("{}Response", operation.name);
        out.start(&root, Some(&ec2_namespace(model)));
        out.text_element("requestId", request_id);
        let mut plans = ValueWriter::new(model);
        let frame = match operation
            .output
            .as_ref()
            .and_then(|r| model.shape(&r.shape))
        {
            Some(shape) if shape.kind == ShapeType::Structure => Frame::Structure {
                plan: plans.plan(shape),
                cursor: 0,
                element: None,
            },
            _ => Frame::Skipped,
        };
        Self {
            model,
            plans,
            out,
            root,
            frames: vec![frame],
        }
    }

    /// Close the root and hand back the body.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.end(&self.root);
        self.out.finish()
    }

    /// The member of the current structure named `member`: element, reference and shape.
    /// `None` inside a list or a skipped part, or when the model lacks the member.
    fn member(&mut self, member: &str) -> Option<(&'m str, &'m ShapeRef, &'m Shape)> {
        let Some(Frame::Structure { plan, cursor, .. }) = self.frames.last_mut() else {
            return None;
        };
        let ordered = &plan.ordered;
        let found = (*cursor..ordered.len())
            .chain(0..*cursor)
            .find(|&at| ordered[at].name == member)?;
        *cursor = found + 1;
        let m: &MemberPlan<'m> = &ordered[found];
        Some((m.element, m.r, m.shape))
    }

    /// Where a scalar goes: a structure member, or the next item of a list.
    fn scalar_target(&mut self, member: &str) -> Option<(&'m str, &'m ShapeRef, &'m Shape)> {
        match self.frames.last_mut() {
            Some(Frame::List {
                element,
                item_element,
                item_ref,
                item_shape,
                flattened,
                started,
            }) => {
                if !*started && !*flattened {
                    self.out.start(element, None);
                }
                *started = true;
                Some((*item_element, *item_ref, *item_shape))
            }
            _ => self.member(member),
        }
    }

    fn scalar_value(&mut self, member: &str, value: &Value) {
        if let Some((element, r, shape)) = self.scalar_target(member) {
            scalar(&mut self.out, element, r, shape, value);
        }
    }
}

impl OutputSink for Ec2XmlSink<'_> {
    fn open_structure(&mut self, member: &str) {
        let frame = match self.member(member) {
            Some((element, _, shape)) if shape.kind == ShapeType::Structure => {
                self.out.start(element, None);
                Frame::Structure {
                    plan: self.plans.plan(shape),
                    cursor: 0,
                    element: Some(element),
                }
            }
            _ => Frame::Skipped,
        };
        self.frames.push(frame);
    }

    fn open_list(&mut self, member: &str) {
        let list = self.member(member).and_then(|(element, r, shape)| {
            let item_ref = shape.member.as_ref()?;
            let item_shape = self.model.shape(&item_ref.shape)?;
            let flattened = r.flattened.unwrap_or(false) || shape.flattened;
            let named = self.plans.location_name(item_ref);
            // As the tree path: a flattened list repeats the item's name, else `member`.
            let item_element = match (flattened, named) {
                (_, Some(name)) => name,
                (true, None) => element,
                (false, None) => "member",
            };
            (shape.kind == ShapeType::List).then_some(Frame::List {
                element,
                item_element,
                item_ref,
                item_shape,
                flattened,
                started: false,
            })
        });
        self.frames.push(list.unwrap_or(Frame::Skipped));
    }

    fn open_item(&mut self) {
        let frame = match self.scalar_target("") {
            Some((element, _, shape)) if shape.kind == ShapeType::Structure => {
                self.out.start(element, None);
                Frame::Structure {
                    plan: self.plans.plan(shape),
                    cursor: 0,
                    element: Some(element),
                }
            }
            _ => Frame::Skipped,
        };
        self.frames.push(frame);
    }

    fn close(&mut self) {
        // The root frame stays: `finish` closes it.
        if self.frames.len() < 2 {
            return;
        }
        match self.frames.pop() {
            Some(Frame::Structure {
                element: Some(element),
                ..
            }) => self.out.end(element),
            Some(Frame::List {
                element,
                flattened: false,
                started,
                ..
            }) => {
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
        if let Some((element, _, _)) = self.scalar_target(member) {
            self.out.text_element(element, value);
        }
    }

    fn integer(&mut self, member: &str, value: i64) {
        self.scalar_value(member, &Value::from(value));
    }

    fn boolean(&mut self, member: &str, value: bool) {
        self.scalar_value(member, &Value::Bool(value));
    }

    fn timestamp(&mut self, member: &str, epoch: f64) {
        // As the tree holds it: a non-finite number is `null` there, so omitted.
        self.scalar_value(member, &Value::from(epoch));
    }
}
