//! The guided lab followed by clicks (issue 16 §1 acceptance): with the chapter lab open in
//! the side panel, a student does the chapter in the console pages (the same clicks as
//! console_chapter.rs) and the panel's checks turn green in the order the student works:
//! after each action exactly the steps that action completes are green.

use serde_json::json;

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::webdriver::Browser;

const GROUP: &str = "ExampleAutoScalingGroup";

fn advance(s: &TestServer, secs: u32) {
    for _ in 0..secs.div_ceil(5) {
        let r = s.http(
            "POST",
            "/_updraft/clock",
            &[("Content-Type", "application/json")],
            br#"{"advance_seconds": 5}"#,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(std::time::Duration::from_millis(15));
    }
}

/// The panel's green steps, in panel order.
fn green(b: &Browser) -> Vec<String> {
    let v = b.js(
        "return [...document.querySelectorAll('#lab-panel .lab-step.done')].map((d) => d.dataset.step);",
        json!([]),
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// Wait (letting virtual time pass, up to `minutes`) until exactly `want` are green. The
/// panel re-reads its status every 2 s: each round gives it 3 s of real time.
fn until_green(b: &Browser, s: &TestServer, want: &[&str], minutes: u32) {
    for round in 0..=minutes * 4 {
        for _ in 0..12 {
            let now = green(b);
            if now == want {
                return;
            }
            let extra: Vec<&String> = now.iter().filter(|x| !want.contains(&x.as_str())).collect();
            assert!(
                extra.is_empty(),
                "green too early: {extra:?} (want {want:?})"
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        if round < minutes * 4 {
            advance(s, 15);
        }
    }
    b.screenshot("timeout");
    panic!("green: {:?}, want {want:?}", green(b));
}

fn go(b: &Browser, s: &TestServer, hash: &str) {
    b.goto(&format!("{}/_updraft/console/#{hash}", s.url));
    b.find("#main h1");
    b.find("#lab-panel .lab-step");
}

#[test]
fn console_lab_followed_by_clicks_turns_green_in_order() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("lab-clicks") else {
        return;
    };
    open(&b, &s, "en", "/lab");
    b.click("#labs [data-lab='chapter19']");
    b.find("#lab-panel .lab-step");
    let mut done: Vec<&str> = Vec::new();
    let mut step = |b: &Browser, ids: &[&'static str], minutes: u32| {
        done.extend(ids);
        until_green(b, &s, &done, minutes);
    };
    step(&b, &[], 0);

    go(&b, &s, "/ec2/keypairs");
    b.type_into("#keypair-form input[name=KeyName]", "awskeypair");
    b.click("#keypair-create");
    step(&b, &["key-pair"], 1);

    go(&b, &s, "/ec2/secgroups");
    b.type_into("#sg-form input[name=GroupName]", "launch-wizard-1");
    b.type_into("#sg-form input[name=GroupDescription]", "web server");
    b.click("#sg-create");
    b.find("#sg-rules");
    b.click("#rule-add");
    step(&b, &["web-security-group"], 1);
    b.screenshot("1-security-group");

    go(&b, &s, "/ec2/launch");
    b.type_into("#launch-form input[name=Name]", "Example Server");
    b.choose("#launch-form select[name=KeyName]", &["awskeypair"]);
    b.choose(
        "#launch-form select[name=SecurityGroupId]",
        &["launch-wizard-1"],
    );
    b.type_into("#launch-form input[name=Count]", "2");
    b.click("#launch-submit");
    step(&b, &["web-servers"], 3);

    go(&b, &s, "/elb/new");
    b.type_into("#elb-form input[name=LoadBalancerName]", "exampleelb");
    b.js("document.querySelectorAll('#elb-form input[name=AvailabilityZone]').forEach((c) => { if (!c.checked) c.click(); });", json!([]));
    b.js(
        "document.querySelectorAll('#elb-form input[name=Instance]').forEach((c) => c.click());",
        json!([]),
    );
    b.click("#elb-submit");
    b.wait_text("#elb-instances", "OutOfService");
    step(&b, &["load-balancer"], 0);
    step(&b, &["in-service"], 10);
    b.screenshot("2-in-service");

    go(&b, &s, "/ec2/instances");
    b.click("#instances tr[data-id]");
    b.click("[data-act=CreateImage]");
    b.type_into("#create-image input[name=Name]", "AutoScalingAMI");
    b.click("#create-image button[type=submit]");
    step(&b, &["ami"], 10);

    go(&b, &s, "/asg/lcs/new");
    b.type_into(
        "#lc-form input[name=LaunchConfigurationName]",
        "ExampleAutoScalingConfig",
    );
    b.choose("#lc-form select[name=ImageId]", &["AutoScalingAMI"]);
    b.click("#lc-form input[name=InstanceMonitoring]");
    b.type_into(
        "#lc-form textarea[name=UserData]",
        "#!/bin/bash\nnode /home/ec2-user/ExampleServer/app.js &\n",
    );
    b.choose("#lc-form select[name=SecurityGroups]", &["launch-wizard-1"]);
    b.choose("#lc-form select[name=KeyName]", &["awskeypair"]);
    b.click("#lc-submit");
    step(&b, &["launch-configuration"], 1);

    // The group wizard makes the group, both policies with their alarms and the notification
    // in one go; the group's instance turns InService later.
    go(&b, &s, "/asg/groups/new");
    b.type_into("#asg-form input[name=AutoScalingGroupName]", GROUP);
    b.choose(
        "#asg-form select[name=LaunchConfigurationName]",
        &["ExampleAutoScalingConfig"],
    );
    b.type_into("#asg-form input[name=MaxSize]", "3");
    b.js("document.querySelectorAll('#asg-form input[name=AvailabilityZones]').forEach((c) => { if (!c.checked) c.click(); });", json!([]));
    b.click("#asg-form input[name=LoadBalancerNames][value=exampleelb]");
    b.type_into(
        "#asg-form input[name=increaseAlarmName]",
        "AutoScaling-Add-Alarm",
    );
    b.type_into(
        "#asg-form input[name=decreaseAlarmName]",
        "AutoScaling-Remove-Alarm",
    );
    b.click("#asg-form input[name=AddNotification]");
    b.type_into("#asg-form input[name=TopicName]", "AutoScalingTopic");
    b.type_into("#asg-form input[name=Email]", "student@example.com");
    b.click("#asg-submit");
    b.find("#asg-details");
    step(
        &b,
        &[
            "group",
            "group-instance",
            "scale-out-policy",
            "scale-in-policy",
            "notifications",
        ],
        10,
    );
    b.screenshot("3-group");

    go(&b, &s, "/sns/inbox");
    b.click("#inbox [data-act=confirm]");
    b.find(".note");
    step(&b, &["confirm-subscription"], 1);

    // Stress the group's instance: the Add alarm fires and the group grows to 2.
    let first = b.js(
        "return fetch('/_updraft/lab/chapter19/status?region=ap-northeast-1').then((r) => r.json()).then((s) => s.steps.find((x) => x.id === 'group-instance').found[0]);",
        json!([]),
    );
    let first = first.as_str().unwrap().to_owned();
    go(&b, &s, &format!("/ec2/instances/{first}"));
    b.click("[data-act=stress]");
    b.find(".note");
    go(&b, &s, "/loop");
    step(&b, &["scale-out"], 12);
    b.screenshot("4-scale-out");

    go(&b, &s, &format!("/ec2/instances/{first}"));
    b.click("[data-act=unstress]");
    b.find(".note");
    go(&b, &s, "/loop");
    step(&b, &["scale-in"], 20);
    b.screenshot("5-scale-in");
    b.assert_no_errors();
}
