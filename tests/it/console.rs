//! The web console in a real headless Chromium: a form error shows AWS's own message, a live
//! update arrives without a reload, an HTML-looking Name tag stays text, every catalogue key
//! exists in both languages; and over plain HTTP: the redirect, ETag/304, gzip, the event stream.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;
use updraft::Config;

use crate::common::TestServer;
use crate::webdriver::Browser;

pub fn frozen() -> TestServer {
    TestServer::with_config(Config {
        time_scale: 0.0,
        ..Default::default()
    })
}

/// Open the console in `lang` and `region`, starting on `hash`.
pub fn open(b: &Browser, server: &TestServer, lang: &str, hash: &str) {
    b.goto(&format!("{}/", server.url));
    b.find("#main");
    b.js(
        "localStorage.setItem('updraft.lang', arguments[0]); localStorage.setItem('updraft.region', 'ap-northeast-1');",
        json!([lang]),
    );
    b.goto(&format!("{}/_updraft/console/#{hash}", server.url));
    // Only the hash may have changed: load the page again so the language is read anew.
    b.cmd("POST", "/refresh", json!({}));
    b.find("#nav a");
}

#[test]
fn console_http_redirect_etag_gzip_and_events() {
    let s = frozen();
    let r = s.http("GET", "/", &[("Accept", "text/html")], b"");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/_updraft/console/"));
    let api = s.http(
        "GET",
        "/?Action=DescribeRegions&Version=2016-11-15",
        &[("Accept", "text/html")],
        b"",
    );
    assert_eq!(api.status, 200, "{}", api.text());
    assert!(api.text().contains("DescribeRegionsResponse"));
    let page = s.http(
        "GET",
        "/_updraft/console/app.js",
        &[("Accept-Encoding", "gzip")],
        b"",
    );
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-encoding"), Some("gzip"));
    let etag = page.header("etag").unwrap().to_owned();
    let again = s.http(
        "GET",
        "/_updraft/console/app.js",
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!(again.status, 304);

    // The stream: hello first, then a change notice for an API write in our account.
    let mut stream = TcpStream::connect(s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /_updraft/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = String::new();
    let mut line = String::new();
    while !seen.contains("\"kind\":\"hello\"") {
        line.clear();
        reader.read_line(&mut line).unwrap();
        seen.push_str(&line);
    }
    assert!(seen.contains("text/event-stream"), "{seen}");
    assert!(seen.contains("\"account\":\"000000000000\""), "{seen}");
    let created = s.aws(&["ec2", "create-key-pair", "--key-name", "events-kp"]);
    assert!(created.ok, "{}", created.stderr);
    seen.clear();
    while !seen.contains("\"service\":\"ec2\"") {
        line.clear();
        reader.read_line(&mut line).unwrap();
        seen.push_str(&line);
    }
    assert!(seen.contains("\"region\":\"us-east-1\""), "{seen}");
}

#[test]
fn console_form_error_live_update_and_catalogues() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("errors") else {
        return;
    };
    for lang in ["en", "ko"] {
        open(&b, &s, lang, "/i18n");
        b.wait_text("#i18n-result", "ok ");
        // Every page renders in this language with no missing key (a missing key is a
        // console error) and no script error.
        for page in [
            "/ec2/instances",
            "/ec2/launch",
            "/ec2/amis",
            "/ec2/keypairs",
            "/ec2/secgroups",
            "/elb",
            "/elb/new",
            "/elbv2/albs",
            "/elbv2/tgs",
            "/asg/lcs",
            "/asg/lcs/new",
            "/asg/lts",
            "/asg/lts/new",
            "/asg/groups",
            "/asg/groups/new",
            "/cw/alarms",
            "/cw/metrics",
            "/cw/dashboards",
            "/sns/topics",
            "/sns/inbox",
            "/signin",
        ] {
            b.goto(&format!("{}/_updraft/console/#{page}", s.url));
            b.find("#main h1");
            b.assert_no_errors();
        }
    }
    // max < min: AWS's own code and message, inline.
    open(&b, &s, "en", "/asg/groups/new");
    b.type_into("input[name=AutoScalingGroupName]", "bad-group");
    b.type_into("input[name=MinSize]", "3");
    b.type_into("input[name=MaxSize]", "1");
    b.click("input[name=UsePolicies]");
    b.click("#asg-submit");
    b.wait_text(".error", "ValidationError");
    let err = b.text(".error");
    assert!(err.contains("CreateAutoScalingGroup"), "{err}");
    b.screenshot("form-error-en");

    // A live update: an instance launched by the CLI appears without a reload.
    open(&b, &s, "en", "/ec2/instances");
    b.find("#instances table");
    b.js("window.__noReload = true;", json!([]));
    let ami = s.aws(&[
        "ec2",
        "describe-images",
        "--owners",
        "amazon",
        "--region",
        "ap-northeast-1",
    ]);
    let ami = ami.json()["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = s.aws(&[
        "ec2",
        "run-instances",
        "--image-id",
        &ami,
        "--count",
        "1",
        "--region",
        "ap-northeast-1",
        "--tag-specifications",
        "ResourceType=instance,Tags=[{Key=Name,Value=live-one}]",
    ]);
    assert!(run.ok, "{}", run.stderr);
    b.wait_text("#instances", "live-one");
    assert_eq!(
        b.js("return window.__noReload === true;", json!([])),
        json!(true)
    );
    b.assert_no_errors();
}

#[test]
fn console_name_tag_markup_stays_text() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("xss") else {
        return;
    };
    let evil = "<img src=x onerror=window.__xss=1>";
    open(&b, &s, "en", "/ec2/launch");
    b.find("#launch-form");
    b.type_into("#launch-form input[name=Name]", evil);
    b.click("#launch-submit");
    b.find("#view-instances");
    b.click("#view-instances");
    b.wait_text("#instances", evil);
    b.click("#instances tr[data-id]");
    b.find("[data-act=CreateImage]");
    let imgs = b.js(
        "return document.querySelectorAll('main img').length;",
        json!([]),
    );
    assert_eq!(imgs, json!(0));
    assert_eq!(
        b.js("return window.__xss === undefined;", json!([])),
        json!(true)
    );
    // The details page too.
    let id = b.js(
        "return document.querySelector('#instances tr[data-id]').dataset.id;",
        json!([]),
    );
    b.goto(&format!(
        "{}/_updraft/console/#/ec2/instances/{}",
        s.url,
        id.as_str().unwrap()
    ));
    b.wait_text("main dl", evil);
    assert_eq!(
        b.js(
            "return document.querySelectorAll('main img').length;",
            json!([])
        ),
        json!(0)
    );
    b.screenshot("name-tag-as-text");
    b.assert_no_errors();
}

#[test]
fn console_sign_in_keeps_accounts_apart() {
    let _turn = crate::webdriver::turn();
    let s = TestServer::with_config(Config {
        time_scale: 0.0,
        verify_signatures: true,
        credentials: updraft::config::Credentials(vec![
            ("111111111111".into(), "secret-one".into()),
            ("222222222222".into(), "secret-two".into()),
        ]),
        ..Default::default()
    });
    let (Some(one), Some(two)) = (Browser::start("signin-one"), Browser::start("signin-two"))
    else {
        return;
    };
    let sign_in = |b: &Browser, key: &str, secret: &str| {
        b.find("#signin-submit");
        b.type_into("#ak", key);
        b.type_into("#sk", secret);
        b.click("#signin-submit");
    };
    // Unsigned calls are refused, so the console asks for a key first.
    open(&one, &s, "en", "/ec2/keypairs");
    sign_in(&one, "111111111111", "wrong-secret");
    one.wait_text(".error", "SignatureDoesNotMatch");
    one.wait_text(
        ".error",
        "The request signature we calculated does not match",
    );
    one.screenshot("wrong-secret");
    sign_in(&one, "111111111111", "secret-one");
    one.wait_text("#account", "111111111111");
    one.goto(&format!("{}/_updraft/console/#/ec2/keypairs", s.url));
    one.type_into("#keypair-form input[name=KeyName]", "key-of-one");
    one.click("#keypair-create");
    one.find("#keypairs tr[data-id=key-of-one]");

    open(&two, &s, "ko", "/ec2/keypairs");
    sign_in(&two, "222222222222", "secret-two");
    two.wait_text("#account", "222222222222");
    two.goto(&format!("{}/_updraft/console/#/ec2/keypairs", s.url));
    two.find("#keypairs table");
    assert!(!two.text("#keypairs").contains("key-of-one"));
    two.type_into("#keypair-form input[name=KeyName]", "key-of-two");
    two.click("#keypair-create");
    two.find("#keypairs tr[data-id=key-of-two]");
    // The first browser, live-updated or not, still sees only its own.
    one.cmd("POST", "/refresh", json!({}));
    one.find("#keypairs tr[data-id=key-of-one]");
    assert!(!one.text("#keypairs").contains("key-of-two"));
    two.screenshot("signed-in-ko");
    one.assert_no_errors();
    two.assert_no_errors();
}

/// Figures, printed (not asserted as timings): time to the first usable page, and the
/// instance list with 1,000 instances. Run: `cargo test --test it console_figures -- --nocapture`.
#[test]
fn console_figures() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("figures") else {
        return;
    };
    open(&b, &s, "en", "/ec2/instances");
    b.find("#instances table");
    let mut first = Vec::new();
    for _ in 0..5 {
        b.cmd("POST", "/refresh", json!({}));
        b.find("#instances table");
        first.push(
            b.js("return window.__firstUsableMs;", json!([]))
                .as_f64()
                .unwrap(),
        );
    }
    first.sort_by(f64::total_cmp);
    println!(
        "console: first usable page (empty instance list), median of 5: {:.0} ms",
        first[2]
    );

    let ami = s.aws(&[
        "ec2",
        "describe-images",
        "--owners",
        "amazon",
        "--region",
        "ap-northeast-1",
    ]);
    let ami = ami.json()["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..10 {
        let run = s.aws(&[
            "ec2",
            "run-instances",
            "--image-id",
            &ami,
            "--count",
            "100",
            "--region",
            "ap-northeast-1",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=Name,Value=many}]",
        ]);
        assert!(run.ok, "{}", run.stderr);
    }
    b.cmd("POST", "/refresh", json!({}));
    b.wait("1,000 rows", |b| {
        (b.js(
            "return document.querySelectorAll('#instances tr[data-id]').length;",
            json!([]),
        ) == json!(1000))
        .then_some(())
    });
    let mut renders = Vec::new();
    for _ in 0..5 {
        b.cmd("POST", "/refresh", json!({}));
        b.find("#instances tr[data-id]");
        let v = b.js(
            "return [window.__firstUsableMs, window.__lastRenderMs, window.__lastFetchMs, window.__lastApiMs];",
            json!([]),
        );
        let f = |i: usize| v[i].as_f64().unwrap();
        renders.push((f(0), f(1), f(2), f(3)));
    }
    renders.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = renders[2];
    println!(
        "console: 1,000 instances, median of 5: {:.0} ms in all (request+answer {:.0} ms, XML parse {:.0} ms, table {:.0} ms); page usable after {:.0} ms",
        m.1,
        m.2,
        m.3 - m.2,
        m.1 - m.3,
        m.0
    );
    b.assert_no_errors();
}

#[test]
fn console_alb_with_a_target_group_turns_healthy() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("alb") else {
        return;
    };
    let ami = s.aws(&[
        "ec2",
        "describe-images",
        "--owners",
        "amazon",
        "--region",
        "ap-northeast-1",
    ]);
    let ami = ami.json()["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = s.aws(&[
        "ec2",
        "run-instances",
        "--image-id",
        &ami,
        "--count",
        "1",
        "--region",
        "ap-northeast-1",
    ]);
    assert!(run.ok, "{}", run.stderr);
    open(&b, &s, "ko", "/elbv2/tgs");
    // The instance boots (pending → running) on the workshop clock first.
    b.click("#workshop [data-advance=\"60\"]");
    b.wait("advance", |b| {
        (b.js("return window.__advancing === false;", json!([])) == json!(true)).then_some(())
    });
    b.type_into("#tg-form input[name=Name]", "web-tg");
    b.click("#tg-submit");
    b.find("#register-form input[name=Target]");
    b.click("#register-form input[name=Target]");
    b.click("#register-submit");
    b.find("#tg-targets tr[data-id]");
    b.goto(&format!("{}/_updraft/console/#/elbv2/albs", s.url));
    b.type_into("#alb-form input[name=Name]", "web-alb");
    b.choose("#alb-form select[name=TargetGroupArn]", &["web-tg"]);
    // Every zone, so the instance's zone is enabled (else its target is `unused`).
    b.js(
        "document.querySelectorAll('#alb-form input[name=Subnets]').forEach((c) => { if (!c.checked) c.click(); });",
        json!([]),
    );
    b.click("#alb-submit");
    b.wait_text("#albs", "web-alb");
    b.wait_text("#albs", "HTTP:80");
    b.goto(&format!("{}/_updraft/console/#/elbv2/tgs", s.url));
    b.click("#tgs tr[data-id=web-tg]");
    for _ in 0..10 {
        if b.js(
            "return !!document.querySelector('#tg-targets .state-healthy');",
            json!([]),
        ) == json!(true)
        {
            break;
        }
        b.click("#workshop [data-advance=\"60\"]");
        b.wait("advance", |b| {
            (b.js("return window.__advancing === false;", json!([])) == json!(true)).then_some(())
        });
    }
    b.find("#tg-targets .state-healthy");
    b.screenshot("target-group-healthy-ko");
    b.assert_no_errors();
}
