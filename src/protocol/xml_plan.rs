//! Structure shapes resolved once per document: for each member its element name and target
//! shape, and (on first use) what opening it needs, so that a list of ten thousand items
//! looks each shape up once instead of once per item.
//!
//! Plans live in one arena and point at each other by index: recursive shapes then need no
//! reference counting (an `Rc` cycle would leak) and a member's cached child is a plain
//! number.

use std::collections::HashMap;

use crate::protocol::model::{ServiceModel, Shape, ShapeRef, ShapeType};

/// Where a plan sits in its [`Plans`].
pub(super) type PlanId = usize;

/// One member of a structure, resolved once per document: element name and target shape.
pub(super) struct MemberPlan<'m> {
    /// The member name (the key of the value tree, the name a sink is given).
    pub name: &'m str,
    pub element: &'m str,
    pub r: &'m ShapeRef,
    pub shape: &'m Shape,
    /// What opening this member needs, once a sink has opened it (see [`Plans::child`]).
    child: Option<Child<'m>>,
}

/// A structure's members in model order, plus (member name, position) sorted by name so
/// that an object's entries (sorted by key) are matched in one merge pass.
pub(super) struct StructPlan<'m> {
    pub ordered: Vec<MemberPlan<'m>>,
    pub by_name: Vec<(&'m str, usize)>,
}

/// How the items of a list member are written.
#[derive(Clone, Copy)]
pub(super) struct ListPlan<'m> {
    /// The item element: the list member's `locationName`, else `member`, or for a
    /// flattened list the list's own element.
    pub item_element: &'m str,
    pub item_ref: &'m ShapeRef,
    pub item_shape: &'m Shape,
    pub flattened: bool,
    /// The item structure's plan (`None` for items of other shapes).
    pub item_plan: Option<PlanId>,
}

/// How the entries of a map member are written.
#[derive(Clone, Copy)]
pub(super) struct MapPlan<'m> {
    pub key_element: &'m str,
    pub value_element: &'m str,
    pub value_ref: &'m ShapeRef,
    pub value_shape: &'m Shape,
    pub flattened: bool,
    /// The value structure's plan (`None` for values of other shapes).
    pub value_plan: Option<PlanId>,
}

/// What a member opens: a structure, a list, a map, or nothing a sink can open.
#[derive(Clone, Copy)]
pub(super) enum Child<'m> {
    Structure(PlanId),
    List(ListPlan<'m>),
    Map(MapPlan<'m>),
    Other,
}

/// The plans of one document, by shape.
pub(super) struct Plans<'m> {
    pub model: &'m ServiceModel,
    all: Vec<StructPlan<'m>>,
    /// Keyed by the shape's address: shapes are looked up here by the hundred thousand, and
    /// hashing a pointer is cheaper than hashing its name.
    by_shape: HashMap<usize, PlanId>,
}

impl<'m> Plans<'m> {
    pub fn new(model: &'m ServiceModel) -> Self {
        Self {
            model,
            all: Vec::new(),
            by_shape: HashMap::new(),
        }
    }

    /// The plan with this id.
    pub fn get(&self, id: PlanId) -> &StructPlan<'m> {
        &self.all[id]
    }

    /// The reference's `locationName`, else its target shape's.
    pub fn location_name(&self, r: &'m ShapeRef) -> Option<&'m str> {
        r.location_name.as_deref().or_else(|| {
            self.model
                .shape(&r.shape)
                .and_then(|s| s.location_name.as_deref())
        })
    }

    /// The plan of a structure shape, made on first use.
    pub fn plan(&mut self, shape: &'m Shape) -> PlanId {
        let key = std::ptr::from_ref(shape) as usize;
        if let Some(&id) = self.by_shape.get(&key) {
            return id;
        }
        let mut ordered = Vec::with_capacity(shape.members.len());
        let mut by_name = Vec::with_capacity(shape.members.len());
        for (name, member) in &shape.members {
            if member.location.is_some() {
                continue;
            }
            let Some(target) = self.model.shape(&member.shape) else {
                continue;
            };
            by_name.push((name.as_str(), ordered.len()));
            ordered.push(MemberPlan {
                name,
                element: self.location_name(member).unwrap_or(name),
                r: member,
                shape: target,
                child: None,
            });
        }
        by_name.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let id = self.all.len();
        self.all.push(StructPlan { ordered, by_name });
        self.by_shape.insert(key, id);
        id
    }

    /// How the list member `r` (written as `element`, of shape `shape`) writes its items;
    /// `None` when the model lacks the item shape.
    pub fn list_plan(
        &mut self,
        element: &'m str,
        r: &'m ShapeRef,
        shape: &'m Shape,
    ) -> Option<ListPlan<'m>> {
        let item_ref = shape.member.as_ref()?;
        let item_shape = self.model.shape(&item_ref.shape)?;
        let flattened = r.flattened.unwrap_or(false) || shape.flattened;
        // botocore reads a flattened list's elements under the list member's name when it
        // has one (Smithy would use the structure member's; no model of ours is flattened).
        let item_element = match (flattened, self.location_name(item_ref)) {
            (_, Some(name)) => name,
            (true, None) => element,
            (false, None) => "member",
        };
        let item_plan = (item_shape.kind == ShapeType::Structure).then(|| self.plan(item_shape));
        Some(ListPlan {
            item_element,
            item_ref,
            item_shape,
            flattened,
            item_plan,
        })
    }

    /// How the map member `r` (of shape `shape`) writes its entries; `None` when the model
    /// lacks the key or value shape.
    pub fn map_plan(&mut self, r: &'m ShapeRef, shape: &'m Shape) -> Option<MapPlan<'m>> {
        let (key_ref, value_ref) = (shape.key.as_ref()?, shape.value.as_ref()?);
        let value_shape = self.model.shape(&value_ref.shape)?;
        let value_plan = (value_shape.kind == ShapeType::Structure).then(|| self.plan(value_shape));
        Some(MapPlan {
            key_element: self.location_name(key_ref).unwrap_or("key"),
            value_element: self.location_name(value_ref).unwrap_or("value"),
            value_ref,
            value_shape,
            flattened: r.flattened.unwrap_or(false) || shape.flattened,
            value_plan,
        })
    }

    /// What member `at` of plan `id` opens, resolved on the first call and kept in the member.
    pub fn child(&mut self, id: PlanId, at: usize) -> Child<'m> {
        let member = &self.all[id].ordered[at];
        if let Some(child) = member.child {
            return child;
        }
        let (element, r, shape) = (member.element, member.r, member.shape);
        let child = match shape.kind {
            ShapeType::Structure => Child::Structure(self.plan(shape)),
            ShapeType::List => self
                .list_plan(element, r, shape)
                .map_or(Child::Other, Child::List),
            ShapeType::Map => self.map_plan(r, shape).map_or(Child::Other, Child::Map),
            _ => Child::Other,
        };
        self.all[id].ordered[at].child = Some(child);
        child
    }
}
