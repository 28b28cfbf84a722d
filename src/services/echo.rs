//! Structures a caller gave that a service keeps as given and echoes back in its outputs
//! (a group's `MixedInstancesPolicy`, a policy's `TargetTrackingConfiguration`, ...).
//!
//! A typed output writes members in the model's order (see `protocol::output`), but a kept
//! `Value` holds its members by name. [`Echo`] serializes such a value in its model shape's
//! member order; members the shape lacks are left out, as the codecs leave them out of a tree.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::protocol::model::{ServiceModel, ShapeType};
use crate::protocol::models;
use crate::protocol::output::Timestamp;

/// `value` as the shape `shape` of the service named `service` (its CLI name).
#[derive(Debug, Clone, Copy)]
pub struct Echo<'a> {
    model: Option<&'static ServiceModel>,
    shape: &'a str,
    value: &'a Value,
}

impl<'a> Echo<'a> {
    /// Echo `value` as `shape` of `service`.
    pub fn new(service: &str, shape: &'a str, value: &'a Value) -> Self {
        Self {
            model: models::by_name(service).map(models::ServiceDef::model),
            shape,
            value,
        }
    }

    fn at(self, shape: &'a str, value: &'a Value) -> Self {
        Self {
            model: self.model,
            shape,
            value,
        }
    }
}

impl Serialize for Echo<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let shape = self.model.and_then(|m| m.shape(self.shape));
        match (self.value, shape) {
            (Value::Object(given), Some(shape)) if shape.kind == ShapeType::Structure => {
                let mut map = serializer.serialize_map(None)?;
                for (name, member) in &shape.members {
                    if let Some(v) = given.get(name) {
                        map.serialize_entry(name, &self.at(&member.shape, v))?;
                    }
                }
                map.end()
            }
            (Value::Object(given), Some(shape)) if shape.kind == ShapeType::Map => {
                let value_shape = shape.value.as_ref().map_or("", |r| r.shape.as_str());
                let mut map = serializer.serialize_map(Some(given.len()))?;
                for (key, v) in given {
                    map.serialize_entry(key, &self.at(value_shape, v))?;
                }
                map.end()
            }
            (Value::Array(items), Some(shape)) if shape.kind == ShapeType::List => {
                let item_shape = shape.member.as_ref().map_or("", |r| r.shape.as_str());
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&self.at(item_shape, v))?;
                }
                seq.end()
            }
            // A kept time is epoch seconds; the sink formats it as the protocol does.
            (Value::Number(n), Some(shape)) if shape.kind == ShapeType::Timestamp => {
                Timestamp(n.as_f64().unwrap_or_default()).serialize(serializer)
            }
            (value, _) => value.serialize(serializer),
        }
    }
}

/// An optional kept value, echoed as `shape` of `service` when present.
pub fn echo_opt<'a>(service: &str, shape: &'a str, value: Option<&'a Value>) -> Option<Echo<'a>> {
    value.map(|v| Echo::new(service, shape, v))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_come_in_model_order_and_unknown_ones_are_dropped() {
        let given = json!({"MaxHealthyPercentage": 120, "MinHealthyPercentage": 90, "Bogus": 1});
        let out = serde_json::to_string(&Echo::new(
            "autoscaling",
            "InstanceMaintenancePolicy",
            &given,
        ))
        .unwrap();
        assert_eq!(
            out,
            r#"{"MinHealthyPercentage":90,"MaxHealthyPercentage":120}"#
        );
    }
}
