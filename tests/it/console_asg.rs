//! The console's Auto Scaling group tabs (Monitoring, Tags, Scheduled actions, Lifecycle hooks,
//! Instance refresh), its Launch templates page and the group wizard's launch-template choice,
//! and the charts' round y-axis ticks, in a real headless Chromium. Each change made by clicks is
//! checked with the `aws` CLI; bad input shows AWS's own error inline.

use serde_json::{Value, json};

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::webdriver::Browser;

const REGION: &str = "ap-northeast-1";

/// The CLI in the console's region; its JSON answer (the call must succeed).
pub fn cli(s: &TestServer, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--region", REGION]);
    let r = s.aws(&all);
    assert!(r.ok, "aws {args:?}: {}", r.stderr);
    if r.stdout.trim().is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

pub fn amazon_ami(s: &TestServer) -> String {
    cli(s, &["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn advance(b: &Browser, secs: u32) {
    b.click(&format!("#workshop [data-advance=\"{secs}\"]"));
    b.wait(&format!("advance {secs} s"), |b| {
        (b.js("return window.__advancing === false;", json!([])) == json!(true)).then_some(())
    });
}

pub fn gone(b: &Browser, css: &str) {
    b.wait(&format!("{css} gone"), |b| {
        (b.js(
            "return !document.querySelector(arguments[0]);",
            json!([css]),
        ) == json!(true))
        .then_some(())
    });
}

/// The y-axis labels of the first chart under `css`.
fn ticks(b: &Browser, css: &str) -> Vec<String> {
    b.js(
        "return [...document.querySelectorAll(arguments[0] + ' svg text.tick')].map((t) => t.textContent);",
        json!([css]),
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|v| v.as_str().unwrap().to_owned())
    .collect()
}

#[test]
fn console_chart_ticks_are_round_numbers() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("ticks") else {
        return;
    };
    open(&b, &s, "en", "/ec2/instances");
    b.js(
        "import('/_updraft/console/chart.js').then((m) => { window.__ticks = [
           m.niceTicks(100), m.niceTicks(83), m.niceTicks(9), m.niceTicks(3), m.niceTicks(0),
           m.niceTicks(2, { integer: true }), m.niceTicks(0.4, { integer: true }), m.niceTicks(1234)]; });",
        json!([]),
    );
    let got = b.wait("niceTicks", |b| {
        let v = b.js("return window.__ticks || null;", json!([]));
        (!v.is_null()).then_some(v)
    });
    assert_eq!(
        got,
        json!([
            [0, 25, 50, 75, 100],
            [0, 25, 50, 75, 100],
            [0, 2, 4, 6, 8, 10],
            [0, 1, 2, 3],
            [0, 0.2, 0.4, 0.6, 0.8, 1],
            [0, 1, 2],
            [0, 1],
            [0, 250, 500, 750, 1000, 1250]
        ])
    );
    b.assert_no_errors();
}

#[test]
fn console_asg_tabs_monitoring_tags_schedules_hooks_refresh() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("asg-tabs") else {
        return;
    };
    let ami = amazon_ami(&s);
    cli(
        &s,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "web-lc",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
            "--instance-monitoring",
            "Enabled=true",
        ],
    );
    cli(
        &s,
        &[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            "web",
            "--launch-configuration-name",
            "web-lc",
            "--min-size",
            "1",
            "--max-size",
            "2",
            "--desired-capacity",
            "1",
            "--availability-zones",
            "ap-northeast-1a",
        ],
    );
    let group = ["--auto-scaling-group-name", "web"];
    open(&b, &s, "en", "/asg/groups/web");
    b.find("#asg-details");

    // Monitoring: enable the group metrics, run the instance at full CPU for a few minutes.
    b.click("[data-tab=monitoring]");
    b.find("#asg-cpu svg");
    b.click("#asg-metrics-toggle");
    b.wait_text("#asg-metrics-state", "enabled");
    let enabled = cli(&s, &["autoscaling", "describe-auto-scaling-groups"]);
    assert_eq!(
        enabled["AutoScalingGroups"][0]["EnabledMetrics"]
            .as_array()
            .map(Vec::len),
        Some(20),
        "{enabled}"
    );
    advance(&b, 60);
    let id = b.wait("an instance", |_| {
        let g = cli(&s, &["autoscaling", "describe-auto-scaling-groups"]);
        g["AutoScalingGroups"][0]["Instances"][0]["InstanceId"]
            .as_str()
            .map(str::to_owned)
    });
    let r = s.http(
        "POST",
        &format!("/_updraft/instances/{id}/stress"),
        &[("Content-Type", "application/json")],
        br#"{"cpu_percent": 100}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for _ in 0..4 {
        advance(&b, 60);
    }
    // The tab re-reads on change notices; clicking it again re-reads at once.
    let drawn = |b: &Browser| {
        b.js(
            "return document.querySelectorAll('#asg-cpu circle').length >= 2
               && document.querySelectorAll('#asg-group-metrics [data-metric=GroupInServiceInstances] circle').length >= 1;",
            json!([]),
        ) == json!(true)
    };
    // A click starts a new read, which supersedes one still in flight: give each its time.
    'reads: for _ in 0..10 {
        b.click("[data-tab=monitoring]");
        for _ in 0..30 {
            if drawn(&b) {
                break 'reads;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    assert!(drawn(&b), "no CPU or group metric points drawn");
    // 100 % CPU: the axis reads 0/25/50/75/100, not 28/55/83.
    assert_eq!(ticks(&b, "#asg-cpu"), ["0", "25", "50", "75", "100"]);
    assert_eq!(
        ticks(
            &b,
            "#asg-group-metrics [data-metric=GroupInServiceInstances]"
        ),
        ["0", "1"]
    );
    b.screenshot("1-monitoring");

    // Tags: add one that propagates, then delete it.
    b.click("[data-tab=tags]");
    b.type_into("#tag-form input[name=Key]", "team");
    b.type_into("#tag-form input[name=Value]", "web-team");
    b.click("#tag-form-submit");
    b.wait_text("#asg-tags tr[data-id=team]", "web-team");
    let tags = cli(&s, &["autoscaling", "describe-tags"]);
    assert_eq!(tags["Tags"][0]["Key"], "team", "{tags}");
    assert_eq!(tags["Tags"][0]["PropagateAtLaunch"], true, "{tags}");
    b.screenshot("2-tags");
    b.click("#asg-tags tr[data-id=team] button.delete");
    gone(&b, "#asg-tags tr[data-id=team]");
    let tags = cli(&s, &["autoscaling", "describe-tags"]);
    assert_eq!(tags["Tags"], json!([]), "{tags}");

    // Scheduled actions: a bad recurrence gets AWS's message; a good one is listed; delete.
    b.click("[data-tab=scheduled]");
    b.type_into("#sched-form input[name=ScheduledActionName]", "mornings");
    b.type_into("#sched-form input[name=DesiredCapacity]", "2");
    b.type_into("#sched-form input[name=Recurrence]", "every morning");
    b.click("#sched-form-submit");
    b.wait_text("#sched-form .error", "ValidationError");
    b.wait_text("#sched-form .error", "recurrence");
    b.type_into("#sched-form input[name=Recurrence]", "0 9 * * *");
    b.click("#sched-form-submit");
    b.wait_text("#asg-scheduled tr[data-id=mornings]", "0 9 * * *");
    let sched = cli(
        &s,
        &[
            "autoscaling",
            "describe-scheduled-actions",
            group[0],
            group[1],
        ],
    );
    let a = &sched["ScheduledUpdateGroupActions"][0];
    assert_eq!(a["Recurrence"], "0 9 * * *", "{sched}");
    assert_eq!(a["DesiredCapacity"], 2, "{sched}");
    b.screenshot("3-scheduled");
    b.click("#asg-scheduled tr[data-id=mornings] button.delete");
    gone(&b, "#asg-scheduled tr[data-id=mornings]");

    // Lifecycle hooks: a heartbeat out of range is refused; a launch hook is listed; delete.
    b.click("[data-tab=hooks]");
    b.type_into("#hook-form input[name=LifecycleHookName]", "on-launch");
    b.type_into("#hook-form input[name=HeartbeatTimeout]", "10");
    b.click("#hook-form-submit");
    b.wait_text("#hook-form .error", "ValidationError");
    b.type_into("#hook-form input[name=HeartbeatTimeout]", "300");
    b.choose("#hook-form select[name=DefaultResult]", &["CONTINUE"]);
    b.click("#hook-form-submit");
    b.wait_text("#asg-hooks tr[data-id=on-launch]", "Instance launch");
    let hooks = cli(
        &s,
        &[
            "autoscaling",
            "describe-lifecycle-hooks",
            group[0],
            group[1],
        ],
    );
    let hook = &hooks["LifecycleHooks"][0];
    assert_eq!(
        hook["LifecycleTransition"], "autoscaling:EC2_INSTANCE_LAUNCHING",
        "{hooks}"
    );
    assert_eq!(hook["HeartbeatTimeout"], 300, "{hooks}");
    assert_eq!(hook["DefaultResult"], "CONTINUE", "{hooks}");
    b.screenshot("4-hooks");
    b.click("#asg-hooks tr[data-id=on-launch] button.delete");
    gone(&b, "#asg-hooks tr[data-id=on-launch]");
    let hooks = cli(
        &s,
        &[
            "autoscaling",
            "describe-lifecycle-hooks",
            group[0],
            group[1],
        ],
    );
    assert_eq!(hooks["LifecycleHooks"], json!([]), "{hooks}");

    // Instance refresh: start; a second start while it runs is refused; cancel.
    b.click("[data-tab=refresh]");
    b.click("#refresh-form-submit");
    b.find("#asg-refresh tr[data-id] progress");
    let refreshes = cli(
        &s,
        &[
            "autoscaling",
            "describe-instance-refreshes",
            group[0],
            group[1],
        ],
    );
    let rid = refreshes["InstanceRefreshes"][0]["InstanceRefreshId"]
        .as_str()
        .unwrap()
        .to_owned();
    b.wait_text("#asg-refresh", &rid);
    b.click("#refresh-form-submit");
    b.wait_text("#refresh-form .error", "InstanceRefreshInProgress");
    b.screenshot("5-refresh");
    b.click("#refresh-cancel");
    b.wait_text(&format!("#asg-refresh tr[data-id=\"{rid}\"]"), "Cancel");
    let refreshes = cli(
        &s,
        &[
            "autoscaling",
            "describe-instance-refreshes",
            group[0],
            group[1],
        ],
    );
    let status = refreshes["InstanceRefreshes"][0]["Status"]
        .as_str()
        .unwrap();
    assert!(status.starts_with("Cancel"), "{refreshes}");
    b.assert_no_errors();

    // Every tab draws in Korean with no missing string.
    open(&b, &s, "ko", "/asg/groups/web");
    for tab in [
        "details",
        "activity",
        "policies",
        "instances",
        "monitoring",
        "notifications",
        "tags",
        "scheduled",
        "hooks",
        "refresh",
    ] {
        b.click(&format!("[data-tab={tab}]"));
        b.find(&format!("#asg-{tab}"));
    }
    b.wait_text("#asg-refresh", "취소");
    b.screenshot("6-refresh-ko");
    b.assert_no_errors();
}

#[test]
fn console_launch_templates_versions_and_the_wizard() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("launch-templates") else {
        return;
    };
    cli(&s, &["ec2", "create-key-pair", "--key-name", "lt-key"]);
    open(&b, &s, "ko", "/asg/lts");
    b.click("#lt-new");
    b.type_into("#lt-form input[name=LaunchTemplateName]", "web-template");
    b.type_into("#lt-form input[name=VersionDescription]", "first");
    b.choose("#lt-form select[name=InstanceType]", &["t2.micro"]);
    b.choose("#lt-form select[name=KeyName]", &["lt-key"]);
    b.choose("#lt-form select[name=SecurityGroupId]", &["default"]);
    b.click("#lt-form input[name=Monitoring]");
    b.type_into(
        "#lt-form textarea[name=UserData]",
        "#!/bin/bash\necho hello\n",
    );
    b.click("#lt-submit");
    b.wait_text("#lt-versions tr[data-id=\"1\"]", "t2.micro");
    b.wait_text("#lt-versions tr[data-id=\"1\"]", "(기본값)");
    let v = cli(
        &s,
        &[
            "ec2",
            "describe-launch-template-versions",
            "--launch-template-name",
            "web-template",
        ],
    );
    let data = &v["LaunchTemplateVersions"][0]["LaunchTemplateData"];
    assert_eq!(data["KeyName"], "lt-key", "{v}");
    assert_eq!(data["Monitoring"]["Enabled"], true, "{v}");
    assert_eq!(data["SecurityGroupIds"].as_array().map(Vec::len), Some(1));
    use base64::Engine;
    let user_data = base64::engine::general_purpose::STANDARD
        .decode(data["UserData"].as_str().unwrap())
        .unwrap();
    assert_eq!(user_data, b"#!/bin/bash\necho hello\n");
    b.screenshot("1-version-1-ko");

    // A new version on top of version 1 (its fields start filled from it), then the default.
    let prefilled = b.js(
        "return document.querySelector('#ltv-form textarea[name=UserData]').value;",
        json!([]),
    );
    assert_eq!(prefilled, "#!/bin/bash\necho hello\n");
    b.choose("#ltv-form select[name=InstanceType]", &["t3.small"]);
    b.type_into("#ltv-form input[name=VersionDescription]", "bigger");
    b.click("#ltv-submit");
    b.wait_text("#lt-versions tr[data-id=\"2\"]", "t3.small");
    b.click("#lt-versions tr[data-id=\"2\"] button.set-default");
    b.wait_text("#lt-versions tr[data-id=\"2\"]", "(기본값)");
    let t = cli(
        &s,
        &[
            "ec2",
            "describe-launch-templates",
            "--launch-template-names",
            "web-template",
        ],
    );
    assert_eq!(t["LaunchTemplates"][0]["DefaultVersionNumber"], 2, "{t}");
    assert_eq!(t["LaunchTemplates"][0]["LatestVersionNumber"], 2, "{t}");
    let v2 = cli(
        &s,
        &[
            "ec2",
            "describe-launch-template-versions",
            "--launch-template-name",
            "web-template",
            "--versions",
            "2",
        ],
    );
    let data = &v2["LaunchTemplateVersions"][0]["LaunchTemplateData"];
    assert_eq!(data["InstanceType"], "t3.small", "{v2}");
    assert_eq!(data["KeyName"], "lt-key", "{v2}");
    b.screenshot("2-version-2-default-ko");

    // The same name again: EC2's own error, inline.
    b.goto(&format!("{}/_updraft/console/#/asg/lts/new", s.url));
    b.type_into("#lt-form input[name=LaunchTemplateName]", "web-template");
    b.click("#lt-submit");
    b.wait_text(".error", "InvalidLaunchTemplateName.AlreadyExistsException");

    // The group wizard launches from the template's latest version.
    b.goto(&format!("{}/_updraft/console/#/asg/groups/new", s.url));
    b.type_into("#asg-form input[name=AutoScalingGroupName]", "lt-group");
    b.click("#asg-source input[value=lt]");
    b.choose("#asg-form select[name=LaunchTemplateId]", &["web-template"]);
    b.choose("#asg-form select[name=LaunchTemplateVersion]", &["$Latest"]);
    b.click("input[name=UsePolicies]");
    b.screenshot("3-wizard-template-ko");
    b.click("#asg-submit");
    b.wait_text("#asg-details dl", "web-template");
    let g = cli(&s, &["autoscaling", "describe-auto-scaling-groups"]);
    let lt = &g["AutoScalingGroups"][0]["LaunchTemplate"];
    assert_eq!(lt["LaunchTemplateName"], "web-template", "{g}");
    assert_eq!(lt["Version"], "$Latest", "{g}");
    assert!(
        g["AutoScalingGroups"][0]
            .get("LaunchConfigurationName")
            .is_none(),
        "{g}"
    );

    // Details: switch the group to a launch configuration and back to the template.
    let ami = amazon_ami(&s);
    cli(
        &s,
        &[
            "autoscaling",
            "create-launch-configuration",
            "--launch-configuration-name",
            "plain-lc",
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
        ],
    );
    b.cmd("POST", "/refresh", json!({}));
    b.choose("#asg-edit select[name=LaunchSource]", &["lc:plain-lc"]);
    b.click("#asg-save");
    b.wait_text("#asg-details dl", "plain-lc");
    let g = cli(&s, &["autoscaling", "describe-auto-scaling-groups"]);
    assert_eq!(
        g["AutoScalingGroups"][0]["LaunchConfigurationName"], "plain-lc",
        "{g}"
    );
    assert!(
        g["AutoScalingGroups"][0].get("LaunchTemplate").is_none(),
        "{g}"
    );
    b.choose("#asg-edit select[name=LaunchSource]", &["web-template"]);
    b.click("#asg-save");
    b.wait_text("#asg-details dl", "$Default");
    let g = cli(&s, &["autoscaling", "describe-auto-scaling-groups"]);
    let lt = &g["AutoScalingGroups"][0]["LaunchTemplate"];
    assert_eq!(lt["LaunchTemplateName"], "web-template", "{g}");
    assert_eq!(lt["Version"], "$Default", "{g}");

    // Delete from the list.
    cli(
        &s,
        &[
            "ec2",
            "create-launch-template",
            "--launch-template-name",
            "scratch",
            "--launch-template-data",
            "{\"InstanceType\":\"t2.micro\"}",
        ],
    );
    b.goto(&format!("{}/_updraft/console/#/asg/lts", s.url));
    b.click("#lts tr[data-id=scratch] button.delete");
    gone(&b, "#lts tr[data-id=scratch]");
    let left = cli(&s, &["ec2", "describe-launch-templates"]);
    assert_eq!(
        left["LaunchTemplates"].as_array().map(Vec::len),
        Some(1),
        "{left}"
    );
    b.screenshot("4-list-ko");
    b.assert_no_errors();
}
