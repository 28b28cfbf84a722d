//! Metric math beyond arithmetic through real clients on a frozen clock: SEARCH over the
//! stored metrics with SORT, SLICE, FIRST/LAST, REMOVE_EMPTY and TIME_SERIES on its result,
//! Metrics Insights queries (GROUP BY, ORDER BY, WHERE) in GetMetricData and in an alarm,
//! anomaly detectors through the aws CLI, and an ANOMALY_DETECTION_BAND alarm going to ALARM
//! on an outlier.

use serde_json::{Value, json};

use crate::cli::forced_model;
use crate::cloudwatch::{CW_PRELUDE, frozen_server};
use crate::common::BOTO3_PRELUDE;

const DATA: &str = r#"
c = client('cloudwatch')
out = {}
now = clock()
T = now - now % 60          # the current minute
base = T - 300              # five whole minutes of data: base, ..., T - 60
def put(name, dims, value):
    c.put_metric_data(Namespace='Shop', MetricData=[
        {'MetricName': name, 'Dimensions': [{'Name': k, 'Value': v} for k, v in dims], 'Timestamp': at(base + 60 * i + 10), 'Value': value}
        for i in range(5)])
put('CPUUtilization', [('InstanceId', 'i-1')], 10.0)
put('CPUUtilization', [('InstanceId', 'i-2')], 30.0)
put('CPUUtilization', [('InstanceId', 'i-3')], 50.0)
put('CPUUtilization', [('AutoScalingGroupName', 'web')], 10.0)
put('CPUUtilization', [('AutoScalingGroupName', 'web')], 30.0)
put('CPUUtilization', [('AutoScalingGroupName', 'api')], 70.0)
put('Latency', [('InstanceId', 'i-1')], 5.0)
def gmd(expr, period=60, label=None):
    q = {'Id': 'q', 'Expression': expr, 'Period': period}
    if label:
        q['Label'] = label
    r = c.get_metric_data(MetricDataQueries=[q], StartTime=at(base), EndTime=at(T), ScanBy='TimestampAscending')
    return [[x['Label'], x['Values'], [epoch(t) - base for t in x['Timestamps']]] for x in r['MetricDataResults']]
"#;

#[test]
fn search_and_array_functions() {
    let server = frozen_server();
    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{DATA}\n{}",
        r#"
S = "SEARCH('{Shop,InstanceId} MetricName=\"CPUUtilization\"', 'Average', 60)"
out['search'] = gmd(S)
out['all_instance'] = [x[0] for x in gmd("SEARCH('{Shop,InstanceId}', 'Sum', 300)", 300)]
out['partial'] = [x[0] for x in gmd("SEARCH('Shop utilization i-1', 'Maximum', 60)")]
out['p90'] = gmd("SEARCH('{Shop,AutoScalingGroupName} web', 'p90', 60)")
out['top2'] = [x[0] for x in gmd("SLICE(SORT(%s, AVG, DESC), 0, 2)" % S)]
out['sort_limit'] = [x[0] for x in gmd("SORT(%s, MAX, ASC, 1)" % S)]
out['first'] = gmd("FIRST(SORT(%s, AVG, DESC))" % S, label='busiest')
out['last'] = gmd("LAST(%s)" % S)[0][1]
out['remove_empty'] = [x[0] for x in gmd("REMOVE_EMPTY(SEARCH('{Shop,InstanceId} Nothing OR Latency', 'Average', 60))")]
out['sum_of_search'] = gmd("SUM(%s)" % S)[0][1]
out['time_series'] = gmd("TIME_SERIES(7)")[0][1]
out['floor'] = gmd("FLOOR(LAST(%s) / 7)" % S)[0][1]
out['err_search'] = err(c, lambda: gmd("SEARCH('{Shop', 'Average', 60)"))
out['err_stat'] = err(c, lambda: gmd("SEARCH('Shop', 'Middle', 60)"))
out['err_sort'] = err(c, lambda: gmd("SORT(%s, MEDIAN, DESC)" % S))
out['err_sqrt'] = err(c, lambda: gmd("SQRT(TIME_SERIES(4))"))
print(json.dumps(out))
"#
    ));
    let five = |v: f64| json!([v, v, v, v, v]);
    let stamps = json!([0.0, 60.0, 120.0, 180.0, 240.0]);
    assert_eq!(
        out["search"],
        json!([
            ["i-1", five(10.0), stamps],
            ["i-2", five(30.0), stamps],
            ["i-3", five(50.0), stamps]
        ]),
        "{out}"
    );
    assert_eq!(
        out["all_instance"],
        json!([
            "i-1 CPUUtilization",
            "i-2 CPUUtilization",
            "i-3 CPUUtilization",
            "i-1 Latency"
        ])
    );
    assert_eq!(out["partial"], json!(["i-1"]));
    assert_eq!(out["p90"], json!([["web", five(30.0), stamps]]), "{out}");
    assert_eq!(out["top2"], json!(["i-3", "i-2"]));
    assert_eq!(out["sort_limit"], json!(["i-1"]));
    assert_eq!(out["first"], json!([["busiest", five(50.0), stamps]]));
    assert_eq!(out["last"], five(50.0));
    assert_eq!(out["remove_empty"], json!(["i-1"]));
    assert_eq!(out["sum_of_search"], five(90.0));
    assert_eq!(out["time_series"], five(7.0));
    assert_eq!(out["floor"], five(7.0));
    for e in ["err_search", "err_stat", "err_sort", "err_sqrt"] {
        assert_eq!(out[e]["code"], "ValidationError", "{e}: {out}");
    }
    assert!(
        out["err_sqrt"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Unsupported function SQRT"),
        "{out}"
    );
}

#[test]
fn metrics_insights_queries_and_alarm() {
    let server = frozen_server();
    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}{DATA}\n{}",
        r#"
out['group'] = gmd('SELECT AVG(CPUUtilization) FROM SCHEMA(Shop, AutoScalingGroupName) GROUP BY AutoScalingGroupName ORDER BY AVG() DESC')
out['limit'] = [x[0] for x in gmd('SELECT MAX(CPUUtilization) FROM Shop GROUP BY InstanceId ORDER BY MAX() ASC LIMIT 2')]
out['where'] = gmd("SELECT MAX(CPUUtilization) FROM SCHEMA(\"Shop\", InstanceId) WHERE InstanceId != 'i-3'")
out['count'] = gmd('select count(CPUUtilization) from "Shop"')[0][1]
out['in'] = gmd("SELECT SUM(CPUUtilization) FROM Shop WHERE InstanceId IN ('i-1', 'i-3')")[0][1]
out['like'] = gmd("SELECT AVG(CPUUtilization) FROM Shop WHERE AutoScalingGroupName LIKE 'we%'")[0][1]
out['err_func'] = err(c, lambda: gmd('SELECT MEDIAN(CPUUtilization) FROM Shop'))
out['err_or'] = err(c, lambda: gmd("SELECT AVG(CPUUtilization) FROM Shop WHERE InstanceId = 'i-1' OR InstanceId = 'i-2'"))
q = {'Id': 'q1', 'Expression': "SELECT AVG(CPUUtilization) FROM SCHEMA(Shop, AutoScalingGroupName) WHERE AutoScalingGroupName = 'api'", 'Period': 60, 'ReturnData': True}
c.put_metric_alarm(AlarmName='api-hot', Metrics=[q], EvaluationPeriods=1, Threshold=50.0, ComparisonOperator='GreaterThanThreshold')
q2 = dict(q, Expression=q['Expression'].replace("'api'", "'web'"))
c.put_metric_alarm(AlarmName='web-hot', Metrics=[q2], EvaluationPeriods=1, Threshold=50.0, ComparisonOperator='GreaterThanThreshold')
def state(name):
    for _ in range(150):
        a = c.describe_alarms(AlarmNames=[name])['MetricAlarms'][0]
        if a['StateValue'] != 'INSUFFICIENT_DATA':
            break
        time.sleep(0.02)
    return [a['StateValue'], a['StateReason']]
out['api'] = state('api-hot')
out['web'] = state('web-hot')
grouped = dict(q, Expression=q['Expression'] + ' GROUP BY AutoScalingGroupName')
out['err_alarm_group'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', Metrics=[grouped], EvaluationPeriods=1, Threshold=1.0, ComparisonOperator='GreaterThanThreshold'))
search = {'Id': 's', 'Expression': "SEARCH('Shop', 'Average', 60)", 'Period': 60}
out['err_alarm_search'] = err(c, lambda: c.put_metric_alarm(AlarmName='x', Metrics=[search], EvaluationPeriods=1, Threshold=1.0, ComparisonOperator='GreaterThanThreshold'))
print(json.dumps(out))
"#
    ));
    let five = |v: f64| json!([v, v, v, v, v]);
    let stamps = json!([0.0, 60.0, 120.0, 180.0, 240.0]);
    assert_eq!(
        out["group"],
        json!([["api", five(70.0), stamps], ["web", five(20.0), stamps]]),
        "{out}"
    );
    assert_eq!(out["limit"], json!(["i-1", "i-2"]), "{out}");
    assert_eq!(out["where"], json!([["q", five(30.0), stamps]]), "{out}");
    assert_eq!(out["count"], five(6.0), "{out}");
    assert_eq!(out["in"], five(60.0), "{out}");
    assert_eq!(out["like"], five(20.0), "{out}");
    for e in ["err_func", "err_or", "err_alarm_group", "err_alarm_search"] {
        assert_eq!(out[e]["code"], "ValidationError", "{e}: {out}");
    }
    assert!(
        out["err_func"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("MEDIAN"),
        "{out}"
    );
    assert_eq!(out["api"][0], "ALARM", "{out}");
    assert!(
        out["api"][1]
            .as_str()
            .unwrap_or_default()
            .starts_with("Threshold Crossed: 1 datapoint [70.0 ("),
        "{out}"
    );
    assert_eq!(out["web"][0], "OK", "{out}");
}

#[test]
fn anomaly_band_alarm_goes_to_alarm_on_an_outlier() {
    let server = frozen_server();
    let out = server.boto3(&format!(
        "{BOTO3_PRELUDE}{CW_PRELUDE}\n{}",
        r#"
c = client('cloudwatch')
out = {}
now = clock()
T = now - now % 60
# An hour of orders alternating 40 / 60 per minute, up to the minute before T.
c.put_metric_data(Namespace='Shop', MetricData=[
    {'MetricName': 'Orders', 'Timestamp': at(T - 3600 + 60 * i + 5), 'Value': 40.0 if i % 2 == 0 else 60.0} for i in range(60)])
m1 = {'Id': 'm1', 'MetricStat': {'Metric': {'Namespace': 'Shop', 'MetricName': 'Orders'}, 'Period': 60, 'Stat': 'Average'}, 'ReturnData': True}
ad1 = {'Id': 'ad1', 'Expression': 'ANOMALY_DETECTION_BAND(m1, 2)', 'Label': 'Orders band', 'ReturnData': True}
r = c.get_metric_data(MetricDataQueries=[m1, ad1], StartTime=at(T - 180), EndTime=at(T), ScanBy='TimestampAscending')
out['band'] = [[x['Id'], x['Label'], [round(v) for v in x['Values']]] for x in r['MetricDataResults']]
c.put_metric_alarm(AlarmName='orders-odd', Metrics=[m1, ad1], ThresholdMetricId='ad1', EvaluationPeriods=1,
    ComparisonOperator='LessThanLowerOrGreaterThanUpperThreshold')
def get():
    return c.describe_alarms(AlarmNames=['orders-odd'])['MetricAlarms'][0]
def wait(want):
    for _ in range(150):
        a = get()
        if a['StateValue'] == want:
            break
        time.sleep(0.02)
    return [a['StateValue'], a['StateReason']]
out['normal'] = wait('OK')
out['threshold_metric_id'] = [get().get('ThresholdMetricId'), get().get('Threshold')]
# An outlier in minute T, judged at T + 65.
c.put_metric_data(Namespace='Shop', MetricData=[{'MetricName': 'Orders', 'Timestamp': at(T + 10), 'Value': 250.0}])
advance_to(T + 65)
out['outlier'] = wait('ALARM')
# Errors: a band operator without ThresholdMetricId, a static one with it, a wrong id.
base = dict(AlarmName='bad', EvaluationPeriods=1, Metrics=[m1, ad1])
out['err_no_id'] = err(c, lambda: c.put_metric_alarm(ComparisonOperator='GreaterThanUpperThreshold', **base))
out['err_static'] = err(c, lambda: c.put_metric_alarm(ComparisonOperator='GreaterThanThreshold', Threshold=1.0, ThresholdMetricId='ad1', **base))
out['err_wrong_id'] = err(c, lambda: c.put_metric_alarm(ComparisonOperator='GreaterThanUpperThreshold', ThresholdMetricId='m1', **base))
print(json.dumps(out))
"#
    ));
    assert_eq!(
        out["band"],
        json!([
            ["m1", "Orders", [60, 40, 60]],
            ["ad1", "Orders band Lower", [30, 30, 30]],
            ["ad1", "Orders band Upper", [70, 70, 70]]
        ]),
        "{out}"
    );
    assert_eq!(out["normal"][0], "OK", "{out}");
    assert_eq!(out["threshold_metric_id"], json!(["ad1", null]), "{out}");
    assert_eq!(out["outlier"][0], "ALARM", "{out}");
    let reason = out["outlier"][1].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("Threshold Crossed: 1 datapoint [250.0 (")
            && reason.contains("greater than the upper thresholds [70.0]"),
        "{out}"
    );
    for e in ["err_no_id", "err_static", "err_wrong_id"] {
        assert_eq!(out[e]["code"], "ValidationError", "{e}: {out}");
    }
}

#[test]
fn anomaly_detectors_through_the_cli() {
    let server = frozen_server();
    let cli = |args: &[&str]| -> Value {
        let r = server.aws(args);
        assert!(r.ok, "{args:?}: {}", r.stderr);
        r.json()
    };
    let single =
        "Namespace=Shop,MetricName=Orders,Dimensions=[{Name=Store,Value=north}],Stat=Average";
    let put = server.aws(&[
        "cloudwatch",
        "put-anomaly-detector",
        "--single-metric-anomaly-detector",
        single,
        "--configuration",
        "ExcludedTimeRanges=[{StartTime=2026-01-01T00:00:00Z,EndTime=2026-01-02T00:00:00Z}]",
    ]);
    assert!(put.ok, "{}", put.stderr);
    let listed = cli(&[
        "cloudwatch",
        "describe-anomaly-detectors",
        "--namespace",
        "Shop",
    ]);
    let d = &listed["AnomalyDetectors"][0];
    assert_eq!(
        d["SingleMetricAnomalyDetector"]["MetricName"], "Orders",
        "{listed}"
    );
    assert_eq!(
        d["SingleMetricAnomalyDetector"]["Dimensions"][0]["Value"],
        "north"
    );
    assert_eq!(d["Stat"], "Average");
    assert_eq!(d["StateValue"], "TRAINED");
    assert_eq!(
        // The CLI v1 prints the wire's epoch seconds (JSON protocol).
        d["Configuration"]["ExcludedTimeRanges"][0]["StartTime"],
        1_767_225_600,
        "{listed}"
    );
    // The same detector over the query (XML) and CBOR protocols.
    for protocol in ["query", "smithy-rpc-v2-cbor"] {
        let model = forced_model(protocol);
        let r = server.aws_with_env(
            &["cloudwatch", "describe-anomaly-detectors"],
            &[("AWS_DATA_PATH", model.path())],
        );
        assert!(r.ok, "{protocol}: {}", r.stderr);
        let d2 = &r.json()["AnomalyDetectors"][0];
        assert_eq!(
            d2["SingleMetricAnomalyDetector"], d["SingleMetricAnomalyDetector"],
            "{protocol}"
        );
        assert!(
            !d2["Configuration"]["ExcludedTimeRanges"][0]["EndTime"].is_null(),
            "{protocol}: {d2}"
        );
    }
    let other = cli(&[
        "cloudwatch",
        "describe-anomaly-detectors",
        "--namespace",
        "Other",
    ]);
    assert_eq!(other["AnomalyDetectors"], json!([]));
    let math = cli(&[
        "cloudwatch",
        "describe-anomaly-detectors",
        "--anomaly-detector-types",
        "METRIC_MATH",
    ]);
    assert_eq!(math["AnomalyDetectors"], json!([]));
    let bad_stat = server.aws(&[
        "cloudwatch",
        "put-anomaly-detector",
        "--single-metric-anomaly-detector",
        "Namespace=Shop,MetricName=Orders,Stat=Middle",
    ]);
    assert_eq!(
        bad_stat.error_code(),
        "InvalidParameterValue",
        "{}",
        bad_stat.stderr
    );
    let del = server.aws(&[
        "cloudwatch",
        "delete-anomaly-detector",
        "--single-metric-anomaly-detector",
        single,
    ]);
    assert!(del.ok, "{}", del.stderr);
    let again = server.aws(&[
        "cloudwatch",
        "delete-anomaly-detector",
        "--single-metric-anomaly-detector",
        single,
    ]);
    assert_eq!(
        again.error_code(),
        "ResourceNotFoundException",
        "{}",
        again.stderr
    );
    let empty = cli(&["cloudwatch", "describe-anomaly-detectors"]);
    assert_eq!(empty["AnomalyDetectors"], json!([]));
}
