//! A typed output written through a sink answers the same bytes as its value tree, in every
//! protocol (the tree path is the reference: its codecs are pinned by botocore's vectors).

use serde::Serialize;

use super::{Timestamp, write_output};
use crate::protocol::Protocol;
use crate::protocol::models;
use crate::protocol::render;

/// Render `output` for `service`'s `operation` in `protocol` both ways; assert they agree.
fn same_both_ways<T: Serialize>(service: &str, operation: &str, protocol: Protocol, output: &T) {
    let tree = serde_json::to_value(output).expect("tree");
    same_as_tree(service, operation, protocol, output, &tree);
}

/// Render `output` through a sink and `tree` through the tree codec; assert they agree.
fn same_as_tree<T: Serialize>(
    service: &str,
    operation: &str,
    protocol: Protocol,
    output: &T,
    tree: &serde_json::Value,
) {
    let service = models::all()
        .iter()
        .find(|s| s.name == service)
        .expect("service");
    let op = service.operation(operation).expect("operation");
    let by_tree = render::output(service, protocol, op, tree, "rid");
    let by_sink = render::streamed_output(service, protocol, op, "rid", |sink| {
        write_output(output, sink).expect("fits");
        Ok(())
    })
    .expect("renders");
    assert_eq!(
        String::from_utf8_lossy(&by_sink.body),
        String::from_utf8_lossy(&by_tree.body),
        "{operation} in {protocol:?}"
    );
    assert_eq!(by_sink.content_type, by_tree.content_type);
    assert_eq!(by_sink.headers, by_tree.headers);
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Datapoint {
    timestamp: Timestamp,
    sample_count: Option<f64>,
    average: Option<f64>,
    maximum: Option<f64>,
    unit: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetMetricStatisticsOutput {
    label: &'static str,
    datapoints: Vec<Datapoint>,
}

#[test]
fn cloudwatch_statistics_agree_in_every_protocol() {
    let datapoints = (0..30)
        .map(|i| Datapoint {
            timestamp: Timestamp(1_765_065_600.25 + 60.0 * f64::from(i)),
            sample_count: Some(f64::from(i)),
            average: (i % 3 != 0).then_some(42.5 + f64::from(i)),
            maximum: Some(f64::NAN),
            unit: Some("Percent"),
        })
        .collect();
    let output = GetMetricStatisticsOutput {
        label: "Load <&>",
        datapoints,
    };
    for protocol in [Protocol::Query, Protocol::Json, Protocol::Cbor] {
        same_both_ways("cloudwatch", "GetMetricStatistics", protocol, &output);
    }
    let empty = GetMetricStatisticsOutput {
        label: "",
        datapoints: Vec::new(),
    };
    for protocol in [Protocol::Query, Protocol::Json, Protocol::Cbor] {
        same_both_ways("cloudwatch", "GetMetricStatistics", protocol, &empty);
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetTopicAttributesOutput {
    attributes: std::collections::BTreeMap<String, String>,
}

#[test]
fn maps_agree_with_the_tree() {
    let attributes = [("Owner", "1"), ("DisplayName", ""), ("Policy", "{\"a\":1}")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    same_both_ways(
        "sns",
        "GetTopicAttributes",
        Protocol::Query,
        &GetTopicAttributesOutput { attributes },
    );
    same_both_ways(
        "sns",
        "GetTopicAttributes",
        Protocol::Query,
        &GetTopicAttributesOutput {
            attributes: Default::default(),
        },
    );
}

#[test]
fn outputs_without_members_agree() {
    for protocol in [Protocol::Query, Protocol::Json, Protocol::Cbor] {
        same_both_ways("cloudwatch", "PutMetricData", protocol, &());
    }
    same_both_ways("sns", "DeleteTopic", Protocol::Query, &());
}

/// An awsQuery operation whose output shape has no members but a result wrapper (Auto
/// Scaling's SetInstanceProtection, AttachLoadBalancers, ...) answers `()` as its tree
/// handler's `{}` did: the empty wrapper element.
#[test]
fn empty_wrapped_outputs_agree_with_an_empty_tree() {
    for operation in [
        "SetInstanceProtection",
        "AttachLoadBalancers",
        "PutLifecycleHook",
    ] {
        let tree = serde_json::json!({});
        same_as_tree("autoscaling", operation, Protocol::Query, &(), &tree);
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupWithPolicy<'a> {
    auto_scaling_group_name: &'static str,
    mixed_instances_policy: crate::services::echo::Echo<'a>,
    min_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Groups<'a> {
    auto_scaling_groups: Vec<GroupWithPolicy<'a>>,
}

/// A kept request structure (members held by name, so alphabetically) written through
/// `Echo` answers the bytes of the tree that holds it.
#[test]
fn echoed_structures_agree_with_the_tree() {
    let policy = serde_json::json!({
        "InstancesDistribution": {"SpotAllocationStrategy": "lowest-price",
            "OnDemandBaseCapacity": 1},
        "LaunchTemplate": {
            "Overrides": [{"WeightedCapacity": "2", "InstanceType": "t3.micro"}],
            "LaunchTemplateSpecification": {"Version": "1", "LaunchTemplateName": "lt"}
        }
    });
    let output = Groups {
        auto_scaling_groups: vec![GroupWithPolicy {
            auto_scaling_group_name: "web",
            mixed_instances_policy: crate::services::echo::Echo::new(
                "autoscaling",
                "MixedInstancesPolicy",
                &policy,
            ),
            min_size: 1,
        }],
    };
    same_both_ways(
        "autoscaling",
        "DescribeAutoScalingGroups",
        Protocol::Query,
        &output,
    );
}
