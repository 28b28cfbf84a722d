//! Golden bytes: a fixed sequence of requests against a server whose clock stands still and
//! whose ids follow from a fixed seed, answered byte for byte as recorded in `tests/golden/`.
//!
//! It pins what the codecs write — status, `Content-Type` and body — for every service and
//! every protocol (ec2Query, awsQuery XML, awsJson 1.0 and rpc-v2-cbor for CloudWatch),
//! listings with data and errors included, so that a change of how outputs are built (value
//! trees, typed structs, sinks) cannot change one byte unnoticed.
//!
//! Re-record (only when a change of bytes is intended, and say why in the commit):
//!
//! ```text
//! UPDRAFT_GOLDEN_RECORD=1 cargo test --locked --test it -- golden
//! ```
//!
//! Recording runs the sequence twice on two fresh servers and refuses to write unless both
//! runs agree, so a nondeterministic answer cannot be recorded. Each step's file holds
//! `status content-type` on its first line, then the body (CBOR bodies as hex, 32 bytes a line).

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use updraft::Config;
use updraft::state::AppState;

use crate::common::TestServer;

/// 2025-12-07T00:00:00.250Z: a quarter second, so that fractional timestamps are pinned too.
const EPOCH: f64 = 1_765_065_600.25;

/// How a step's request goes on the wire.
pub enum Req {
    /// A form body (ec2Query / awsQuery); `{name}` is replaced by a captured value.
    Form(&'static str),
    /// awsJson 1.0 to CloudWatch: operation, body.
    Json(&'static str, &'static str),
    /// awsJson 1.0 to CloudWatch in query-compatible mode (`x-amzn-query-mode: true`).
    JsonQueryMode(&'static str, &'static str),
    /// rpc-v2-cbor to CloudWatch: operation, body as JSON (numbers under `StartTime` and
    /// `EndTime` become tag-1 timestamps).
    Cbor(&'static str, Value),
}

/// One request of a sequence.
pub struct Step {
    pub name: &'static str,
    pub req: Req,
    /// Values to remember from the answer: (name, text before it, text after it, which one).
    pub capture: &'static [(&'static str, &'static str, &'static str, usize)],
}

pub fn form(name: &'static str, body: &'static str) -> Step {
    Step {
        name,
        req: Req::Form(body),
        capture: &[],
    }
}

fn steps() -> Vec<Step> {
    vec![
        // ---- EC2 (ec2Query)
        form(
            "ec2-describe-vpcs",
            "Action=DescribeVpcs&Version=2016-11-15",
        ),
        Step {
            capture: &[
                ("vpc", "<vpcId>", "</vpcId>", 0),
                ("subnet_a", "<subnetId>", "</subnetId>", 0),
                ("subnet_b", "<subnetId>", "</subnetId>", 1),
            ],
            ..form(
                "ec2-describe-subnets",
                "Action=DescribeSubnets&Version=2016-11-15",
            )
        },
        form(
            "ec2-describe-availability-zones",
            "Action=DescribeAvailabilityZones&Version=2016-11-15",
        ),
        Step {
            capture: &[("ami", "<imageId>", "</imageId>", 0)],
            ..form(
                "ec2-describe-images",
                "Action=DescribeImages&Version=2016-11-15&Owner.1=amazon&Filter.1.Name=name&Filter.1.Value.1=al2023-ami-*",
            )
        },
        Step {
            capture: &[("sg", "<groupId>", "</groupId>", 0)],
            ..form(
                "ec2-create-security-group",
                "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=golden-sg&GroupDescription=golden%20%3Cweb%3E&VpcId={vpc}",
            )
        },
        form(
            "ec2-authorize-ingress",
            "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId={sg}&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0",
        ),
        form(
            "ec2-describe-security-groups",
            "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1={sg}",
        ),
        Step {
            capture: &[("instance", "<instanceId>", "</instanceId>", 0)],
            ..form(
                "ec2-run-instances",
                "Action=RunInstances&Version=2016-11-15&ImageId={ami}&InstanceType=t2.micro&MinCount=1&MaxCount=1&SecurityGroupId.1={sg}&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=golden",
            )
        },
        form(
            "ec2-describe-instances",
            "Action=DescribeInstances&Version=2016-11-15&InstanceId.1={instance}",
        ),
        form(
            "ec2-describe-instance-status",
            "Action=DescribeInstanceStatus&Version=2016-11-15&IncludeAllInstances=true",
        ),
        form(
            "ec2-create-tags",
            "Action=CreateTags&Version=2016-11-15&ResourceId.1={instance}&Tag.1.Key=env&Tag.1.Value=test",
        ),
        form(
            "ec2-describe-tags",
            "Action=DescribeTags&Version=2016-11-15&Filter.1.Name=resource-id&Filter.1.Value.1={instance}",
        ),
        form(
            "ec2-error-instance-not-found",
            "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0",
        ),
        form(
            "ec2-error-missing-parameter",
            "Action=RunInstances&Version=2016-11-15&ImageId={ami}&MaxCount=1",
        ),
        form("ec2-error-unknown-action", "Action=Nope&Version=2016-11-15"),
        // ---- Auto Scaling (awsQuery)
        form(
            "asg-create-launch-configuration",
            "Action=CreateLaunchConfiguration&Version=2011-01-01&LaunchConfigurationName=golden-lc&ImageId={ami}&InstanceType=t2.micro&SecurityGroups.member.1={sg}&UserData=IyEvYmluL3NoCmVjaG8gaGk%3D",
        ),
        form(
            "asg-describe-launch-configurations",
            "Action=DescribeLaunchConfigurations&Version=2011-01-01",
        ),
        form(
            "asg-create-group",
            "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=golden-asg&LaunchConfigurationName=golden-lc&MinSize=0&MaxSize=3&DesiredCapacity=0&AvailabilityZones.member.1=us-east-1a&Tags.member.1.Key=team&Tags.member.1.Value=golden&Tags.member.1.PropagateAtLaunch=true",
        ),
        form(
            "asg-describe-groups",
            "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.1=golden-asg",
        ),
        form(
            "asg-put-scaling-policy",
            "Action=PutScalingPolicy&Version=2011-01-01&AutoScalingGroupName=golden-asg&PolicyName=golden-up&PolicyType=SimpleScaling&AdjustmentType=ChangeInCapacity&ScalingAdjustment=1&Cooldown=60",
        ),
        form(
            "asg-describe-policies",
            "Action=DescribePolicies&Version=2011-01-01&AutoScalingGroupName=golden-asg",
        ),
        form(
            "asg-describe-activities",
            "Action=DescribeScalingActivities&Version=2011-01-01&AutoScalingGroupName=golden-asg",
        ),
        form(
            "asg-describe-tags",
            "Action=DescribeTags&Version=2011-01-01",
        ),
        form(
            "asg-describe-account-limits",
            "Action=DescribeAccountLimits&Version=2011-01-01",
        ),
        form(
            "asg-describe-adjustment-types",
            "Action=DescribeAdjustmentTypes&Version=2011-01-01",
        ),
        form(
            "asg-error-already-exists",
            "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=golden-asg&LaunchConfigurationName=golden-lc&MinSize=0&MaxSize=3&AvailabilityZones.member.1=us-east-1a",
        ),
        form(
            "asg-error-missing-parameter",
            "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=golden-x&MinSize=0",
        ),
        // ---- ELB Classic (awsQuery)
        form(
            "elb-create-load-balancer",
            "Action=CreateLoadBalancer&Version=2012-06-01&LoadBalancerName=golden-clb&Listeners.member.1.Protocol=HTTP&Listeners.member.1.LoadBalancerPort=80&Listeners.member.1.InstancePort=8080&AvailabilityZones.member.1=us-east-1a",
        ),
        form(
            "elb-describe-load-balancers",
            "Action=DescribeLoadBalancers&Version=2012-06-01",
        ),
        form(
            "elb-describe-attributes",
            "Action=DescribeLoadBalancerAttributes&Version=2012-06-01&LoadBalancerName=golden-clb",
        ),
        form(
            "elb-error-not-found",
            "Action=DescribeLoadBalancers&Version=2012-06-01&LoadBalancerNames.member.1=nope",
        ),
        // ---- ELBv2 (awsQuery)
        Step {
            capture: &[("tg", "<TargetGroupArn>", "</TargetGroupArn>", 0)],
            ..form(
                "elbv2-create-target-group",
                "Action=CreateTargetGroup&Version=2015-12-01&Name=golden-tg&Protocol=HTTP&Port=80&VpcId={vpc}",
            )
        },
        Step {
            capture: &[("alb", "<LoadBalancerArn>", "</LoadBalancerArn>", 0)],
            ..form(
                "elbv2-create-load-balancer",
                "Action=CreateLoadBalancer&Version=2015-12-01&Name=golden-alb&Subnets.member.1={subnet_a}&Subnets.member.2={subnet_b}",
            )
        },
        form(
            "elbv2-create-listener",
            "Action=CreateListener&Version=2015-12-01&LoadBalancerArn={alb}&Protocol=HTTP&Port=80&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn={tg}",
        ),
        form(
            "elbv2-describe-load-balancers",
            "Action=DescribeLoadBalancers&Version=2015-12-01",
        ),
        form(
            "elbv2-describe-target-groups",
            "Action=DescribeTargetGroups&Version=2015-12-01",
        ),
        form(
            "elbv2-describe-listeners",
            "Action=DescribeListeners&Version=2015-12-01&LoadBalancerArn={alb}",
        ),
        form(
            "elbv2-error-not-found",
            "Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=nope",
        ),
        // ---- CloudWatch (awsQuery, awsJson 1.0, rpc-v2-cbor)
        form(
            "cw-query-put-metric-data",
            "Action=PutMetricData&Version=2010-08-01&Namespace=Golden&MetricData.member.1.MetricName=Load&MetricData.member.1.Value=42.5&MetricData.member.1.Unit=Percent&MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1.Value=a",
        ),
        form(
            "cw-query-list-metrics",
            "Action=ListMetrics&Version=2010-08-01&Namespace=Golden",
        ),
        form(
            "cw-query-get-metric-statistics",
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=Golden&MetricName=Load&Dimensions.member.1.Name=Host&Dimensions.member.1.Value=a&StartTime=2025-12-06T23:00:00Z&EndTime=2025-12-07T01:00:00Z&Period=60&Statistics.member.1=Average&Statistics.member.2=SampleCount",
        ),
        form(
            "cw-query-put-metric-alarm",
            "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=golden-high&MetricName=Load&Namespace=Golden&Statistic=Average&Period=60&EvaluationPeriods=1&Threshold=80&ComparisonOperator=GreaterThanOrEqualToThreshold&Dimensions.member.1.Name=Host&Dimensions.member.1.Value=a",
        ),
        form(
            "cw-query-describe-alarms",
            "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=golden-high",
        ),
        form(
            "cw-query-error-invalid-parameter",
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=Golden&MetricName=Load&StartTime=2025-12-06T23:00:00Z&EndTime=2025-12-07T01:00:00Z&Period=7&Statistics.member.1=Average",
        ),
        Step {
            name: "cw-json-list-metrics",
            req: Req::Json("ListMetrics", r#"{"Namespace":"Golden"}"#),
            capture: &[],
        },
        Step {
            name: "cw-json-get-metric-statistics",
            req: Req::Json(
                "GetMetricStatistics",
                r#"{"Namespace":"Golden","MetricName":"Load","Dimensions":[{"Name":"Host","Value":"a"}],"StartTime":1765062000,"EndTime":1765069200,"Period":60,"Statistics":["Average","Maximum"]}"#,
            ),
            capture: &[],
        },
        Step {
            name: "cw-json-describe-alarms",
            req: Req::Json("DescribeAlarms", r#"{"AlarmNames":["golden-high"]}"#),
            capture: &[],
        },
        Step {
            name: "cw-json-list-dashboards",
            req: Req::Json("ListDashboards", "{}"),
            capture: &[],
        },
        Step {
            name: "cw-json-error-not-found",
            req: Req::Json("DeleteDashboards", r#"{"DashboardNames":["nope"]}"#),
            capture: &[],
        },
        Step {
            name: "cw-json-error-query-mode",
            req: Req::JsonQueryMode("DeleteDashboards", r#"{"DashboardNames":["nope"]}"#),
            capture: &[],
        },
        Step {
            name: "cw-json-error-missing-parameter",
            req: Req::Json("GetMetricStatistics", r#"{"Namespace":"Golden"}"#),
            capture: &[],
        },
        Step {
            name: "cw-cbor-list-metrics",
            req: Req::Cbor("ListMetrics", json!({"Namespace": "Golden"})),
            capture: &[],
        },
        Step {
            name: "cw-cbor-get-metric-statistics",
            req: Req::Cbor(
                "GetMetricStatistics",
                json!({"Namespace": "Golden", "MetricName": "Load",
                    "Dimensions": [{"Name": "Host", "Value": "a"}],
                    "StartTime": 1_765_062_000, "EndTime": 1_765_069_200, "Period": 60,
                    "Statistics": ["Average", "Minimum"]}),
            ),
            capture: &[],
        },
        Step {
            name: "cw-cbor-describe-alarms",
            req: Req::Cbor("DescribeAlarms", json!({})),
            capture: &[],
        },
        Step {
            name: "cw-cbor-error-not-found",
            req: Req::Cbor("DeleteDashboards", json!({"DashboardNames": ["nope"]})),
            capture: &[],
        },
        // ---- SNS (awsQuery)
        Step {
            capture: &[("topic", "<TopicArn>", "</TopicArn>", 0)],
            ..form(
                "sns-create-topic",
                "Action=CreateTopic&Version=2010-03-31&Name=golden-topic",
            )
        },
        Step {
            capture: &[("quiet", "<TopicArn>", "</TopicArn>", 0)],
            ..form(
                "sns-create-quiet-topic",
                "Action=CreateTopic&Version=2010-03-31&Name=golden-quiet&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Quiet",
            )
        },
        form(
            "sns-set-topic-attributes",
            "Action=SetTopicAttributes&Version=2010-03-31&TopicArn={topic}&AttributeName=DisplayName&AttributeValue=Golden%20%26%20Co",
        ),
        form(
            "sns-get-topic-attributes",
            "Action=GetTopicAttributes&Version=2010-03-31&TopicArn={topic}",
        ),
        Step {
            capture: &[("subscription", "<SubscriptionArn>", "</SubscriptionArn>", 0)],
            ..form(
                "sns-subscribe",
                "Action=Subscribe&Version=2010-03-31&TopicArn={topic}&Protocol=sqs&Endpoint=arn:aws:sqs:us-east-1:000000000000:golden-q",
            )
        },
        form(
            "sns-get-subscription-attributes",
            "Action=GetSubscriptionAttributes&Version=2010-03-31&SubscriptionArn={subscription}",
        ),
        form("sns-list-topics", "Action=ListTopics&Version=2010-03-31"),
        form(
            "sns-list-subscriptions",
            "Action=ListSubscriptions&Version=2010-03-31",
        ),
        form(
            "sns-list-subscriptions-by-topic",
            "Action=ListSubscriptionsByTopic&Version=2010-03-31&TopicArn={topic}",
        ),
        form(
            "sns-tag-resource",
            "Action=TagResource&Version=2010-03-31&ResourceArn={topic}&Tags.member.1.Key=team&Tags.member.1.Value=golden",
        ),
        form(
            "sns-list-tags",
            "Action=ListTagsForResource&Version=2010-03-31&ResourceArn={topic}",
        ),
        form(
            "sns-publish",
            "Action=Publish&Version=2010-03-31&TopicArn={quiet}&Message=hello&Subject=hi",
        ),
        form(
            "sns-error-not-found",
            "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:000000000000:nope",
        ),
        form(
            "sns-error-missing-message",
            "Action=Publish&Version=2010-03-31&TopicArn={quiet}",
        ),
        form(
            "sns-error-invalid-name",
            "Action=CreateTopic&Version=2010-03-31&Name=bad%20name",
        ),
    ]
}

/// What one step answered, as the golden file holds it.
fn rendered(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{status} {content_type}\n").into_bytes();
    if content_type == "application/cbor" {
        for chunk in body.chunks(32) {
            for b in chunk {
                out.extend_from_slice(format!("{b:02x}").as_bytes());
            }
            out.push(b'\n');
        }
    } else {
        out.extend_from_slice(body);
    }
    out
}

/// `{name}` replaced by the captured values.
fn fill(text: &str, captured: &HashMap<&str, String>) -> String {
    let mut text = text.to_owned();
    for (name, value) in captured {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    assert!(
        !text.contains('{') || text.starts_with('{'),
        "unfilled: {text}"
    );
    text
}

/// A JSON value as CBOR (see [`Req::Cbor`]).
fn cbor(value: &Value, key: Option<&str>, e: &mut minicbor::Encoder<&mut Vec<u8>>) {
    match value {
        Value::Object(map) => {
            e.map(map.len() as u64).unwrap();
            for (k, v) in map {
                e.str(k).unwrap();
                cbor(v, Some(k), e);
            }
        }
        Value::Array(items) => {
            e.array(items.len() as u64).unwrap();
            for v in items {
                cbor(v, None, e);
            }
        }
        Value::String(s) => {
            e.str(s).unwrap();
        }
        Value::Number(n) if matches!(key, Some("StartTime" | "EndTime")) => {
            e.tag(minicbor::data::Tag::new(1))
                .unwrap()
                .f64(n.as_f64().unwrap())
                .unwrap();
        }
        Value::Number(n) => {
            match n.as_i64() {
                Some(i) => e.i64(i).unwrap(),
                None => e.f64(n.as_f64().unwrap()).unwrap(),
            };
        }
        Value::Bool(b) => {
            e.bool(*b).unwrap();
        }
        Value::Null => {
            e.null().unwrap();
        }
    }
}

/// Run every step on a fresh deterministic server; (step name, golden text) in order.
fn run(steps: &dyn Fn() -> Vec<Step>) -> Vec<(&'static str, Vec<u8>)> {
    let server = TestServer::with_state(
        Config {
            time_scale: 0.0,
            ..Config::default()
        },
        |config| AppState::deterministic(config, EPOCH),
    );
    let mut captured: HashMap<&str, String> = HashMap::new();
    let mut out = Vec::new();
    for step in steps() {
        let response = match &step.req {
            Req::Form(body) => server.form(&fill(body, &captured)),
            Req::Json(op, body) | Req::JsonQueryMode(op, body) => {
                let target = format!("GraniteServiceVersion20100801.{op}");
                let mut headers = vec![
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("X-Amz-Target", target.as_str()),
                ];
                if matches!(step.req, Req::JsonQueryMode(..)) {
                    headers.push(("x-amzn-query-mode", "true"));
                }
                server.http("POST", "/", &headers, body.as_bytes())
            }
            Req::Cbor(op, body) => {
                let mut bytes = Vec::new();
                cbor(body, None, &mut minicbor::Encoder::new(&mut bytes));
                let path = format!("/service/GraniteServiceVersion20100801/operation/{op}");
                let headers = [
                    ("Content-Type", "application/cbor"),
                    ("Smithy-Protocol", "rpc-v2-cbor"),
                ];
                server.http("POST", &path, &headers, &bytes)
            }
        };
        let text = String::from_utf8_lossy(&response.body).into_owned();
        for (name, before, after, nth) in step.capture {
            let value = text
                .split(before)
                .nth(nth + 1)
                .and_then(|rest| rest.split(after).next())
                .unwrap_or_else(|| panic!("{}: no {before} #{nth} in {text}", step.name));
            captured.insert(name, value.to_owned());
        }
        let content_type = response.header("content-type").unwrap_or("").to_owned();
        out.push((
            step.name,
            rendered(response.status, &content_type, &response.body),
        ));
    }
    out
}

fn golden_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

fn file_name(index: usize, name: &str) -> String {
    format!("{index:02}-{name}.txt")
}

#[test]
fn responses_match_the_recorded_bytes() {
    check("golden", &steps);
}

/// Run `steps` and compare each answer with its file under `tests/<dir>` (or record them).
pub fn check(dir: &str, steps: &dyn Fn() -> Vec<Step>) {
    let dir = golden_dir(dir);
    let first = run(steps);
    if std::env::var_os("UPDRAFT_GOLDEN_RECORD").is_some() {
        let second = run(steps);
        for ((name, a), (_, b)) in first.iter().zip(&second) {
            assert!(
                a == b,
                "{name} answered differently on two runs; it cannot be recorded:\n{}\n---\n{}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            );
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        for (index, (name, bytes)) in first.iter().enumerate() {
            std::fs::write(dir.join(file_name(index, name)), bytes).unwrap();
        }
        return;
    }
    let mut recorded: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/golden exists (record it with UPDRAFT_GOLDEN_RECORD=1)")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    recorded.sort();
    let expected: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(i, (name, _))| file_name(i, name))
        .collect();
    assert_eq!(recorded, expected, "the recorded steps are not this test's");
    let mut differing = Vec::new();
    for (index, (name, bytes)) in first.iter().enumerate() {
        let want = std::fs::read(dir.join(file_name(index, name))).unwrap();
        if &want != bytes {
            differing.push(format!(
                "{name}:\n  recorded: {}\n  now:      {}",
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(bytes)
            ));
        }
    }
    assert!(
        differing.is_empty(),
        "{} answers changed:\n{}",
        differing.len(),
        differing.join("\n")
    );
}
