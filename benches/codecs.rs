//! Codec throughput on big payloads, per wire protocol.
//!
//! Encode (the response side of the server):
//! - `encode/ec2`: a 1,000-instance `DescribeInstances` output through the ec2Query XML writer;
//! - `encode/{query,json,cbor}`: CloudWatch `DescribeAlarms` with 1,000 `MetricAlarms`, the
//!   largest listing of a service that speaks the other three protocols;
//! - `encode_same_tree/{query,json,cbor}`: the very same 1,000-instance tree through the other
//!   three writers (shape-driven, so they accept the ec2 model), for an apples-to-apples view.
//!
//! Decode (the request side): body bytes to the value tree.
//! - `decode/ec2`: `DescribeInstances` with 1,000 `InstanceId.N` and two filters (form parse
//!   plus `query::decode_form`, as the router and codec do it);
//! - `decode/{query,json,cbor}`: CloudWatch `PutMetricData` with 1,000 datums.
//!
//! Run with `cargo bench --bench codecs` (about 40 s); `cargo test --benches` runs each once.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use serde_json::{Value, json};
use updraft::protocol::model::{Operation, ServiceModel};
use updraft::protocol::models::{self, ServiceDef};
use updraft::protocol::query::FormFlavor;
use updraft::protocol::timestamp::format_iso8601;
use updraft::protocol::{cbor, json as json_codec, query, xml};

/// Elements per payload (instances, alarms, datums, instance ids).
const N: usize = 1_000;
/// A fixed "now" so payloads are identical run to run (2023-11-14T22:13:20Z).
const EPOCH: f64 = 1_700_000_000.0;
const REQUEST_ID: &str = "7f3c1d8e-2b4a-4c5e-9a6b-0d1e2f3a4b5c";

fn service(name: &str) -> &'static ServiceDef {
    models::by_name(name).unwrap_or_else(|| panic!("service {name} is registered"))
}

fn operation<'a>(model: &'a ServiceModel, name: &str) -> &'a Operation {
    model
        .operations
        .get(name)
        .unwrap_or_else(|| panic!("operation {name} is modelled"))
}

// ---------------------------------------------------------------------------------------------
// Payloads

/// One EC2 instance as `DescribeInstances` returns it for an Auto Scaling group member.
fn instance(i: usize) -> Value {
    let (b, c) = (i / 250, i % 250 + 4);
    let private_ip = format!("10.0.{b}.{c}");
    let public_ip = format!("54.210.{b}.{c}");
    let private_dns = format!("ip-10-0-{b}-{c}.ec2.internal");
    let public_dns = format!("ec2-54-210-{b}-{c}.compute-1.amazonaws.com");
    let subnet = format!("subnet-0{:016x}", 0xabc0 + i % 3);
    let az = ["us-east-1a", "us-east-1b", "us-east-1c"][i % 3];
    let instance_type = ["t3.micro", "t3.small", "m5.large"][i % 3];
    let launch = EPOCH + i as f64 * 7.0;
    let group = json!({"GroupId": "sg-0123456789abcdef0", "GroupName": "web"});
    let network_interface = json!({
        "Association": {"IpOwnerId": "amazon", "PublicDnsName": public_dns, "PublicIp": public_ip},
        "Attachment": {
            "AttachTime": launch,
            "AttachmentId": format!("eni-attach-{:017x}", 0x0123_4567_0000_u64 + i as u64),
            "DeleteOnTermination": true,
            "DeviceIndex": 0,
            "Status": "attached",
            "NetworkCardIndex": 0
        },
        "Description": "",
        "Groups": [group],
        "Ipv6Addresses": [],
        "MacAddress": format!("0e:12:34:{b:02x}:{c:02x}:01"),
        "NetworkInterfaceId": format!("eni-{:017x}", 0x0abc_def0_0000_u64 + i as u64),
        "OwnerId": "000000000000",
        "PrivateDnsName": private_dns,
        "PrivateIpAddress": private_ip,
        "PrivateIpAddresses": [{
            "Association": {"IpOwnerId": "amazon", "PublicIp": public_ip},
            "Primary": true,
            "PrivateDnsName": private_dns,
            "PrivateIpAddress": private_ip
        }],
        "SourceDestCheck": true,
        "Status": "in-use",
        "SubnetId": subnet,
        "VpcId": "vpc-0a1b2c3d4e5f60718",
        "InterfaceType": "interface"
    });
    let block_device = json!({
        "DeviceName": "/dev/xvda",
        "Ebs": {
            "AttachTime": launch + 1.0,
            "DeleteOnTermination": true,
            "Status": "attached",
            "VolumeId": format!("vol-{:017x}", 0x0fed_cba9_8765_0000_u64 + i as u64)
        }
    });
    let tags = json!([
        {"Key": "Name", "Value": format!("web-{i}")},
        {"Key": "aws:autoscaling:groupName", "Value": "web-asg"},
        {"Key": "env", "Value": "staging"}
    ]);
    json!({
        "InstanceId": format!("i-{:017x}", 0x0a1b_2c3d_4e5f_0000_u64 + i as u64),
        "ImageId": "ami-0fc5d935ebf8bc3bc",
        "State": {"Code": 16, "Name": "running"},
        "PrivateDnsName": private_dns,
        "PublicDnsName": public_dns,
        "StateTransitionReason": "",
        "KeyName": "deploy-key",
        "AmiLaunchIndex": i % 10,
        "ProductCodes": [],
        "InstanceType": instance_type,
        "LaunchTime": launch,
        "Placement": {"AvailabilityZone": az, "GroupName": "", "Tenancy": "default"},
        "Monitoring": {"State": "disabled"},
        "SubnetId": subnet,
        "VpcId": "vpc-0a1b2c3d4e5f60718",
        "PrivateIpAddress": private_ip,
        "PublicIpAddress": public_ip,
        "Architecture": "x86_64",
        "BlockDeviceMappings": [block_device],
        "ClientToken": format!("web-asg-{i:06}"),
        "EbsOptimized": false,
        "EnaSupport": true,
        "Hypervisor": "xen",
        "NetworkInterfaces": [network_interface],
        "RootDeviceName": "/dev/xvda",
        "RootDeviceType": "ebs",
        "SecurityGroups": [group],
        "SourceDestCheck": true,
        "Tags": tags,
        "VirtualizationType": "hvm",
        "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "UsageOperationUpdateTime": launch,
        "BootMode": "uefi-preferred",
        "CurrentInstanceBootMode": "legacy-bios"
    })
}

/// `DescribeInstances` output: 1,000 instances in reservations of 10 (one per scale-out).
fn describe_instances_output() -> Value {
    let reservations: Vec<Value> = (0..N / 10)
        .map(|r| {
            json!({
                "ReservationId": format!("r-{:017x}", 0x0bad_cafe_0000_u64 + r as u64),
                "OwnerId": "000000000000",
                "RequesterId": "940372691376",
                "Groups": [],
                "Instances": (r * 10..r * 10 + 10).map(instance).collect::<Vec<_>>()
            })
        })
        .collect();
    json!({ "Reservations": reservations })
}

/// CloudWatch `DescribeAlarms` output: 1,000 target-tracking style metric alarms.
fn describe_alarms_output() -> Value {
    let alarms: Vec<Value> = (0..N)
        .map(|i| {
            let name = format!("TargetTracking-web-asg-{i:04}-AlarmHigh-{:08x}", 0x5eed_0000 + i);
            let state = ["OK", "ALARM", "INSUFFICIENT_DATA"][i % 3];
            json!({
                "AlarmName": name,
                "AlarmArn": format!("arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"),
                "AlarmDescription": "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy.",
                "AlarmConfigurationUpdatedTimestamp": EPOCH + i as f64 + 0.123,
                "ActionsEnabled": true,
                "OKActions": [],
                "AlarmActions": [format!(
                    "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:{:08x}-1234-4abc-8def-0123456789ab:autoScalingGroupName/web-asg-{i:04}:policyName/cpu50",
                    0x1000_0000 + i
                )],
                "InsufficientDataActions": [],
                "StateValue": state,
                "StateReason": "Threshold Crossed: 3 datapoints [72.5 (14/11/23 22:10:00), 71.0 (14/11/23 22:09:00), 70.2 (14/11/23 22:08:00)] were greater than the threshold (50.0).",
                "StateReasonData": "{\"version\":\"1.0\",\"queryDate\":\"2023-11-14T22:13:20.000+0000\",\"statistic\":\"Average\",\"period\":60,\"recentDatapoints\":[72.5,71.0,70.2],\"threshold\":50.0}",
                "StateUpdatedTimestamp": EPOCH + i as f64 + 0.456,
                "StateTransitionedTimestamp": EPOCH + i as f64 + 0.456,
                "MetricName": "CPUUtilization",
                "Namespace": "AWS/EC2",
                "Statistic": "Average",
                "Dimensions": [{"Name": "AutoScalingGroupName", "Value": format!("web-asg-{i:04}")}],
                "Period": 60,
                "Unit": "Percent",
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 3,
                "Threshold": 50.0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "missing"
            })
        })
        .collect();
    json!({ "MetricAlarms": alarms, "CompositeAlarms": [] })
}

/// One `PutMetricData` datum: plain values, value/count arrays and statistic sets, mixed.
fn datum(i: usize) -> Value {
    let mut d = json!({
        "MetricName": (["RequestLatency", "QueueDepth", "CPUUtilization", "ActiveConnections"][i % 4]),
        "Dimensions": [
            {"Name": "InstanceId", "Value": format!("i-{:017x}", 0x0a1b_2c3d_4e5f_0000_u64 + i as u64)},
            {"Name": "AutoScalingGroupName", "Value": "web-asg"}
        ],
        "Timestamp": EPOCH + (i / 10) as f64,
        "Unit": (["Milliseconds", "Count", "Percent", "Count"][i % 4]),
        "StorageResolution": if i.is_multiple_of(2) { 1 } else { 60 }
    });
    let obj = d.as_object_mut().expect("object");
    match i % 3 {
        0 => {
            obj.insert("Value".into(), json!(12.5 + (i % 97) as f64 * 0.75));
        }
        1 => {
            let values: Vec<f64> = (0..5).map(|k| 10.0 + (i + k) as f64 * 0.5).collect();
            obj.insert("Values".into(), json!(values));
            obj.insert("Counts".into(), json!([1.0, 2.0, 1.0, 4.0, 1.0]));
        }
        _ => {
            obj.insert(
                "StatisticValues".into(),
                json!({"SampleCount": 60.0, "Sum": 3000.0 + i as f64, "Minimum": 1.5, "Maximum": 99.25}),
            );
        }
    }
    d
}

fn put_metric_data_input() -> Value {
    json!({ "Namespace": "Custom/WebApp", "MetricData": (0..N).map(datum).collect::<Vec<_>>() })
}

/// A number as form text.
fn num(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The awsQuery form body botocore would send for [`put_metric_data_input`].
fn put_metric_data_form(input: &Value) -> Vec<u8> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", "PutMetricData")
        .append_pair("Version", "2010-08-01");
    form.append_pair("Namespace", input["Namespace"].as_str().expect("namespace"));
    for (n, d) in input["MetricData"]
        .as_array()
        .expect("datums")
        .iter()
        .enumerate()
    {
        let p = format!("MetricData.member.{}", n + 1);
        form.append_pair(
            &format!("{p}.MetricName"),
            d["MetricName"].as_str().expect("name"),
        );
        for (k, dim) in d["Dimensions"]
            .as_array()
            .expect("dimensions")
            .iter()
            .enumerate()
        {
            let dp = format!("{p}.Dimensions.member.{}", k + 1);
            form.append_pair(
                &format!("{dp}.Name"),
                dim["Name"].as_str().expect("dim name"),
            );
            form.append_pair(
                &format!("{dp}.Value"),
                dim["Value"].as_str().expect("dim value"),
            );
        }
        let ts = d["Timestamp"].as_f64().expect("timestamp");
        form.append_pair(&format!("{p}.Timestamp"), &format_iso8601(ts));
        if let Some(v) = d.get("Value") {
            form.append_pair(&format!("{p}.Value"), &num(v));
        }
        for list in ["Values", "Counts"] {
            if let Some(items) = d.get(list).and_then(Value::as_array) {
                for (k, v) in items.iter().enumerate() {
                    form.append_pair(&format!("{p}.{list}.member.{}", k + 1), &num(v));
                }
            }
        }
        if let Some(set) = d.get("StatisticValues").and_then(Value::as_object) {
            for (k, v) in set {
                form.append_pair(&format!("{p}.StatisticValues.{k}"), &num(v));
            }
        }
        form.append_pair(&format!("{p}.Unit"), d["Unit"].as_str().expect("unit"));
        form.append_pair(
            &format!("{p}.StorageResolution"),
            &num(&d["StorageResolution"]),
        );
    }
    form.finish().into_bytes()
}

/// The ec2Query form body of `DescribeInstances` for 1,000 ids and two filters.
fn describe_instances_form() -> Vec<u8> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", "DescribeInstances")
        .append_pair("Version", "2016-11-15");
    for i in 0..N {
        let id = format!("i-{:017x}", 0x0a1b_2c3d_4e5f_0000_u64 + i as u64);
        form.append_pair(&format!("InstanceId.{}", i + 1), &id);
    }
    form.append_pair("Filter.1.Name", "instance-state-name");
    form.append_pair("Filter.1.Value.1", "pending");
    form.append_pair("Filter.1.Value.2", "running");
    form.append_pair("Filter.2.Name", "tag:aws:autoscaling:groupName");
    form.append_pair("Filter.2.Value.1", "web-asg");
    form.finish().into_bytes()
}

/// What the router does with a form body before the codec sees it.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Benchmarks

fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    // Flat sampling: every sample runs the same number of iterations, so a 30 ms iteration
    // still fits 20 samples in the measurement time (linear sampling would need 210 of them).
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
}

fn throughput(bytes: usize) -> Throughput {
    Throughput::ElementsAndBytes {
        elements: N as u64,
        bytes: bytes as u64,
    }
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn encode(c: &mut Criterion) {
    let ec2 = service("ec2").model();
    let cw = service("cloudwatch").model();
    let describe_instances = operation(ec2, "DescribeInstances");
    let describe_alarms = operation(cw, "DescribeAlarms");
    let instances = describe_instances_output();
    let alarms = describe_alarms_output();

    let ec2_body = xml::encode_ec2_output(ec2, describe_instances, &instances, REQUEST_ID);
    let query_body = xml::encode_query_output(cw, describe_alarms, &alarms, REQUEST_ID);
    let json_body = json_codec::encode_json(cw, describe_alarms.output.as_ref(), &alarms);
    let cbor_body = cbor::encode_cbor(cw, describe_alarms.output.as_ref(), &alarms);
    // The writers skip values that do not fit their shape: make sure nothing was dropped.
    let back: Value = serde_json::from_slice(&json_body).expect("JSON output parses");
    assert_eq!(
        back["MetricAlarms"].as_array().map(Vec::len),
        Some(N),
        "every alarm encoded"
    );
    assert_eq!(
        String::from_utf8_lossy(&ec2_body)
            .matches("<instanceId>")
            .count(),
        N,
        "every instance encoded"
    );
    println!(
        "encode payloads: ec2 DescribeInstances {} | CloudWatch DescribeAlarms query {}, json {}, cbor {}",
        kib(ec2_body.len()),
        kib(query_body.len()),
        kib(json_body.len()),
        kib(cbor_body.len())
    );

    let mut g = c.benchmark_group("encode");
    configure(&mut g);
    g.throughput(throughput(ec2_body.len()));
    g.bench_function("ec2/DescribeInstances", |b| {
        b.iter(|| {
            xml::encode_ec2_output(ec2, describe_instances, black_box(&instances), REQUEST_ID)
        })
    });
    g.throughput(throughput(query_body.len()));
    g.bench_function("query/DescribeAlarms", |b| {
        b.iter(|| xml::encode_query_output(cw, describe_alarms, black_box(&alarms), REQUEST_ID))
    });
    g.throughput(throughput(json_body.len()));
    g.bench_function("json/DescribeAlarms", |b| {
        b.iter(|| json_codec::encode_json(cw, describe_alarms.output.as_ref(), black_box(&alarms)))
    });
    g.throughput(throughput(cbor_body.len()));
    g.bench_function("cbor/DescribeAlarms", |b| {
        b.iter(|| cbor::encode_cbor(cw, describe_alarms.output.as_ref(), black_box(&alarms)))
    });
    g.finish();

    // The same 1,000-instance tree through the other writers (not a wire EC2 speaks).
    let out = describe_instances.output.as_ref();
    let same_query = xml::encode_query_output(ec2, describe_instances, &instances, REQUEST_ID);
    let same_json = json_codec::encode_json(ec2, out, &instances);
    let same_cbor = cbor::encode_cbor(ec2, out, &instances);
    println!(
        "same-tree payloads: DescribeInstances as query {}, json {}, cbor {}",
        kib(same_query.len()),
        kib(same_json.len()),
        kib(same_cbor.len())
    );
    let mut g = c.benchmark_group("encode_same_tree");
    configure(&mut g);
    g.measurement_time(Duration::from_secs(2));
    g.throughput(throughput(same_query.len()));
    g.bench_function("query/DescribeInstances", |b| {
        b.iter(|| {
            xml::encode_query_output(ec2, describe_instances, black_box(&instances), REQUEST_ID)
        })
    });
    g.throughput(throughput(same_json.len()));
    g.bench_function("json/DescribeInstances", |b| {
        b.iter(|| json_codec::encode_json(ec2, out, black_box(&instances)))
    });
    g.throughput(throughput(same_cbor.len()));
    g.bench_function("cbor/DescribeInstances", |b| {
        b.iter(|| cbor::encode_cbor(ec2, out, black_box(&instances)))
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let ec2 = service("ec2").model();
    let cw = service("cloudwatch").model();
    let describe_instances = operation(ec2, "DescribeInstances").input.as_ref();
    let put_metric_data = operation(cw, "PutMetricData").input.as_ref();

    let ec2_body = describe_instances_form();
    let input = put_metric_data_input();
    let query_body = put_metric_data_form(&input);
    let json_body = json_codec::encode_json(cw, put_metric_data, &input);
    let cbor_body = cbor::encode_cbor(cw, put_metric_data, &input);

    // Every body must decode to the full request, or the timings mean nothing.
    let ids = query::decode_form(
        ec2,
        describe_instances,
        &form_pairs(&ec2_body),
        FormFlavor::Ec2,
    )
    .expect("ec2 form decodes");
    assert_eq!(ids["InstanceIds"].as_array().map(Vec::len), Some(N));
    assert_eq!(ids["Filters"].as_array().map(Vec::len), Some(2));
    let decoded = [
        query::decode_form(
            cw,
            put_metric_data,
            &form_pairs(&query_body),
            FormFlavor::Query,
        )
        .expect("query form decodes"),
        json_codec::decode_json(cw, put_metric_data, &json_body).expect("JSON decodes"),
        cbor::decode_cbor(cw, put_metric_data, &cbor_body).expect("CBOR decodes"),
    ];
    for value in &decoded {
        assert_eq!(
            value["MetricData"].as_array().map(Vec::len),
            Some(N),
            "every datum decoded"
        );
        assert_eq!(
            value["MetricData"][1]["Values"].as_array().map(Vec::len),
            Some(5)
        );
    }
    println!(
        "decode payloads: ec2 DescribeInstances form {} | CloudWatch PutMetricData query {}, json {}, cbor {}",
        kib(ec2_body.len()),
        kib(query_body.len()),
        kib(json_body.len()),
        kib(cbor_body.len())
    );

    let mut g = c.benchmark_group("decode");
    configure(&mut g);
    g.throughput(throughput(ec2_body.len()));
    g.bench_function("ec2/DescribeInstances", |b| {
        b.iter(|| {
            let pairs = form_pairs(black_box(&ec2_body));
            query::decode_form(ec2, describe_instances, &pairs, FormFlavor::Ec2).expect("decodes")
        })
    });
    g.throughput(throughput(query_body.len()));
    g.bench_function("query/PutMetricData", |b| {
        b.iter(|| {
            let pairs = form_pairs(black_box(&query_body));
            query::decode_form(cw, put_metric_data, &pairs, FormFlavor::Query).expect("decodes")
        })
    });
    g.throughput(throughput(json_body.len()));
    g.bench_function("json/PutMetricData", |b| {
        b.iter(|| {
            json_codec::decode_json(cw, put_metric_data, black_box(&json_body)).expect("decodes")
        })
    });
    g.throughput(throughput(cbor_body.len()));
    g.bench_function("cbor/PutMetricData", |b| {
        b.iter(|| cbor::decode_cbor(cw, put_metric_data, black_box(&cbor_body)).expect("decodes"))
    });
    g.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
