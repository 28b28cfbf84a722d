//! The shapes an [`super::object_sink::ObjectSink`] writes, resolved once per body: for each
//! structure its members in model order with their keys and target shapes, and (on first use)
//! what opening a member needs. A page of a hundred alarms then looks each member up by a
//! comparison at a cursor instead of hashing its name into the structure's members and its
//! target's name into the model, once per member of every item.
//!
//! Plans live in arenas and point at each other by index, as `xml_plan`'s do (recursive
//! shapes need no reference counting). Unlike XML's, every member is kept, wherever the model
//! places it: the JSON and CBOR tree paths write them all.

use std::collections::HashMap;

use crate::protocol::model::{ServiceModel, Shape, ShapeRef, ShapeType};

/// Where a structure's plan sits.
pub(super) type PlanId = usize;
/// Where a list's items or a map's values are described.
pub(super) type SeqId = usize;

/// What opening a structure member, a list item or a map value gives.
#[derive(Clone, Copy)]
pub(super) enum Child {
    /// A structure with this plan.
    Structure(PlanId),
    /// A list whose items are this (`None`: the model lacks the item shape).
    List(Option<SeqId>),
    /// A map whose values are this (`None`: the model lacks the value shape).
    Map(Option<SeqId>),
    /// A scalar: nothing to open.
    Other,
}

/// One member of a structure.
pub(super) struct MemberPlan<'m> {
    /// The member name (what a sink call names).
    pub name: &'m str,
    /// The key written: its `locationName` (JSON) or its name (CBOR).
    pub key: &'m str,
    pub r: &'m ShapeRef,
    /// The target shape (`None`: the model lacks it, and the member is left out).
    pub shape: Option<&'m Shape>,
    child: Option<Child>,
}

/// The items of a list or the values of a map.
pub(super) struct SeqPlan<'m> {
    pub r: &'m ShapeRef,
    pub shape: &'m Shape,
    child: Option<Child>,
}

/// What a value's child is resolved from: a structure member or a list's (map's) items.
#[derive(Clone, Copy)]
pub(super) enum Source {
    Member(PlanId, usize),
    Seq(SeqId),
}

/// The plans of one body.
pub(super) struct Plans<'m> {
    model: &'m ServiceModel,
    location_names: bool,
    structures: Vec<Vec<MemberPlan<'m>>>,
    seqs: Vec<SeqPlan<'m>>,
    /// Structure plans by the shape's address (hashing a pointer is cheaper than a name);
    /// looked up once per member or item kind, the answer is then kept in it.
    by_shape: HashMap<usize, PlanId>,
}

impl<'m> Plans<'m> {
    /// Plans for `model`; keys are `locationName`s when `location_names`.
    pub fn new(model: &'m ServiceModel, location_names: bool) -> Self {
        Self {
            model,
            location_names,
            structures: Vec::new(),
            seqs: Vec::new(),
            by_shape: HashMap::new(),
        }
    }

    /// The members of plan `id`, in model order.
    pub fn members(&self, id: PlanId) -> &[MemberPlan<'m>] {
        &self.structures[id]
    }

    /// The items (values) `id` describes.
    pub fn seq(&self, id: SeqId) -> &SeqPlan<'m> {
        &self.seqs[id]
    }

    /// The plan of a structure shape, made on first use.
    pub fn plan(&mut self, shape: &'m Shape) -> PlanId {
        let address = std::ptr::from_ref(shape) as usize;
        if let Some(&id) = self.by_shape.get(&address) {
            return id;
        }
        let members = shape
            .members
            .iter()
            .map(|(name, r)| MemberPlan {
                name,
                key: match &r.location_name {
                    Some(location) if self.location_names => location,
                    _ => name,
                },
                r,
                shape: self.model.shape(&r.shape),
                child: None,
            })
            .collect();
        let id = self.structures.len();
        self.structures.push(members);
        self.by_shape.insert(address, id);
        id
    }

    /// What opening a value of `source` gives, resolved on the first call and kept.
    pub fn child(&mut self, source: Source) -> Child {
        let (kept, shape) = match source {
            Source::Member(id, at) => {
                let m = &self.structures[id][at];
                (m.child, m.shape)
            }
            Source::Seq(id) => (self.seqs[id].child, Some(self.seqs[id].shape)),
        };
        if let Some(child) = kept {
            return child;
        }
        let child = match shape {
            Some(shape) => self.resolve(shape),
            None => Child::Other,
        };
        match source {
            Source::Member(id, at) => self.structures[id][at].child = Some(child),
            Source::Seq(id) => self.seqs[id].child = Some(child),
        }
        child
    }

    fn resolve(&mut self, shape: &'m Shape) -> Child {
        match shape.kind {
            ShapeType::Structure => Child::Structure(self.plan(shape)),
            ShapeType::List => Child::List(self.items(shape.member.as_ref())),
            ShapeType::Map => Child::Map(self.items(shape.value.as_ref())),
            _ => Child::Other,
        }
    }

    fn items(&mut self, r: Option<&'m ShapeRef>) -> Option<SeqId> {
        let r = r?;
        let shape = self.model.shape(&r.shape)?;
        self.seqs.push(SeqPlan {
            r,
            shape,
            child: None,
        });
        Some(self.seqs.len() - 1)
    }
}
