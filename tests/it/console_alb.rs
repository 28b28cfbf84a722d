//! The console's Application Load Balancer listeners and rules in a real headless Chromium: an
//! ALB made with the CLI shows its listener and default action; a listener returning a fixed
//! response, a path-pattern rule forwarding to a target group and a host-header rule
//! redirecting are added by clicks (a taken priority gets ELBv2's PriorityInUse inline), then a
//! rule and a listener are deleted. Each change is checked with the `aws` CLI.

use serde_json::{Value, json};

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::console_asg::{cli, gone};
use crate::webdriver::Browser;

/// A default-VPC target group `web` and an ALB `web-alb` with HTTP:80 forwarding to it:
/// (load balancer ARN, target group ARN).
fn alb(s: &TestServer) -> (String, String) {
    let vpc = cli(
        s,
        &[
            "ec2",
            "describe-vpcs",
            "--filters",
            "Name=is-default,Values=true",
        ],
    )["Vpcs"][0]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    let subnets: Vec<String> = cli(s, &["ec2", "describe-subnets"])["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["SubnetId"].as_str().unwrap().to_owned())
        .collect();
    let tg = cli(
        s,
        &[
            "elbv2",
            "create-target-group",
            "--name",
            "web",
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
    let lb = cli(
        s,
        &[
            "elbv2",
            "create-load-balancer",
            "--name",
            "web-alb",
            "--subnets",
            &subnets[0],
            &subnets[1],
        ],
    )["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_owned();
    cli(
        s,
        &[
            "elbv2",
            "create-listener",
            "--load-balancer-arn",
            &lb,
            "--protocol",
            "HTTP",
            "--port",
            "80",
            "--default-actions",
            &format!("Type=forward,TargetGroupArn={tg}"),
        ],
    );
    (lb, tg)
}

fn listener_arn(s: &TestServer, lb: &str, port: u64) -> String {
    let ls = cli(
        s,
        &["elbv2", "describe-listeners", "--load-balancer-arn", lb],
    );
    ls["Listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["Port"] == port)
        .unwrap_or_else(|| panic!("no listener on {port}: {ls}"))["ListenerArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn rules(s: &TestServer, listener: &str) -> Vec<Value> {
    cli(s, &["elbv2", "describe-rules", "--listener-arn", listener])["Rules"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn console_alb_listeners_and_rules_by_clicks() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("alb-rules") else {
        return;
    };
    let (lb, tg) = alb(&s);
    open(&b, &s, "en", "/elbv2/albs");
    b.click("#albs tr[data-id=web-alb]");
    b.wait_text("#alb-listeners", "HTTP:80");
    b.wait_text("#alb-listeners", "Forward to → web");
    // The first listener's rules are shown: only the default one.
    b.wait_text("#alb-rules", "Default (last)");

    // A second listener answering 404 itself.
    b.type_into("#listener-form input[name=Port]", "8080");
    b.choose("#listener-action-type", &["fixed-response"]);
    b.type_into("#listener-form input[name=FixedStatus]", "404");
    b.type_into("#listener-form textarea[name=FixedBody]", "nothing here");
    b.click("#listener-submit");
    b.wait_text("#listener-result .note", "HTTP:8080");
    b.wait_text(
        "#alb-listeners",
        "Return fixed response 404 (text/plain) \"nothing here\"",
    );
    let l8080 = listener_arn(&s, &lb, 8080);
    let d = &rules(&s, &l8080)[0]["Actions"][0];
    assert_eq!(d["Type"], "fixed-response", "{d}");
    assert_eq!(d["FixedResponseConfig"]["StatusCode"], "404", "{d}");
    assert_eq!(
        d["FixedResponseConfig"]["MessageBody"], "nothing here",
        "{d}"
    );

    // Rules of HTTP:80: a path rule forwarding to the group.
    b.click("#alb-listeners tr[data-id='80'] [data-act=rules]");
    b.wait_text("#alb-rule-section h3", "HTTP:80");
    b.type_into("#rule-form input[name=Priority]", "10");
    b.type_into("#rule-form input[name=PathPattern]", "/api/*, /v2/*");
    b.click("#rule-submit");
    b.wait_text("#alb-rules", "path-pattern = /api/* | /v2/*");
    b.screenshot("1-path-rule-en");

    // The same priority again: ELBv2's own error, inline; nothing added.
    b.type_into("#rule-form input[name=PathPattern]", "");
    b.type_into("#rule-form input[name=HostHeader]", "old.example.com");
    b.click("#rule-submit");
    b.wait_text(
        "#listener-result .error",
        "PriorityInUse: Priority '10' is currently in use",
    );
    let l80 = listener_arn(&s, &lb, 80);
    assert_eq!(rules(&s, &l80).len(), 2);

    // At 20: the host rule redirects to another host over HTTPS.
    b.type_into("#rule-form input[name=Priority]", "20");
    b.choose("#rule-action-type", &["redirect"]);
    b.type_into("#rule-form input[name=RedirectHost]", "new.example.com");
    b.choose("#rule-form select[name=RedirectStatus]", &["HTTP_302"]);
    // Only the chosen action's fields are shown.
    let shown = b.js(
        "return ['TargetGroupArn', 'RedirectHost', 'FixedStatus']
           .map((n) => !!document.querySelector(`#rule-form [name=${n}]`).offsetParent);",
        json!([]),
    );
    assert_eq!(shown, json!([false, true, false]));
    b.click("#rule-submit");
    b.wait_text("#alb-rules", "host-header = old.example.com");
    b.wait_text(
        "#alb-rules",
        "Redirect to HTTP_302 → HTTPS://new.example.com:443/#{path}?#{query}",
    );
    let rs = rules(&s, &l80);
    assert_eq!(rs.len(), 3, "{rs:?}");
    let by = |p: &str| rs.iter().find(|r| r["Priority"] == p).unwrap().clone();
    let r10 = by("10");
    assert_eq!(
        r10["Conditions"][0]["PathPatternConfig"]["Values"],
        json!(["/api/*", "/v2/*"]),
        "{r10}"
    );
    assert_eq!(r10["Actions"][0]["TargetGroupArn"], tg.as_str(), "{r10}");
    let r20 = by("20");
    assert_eq!(r20["Conditions"][0]["Field"], "host-header", "{r20}");
    let redirect = &r20["Actions"][0]["RedirectConfig"];
    assert_eq!(redirect["Host"], "new.example.com", "{r20}");
    assert_eq!(redirect["StatusCode"], "HTTP_302", "{r20}");
    assert_eq!(redirect["Protocol"], "HTTPS", "{r20}");
    b.screenshot("2-rules-en");

    // Delete the path rule, then the 8080 listener.
    b.click("#alb-rules tr[data-id='10'] [data-act=delete]");
    gone(&b, "#alb-rules tr[data-id='10']");
    let left: Vec<_> = rules(&s, &l80)
        .iter()
        .map(|r| r["Priority"].clone())
        .collect();
    assert_eq!(left, vec![json!("20"), json!("default")]);
    b.click("#alb-listeners tr[data-id='8080'] [data-act=delete]");
    gone(&b, "#alb-listeners tr[data-id='8080']");
    let ls = cli(
        &s,
        &["elbv2", "describe-listeners", "--load-balancer-arn", &lb],
    );
    assert_eq!(ls["Listeners"].as_array().unwrap().len(), 1, "{ls}");

    // In Korean: the same page with the console's Korean terms.
    open(&b, &s, "ko", "/elbv2/albs");
    b.click("#albs tr[data-id=web-alb]");
    b.wait_text("#alb-detail h2", "리스너 및 규칙");
    b.wait_text("#alb-rules", "리디렉션 대상");
    b.wait_text("#rule-form", "우선 순위");
    b.screenshot("3-rules-ko");
    b.assert_no_errors();
}
