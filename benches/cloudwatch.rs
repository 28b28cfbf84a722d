//! CloudWatch hot paths, at the handler level (no HTTP; the codecs bench covers the wire):
//!
//! - `put_metric_data/20_datums`: one PutMetricData handler call with 20 datums (the issue's
//!   request size), throughput in datapoints/s;
//! - `get_metric_statistics/1M_points`: a one-day GetMetricStatistics (period 60, five
//!   statistics and p99) over a metric holding 1,000,000 stored datapoints;
//! - `alarm_tick/10k_alarms`: one evaluation pass over 10,000 alarms (P 60, N 3), each on its
//!   own metric with data;
//! - first, plain reports (not criterion): the store's buckets and the process RSS while
//!   ingesting a steady 10,000 datapoints/s for one virtual hour (10 busy metrics, then 1,000
//!   quiet ones), and PutMetricData over loopback (JSON, 20 datums a request) in datapoints/s.
//!
//! Run with `cargo bench --bench cloudwatch` (about 2 min); `cargo test --benches` runs each
//! once, at small sizes.

mod common;

use common::{quick, rss_kib};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use updraft::Config;
use updraft::context::RequestContext;
use updraft::protocol::Protocol;
use updraft::services::cloudwatch::{self, CloudWatchStore};
use updraft::state::{AppState, Scope};

/// 2026-11-28T04:00:00Z.
const NOW: f64 = 1_795_838_400.0;

fn ctx(operation: &str) -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        scope: Scope::new("000000000000", "us-east-1"),
        service: "cloudwatch",
        operation: operation.into(),
        protocol: Protocol::Json,
        access_key_id: None,
    }
}

fn frozen_state() -> std::sync::Arc<AppState> {
    let state = AppState::new(Config {
        time_scale: 0.0,
        ..Config::default()
    });
    let now = state.clock.now();
    if now < NOW {
        state.clock.advance(NOW - now);
    }
    state
}

fn put_metric_data(c: &mut Criterion) {
    let state = frozen_state();
    let ctx = ctx("PutMetricData");
    let now = state.clock.now();
    let data: Vec<Value> = (0..20)
        .map(|i| {
            json!({"MetricName": format!("m{}", i % 5), "Dimensions": [{"Name": "Host", "Value": format!("h{i}")}],
                   "Timestamp": now - 30.0, "Value": i as f64 * 1.5, "Unit": "Milliseconds"})
        })
        .collect();
    let input: cloudwatch::put_metric_data::PutMetricDataInput =
        typed(json!({"Namespace": "Bench", "MetricData": data}));
    let mut g = c.benchmark_group("put_metric_data");
    g.throughput(Throughput::Elements(20));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("20_datums", |b| {
        b.iter(|| {
            cloudwatch::put_metric_data::put_metric_data(&ctx, &state, black_box(input.clone()))
        })
    });
    g.finish();
}

fn get_metric_statistics(c: &mut Criterion) {
    let state = frozen_state();
    let now = state.clock.now();
    let scope = Scope::new("000000000000", "us-east-1");
    let key = cloudwatch::store::MetricKey::new("Bench", "Latency", Vec::new());
    // 1,000,000 points over the last day: about 11.6 a second.
    state.stores.with(&scope, |s| {
        let points: u32 = if quick() { 10_000 } else { 1_000_000 };
        for i in 0..points {
            let t = now - 86_400.0 + f64::from(i) * (86_400.0 / f64::from(points));
            let v = f64::from(i % 1000);
            s.cloudwatch.metrics.put(
                &key,
                "None",
                t,
                &cloudwatch::stats::Agg::value(v),
                false,
                now,
            );
        }
    });
    let ctx = ctx("GetMetricStatistics");
    let input = json!({"Namespace": "Bench", "MetricName": "Latency", "StartTime": now - 86_400.0,
        "EndTime": now, "Period": 60, "Statistics": ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]});
    let pct = json!({"Namespace": "Bench", "MetricName": "Latency", "StartTime": now - 86_400.0,
        "EndTime": now, "Period": 60, "ExtendedStatistics": ["p99"]});
    let gms = cloudwatch::get_metric_statistics::get_metric_statistics;
    let mut g = c.benchmark_group("get_metric_statistics");
    g.sample_size(20);
    g.bench_function("1M_points", |b| {
        b.iter(|| gms(&ctx, &state, typed(input.clone())))
    });
    g.bench_function("1M_points_p99", |b| {
        b.iter(|| gms(&ctx, &state, typed(pct.clone())))
    });
    g.finish();
}

fn alarm_tick(c: &mut Criterion) {
    let state = frozen_state();
    let now = state.clock.now();
    let ctx = ctx("PutMetricAlarm");
    let alarms: u32 = if quick() { 100 } else { 10_000 };
    for i in 0..alarms {
        let name = format!("alarm-{i}");
        let alarm = json!({"AlarmName": name, "MetricName": "CPU", "Namespace": "Bench",
            "Dimensions": [{"Name": "InstanceId", "Value": format!("i-{i:017x}")}],
            "Statistic": "Average", "Period": 60, "EvaluationPeriods": 3, "Threshold": 80.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:alerts"]});
        if let Err(e) = cloudwatch::put_alarm::put_metric_alarm(&ctx, &state, typed(alarm)) {
            panic!("{e}");
        }
        let data = json!({"Namespace": "Bench", "MetricData": (0..10).map(|m| json!({
            "MetricName": "CPU", "Dimensions": [{"Name": "InstanceId", "Value": format!("i-{i:017x}")}],
            "Timestamp": now - 600.0 + f64::from(m) * 60.0, "Value": f64::from((i + m) % 100)})).collect::<Vec<_>>()});
        if let Err(e) = cloudwatch::put_metric_data::put_metric_data(&ctx, &state, typed(data)) {
            panic!("{e}");
        }
    }
    let scope = Scope::new("000000000000", "us-east-1");
    let mut g = c.benchmark_group("alarm_tick");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::from(alarms)));
    g.bench_function("10k_alarms", |b| {
        b.iter(|| {
            state.stores.with(&scope, |s| {
                for a in s.cloudwatch.alarms.values_mut() {
                    a.next_evaluation = now;
                }
                black_box(
                    cloudwatch::tick::tick(&mut s.cloudwatch, now)
                        .dispatch
                        .len(),
                )
            })
        })
    });
    g.finish();
}

/// A handler's typed input from its request tree.
fn typed<T: serde::de::DeserializeOwned>(input: Value) -> T {
    updraft::services::parse_input(input).expect("input fits the request type")
}

/// Whether a plain report runs: always, unless a criterion name filter excludes it.
fn selected(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

/// A steady 10,000 datapoints/s for one virtual hour into `metrics` metrics; prints the
/// store's bucket count and RSS every 10 virtual minutes.
fn steady(metrics: usize, seconds: u32) {
    let per_metric = 10_000 / metrics;
    let mut cw = CloudWatchStore::default();
    let keys: Vec<_> = (0..metrics)
        .map(|i| {
            cloudwatch::store::MetricKey::new(
                "Steady",
                "Req",
                vec![("Host".into(), format!("h{i}"))],
            )
        })
        .collect();
    let started = Instant::now();
    let rss0 = rss_kib();
    println!(
        "steady ingest: 10,000 datapoints/s into {metrics} metrics ({per_metric}/s each) for {seconds} virtual s"
    );
    for s in 0..seconds {
        let now = NOW + f64::from(s);
        for (i, key) in keys.iter().enumerate() {
            for k in 0..per_metric {
                let v = ((s as usize * 7 + i * 13 + k) % 500) as f64;
                cw.metrics.put(
                    key,
                    "Count",
                    now,
                    &cloudwatch::stats::Agg::value(v),
                    false,
                    now,
                );
            }
        }
        cw.metrics.prune(now);
        if (s + 1) % 600 == 0 || s + 1 == seconds {
            println!(
                "  t={:>5} s  datapoints={:>10}  buckets={:>8}  rss={:>7} KiB (+{} KiB)",
                s + 1,
                (u64::from(s) + 1) * 10_000,
                cw.metrics.bucket_count(),
                rss_kib(),
                rss_kib().saturating_sub(rss0)
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  store-level ingest rate: {:.0} datapoints/s",
        f64::from(seconds) * 10_000.0 / secs
    );
}

/// RSS reports for a steady stream: few busy metrics (memory plateaus), many quiet ones (memory
/// grows by one bucket per metric and minute until the 15-day retention caps it).
fn steady_ingest_report(_c: &mut Criterion) {
    if !selected("steady_ingest") {
        return;
    }
    let quick = quick();
    let seconds: u32 = if quick { 60 } else { 3600 };
    steady(10, seconds);
    steady(1000, seconds);
}

/// PutMetricData over loopback (JSON protocol, 20 datums a request, 4 keep-alive connections
/// on a raw HTTP/1.1 client): datapoints/s end to end.
fn loopback_ingest(_c: &mut Criterion) {
    if !selected("loopback_ingest") {
        return;
    }
    use std::io::{Read, Write};
    let quick = quick();
    let requests_per_conn: usize = if quick { 50 } else { 5_000 };
    // `CW_LOOPBACK_DATUMS` changes the request size (default 20, the issue's).
    let datums: u32 = std::env::var("CW_LOOPBACK_DATUMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let conns = 4;
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    let state = frozen_state();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            let shutdown = async {
                // A dropped sender also means stop.
                let _ = stopped.await;
            };
            if let Err(e) = updraft::run_with_state(listener, server_state, shutdown).await {
                eprintln!("server: {e}");
            }
        });
    });
    let now = state.clock.now();
    let body = json!({"Namespace": "Loop", "MetricData": (0..datums).map(|i| json!({
        "MetricName": format!("m{}", i % 4), "Dimensions": [{"Name": "Host", "Value": format!("h{i}")}],
        "Timestamp": now - 30.0, "Value": f64::from(i), "Unit": "Count"})).collect::<Vec<_>>()})
    .to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: GraniteServiceVersion20100801.PutMetricData\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|_| {
            let request = request.clone();
            std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut ok = 0usize;
                let mut buf = vec![0u8; 64 * 1024];
                for _ in 0..requests_per_conn {
                    stream.write_all(request.as_bytes()).expect("write");
                    // Read one response: head, then Content-Length bytes of body.
                    let mut got = Vec::new();
                    let (head_end, len) = loop {
                        let n = stream.read(&mut buf).expect("read");
                        assert!(n > 0, "server closed the connection");
                        got.extend_from_slice(&buf[..n]);
                        if let Some(p) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&got[..p]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            if head.starts_with("http/1.1 200") {
                                ok += 1;
                            }
                            break (p + 4, len);
                        }
                    };
                    while got.len() < head_end + len {
                        let n = stream.read(&mut buf).expect("read body");
                        assert!(n > 0, "server closed the connection");
                        got.extend_from_slice(&buf[..n]);
                    }
                }
                ok
            })
        })
        .collect();
    let ok: usize = workers.into_iter().map(|w| w.join().expect("worker")).sum();
    let secs = started.elapsed().as_secs_f64();
    let total = conns * requests_per_conn;
    println!(
        "loopback PutMetricData (JSON, {datums} datums, {conns} connections): {total} requests ({ok} ok) in {secs:.2} s = {:.0} requests/s = {:.0} datapoints/s",
        total as f64 / secs,
        (ok * datums as usize) as f64 / secs
    );
    drop(stop);
    if server.join().is_err() {
        eprintln!("server thread panicked");
    }
}

criterion_group!(
    benches,
    steady_ingest_report,
    loopback_ingest,
    put_metric_data,
    get_metric_statistics,
    alarm_tick,
    describe_alarms
);
criterion_main!(benches);

/// One request as the server runs it without the socket: input decoded by the protocol's
/// codec, dispatched, output rendered (query XML from a form, JSON from a body).
fn cw_request(
    state: &AppState,
    protocol: Protocol,
    form: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let service =
        updraft::protocol::models::by_name("cloudwatch").expect("cloudwatch is registered");
    let ctx = RequestContext {
        protocol,
        ..ctx("DescribeAlarms")
    };
    let operation = service.operation("DescribeAlarms").expect("modelled");
    let input = updraft::protocol::render::decode_input(service, protocol, operation, form, body)
        .expect("decodes");
    let rendered = updraft::server::respond(state, &ctx, service, protocol, operation, input)
        .expect("answers");
    assert_eq!(rendered.status, 200);
    rendered.body
}

/// The token of the next page in a rendered DescribeAlarms answer (XML or JSON).
fn next_token_of(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    if let Some(rest) = text.split("<NextToken>").nth(1) {
        return rest.split('<').next().map(str::to_owned);
    }
    // As cheap as the XML's: a client's parse of the whole page is not the server's time.
    let rest = text.split("\"NextToken\":\"").nth(1)?;
    rest.split('"').next().map(str::to_owned)
}

/// Every page of DescribeAlarms (100 a page) over the store; the alarms rendered.
fn describe_all(state: &AppState, protocol: Protocol) -> usize {
    let mut token: Option<String> = None;
    let mut bytes = 0;
    loop {
        let body = match protocol {
            Protocol::Query => {
                let mut form = vec![
                    ("Action".to_owned(), "DescribeAlarms".to_owned()),
                    ("Version".to_owned(), "2010-08-01".to_owned()),
                    ("MaxRecords".to_owned(), "100".to_owned()),
                ];
                if let Some(t) = &token {
                    form.push(("NextToken".to_owned(), t.clone()));
                }
                cw_request(state, protocol, &form, b"")
            }
            _ => {
                let mut body = json!({"MaxRecords": 100});
                if let Some(t) = &token {
                    body["NextToken"] = json!(t);
                }
                let body = body.to_string();
                cw_request(state, protocol, &[], body.as_bytes())
            }
        };
        bytes += body.len();
        token = next_token_of(&body);
        if token.is_none() {
            return bytes;
        }
    }
}

/// DescribeAlarms over 1,000 metric alarms, every page (10 of 100), through the request path.
fn describe_alarms(c: &mut Criterion) {
    let state = frozen_state();
    let put = ctx("PutMetricAlarm");
    for i in 0..1_000 {
        let alarm = json!({"AlarmName": format!("alarm-{i:04}"), "MetricName": "CPU", "Namespace": "Bench",
            "AlarmDescription": "CPU above 80% for three minutes",
            "Dimensions": [{"Name": "InstanceId", "Value": format!("i-{i:017x}")}],
            "Statistic": "Average", "Period": 60, "EvaluationPeriods": 3, "Threshold": 80.0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "missing",
            "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:alerts"],
            "OKActions": ["arn:aws:sns:us-east-1:000000000000:alerts"]});
        if let Err(e) = updraft::services::dispatch(&put, &state, alarm) {
            panic!("{e}");
        }
    }
    let query = describe_all(&state, Protocol::Query);
    let json_bytes = describe_all(&state, Protocol::Json);
    println!(
        "describe_alarms: 1,000 alarms = {query} bytes of query XML, {json_bytes} bytes of JSON"
    );
    let mut g = c.benchmark_group("describe_alarms");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("1000_query", |b| {
        b.iter(|| black_box(describe_all(&state, Protocol::Query)))
    });
    g.bench_function("1000_json", |b| {
        b.iter(|| black_box(describe_all(&state, Protocol::Json)))
    });
    g.finish();
}
