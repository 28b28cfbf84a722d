//! Unit and property tests of `protocol::xml`.

use super::*;
use proptest::prelude::*;
use quick_xml::events::Event;
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

/// A DescribeInstances answer as the EC2 handler builds it (every kind of member: nested
/// structures, lists of structures, timestamps, booleans, integers, escapes) through both
/// writers.
#[test]
fn realistic_instances_match_the_reference() {
    let m = model("ec2");
    let op = &m.operations["DescribeInstances"];
    let instance = |n: u32| {
        json!({
            "InstanceId": format!("i-{n:017x}"), "ImageId": "ami-1", "InstanceType": "t3.micro",
            "State": {"Code": 16, "Name": "running"}, "StateTransitionReason": "",
            "PrivateDnsName": "ip-172-31-0-4.ec2.internal", "PublicDnsName": "",
            "AmiLaunchIndex": n, "ProductCodes": [], "LaunchTime": 1_704_164_645.5 + f64::from(n),
            "Placement": {"AvailabilityZone": "us-east-1a", "GroupName": "", "Tenancy": "default"},
            "Monitoring": {"State": "disabled"}, "EbsOptimized": false, "EnaSupport": true,
            "Tags": [{"Key": "Name", "Value": "web & <db>\r"}, {"Key": "env", "Value": "prod"}],
            "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "default"}],
            "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
            "MetadataOptions": {"State": "applied", "HttpTokens": "optional", "HttpPutResponseHopLimit": 1},
            "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Groups": [{"GroupId": "sg-1", "GroupName": "default"}],
                "Attachment": {"AttachTime": 1_704_164_645.0, "DeleteOnTermination": true, "DeviceIndex": 0},
                "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "172.31.0.4",
                    "Association": {"IpOwnerId": "amazon", "PublicIp": "3.80.1.2"}}]}],
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"AttachTime": 1_704_164_645.0,
                "DeleteOnTermination": true, "Status": "attached", "VolumeId": "vol-1"}}],
            "UnknownMember": "skipped", "KeyName": null,
        })
    };
    let out = json!({"Reservations": [
        {"ReservationId": "r-1", "OwnerId": "000000000000", "Groups": [], "Instances": [instance(1), instance(2)]},
        {"ReservationId": "r-2", "OwnerId": "000000000000", "Groups": [], "Instances": [instance(3)]},
    ], "NextToken": null});
    let got = text(encode_ec2_output(m, op, &out, "rid"));
    assert_eq!(got, text(reference::encode_ec2_output(m, op, &out, "rid")));
    assert!(
        got.contains("<launchTime>2024-01-02T03:04:06.500Z</launchTime>"),
        "{got}"
    );
    assert!(
        got.contains("<value>web &amp; &lt;db&gt;&#xD;</value>"),
        "{got}"
    );
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

    /// The direct writer produces exactly the bytes of the event-based one it replaced, for
    /// arbitrary values under every output member of four real models.
    #[test]
    fn same_bytes_as_the_reference_writer(value in any_json(), pick in any::<prop::sample::Index>()) {
        for name in ["autoscaling", "ec2", "cloudwatch", "elbv2"] {
            let m = model(name);
            let mut ops: Vec<&Operation> = m.operations.values().collect();
            ops.sort_by(|a, b| a.name.cmp(&b.name));
            let op = ops[pick.index(ops.len())];
            let mut values = vec![value.clone()];
            if let Some(shape) = op.output.as_ref().and_then(|o| m.shape(&o.shape)) {
                values.extend(shape.members.keys().map(|k| json!({ k.as_str(): value.clone() })));
            }
            for v in &values {
                if name == "ec2" {
                    prop_assert_eq!(
                        text(encode_ec2_output(m, op, v, "rid")),
                        text(reference::encode_ec2_output(m, op, v, "rid"))
                    );
                } else {
                    prop_assert_eq!(
                        text(encode_query_output(m, op, v, "rid")),
                        text(reference::encode_query_output(m, op, v, "rid"))
                    );
                }
            }
        }
    }

    /// The word-at-a-time escape test agrees with its byte-at-a-time definition, mostly
    /// printable text with a special byte here and there.
    #[test]
    fn escape_test_is_exact(
        bytes in prop::collection::vec(prop_oneof![15 => 0x20u8..0x7f, 1 => any::<u8>()], 0..40)
    ) {
        let bytewise = bytes
            .iter()
            .any(|&b| !(0x20..0x7f).contains(&b) || matches!(b, b'&' | b'<' | b'>'));
        prop_assert_eq!(may_need_escaping(&bytes), bytewise);
    }

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

/// The writer as it was before the direct-to-bytes one (quick-xml events, a shape lookup per
/// value): the oracle the property test below compares against, byte for byte.
mod reference {
    use quick_xml::Writer;
    use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
    use serde_json::Value;

    use super::super::{MAX_DEPTH, escape_text, scalar_text};
    use crate::protocol::model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};

    pub fn encode_ec2_output(
        model: &ServiceModel,
        operation: &Operation,
        output: &Value,
        request_id: &str,
    ) -> Vec<u8> {
        let mut out = Out::new();
        out.decl();
        let root = format!("{}Response", operation.name);
        out.start(&root, Some("http://ec2.amazonaws.com/doc/2016-11-15/"));
        out.text_element("requestId", request_id);
        if let Some(output_ref) = &operation.output {
            ValueWriter { model }.members(&mut out, output_ref, output, 0);
        }
        out.end(&root);
        out.finish()
    }

    pub fn encode_query_output(
        model: &ServiceModel,
        operation: &Operation,
        output: &Value,
        request_id: &str,
    ) -> Vec<u8> {
        let mut out = Out::new();
        let root = format!("{}Response", operation.name);
        out.start(&root, model.metadata.xml_namespace.as_deref());
        if let Some(output_ref) = &operation.output {
            let writer = ValueWriter { model };
            match output_ref.result_wrapper.as_deref() {
                Some(wrapper) => {
                    out.start(wrapper, None);
                    writer.members(&mut out, output_ref, output, 0);
                    out.end(wrapper);
                }
                None => writer.members(&mut out, output_ref, output, 0),
            }
        }
        out.start("ResponseMetadata", None);
        out.text_element("RequestId", request_id);
        out.end("ResponseMetadata");
        out.end(&root);
        out.finish()
    }

    /// The quick-xml writer over a growing buffer. Writing to a `Vec` cannot fail, so the
    /// `io::Result`s are dropped here once.
    struct Out {
        w: Writer<Vec<u8>>,
    }

    impl Out {
        fn new() -> Self {
            Self {
                w: Writer::new(Vec::with_capacity(512)),
            }
        }

        fn emit(&mut self, event: Event<'_>) {
            // Infallible for Vec<u8>.
            let _ = self.w.write_event(event);
        }

        fn decl(&mut self) {
            self.emit(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        }

        fn start(&mut self, name: &str, xmlns: Option<&str>) {
            let mut start = BytesStart::new(name);
            if let Some(ns) = xmlns {
                start.push_attribute(("xmlns", ns));
            }
            self.emit(Event::Start(start));
        }

        fn end(&mut self, name: &str) {
            self.emit(Event::End(BytesEnd::new(name)));
        }

        fn empty(&mut self, name: &str) {
            self.emit(Event::Empty(BytesStart::new(name)));
        }

        fn text_element(&mut self, name: &str, text: &str) {
            if text.is_empty() {
                self.empty(name);
                return;
            }
            self.start(name, None);
            self.emit(Event::Text(BytesText::from_escaped(escape_text(text))));
            self.end(name);
        }

        fn finish(self) -> Vec<u8> {
            self.w.into_inner()
        }
    }

    struct ValueWriter<'a> {
        model: &'a ServiceModel,
    }

    impl ValueWriter<'_> {
        fn location_name<'s>(&'s self, r: &'s ShapeRef) -> Option<&'s str> {
            r.location_name.as_deref().or_else(|| {
                self.model
                    .shape(&r.shape)
                    .and_then(|s| s.location_name.as_deref())
            })
        }

        /// The members of the structure `r` points at, without an enclosing element.
        fn members(&self, out: &mut Out, r: &ShapeRef, value: &Value, depth: usize) {
            let (Some(shape), Value::Object(object)) = (self.model.shape(&r.shape), value) else {
                return;
            };
            if depth > MAX_DEPTH || shape.kind != ShapeType::Structure {
                return;
            }
            for (name, member) in &shape.members {
                if member.location.is_some() {
                    continue;
                }
                match object.get(name) {
                    None | Some(Value::Null) => {}
                    Some(v) => {
                        let element = self.location_name(member).unwrap_or(name);
                        self.value(out, element, member, v, depth + 1);
                    }
                }
            }
        }

        /// One member as `<element>…</element>` (or several, when flattened).
        fn value(&self, out: &mut Out, element: &str, r: &ShapeRef, value: &Value, depth: usize) {
            let Some(shape) = self.model.shape(&r.shape) else {
                return;
            };
            if depth > MAX_DEPTH {
                return;
            }
            match shape.kind {
                ShapeType::Structure => {
                    if value.is_object() {
                        out.start(element, None);
                        self.members(out, r, value, depth);
                        out.end(element);
                    }
                }
                ShapeType::List => self.list(out, element, r, shape, value, depth),
                ShapeType::Map => self.map(out, element, r, shape, value, depth),
                _ => {
                    if let Some(text) = scalar_text(r, shape, value) {
                        out.text_element(element, &text);
                    }
                }
            }
        }

        fn list(
            &self,
            out: &mut Out,
            element: &str,
            r: &ShapeRef,
            shape: &Shape,
            value: &Value,
            depth: usize,
        ) {
            let (Some(member), Value::Array(items)) = (shape.member.as_ref(), value) else {
                return;
            };
            let items = items.iter().filter(|v| !v.is_null());
            if r.flattened.unwrap_or(false) || shape.flattened {
                // botocore reads a flattened list's elements under the list member's name when it
                // has one (Smithy would use the structure member's; no model of ours is flattened).
                let element = self.location_name(member).unwrap_or(element);
                for item in items {
                    self.value(out, element, member, item, depth + 1);
                }
                return;
            }
            if items.clone().next().is_none() {
                out.empty(element);
                return;
            }
            let item_element = self.location_name(member).unwrap_or("member");
            out.start(element, None);
            for item in items {
                self.value(out, item_element, member, item, depth + 1);
            }
            out.end(element);
        }

        fn map(
            &self,
            out: &mut Out,
            element: &str,
            r: &ShapeRef,
            shape: &Shape,
            value: &Value,
            depth: usize,
        ) {
            let (Some(key_ref), Some(value_ref), Value::Object(entries)) =
                (shape.key.as_ref(), shape.value.as_ref(), value)
            else {
                return;
            };
            let key_element = self.location_name(key_ref).unwrap_or("key");
            let value_element = self.location_name(value_ref).unwrap_or("value");
            let entries = entries.iter().filter(|(_, v)| !v.is_null());
            let entry = |out: &mut Out, wrapper: &str, key: &str, v: &Value| {
                out.start(wrapper, None);
                out.text_element(key_element, key);
                self.value(out, value_element, value_ref, v, depth + 1);
                out.end(wrapper);
            };
            if r.flattened.unwrap_or(false) || shape.flattened {
                for (k, v) in entries {
                    entry(out, element, k, v);
                }
                return;
            }
            if entries.clone().next().is_none() {
                out.empty(element);
                return;
            }
            out.start(element, None);
            for (k, v) in entries {
                entry(out, "entry", k, v);
            }
            out.end(element);
        }
    }
}
