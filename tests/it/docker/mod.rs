//! The Docker backend through the pinned aws CLI: instances as real containers, AMIs as images.
//!
//! These need a Docker Engine and a static busybox (`scripts/test.sh` installs busybox-static).
//! In CI (`CI=true`) a missing engine fails the tests; elsewhere they say why they skip. Every
//! server has its own `updraft.owner` label, and each test checks that nothing of its owner is
//! left behind afterwards.

mod images;

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use updraft::Config;
use updraft::backend::HttpAddress;
use updraft::config::InstanceBackendKind;

use crate::common::TestServer;

/// `docker …`, its stdout; panics with stderr when it fails.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether the engine and busybox are here; in CI their absence is a failure.
pub fn engine_ready() -> bool {
    let engine = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    let busybox = std::path::Path::new("/bin/busybox").exists();
    if engine && busybox {
        return true;
    }
    let why = if engine {
        "no /bin/busybox (apt-get install busybox-static)"
    } else {
        "no Docker Engine answers"
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the Docker backend tests need an engine and busybox in CI: {why}"
    );
    eprintln!("SKIPPED: Docker backend test: {why}");
    false
}

/// A server with the Docker backend and its own owner label; checks on drop that its
/// containers and images are gone (and removes any that are not, then fails).
pub struct DockerServer {
    server: Option<TestServer>,
    /// The `updraft.owner` label of its containers and images.
    pub owner: String,
}

impl DockerServer {
    fn start(test: &str) -> Self {
        Self::with_config(
            test,
            Config {
                // Fast lifecycle polls; stop, terminate and image delays pass in tenths of
                // seconds.
                time_scale: 10.0,
                ..Config::default()
            },
        )
    }

    /// A server with `config`, the Docker backend and an owner label of its own.
    pub fn with_config(test: &str, config: Config) -> Self {
        let owner = format!("it-{test}-{}", std::process::id());
        let server = TestServer::with_config(Config {
            instances: InstanceBackendKind::Docker,
            docker_owner: owner.clone(),
            ..config
        });
        Self {
            server: Some(server),
            owner,
        }
    }

    /// The running server.
    pub fn s(&self) -> &TestServer {
        self.server.as_ref().expect("running")
    }

    fn leftovers(&self) -> (String, String, String) {
        let filter = format!("label=updraft.owner={}", self.owner);
        (
            docker(&["ps", "-aq", "--filter", &filter]),
            docker(&["images", "-q", "--filter", &filter]),
            docker(&["network", "ls", "-q", "--filter", &filter]),
        )
    }
}

impl Drop for DockerServer {
    fn drop(&mut self) {
        drop(self.server.take());
        let (containers, images, networks) = self.leftovers();
        // Best effort: whatever cannot be removed shows in the assertion below.
        for c in containers.split_whitespace() {
            let _ = Command::new("docker").args(["rm", "-f", c]).output();
        }
        for i in images.split_whitespace() {
            let _ = Command::new("docker").args(["rmi", "-f", i]).output();
        }
        for n in networks.split_whitespace() {
            let _ = Command::new("docker").args(["network", "rm", n]).output();
        }
        if !std::thread::panicking() {
            assert!(
                containers.is_empty() && images.is_empty() && networks.is_empty(),
                "left behind: containers {containers:?}, images {images:?}, networks {networks:?}"
            );
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> Option<Value>) -> Value {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The text of the first `<tag>` inside the first `<parent>` of an XML answer.
fn xml_in(xml: &str, parent: &str, tag: &str) -> Option<String> {
    let inner = xml.split(&format!("<{parent}>")).nth(1)?;
    let value = inner.split(&format!("<{tag}>")).nth(1)?.split('<').next()?;
    Some(value.to_owned())
}

/// (state name, StateReason code) from DescribeInstances on the wire: polling through raw
/// requests keeps the test fast; the CLI drives every operation under test.
fn instance(s: &TestServer, id: &str) -> (String, String) {
    let xml = s
        .form(&format!(
            "Action=DescribeInstances&Version=2016-11-15&InstanceId.1={id}"
        ))
        .text();
    (
        xml_in(&xml, "instanceState", "name").unwrap_or_default(),
        xml_in(&xml, "stateReason", "code").unwrap_or_default(),
    )
}

/// Waits for `state`; returns the StateReason code.
fn wait_state(s: &TestServer, id: &str, state: &str) -> String {
    wait_for(&format!("{id} {state}"), Duration::from_secs(30), || {
        let (name, reason) = instance(s, id);
        (name == state).then_some(Value::String(reason))
    })
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

fn run(s: &TestServer, args: &[&str]) -> String {
    let mut all = vec!["ec2", "run-instances"];
    all.extend_from_slice(args);
    s.aws(&all).json()["Instances"][0]["InstanceId"]
        .as_str()
        .expect("an instance id")
        .to_owned()
}

fn default_ami(s: &TestServer) -> String {
    s.aws(&["ec2", "describe-images", "--owners", "amazon"])
        .json()["Images"][0]["ImageId"]
        .as_str()
        .expect("an AMI")
        .to_owned()
}

/// GetConsoleOutput on the wire: the `output` element, base64 as AWS sends it, decoded.
fn console_on_the_wire(s: &TestServer, id: &str) -> String {
    let r = s.form(&format!(
        "Action=GetConsoleOutput&Version=2016-11-15&InstanceId={id}"
    ));
    let xml = r.text();
    let b64 = xml
        .split("<output>")
        .nth(1)
        .and_then(|r| r.split("</output>").next())
        .unwrap_or_else(|| panic!("no output element: {xml}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64 output");
    String::from_utf8(bytes).expect("text")
}

/// A VPC with one subnet (its first /24) and a security group letting TCP 80 in from
/// anywhere and 22 from the VPC's default group.
struct OwnVpc {
    vpc: String,
    subnet: String,
    group: String,
}

/// One [`OwnVpc`] per /16 block, made through boto3 in one go (a CLI call each would take a
/// good second apiece on a loaded machine).
fn own_vpcs(s: &TestServer, blocks: &[&str]) -> Vec<OwnVpc> {
    let out = s.boto3(&format!(
        r#"
import boto3, json, os
ec2 = boto3.client('ec2', endpoint_url=os.environ['ENDPOINT'])
out = []
for cidr in {blocks:?}:
    vpc = ec2.create_vpc(CidrBlock=cidr)['Vpc']['VpcId']
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace('.0.0/16', '.0.0/24'))['Subnet']['SubnetId']
    group = ec2.create_security_group(GroupName='web', Description='web', VpcId=vpc)['GroupId']
    default = ec2.describe_security_groups(Filters=[
        {{'Name': 'vpc-id', 'Values': [vpc]}}, {{'Name': 'group-name', 'Values': ['default']}}])['SecurityGroups'][0]['GroupId']
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {{'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}},
        {{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'UserIdGroupPairs': [{{'GroupId': default}}]}}])
    out.append([vpc, subnet, group])
print(json.dumps(out))
"#
    ));
    out.as_array()
        .unwrap()
        .iter()
        .map(|v| OwnVpc {
            vpc: v[0].as_str().unwrap().to_owned(),
            subnet: v[1].as_str().unwrap().to_owned(),
            group: v[2].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// (network, IPv4 address) of each network a container is on.
fn container_addresses(name: &str) -> Vec<(String, String)> {
    let text = docker(&[
        "inspect",
        "-f",
        "{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{$e.IPAddress}}\n{{end}}",
        name,
    ]);
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, a)| (n.to_owned(), a.to_owned()))
        .collect()
}

fn container_running(id: &str) -> String {
    docker(&[
        "inspect",
        "-f",
        "{{.State.Running}}",
        &format!("updraft-{id}"),
    ])
}

#[test]
fn instances_are_containers_through_their_life() {
    if !engine_ready() {
        return;
    }
    let started = Instant::now();
    let d = DockerServer::start("life");
    let s = d.s();
    let ami = default_ami(s);
    let dir = std::env::temp_dir().join(format!("updraft-ud-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ud = dir.join("ud.sh");
    std::fs::write(
        &ud,
        "#!/bin/sh\necho 'user data says hello'\necho served-by-user-data > /var/www/index.html\n",
    )
    .unwrap();
    // A VPC of its own (a block no other test server on this engine uses, as the default
    // VPC's 172.31.0.0/16 may be: the first server to launch there gets that network) and a
    // group letting port 80 in from anywhere and port 22 only from another group.
    // The second VPC's block overlaps a host route (Docker's own bridge, 172.17.0.0/16).
    let block = format!("10.{}.0.0/16", 100 + std::process::id() % 100);
    let mut vpcs = own_vpcs(s, &[&block, "172.17.0.0/16"]).into_iter();
    let (net, clash) = (vpcs.next().unwrap(), vpcs.next().unwrap());
    let launch = Instant::now();
    let id = run(
        s,
        &[
            "--image-id",
            &ami,
            "--instance-type",
            "t3.small",
            "--subnet-id",
            &net.subnet,
            "--security-group-ids",
            &net.group,
            "--user-data",
            &format!("file://{}", ud.display()),
        ],
    );
    wait_state(s, &id, "running");
    eprintln!("launch to running: {:?}", launch.elapsed());
    let described = s
        .aws(&["ec2", "describe-instances", "--instance-ids", &id])
        .json();
    let i = &described["Reservations"][0]["Instances"][0];
    assert_eq!(i["State"]["Name"], "running", "{i}");
    let private_ip = i["PrivateIpAddress"].as_str().unwrap().to_owned();

    // The container is on its VPC's network, at the private address.
    let name = format!("updraft-{id}");
    let network = format!("updraft-{}-{}", d.owner, net.vpc);
    assert_eq!(
        container_addresses(&name),
        [(network.clone(), private_ip.clone())]
    );
    assert_eq!(
        docker(&["network", "inspect", "-f", "{{json .Labels}}", &network]),
        format!(
            "{{\"updraft.account\":\"000000000000\",\"updraft.owner\":\"{}\",\"updraft.region\":\"us-east-1\",\"updraft.vpc\":\"{}\"}}",
            d.owner, net.vpc
        )
    );
    // The host reaches it there.
    let at_private = crate::common::http(
        format!("{private_ip}:80").parse().unwrap(),
        "GET",
        "/",
        &[],
        b"",
    );
    assert_eq!(at_private.text(), "served-by-user-data\n");

    // Port 80 (open to 0.0.0.0/0) is published on loopback; 22 (open to a group) is not.
    let ports = docker(&["port", &name]);
    assert_eq!(ports.lines().count(), 1, "{ports}");
    let published = ports
        .strip_prefix("80/tcp -> 127.0.0.1:")
        .unwrap_or_else(|| panic!("{ports}"));
    let page = crate::common::http(
        format!("127.0.0.1:{published}").parse().unwrap(),
        "GET",
        "/",
        &[],
        b"",
    );
    assert_eq!(page.text(), "served-by-user-data\n");

    // The console is the container's log: boot, then what the user data printed.
    let cli = s
        .aws(&["ec2", "get-console-output", "--instance-id", &id])
        .json();
    let text = cli["Output"].as_str().unwrap_or_default();
    assert!(text.contains("user data says hello\n"), "{cli}");
    let wire = console_on_the_wire(s, &id);
    assert!(wire.contains("user data says hello\n"), "{wire}");
    assert!(wire.contains("updraft: boot 1 finished"), "{wire}");

    // Labels and limits from the instance type (t3.small: 2 vCPUs, 2 GiB).
    let labels: Value = serde_json::from_str(&docker(&[
        "inspect",
        "-f",
        "{{json .Config.Labels}}",
        &name,
    ]))
    .unwrap();
    assert_eq!(labels["updraft.instance-id"], id.as_str());
    assert_eq!(labels["updraft.owner"], d.owner.as_str());
    assert_eq!(labels["updraft.account"], "000000000000");
    assert_eq!(labels["updraft.region"], "us-east-1");
    assert_eq!(
        docker(&["inspect", "-f", "{{.HostConfig.Memory}}", &name]),
        (2048u64 * 1024 * 1024).to_string()
    );
    let host_cpus: i64 = docker(&["info", "-f", "{{.NCPU}}"]).parse().unwrap();
    assert_eq!(
        docker(&["inspect", "-f", "{{.HostConfig.NanoCpus}}", &name]),
        (2.min(host_cpus) * 1_000_000_000).to_string()
    );

    // Load balancers reach the instance's port 80 through the port published on loopback.
    let Some(HttpAddress::Socket(addr)) = s.state.backend.http_address(&id, 80) else {
        panic!("no socket address for port 80")
    };
    assert_eq!(addr.to_string(), format!("127.0.0.1:{published}"));
    let page = crate::common::http(addr, "GET", "/", &[], b"");
    assert_eq!(page.status, 200);
    assert_eq!(page.text(), "served-by-user-data\n");

    // Stop and start map to the container.
    s.aws(&["ec2", "stop-instances", "--instance-ids", &id])
        .json();
    wait_state(s, &id, "stopped");
    assert_eq!(container_running(&id), "false");
    s.aws(&["ec2", "start-instances", "--instance-ids", &id])
        .json();
    wait_state(s, &id, "running");
    assert_eq!(container_running(&id), "true");
    let again = console_on_the_wire(s, &id);
    assert_eq!(
        again.matches("user data says hello").count(),
        1,
        "user data runs at first boot only: {again}"
    );

    // A container killed behind Updraft's back: the instance stops, as a user shutdown.
    docker(&["kill", &name]);
    let reason = wait_state(s, &id, "stopped");
    assert_eq!(reason, "Client.UserInitiatedShutdown");

    // A VPC whose block overlaps a host route gets no network: its instance goes on the
    // default bridge at another address, and load balancers still reach it there.
    let other = run(
        s,
        &[
            "--image-id",
            &ami,
            "--instance-type",
            "t2.micro",
            "--subnet-id",
            &clash.subnet,
        ],
    );
    wait_state(s, &other, "running");
    let on = container_addresses(&format!("updraft-{other}"));
    assert_eq!(on.len(), 1, "{on:?}");
    assert_eq!(on[0].0, "bridge", "{on:?}");
    let Some(HttpAddress::Socket(addr)) = s.state.backend.http_address(&other, 80) else {
        panic!("no socket address for port 80 on the bridge")
    };
    assert_eq!(addr.ip().to_string(), on[0].1);
    let hello = crate::common::http(addr, "GET", "/", &[], b"");
    assert!(hello.text().starts_with("Hello from"), "{}", hello.text());

    // Terminate removes the container; one removed behind Updraft's back terminates.
    s.aws(&["ec2", "terminate-instances", "--instance-ids", &id])
        .json();
    wait_state(s, &id, "terminated");
    assert!(
        !Command::new("docker")
            .args(["inspect", &name])
            .output()
            .unwrap()
            .status
            .success(),
        "the container is gone"
    );
    docker(&["rm", "-f", &format!("updraft-{other}")]);
    let reason = wait_state(s, &other, "terminated");
    assert_eq!(reason, "Server.InternalError");
    std::fs::remove_dir_all(&dir).unwrap();
    drop(d);
    eprintln!("docker lifecycle test: {:?}", started.elapsed());
}
#[test]
fn no_engine_is_reported_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["--instances", "docker", "--listen", "127.0.0.1:0"])
        .env("DOCKER_HOST", "unix:///nonexistent/updraft-test.sock")
        .env_remove("UPDRAFT_INSTANCES")
        .output()
        .expect("updraft runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the Docker Engine at unix:///nonexistent/updraft-test.sock")
            && err.contains("--instances simulated"),
        "{err}"
    );
}
