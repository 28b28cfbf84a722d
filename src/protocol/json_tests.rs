//! Unit and property tests of `protocol::json`.

use super::*;
use serde_json::json;

fn cloudwatch() -> &'static ServiceModel {
    static MODEL: std::sync::LazyLock<ServiceModel> = std::sync::LazyLock::new(|| {
        ServiceModel::from_json(include_str!("../../protocol/models/cloudwatch.json")).unwrap()
    });
    &MODEL
}

fn input_of(model: &ServiceModel, op: &str) -> ShapeRef {
    model.operations[op].input.clone().unwrap()
}

fn output_of(model: &ServiceModel, op: &str) -> ShapeRef {
    model.operations[op].output.clone().unwrap()
}

#[test]
fn decodes_the_botocore_and_js_captures() {
    let m = cloudwatch();
    let put = input_of(m, "PutMetricData");
    let cli = br#"{"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1704164645, "Value": 12.5, "Unit": "Milliseconds"}]}"#;
    let v = decode_json(m, Some(&put), cli).unwrap();
    assert_eq!(
        v,
        json!({"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency",
            "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1704164645,
            "Value": 12.5, "Unit": "Milliseconds"}]})
    );
    let js = br#"{"Namespace":"MyApp","MetricData":[{"MetricName":"Latency","Timestamp":1704164645.678,"Value":12}]}"#;
    let v = decode_json(m, Some(&put), js).unwrap();
    assert_eq!(v["MetricData"][0]["Timestamp"], json!(1704164645.678));
    // Floats are f64 numbers in the tree even when the client sent an integer.
    assert_eq!(v["MetricData"][0]["Value"], json!(12.0));
}

#[test]
fn empty_and_non_object_bodies() {
    let m = cloudwatch();
    let put = input_of(m, "PutMetricData");
    assert_eq!(decode_json(m, Some(&put), b"").unwrap(), json!({}));
    assert_eq!(decode_json(m, Some(&put), b"  \n").unwrap(), json!({}));
    assert_eq!(decode_json(m, None, b"{}").unwrap(), json!({}));
    for bad in [&b"[]"[..], b"null", b"1", b"\"x\"", b"{", b"{} x"] {
        assert!(
            matches!(
                decode_json(m, Some(&put), bad),
                Err(DecodeError::Malformed(_))
            ),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn type_errors_name_the_member_path() {
    let m = cloudwatch();
    let put = input_of(m, "PutMetricData");
    let body =
        br#"{"Namespace":"n","MetricData":[{"MetricName":"a"},{"MetricName":"b","Value":"high"}]}"#;
    assert_eq!(
        decode_json(m, Some(&put), body),
        Err(DecodeError::Invalid {
            path: "MetricData.2.Value".into(),
            expected: "double",
            got: "high".into()
        })
    );
    let body = br#"{"Namespace":5}"#;
    assert!(matches!(
        decode_json(m, Some(&put), body),
        Err(DecodeError::Invalid { path, expected: "string", .. }) if path == "Namespace"
    ));
    let stats = input_of(m, "GetMetricStatistics");
    let body = br#"{"Period": 1.5}"#;
    assert!(matches!(
        decode_json(m, Some(&stats), body),
        Err(DecodeError::Invalid {
            expected: "integer",
            ..
        })
    ));
    let body = br#"{"Period": 4294967296}"#;
    assert!(decode_json(m, Some(&stats), body).is_err());
    let body = br#"{"Period": 300.0, "StartTime": "2024-01-01T00:00:00Z"}"#;
    assert_eq!(
        decode_json(m, Some(&stats), body).unwrap(),
        json!({"Period": 300, "StartTime": 1704067200})
    );
    let body = br#"{"StartTime": true}"#;
    assert!(decode_json(m, Some(&stats), body).is_err());
    let body = br#"{"StartTime": 1704164645678}"#;
    assert!(matches!(
        decode_json(m, Some(&stats), body),
        Err(DecodeError::Invalid {
            expected: "timestamp",
            ..
        })
    ));
}

#[test]
fn nulls_dropped_unknowns_ignored_specials_kept() {
    let m = cloudwatch();
    let put = input_of(m, "PutMetricData");
    let body = br#"{"Namespace":null,"Bogus":{"x":1},"MetricData":[null,{"MetricName":"m","Value":"NaN","Values":["Infinity","-Infinity",1]}]}"#;
    assert_eq!(
        decode_json(m, Some(&put), body).unwrap(),
        json!({"MetricData": [{"MetricName": "m", "Value": "NaN",
            "Values": ["Infinity", "-Infinity", 1.0]}]})
    );
}

#[test]
fn blobs_are_validated_base64() {
    let m = cloudwatch();
    let out = output_of(m, "GetMetricWidgetImage");
    let v = decode_json(m, Some(&out), br#"{"MetricWidgetImage":"Zm9v"}"#).unwrap();
    assert_eq!(v, json!({"MetricWidgetImage": "Zm9v"}));
    let v = decode_json(m, Some(&out), br#"{"MetricWidgetImage":"Zm8"}"#).unwrap();
    assert_eq!(v, json!({"MetricWidgetImage": "Zm8="}));
    assert!(decode_json(m, Some(&out), br#"{"MetricWidgetImage":"not base64!"}"#).is_err());
}

#[test]
fn encodes_in_model_order_and_skips_nulls() {
    let m = cloudwatch();
    let out = output_of(m, "GetMetricStatistics");
    let value = json!({"Datapoints": [{"Unit": "Percent", "Average": 12.5,
        "Timestamp": 1704067200, "Sum": null}, {"Timestamp": 1704067500.25, "Maximum": 99}],
        "Label": "CPUUtilization"});
    let body = encode_json(m, Some(&out), &value);
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        r#"{"Label":"CPUUtilization","Datapoints":[{"Timestamp":1704067200,"Average":12.5,"Unit":"Percent"},{"Timestamp":1704067500.25,"Maximum":99.0}]}"#
    );
    assert_eq!(encode_json(m, None, &json!({"a": 1})), b"{}");
    assert_eq!(encode_json(m, Some(&out), &json!(null)), b"{}");
    let value = json!({"Datapoints": [{"Average": "NaN", "Minimum": "-Infinity"}]});
    assert_eq!(
        std::str::from_utf8(&encode_json(m, Some(&out), &value)).unwrap(),
        r#"{"Datapoints":[{"Average":"NaN","Minimum":"-Infinity"}]}"#
    );
}

#[test]
fn error_body() {
    let err = ApiError::client("InvalidParameterValue", "bad \"value\"");
    let body = encode_json_error(
        "com.amazonaws.cloudwatch#InvalidParameterValueException",
        &err,
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"__type": "com.amazonaws.cloudwatch#InvalidParameterValueException",
            "message": "bad \"value\""})
    );
}

#[test]
fn numbers_are_written_as_their_tree_values_serialize() {
    let written = |s: Scalar<'_>, format: Option<&str>| {
        let mut out = Vec::new();
        write_scalar(&s, format, &mut out);
        String::from_utf8(out).unwrap()
    };
    let floats = [
        0.0,
        -0.0,
        80.0,
        1.5,
        -2.25,
        0.1,
        1e-7,
        123_456_789.125,
        1e21,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for f in floats {
        let tree = serde_json::to_string(&float_to_value(f)).unwrap();
        assert_eq!(written(Scalar::Float(f), None), tree, "{f}");
    }
    for i in [0, -1, 42, i64::MIN, i64::MAX] {
        assert_eq!(written(Scalar::Int(i), None), i.to_string());
    }
    assert_eq!(written(Scalar::UInt(u64::MAX), None), u64::MAX.to_string());
    let times = [
        0.0,
        1_704_067_200.0,
        1_704_067_500.25,
        1_704_067_500.000_4,
        1_704_067_500.999_6,
        -1.5,
        1e15,
        -1e15,
        f64::NAN,
    ];
    for t in times {
        let tree = serde_json::to_string(&epoch_number(t)).unwrap();
        assert_eq!(written(Scalar::Timestamp(t), None), tree, "{t}");
    }
    assert_eq!(
        written(Scalar::Timestamp(1_704_067_500.25), Some("iso8601")),
        "\"2024-01-01T00:05:00.250Z\""
    );
}

/// Random trees for the round-trip and robustness properties (shared with the CBOR tests).
pub(crate) mod trees {
    use super::super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, RngCore, SeedableRng};

    /// A valid tree for `shape`, as the decoders would produce it.
    pub(crate) fn tree(model: &ServiceModel, shape: &Shape, seed: u64) -> Value {
        let mut rng = StdRng::seed_from_u64(seed);
        valid(model, shape, &mut rng, 0)
    }

    fn valid(model: &ServiceModel, shape: &Shape, rng: &mut StdRng, depth: u32) -> Value {
        let child = |r: &ShapeRef| model.shape(&r.shape);
        match shape.kind {
            ShapeType::Structure => {
                let mut out = Map::new();
                for (name, member) in &shape.members {
                    if depth < 6
                        && rng.random_bool(0.6)
                        && let Some(t) = child(member)
                    {
                        out.insert(name.clone(), valid(model, t, rng, depth + 1));
                    }
                }
                Value::Object(out)
            }
            ShapeType::List => {
                let n = if depth < 6 { rng.random_range(0..4) } else { 0 };
                let t = shape.member.as_ref().and_then(child);
                Value::Array(
                    (0..n)
                        .filter_map(|_| t.map(|t| valid(model, t, rng, depth + 1)))
                        .collect(),
                )
            }
            ShapeType::Map => {
                let n = if depth < 6 { rng.random_range(0..4) } else { 0 };
                let t = shape.value.as_ref().and_then(child);
                let mut out = Map::new();
                for _ in 0..n {
                    if let Some(t) = t {
                        out.insert(text(rng), valid(model, t, rng, depth + 1));
                    }
                }
                Value::Object(out)
            }
            ShapeType::String => Value::String(text(rng)),
            ShapeType::Boolean => Value::Bool(rng.random()),
            ShapeType::Byte => Value::from(rng.random::<i8>()),
            ShapeType::Short => Value::from(rng.random::<i16>()),
            ShapeType::Integer => Value::from(rng.random::<i32>()),
            ShapeType::Long | ShapeType::BigInteger => Value::from(rng.random::<i64>()),
            ShapeType::Float => float_to_value(f64::from(f32::from_bits(rng.next_u32()))),
            ShapeType::Double | ShapeType::BigDecimal => {
                let f = match rng.random_range(0..4) {
                    0 => f64::from_bits(rng.next_u64()),
                    1 => f64::from(rng.random_range(-100_000i32..100_000)) / 100.0,
                    2 => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0]
                        [rng.random_range(0..5)],
                    _ => rng.random::<f64>() * 1e12,
                };
                float_to_value(f)
            }
            ShapeType::Timestamp => {
                let millis = rng.random_range(-2_000_000_000_000i64..8_000_000_000_000);
                let millis = if rng.random_bool(0.5) {
                    millis / 1000 * 1000
                } else {
                    millis
                };
                epoch_number(millis as f64 / 1000.0)
            }
            ShapeType::Blob => {
                let n = rng.random_range(0..24);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }

    fn text(rng: &mut StdRng) -> String {
        let n = rng.random_range(0..12);
        (0..n)
            .map(|_| match rng.random_range(0..4) {
                0 => char::from(rng.random_range(b'a'..=b'z')),
                1 => ['"', '\\', '\n', '\u{0}', '\u{7f}', '/'][rng.random_range(0..6)],
                2 => rng.random::<char>(),
                _ => char::from(rng.random_range(b' '..=b'~')),
            })
            .collect()
    }

    /// A tree of the shape's member names with random, often wrong, values.
    pub(crate) fn chaos(model: &ServiceModel, shape: &Shape, seed: u64) -> Value {
        let mut rng = StdRng::seed_from_u64(seed);
        wild(model, Some(shape), &mut rng, 0)
    }

    fn wild(model: &ServiceModel, shape: Option<&Shape>, rng: &mut StdRng, depth: u32) -> Value {
        if depth > 8 || rng.random_bool(0.15) {
            return match rng.random_range(0..8) {
                0 => Value::Null,
                1 => Value::Bool(rng.random()),
                2 => Value::from(rng.random::<i64>()),
                3 => Value::from(rng.random::<u64>()),
                4 => float_to_value(f64::from_bits(rng.next_u64())),
                5 => Value::String(
                    ["NaN", "Infinity", "x", "", "Zm9v", "2024-01-01T00:00:00Z"]
                        [rng.random_range(0..6)]
                    .into(),
                ),
                6 => Value::Array(vec![Value::Null; rng.random_range(0..3)]),
                _ => Value::Object(Map::new()),
            };
        }
        let Some(shape) = shape else {
            return Value::String(text(rng));
        };
        let child = |r: &Option<ShapeRef>| r.as_ref().and_then(|r| model.shape(&r.shape));
        match shape.kind {
            ShapeType::Structure => {
                let mut out = Map::new();
                for (name, member) in &shape.members {
                    if rng.random_bool(0.5) {
                        let t = model.shape(&member.shape);
                        out.insert(name.clone(), wild(model, t, rng, depth + 1));
                    }
                }
                if rng.random_bool(0.2) {
                    out.insert(text(rng), wild(model, None, rng, depth + 1));
                }
                Value::Object(out)
            }
            ShapeType::List => {
                let t = child(&shape.member);
                Value::Array(
                    (0..rng.random_range(0..4))
                        .map(|_| wild(model, t, rng, depth + 1))
                        .collect(),
                )
            }
            ShapeType::Map => {
                let t = child(&shape.value);
                let mut out = Map::new();
                for _ in 0..rng.random_range(0..4) {
                    out.insert(text(rng), wild(model, t, rng, depth + 1));
                }
                Value::Object(out)
            }
            _ => valid(model, shape, rng, depth),
        }
    }
}

pub(crate) const ROUND_TRIP_SHAPES: [(&str, bool); 7] = [
    ("PutMetricData", true),
    ("GetMetricData", true),
    ("PutMetricAlarm", true),
    ("DescribeAlarms", false),
    ("GetMetricStatistics", false),
    ("GetMetricData", false),
    ("GetMetricWidgetImage", false),
];

/// Floats compare within 2 ulps (serde_json's default float parser may be off by one);
/// everything else exactly.
pub(crate) fn same_tree(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x.to_bits().abs_diff(y.to_bits()) <= 2 && x.signum() == y.signum())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_tree(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_tree(v, w)))
        }
        _ => a == b,
    }
}

pub(crate) fn shape_ref(model: &ServiceModel, op: &str, input: bool) -> ShapeRef {
    let op = &model.operations[op];
    if input {
        op.input.clone()
    } else {
        op.output.clone()
    }
    .unwrap()
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn decode_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let m = cloudwatch();
            for op in ["PutMetricData", "GetMetricData"] {
                let _ = decode_json(m, Some(&input_of(m, op)), &body);
            }
        }

        #[test]
        fn decode_never_panics_on_json_shaped_garbage(seed in any::<u64>()) {
            let m = cloudwatch();
            for op in ["PutMetricData", "GetMetricData"] {
                let r = input_of(m, op);
                let tree = trees::chaos(m, m.shape(&r.shape).unwrap(), seed);
                let body = serde_json::to_vec(&tree).unwrap();
                let _ = decode_json(m, Some(&r), &body);
            }
        }

        #[test]
        fn round_trips_cloudwatch_trees(seed in any::<u64>()) {
            let m = cloudwatch();
            for (op, input) in ROUND_TRIP_SHAPES {
                let r = shape_ref(m, op, input);
                let tree = trees::tree(m, m.shape(&r.shape).unwrap(), seed);
                let body = encode_json(m, Some(&r), &tree);
                let back = decode_json(m, Some(&r), &body);
                prop_assert!(back.is_ok(), "{op}: {back:?}\n{}", String::from_utf8_lossy(&body));
                let back = back.unwrap();
                prop_assert!(same_tree(&tree, &back), "{op}:\n{tree}\n{back}");
            }
        }
    }
}
