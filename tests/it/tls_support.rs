//! Helpers of the listener tests that carry TLS or raw streams (`tls`, `tls_iam`, `nlb_tls`,
//! `elb_tcp`): a server with listener ports on, the aws CLI expected to fail, curl, the default
//! VPC's subnets, certificates (requested from ACM, self-signed, uploaded to IAM), the CA the
//! server exports, and waiting for a healthy target or a bound listener port.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use updraft::Config;

use crate::dataplane::{Server, start_server};
use crate::elb::wait_until;

/// A server in front of `backend` whose load balancers bind their listener ports.
pub fn listener_ports_server(backend: SocketAddr) -> Server {
    start_server(
        backend,
        Config {
            lb_listener_ports: true,
            ..Config::default()
        },
    )
}

pub use crate::common::free_port;

/// Run the aws CLI expecting a failure; returns its error text.
pub fn aws_error(server: &Server, args: &[&str]) -> String {
    let out = server.aws_output(args);
    assert!(!out.status.success(), "aws {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn s(v: &serde_json::Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

pub fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap()
}

pub fn wait_bound(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_until("listener port bound", || TcpStream::connect(addr).is_ok());
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("updraft-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The default VPC and its default subnets (one a zone), sorted: (VPC id, subnet ids).
pub fn default_subnets(server: &Server) -> (String, Vec<String>) {
    let vpc = s(&server.aws(&["ec2", "describe-vpcs"])["Vpcs"][0]["VpcId"]);
    let subnets = server.aws(&[
        "ec2",
        "describe-subnets",
        "--filters",
        "Name=default-for-az,Values=true",
    ]);
    let mut subnets: Vec<String> = subnets["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["SubnetId"]))
        .collect();
    subnets.sort();
    (vpc, subnets)
}

/// An instance of an Amazon image, launched with `placement` (`--subnet-id ...` or
/// `--placement ...`); its id.
pub fn run_instance(server: &Server, placement: &[&str]) -> String {
    let ami =
        s(&server.aws(&["ec2", "describe-images", "--owners", "amazon"])["Images"][0]["ImageId"]);
    let mut args = vec!["ec2", "run-instances", "--image-id", &ami];
    args.extend_from_slice(placement);
    s(&server.aws(&args)["Instances"][0]["InstanceId"])
}

/// Advance the clock `step` seconds at a time until the target group's one target is healthy
/// (it is used once a listener forwards to its group).
pub fn wait_healthy(server: &Server, tg: &str, step: f64) {
    let start = Instant::now();
    loop {
        let h = server.aws(&["elbv2", "describe-target-health", "--target-group-arn", tg]);
        if h["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "target never healthy: {h}"
        );
        server.state.clock.advance(step);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An ACM certificate for `name` (RequestCertificate, issued by the server's CA); its ARN.
pub fn request_certificate(server: &Server, name: &str) -> String {
    s(&server.aws(&["acm", "request-certificate", "--domain-name", name])["CertificateArn"])
}

/// Add the certificate `cert` (an ARN) to the listener's SNI set.
pub fn add_listener_certificate(server: &Server, listener: &str, cert: &str) {
    server.aws(&[
        "elbv2",
        "add-listener-certificates",
        "--listener-arn",
        listener,
        "--certificates",
        &format!("CertificateArn={cert}"),
    ]);
}

/// Switch the listener to the security policy `policy`.
pub fn set_ssl_policy(server: &Server, listener: &str, policy: &str) {
    server.aws(&[
        "elbv2",
        "modify-listener",
        "--listener-arn",
        listener,
        "--ssl-policy",
        policy,
    ]);
}

/// The CA certificate the server exports (`GET /_updraft/ca.pem`), PEM.
pub fn ca_pem(server: &Server) -> String {
    let out = curl(&["-f", &format!("{}/_updraft/ca.pem", server.url)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = String::from_utf8(out.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    pem
}

/// A self-signed certificate for `name` with its key (PEM), made as a user would with openssl.
pub fn self_signed(name: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A self-signed certificate written to `dir` and uploaded to IAM.
pub struct IamCertificate {
    /// The certificate (PEM).
    pub cert: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// The server certificate's ARN.
    pub arn: String,
}

/// A self-signed certificate for `domain` and its key, written to `dir` (cert.pem, key.pem)
/// and uploaded to IAM as server certificate `name` (UploadServerCertificate).
pub fn upload_self_signed(server: &Server, dir: &Path, name: &str, domain: &str) -> IamCertificate {
    let (cert, key) = self_signed(domain);
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let arn = s(&server.aws(&[
        "iam",
        "upload-server-certificate",
        "--server-certificate-name",
        name,
        "--certificate-body",
        &format!("file://{}", cert_path.display()),
        "--private-key",
        &format!("file://{}", key_path.display()),
    ])["ServerCertificateMetadata"]["Arn"]);
    IamCertificate {
        cert,
        cert_path,
        key_path,
        arn,
    }
}

/// A Classic load balancer `lb` in us-east-1a with `listener` (a `--listeners` value), the
/// health check `Target=<target>` every 5 s, and one new instance registered: its id.
pub fn classic_with_instance(server: &Server, lb: &str, listener: &str, target: &str) -> String {
    let id = run_instance(server, &["--placement", "AvailabilityZone=us-east-1a"]);
    server.aws(&[
        "elb",
        "create-load-balancer",
        "--load-balancer-name",
        lb,
        "--listeners",
        listener,
        "--availability-zones",
        "us-east-1a",
    ]);
    server.aws(&[
        "elb",
        "configure-health-check",
        "--load-balancer-name",
        lb,
        "--health-check",
        &format!("Target={target},Interval=5,Timeout=2,UnhealthyThreshold=2,HealthyThreshold=2"),
    ]);
    server.aws(&[
        "elb",
        "register-instances-with-load-balancer",
        "--load-balancer-name",
        lb,
        "--instances",
        &id,
    ]);
    id
}

/// Run the clock until instance `id` is InService behind the Classic load balancer `lb`.
pub fn wait_in_service(server: &Server, lb: &str, id: &str) {
    let scope = crate::elb::scope();
    wait_until("InService", || {
        server.state.clock.advance(15.0);
        std::thread::sleep(Duration::from_millis(50));
        updraft::services::elb::instance_in_service(&server.state, &scope, lb, id) == Some(true)
    });
}

/// The sum of every datapoint of `metric` in `namespace` for the one dimension `dimension`
/// (`Name=…,Value=…`), over all time.
pub fn metric_sum(server: &Server, namespace: &str, metric: &str, dimension: &str) -> f64 {
    let r = server.aws(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        namespace,
        "--metric-name",
        metric,
        "--dimensions",
        dimension,
        "--start-time",
        "2000-01-01T00:00:00Z",
        "--end-time",
        "2100-01-01T00:00:00Z",
        "--period",
        "2592000",
        "--statistics",
        "Sum",
    ]);
    r["Datapoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Sum"].as_f64().unwrap())
        .sum()
}
