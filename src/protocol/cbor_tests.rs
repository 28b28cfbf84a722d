//! Unit and property tests of `protocol::cbor`.

use super::*;
use crate::protocol::json::tests::{ROUND_TRIP_SHAPES, same_tree, shape_ref, trees};
use serde_json::json;

/// The CBOR "break" byte ending an indefinite-length item.
const BREAK: u8 = 0xff;

fn cloudwatch() -> &'static ServiceModel {
    static MODEL: std::sync::LazyLock<ServiceModel> = std::sync::LazyLock::new(|| {
        ServiceModel::from_json(include_str!("../../protocol/models/cloudwatch.json")).unwrap()
    });
    &MODEL
}

fn decode(op: &str, body: &[u8]) -> Result<Value, DecodeError> {
    let m = cloudwatch();
    let r = shape_ref(m, op, true);
    decode_cbor(m, Some(&r), body)
}

fn malformed(r: Result<Value, DecodeError>) -> bool {
    matches!(r, Err(DecodeError::Malformed(_)))
}

#[test]
fn decodes_the_rust_sdk_capture() {
    let body = hex::decode(concat!(
        "bf694e616d657370616365654d794170706a4d65747269634461746181bf6a4d65747269634e616d65",
        "674c6174656e63796a44696d656e73696f6e7381bf644e616d6564486f73746556616c7565626831ff",
        "6954696d657374616d70c1fb41d964df496b645a6556616c7565fb402900000000000064556e69746c",
        "4d696c6c697365636f6e6473ffff"
    ))
    .unwrap();
    assert_eq!(
        decode("PutMetricData", &body).unwrap(),
        json!({"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency",
            "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1704164645.678,
            "Value": 12.5, "Unit": "Milliseconds"}]})
    );
}

#[test]
fn empty_body_and_no_input() {
    let m = cloudwatch();
    assert_eq!(decode("PutMetricData", b"").unwrap(), json!({}));
    assert_eq!(decode_cbor(m, None, b"").unwrap(), json!({}));
    assert_eq!(decode_cbor(m, None, &[0xbf, 0xff]).unwrap(), json!({}));
    assert_eq!(
        decode_cbor(m, None, &[0xa1, 0x61, b'x', 0x01]).unwrap(),
        json!({})
    );
    assert!(malformed(decode_cbor(m, None, &[0x80])));
    assert!(malformed(decode_cbor(m, None, &[0xa0, 0x00])));
}

#[test]
fn rejects_structural_garbage_fast() {
    // Top-level must be a map; trailing bytes are an error.
    assert!(malformed(decode("PutMetricData", &[0x01])));
    assert!(malformed(decode("PutMetricData", &[0xa0, 0xa0])));
    // A map declaring 2^60 entries in a 10-byte body.
    let huge_map = [0xbb, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x61];
    assert!(malformed(decode("PutMetricData", &huge_map)));
    // An array of 2^60 elements as the MetricData member, and one in an unknown member.
    let mut body = vec![0xa1, 0x6a];
    body.extend_from_slice(b"MetricData");
    body.extend_from_slice(&[0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0]);
    assert!(malformed(decode("PutMetricData", &body)));
    let body = [0xa1, 0x61, b'z', 0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xa0];
    assert!(malformed(decode("PutMetricData", &body)));
    // A text string claiming 2^63 bytes.
    let body = [0xa1, 0x7b, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x00];
    assert!(malformed(decode("PutMetricData", &body)));
    // Non-text keys, stray breaks, reserved bytes.
    assert!(malformed(decode("PutMetricData", &[0xa1, 0x01, 0x01])));
    assert!(malformed(decode(
        "PutMetricData",
        &[0xa1, 0x61, b'z', 0xff]
    )));
    assert!(malformed(decode(
        "PutMetricData",
        &[0xa1, 0x61, b'z', 0x1c]
    )));
    // Indefinite map without its break.
    assert!(malformed(decode(
        "PutMetricData",
        &[0xbf, 0x61, b'z', 0x01]
    )));
}

#[test]
fn nesting_is_bounded() {
    for opener in [0x81u8, 0x9f, 0xc1] {
        let mut body = vec![0xa1, 0x61, b'z'];
        body.extend(std::iter::repeat_n(opener, 100_000));
        assert!(malformed(decode("PutMetricData", &body)), "{opener:x}");
    }
    // Nested maps through an unknown member.
    let mut body = vec![0xa1, 0x61, b'z'];
    for _ in 0..100_000 {
        body.extend_from_slice(&[0xa1, 0x61, b'k']);
    }
    assert!(malformed(decode("PutMetricData", &body)));
    // Sixty levels are fine.
    let mut body = vec![0xa1, 0x61, b'z'];
    body.extend(std::iter::repeat_n(0x81, 60));
    body.push(0x00);
    assert_eq!(decode("PutMetricData", &body).unwrap(), json!({}));
}

#[test]
fn indefinite_strings_floats_and_upcasting() {
    // {_ "Namespace": (_ "My", "App"), "MetricData": [_ {_ "MetricName": "m",
    //   "Value": f16 1.5, "Values": [f32 7.625, 3, NaN16], "Timestamp": 1(1704164645),
    //   "StorageResolution": -1 }]}
    let mut body = vec![0xbf, 0x69];
    body.extend_from_slice(b"Namespace");
    body.extend_from_slice(&[0x7f, 0x62, b'M', b'y', 0x63, b'A', b'p', b'p', 0xff, 0x6a]);
    body.extend_from_slice(b"MetricData");
    body.extend_from_slice(&[0x9f, 0xbf, 0x6a]);
    body.extend_from_slice(b"MetricName");
    body.extend_from_slice(&[0x61, b'm', 0x65]);
    body.extend_from_slice(b"Value");
    body.extend_from_slice(&[0xf9, 0x3e, 0x00, 0x66]);
    body.extend_from_slice(b"Values");
    body.extend_from_slice(&[
        0x83, 0xfa, 0x40, 0xf4, 0x00, 0x00, 0x03, 0xf9, 0x7e, 0x00, 0x69,
    ]);
    body.extend_from_slice(b"Timestamp");
    body.extend_from_slice(&[0xc1, 0x1a, 0x65, 0x93, 0x7d, 0x25, 0x71]);
    body.extend_from_slice(b"StorageResolution");
    body.extend_from_slice(&[0x20, 0xff, 0xff, 0xff]);
    assert_eq!(
        decode("PutMetricData", &body).unwrap(),
        json!({"Namespace": "MyApp", "MetricData": [{"MetricName": "m", "Value": 1.5,
            "Values": [7.625, 3.0, "NaN"], "Timestamp": 1704164645, "StorageResolution": -1}]})
    );
}

#[test]
fn nulls_undefined_and_type_errors() {
    let body = [
        0xa2, 0x69, b'N', b'a', b'm', b'e', b's', b'p', b'a', b'c', b'e', 0xf6, 0x61, b'z', 0xf7,
    ];
    assert_eq!(decode("PutMetricData", &body).unwrap(), json!({}));
    // "MetricData": [{"MetricName": 5}]
    let mut body = vec![0xa1, 0x6a];
    body.extend_from_slice(b"MetricData");
    body.extend_from_slice(&[0x81, 0xa1, 0x6a]);
    body.extend_from_slice(b"MetricName");
    body.push(0x05);
    assert_eq!(
        decode("PutMetricData", &body),
        Err(DecodeError::Invalid {
            path: "MetricData.1.MetricName".into(),
            expected: "string",
            got: "5".into()
        })
    );
    // Period is an integer: 2^40 does not fit, 2.5 is not whole, 300.0 is fine.
    let period = |v: &[u8]| {
        let mut body = vec![0xa1, 0x66];
        body.extend_from_slice(b"Period");
        body.extend_from_slice(v);
        decode("GetMetricStatistics", &body)
    };
    assert!(matches!(
        period(&[0x1b, 0, 0, 1, 0, 0, 0, 0, 0]),
        Err(DecodeError::Invalid { .. })
    ));
    assert!(matches!(
        period(&[0xf9, 0x41, 0x00]),
        Err(DecodeError::Invalid { .. })
    ));
    assert_eq!(
        period(&[0xfb, 0x40, 0x72, 0xc0, 0, 0, 0, 0, 0]).unwrap(),
        json!({"Period": 300})
    );
    // A timestamp under another tag, or a NaN timestamp, is invalid.
    let start = |v: &[u8]| {
        let mut body = vec![0xa1, 0x69];
        body.extend_from_slice(b"StartTime");
        body.extend_from_slice(v);
        decode("GetMetricStatistics", &body)
    };
    assert!(matches!(
        start(&[0xc0, 0x01]),
        Err(DecodeError::Invalid { .. })
    ));
    assert!(matches!(
        start(&[0xc1, 0xf9, 0x7e, 0x00]),
        Err(DecodeError::Invalid { .. })
    ));
    // Milliseconds where seconds belong.
    let millis = [0xc1, 0x1b, 0, 0, 0x01, 0x8c, 0xc9, 0x5a, 0x3b, 0x4e];
    assert!(matches!(start(&millis), Err(DecodeError::Invalid { .. })));
    assert_eq!(
        start(&[0x1a, 0x65, 0x93, 0x7d, 0x25]).unwrap(),
        json!({"StartTime": 1704164645})
    );
}

#[test]
fn encodes_definite_f64_and_tagged_timestamps() {
    let m = cloudwatch();
    let out = shape_ref(m, "GetMetricStatistics", false);
    let value = json!({"Label": "CPUUtilization", "Datapoints": [
        {"Timestamp": 1704067200, "Average": 12.5, "Unit": "Percent", "Sum": null}]});
    let body = encode_cbor(m, Some(&out), &value);
    let expected = concat!(
        "a2654c6162656c6e4350555574696c697a6174696f6e6a44617461706f696e747381a3",
        "6954696d657374616d70c1fb41d9648020000000",
        "6741766572616765fb4029000000000000",
        "64556e69746750657263656e74"
    );
    assert_eq!(hex::encode(&body), expected);
    assert_eq!(encode_cbor(m, None, &json!({"x": 1})), [0xa0]);
    assert_eq!(encode_cbor(m, Some(&out), &json!([])), [0xa0]);
    // Small and big integers take their smallest encoding; whole doubles stay doubles.
    let stats = shape_ref(m, "GetMetricStatistics", true);
    let body = encode_cbor(m, Some(&stats), &json!({"Period": 60}));
    assert_eq!(hex::encode(&body), "a166506572696f64183c");
    let body = encode_cbor(m, Some(&out), &json!({"Datapoints": [{"Maximum": 1}]}));
    assert_eq!(
        hex::encode(&body),
        "a16a44617461706f696e747381a1674d6178696d756dfb3ff0000000000000"
    );
}

#[test]
fn error_body() {
    let err = ApiError::client("InvalidParameterValue", "bad value");
    let body = encode_cbor_error(
        "com.amazonaws.cloudwatch#InvalidParameterValueException",
        &err,
    );
    assert_eq!(
        hex::encode(body),
        concat!(
            "a2665f5f74797065783763",
            "6f6d2e616d617a6f6e6177732e636c6f7564776174636823496e76616c6964506172616d65746572",
            "56616c7565457863657074696f6e676d657373616765696261642076616c7565"
        )
    );
}

/// CBOR of an arbitrary JSON tree, with random tags, indefinite lengths and float widths.
fn wild_cbor(value: &Value, seed: &mut u64, out: &mut Vec<u8>) {
    let mut next = || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    let r = next();
    if r % 11 == 0 {
        out.extend_from_slice(&[0xc1, 0xc0, 0xd8, 0x37, 0xdb][(r >> 8) as usize % 5..][..1]);
    }
    let indef = r % 3 == 0;
    let mut e = Encoder::new(Vec::new());
    match value {
        Value::Null => drop(if r % 2 == 0 { e.null() } else { e.undefined() }),
        Value::Bool(b) => drop(e.bool(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                drop(e.i64(i));
            } else if let Some(u) = n.as_u64() {
                drop(e.u64(u));
            } else {
                let f = n.as_f64().unwrap_or_default();
                drop(match r % 3 {
                    0 => e.f16(f as f32),
                    1 => e.f32(f as f32),
                    _ => e.f64(f),
                });
            }
        }
        Value::String(s) if indef && s.chars().count() > 1 => {
            let cut = s.char_indices().nth(1).map_or(0, |(i, _)| i);
            drop(e.begin_str().and_then(|e| e.str(&s[..cut])));
            drop(e.str(&s[cut..]).and_then(|e| e.end()));
        }
        Value::String(s) if r % 5 == 0 => drop(e.bytes(s.as_bytes())),
        Value::String(s) => drop(e.str(s)),
        Value::Array(items) => {
            out.extend(e.into_writer());
            out.push(if indef {
                0x9f
            } else {
                0x80 + items.len().min(23) as u8
            });
            for item in items.iter().take(23) {
                wild_cbor(item, seed, out);
            }
            if indef {
                out.push(BREAK);
            }
            return;
        }
        Value::Object(map) => {
            out.extend(e.into_writer());
            out.push(if indef {
                0xbf
            } else {
                0xa0 + map.len().min(23) as u8
            });
            for (k, v) in map.iter().take(23) {
                let mut k_enc = Encoder::new(Vec::new());
                drop(k_enc.str(k));
                out.extend(k_enc.into_writer());
                wild_cbor(v, seed, out);
            }
            if indef {
                out.push(BREAK);
            }
            return;
        }
    }
    out.extend(e.into_writer());
}

/// Fragments that stress a CBOR decoder: huge declared lengths, openers without closers,
/// tags, breaks, reserved bytes, and member names that lead into the shapes.
fn adversarial() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let fragment = prop_oneof![
        Just(vec![0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0]),
        Just(vec![0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x5a, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x9f]),
        Just(vec![0xbf]),
        Just(vec![0x7f]),
        Just(vec![0x5f]),
        Just(vec![0xff]),
        Just(vec![0x81]),
        Just(vec![0xa1]),
        Just(vec![0xc1]),
        Just(vec![0xdb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0xf6]),
        Just(vec![0xf7]),
        Just(vec![0xf9, 0x7c, 0x01]),
        Just(vec![0xfa, 0x7f, 0xc0, 0, 0]),
        Just(vec![0x1c]),
        Just(vec![0xfc]),
        Just(vec![0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        prop::sample::select(vec![
            "Namespace",
            "MetricData",
            "MetricName",
            "Dimensions",
            "Value",
            "Values",
            "Counts",
            "Timestamp",
            "StatisticValues",
            "MetricDataQueries",
            "MetricStat",
            "Metric",
            "StartTime",
            "EndTime",
            "Period",
            "EntityMetricData",
            "Entity",
            "KeyAttributes",
        ])
        .prop_map(|s| {
            let mut v = vec![0x60 + s.len() as u8];
            v.extend_from_slice(s.as_bytes());
            v
        }),
        any::<u8>().prop_map(|b| vec![b]),
        proptest::collection::vec(any::<u8>(), 1..9),
    ];
    proptest::collection::vec(fragment, 0..48).prop_map(|parts| {
        let mut body = vec![0xbf];
        body.extend(parts.into_iter().flatten());
        body
    })
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn decode_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            for op in ["PutMetricData", "GetMetricData"] {
                let _ = decode(op, &body);
            }
        }

        #[test]
        fn decode_never_panics_on_adversarial_cbor(body in adversarial()) {
            for op in ["PutMetricData", "GetMetricData"] {
                let _ = decode(op, &body);
            }
        }

        #[test]
        fn decode_never_panics_on_shaped_garbage(seed in any::<u64>()) {
            let m = cloudwatch();
            for op in ["PutMetricData", "GetMetricData"] {
                let r = shape_ref(m, op, true);
                let tree = trees::chaos(m, m.shape(&r.shape).unwrap(), seed);
                let mut body = Vec::new();
                let mut s = seed | 1;
                wild_cbor(&tree, &mut s, &mut body);
                let _ = decode_cbor(m, Some(&r), &body);
            }
        }

        #[test]
        fn round_trips_cloudwatch_trees(seed in any::<u64>()) {
            let m = cloudwatch();
            for (op, input) in ROUND_TRIP_SHAPES {
                let r = shape_ref(m, op, input);
                let tree = trees::tree(m, m.shape(&r.shape).unwrap(), seed);
                let body = encode_cbor(m, Some(&r), &tree);
                let back = decode_cbor(m, Some(&r), &body);
                prop_assert!(back.is_ok(), "{op}: {back:?}\n{}", hex::encode(&body));
                let back = back.unwrap();
                prop_assert!(tree == back || same_tree(&tree, &back), "{op}:\n{tree}\n{back}");
            }
        }
    }
}
