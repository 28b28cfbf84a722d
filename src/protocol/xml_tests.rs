//! Unit and property tests of `protocol::xml`.

use super::*;
use proptest::prelude::*;
use serde_json::json;
use std::sync::OnceLock;

fn model(name: &str) -> &'static ServiceModel {
    static MODELS: OnceLock<Vec<(&'static str, ServiceModel)>> = OnceLock::new();
    let all = MODELS.get_or_init(|| {
        [
            (
                "autoscaling",
                include_str!("../../protocol/models/autoscaling.json"),
            ),
            ("ec2", include_str!("../../protocol/models/ec2.json")),
            (
                "cloudwatch",
                include_str!("../../protocol/models/cloudwatch.json"),
            ),
            ("elbv2", include_str!("../../protocol/models/elbv2.json")),
        ]
        .into_iter()
        .map(|(n, j)| (n, ServiceModel::from_json(j).expect("model parses")))
        .collect()
    });
    &all.iter().find(|(n, _)| *n == name).expect("known model").1
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("utf-8")
}

#[test]
fn query_output_layout() {
    let m = model("autoscaling");
    let op = &m.operations["DescribeAutoScalingGroups"];
    let out = json!({"AutoScalingGroups": [{
        "AutoScalingGroupName": "a<&>\r", "MinSize": 1, "MaxSize": 3.0,
        "AvailabilityZones": ["us-east-1a"], "LoadBalancerNames": [],
        "CreatedTime": 1_704_164_645.123, "NewInstancesProtectedFromScaleIn": false,
        "Tags": null
    }]});
    let xml = text(encode_query_output(m, op, &out, "rid"));
    assert_eq!(
        xml,
        "<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
         <DescribeAutoScalingGroupsResult><AutoScalingGroups><member>\
         <AutoScalingGroupName>a&lt;&amp;&gt;&#xD;</AutoScalingGroupName>\
         <MinSize>1</MinSize><MaxSize>3</MaxSize>\
         <AvailabilityZones><member>us-east-1a</member></AvailabilityZones>\
         <LoadBalancerNames/>\
         <CreatedTime>2024-01-02T03:04:05.123Z</CreatedTime>\
         <NewInstancesProtectedFromScaleIn>false</NewInstancesProtectedFromScaleIn>\
         </member></AutoScalingGroups></DescribeAutoScalingGroupsResult>\
         <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata>\
         </DescribeAutoScalingGroupsResponse>"
    );
    let op = &m.operations["DeleteAutoScalingGroup"];
    let xml = text(encode_query_output(m, op, &json!({}), "rid"));
    assert_eq!(
        xml,
        "<DeleteAutoScalingGroupResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
         <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteAutoScalingGroupResponse>"
    );
}

#[test]
fn ec2_output_layout() {
    let m = model("ec2");
    let op = &m.operations["DescribeInstances"];
    let out = json!({"Reservations": [{"ReservationId": "r-1", "Groups": [], "Instances": [{
        "InstanceId": "i-1", "State": {"Code": 16, "Name": "running"},
        "Tags": [{"Key": "Name", "Value": "web"}]
    }]}]});
    let xml = text(encode_ec2_output(m, op, &out, "rid"));
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>rid</requestId><reservationSet><item><reservationId>r-1</reservationId>\
         <groupSet/><instancesSet><item>\
         <tagSet><item><key>Name</key><value>web</value></item></tagSet>\
         <instanceId>i-1</instanceId>\
         <instanceState><code>16</code><name>running</name></instanceState>\
         </item></instancesSet></item></reservationSet></DescribeInstancesResponse>"
    );
}

#[test]
fn errors() {
    let err = ApiError::client("AlreadyExists", "exists & <bad>");
    assert_eq!(
        text(encode_query_error(Some("http://ns/"), &err, "r1")),
        "<ErrorResponse xmlns=\"http://ns/\"><Error><Type>Sender</Type><Code>AlreadyExists</Code>\
         <Message>exists &amp; &lt;bad&gt;</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
    );
    assert_eq!(
        text(encode_ec2_error(&ApiError::internal(), "r2")),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>InternalFailure</Code>\
         <Message>The request processing has failed because of an unknown error, exception or failure.</Message>\
         </Error></Errors><RequestID>r2</RequestID></Response>"
    );
    let xml = text(encode_query_error(None, &ApiError::internal(), "r3"));
    assert!(
        xml.starts_with("<ErrorResponse><Error><Type>Receiver</Type>"),
        "{xml}"
    );
}

#[test]
fn scalars() {
    assert_eq!(format_float(12.5, false), "12.5");
    assert_eq!(format_float(1.0, false), "1.0");
    assert_eq!(format_float(1e-7, false), "1e-7");
    assert_eq!(format_float(f64::from(0.1f32), true), "0.1");
    assert_eq!(format_float(f64::NEG_INFINITY, false), "-Infinity");
    assert_eq!(
        format_rfc822(1_398_796_238.0),
        "Tue, 29 Apr 2014 18:30:38 GMT"
    );
    let big = ShapeRef {
        shape: "T".into(),
        ..ShapeRef::default()
    };
    let ts: Shape = serde_json::from_value(json!({"type": "timestamp"})).expect("shape");
    assert_eq!(
        scalar_text(&big, &ts, &json!(1e300)).as_deref(),
        Some("1e300")
    );
    assert_eq!(escape_text("a\u{0}b\u{FFFF}c\td"), "a\u{FFFD}b\u{FFFD}c\td");
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,8}".prop_map(Value::String),
        Just(json!("NaN")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Reservations".to_owned()),
                    Just("Instances".to_owned()),
                    Just("AutoScalingGroups".to_owned()),
                    Just("Tags".to_owned()),
                    Just("MetricAlarms".to_owned()),
                    Just("Dimensions".to_owned()),
                    Just("Datapoints".to_owned()),
                    Just("Timestamp".to_owned()),
                    Just("State".to_owned()),
                    Just("Key".to_owned()),
                    "[A-Za-z]{1,6}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Reads the whole document with quick-xml, checking it is well formed.
fn well_formed(xml: &[u8]) -> bool {
    let text = std::str::from_utf8(xml).expect("utf-8");
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => return depth == 0,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary JSON against every output shape of four real models: never a panic, and
    /// always well-formed XML.
    #[test]
    fn encode_never_panics(value in any_json(), pick in any::<prop::sample::Index>()) {
        for name in ["autoscaling", "ec2", "cloudwatch", "elbv2"] {
            let m = model(name);
            let mut ops: Vec<&Operation> = m.operations.values().collect();
            ops.sort_by(|a, b| a.name.cmp(&b.name));
            let op = ops[pick.index(ops.len())];
            let xml = if name == "ec2" {
                encode_ec2_output(m, op, &value, "rid")
            } else {
                encode_query_output(m, op, &value, "rid")
            };
            prop_assert!(well_formed(&xml));
            // Wrap the value under each output member too, so the writer goes deep.
            if let Some(shape) = op.output.as_ref().and_then(|o| m.shape(&o.shape)) {
                for member in shape.members.keys() {
                    let wrapped = json!({ member.as_str(): value.clone() });
                    let xml = encode_query_output(m, op, &wrapped, "rid");
                    prop_assert!(well_formed(&xml));
                }
            }
        }
    }
}
