//! Unit and property tests of `protocol::query`.

use super::*;
use proptest::prelude::*;
use serde_json::json;
use std::sync::OnceLock;

fn autoscaling() -> &'static ServiceModel {
    static M: OnceLock<ServiceModel> = OnceLock::new();
    M.get_or_init(|| {
        ServiceModel::from_json(include_str!("../../protocol/models/autoscaling.json"))
            .expect("autoscaling model")
    })
}

fn ec2() -> &'static ServiceModel {
    static M: OnceLock<ServiceModel> = OnceLock::new();
    M.get_or_init(|| {
        ServiceModel::from_json(include_str!("../../protocol/models/ec2.json")).expect("ec2 model")
    })
}

fn cloudwatch() -> &'static ServiceModel {
    static M: OnceLock<ServiceModel> = OnceLock::new();
    M.get_or_init(|| {
        ServiceModel::from_json(include_str!("../../protocol/models/cloudwatch.json"))
            .expect("cloudwatch model")
    })
}

fn form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn decode(model: &ServiceModel, op: &str, body: &str, flavor: FormFlavor) -> Value {
    let op = &model.operations[op];
    decode_form(model, op.input.as_ref(), &form(body), flavor).expect("decodes")
}

#[test]
fn captured_create_auto_scaling_group() {
    let body = "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=asg1&LaunchTemplate.LaunchTemplateName=lt1&LaunchTemplate.Version=%24Latest&MinSize=1&MaxSize=3&AvailabilityZones.member.1=us-east-1a&AvailabilityZones.member.2=us-east-1b&NewInstancesProtectedFromScaleIn=true&Tags.member.1.Key=env&Tags.member.1.Value=dev&Tags.member.1.PropagateAtLaunch=true";
    let value = decode(
        autoscaling(),
        "CreateAutoScalingGroup",
        body,
        FormFlavor::Query,
    );
    assert_eq!(
        value,
        json!({
            "AutoScalingGroupName": "asg1",
            "LaunchTemplate": {"LaunchTemplateName": "lt1", "Version": "$Latest"},
            "MinSize": 1, "MaxSize": 3,
            "AvailabilityZones": ["us-east-1a", "us-east-1b"],
            "NewInstancesProtectedFromScaleIn": true,
            "Tags": [{"Key": "env", "Value": "dev", "PropagateAtLaunch": true}]
        })
    );
}

#[test]
fn captured_ec2_describe_instances_and_ingress() {
    let body = "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1234567890abcdef0&InstanceId.2=i-0598c7d356eba48d7&DryRun=true&Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=pending";
    let value = decode(ec2(), "DescribeInstances", body, FormFlavor::Ec2);
    assert_eq!(
        value,
        json!({
            "InstanceIds": ["i-1234567890abcdef0", "i-0598c7d356eba48d7"],
            "DryRun": true,
            "Filters": [{"Name": "instance-state-name", "Values": ["running", "pending"]}]
        })
    );
    let body = "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8&IpPermissions.1.IpRanges.1.Description=ssh";
    let value = decode(
        ec2(),
        "AuthorizeSecurityGroupIngress",
        body,
        FormFlavor::Ec2,
    );
    assert_eq!(
        value,
        json!({
            "GroupId": "sg-1",
            "IpPermissions": [{
                "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh"}]
            }]
        })
    );
}

#[test]
fn empty_list_and_order_and_gaps() {
    let value = decode(
        autoscaling(),
        "DescribeAutoScalingGroups",
        "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames=",
        FormFlavor::Query,
    );
    assert_eq!(value, json!({"AutoScalingGroupNames": []}));
    let value = decode(
        autoscaling(),
        "DescribeAutoScalingGroups",
        "AutoScalingGroupNames.member.10=c&AutoScalingGroupNames.member.2=b&AutoScalingGroupNames.member.1=a&AutoScalingGroupNames.member.99999999999=d&AutoScalingGroupNames.member.x=ignored",
        FormFlavor::Query,
    );
    assert_eq!(
        value,
        json!({"AutoScalingGroupNames": ["a", "b", "c", "d"]})
    );
}

#[test]
fn timestamps_and_floats() {
    let body = "Namespace=MyApp&MetricData.member.1.MetricName=Latency&MetricData.member.1.Timestamp=2024-01-02T03%3A04%3A05.678000Z&MetricData.member.1.Value=12.5&MetricData.member.2.MetricName=x&MetricData.member.2.Value=NaN&MetricData.member.2.Timestamp=1704067200&MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1.Value=h1";
    let value = decode(cloudwatch(), "PutMetricData", body, FormFlavor::Query);
    assert_eq!(
        value,
        json!({
            "Namespace": "MyApp",
            "MetricData": [
                {"MetricName": "Latency", "Timestamp": 1_704_164_645.678, "Value": 12.5,
                 "Dimensions": [{"Name": "Host", "Value": "h1"}]},
                {"MetricName": "x", "Value": "NaN", "Timestamp": 1_704_067_200}
            ]
        })
    );
}

#[test]
fn invalid_values_name_the_wire_key() {
    let model = autoscaling();
    let op = &model.operations["CreateAutoScalingGroup"];
    let err = decode_form(
        model,
        op.input.as_ref(),
        &form("MinSize=1.5"),
        FormFlavor::Query,
    )
    .unwrap_err();
    assert_eq!(
        err,
        DecodeError::Invalid {
            path: "MinSize".into(),
            expected: "integer",
            got: "1.5".into()
        }
    );
    let err = decode_form(
        model,
        op.input.as_ref(),
        &form("Tags.member.1.Key=a&Tags.member.1.PropagateAtLaunch=yes"),
        FormFlavor::Query,
    )
    .unwrap_err();
    assert!(
        matches!(&err, DecodeError::Invalid { path, expected: "boolean", .. } if path == "Tags.member.1.PropagateAtLaunch"),
        "{err:?}"
    );
    let err = decode_form(
        model,
        op.input.as_ref(),
        &form("MaxSize=99999999999"),
        FormFlavor::Query,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        DecodeError::Invalid {
            expected: "integer",
            ..
        }
    ));
}

#[test]
fn blobs_are_checked_and_repaired() {
    let model = ec2();
    let input = model.operations["ImportKeyPair"].input.as_ref();
    let ok = decode_form(
        model,
        input,
        &form("PublicKeyMaterial=aGVsbG8%3D"),
        FormFlavor::Ec2,
    )
    .expect("valid");
    assert_eq!(ok["PublicKeyMaterial"], json!("aGVsbG8="));
    // `+` sent raw becomes a space after form decoding.
    let repaired = decode_form(
        model,
        input,
        &form("PublicKeyMaterial=ab+c"),
        FormFlavor::Ec2,
    )
    .expect("repaired");
    assert_eq!(repaired["PublicKeyMaterial"], json!("ab+c"));
    let err = decode_form(
        model,
        input,
        &form("PublicKeyMaterial=%25%25"),
        FormFlavor::Ec2,
    )
    .unwrap_err();
    assert_eq!(
        err,
        DecodeError::Invalid {
            path: "PublicKeyMaterial".into(),
            expected: "blob",
            got: "%%".into()
        }
    );
}

#[test]
fn no_input_is_empty_object() {
    let value = decode_form(
        autoscaling(),
        None,
        &form("Action=X&Foo=1"),
        FormFlavor::Query,
    );
    assert_eq!(value, Ok(json!({})));
}

#[test]
fn rfc822_timestamps() {
    assert_eq!(
        parse_timestamp("Tue, 29 Apr 2014 18:30:38 GMT", Some("rfc822")),
        Some(1_398_796_238.0)
    );
    assert_eq!(
        parse_timestamp("1398796238", Some("unixTimestamp")),
        Some(1_398_796_238.0)
    );
}

/// 1000 datums × 6 fields, shuffled: decoding stays fast (no quadratic scans).
#[test]
fn big_put_metric_data_is_linearithmic() {
    let mut params = Vec::new();
    for i in (1..=1000).rev() {
        let p = format!("MetricData.member.{i}");
        params.push((format!("{p}.MetricName"), format!("m{i}")));
        params.push((format!("{p}.Value"), format!("{i}.5")));
        params.push((format!("{p}.Unit"), "Count".to_owned()));
        params.push((format!("{p}.Timestamp"), "2024-01-01T00:00:00Z".to_owned()));
        params.push((format!("{p}.Dimensions.member.1.Name"), "Host".to_owned()));
        params.push((format!("{p}.Dimensions.member.1.Value"), format!("h{i}")));
    }
    params.push(("Namespace".to_owned(), "App".to_owned()));
    let model = cloudwatch();
    let op = &model.operations["PutMetricData"];
    let started = std::time::Instant::now();
    let value = decode_form(model, op.input.as_ref(), &params, FormFlavor::Query).expect("decodes");
    let elapsed = started.elapsed();
    let data = value["MetricData"].as_array().expect("list");
    assert_eq!(data.len(), 1000);
    assert_eq!(data[0]["MetricName"], json!("m1"));
    assert_eq!(data[999]["Dimensions"][0]["Value"], json!("h1000"));
    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "took {elapsed:?}"
    );
}

fn key_strategy() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("member".to_owned()),
        Just("entry".to_owned()),
        Just("key".to_owned()),
        Just("value".to_owned()),
        Just("Tags".to_owned()),
        Just("AutoScalingGroupNames".to_owned()),
        Just("LaunchTemplate".to_owned()),
        Just("MinSize".to_owned()),
        Just("InstanceId".to_owned()),
        Just("Filter".to_owned()),
        Just("Value".to_owned()),
        Just("TagSpecification".to_owned()),
        Just("Tag".to_owned()),
        Just("BlockDeviceMapping".to_owned()),
        Just("Ebs".to_owned()),
        Just("NetworkInterface".to_owned()),
        Just("UserData".to_owned()),
        Just("99999999999".to_owned()),
        Just("18446744073709551615".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("0".to_owned()),
        (1u64..5).prop_map(|n| n.to_string()),
        "[A-Za-z0-9]{0,6}",
    ];
    prop::collection::vec(segment, 1..7).prop_map(|segments| segments.join("."))
}

fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("true".to_owned()),
        Just("NaN".to_owned()),
        Just("-Infinity".to_owned()),
        Just("2024-01-01T00:00:00Z".to_owned()),
        Just("aGVsbG8=".to_owned()),
        "-?[0-9]{1,25}(\\.[0-9]{0,3})?",
        ".{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary pairs against every input shape of two real models: never a panic, and
    /// only `Invalid`/`Malformed` errors.
    #[test]
    fn decode_never_panics(
        params in prop::collection::vec((key_strategy(), value_strategy()), 0..40),
        ops in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        for (model, flavor) in [(autoscaling(), FormFlavor::Query), (ec2(), FormFlavor::Ec2), (ec2(), FormFlavor::Query)] {
            let mut names: Vec<&String> = model.operations.keys().collect();
            names.sort();
            for index in &ops {
                let op = &model.operations[names[index.index(names.len())]];
                let _ = decode_form(model, op.input.as_ref(), &params, flavor);
            }
        }
    }
}
