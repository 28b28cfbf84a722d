//! The seed chapter (ch. 19, Auto Scaling, of the 2014 Korean book
//! "아마존 웹 서비스를 다루는 기술" by Lee Jae-hong, with the prerequisites it takes from
//! earlier chapters) by clicks in the console, in Korean and in English, on a frozen clock
//! advanced from the workshop bar: key pair, security group with HTTP, two instances, Classic
//! ELB `exampleelb` turning InService, Create Image `AutoScalingAMI`, launch configuration,
//! group 1–3 behind the ELB with the two policies and alarms and an e-mail notification;
//! stress → ALARM → 2 instances with the alarm's cause sentence; clear → back to 1; the inbox
//! holds the launch and terminate mails.

use serde_json::json;

use crate::console::{frozen, open};
use crate::webdriver::Browser;

const GROUP: &str = "ExampleAutoScalingGroup";

fn advance(b: &Browser, secs: u32) {
    b.click(&format!("#workshop [data-advance=\"{secs}\"]"));
    b.wait(&format!("advance {secs} s"), |b| {
        (b.js("return window.__advancing === false;", json!([])) == json!(true)).then_some(())
    });
}

/// Advance a minute at a time until `css` shows `needle` (at most `minutes`).
fn until(b: &Browser, css: &str, needle: &str, minutes: u32) {
    for _ in 0..minutes {
        if b.text(css).contains(needle) {
            return;
        }
        advance(b, 60);
        std::thread::sleep(std::time::Duration::from_millis(400));
    }
    b.wait_text(css, needle);
}

fn count(b: &Browser, css: &str, needle: &str) -> usize {
    b.text(css).matches(needle).count()
}

fn go(b: &Browser, url: &str, hash: &str) {
    b.goto(&format!("{url}/_updraft/console/#{hash}"));
    b.find("#main h1");
}

fn chapter(lang: &str) {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start(&format!("chapter-{lang}")) else {
        return;
    };
    let url = s.url.clone();
    open(&b, &s, lang, "/ec2/keypairs");

    // Key pair and a security group with HTTP.
    b.type_into("#keypair-form input[name=KeyName]", "awskeypair");
    b.click("#keypair-create");
    b.find("#keypairs tr[data-id=awskeypair]");
    go(&b, &url, "/ec2/secgroups");
    b.type_into("#sg-form input[name=GroupName]", "launch-wizard-1");
    b.type_into("#sg-form input[name=GroupDescription]", "web server");
    b.click("#sg-create");
    b.find("#sg-rules");
    b.click("#rule-add");
    b.wait_text("#secgroups", "tcp 80");
    b.screenshot("1-security-group");

    // Two web servers.
    go(&b, &url, "/ec2/launch");
    b.type_into("#launch-form input[name=Name]", "Example Server");
    b.choose("#launch-form select[name=KeyName]", &["awskeypair"]);
    b.choose(
        "#launch-form select[name=SecurityGroupId]",
        &["launch-wizard-1"],
    );
    b.type_into("#launch-form input[name=Count]", "2");
    b.click("#launch-submit");
    b.click("#view-instances");
    advance(&b, 60);
    b.wait("two running instances", |b| {
        (count(b, "#instances", "running") == 2).then_some(())
    });
    b.screenshot("2-instances");

    // Classic ELB with both; its Instances tab turns InService (10 × 30 s).
    go(&b, &url, "/elb/new");
    b.type_into("#elb-form input[name=LoadBalancerName]", "exampleelb");
    b.js("document.querySelectorAll('#elb-form input[name=AvailabilityZone]').forEach((c) => { if (!c.checked) c.click(); });", json!([]));
    b.js(
        "document.querySelectorAll('#elb-form input[name=Instance]').forEach((c) => c.click());",
        json!([]),
    );
    b.click("#elb-submit");
    b.wait_text("#elb-instances", "OutOfService");
    b.screenshot("3-elb-out-of-service");
    advance(&b, 300);
    until(&b, "#elb-instances", "InService", 6);
    b.wait("both InService", |b| {
        (count(b, "#elb-instances", "InService") == 2).then_some(())
    });
    b.screenshot("4-elb-in-service");

    // Create Image from the first instance; wait for available.
    go(&b, &url, "/ec2/instances");
    b.click("#instances tr[data-id]");
    b.click("[data-act=CreateImage]");
    b.type_into("#create-image input[name=Name]", "AutoScalingAMI");
    b.click("#create-image button[type=submit]");
    b.click("#view-pending-image");
    b.wait_text("#amis", "AutoScalingAMI");
    until(&b, "#amis", "available", 10);
    b.screenshot("5-ami-available");

    // Launch configuration from it: detailed monitoring, user data, key pair, security group.
    go(&b, &url, "/asg/lcs/new");
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
    b.find("#lcs tr[data-id=ExampleAutoScalingConfig]");

    // The group wizard: 1–3 behind exampleelb, two policies with their alarms, e-mail.
    go(&b, &url, "/asg/groups/new");
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
    b.screenshot("6-asg-wizard");
    b.click("#asg-submit");
    b.find("#asg-details");

    // Confirm the subscription from the inbox.
    go(&b, &url, "/sns/inbox");
    b.click("#inbox [data-act=confirm]");
    b.find(".note");

    // The first instance becomes InService.
    go(&b, &url, &format!("/asg/groups/{GROUP}"));
    b.click("[data-tab=instances]");
    until(&b, "#asg-instances", "InService", 6);
    let first = b.js(
        "return document.querySelector('#asg-instances tr[data-id]').dataset.id;",
        json!([]),
    );
    let first = first.as_str().unwrap().to_owned();
    b.screenshot("7-group-one-instance");

    // Stress it: the Add alarm goes to ALARM and the group scales to 2.
    go(&b, &url, &format!("/ec2/instances/{first}"));
    b.click("[data-act=stress]");
    b.find(".note");
    go(&b, &url, "/cw/alarms/AutoScaling-Add-Alarm");
    until(&b, "#alarm-state", "ALARM", 6);
    b.find("main svg.chart .threshold");
    b.screenshot("8-alarm-in-alarm");
    go(&b, &url, &format!("/asg/groups/{GROUP}"));
    b.click("[data-tab=instances]");
    for _ in 0..8 {
        if count(&b, "#asg-instances", "InService") == 2 {
            break;
        }
        advance(&b, 60);
    }
    b.wait("two InService", |b| {
        (count(b, "#asg-instances", "InService") == 2).then_some(())
    });
    b.click("[data-tab=activity]");
    b.wait_text("#asg-activity", "a monitor alarm AutoScaling-Add-Alarm in state ALARM triggered policy Increase Group Size changing the desired capacity from 1 to 2");
    b.screenshot("9-activity-scale-out");

    // Clear the stress: after the cooldown the group is back to 1.
    go(&b, &url, &format!("/ec2/instances/{first}"));
    b.click("[data-act=unstress]");
    b.find(".note");
    go(&b, &url, &format!("/asg/groups/{GROUP}"));
    b.click("[data-tab=activity]");
    until(
        &b,
        "#asg-activity",
        "changing the desired capacity from 2 to 1",
        20,
    );
    b.click("[data-tab=instances]");
    for _ in 0..6 {
        if b.text("#asg-instances").matches("i-").count() == 1 {
            break;
        }
        advance(&b, 60);
    }
    b.wait("one instance left", |b| {
        (b.text("#asg-instances").matches("i-").count() == 1).then_some(())
    });
    b.screenshot("10-back-to-one");

    // The inbox: launch and terminate notifications.
    go(&b, &url, "/sns/inbox");
    // Deliveries run on the (frozen) clock too.
    until(&b, "#inbox", "autoscaling:EC2_INSTANCE_TERMINATE", 5);
    b.wait_text("#inbox", "autoscaling:EC2_INSTANCE_LAUNCH");
    b.screenshot("11-inbox");
    b.assert_no_errors();
}

#[test]
fn console_chapter_in_english() {
    chapter("en");
}

#[test]
fn console_chapter_in_korean() {
    chapter("ko");
}
