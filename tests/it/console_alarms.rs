//! CloudWatch alarms made and edited from the console, and the alarm graph's state bands; the
//! group wizard's target tracking policy with notifications to an existing topic and an ALB
//! target group. In a real headless Chromium on a frozen clock advanced from the workshop bar;
//! every change is checked with the `aws` CLI, bad input shows AWS's own error inline.

use serde_json::{Value, json};

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::console_asg::{advance, amazon_ami, cli};
use crate::console_cloudwatch::count;
use crate::webdriver::Browser;

fn alarm(s: &TestServer, name: &str) -> Value {
    cli(s, &["cloudwatch", "describe-alarms", "--alarm-names", name])["MetricAlarms"][0].clone()
}

/// One `Workshop/App Requests Page=home` value at the virtual now.
fn put(s: &TestServer, value: &str) {
    cli(
        s,
        &[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "Workshop/App",
            "--metric-name",
            "Requests",
            "--dimensions",
            "Page=home",
            "--value",
            value,
        ],
    );
}

/// Advance a minute at a time (putting `value` each minute) until the alarm is in `want`.
fn drive(b: &Browser, s: &TestServer, name: &str, value: &str, want: &str) {
    for _ in 0..5 {
        put(s, value);
        advance(b, 60);
        if alarm(s, name)["StateValue"] == want {
            return;
        }
    }
    panic!("{name} never went {want}: {}", alarm(s, name));
}

#[test]
fn console_alarm_create_edit_and_state_bands() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("alarm-form") else {
        return;
    };
    let topic = cli(&s, &["sns", "create-topic", "--name", "alarm-topic"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    put(&s, "1");
    open(&b, &s, "en", "/cw/alarms");
    b.click("#alarm-create");
    b.type_into("#alarm-name", "busy-home");
    b.type_into("#alarm-ns", "Workshop/App");
    b.type_into("#alarm-metric", "Requests");
    b.type_into("#alarm-dims", "Page=home");
    b.choose("#alarm-period", &["60"]);
    b.type_into("#alarm-threshold", "25");
    b.choose("#alarm-topic", &["alarm-topic"]);
    // No evaluation periods: CloudWatch's own validation message, inline; nothing made.
    b.type_into("#alarm-evals", "0");
    b.click("#alarm-submit");
    b.wait_text(
        "#alarm-form-result .error",
        "ValidationError: 1 validation error detected: Value '0' at 'evaluationPeriods'",
    );
    let none = cli(&s, &["cloudwatch", "describe-alarms"]);
    assert_eq!(none["MetricAlarms"], json!([]), "{none}");
    b.type_into("#alarm-evals", "1");
    b.screenshot("1-create-en");
    b.click("#alarm-submit");
    b.wait_text("main .note", "busy-home");
    b.wait_text("#alarms", "Requests >= 25 (1 × 60s)");
    let a = alarm(&s, "busy-home");
    assert_eq!(a["Namespace"], "Workshop/App", "{a}");
    assert_eq!(
        a["Dimensions"],
        json!([{"Name": "Page", "Value": "home"}]),
        "{a}"
    );
    assert_eq!(a["Period"], 60, "{a}");
    assert_eq!(a["Threshold"], 25.0, "{a}");
    assert_eq!(a["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    assert_eq!(a["AlarmActions"], json!([topic]), "{a}");

    // Busy, then quiet again: ALARM, then OK; the graph shades the span in ALARM.
    drive(&b, &s, "busy-home", "40", "ALARM");
    drive(&b, &s, "busy-home", "1", "OK");
    b.click("#alarms a[href$='busy-home']");
    b.find("svg.chart path.line");
    b.wait("one state band", |b| {
        (count(b, "svg.chart rect.band") == 1).then_some(())
    });
    assert_eq!(count(&b, "svg.chart .threshold"), 1);
    // The band lies behind the line: drawn before it, and between the chart's edges.
    let geometry = b.js(
        "const svg = document.querySelector('svg.chart'); const r = svg.querySelector('rect.band');
         const kids = [...svg.children];
         return { before: kids.indexOf(r) < kids.indexOf(svg.querySelector('path.line')),
                  x: Number(r.getAttribute('x')), w: Number(r.getAttribute('width')), width: Number(svg.getAttribute('width')) };",
        json!([]),
    );
    assert_eq!(geometry["before"], true, "{geometry}");
    let (x, w) = (
        geometry["x"].as_f64().unwrap(),
        geometry["w"].as_f64().unwrap(),
    );
    assert!(
        x > 44.0 && w > 1.0 && x + w <= geometry["width"].as_f64().unwrap() - 12.0 + 1e-6,
        "{geometry}"
    );
    b.wait_text("#alarm-bands", "(1)");
    b.screenshot("2-bands-en");

    // Edit: the form holds the alarm's values; the new threshold and comparison are saved and
    // what the form does not show (the OK action added with the CLI) is kept.
    cli(
        &s,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "busy-home",
            "--namespace",
            "Workshop/App",
            "--metric-name",
            "Requests",
            "--dimensions",
            "Name=Page,Value=home",
            "--statistic",
            "Average",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "25",
            "--comparison-operator",
            "GreaterThanOrEqualToThreshold",
            "--alarm-actions",
            &topic,
            "--ok-actions",
            &topic,
            "--alarm-description",
            "home page load",
        ],
    );
    b.click("#alarm-edit");
    b.find("#alarm-form");
    let prefilled = b.js(
        "return ['alarm-name', 'alarm-ns', 'alarm-metric', 'alarm-dims', 'alarm-period', 'alarm-threshold', 'alarm-evals', 'alarm-topic']
           .map((id) => document.getElementById(id).value);",
        json!([]),
    );
    assert_eq!(
        prefilled,
        json!([
            "busy-home",
            "Workshop/App",
            "Requests",
            "Page=home",
            "60",
            "25",
            "1",
            topic
        ])
    );
    b.type_into("#alarm-threshold", "50");
    b.choose("#alarm-op", &["GreaterThanThreshold"]);
    b.type_into("#alarm-evals", "2");
    b.click("#alarm-submit");
    b.wait_text("main dl", "Requests > 50 (2 × 60s)");
    let a = alarm(&s, "busy-home");
    assert_eq!(a["Threshold"], 50.0, "{a}");
    assert_eq!(a["EvaluationPeriods"], 2, "{a}");
    assert_eq!(a["ComparisonOperator"], "GreaterThanThreshold", "{a}");
    assert_eq!(a["OKActions"], json!([topic]), "{a}");
    assert_eq!(a["AlarmDescription"], "home page load", "{a}");
    assert_eq!(a["AlarmActions"], json!([topic]), "{a}");

    // In Korean: the detail page and its edit form.
    open(&b, &s, "ko", "/cw/alarms/busy-home");
    b.find("svg.chart rect.band");
    b.click("#alarm-edit");
    b.wait_text("#alarm-form", "측정기준");
    b.wait_text("#alarm-form", "알림 전송 대상");
    b.screenshot("3-edit-ko");
    b.assert_no_errors();
}

#[test]
fn console_group_wizard_target_tracking_existing_topic_and_target_group() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("wizard-tracking") else {
        return;
    };
    let ami = amazon_ami(&s);
    cli(
        &s,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "tt-lc",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
        ],
    );
    let topic = cli(&s, &["sns", "create-topic", "--name", "existing-topic"])["TopicArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let vpc = cli(&s, &["ec2", "describe-vpcs"])["Vpcs"][0]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    let tg = cli(
        &s,
        &[
            "elbv2",
            "create-target-group",
            "--name",
            "tt-web",
            "--protocol",
            "HTTP",
            "--port",
            "80",
            "--vpc-id",
            &vpc,
        ],
    )["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_owned();

    open(&b, &s, "en", "/asg/groups/new");
    b.type_into("#asg-form input[name=AutoScalingGroupName]", "tt-group");
    b.choose("#asg-form select[name=LaunchConfigurationName]", &["tt-lc"]);
    b.type_into("#asg-form input[name=MaxSize]", "4");
    b.click("#asg-tgs input[name=TargetGroupARNs]");
    b.click("#asg-policy-kind input[value=target]");
    // The simple policies' fields are off, the target tracking ones on.
    let disabled = b.js(
        "return ['increase-policy', 'decrease-policy', 'tracking-policy'].map((id) => document.getElementById(id).disabled);",
        json!([]),
    );
    assert_eq!(disabled, json!([true, true, false]));
    b.type_into("#asg-form input[name=TargetValue]", "40");
    b.type_into("#asg-form input[name=EstimatedInstanceWarmup]", "120");
    b.click("#asg-form input[name=AddNotification]");
    b.choose("#asg-form select[name=TopicChoice]", &[&topic]);
    b.type_into("#asg-form input[name=Email]", "ops@example.com");
    b.screenshot("1-wizard-en");
    b.click("#asg-submit");
    b.wait_text("#asg-details dl", "tt-lc");

    let g = cli(
        &s,
        &[
            "autoscaling",
            "describe-auto-scaling-groups",
            "--auto-scaling-group-names",
            "tt-group",
        ],
    );
    assert_eq!(
        g["AutoScalingGroups"][0]["TargetGroupARNs"],
        json!([tg]),
        "{g}"
    );
    let p = cli(
        &s,
        &[
            "autoscaling",
            "describe-policies",
            "--auto-scaling-group-name",
            "tt-group",
        ],
    );
    let policies = p["ScalingPolicies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{p}");
    let tt = &policies[0];
    assert_eq!(tt["PolicyType"], "TargetTrackingScaling", "{tt}");
    assert_eq!(tt["PolicyName"], "Target Tracking Policy", "{tt}");
    assert_eq!(tt["EstimatedInstanceWarmup"], 120, "{tt}");
    let cfg = &tt["TargetTrackingConfiguration"];
    assert_eq!(cfg["TargetValue"], 40.0, "{tt}");
    assert_eq!(
        cfg["PredefinedMetricSpecification"]["PredefinedMetricType"], "ASGAverageCPUUtilization",
        "{tt}"
    );
    // Auto Scaling made the policy's two alarms (none by the wizard itself).
    assert_eq!(tt["Alarms"].as_array().unwrap().len(), 2, "{tt}");
    let alarms = cli(&s, &["cloudwatch", "describe-alarms"]);
    let names: Vec<_> = alarms["MetricAlarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AlarmName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("TargetTracking-tt-group-")),
        "{names:?}"
    );
    // Notifications to the existing topic: no second topic, the e-mail subscribed to it.
    let n = cli(
        &s,
        &[
            "autoscaling",
            "describe-notification-configurations",
            "--auto-scaling-group-names",
            "tt-group",
        ],
    );
    let configs = n["NotificationConfigurations"].as_array().unwrap();
    assert_eq!(configs.len(), 4, "{n}");
    assert!(
        configs.iter().all(|c| c["TopicARN"] == topic.as_str()),
        "{n}"
    );
    let topics = cli(&s, &["sns", "list-topics"]);
    assert_eq!(topics["Topics"].as_array().unwrap().len(), 1, "{topics}");
    let subs = cli(
        &s,
        &["sns", "list-subscriptions-by-topic", "--topic-arn", &topic],
    );
    assert_eq!(
        subs["Subscriptions"][0]["Endpoint"], "ops@example.com",
        "{subs}"
    );

    // A bad target value: Auto Scaling's own error, and the wizard says what was made.
    open(&b, &s, "ko", "/asg/groups/new");
    b.type_into("#asg-form input[name=AutoScalingGroupName]", "tt-group-2");
    b.choose("#asg-form select[name=LaunchConfigurationName]", &["tt-lc"]);
    b.click("#asg-policy-kind input[value=target]");
    b.wait_text("#tracking-policy legend", "대상 추적 조정 정책");
    b.type_into("#asg-form input[name=TargetValue]", "");
    b.click("#asg-submit");
    b.wait_text(
        "#asg-form .error",
        "PutScalingPolicy (Target Tracking Policy)",
    );
    b.wait_text("#asg-form .error", "CreateAutoScalingGroup");
    b.screenshot("2-wizard-error-ko");
    b.assert_no_errors();
}
