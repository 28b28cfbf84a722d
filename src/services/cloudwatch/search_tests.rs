//! SEARCH matching, Metrics Insights parsing and grouping, and the anomaly band model.

use std::collections::BTreeMap;

use super::super::anomaly::{Range, band};
use super::super::insights;
use super::super::math::Series;
use super::super::stats::Agg;
use super::super::store::MetricKey;
use super::*;

fn key(ns: &str, name: &str, dims: &[(&str, &str)]) -> MetricKey {
    MetricKey::new(
        ns,
        name,
        dims.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn search_schema_terms_and_booleans() {
    let cpu_a = key("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-a")]);
    let cpu_t = key("AWS/EC2", "CPUUtilization", &[("InstanceType", "t2.micro")]);
    let net_a = key("AWS/EC2", "NetworkIn", &[("InstanceId", "i-a")]);
    let cpu_two = key(
        "AWS/EC2",
        "CPUUtilization",
        &[("InstanceId", "i-b"), ("ImageId", "ami")],
    );
    let app = key("App", "CPUUtilization", &[("InstanceId", "i-a")]);
    let all = [&cpu_a, &cpu_t, &net_a, &cpu_two, &app];
    let found = |q: &str| -> Vec<usize> {
        let s = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        (0..all.len()).filter(|i| s.matches(all[*i])).collect()
    };
    assert_eq!(
        found(r#"{AWS/EC2,InstanceId} MetricName="CPUUtilization""#),
        [0]
    );
    assert_eq!(found("{AWS/EC2,InstanceId}"), [0, 2]);
    assert_eq!(found("{AWS/EC2, InstanceId, ImageId} cpu"), [3]);
    assert_eq!(found("cpu"), [0, 1, 3, 4]);
    assert_eq!(found("utilization micro"), [1]);
    assert_eq!(found("InstanceType=micro"), [1]);
    assert_eq!(found(r#"InstanceType="t2""#), Vec::<usize>::new());
    assert_eq!(found(r#"Namespace="App" OR NetworkIn"#), [2, 4]);
    assert_eq!(found("{AWS/EC2,InstanceId} NOT NetworkIn"), [0]);
    assert_eq!(found("(NetworkIn OR micro) AND i-a"), [2]);
    assert_eq!(
        words("CPUUtilization"),
        ["cpuutilization", "cpu", "utilization"]
    );
    for bad in ["", "{AWS/EC2", "(cpu", "MetricName=", "{}"] {
        assert!(parse(bad).is_err(), "{bad}");
    }
    assert_eq!(labels(&[&cpu_a, &cpu_two]), ["i-a", "ami i-b"]);
    assert_eq!(
        labels(&[&cpu_a, &net_a]),
        ["i-a CPUUtilization", "i-a NetworkIn"]
    );
}

#[test]
fn insights_parses_the_documented_grammar() {
    let q = insights::parse(
        r#"SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", AutoScalingGroupName) WHERE AutoScalingGroupName LIKE 'web%' AND AutoScalingGroupName != 'web-old' GROUP BY AutoScalingGroupName ORDER BY MAX() DESC LIMIT 2"#,
    )
    .unwrap();
    let web = key(
        "AWS/EC2",
        "CPUUtilization",
        &[("AutoScalingGroupName", "web-1")],
    );
    let old = key(
        "AWS/EC2",
        "CPUUtilization",
        &[("AutoScalingGroupName", "web-old")],
    );
    let extra = key(
        "AWS/EC2",
        "CPUUtilization",
        &[("AutoScalingGroupName", "web-2"), ("InstanceId", "i-1")],
    );
    assert!(q.selects(&web) && !q.selects(&old) && !q.selects(&extra));
    let from = insights::parse(
        r#"select sum(CPUUtilization) from "AWS/EC2" where InstanceId in ('i-1', 'i-2')"#,
    )
    .unwrap();
    assert!(from.selects(&extra) && !from.selects(&web));
    let mut groups = BTreeMap::new();
    for (g, vals) in [("a", [1.0, 2.0]), ("b", [10.0, 0.0]), ("c", [3.0, 3.0])] {
        let mut b = BTreeMap::new();
        b.insert(0, Agg::value(vals[0]));
        b.insert(60, Agg::value(vals[1]));
        groups.insert(g.to_owned(), b);
    }
    let out = q.finish(groups);
    let labels: Vec<&str> = out.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["b", "c"]);
    assert_eq!(out[0].1, [(0, 10.0), (60, 0.0)].into());
    assert!(insights::is_query("\n select\tAVG(x) FROM ns") && !insights::is_query("SELECTED + 1"));
    for bad in [
        "SELECT MEDIAN(x) FROM ns",
        "SELECT AVG(x) FROM ns WHERE a = 'b' OR c = 'd'",
        "SELECT AVG(x) FROM ns WHERE a > 'b'",
        "SELECT AVG(x) FROM ns LIMIT 0",
        "SELECT AVG(x) FROM ns HAVING 1",
        "SELECT AVG(x)",
    ] {
        assert!(insights::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn band_uses_the_trailing_window_then_the_season() {
    // Alternating 40/60 every minute for an hour: mean 50, σ 10.
    let history: Series = (0..60)
        .map(|i| (i * 60, if i % 2 == 0 { 40.0 } else { 60.0 }))
        .collect();
    let (lo, hi) = band(&history, &[3600, 30], 2.0, &[]);
    assert_eq!((lo[&3600], hi[&3600]), (30.0, 70.0));
    // Too little history before t = 30 s gives no band point.
    assert!(!lo.contains_key(&30));
    // Excluded ranges leave the model.
    let excluded = [Range {
        start_time: 0.0,
        end_time: 3000.0,
    }];
    let (lo, hi) = band(&history, &[3600], 2.0, &excluded);
    assert_eq!((lo[&3600], hi[&3600]), (30.0, 70.0));
    // A flat metric still has a band 1 % of its mean wide per σ.
    let flat: Series = (0..10).map(|i| (i * 60, 100.0)).collect();
    let (lo, hi) = band(&flat, &[600], 3.0, &[]);
    assert_eq!((lo[&600], hi[&600]), (97.0, 103.0));
    // A week later the same half hour of the week wins over the trailing window.
    let week = 7 * 86_400;
    let mut seasonal = history.clone();
    seasonal.extend((0..30).map(|i| (week - 3600 + i * 60, 500.0)));
    let (lo, hi) = band(&seasonal, &[week + 600], 1.0, &[]);
    assert_eq!((lo[&(week + 600)], hi[&(week + 600)]), (40.0, 60.0));
}
