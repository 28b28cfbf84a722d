//! Output pieces many EC2 operations share, as typed values that borrow the store: tags,
//! security group references, an instance's state, empty lists. They serialize lazily (no
//! intermediate `Vec`), so a listing of thousands costs no allocation per piece.

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::store::{Ec2Store, InstanceState, Tags};

/// A list AWS always shows and Updraft always leaves empty (`ProductCodes`, `Groups` of a
/// reservation, `Ipv6Addresses`).
#[derive(Debug, Clone, Copy)]
pub struct EmptyList;

impl Serialize for EmptyList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_seq(Some(0))?.end()
    }
}

/// One `Tag` (`Key`, `Value`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagOut<'a> {
    key: &'a str,
    value: &'a str,
}

/// A resource's tags as a `TagList`, in the order they were set.
#[derive(Debug, Clone, Copy)]
pub struct TagsOut<'a>(pub &'a Tags);

impl Serialize for TagsOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|(key, value)| TagOut { key, value }))
    }
}

/// One `GroupIdentifier`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupOut<'a> {
    group_id: &'a str,
    group_name: &'a str,
}

/// Security group ids as a `GroupIdentifierList`, each with its name (empty when the group
/// is gone).
#[derive(Debug, Clone, Copy)]
pub struct GroupsOut<'a> {
    /// The store the names come from.
    pub store: &'a Ec2Store,
    /// The group ids.
    pub ids: &'a [String],
}

impl Serialize for GroupsOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.ids.iter().map(|id| {
            GroupOut {
                group_id: id,
                group_name: self
                    .store
                    .security_groups
                    .get(id)
                    .map_or("", |g| g.name.as_str()),
            }
        }))
    }
}

/// An `InstanceState` (`Code`, `Name`).
#[derive(Debug, Clone, Copy)]
pub struct StateOut(pub InstanceState);

impl Serialize for StateOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut st = serializer.serialize_struct("InstanceState", 2)?;
        st.serialize_field("Code", &self.0.code())?;
        st.serialize_field("Name", self.0.name())?;
        st.end()
    }
}

/// A member that AWS leaves out when it has no value (a tree then has no key, not `null`).
pub fn field_opt<S: SerializeStruct, T: Serialize>(
    st: &mut S,
    name: &'static str,
    value: Option<T>,
) -> Result<(), S::Error> {
    match value {
        Some(v) => st.serialize_field(name, &v),
        None => st.skip_field(name),
    }
}
