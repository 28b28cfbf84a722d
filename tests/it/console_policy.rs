//! The console's Scaling policies tab: a simple-scaling policy edited in place keeps its ARN and
//! the alarm that invokes it; bad input shows Auto Scaling's own message and changes nothing.

use serde_json::json;

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::console_asg::{amazon_ami, cli};
use crate::webdriver::Browser;

#[test]
fn console_scaling_policy_edit_keeps_its_alarm() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("policy-edit") else {
        return;
    };
    let ami = amazon_ami(&s);
    cli(
        &s,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "pe-lc",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
        ],
    );
    cli(
        &s,
        &[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            "pe",
            "--launch-configuration-name",
            "pe-lc",
            "--min-size",
            "1",
            "--max-size",
            "3",
            "--availability-zones",
            "ap-northeast-1a",
        ],
    );
    let arn = cli(
        &s,
        &[
            "autoscaling",
            "put-scaling-policy",
            "--auto-scaling-group-name",
            "pe",
            "--policy-name",
            "add",
            "--adjustment-type",
            "ChangeInCapacity",
            "--scaling-adjustment",
            "1",
        ],
    )["PolicyARN"]
        .as_str()
        .unwrap()
        .to_owned();
    let alarm_arg = format!("--alarm-actions={arn}");
    cli(
        &s,
        &[
            "cloudwatch",
            "put-metric-alarm",
            "--alarm-name",
            "pe-high",
            "--namespace",
            "AWS/EC2",
            "--metric-name",
            "CPUUtilization",
            "--statistic",
            "Average",
            "--period",
            "60",
            "--evaluation-periods",
            "1",
            "--threshold",
            "80",
            "--comparison-operator",
            "GreaterThanOrEqualToThreshold",
            &alarm_arg,
        ],
    );
    open(&b, &s, "ko", "/asg/groups/pe");
    b.click("[data-tab=policies]");
    b.click(".edit-policy");
    b.wait_text("#policy-edit", "조정 정책 add 편집");
    // An exact capacity below zero: Auto Scaling's own message, inline; nothing changes.
    b.choose(
        "#policy-edit select[name=AdjustmentType]",
        &["ExactCapacity"],
    );
    b.type_into("#policy-edit input[name=ScalingAdjustment]", "-1");
    b.click("#policy-save");
    b.wait_text("#policy-edit", "ScalingAdjustment cannot be negative");
    b.screenshot("1-error-ko");
    let policy = |s: &TestServer| {
        cli(
            s,
            &[
                "autoscaling",
                "describe-policies",
                "--auto-scaling-group-name",
                "pe",
            ],
        )["ScalingPolicies"][0]
            .clone()
    };
    assert_eq!(policy(&s)["ScalingAdjustment"], json!(1));
    assert_eq!(policy(&s)["AdjustmentType"], json!("ChangeInCapacity"));
    // Add 2 with a 120 s cooldown: same ARN, the alarm still points at it.
    b.choose(
        "#policy-edit select[name=AdjustmentType]",
        &["ChangeInCapacity"],
    );
    b.type_into("#policy-edit input[name=ScalingAdjustment]", "2");
    b.type_into("#policy-edit input[name=Cooldown]", "120");
    b.click("#policy-save");
    b.wait_text("#main", "조정 정책 add을(를) 저장했습니다.");
    let p = b.wait("the saved policy", |_| {
        let p = policy(&s);
        (p["ScalingAdjustment"] == json!(2)).then_some(p)
    });
    assert_eq!(p["Cooldown"], json!(120), "{p}");
    assert_eq!(p["PolicyARN"], json!(arn), "{p}");
    assert_eq!(p["Alarms"][0]["AlarmName"], json!("pe-high"), "{p}");
    b.screenshot("2-saved-ko");
}
