//! Shape constraints every protocol shares, checked after decoding: required members, and
//! finite floats.
//!
//! Decoders only check types; whether a member had to be present is a property of the shape,
//! so it is checked once here for all four protocols. Likewise NaN and the infinities: every
//! protocol can carry them (query text `NaN`/`Infinity`/`1e309`, JSON strings, CBOR floats)
//! and the decoders keep them faithfully (botocore's protocol vectors round-trip them), but no
//! AWS service accepts one as input, so they are refused here once rather than in each handler.

use serde_json::Value;

use super::DecodeError;
use super::model::{ServiceModel, ShapeRef, ShapeType};

/// Check that every required member is present and every float finite, recursively.
pub fn check_input(
    model: &ServiceModel,
    input: Option<&ShapeRef>,
    value: &Value,
) -> Result<(), DecodeError> {
    match input {
        Some(r) => walk(model, &r.shape, value, &mut String::new(), 0),
        None => Ok(()),
    }
}

/// How the value tree spells non-finite floats (see [`super::model`]).
const NON_FINITE: [&str; 3] = ["NaN", "Infinity", "-Infinity"];

fn walk(
    model: &ServiceModel,
    shape_name: &str,
    value: &Value,
    path: &mut String,
    depth: usize,
) -> Result<(), DecodeError> {
    // Decoders bound nesting already; this guards recursive shapes against surprises.
    if depth > 64 {
        return Ok(());
    }
    let Some(shape) = model.shape(shape_name) else {
        return Ok(());
    };
    match (shape.kind, value) {
        (ShapeType::Structure, Value::Object(map)) => {
            for name in &shape.required {
                if map.get(name).is_none_or(Value::is_null) {
                    return Err(DecodeError::Missing {
                        path: join(path, name),
                    });
                }
            }
            for (name, member) in &shape.members {
                if let Some(v) = map.get(name) {
                    let len = path.len();
                    push(path, name);
                    let r = walk(model, &member.shape, v, path, depth + 1);
                    path.truncate(len);
                    r?;
                }
            }
            Ok(())
        }
        (kind, Value::String(s)) if kind.is_float() && NON_FINITE.contains(&s.as_str()) => {
            Err(DecodeError::NotFinite {
                path: path.clone(),
                got: s.clone(),
            })
        }
        (ShapeType::List, Value::Array(items)) => {
            let Some(member) = &shape.member else {
                return Ok(());
            };
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                push(path, &(i + 1).to_string());
                let r = walk(model, &member.shape, v, path, depth + 1);
                path.truncate(len);
                r?;
            }
            Ok(())
        }
        (ShapeType::Map, Value::Object(map)) => {
            let Some(val) = &shape.value else {
                return Ok(());
            };
            for (k, v) in map {
                let len = path.len();
                push(path, k);
                let r = walk(model, &val.shape, v, path, depth + 1);
                path.truncate(len);
                r?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn push(path: &mut String, segment: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(segment);
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::models::by_name;

    fn check(service: &str, op: &str, value: Value) -> Result<(), DecodeError> {
        let s = by_name(service).unwrap();
        check_input(s.model(), s.operation(op).unwrap().input.as_ref(), &value)
    }

    #[test]
    fn reports_the_first_missing_member_with_its_path() {
        assert_eq!(
            check(
                "autoscaling",
                "CreateAutoScalingGroup",
                json!({"MinSize": 1, "MaxSize": 2})
            ),
            Err(DecodeError::Missing {
                path: "AutoScalingGroupName".into()
            })
        );
        assert_eq!(
            check(
                "cloudwatch",
                "PutMetricData",
                json!({"Namespace": "A", "MetricData": [{"Value": 1}]})
            ),
            Err(DecodeError::Missing {
                path: "MetricData.1.MetricName".into()
            })
        );
        assert!(check("cloudwatch", "DescribeAlarms", json!({})).is_ok());
    }

    #[test]
    fn refuses_non_finite_floats_wherever_they_sit() {
        assert_eq!(
            check(
                "autoscaling",
                "ExecutePolicy",
                json!({"PolicyName": "p", "MetricValue": "Infinity"})
            ),
            Err(DecodeError::NotFinite {
                path: "MetricValue".into(),
                got: "Infinity".into()
            })
        );
        assert_eq!(
            check(
                "cloudwatch",
                "PutMetricData",
                json!({"Namespace": "A", "MetricData": [{"MetricName": "m", "Values": [1, "NaN"]}]})
            ),
            Err(DecodeError::NotFinite {
                path: "MetricData.1.Values.2".into(),
                got: "NaN".into()
            })
        );
        // A string member that happens to read "NaN" is just a string.
        assert!(
            check(
                "cloudwatch",
                "PutMetricData",
                json!({"Namespace": "NaN", "MetricData": [{"MetricName": "m", "Value": 1.5}]})
            )
            .is_ok()
        );
    }
}
