//! Hand-written cases: server-side rpc-v2-cbor behaviours (Smithy's server-only tests, with our
//! own bodies) and requests captured from real clients against the CloudWatch model.

use serde_json::{Value, json};
use updraft::protocol::model::ServiceModel;

use super::{Codec, Tally, check_decoded, input_case, suite};

/// CBOR hex of a short text string.
fn text(s: &str) -> String {
    assert!(s.len() < 24);
    format!("{:02x}{}", 0x60 + s.len(), hex::encode(s))
}

/// CBOR hex of a map entry: key `name`, value already in hex.
fn field(name: &str, value: &str) -> String {
    format!("{}{value}", text(name))
}

/// Shapes and cases in the vectors' format; `bodyHex` replaces the base64 `body`.
fn hand_ported_suite() -> Value {
    json!({
        "description": "server-side rpc-v2-cbor behaviours",
        "metadata": {"protocol": "smithy-rpc-v2-cbor", "apiVersion": "2024-01-01",
                     "targetPrefix": "HandPorted"},
        "shapes": {
            "Scalars": {"type": "structure", "members": {
                "trueBooleanValue": {"shape": "Boolean"}, "falseBooleanValue": {"shape": "Boolean"},
                "byteValue": {"shape": "Byte"}, "shortValue": {"shape": "Short"},
                "integerValue": {"shape": "Integer"}, "longValue": {"shape": "Long"},
                "floatValue": {"shape": "Float"}, "doubleValue": {"shape": "Double"},
                "stringValue": {"shape": "String"}, "blobValue": {"shape": "Blob"},
                "timestampValue": {"shape": "Timestamp"},
                "stringList": {"shape": "StringList"}, "nested": {"shape": "Scalars"},
                "stringMap": {"shape": "StringMap"}}},
            "EmptyStructure": {"type": "structure", "members": {}},
            "StringList": {"type": "list", "member": {"shape": "String"}},
            "StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
            "Boolean": {"type": "boolean"}, "Byte": {"type": "byte"}, "Short": {"type": "short"},
            "Integer": {"type": "integer"}, "Long": {"type": "long"}, "Float": {"type": "float"},
            "Double": {"type": "double"}, "String": {"type": "string"}, "Blob": {"type": "blob"},
            "Timestamp": {"type": "timestamp"}
        },
        "cases": [
            // {_ "stringValue": (_ "Hello", ", ", "world!"), "stringList": [_ (_ "a", "b"), ""]}
            {"id": "ServerIndefiniteLengthStrings", "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "", "bodyHex": ([
                "bf".to_owned(),
                field("stringValue", &format!("7f{}{}{}ff", text("Hello"), text(", "), text("world!"))),
                field("stringList", &format!("9f7f{}{}ff{}ff", text("a"), text("b"), text(""))),
                "ff".to_owned()].concat())},
             "params": {"stringValue": "Hello, world!", "stringList": ["ab", ""]}},
            // {_ "blobValue": (_ h'666f6f', h'', h'626172')}
            {"id": "ServerIndefiniteLengthByteStrings", "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "",
                "bodyHex": format!("bf{}ff", field("blobValue", "5f43666f6f4043626172ff"))},
             "params": {"blobValue": "foobar"}},
            // Narrow encodings of wider types: half floats, 1- and 2-byte integers.
            {"id": "ServerUpcastsNarrowEncodings", "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "", "bodyHex": ([
                "a6".to_owned(),
                field("doubleValue", "f93e00"),   // f16 1.5
                field("floatValue", "f947a0"),    // f16 7.625
                field("integerValue", "1838"),    // uint8 56
                field("longValue", "190100"),     // uint16 256
                field("shortValue", "0a"),        // 10
                field("byteValue", "20")].concat())}, // -1
             "params": {"doubleValue": 1.5, "floatValue": 7.625, "integerValue": 56,
                        "longValue": 256, "shortValue": 10, "byteValue": -1}},
            // f32 in a double; an integer in a needlessly wide (but legal) encoding.
            {"id": "ServerUpcastsFloat32AndWideInts", "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "", "bodyHex": format!("a2{}{}",
                field("doubleValue", "fa40f40000"), field("longValue", "1b0000000000000001"))},
             "params": {"doubleValue": 7.625, "longValue": 1}},
            {"id": "ServerIntegerExtremes", "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "", "bodyHex": format!("a3{}{}{}",
                field("longValue", "3b7fffffffffffffff"), field("byteValue", "387f"),
                field("shortValue", "197fff"))},
             "params": {"longValue": i64::MIN, "byteValue": -128, "shortValue": 32767}},
            // {_ "timestampValue": 1(1704164645.678), "nested": {"timestampValue": 1(1704164645)}}
            {"id": "ServerTimestampsAsTaggedFloatOrInt", "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "", "bodyHex": format!("bf{}{}ff",
                field("timestampValue", "c1fb41d964df496b645a"),
                field("nested", &format!("a1{}", field("timestampValue", "c11a65937d25"))))},
             "params": {"timestampValue": 1_704_164_645.678,
                        "nested": {"timestampValue": 1_704_164_645}}},
            {"id": "ServerNoInputAllowsEmptyCbor", "given": {},
             "serialized": {"body": "v/8="}, "params": {}},
            {"id": "ServerNoInputAllowsEmptyDefiniteMap", "given": {},
             "serialized": {"body": "oA=="}, "params": {}},
            {"id": "ServerNoInputAllowsEmptyBody", "given": {},
             "serialized": {"body": ""}, "params": {}},
            {"id": "ServerEmptyInputNoBody", "given": {"input": {"shape": "EmptyStructure"}},
             "serialized": {"body": ""}, "params": {}},
            // {_ "stringValue": null, "nested": undefined, "stringMap": {"k": null, "j": "v"}}
            {"id": "ServerDoesntDeserializeNullStructureValues",
             "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "", "bodyHex": format!("bf{}{}{}ff",
                field("stringValue", "f6"), field("nested", "f7"),
                field("stringMap", &format!("a2{}f6{}{}", text("k"), text("j"), text("v"))))},
             "params": {"stringMap": {"j": "v"}}},
            // {_ "extra": {_ "a": [_ 1, f16 2.5, h'00', (_ "x")], "b": 1(0)}, "stringValue": "s"}
            {"id": "ServerSkipsUnknownMembersOfAnyShape", "given": {"input": {"shape": "Scalars"}},
             "serialized": {"body": "", "bodyHex": format!("bf{}{}ff",
                field("extra", &format!("bf{}9f01f9410041007f{}ffff{}c100ff",
                    text("a"), text("x"), text("b"))),
                field("stringValue", &text("s")))},
             "params": {"stringValue": "s"}}
        ]
    })
}

#[test]
fn hand_ported_server_cases() {
    let suite = suite(hand_ported_suite());
    let mut tally = Tally::default();
    for case in &suite.cases {
        let id = case["id"].as_str().unwrap_or_default();
        tally.record(
            "hand-ported rpc-v2-cbor",
            id,
            input_case(&suite, Codec::Cbor, case),
        );
    }
    println!("{}", tally.summary("hand-ported rpc-v2-cbor input", 0));
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
}

#[test]
fn captured_client_requests() {
    let model = ServiceModel::from_json(include_str!("../../../protocol/models/cloudwatch.json"))
        .expect("cloudwatch model");
    let put = json!({"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency",
        "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1_704_164_645,
        "Value": 12.5, "Unit": "Milliseconds"}]});
    let mut put_ms = put.clone();
    put_ms["MetricData"][0]["Timestamp"] = json!(1_704_164_645.678);
    let alarms = json!({"AlarmNames": ["a1", "a2"]});
    let cases: Vec<(&str, Codec, &str, Vec<u8>, Value)> = vec![
        (
            "aws-cli-1.45.11 json PutMetricData",
            Codec::Json,
            "PutMetricData",
            br#"{"Namespace": "MyApp", "MetricData": [{"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": 1704164645, "Value": 12.5, "Unit": "Milliseconds"}]}"#.to_vec(),
            put.clone(),
        ),
        (
            "js-v3 json PutMetricData",
            Codec::Json,
            "PutMetricData",
            br#"{"Namespace":"MyApp","MetricData":[{"MetricName":"Latency","Dimensions":[{"Name":"Host","Value":"h1"}],"Timestamp":1704164645.678,"Value":12.5,"Unit":"Milliseconds"}]}"#.to_vec(),
            put_ms.clone(),
        ),
        ("js-v3 json DescribeAlarms", Codec::Json, "DescribeAlarms", br#"{"AlarmNames":["a1","a2"]}"#.to_vec(), alarms.clone()),
        ("boto3 json DescribeAlarms no input", Codec::Json, "DescribeAlarms", b"{}".to_vec(), json!({})),
        (
            "boto3 json PutMetricData uncompressed",
            Codec::Json,
            "PutMetricData",
            br#"{"Namespace": "Big", "MetricData": [{"MetricName": "m0", "Value": 0.0, "Timestamp": 1704164645}, {"MetricName": "m1", "Value": 1.0, "Timestamp": 1704164645}, {"MetricName": "m2", "Value": 2.0, "Timestamp": 1704164645}]}"#.to_vec(),
            json!({"Namespace": "Big", "MetricData": [
                {"MetricName": "m0", "Value": 0, "Timestamp": 1_704_164_645},
                {"MetricName": "m1", "Value": 1, "Timestamp": 1_704_164_645},
                {"MetricName": "m2", "Value": 2, "Timestamp": 1_704_164_645}]}),
        ),
        (
            "aws-sdk-rust cbor PutMetricData (indefinite maps, tag 1 + f64)",
            Codec::Cbor,
            "PutMetricData",
            hex::decode(concat!(
                "bf694e616d657370616365654d794170706a4d65747269634461746181bf6a4d65747269634e61",
                "6d65674c6174656e63796a44696d656e73696f6e7381bf644e616d6564486f73746556616c7565",
                "626831ff6954696d657374616d70c1fb41d964df496b645a6556616c7565fb4029000000000000",
                "64556e69746c4d696c6c697365636f6e6473ffff"
            ))
            .unwrap(),
            put_ms,
        ),
        (
            "aws-sdk-rust cbor DescribeAlarms",
            Codec::Cbor,
            "DescribeAlarms",
            hex::decode("bf6a416c61726d4e616d657382626131626132ff").unwrap(),
            alarms.clone(),
        ),
        (
            "aws-cli forced cbor PutMetricData (tag 1 + uint)",
            Codec::Cbor,
            "PutMetricData",
            hex::decode(concat!(
                "a2694e616d657370616365654d794170706a4d65747269634461746181a56a4d65747269634e61",
                "6d65674c6174656e63796a44696d656e73696f6e7381a2644e616d6564486f73746556616c7565",
                "6268316954696d657374616d70c11a65937d256556616c7565fb402900000000000064556e6974",
                "6c4d696c6c697365636f6e6473"
            ))
            .unwrap(),
            put,
        ),
        (
            "aws-cli forced cbor DescribeAlarms",
            Codec::Cbor,
            "DescribeAlarms",
            hex::decode("a16a416c61726d4e616d657382626131626132").unwrap(),
            alarms,
        ),
        (
            "aws-cli forced cbor GetMetricStatistics",
            Codec::Cbor,
            "GetMetricStatistics",
            hex::decode(concat!(
                "a7694e616d657370616365674157532f4543326a4d65747269634e616d656e4350555574696c69",
                "7a6174696f6e6a44696d656e73696f6e7381a2644e616d656a496e7374616e636549646556616c",
                "756563692d3169537461727454696d65c11a6592008067456e6454696d65c11a65920e90665065",
                "72696f6419012c6a53746174697374696373826741766572616765674d6178696d756d"
            ))
            .unwrap(),
            json!({"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}],
                "StartTime": 1_704_067_200, "EndTime": 1_704_070_800, "Period": 300,
                "Statistics": ["Average", "Maximum"]}),
        ),
    ];
    let mut tally = Tally::default();
    for (id, codec, op, body, expected) in cases {
        let input = model.operations[op].input.clone();
        tally.record(
            "captures",
            id,
            check_decoded(&model, codec, input.as_ref(), &body, &expected),
        );
    }
    println!(
        "{}",
        tally.summary("captured client requests (cloudwatch model)", 0)
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
}
