//! The Docker backend: every instance is a container, every AMI an image, through the Docker
//! Engine API (bollard) at `DOCKER_HOST` or the default socket.
//!
//! - **Launch** creates `updraft-<instance-id>` from the AMI's image ([`engine::resolve_image`]),
//!   labelled `updraft.owner`, `updraft.instance-id`, `updraft.account`, `updraft.region`,
//!   `updraft.group`, with the instance type's vCPUs (capped at the host's CPUs) and memory as
//!   limits, places the user data (converted to a shell script by [`userdata::to_script`]) into
//!   it, and starts it on its VPC's network at its private address ([`network`]). The TCP
//!   ports its security groups let in from address ranges, and those of
//!   `--docker-publish-ports`, are published on 127.0.0.1 (a free host port each).
//! - **Running** is the container running and, for Updraft's busybox image, its init having
//!   printed `updraft: boot N finished` (user data has run by then, as the console shows).
//!   Images of other origin run their own command; their user data is run with `docker exec`
//!   after the first start, its output sent to the console.
//! - Stop/Start/Reboot/Terminate are container stop/start/restart/remove; CreateImage is a
//!   commit tagged `updraft/ami:<ami-id>`; GetConsoleOutput is the container's log; metrics come
//!   from the container's stats ([`stats`]); the stress knob runs busy loops in the container.
//! - Containers that exit or vanish without Updraft asking are reported through
//!   [`crate::backend::InstanceBackend::take_vanished`], from the engine's event stream; a
//!   container paused (`docker pause`) or whose PID 1 is sent SIGSTOP fails its instance's
//!   status check ([`crate::backend::InstanceBackend::take_impaired`]) until it is unpaused
//!   or sent SIGCONT.
//! - With a state directory, containers outlive the server: at shutdown they are left as they
//!   are, and at start those of restored instances are adopted ([`adopt`]).

mod adopt;
mod engine;
pub mod network;
mod operations;
pub mod rootfs;
pub mod stats;
pub mod userdata;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use bollard::Docker;
use tokio::sync::Notify;

use super::{BackendError, Vanished};
use crate::config::Config;
use stats::Counters;

/// Label naming the server a container or image belongs to.
pub const OWNER_LABEL: &str = "updraft.owner";
/// Label carrying the instance id.
pub const INSTANCE_LABEL: &str = "updraft.instance-id";
/// Label of images whose PID 1 is Updraft's init.
pub const INIT_LABEL: &str = "updraft.init";
/// Repository of images made by CreateImage (`updraft/ami:<ami-id>`).
pub const AMI_REPO: &str = "updraft/ami";
/// Repository of the busybox image (`updraft/busybox:<owner>`).
pub const BASE_REPO: &str = "updraft/busybox";
/// Seconds a container gets to stop before it is killed.
const STOP_TIMEOUT: i32 = 5;

/// The Docker backend's settings (from [`Config`]).
#[derive(Debug, Clone)]
pub struct DockerSettings {
    /// `updraft.owner` label value.
    pub owner: String,
    /// The static busybox the default AMI is built around.
    pub busybox: PathBuf,
    /// AMI → image, from `--ami-image`.
    pub ami_images: Vec<(String, String)>,
    /// Keep containers and images at shutdown and on terminate.
    pub keep_containers: bool,
    /// Ports published on 127.0.0.1 on every instance, besides those its security groups let
    /// in.
    pub publish_ports: Vec<u16>,
    /// Reach instances at their bridge addresses even where a port is published (Updraft
    /// itself runs in a container, whose 127.0.0.1 is not the engine host's).
    pub via_bridge: bool,
    /// State is kept (`--state-dir`): containers, networks and images stay at shutdown and
    /// those of restored instances are adopted at start instead of removed.
    pub adopt: bool,
}

impl DockerSettings {
    /// The settings a configuration asks for.
    pub fn from_config(config: &Config) -> Self {
        Self {
            owner: config.docker_owner.clone(),
            busybox: config.busybox.clone(),
            ami_images: config.ami_images.clone(),
            keep_containers: config.keep_containers,
            publish_ports: config.docker_publish_ports.clone(),
            via_bridge: config.docker_bridge_addresses,
            adopt: config.state_dir.is_some(),
        }
    }

    /// The busybox image of this owner.
    pub fn base_image(&self) -> String {
        format!("{BASE_REPO}:{}", self.owner)
    }
}

/// What the backend remembers of one instance's container.
#[derive(Debug, Clone)]
struct Tracked {
    /// CPUs the container may use (the instance's vCPUs, at most the host's).
    cpus: f64,
    /// PID 1 is Updraft's init (it prints the boot marker and runs user data).
    own_init: bool,
    /// Boots so far, counting the one in progress.
    boots: u32,
    /// Seen up since the latest (re)start.
    up: bool,
    /// Bridge address.
    ip: Option<Ipv4Addr>,
    /// Container port → host port on 127.0.0.1.
    ports: HashMap<u16, u16>,
    /// Counters at the previous metrics sample.
    prev: Counters,
    /// User data was placed and waits for `docker exec` once up (images without our init).
    exec_user_data: bool,
}

#[derive(Debug, Default)]
struct Inner {
    instances: HashMap<String, Tracked>,
    /// AMIs committed by CreateImage and not yet removed.
    images: std::collections::HashSet<String>,
    vanished: Vec<Vanished>,
    /// Status-check changes (instance id, impaired) not yet taken by the controller.
    impaired: Vec<(String, bool)>,
    host_cpus: u32,
}

/// Instances as containers.
#[derive(Debug)]
pub struct DockerBackend {
    settings: DockerSettings,
    /// The client as configured (an error when `DOCKER_HOST` cannot be used).
    client: Result<Docker, String>,
    /// The client after version negotiation, set by `prepare`.
    docker: OnceLock<Docker>,
    inner: Arc<Mutex<Inner>>,
    /// Moved by every lock of `inner` that may change it ([`InstanceBackend::generation`]).
    generation: AtomicU64,
    /// Woken when the event watcher saw something.
    events: Arc<Notify>,
    watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// `account/region/vpc-id` → the VPC's network, or `None` where its instances go on the
    /// default bridge ([`network`]). Held across engine calls, so that concurrent launches
    /// in one VPC make one network.
    networks: tokio::sync::Mutex<HashMap<String, Option<String>>>,
}

/// The container name of an instance.
pub fn container_name(instance_id: &str) -> String {
    format!("updraft-{instance_id}")
}

/// Where the engine is, for messages.
pub fn engine_address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned())
}

fn failed(context: &str, err: impl std::fmt::Display) -> BackendError {
    BackendError::Failed(format!("docker: {context}: {err}"))
}

fn not_found(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl DockerBackend {
    /// A backend for `config`; it reaches the engine in `prepare`.
    pub fn new(config: &Config) -> Self {
        Self {
            settings: DockerSettings::from_config(config),
            client: Docker::connect_with_defaults().map_err(|e| e.to_string()),
            docker: OnceLock::new(),
            inner: Arc::default(),
            generation: AtomicU64::new(0),
            events: Arc::new(Notify::new()),
            watcher: Mutex::new(None),
            networks: tokio::sync::Mutex::default(),
        }
    }

    /// The tracked containers, to change: what `http_address` answers may move, so the
    /// generation does (conservatively: not every caller changes it).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        let inner = self.peek();
        self.generation.fetch_add(1, Ordering::Relaxed);
        inner
    }

    /// The tracked containers, only to read.
    fn peek(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn docker(&self) -> Result<&Docker, BackendError> {
        self.docker
            .get()
            .ok_or_else(|| BackendError::Failed("docker: the backend is not prepared".into()))
    }

    fn tracked(&self, id: &str) -> Result<Tracked, BackendError> {
        self.lock()
            .instances
            .get(id)
            .cloned()
            .ok_or_else(|| BackendError::UnknownInstance(id.to_owned()))
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut Tracked)) {
        if let Some(t) = self.lock().instances.get_mut(id) {
            f(t);
        }
    }

    /// Read the container's bridge address and published ports after a start.
    async fn refresh_addresses(&self, id: &str) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let info = docker
            .inspect_container(&container_name(id), None)
            .await
            .map_err(|e| failed("inspect", e))?;
        let net = info.network_settings.unwrap_or_default();
        let ip = net
            .networks
            .iter()
            .flat_map(|n| n.values())
            .filter_map(|e| e.ip_address.as_deref())
            .find_map(|a| a.parse::<Ipv4Addr>().ok());
        let mut ports = HashMap::new();
        for (key, bindings) in net.ports.unwrap_or_default() {
            let Some(port) = key.strip_suffix("/tcp").and_then(|p| p.parse::<u16>().ok()) else {
                continue;
            };
            let host = bindings
                .unwrap_or_default()
                .iter()
                .filter_map(|b| b.host_port.as_deref()?.parse::<u16>().ok())
                .next();
            if let Some(host) = host {
                ports.insert(port, host);
            }
        }
        tracing::debug!(instance_id = %id, ?ip, ?ports, "container addresses");
        self.update(id, |t| {
            t.ip = ip;
            t.ports = ports;
        });
        Ok(())
    }

    /// A (re)start happened: the counters and the boot state begin again.
    fn restarted(&self, id: &str) {
        self.update(id, |t| {
            t.boots += 1;
            t.up = false;
            t.prev = Counters::zero(Instant::now());
        });
    }

    async fn logs(&self, id: &str) -> Result<String, BackendError> {
        use futures_util::StreamExt;
        let docker = self.docker()?;
        let options = bollard::query_parameters::LogsOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let mut stream = docker.logs(&container_name(id), Some(options));
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => out.extend_from_slice(&c.into_bytes()),
                Err(e) if not_found(&e) => return Err(BackendError::UnknownInstance(id.into())),
                Err(e) => return Err(failed("logs", e)),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Run `script` in the container as root, detached; its output goes to the console.
    async fn exec_detached(&self, id: &str, script: &str) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let exec = docker
            .create_exec(
                &container_name(id),
                bollard::exec::CreateExecOptions {
                    cmd: Some(vec!["/bin/sh", "-c", script]),
                    attach_stdout: Some(false),
                    attach_stderr: Some(false),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| failed("exec", e))?;
        docker
            .start_exec(
                &exec.id,
                Some(bollard::exec::StartExecOptions {
                    detach: true,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
            .map_err(|e| failed("exec start", e))?;
        Ok(())
    }
}

/// The shell line that runs busy loops on `loops` CPUs in a container (0 stops them).
pub fn stress_script(loops: u32) -> String {
    format!(
        "f=/tmp/.updraft-stress; [ -f $f ] && kill $(cat $f) 2>/dev/null; rm -f $f; \
         i=0; while [ $i -lt {loops} ]; do (while :; do :; done) & echo $! >> $f; i=$((i+1)); done"
    )
}

/// Busy loops for `percent` of `cpus` CPUs: whole CPUs, rounded up (0 for 0).
pub fn stress_loops(percent: f64, cpus: f64) -> u32 {
    if percent <= 0.0 || !percent.is_finite() {
        0
    } else {
        ((percent.min(100.0) / 100.0 * cpus).ceil() as u32).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stress_rounds_up_to_whole_cpus() {
        assert_eq!(stress_loops(0.0, 2.0), 0);
        assert_eq!(stress_loops(-3.0, 2.0), 0);
        assert_eq!(stress_loops(30.0, 2.0), 1);
        assert_eq!(stress_loops(60.0, 2.0), 2);
        assert_eq!(stress_loops(100.0, 1.0), 1);
        assert_eq!(stress_loops(500.0, 4.0), 4);
        assert!(stress_script(2).contains("-lt 2"));
        assert_eq!(container_name("i-0abc"), "updraft-i-0abc");
    }
}
