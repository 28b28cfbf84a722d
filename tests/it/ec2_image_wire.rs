//! The typed image, volume and snapshot answers on the wire: the streamed XML is the tree
//! path's byte for byte (members in model order), and the members AWS shows in a special
//! way keep that shape (an empty `AttributeValue`, `Ebs` before `DeviceName`, an empty
//! `snapshotId`, `DeleteSnapshotResults` only when asked for).

use serde_json::{Value, json};

use updraft::Config;
use updraft::context::RequestContext;
use updraft::error::ApiError;
use updraft::protocol::{Protocol, models, render};
use updraft::services;
use updraft::services::ec2::store::InstanceState;
use updraft::services::ec2::{images, instances};
use updraft::state::{AppState, Scope};

fn ctx(scope: &Scope, operation: &str) -> RequestContext {
    RequestContext {
        request_id: "req-1".into(),
        scope: scope.clone(),
        service: "ec2",
        operation: operation.into(),
        protocol: Protocol::Ec2,
        access_key_id: None,
    }
}

/// An account with a running instance (root, a gp3 data volume kept at termination, an
/// io1 volume) and two images of it: one described and shared, one bare.
fn imaged() -> (std::sync::Arc<AppState>, Scope, String, String) {
    let state = AppState::deterministic(
        Config {
            time_scale: 0.0,
            ..Config::default()
        },
        1_765_065_600.25,
    );
    let scope = Scope::new("123456789012", "eu-west-1");
    let ami = images::stable_id(
        "ami",
        "eu-west-1",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let launch = json!({"ImageId": ami, "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1,
        "BlockDeviceMappings": [
            {"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3",
                "Throughput": 250, "DeleteOnTermination": false}},
            {"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 10, "VolumeType": "io1",
                "Iops": 500, "Encrypted": true}}]});
    let out = instances::launch(&state, &scope, launch, Vec::new()).expect("launch");
    let id = out["Instances"][0]["InstanceId"]
        .as_str()
        .expect("id")
        .to_owned();
    state.stores.with(&scope, |s| {
        s.ec2.instances.get_mut(&id).expect("instance").state = InstanceState::Running;
    });
    let call =
        |op: &str, input: Value| services::dispatch(&ctx(&scope, op), &state, input).expect(op);
    let image = |input: Value| {
        call("CreateImage", input)["ImageId"]
            .as_str()
            .expect("image id")
            .to_owned()
    };
    let shared = image(json!({"InstanceId": id, "Name": "web (a) [b]",
        "Description": "first & <best>", "NoReboot": true,
        "TagSpecifications": [{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}]}));
    let bare = image(json!({"InstanceId": id, "Name": "bare-image", "NoReboot": true}));
    call(
        "ModifyImageAttribute",
        json!({"ImageId": shared, "LaunchPermission": {"Add": [
            {"UserId": "210987654321"}, {"Group": "all"}]}}),
    );
    (state, scope, shared, bare)
}

/// The ec2Query body of `operation` through the tree path (`tree`) or through the sink.
fn body(
    state: &AppState,
    scope: &Scope,
    operation: &str,
    form: &[(&str, &str)],
    tree: bool,
) -> Result<String, ApiError> {
    let service = models::by_name("ec2").expect("ec2");
    let op_model = service.operation(operation).expect("modelled");
    let form: Vec<(String, String)> = [("Action", operation), ("Version", "2016-11-15")]
        .iter()
        .chain(form)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let input =
        render::decode_input(service, Protocol::Ec2, op_model, &form, &[]).expect("decodes");
    let ctx = ctx(scope, operation);
    let bytes = if tree {
        services::dispatch(&ctx, state, input)
            .map(|v| render::output(service, Protocol::Ec2, op_model, &v, &ctx.request_id).body)?
    } else {
        let op = services::sink_operation("ec2", operation).expect("typed");
        render::streamed_output(service, Protocol::Ec2, op_model, &ctx.request_id, |sink| {
            op.write(&ctx, state, input, sink)
        })?
        .body
    };
    Ok(String::from_utf8(bytes).expect("utf-8"))
}

/// A read through both paths: (tree, sink).
fn both(
    state: &AppState,
    scope: &Scope,
    operation: &str,
    form: &[(&str, &str)],
) -> (Result<String, ApiError>, Result<String, ApiError>) {
    (
        body(state, scope, operation, form, true),
        body(state, scope, operation, form, false),
    )
}

/// The answer through the sink, checked to be the tree path's.
fn answer(state: &AppState, scope: &Scope, operation: &str, form: &[(&str, &str)]) -> String {
    let (tree, streamed) = both(state, scope, operation, form);
    let streamed = streamed.expect("answers");
    assert_eq!(
        streamed,
        tree.expect("tree answers"),
        "{operation} {form:?}"
    );
    streamed
}

#[test]
fn listings_stream_the_tree_paths_bytes() {
    let (state, scope, shared, _) = imaged();
    for (operation, form) in [
        ("DescribeImages", vec![("Owner.1", "self")]),
        (
            "DescribeImages",
            vec![("Owner.1", "amazon"), ("MaxResults", "5")],
        ),
        ("DescribeImages", vec![("ImageId.1", shared.as_str())]),
        ("DescribeSnapshots", vec![]),
        (
            "DescribeSnapshots",
            vec![("MaxResults", "5"), ("NextToken", "5")],
        ),
        ("DescribeVolumes", vec![]),
        (
            "DescribeInstanceTypes",
            vec![("InstanceType.1", "t1.micro")],
        ),
        ("DescribeInstanceTypeOfferings", vec![("MaxResults", "5")]),
        ("DescribeRegions", vec![("AllRegions", "true")]),
    ] {
        answer(&state, &scope, operation, &form);
    }
    let images = answer(&state, &scope, "DescribeImages", &[("Owner.1", "self")]);
    assert!(images.contains("<description>first &amp; &lt;best&gt;</description>"));
    assert_eq!(images.matches("<description>").count(), 1, "{images}");
    // Each mapping's Ebs comes before its device name; io1 has no throughput.
    assert!(images.contains(
        "<volumeType>io1</volumeType><encrypted>true</encrypted></ebs><deviceName>/dev/sdc</deviceName>"
    ));
    let volumes = answer(&state, &scope, "DescribeVolumes", &[]);
    assert!(volumes.contains("<snapshotId/>"), "{volumes}");
    assert!(volumes.contains("<throughput>250</throughput>"));
    let types = answer(&state, &scope, "DescribeInstanceTypes", &[]);
    assert!(types.contains("<defaultVCpus>"), "{types}");
    assert!(types.contains("<sizeInMiB>627</sizeInMiB>"));
}

#[test]
fn image_attributes_keep_their_aws_shapes() {
    let (state, scope, shared, bare) = imaged();
    let attr = |image: &str, name: &str| {
        answer(
            &state,
            &scope,
            "DescribeImageAttribute",
            &[("ImageId", image), ("Attribute", name)],
        )
    };
    // Unset values are empty elements, not left out.
    assert!(attr(&shared, "kernel").contains("<kernel></kernel>"));
    assert!(attr(&bare, "description").contains("<description></description>"));
    assert!(attr(&shared, "productCodes").contains("<productCodes/>"));
    assert!(
        attr(&shared, "launchPermission").contains(
            "<launchPermission><item><userId>210987654321</userId></item><item><group>all</group></item></launchPermission>"
        )
    );
    let mappings = attr(&shared, "blockDeviceMapping");
    assert_eq!(mappings.matches("<deviceName>").count(), 3, "{mappings}");
    let (tree, streamed) = both(
        &state,
        &scope,
        "DescribeImageAttribute",
        &[("ImageId", &shared), ("Attribute", "bogus")],
    );
    assert_eq!(tree.unwrap_err().code, "InvalidParameterValue");
    assert_eq!(streamed.unwrap_err().code, "InvalidParameterValue");
}

#[test]
fn deregistering_lists_deleted_snapshots_only_when_asked() {
    let (state, scope, shared, bare) = imaged();
    let deregister = |form: &[(&str, &str)]| {
        body(&state, &scope, "DeregisterImage", form, false).expect("deregisters")
    };
    let plain = deregister(&[("ImageId", &bare)]);
    assert!(plain.contains("<return>true</return></DeregisterImageResponse>"));
    let with = deregister(&[("ImageId", &shared), ("DeleteAssociatedSnapshots", "true")]);
    assert_eq!(
        with.matches("<returnCode>success</returnCode>").count(),
        3,
        "{with}"
    );
    let left = answer(&state, &scope, "DescribeSnapshots", &[]);
    assert_eq!(
        left.matches("<snapshotId>").count(),
        3,
        "the bare image's: {left}"
    );
}
