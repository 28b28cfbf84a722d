//! The console's CloudWatch metrics browser and dashboards in a real headless Chromium: metrics
//! published with the CLI are found by namespace → metric → dimensions and graphed with the
//! chosen statistic and period; a dashboard stored by PutDashboard is listed, drawn (its metric
//! lines as graphs, its text as text, other widget types named as not supported) and deleted.

use serde_json::json;

use crate::common::TestServer;
use crate::console::{frozen, open};
use crate::webdriver::Browser;

const REGION: &str = "ap-northeast-1";

/// The virtual clock's now, epoch seconds.
fn now(s: &TestServer) -> i64 {
    s.http("GET", "/_updraft/clock", &[], b"").json()["epoch_seconds"]
        .as_f64()
        .unwrap() as i64
}

/// Publish `values` for `page`, one a minute ending two minutes ago.
fn publish(s: &TestServer, page: &str, values: &[f64]) {
    let end = now(s) - 120;
    let data: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({"MetricName": "Requests", "Value": v, "Unit": "Count",
                "Timestamp": end - 60 * (values.len() - 1 - i) as i64,
                "Dimensions": [{"Name": "Page", "Value": page}]})
        })
        .collect();
    let r = s.aws(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "Workshop/App",
        "--metric-data",
        &json!(data).to_string(),
        "--region",
        REGION,
    ]);
    assert!(r.ok, "{}", r.stderr);
}

/// All the text under `css`, SVG labels included (`innerText` may leave them out).
pub fn all_text(b: &Browser, css: &str) -> String {
    b.js(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
        json!([css]),
    )
    .as_str()
    .unwrap_or("")
    .to_owned()
}

pub fn count(b: &Browser, css: &str) -> u64 {
    b.js(
        "return document.querySelectorAll(arguments[0]).length;",
        json!([css]),
    )
    .as_u64()
    .unwrap()
}

#[test]
fn console_metrics_browser_graphs_a_published_metric() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("metrics") else {
        return;
    };
    publish(&s, "home", &[10.0, 20.0, 30.0]);
    publish(&s, "about", &[5.0]);
    open(&b, &s, "en", "/cw/metrics");
    b.choose("#metric-ns", &["Workshop/App"]);
    b.choose("#metric-name", &["Requests"]);
    // Both dimension combinations of the metric are listed.
    b.wait_text("#metrics", "Page=about");
    b.wait_text("#metrics", "Page=home");
    b.click("#metrics tr[data-id*='home']");
    b.find("#metric-graph svg.chart");
    b.choose("#metric-period", &["60"]);
    b.wait_text("#metric-points", "3 data points");
    assert_eq!(count(&b, "#metric-graph svg.chart circle"), 3);
    // The statistic is asked of the API: Sum over an hour is one point.
    b.choose("#metric-period", &["3600"]);
    b.choose("#metric-stat", &["Sum"]);
    b.wait("one hourly point", |b| {
        let t = b.text("#metric-points");
        (t.contains("1 data points") || t.contains("2 data points")).then_some(())
    });
    b.wait("the Sum label", |b| {
        all_text(b, "#metric-graph svg")
            .contains("Requests (Sum)")
            .then_some(())
    });
    b.screenshot("browser-en");

    // Added to a dashboard: a bad name gets CloudWatch's error, a good one makes the dashboard.
    b.type_into("#add-dash-name", "no spaces allowed");
    b.click("#add-dash-submit");
    b.wait_text("#add-dash-result .error", "contains invalid characters");
    b.type_into("#add-dash-name", "From-Browser");
    b.click("#add-dash-submit");
    b.wait_text("#add-dash-result .note", "From-Browser");
    let d = s.aws(&[
        "cloudwatch",
        "get-dashboard",
        "--dashboard-name",
        "From-Browser",
        "--region",
        REGION,
    ]);
    assert!(d.ok, "{}", d.stderr);
    let body: serde_json::Value =
        serde_json::from_str(d.json()["DashboardBody"].as_str().unwrap()).unwrap();
    let props = &body["widgets"][0]["properties"];
    assert_eq!(
        props["metrics"],
        json!([["Workshop/App", "Requests", "Page", "home"]])
    );
    assert_eq!(props["stat"], "Sum");
    assert_eq!(props["period"], 3600);
    // It opens as a dashboard with the graph.
    b.click("#add-dash-result .note a");
    b.find("#dashboard [data-type=metric] svg.chart path.line");

    // In Korean, with the instance metrics of a running instance too.
    let ami = s.aws(&[
        "ec2",
        "describe-images",
        "--owners",
        "amazon",
        "--region",
        REGION,
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
        REGION,
    ]);
    assert!(run.ok, "{}", run.stderr);
    open(&b, &s, "ko", "/cw/metrics");
    for _ in 0..5 {
        b.click("#workshop [data-advance=\"60\"]");
        b.wait("advance", |b| {
            (b.js("return window.__advancing === false;", json!([])) == json!(true)).then_some(())
        });
    }
    b.choose("#metric-ns", &["AWS/EC2"]);
    b.choose("#metric-name", &["CPUUtilization"]);
    b.click("#metrics tr[data-id*='InstanceId']");
    b.wait_text("#metric-graph", "CPUUtilization");
    b.wait_text("main", "측정기준");
    b.screenshot("browser-ko");
    b.assert_no_errors();
}

#[test]
fn console_dashboard_from_put_dashboard_is_drawn_and_deleted() {
    let _turn = crate::webdriver::turn();
    let s = frozen();
    let Some(b) = Browser::start("dashboard") else {
        return;
    };
    publish(&s, "home", &[10.0, 20.0, 30.0]);
    publish(&s, "about", &[40.0, 50.0]);
    let body = json!({
        "start": "-PT3H",
        "widgets": [
            {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
                "title": "Traffic", "region": REGION, "period": 60, "stat": "Average", "view": "timeSeries",
                "metrics": [["Workshop/App", "Requests", "Page", "home"], [".", ".", ".", "about", {"stat": "Maximum"}],
                    [{"expression": "m1 + m2", "label": "both"}]],
                "annotations": {"horizontal": [{"value": 25, "label": "busy"}]}}},
            {"type": "text", "x": 12, "y": 0, "width": 12, "height": 3, "properties": {
                "markdown": "# Workshop <img src=x onerror=window.__xss=1>"}},
            {"type": "alarm", "x": 12, "y": 3, "width": 12, "height": 3, "properties": {"alarms": []}},
            {"type": "metric", "x": 0, "y": 6, "width": 6, "height": 6, "properties": {
                "view": "singleValue", "metrics": [["Workshop/App", "Requests", "Page", "home"]]}}
        ]
    });
    for name in ["Workshop-Board", "Spare"] {
        let put = s.aws(&[
            "cloudwatch",
            "put-dashboard",
            "--dashboard-name",
            name,
            "--dashboard-body",
            &body.to_string(),
            "--region",
            REGION,
        ]);
        assert!(put.ok, "{}", put.stderr);
    }
    open(&b, &s, "en", "/cw/dashboards");
    b.wait_text("#dashboards", "Workshop-Board");
    // Deleting from the list.
    b.click("#dashboards tr[data-id=Spare] [data-act=delete]");
    b.wait("Spare gone", |b| {
        (!b.text("#dashboards").contains("Spare")).then_some(())
    });
    b.click("#dashboards a[href$='Workshop-Board']");
    b.find("#dashboard section.widget");
    assert_eq!(count(&b, "#dashboard section.widget"), 4);
    // The metric widget: a graph per line, both with points and the annotation's line.
    b.wait("two graphs", |b| {
        (count(b, "#dashboard [data-type=metric] svg.chart") == 2).then_some(())
    });
    assert_eq!(
        count(&b, "#dashboard [data-type=metric] svg.chart path.line"),
        2
    );
    assert_eq!(
        count(&b, "#dashboard [data-type=metric] svg.chart .threshold"),
        2
    );
    let metric = all_text(&b, "#dashboard [data-type=metric]");
    assert!(metric.contains("Traffic"), "{metric}");
    assert!(metric.contains("Page=about (Maximum)"), "{metric}");
    assert!(metric.contains("math expressions"), "{metric}");
    // Text as text (no markup made), other types named as not supported.
    b.wait_text("#dashboard [data-type=text]", "# Workshop <img");
    assert_eq!(count(&b, "#dashboard img"), 0);
    b.wait_text("#dashboard [data-type=alarm]", "alarm are not supported");
    b.wait_text("#dashboard", "singleValue view is not supported");
    b.screenshot("drawn-en");

    b.click("#dash-delete");
    b.wait_text("#dashboards", "No dashboards yet");
    let left = s.aws(&["cloudwatch", "list-dashboards", "--region", REGION]);
    assert_eq!(
        left.json()["DashboardEntries"],
        json!([]),
        "{}",
        left.stdout
    );
    // A dashboard that isn't there: CloudWatch's own error, inline.
    b.goto(&format!("{}/_updraft/console/#/cw/dashboards/Nope", s.url));
    b.wait_text(".error", "Dashboard Nope does not exist");
    b.assert_no_errors();
}
