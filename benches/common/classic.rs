//! The set-up of the benchmarks that drive a load balancer's listener (`proxy`, `tls`): a
//! socket backend answering `hello`, an in-process Updraft server on its own runtime in front
//! of it, and one InService instance behind Classic load balancer `bench` (or a healthy
//! target behind application load balancer `bench`). Each party runs on
//! threads of its own name, so that its CPU time can be read from `/proc` by name
//! (`threads::threads_cpu`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use updraft::Config;
use updraft::backend::socket::SocketInstances;
use updraft::context::RequestContext;
use updraft::protocol::Protocol;
use updraft::state::{AppState, Scope};

/// Thread names of the backend's runtime and Updraft's.
pub const BACKEND_THREADS: &str = "bench-backend";
pub const UPDRAFT_THREADS: &str = "bench-updraft";
/// What every Updraft runtime's thread name starts with (a second server's runtime can be
/// named `bench-upd…` too).
pub const UPDRAFT_PREFIX: &str = "bench-upd";

/// CPU seconds so far of an Updraft server whose runtime is named `name`, with its connection
/// threads (`updraft::server::lanes`; one server with lanes per process, as the benches run).
pub fn updraft_cpu(name: &str) -> f64 {
    super::threads::threads_cpu("self", name)
        + super::threads::threads_cpu("self", updraft::server::lanes::THREAD_NAME)
}

/// The load balancer's name.
pub const LB: &str = "bench";

/// Run `f` on a fresh runtime of `workers` threads named `name` on its own thread (kept for
/// the process); `workers` 0 is a current-thread runtime on that thread.
pub fn spawn_runtime<F: Future<Output = ()> + Send + 'static>(
    name: &'static str,
    workers: usize,
    f: F,
) {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut builder = if workers == 0 {
                tokio::runtime::Builder::new_current_thread()
            } else {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(workers);
                b
            };
            builder
                .thread_name(name)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(f);
        })
        .expect("thread");
}

/// The backend on 127.0.0.1:0: `hello` to everything, after `delay` when it is not zero.
pub fn start_backend(delay: Duration) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    spawn_runtime(BACKEND_THREADS, 1, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req| async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        b"hello\n",
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// One API call dispatched in process (account 000000000000, us-east-1).
pub fn call(state: &AppState, service: &'static str, op: &str, input: Value) -> Value {
    let ctx = RequestContext {
        request_id: "bench".into(),
        scope: Scope::new("000000000000", "us-east-1"),
        service,
        operation: op.into(),
        protocol: Protocol::Query,
        access_key_id: None,
    };
    updraft::services::dispatch(&ctx, state, input)
        .unwrap_or_else(|e| panic!("{service}:{op}: {e:?}"))
}

/// Updraft on 127.0.0.1:0 with `config` (its `listen` set to that address, the clock
/// frozen), on a runtime of `workers` threads named [`UPDRAFT_THREADS`], its instances the
/// socket `backend`.
pub fn start_updraft(
    backend: SocketAddr,
    workers: usize,
    config: Config,
) -> (SocketAddr, Arc<AppState>) {
    start_updraft_named(UPDRAFT_THREADS, backend, workers, config)
}

/// [`start_updraft`] on a runtime whose threads are named `name` (starting with
/// [`UPDRAFT_PREFIX`]).
pub fn start_updraft_named(
    name: &'static str,
    backend: SocketAddr,
    workers: usize,
    config: Config,
) -> (SocketAddr, Arc<AppState>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::with_backend(
        Config {
            listen: addr,
            time_scale: 0.0,
            ..config
        },
        Arc::new(SocketInstances::new(1.0, backend)),
    );
    let s = state.clone();
    spawn_runtime(name, workers, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let _ = updraft::run_with_state(listener, s, std::future::pending()).await;
    });
    (addr, state)
}

/// Load balancer [`LB`] in us-east-1a with `listener` (one `Listeners` entry), a TCP health
/// check, and one instance registered; returns its DNS name once the instance is InService
/// and `ready` holds (the clock advanced 5 s at a time meanwhile).
pub fn classic_in_service(state: &AppState, listener: Value, ready: impl Fn() -> bool) -> String {
    let id = run_instance(state);
    let dns = call(
        state,
        "elb",
        "CreateLoadBalancer",
        json!({ "LoadBalancerName": LB, "AvailabilityZones": ["us-east-1a"],
                "Listeners": [listener] }),
    )["DNSName"]
        .as_str()
        .expect("dns")
        .to_owned();
    call(
        state,
        "elb",
        "ConfigureHealthCheck",
        json!({ "LoadBalancerName": LB, "HealthCheck": { "Target": "TCP:80",
                "Interval": 5, "Timeout": 2, "UnhealthyThreshold": 2, "HealthyThreshold": 2 } }),
    );
    call(
        state,
        "elb",
        "RegisterInstancesWithLoadBalancer",
        json!({ "LoadBalancerName": LB, "Instances": [{ "InstanceId": id }] }),
    );
    let scope = Scope::new("000000000000", "us-east-1");
    wait_for(
        state,
        "the instance never went InService or the listener never served",
        || {
            updraft::services::elb::instance_in_service(state, &scope, LB, &id) == Some(true)
                && ready()
        },
    );
    dns
}

/// Advance the clock 5 s at a time (letting the controllers run) until `done`; at most 20 s
/// of real time, else panic with `what`.
fn wait_for(state: &AppState, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        state.clock.advance(5.0);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One instance in us-east-1a (served by the socket backend); its id. It may still be
/// pending: Classic registers it so, ELBv2 only once it runs.
fn run_instance(state: &AppState) -> String {
    let images = call(
        state,
        "ec2",
        "DescribeImages",
        json!({ "Owners": ["amazon"] }),
    );
    let run = call(
        state,
        "ec2",
        "RunInstances",
        json!({ "ImageId": images["Images"][0]["ImageId"], "MinCount": 1, "MaxCount": 1,
                "Placement": { "AvailabilityZone": "us-east-1a" } }),
    );
    run["Instances"][0]["InstanceId"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Application load balancer [`LB`] in the default subnets with an HTTP listener on port 80
/// forwarding to a target group of one instance; returns its DNS name once the target is
/// healthy (the clock advanced 5 s at a time meanwhile). The Host header names it, as for
/// the Classic one.
pub fn alb_in_service(state: &AppState) -> String {
    let id = run_instance(state);
    wait_for(state, "the instance never ran", || {
        let d = call(
            state,
            "ec2",
            "DescribeInstances",
            json!({ "InstanceIds": [id] }),
        );
        d["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
    });
    let subnets = call(state, "ec2", "DescribeSubnets", json!({}));
    let subnets = subnets["Subnets"].as_array().expect("subnets");
    let vpc = subnets[0]["VpcId"].clone();
    let ids: Vec<Value> = subnets.iter().map(|s| s["SubnetId"].clone()).collect();
    let lb = &call(
        state,
        "elbv2",
        "CreateLoadBalancer",
        json!({ "Name": LB, "Subnets": ids }),
    )["LoadBalancers"][0];
    let dns = lb["DNSName"].as_str().expect("dns").to_owned();
    let tg = call(
        state,
        "elbv2",
        "CreateTargetGroup",
        json!({ "Name": LB, "Protocol": "HTTP", "Port": 80, "VpcId": vpc }),
    );
    let tg_arn = tg["TargetGroups"][0]["TargetGroupArn"].clone();
    call(
        state,
        "elbv2",
        "CreateListener",
        json!({ "LoadBalancerArn": lb["LoadBalancerArn"], "Protocol": "HTTP", "Port": 80,
                "DefaultActions": [{ "Type": "forward", "TargetGroupArn": tg_arn }] }),
    );
    call(
        state,
        "elbv2",
        "RegisterTargets",
        json!({ "TargetGroupArn": tg_arn, "Targets": [{ "Id": id }] }),
    );
    wait_for(state, "the target never went healthy", || {
        let h = call(
            state,
            "elbv2",
            "DescribeTargetHealth",
            json!({ "TargetGroupArn": tg_arn }),
        );
        h["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy"
    });
    dns
}
