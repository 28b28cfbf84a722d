//! The guided lab (issue 16 §1): the lab endpoints; the CLI equivalents the lab shows, run
//! with the real aws CLI, turn every check green; a student who uses only "do it for me" in
//! the browser's lab panel ends in the same state as the CLI student (Describe outputs
//! compared); the teacher's progress line follows.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::webdriver::Browser;

const REGION: &str = "ap-northeast-1";

fn get(s: &TestServer, path: &str) -> Value {
    let r = s.http("GET", path, &[], b"");
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

/// Advance the virtual clock in 5-second steps, so every controller sees the time pass.
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

fn status(s: &TestServer, lab: &str, account: &str) -> Value {
    get(
        s,
        &format!("/_updraft/lab/{lab}/status?access_key={account}&region={REGION}"),
    )
}

fn step_done(s: &TestServer, lab: &str, account: &str, step: &str) -> bool {
    status(s, lab, account)["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == step && x["done"] == json!(true))
}

/// Let virtual time pass (up to 20 minutes) until `step` is done for `account`.
fn until_done(s: &TestServer, lab: &str, account: &str, step: &str) {
    for _ in 0..80 {
        if step_done(s, lab, account, step) {
            return;
        }
        advance(s, 15);
    }
    panic!(
        "step {step} never turned green for {account}: {:#}",
        status(s, lab, account)
    );
}

/// Run every step's CLI commands, as shown by the lab's definition, in one bash session per
/// step whose shell variables carry over (as in a student's terminal), for `account`.
fn run_cli(s: &TestServer, lab: &str, account: &str) {
    let def = get(s, &format!("/_updraft/lab/{lab}"));
    let dir = std::env::temp_dir().join(format!(
        "updraft-lab-{lab}-{account}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let vars = dir.join("vars.sh");
    std::fs::write(&vars, "").unwrap();
    for step in def["steps"].as_array().unwrap() {
        let id = step["id"].as_str().unwrap();
        let cli: Vec<&str> = step["cli"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(!cli.is_empty(), "step {id} shows no CLI command");
        assert!(cli.iter().any(|c| c.contains("aws ")), "{id}: {cli:?}");
        // Deliveries and launches run on the clock: give them a moment first.
        advance(s, 10);
        let script = format!(
            "set -eo pipefail\naws() {{ command aws --endpoint-url \"$AWS_ENDPOINT_URL\" \"$@\"; }}\nsource vars.sh\n{}\n\
             declare -p | grep -E '^declare -[-a]* [A-Z][A-Z0-9_]*=' | grep -vE '^declare -[-a]* (BASH|SHELL|PWD|OLDPWD|IFS|PS4|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE)' > vars.sh\n",
            cli.join("\n")
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&dir)
            .env("AWS_ENDPOINT_URL", &s.url)
            .env("AWS_ACCESS_KEY_ID", account)
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "step {id}: {}\nstdout: {}\nstderr: {}",
            cli.join("\n"),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        until_done(s, lab, account, id);
    }
    let _ = std::fs::remove_dir_all(&dir); // a leftover temp dir harms nothing
}

/// What a student built, without ids: enough to see two students ended in the same state.
fn built(s: &TestServer, account: &str) -> Value {
    let env = [
        ("AWS_ACCESS_KEY_ID", account),
        ("AWS_DEFAULT_REGION", REGION),
    ];
    let q = |args: &[&str]| s.aws_with_env(args, &env).json();
    json!({
        "keys": q(&["ec2", "describe-key-pairs", "--query", "KeyPairs[].KeyName"]),
        "groups": q(&["ec2", "describe-security-groups", "--query", "SecurityGroups[?GroupName!='default'].[GroupName, IpPermissions[].FromPort]"]),
        "elbs": q(&["elb", "describe-load-balancers", "--query", "LoadBalancerDescriptions[].[LoadBalancerName, HealthCheck.Target, length(Instances)]"]),
        "images": q(&["ec2", "describe-images", "--owners", "self", "--query", "Images[].[Name, State]"]),
        "lcs": q(&["autoscaling", "describe-launch-configurations", "--query", "LaunchConfigurations[].[LaunchConfigurationName, InstanceType, InstanceMonitoring.Enabled]"]),
        "asgs": q(&["autoscaling", "describe-auto-scaling-groups", "--query", "AutoScalingGroups[].[AutoScalingGroupName, MinSize, MaxSize]"]),
        "alarms": q(&["cloudwatch", "describe-alarms", "--query", "MetricAlarms[].[AlarmName, Threshold, ComparisonOperator]"]),
        "topics": q(&["sns", "list-subscriptions", "--query", "Subscriptions[].[Protocol, Endpoint]"]),
        "activities": q(&["autoscaling", "describe-scaling-activities", "--query", "length(Activities)"]),
    })
}

#[test]
fn lab_endpoints_list_define_and_redirect() {
    let s = frozen();
    let labs = get(&s, "/_updraft/lab");
    let ids: Vec<&str> = labs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["chapter19", "alb-target-tracking"]);
    let def = get(&s, "/_updraft/lab/chapter19");
    let step = &def["steps"][0];
    assert!(
        step["title"]["ko"].as_str().unwrap().contains("키 페어"),
        "{step}"
    );
    assert_eq!(step["page"], "#/ec2/keypairs");
    assert!(
        step["check"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("ec2 DescribeKeyPairs")
    );
    assert_eq!(s.http("GET", "/_updraft/lab/nope", &[], b"").status, 404);
    assert_eq!(
        s.http(
            "GET",
            "/_updraft/lab/chapter19/steps/nope/calls/0",
            &[],
            b""
        )
        .status,
        404
    );
    let r = s.http(
        "GET",
        "/_updraft/lab/chapter19/steps/web-servers/calls/0?access_key=123456789012",
        &[],
        b"",
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.json()["error"].as_str().unwrap().contains("key-pair"),
        "{}",
        r.text()
    );
    let r = s.http("GET", "/_updraft/console/lab/", &[], b"");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/_updraft/console/#/lab"));
    // The teacher's line before the account did anything, and its exact shape.
    let p = get(&s, "/_updraft/lab/progress?account=123456789012");
    assert_eq!(
        p,
        json!({"account": "123456789012", "lab": "chapter19", "steps_total": def["steps"].as_array().unwrap().len(),
        "steps_done": 0, "current_step": {"id": "key-pair", "title_en": "Create a key pair", "title_ko": "키 페어 생성"},
        "last_change": null})
    );
    assert_eq!(
        s.http("GET", "/_updraft/lab/progress", &[], b"").status,
        400
    );
}

#[test]
fn lab_alb_cli_equivalents_turn_every_check_green() {
    let s = frozen();
    run_cli(&s, "alb-target-tracking", "111111111111");
    let p = get(&s, "/_updraft/lab/progress?account=111111111111");
    assert_eq!(p["lab"], "alb-target-tracking");
    assert_eq!(p["steps_done"], p["steps_total"]);
    assert_eq!(p["current_step"], Value::Null);
}

/// Open the lab panel in the browser as `account` and press "do it for me" on every step,
/// letting virtual time pass until each turns green.
fn do_it_in_browser(b: &Browser, s: &TestServer, lab: &str, account: &str, lang: &str) {
    open(b, s, lang, "/lab");
    b.js(
        "sessionStorage.setItem('updraft.accessKey', arguments[0]); sessionStorage.setItem('updraft.secretKey', 'secret');",
        json!([account]),
    );
    b.cmd("POST", "/refresh", json!({}));
    b.click(&format!("#labs [data-lab='{lab}']"));
    b.find("#lab-panel .lab-step");
    b.screenshot("1-panel-open");
    let def = get(s, &format!("/_updraft/lab/{lab}"));
    for (n, step) in def["steps"].as_array().unwrap().iter().enumerate() {
        let id = step["id"].as_str().unwrap();
        let css = format!("#lab-panel [data-step='{id}']");
        b.js(
            "const d = document.querySelector(arguments[0]); d.open = true; d.scrollIntoView();",
            json!([css]),
        );
        if !step["calls"].as_array().unwrap().is_empty() {
            advance(s, 10);
            b.click(&format!("{css} [data-act=do-it]"));
            b.wait(&format!("calls of {id}"), |b| {
                if b.find_now(&format!("{css} .lab-log .error")).is_some() {
                    panic!(
                        "step {id}: a call failed:\n{}",
                        b.text(&format!("{css} .lab-log"))
                    );
                }
                b.find_now(&format!("{css} .lab-log [data-done]"))
            });
        }
        for _ in 0..80 {
            if b.find_now(&format!("{css}.done")).is_some() {
                break;
            }
            advance(s, 15);
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        b.find(&format!("{css}.done"));
        if [1, 4, 8, 13].contains(&n) {
            b.screenshot(&format!("{}-{id}", n + 2));
        }
    }
}

#[test]
fn lab_do_it_for_me_ends_where_the_cli_student_ends() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("lab-do-it") else {
        return;
    };
    run_cli(&s, "chapter19", "111111111111");
    do_it_in_browser(&b, &s, "chapter19", "222222222222", "ko");
    b.screenshot("all-done");
    let cli = built(&s, "111111111111");
    let clicks = built(&s, "222222222222");
    assert_eq!(
        cli, clicks,
        "the CLI student and the do-it-for-me student differ"
    );
    assert_eq!(cli["keys"], json!(["awskeypair"]));
    for account in ["111111111111", "222222222222"] {
        let p = get(&s, &format!("/_updraft/lab/progress?account={account}"));
        assert_eq!(p["steps_done"], p["steps_total"], "{account}: {p}");
        assert!(p["last_change"].as_f64().is_some(), "{p}");
    }
    // The teacher board's cost per student: one progress line re-checks the whole lab.
    let started = std::time::Instant::now();
    for _ in 0..20 {
        get(&s, "/_updraft/lab/progress?account=111111111111");
    }
    eprintln!(
        "lab progress line (16-step chapter, finished state): {:.1} ms per call over HTTP",
        started.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
    b.assert_no_errors();
}
