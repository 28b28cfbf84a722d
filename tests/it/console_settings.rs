//! Console settings pages in a real headless Chromium, each checked afterwards with the CLI:
//! security-group outbound rules (add, AWS's duplicate error, revoke the default), key-pair
//! import (a good key listed with EC2's fingerprint, a bad one refused with AWS's error and
//! nothing created), Classic ELB stickiness and connection draining, and the admin token held
//! by the console when the server has `--admin-token`.

use base64::Engine;
use serde_json::json;
use updraft::Config;

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::webdriver::Browser;

const REGION: &str = "ap-northeast-1";

/// Let the change notice of the call just made re-render the page before the next clicks (a
/// re-render between a click and a save would put the form back as it was).
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(600));
}

fn cli(s: &TestServer, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--region", REGION]);
    let r = s.aws(&all);
    assert!(r.ok, "{args:?}: {}", r.stderr);
    r.json()
}

#[test]
fn console_security_group_outbound_rules() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("sg-egress") else {
        return;
    };
    let id = cli(
        &s,
        &[
            "ec2",
            "create-security-group",
            "--group-name",
            "web",
            "--description",
            "web servers",
        ],
    )["GroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    open(&b, &s, "en", "/ec2/secgroups");
    b.click(&format!("#secgroups tr[data-id={id}]"));
    b.click("#sg-rules [data-tab=outbound]");
    b.find("#rule-form[data-direction=outbound]");
    // The default outbound rule is listed.
    b.wait_text("#sg-rules", "all → 0.0.0.0/0");
    b.choose("#rule-form select[name=Preset]", &["HTTPS"]);
    b.type_into("#rule-form input[name=CidrIp]", "10.0.0.0/8");
    b.click("#rule-add");
    b.wait_text("#sg-rules", "tcp 443 → 10.0.0.0/8");
    settle();
    // The same rule again: EC2's own error, inline.
    b.find("#rule-form[data-direction=outbound]");
    b.choose("#rule-form select[name=Preset]", &["HTTPS"]);
    b.type_into("#rule-form input[name=CidrIp]", "10.0.0.0/8");
    b.click("#rule-add");
    b.wait_text(".error", "InvalidPermission.Duplicate");
    // Revoke the default all-traffic rule.
    b.js(
        "for (const tr of document.querySelectorAll('#sg-rules tbody tr'))
           if (tr.innerText.includes('all →')) tr.querySelector('[data-act=revoke]').click();",
        json!([]),
    );
    b.wait("default rule revoked", |b| {
        (!b.text("#sg-rules").contains("all →")).then_some(())
    });
    b.screenshot("outbound-en");
    let g = cli(
        &s,
        &[
            "ec2",
            "describe-security-groups",
            "--group-ids",
            id.as_str(),
        ],
    );
    let egress = &g["SecurityGroups"][0]["IpPermissionsEgress"];
    assert_eq!(egress.as_array().unwrap().len(), 1, "{egress}");
    assert_eq!(egress[0]["FromPort"], 443);
    assert_eq!(egress[0]["IpRanges"][0]["CidrIp"], "10.0.0.0/8");
    // Inbound untouched.
    assert_eq!(g["SecurityGroups"][0]["IpPermissions"], json!([]));
    b.assert_no_errors();
}

/// An OpenSSH ed25519 public key line (any 32 bytes are a well-formed key).
fn ed25519_line() -> String {
    let mut blob = Vec::new();
    for part in [&b"ssh-ed25519"[..], &[7u8; 32][..]] {
        blob.extend((part.len() as u32).to_be_bytes());
        blob.extend(part);
    }
    format!(
        "ssh-ed25519 {} student@laptop",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

#[test]
fn console_key_pair_import() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("kp-import") else {
        return;
    };
    open(&b, &s, "ko", "/ec2/keypairs");
    // Not a key: AWS's code and message inline, nothing created.
    b.type_into("#keypair-import-form input[name=KeyName]", "bad-key");
    b.type_into("#keypair-import-form textarea", "this is not a key");
    b.click("#keypair-import");
    b.wait_text(".error", "InvalidKey.Format");
    b.wait_text(".error", "Key is not in valid OpenSSH public key format");
    b.screenshot("bad-key-ko");
    let none = cli(&s, &["ec2", "describe-key-pairs"]);
    assert_eq!(none["KeyPairs"], json!([]));

    b.type_into("#keypair-import-form input[name=KeyName]", "laptop");
    b.type_into("#keypair-import-form textarea", &ed25519_line());
    b.click("#keypair-import");
    b.find("#keypairs tr[data-id=laptop]");
    let kp = cli(&s, &["ec2", "describe-key-pairs"]);
    let fingerprint = kp["KeyPairs"][0]["KeyFingerprint"].as_str().unwrap();
    assert_eq!(kp["KeyPairs"][0]["KeyType"], "ed25519");
    b.wait_text("#keypairs tr[data-id=laptop]", fingerprint);
    b.screenshot("imported-ko");
    b.assert_no_errors();
}

#[test]
fn console_classic_elb_stickiness_and_draining() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("elb-settings") else {
        return;
    };
    cli(
        &s,
        &[
            "elb",
            "create-load-balancer",
            "--load-balancer-name",
            "web",
            "--listeners",
            "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol=HTTP,InstancePort=80",
            "Protocol=TCP,LoadBalancerPort=8080,InstanceProtocol=TCP,InstancePort=8080",
            "--availability-zones",
            "ap-northeast-1a",
        ],
    );
    let listener_policies = |s: &TestServer| {
        let d = cli(
            s,
            &[
                "elb",
                "describe-load-balancers",
                "--load-balancer-names",
                "web",
            ],
        );
        d["LoadBalancerDescriptions"][0]["ListenerDescriptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["Listener"]["LoadBalancerPort"] == 80)
            .unwrap()["PolicyNames"]
            .clone()
    };
    let policy_attr = |s: &TestServer, name: &str| {
        let p = cli(
            s,
            &[
                "elb",
                "describe-load-balancer-policies",
                "--load-balancer-name",
                "web",
                "--policy-names",
                name,
            ],
        );
        p["PolicyDescriptions"][0]["PolicyAttributeDescriptions"][0].clone()
    };
    open(&b, &s, "en", "/elb/web");
    b.click("[data-tab=listeners]");
    settle();
    // Only the HTTP listener can be sticky.
    b.find("#sticky-form-80");
    assert_eq!(
        b.js(
            "return !!document.querySelector('#sticky-form-8080');",
            json!([])
        ),
        json!(false)
    );
    b.click("#sticky-form-80 input[value=lb]");
    b.type_into("#sticky-form-80 input[name=CookieExpirationPeriod]", "600");
    b.click("#sticky-save-80");
    b.wait_text("#elb-listeners", "expiration 600 s");
    settle();
    let names = listener_policies(&s);
    let lb_policy = names[0].as_str().unwrap().to_owned();
    assert!(
        lb_policy.starts_with("AWSConsole-LBCookieStickinessPolicy-web-"),
        "{names}"
    );
    assert_eq!(
        policy_attr(&s, &lb_policy),
        json!({"AttributeName": "CookieExpirationPeriod", "AttributeValue": "600"})
    );

    // Application cookie instead: one stickiness policy on the listener, the new one.
    b.click("#sticky-form-80 input[value=app]");
    b.type_into("#sticky-form-80 input[name=CookieName]", "SESSIONID");
    b.click("#sticky-save-80");
    b.wait_text("#elb-listeners", "Application generated cookie SESSIONID");
    settle();
    let names = listener_policies(&s);
    assert_eq!(names.as_array().unwrap().len(), 1, "{names}");
    let app_policy = names[0].as_str().unwrap().to_owned();
    assert!(app_policy.starts_with("AWSConsole-AppCookieStickinessPolicy-web-"));
    assert_eq!(policy_attr(&s, &app_policy)["AttributeValue"], "SESSIONID");
    b.screenshot("stickiness-en");

    // Disabled: the listener has no policy left.
    b.click("#sticky-form-80 input[value=none]");
    b.click("#sticky-save-80");
    b.wait("stickiness disabled", |b| {
        (!b.text("#elb-listeners").contains("SESSIONID")).then_some(())
    });
    assert_eq!(listener_policies(&s), json!([]));

    // Connection draining, in Korean; a bad timeout gets the API's error and changes nothing.
    open(&b, &s, "ko", "/elb/web");
    b.click("[data-tab=attributes]");
    b.find("#attrs-form");
    settle();
    b.click("#attrs-form input[name=ConnectionDraining]");
    b.type_into("#attrs-form input[name=ConnectionDrainingTimeout]", "0");
    b.click("#attrs-save");
    b.wait_text(".error", "ValidationError");
    b.wait_text(".error", "between 1 and 3600");
    settle();
    b.type_into("#attrs-form input[name=ConnectionDrainingTimeout]", "120");
    b.click("#attrs-save");
    b.wait_text("#draining-status", "활성화됨, 120초");
    b.screenshot("draining-ko");
    let a = cli(
        &s,
        &[
            "elb",
            "describe-load-balancer-attributes",
            "--load-balancer-name",
            "web",
        ],
    );
    assert_eq!(
        a["LoadBalancerAttributes"]["ConnectionDraining"],
        json!({"Enabled": true, "Timeout": 120})
    );
    b.assert_no_errors();
}

#[test]
fn console_holds_the_admin_token_for_the_workshop_bar() {
    const TOKEN: &str = "classroom-7f3a";
    let _turn = crate::webdriver::turn();
    let s = TestServer::with_config(Config {
        time_scale: 0.0,
        admin_token: Some(TOKEN.into()),
        ..Default::default()
    });
    let Some(b) = Browser::start("admin-token") else {
        return;
    };
    let clock = |s: &TestServer| {
        s.http("GET", "/_updraft/clock", &[], b"").json()["epoch_seconds"]
            .as_f64()
            .unwrap()
    };
    let before = clock(&s);
    open(&b, &s, "en", "/sns/inbox");
    // Without the token: the inbox and the clock say why, and the token field opens.
    b.wait_text(".error", "admin token");
    b.click("#workshop [data-advance=\"60\"]");
    b.find("#admin-token");
    assert!(clock(&s) - before < 1.0, "the refused advance ran");
    b.screenshot("refused");
    // A wrong token is refused too (403).
    b.type_into("#admin-token", "not-it");
    b.click("#admin-token-save");
    b.click("#workshop [data-advance=\"60\"]");
    b.wait_text("#workshop .error", "not the configured one");
    b.type_into("#admin-token", TOKEN);
    b.click("#admin-token-save");
    b.wait_text("#admin-token-toggle", "✓");
    assert_eq!(
        b.js(
            "return sessionStorage.getItem('updraft.adminToken');",
            json!([])
        ),
        json!(TOKEN)
    );
    // The inbox page re-reads with it; the clock moves.
    b.find("#inbox");
    b.wait("no error on the inbox page", |b| {
        (b.text("main .error").is_empty()).then_some(())
    });
    b.click("#workshop [data-advance=\"60\"]");
    b.wait("advance", |b| {
        (b.js("return window.__advancing === false;", json!([])) == json!(true)).then_some(())
    });
    assert!(clock(&s) - before >= 60.0, "the clock did not move");
    assert!(b.text("#workshop .error").is_empty());
    b.click("#workshop [data-speed=\"10\"]");
    b.wait("10x", |b| {
        (b.js(
            "return document.querySelector('#workshop [data-speed=\"10\"]').getAttribute('aria-pressed');",
            json!([]),
        ) == json!("true"))
        .then_some(())
    });
    // CPU stress with the token.
    let ami = cli(&s, &["ec2", "describe-images", "--owners", "amazon"]);
    let ami = ami["Images"][0]["ImageId"].as_str().unwrap().to_owned();
    let run = cli(
        &s,
        &["ec2", "run-instances", "--image-id", &ami, "--count", "1"],
    );
    let id = run["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    b.goto(&format!("{}/_updraft/console/#/ec2/instances", s.url));
    b.click(&format!("#instances tr[data-id={id}]"));
    b.click("[data-act=stress]");
    b.wait_text("main .note", "full CPU");
    b.screenshot("token-set");
    // The sign-in page carries the field too.
    b.goto(&format!("{}/_updraft/console/#/signin", s.url));
    assert_eq!(
        b.js(
            "return document.querySelector('#signin-token').value;",
            json!([])
        ),
        json!(TOKEN)
    );
    b.assert_no_errors();
}
