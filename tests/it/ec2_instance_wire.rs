//! DescribeInstances over instances that exercise every optional member: the answer written
//! into the sink is byte for byte the one recorded before outputs were typed
//! (`testdata/describe_instances_*.xml`, from the former value-tree rendering), the tree of
//! the same typed output renders the same bytes (so members come in the model's order), and
//! both paths refuse with the same errors.

use serde_json::{Value, json};

use updraft::Config;
use updraft::context::RequestContext;
use updraft::error::ApiError;
use updraft::protocol::{Protocol, models, render};
use updraft::services;
use updraft::services::ec2::store::{InstanceState, ProfileAssociation};
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

/// A store with running, stopped and terminated instances, with and without tags, key,
/// profile, public address, extra volumes and security groups, some from a launch template.
fn varied() -> (std::sync::Arc<AppState>, Scope) {
    let state = AppState::deterministic(
        Config {
            time_scale: 0.0,
            ..Config::default()
        },
        1_765_065_600.25,
    );
    let scope = Scope::new("123456789012", "ap-northeast-2");
    let ami = images::stable_id(
        "ami",
        "ap-northeast-2",
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let call =
        |op: &str, input: Value| services::dispatch(&ctx(&scope, op), &state, input).expect(op);
    call(
        "CreateLaunchTemplate",
        json!({"LaunchTemplateName": "stream-lt",
               "LaunchTemplateData": {"ImageId": ami, "InstanceType": "t3.small"}}),
    );
    let sg = call(
        "CreateSecurityGroup",
        json!({"GroupName": "web & <api>", "Description": "second group"}),
    )["GroupId"]
        .as_str()
        .expect("group id")
        .to_owned();
    let mut ids = Vec::new();
    for (n, input) in [
        json!({"ImageId": ami, "InstanceType": "t3.micro", "MinCount": 3, "MaxCount": 3,
               "TagSpecifications": [{"ResourceType": "instance", "Tags": [
                   {"Key": "Name", "Value": "web <1> & \"two\"\r\n"},
                   {"Key": "env", "Value": "prod ✓"}]}]}),
        json!({"ImageId": ami, "InstanceType": "m5.large", "MinCount": 2, "MaxCount": 2,
               "BlockDeviceMappings": [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 8}}]}),
        json!({"LaunchTemplate": {"LaunchTemplateName": "stream-lt"}, "MinCount": 2, "MaxCount": 2}),
        json!({"ImageId": ami, "InstanceType": "t3.nano", "MinCount": 1, "MaxCount": 1,
               "ClientToken": "token-1"}),
    ]
    .into_iter()
    .enumerate()
    {
        let system = if n == 0 {
            vec![("aws:autoscaling:groupName".to_owned(), "asg-1".to_owned())]
        } else {
            Vec::new()
        };
        let out = instances::launch(&state, &scope, input, system).expect("launch");
        for i in out["Instances"].as_array().expect("instances") {
            ids.push(i["InstanceId"].as_str().expect("id").to_owned());
        }
    }
    state.stores.with(&scope, |s| {
        for (n, id) in ids.iter().enumerate() {
            let i = s.ec2.instances.get_mut(id).expect("instance");
            match n % 4 {
                0 => {
                    i.state = InstanceState::Running;
                    i.public_ip = Some(std::net::Ipv4Addr::new(54, 1, 2, n as u8));
                    i.key_name = Some("key & pair".into());
                    i.security_groups.push(sg.clone());
                    i.security_groups.push("sg-0123456789abcdef0".into());
                }
                1 => {
                    i.state = InstanceState::Stopped;
                    i.state_reason = Some("Client.UserInitiatedShutdown");
                    i.transition_reason = "User initiated (2026-11-28 05:30:00 GMT)".into();
                    i.iam_instance_profile = Some(ProfileAssociation {
                        id: "iip-assoc-0123456789abcdef0".into(),
                        arn: "arn:aws:iam::123456789012:instance-profile/web".into(),
                        profile_id: "AIPAEXAMPLEPROFILE01".into(),
                        since: 0.0,
                    });
                }
                2 => {
                    i.state = InstanceState::Terminated;
                    i.state_reason = Some("Client.UserInitiatedShutdown");
                    i.public_ip = None;
                }
                _ => {
                    i.monitoring = true;
                    i.launch_time += 0.25;
                }
            }
        }
    });
    (state, scope)
}

/// The ec2Query body of a DescribeInstances request through each path.
fn both(
    state: &AppState,
    scope: &Scope,
    form: &[(&str, &str)],
) -> (Result<Vec<u8>, ApiError>, Result<Vec<u8>, ApiError>) {
    let service = models::by_name("ec2").expect("ec2");
    let operation = service.operation("DescribeInstances").expect("modelled");
    let form: Vec<(String, String)> = [("Action", "DescribeInstances"), ("Version", "2016-11-15")]
        .iter()
        .chain(form)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let input =
        render::decode_input(service, Protocol::Ec2, operation, &form, &[]).expect("decodes");
    let ctx = ctx(scope, "DescribeInstances");
    let tree = services::dispatch(&ctx, state, input.clone())
        .map(|v| render::output(service, Protocol::Ec2, operation, &v, &ctx.request_id).body);
    let op = services::sink_operation("ec2", "DescribeInstances").expect("typed");
    let streamed =
        render::streamed_output(service, Protocol::Ec2, operation, &ctx.request_id, |sink| {
            op.write(&ctx, state, input, sink)
        })
        .map(|r| r.body);
    (tree, streamed)
}

#[test]
fn the_answer_is_the_recorded_one() {
    let (state, scope) = varied();
    let recorded = [
        (vec![], include_str!("testdata/describe_instances_all.xml")),
        (
            vec![("MaxResults", "5"), ("NextToken", "5")],
            include_str!("testdata/describe_instances_page_2.xml"),
        ),
    ];
    for (case, expected) in recorded {
        let (tree, streamed) = both(&state, &scope, &case);
        let streamed = String::from_utf8(streamed.expect("answers")).expect("utf-8");
        assert_eq!(streamed, expected, "{case:?}");
        let tree = String::from_utf8(tree.expect("answers")).expect("utf-8");
        assert_eq!(tree, expected, "{case:?}");
    }
}

#[test]
fn streamed_xml_is_the_tree_paths_byte_for_byte() {
    let (state, scope) = varied();
    let first = state.stores.with(&scope, |s| {
        s.ec2.instances.keys().take(2).cloned().collect::<Vec<_>>()
    });
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("MaxResults", "5")],
        vec![("Filter.1.Name", "tag:env"), ("Filter.1.Value.1", "prod ✓")],
        vec![
            ("Filter.1.Name", "instance-state-name"),
            ("Filter.1.Value.1", "stopped"),
        ],
        vec![
            ("Filter.1.Name", "tag:nothing"),
            ("Filter.1.Value.1", "none"),
        ],
        vec![("InstanceId.1", &first[1]), ("InstanceId.2", &first[0])],
    ];
    let mut pages = 0;
    for case in &cases {
        let (tree, streamed) = both(&state, &scope, case);
        let tree = tree.expect("tree answers");
        assert_eq!(
            String::from_utf8_lossy(&streamed.expect("stream answers")),
            String::from_utf8_lossy(&tree),
            "{case:?}"
        );
        // Follow NextToken to the end.
        let text = String::from_utf8_lossy(&tree).into_owned();
        let mut token = text
            .split_once("<nextToken>")
            .and_then(|(_, rest)| rest.split_once("</nextToken>"))
            .map(|(t, _)| t.to_owned());
        while let Some(t) = token.take() {
            pages += 1;
            let mut paged = case.clone();
            paged.push(("NextToken", &t));
            let (tree, streamed) = both(&state, &scope, &paged);
            let tree = tree.expect("tree answers");
            assert_eq!(streamed.expect("stream answers"), tree, "{paged:?}");
            let text = String::from_utf8_lossy(&tree).into_owned();
            token = text
                .split_once("<nextToken>")
                .and_then(|(_, rest)| rest.split_once("</nextToken>"))
                .map(|(t, _)| t.to_owned());
        }
    }
    assert!(pages >= 1, "pagination was exercised");
    // Every optional member appeared somewhere.
    let (tree, _) = both(&state, &scope, &[]);
    let all = String::from_utf8(tree.expect("answers")).expect("utf-8");
    for needle in [
        "<stateReason>",
        "<iamInstanceProfile>",
        "<keyName>",
        "<ipAddress>",
        "<association>",
        "<deviceName>/dev/sdf</deviceName>",
        "&amp;",
        "&#xD;",
        "<item><key>aws:ec2launchtemplate:id</key>",
        "<name>terminated</name>",
        "<networkInterfaceSet/>",
    ] {
        assert!(all.contains(needle), "{needle} missing");
    }
}

#[test]
fn streamed_errors_are_the_tree_paths() {
    let (state, scope) = varied();
    for case in [
        vec![("DryRun", "true")],
        vec![("InstanceId.1", "i-0000000000000000f")],
        vec![("InstanceId.1", "bogus")],
        vec![
            ("Filter.1.Name", "no-such-filter"),
            ("Filter.1.Value.1", "x"),
        ],
        vec![("NextToken", "not-a-token")],
        vec![("MaxResults", "2")],
    ] {
        let (tree, streamed) = both(&state, &scope, &case);
        assert_eq!(
            streamed.expect_err("stream refuses"),
            tree.expect_err("tree refuses"),
            "{case:?}"
        );
    }
}
