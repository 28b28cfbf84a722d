//! Instance backends: what actually runs an EC2 instance.
//!
//! The EC2 handlers only record what AWS shows (`pending`, `stopping`, ...); the instance
//! lifecycle controller (`controllers::instances`) drives a backend to make it so and moves the
//! records on when the backend is done. Every method that may be slow returns a boxed future so
//! that a Docker backend (container create/start/commit) or a Kubernetes one (pods as instances)
//! can do real I/O; the simulated backend answers at once.
//!
//! Nothing here holds the state lock: callers copy what they need out of the store first.

pub mod docker;
pub mod simulated;
pub mod socket;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::{Config, InstanceBackendKind};

/// A future a backend returns; boxed so that the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a backend call failed. Never shown to API clients as such: the controller logs it and
/// retries, or records a `StateReason` when the failure is final.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// The backend has no such instance (e.g. after a restart of the backend).
    #[error("instance {0} is unknown to the backend")]
    UnknownInstance(String),
    /// The backend has no such image.
    #[error("image {0} is unknown to the backend")]
    UnknownImage(String),
    /// Anything else (a Docker API error, ...).
    #[error("{0}")]
    Failed(String),
}

/// What a backend needs to launch one instance.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// `i-…`.
    pub instance_id: String,
    /// `ami-…` the instance boots from.
    pub image_id: String,
    /// `t3.micro`, ...
    pub instance_type: String,
    /// vCPUs of the instance type (the CPU model divides load by it).
    pub vcpus: u32,
    /// Memory of the instance type, MiB (a container's memory limit).
    pub memory_mib: u64,
    /// Account the instance belongs to (container label).
    pub account: String,
    /// Region (container label).
    pub region: String,
    /// Auto Scaling group, from the `aws:autoscaling:groupName` tag (container label).
    pub group: Option<String>,
    /// Availability Zone name.
    pub availability_zone: String,
    /// Primary private IPv4 address.
    pub private_ip: String,
    /// The instance's VPC, `vpc-…`.
    pub vpc_id: String,
    /// The VPC's IPv4 CIDR block (`172.31.0.0/16`): the Docker backend's network for it.
    pub vpc_cidr: String,
    /// TCP ports the instance's security groups let in from address ranges, sorted
    /// ([`crate::services::ec2::security_groups::ingress_tcp_ports`]): the Docker backend
    /// publishes them on 127.0.0.1.
    pub ingress_tcp_ports: Vec<u16>,
    /// User data, decoded from base64 (scripts are text; invalid UTF-8 is replaced).
    pub user_data: Option<String>,
    /// Virtual now, epoch seconds (backends that simulate time need it).
    pub now: f64,
}

/// What a backend keeps about its machines across a restart (in snapshots).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Saved {
    /// The simulated backend's machines and images.
    Simulated(simulated::Saved),
}

/// What the backend says about an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BackendStatus {
    /// Launched or started, not yet up.
    Booting,
    /// Up: answering on its service ports.
    Running,
    /// Stopped (keeps its disk).
    Stopped,
    /// Terminated or never known.
    Gone,
}

/// One sample of an instance's metrics, as the metric publisher turns them into `AWS/EC2`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricsSample {
    /// CPUUtilization, percent of the instance type's vCPUs (0–100).
    pub cpu_utilization: f64,
    /// HTTP requests served since the previous sample.
    pub requests: u64,
    /// NetworkIn bytes since the previous sample.
    pub network_in_bytes: u64,
    /// NetworkOut bytes since the previous sample.
    pub network_out_bytes: u64,
    /// NetworkPacketsIn since the previous sample.
    pub network_packets_in: u64,
    /// NetworkPacketsOut since the previous sample.
    pub network_packets_out: u64,
}

/// One HTTP request handed to an in-process responder.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `GET`, ...
    pub method: String,
    /// Path and query.
    pub path: String,
}

/// An in-process responder's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

/// Answers HTTP for a simulated instance, in process (no socket).
pub type Responder = Arc<dyn Fn(&HttpRequest) -> HttpReply + Send + Sync>;

/// Where a load balancer or health checker reaches an instance's service port.
#[derive(Clone)]
pub enum HttpAddress {
    /// Call this function (the simulated backend).
    InProcess(Responder),
    /// Connect to this socket (a container's published port).
    Socket(SocketAddr),
}

impl std::fmt::Debug for HttpAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InProcess(_) => f.write_str("InProcess(..)"),
            Self::Socket(addr) => write!(f, "Socket({addr})"),
        }
    }
}

/// An instance that stopped or vanished without Updraft asking (its container exited or was
/// removed behind Updraft's back). The lifecycle controller confirms with
/// [`InstanceBackend::status`] before it acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vanished {
    /// `i-…`.
    pub instance_id: String,
    /// The `StateReason` code to record if the instance did stop: an exit of the instance's own
    /// making is `Client.InstanceInitiatedShutdown`, a stop or kill from outside
    /// `Client.UserInitiatedShutdown`; a removal ends in `terminated` with
    /// `Server.InternalError`.
    pub reason: &'static str,
    /// The machine itself is gone (container removed), not only stopped.
    pub gone: bool,
}

/// What a restored instance's record expects of its machine (see [`InstanceBackend::adopt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `running`, or `pending` with the machine launched: it should be up.
    Up,
    /// `stopped`: it should exist, stopped.
    Down,
    /// In a transition the lifecycle controller finishes itself (`pending` before launch,
    /// `stopping`): whatever the machine is, it is taken as it is.
    AsIs,
    /// `shutting-down` or `terminated`: it should not exist.
    Gone,
}

/// A restored instance record, as [`InstanceBackend::adopt`] matches machines to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// `i-…`.
    pub instance_id: String,
    /// What the record expects.
    pub expect: Expect,
}

/// Runs instances. Implementations: [`simulated::SimulatedBackend`] (default) and
/// [`docker::DockerBackend`].
pub trait InstanceBackend: Send + Sync + std::fmt::Debug {
    /// Name for logs (`simulated`, `docker`).
    fn name(&self) -> &'static str;
    /// Get ready before the server serves: reach the engine, clean up what an earlier run left,
    /// build default images. An error here stops the server at start.
    fn prepare(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(std::future::ready(Ok(())))
    }
    /// Release everything at shutdown (containers, images), unless configured to keep them.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
    /// Resolves when something happened behind Updraft's back (see [`Self::take_vanished`]);
    /// the server then wakes the controllers. Never resolves for backends without events.
    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::pending())
    }
    /// Instances seen stopping or vanishing without Updraft asking, since the last call.
    fn take_vanished(&self) -> Vec<Vanished> {
        Vec::new()
    }
    /// Instances whose status check started (`true`) or stopped (`false`) failing without
    /// Updraft asking (a paused container), since the last call; the lifecycle controller
    /// marks them as `POST /_updraft/instances/{id}/impair` does.
    fn take_impaired(&self) -> Vec<(String, bool)> {
        Vec::new()
    }
    /// After a restart with a state directory (the records restored before
    /// [`Self::prepare`]): take over the machines an earlier run left for these records,
    /// remove those no record wants, and report through [`Self::take_vanished`] the records
    /// whose machine is gone or stopped behind Updraft's back. Backends whose machines live in
    /// the snapshot ([`Self::save`]) have nothing to do.
    fn adopt(&self, restored: Vec<Restored>) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = restored;
        Box::pin(std::future::ready(Ok(())))
    }
    /// The instances this backend runs (after an admin reset some may have no record left).
    fn instance_ids(&self) -> Vec<String> {
        Vec::new()
    }
    /// The AMIs this backend holds an image for (made by [`Self::create_image`]).
    fn images(&self) -> Vec<String> {
        Vec::new()
    }
    /// Drop the image of a deregistered AMI once no instance uses it (until then it stays in
    /// [`Self::images`] and a later call tries again).
    fn delete_image(&self, image_id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = image_id;
        Box::pin(std::future::ready(Ok(())))
    }
    /// What to keep in a snapshot: every machine and image, or only those whose ids are in
    /// `only` (a one-account snapshot). `None`: nothing to keep.
    fn save(&self, only: Option<&std::collections::HashSet<String>>) -> Option<Saved> {
        let _ = only;
        None
    }
    /// Take back machines and images [`Self::save`] kept (after a restart or a snapshot
    /// load); what the backend already has under the same ids is replaced.
    fn restore(&self, saved: Saved) {
        let _ = saved;
    }
    /// Create and boot an instance.
    fn launch(&self, spec: LaunchSpec) -> BoxFuture<'_, Result<(), BackendError>>;
    /// Boot a stopped instance again.
    fn start(&self, instance_id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>>;
    /// Stop an instance, keeping its disk.
    fn stop(&self, instance_id: &str) -> BoxFuture<'_, Result<(), BackendError>>;
    /// Reboot a running instance (the instance stays `running` on the EC2 API).
    fn reboot(&self, instance_id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>>;
    /// Destroy an instance and its disk.
    fn terminate(&self, instance_id: &str) -> BoxFuture<'_, Result<(), BackendError>>;
    /// Where the instance is in its life.
    fn status(
        &self,
        instance_id: &str,
        now: f64,
    ) -> BoxFuture<'_, Result<BackendStatus, BackendError>>;
    /// The serial console so far (what boot and user data printed).
    fn console_output(&self, instance_id: &str) -> BoxFuture<'_, Result<String, BackendError>>;
    /// Capture the instance's disk as image `image_id` (instances launched from it later
    /// behave as the captured one did).
    fn create_image(
        &self,
        instance_id: &str,
        image_id: &str,
    ) -> BoxFuture<'_, Result<(), BackendError>>;
    /// Metrics since the previous sample.
    fn metrics_sample(
        &self,
        instance_id: &str,
        now: f64,
    ) -> BoxFuture<'_, Result<MetricsSample, BackendError>>;
    /// Where to send HTTP for `port`, when the instance is up and serves that port.
    fn http_address(&self, instance_id: &str, port: u16) -> Option<HttpAddress>;
    /// A counter that moves whenever what [`Self::http_address`] answers may have changed
    /// (an instance launched, started, stopped, terminated, a container's ports learnt): the
    /// data plane keeps the addresses it looked up while this stays where it was.
    fn generation(&self) -> u64;
    /// Extra CPU load in percent (0 clears): the stand-in for `yes > /dev/null`.
    fn set_stress(&self, instance_id: &str, cpu_percent: f64) -> Result<(), BackendError>;
}

/// The backend the configuration asks for. The Docker backend reaches its engine in
/// [`InstanceBackend::prepare`], which the server awaits before it serves.
pub fn from_config(config: &Config) -> Arc<dyn InstanceBackend> {
    let boot_seconds = config.boot_seconds;
    match config.instances {
        InstanceBackendKind::Simulated => Arc::new(simulated::SimulatedBackend::new(boot_seconds)),
        InstanceBackendKind::Docker => Arc::new(docker::DockerBackend::new(config)),
    }
}
