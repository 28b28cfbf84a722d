//! CloudWatch metrics through real clients: PutMetricData, GetMetricStatistics, ListMetrics
//! and GetMetricData, the same script over JSON (current botocore), query and CBOR.

use serde_json::{Value, json};
use updraft::Config;

use crate::cli::forced_model;
use crate::common::{BOTO3_PRELUDE, TestServer};

/// Extra Python for CloudWatch tests: the virtual clock and UTC datetimes.
pub const CW_PRELUDE: &str = r#"
import datetime, time, urllib.request
UTC = datetime.timezone.utc
def clock(advance=None):
    body = json.dumps({"advance_seconds": advance}).encode() if advance else None
    req = urllib.request.Request(os.environ["ENDPOINT"] + "/_updraft/clock", data=body, method="POST" if body else "GET")
    return json.load(urllib.request.urlopen(req))["epoch_seconds"]
def at(t):
    return datetime.datetime.fromtimestamp(t, tz=UTC)
def advance_to(t):
    now = clock()
    if t > now:
        clock(t - now)
    time.sleep(0.05)
def epoch(d):
    return d.timestamp() if hasattr(d, "timestamp") else float(d)
"#;

/// A server on a frozen clock.
/// A server on a frozen clock; SNS subscriptions confirm at once so alarm notifications can
/// be read from the inbox.
pub fn frozen_server() -> TestServer {
    TestServer::with_config(Config {
        time_scale: 0.0,
        sns_auto_confirm: true,
        ..Default::default()
    })
}

fn metrics_script(ns: &str) -> String {
    let script = r#"
c = client('cloudwatch')
now = clock()
base = now - now % 3600 - 3600   # an hour-aligned start an hour or two ago
out = {'proto': c.meta.service_model.resolved_protocol}
c.put_metric_data(Namespace=NS, MetricData=[
  {'MetricName': 'Latency', 'Dimensions': [{'Name': 'b', 'Value': '2'}, {'Name': 'a', 'Value': '1'}], 'Timestamp': at(base + 10), 'Values': [1.0, 10.0], 'Counts': [2, 4], 'Unit': 'Count'},
  {'MetricName': 'Mixed', 'Timestamp': at(base + 70), 'Value': 11},
  {'MetricName': 'Mixed', 'Timestamp': at(base + 80), 'StatisticValues': {'SampleCount': 10, 'Sum': 55, 'Minimum': 1, 'Maximum': 10}},
  {'MetricName': 'Units', 'Timestamp': at(base + 130), 'Value': 60000, 'Unit': 'Milliseconds'},
  {'MetricName': 'Units', 'Timestamp': at(base + 140), 'Value': 60, 'Unit': 'Seconds'},
  {'MetricName': 'Aligned', 'Timestamp': at(base + 180), 'Value': 1},
  {'MetricName': 'Aligned', 'Timestamp': at(base + 480), 'Value': 2},
])
c.put_metric_data(Namespace=NS, MetricData=[{'MetricName': 'Pct', 'Timestamp': at(base + 200), 'Value': float(v)} for v in range(1, 11)])
def stats(name, **kw):
    kw.setdefault('StartTime', at(base)); kw.setdefault('EndTime', at(base + 600)); kw.setdefault('Period', 60)
    r = c.get_metric_statistics(Namespace=NS, MetricName=name, **kw)
    pts = sorted(r['Datapoints'], key=lambda p: (epoch(p['Timestamp']), p['Unit']))
    for p in pts: p['Timestamp'] = epoch(p['Timestamp']) - base
    return {'label': r['Label'], 'points': pts}
out['latency'] = stats('Latency', Dimensions=[{'Name': 'a', 'Value': '1'}, {'Name': 'b', 'Value': '2'}], Statistics=['SampleCount', 'Sum', 'Maximum'])
out['latency_nodims'] = stats('Latency', Statistics=['Sum'])
out['mixed'] = stats('Mixed', Statistics=['Sum', 'SampleCount', 'Minimum', 'Maximum', 'Average'])
out['units'] = stats('Units', Statistics=['Sum'])
out['percent'] = stats('Units', Statistics=['Sum'], Unit='Percent')
out['aligned'] = stats('Aligned', Statistics=['Sum'], StartTime=at(base + 150), Period=300)
out['pct'] = stats('Pct', ExtendedStatistics=['p50', 'p90', 'p99'])
out['err_aws'] = err(c, lambda: c.put_metric_data(Namespace='AWS/EC2', MetricData=[{'MetricName': 'm', 'Value': 1}]))
out['err_both'] = err(c, lambda: c.put_metric_data(Namespace=NS, MetricData=[{'MetricName': 'm', 'Value': 1, 'Values': [1]}]))
out['err_old'] = err(c, lambda: c.put_metric_data(Namespace=NS, MetricData=[{'MetricName': 'm', 'Value': 1, 'Timestamp': at(now - 15 * 86400)}] * 2))
out['err_res'] = err(c, lambda: c.put_metric_data(Namespace=NS, MetricData=[{'MetricName': 'm', 'Value': 1, 'StorageResolution': 300}]))
out['err_many'] = err(c, lambda: c.put_metric_data(Namespace=NS, MetricData=[{'MetricName': 'm', 'Value': 1}] * 1001))
out['err_equal'] = err(c, lambda: c.get_metric_statistics(Namespace=NS, MetricName='m', StartTime=at(base), EndTime=at(base), Period=60, Statistics=['Sum']))
out['err_points'] = err(c, lambda: c.get_metric_statistics(Namespace=NS, MetricName='m', StartTime=at(now - 86400), EndTime=at(now), Period=1, Statistics=['Sum']))
out['list'] = c.list_metrics(Namespace=NS, MetricName='Latency')['Metrics']
out['list_filter'] = [m['MetricName'] for m in c.list_metrics(Namespace=NS, Dimensions=[{'Name': 'a'}])['Metrics']]
out['list_recent'] = sorted(m['MetricName'] for m in c.list_metrics(Namespace=NS, RecentlyActive='PT3H')['Metrics'])
q = lambda i, name, stat, period: {'Id': i, 'MetricStat': {'Metric': {'Namespace': NS, 'MetricName': name}, 'Period': period, 'Stat': stat}}
r = c.get_metric_data(MetricDataQueries=[q('m1', 'Mixed', 'Sum', 60), q('m2', 'Mixed', 'Minimum', 30)], StartTime=at(base), EndTime=at(base + 600))
out['labels'] = [x['Label'] for x in r['MetricDataResults']]
r = c.get_metric_data(MetricDataQueries=[q('u', 'Units', 'Sum', 300)], StartTime=at(base), EndTime=at(base + 600))
out['multi'] = {'values': r['MetricDataResults'][0]['Values'], 'messages': r['MetricDataResults'][0].get('Messages')}
r = c.get_metric_data(MetricDataQueries=[q('a', 'Aligned', 'Sum', 60), q('p', 'Pct', 'SampleCount', 60), {'Id': 'e', 'Expression': 'FILL(a, 0) * 10 + SUM(METRICS())', 'Label': 'math'}], StartTime=at(base), EndTime=at(base + 600), ScanBy='TimestampAscending')
out['math'] = {x['Id']: [[epoch(t) - base for t in x['Timestamps']], x['Values'], x['Label']] for x in r['MetricDataResults']}
out['err_stat'] = err(c, lambda: c.get_metric_data(MetricDataQueries=[q('m1', 'Mixed', 'Bogus', 60)], StartTime=at(base), EndTime=at(base + 60)))
out['err_expr'] = err(c, lambda: c.get_metric_data(MetricDataQueries=[{'Id': 'e', 'Expression': 'SUM(('}], StartTime=at(base), EndTime=at(base + 60)))
pages = c.get_metric_data(MetricDataQueries=[q('p', 'Pct', 'Sum', 60), q('a', 'Aligned', 'Sum', 60)], StartTime=at(base), EndTime=at(base + 600), MaxDatapoints=2)
out['page1'] = [[x['Id'], len(x['Values']), x['StatusCode']] for x in pages['MetricDataResults']] + [bool(pages.get('NextToken'))]
print(json.dumps(out, default=str))
"#;
    format!("{BOTO3_PRELUDE}{CW_PRELUDE}\nNS = '{ns}'\n{script}")
}

fn check_metrics(out: &Value, proto: &str) {
    assert_eq!(out["proto"], proto);
    let p = |k: &str| out[k]["points"].clone();
    assert_eq!(out["latency"]["label"], "Latency");
    assert_eq!(
        p("latency"),
        json!([{"Timestamp": 0.0, "SampleCount": 6.0, "Sum": 42.0, "Maximum": 10.0, "Unit": "Count"}]),
        "{proto}: {out}"
    );
    // A query without dimensions sees only data published without dimensions.
    assert_eq!(p("latency_nodims"), json!([]), "{proto}");
    assert_eq!(
        p("mixed"),
        json!([{"Timestamp": 60.0, "SampleCount": 11.0, "Average": 6.0, "Sum": 66.0, "Minimum": 1.0, "Maximum": 11.0, "Unit": "None"}]),
        "{proto}"
    );
    assert_eq!(
        p("units"),
        json!([{"Timestamp": 120.0, "Sum": 60000.0, "Unit": "Milliseconds"}, {"Timestamp": 120.0, "Sum": 60.0, "Unit": "Seconds"}]),
        "{proto}"
    );
    assert_eq!(p("percent"), json!([]), "{proto}");
    // Buckets follow the (minute-rounded) StartTime, not the 5-minute clock.
    let aligned: Vec<f64> = p("aligned")
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["Timestamp"].as_f64().unwrap())
        .collect();
    assert_eq!(aligned, vec![120.0, 420.0], "{proto}");
    assert_eq!(
        p("pct")[0]["ExtendedStatistics"],
        json!({"p50": 5.0, "p90": 9.0, "p99": 10.0}),
        "{proto}"
    );
    let e = |k: &str| (out[k]["code"].clone(), out[k]["message"].clone());
    assert_eq!(
        e("err_aws"),
        (
            json!("InvalidParameterValue"),
            json!("The value AWS/ for parameter Namespace is invalid.")
        ),
        "{proto}"
    );
    assert_eq!(
        out["err_aws"]["modelled"],
        json!(["InvalidParameterValueException"]),
        "{proto}"
    );
    assert_eq!(
        out["err_both"]["code"], "InvalidParameterCombination",
        "{proto}"
    );
    assert_eq!(
        out["err_old"]["message"],
        "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks.\nThe parameter MetricData.member.2.Timestamp must specify a time within the past two weeks.",
        "{proto}"
    );
    assert_eq!(
        out["err_res"]["message"],
        "The parameter MetricData.member.1.StorageResolution must be a value in the set [ 1, 60 ].",
        "{proto}"
    );
    assert_eq!(
        out["err_many"]["message"],
        "The collection MetricData must not have a size greater than 1000.",
        "{proto}"
    );
    assert_eq!(
        e("err_equal"),
        (
            json!("InvalidParameterValue"),
            json!("The parameter StartTime must be less than the parameter EndTime.")
        ),
        "{proto}"
    );
    assert_eq!(
        out["err_points"]["code"], "InvalidParameterCombination",
        "{proto}"
    );
    assert!(
        out["err_points"]["message"].as_str().unwrap().starts_with(
            "You have requested up to 86400 datapoints, which exceeds the limit of 1440."
        ),
        "{proto}: {out}"
    );
    // Dimensions come back sorted by name.
    assert_eq!(
        out["list"][0]["Dimensions"],
        json!([{"Name": "a", "Value": "1"}, {"Name": "b", "Value": "2"}]),
        "{proto}"
    );
    assert_eq!(out["list_filter"], json!(["Latency"]), "{proto}");
    assert_eq!(
        out["list_recent"],
        json!(["Aligned", "Latency", "Mixed", "Pct", "Units"]),
        "{proto}"
    );
    assert_eq!(
        out["labels"],
        json!(["Mixed Sum 60", "Mixed Minimum 30"]),
        "{proto}"
    );
    assert_eq!(out["multi"]["values"], json!([60000.0]), "{proto}");
    assert_eq!(
        out["multi"]["messages"],
        json!([{"Code": "MultipleUnits", "Value": "Multiple units returned: '[Milliseconds, Seconds]'"}]),
        "{proto}"
    );
    // a = {180: 1, 480: 2}; p = {180: 10 samples}; FILL(a, 0) * 10 + SUM([a, p]).
    let math = &out["math"]["e"];
    assert_eq!(math[2], "math", "{proto}");
    let ts: Vec<f64> = serde_json::from_value(math[0].clone()).unwrap();
    let vals: Vec<f64> = serde_json::from_value(math[1].clone()).unwrap();
    assert_eq!(ts.len(), 10, "{proto}: {math}");
    let at = |t: f64| vals[ts.iter().position(|x| *x == t).unwrap()];
    assert_eq!(
        (at(0.0), at(180.0), at(480.0)),
        (0.0, 10.0 + 1.0 + 10.0, 20.0 + 2.0),
        "{proto}"
    );
    assert_eq!(out["err_stat"]["code"], "ValidationError", "{proto}");
    assert_eq!(
        out["err_stat"]["message"],
        "The value for parameter MetricDataQueries.member.1.MetricStat.Stat is not a valid statistic.",
        "{proto}"
    );
    assert_eq!(out["err_expr"]["code"], "ValidationError", "{proto}");
    assert_eq!(
        out["page1"],
        json!([["p", 1, "Complete"], ["a", 1, "PartialData"], true]),
        "{proto}"
    );
}

#[test]
fn cloudwatch_metrics_over_json_query_and_cbor() {
    let server = frozen_server();
    let query = forced_model("query");
    let cbor = forced_model("smithy-rpc-v2-cbor");
    for (i, (path, proto)) in [
        (None, "json"),
        (Some(query.path()), "query"),
        (Some(cbor.path()), "smithy-rpc-v2-cbor"),
    ]
    .into_iter()
    .enumerate()
    {
        let env: Vec<(&str, &str)> = path.map(|p| vec![("AWS_DATA_PATH", p)]).unwrap_or_default();
        let out = server.boto3_with_env(&metrics_script(&format!("App{i}")), &env);
        check_metrics(&out, proto);
    }
}

#[test]
fn cloudwatch_metrics_through_the_cli() {
    let server = frozen_server();
    let put = server.aws(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "Web",
        "--metric-name",
        "Requests",
        "--value",
        "3",
        "--unit",
        "Count",
    ]);
    assert!(put.ok, "{}", put.stderr);
    let now = server.state.clock.now();
    let start = updraft::protocol::timestamp::format_iso8601(now - 600.0);
    let end = updraft::protocol::timestamp::format_iso8601(now + 60.0);
    let got = server
        .aws(&[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "Web",
            "--metric-name",
            "Requests",
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--period",
            "60",
            "--statistics",
            "Sum",
        ])
        .json();
    assert_eq!(got["Datapoints"][0]["Sum"], 3.0, "{got}");
    assert_eq!(got["Datapoints"][0]["Unit"], "Count", "{got}");
    let listed = server
        .aws(&["cloudwatch", "list-metrics", "--namespace", "Web"])
        .json();
    assert_eq!(listed["Metrics"][0]["MetricName"], "Requests", "{listed}");
    let refused = server.aws(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "AWS/EC2",
        "--metric-name",
        "x",
        "--value",
        "1",
    ]);
    assert_eq!(refused.error_code(), "InvalidParameterValue");

    // An alarm on that metric, through the CLI: created, evaluated at once (data in range).
    let put = server.aws(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "busy",
        "--namespace",
        "Web",
        "--metric-name",
        "Requests",
        "--statistic",
        "Sum",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "2",
        "--comparison-operator",
        "GreaterThanThreshold",
    ]);
    assert!(put.ok, "{}", put.stderr);
    server.state.clock.advance(120.0);
    let mut alarm = Value::Null;
    for _ in 0..100 {
        alarm = server
            .aws(&["cloudwatch", "describe-alarms", "--alarm-names", "busy"])
            .json();
        if alarm["MetricAlarms"][0]["StateValue"] == "ALARM" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(alarm["MetricAlarms"][0]["StateValue"], "ALARM", "{alarm}");
    assert!(
        alarm["MetricAlarms"][0]["StateReason"]
            .as_str()
            .unwrap()
            .starts_with("Threshold Crossed: 1 datapoint [3.0 ("),
        "{alarm}"
    );
    assert_eq!(alarm["CompositeAlarms"], json!([]));
    let missing = server.aws(&[
        "cloudwatch",
        "set-alarm-state",
        "--alarm-name",
        "nope",
        "--state-value",
        "OK",
        "--state-reason",
        "x",
    ]);
    assert_eq!(missing.error_code(), "ResourceNotFound");
}
