//! The simulated backend: instances are records with a boot delay, a CPU load model and an
//! in-process HTTP responder. Needs nothing installed.
//!
//! **HTTP.** A running instance answers on port 80 (and any port user data names) on every
//! path with `Hello from i-… in us-east-1a`. User data may say what to serve, one directive
//! per line, in any script (they are comments to a shell):
//!
//! ```text
//! #!/bin/bash
//! # updraft:http-body Hello ELB 1
//! # updraft:http-port 8080
//! ```
//!
//! An image made from an instance (CreateImage) keeps what the instance served, so instances
//! launched from it serve the same, as an AMI with the app installed does.
//!
//! **CPU.** An idle instance sits at 0.9–2.5 % plus a little noise (±0.4 %), below the 5 %
//! scale-in threshold people use; each request served costs 5 ms of one vCPU; the stress knob
//! (`POST /_updraft/instances/{id}/stress`) adds its percent, standing in for `yes > /dev/null`.
//!
//! **Console.** A short boot log, then what the user data's plain `echo` lines print.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{
    BackendError, BackendStatus, BoxFuture, HttpAddress, HttpReply, HttpRequest, InstanceBackend,
    LaunchSpec, MetricsSample,
};

/// Virtual seconds from launch (or start) to running.
pub const DEFAULT_BOOT_SECONDS: f64 = 10.0;
/// CPU seconds one request costs.
const REQUEST_CPU_SECONDS: f64 = 0.005;
/// Bytes a request brings in and sends out, for NetworkIn/NetworkOut.
const REQUEST_BYTES_IN: u64 = 400;
const REQUEST_BYTES_OUT: u64 = 600;
/// Packets of one small HTTP exchange on its own connection: handshake, request, ACKs and the
/// close, in each direction.
const REQUEST_PACKETS_IN: u64 = 5;
const REQUEST_PACKETS_OUT: u64 = 4;

/// What an instance runs: carried from instance to image and back.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Workload {
    body: Option<String>,
    ports: Vec<u16>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SimInstance {
    availability_zone: String,
    vcpus: u32,
    workload: Workload,
    console: String,
    status: BackendStatus,
    ready_at: f64,
    stress: f64,
    requests: u64,
    sampled_requests: u64,
    last_sample: Option<f64>,
    base_load: f64,
    seed: u64,
}

#[derive(Debug, Default)]
struct Inner {
    instances: HashMap<String, SimInstance>,
    images: HashMap<String, Workload>,
}

/// The simulated machines and images, as a snapshot keeps them.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Saved {
    instances: Vec<(String, SimInstance)>,
    images: Vec<(String, Workload)>,
}

/// In-process instances.
#[derive(Debug, Clone)]
pub struct SimulatedBackend {
    inner: Arc<Mutex<Inner>>,
    /// Moved by every lock that may change an instance ([`InstanceBackend::generation`]).
    generation: Arc<AtomicU64>,
    boot_seconds: f64,
}

impl Default for SimulatedBackend {
    fn default() -> Self {
        Self::new(DEFAULT_BOOT_SECONDS)
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<'static, T> {
    Box::pin(std::future::ready(value))
}

impl SimulatedBackend {
    /// A backend whose instances take `boot_seconds` of virtual time to boot.
    pub fn new(boot_seconds: f64) -> Self {
        Self {
            inner: Arc::default(),
            generation: Arc::default(),
            boot_seconds: boot_seconds.max(0.0),
        }
    }

    /// Whether `instance_id` is running and serves HTTP on `port` (what `http_address` checks
    /// before it makes a responder).
    pub fn answers_http(&self, instance_id: &str, port: u16) -> bool {
        let inner = self.peek();
        inner
            .instances
            .get(instance_id)
            .is_some_and(|i| i.status == BackendStatus::Running && serves(&i.workload, port))
    }

    /// The instances, to change: what `http_address` answers may move, so the generation
    /// does (conservatively: not every caller changes what it answers).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        let inner = self.peek();
        self.generation.fetch_add(1, Ordering::Relaxed);
        inner
    }

    /// The instances, for what leaves `http_address`'s answers alone (reading them, serving a
    /// request).
    fn peek(&self) -> MutexGuard<'_, Inner> {
        // Plain data; a panic elsewhere does not make it unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_instance<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut SimInstance) -> T,
    ) -> Result<T, BackendError> {
        let mut inner = self.lock();
        let instance = inner
            .instances
            .get_mut(id)
            .ok_or_else(|| BackendError::UnknownInstance(id.to_owned()))?;
        Ok(f(instance))
    }

    /// The reply of a running instance to one request (also counts it for the CPU model).
    pub fn respond(&self, id: &str, port: u16, request: &HttpRequest) -> Option<HttpReply> {
        let mut inner = self.peek();
        let instance = inner.instances.get_mut(id)?;
        if instance.status != BackendStatus::Running || !serves(&instance.workload, port) {
            return None;
        }
        instance.requests += 1;
        let body = match &instance.workload.body {
            Some(body) => format!("{body}\n"),
            None => format!("Hello from {id} in {}\n", instance.availability_zone),
        };
        let body = if request.method.eq_ignore_ascii_case("HEAD") {
            String::new()
        } else {
            body
        };
        Some(HttpReply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body,
        })
    }
}

fn serves(workload: &Workload, port: u16) -> bool {
    port == 80 || workload.ports.contains(&port)
}

/// The workload user data asks for (see the module docs), or `None` when it says nothing.
fn workload_from_user_data(user_data: &str) -> Option<Workload> {
    let mut workload = Workload::default();
    let mut said = false;
    for line in user_data.lines() {
        let Some(directive) = line.trim().strip_prefix('#').map(str::trim) else {
            continue;
        };
        if let Some(body) = directive.strip_prefix("updraft:http-body") {
            workload.body = Some(body.trim().to_owned());
            said = true;
        } else if let Some(port) = directive.strip_prefix("updraft:http-port")
            && let Ok(port) = port.trim().parse()
        {
            workload.ports.push(port);
            said = true;
        }
    }
    said.then_some(workload)
}

/// What the plain `echo` lines of a script print (no redirections or pipes).
fn echoed(user_data: &str) -> Vec<String> {
    user_data
        .lines()
        .filter_map(|l| l.trim().strip_prefix("echo "))
        .filter(|rest| !rest.contains(['>', '|', '`', '$']))
        .map(|rest| {
            let rest = rest.trim();
            rest.strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .or_else(|| rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
                .unwrap_or(rest)
                .to_owned()
        })
        .collect()
}

/// FNV-1a: a stable per-instance seed (not for security).
fn seed_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A number in [0, 1) from a seed and a step (splitmix64).
fn unit(seed: u64, step: u64) -> f64 {
    let mut z = seed.wrapping_add(step.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// CPUUtilization of an instance: idle base + per-minute noise + requests + stress, 0–100.
pub fn cpu_model(
    base_load: f64,
    seed: u64,
    now: f64,
    requests_per_second: f64,
    vcpus: u32,
    stress: f64,
) -> f64 {
    let minute = (now / 60.0).floor().max(0.0) as u64;
    let noise = (unit(seed, minute) - 0.5) * 0.8;
    let from_requests = requests_per_second * REQUEST_CPU_SECONDS / f64::from(vcpus.max(1)) * 100.0;
    (base_load + noise + from_requests + stress).clamp(0.0, 100.0)
}

impl InstanceBackend for SimulatedBackend {
    fn name(&self) -> &'static str {
        "simulated"
    }

    fn save(&self, only: Option<&std::collections::HashSet<String>>) -> Option<super::Saved> {
        let inner = self.lock();
        let keep = |id: &String| only.is_none_or(|ids| ids.contains(id));
        let saved = Saved {
            instances: (inner.instances.iter())
                .filter(|(id, _)| keep(id))
                .map(|(id, i)| (id.clone(), i.clone()))
                .collect(),
            images: (inner.images.iter())
                .filter(|(id, _)| keep(id))
                .map(|(id, w)| (id.clone(), w.clone()))
                .collect(),
        };
        Some(super::Saved::Simulated(saved))
    }

    fn restore(&self, saved: super::Saved) {
        let super::Saved::Simulated(saved) = saved;
        let mut inner = self.lock();
        inner.instances.extend(saved.instances);
        inner.images.extend(saved.images);
    }

    fn launch(&self, spec: LaunchSpec) -> BoxFuture<'_, Result<(), BackendError>> {
        let mut inner = self.lock();
        let from_user_data = spec.user_data.as_deref().and_then(workload_from_user_data);
        let workload = from_user_data
            .or_else(|| inner.images.get(&spec.image_id).cloned())
            .unwrap_or_default();
        let mut console = format!(
            "[    0.000000] Linux version 6.1.0 (updraft simulated {})\n\
             [    0.100000] Command line: root=/dev/xvda1 console=ttyS0\n\
             Cloud-init v. 22.2.2 running 'init' on {}\n",
            spec.instance_type, spec.instance_id
        );
        for line in spec.user_data.as_deref().map(echoed).unwrap_or_default() {
            console.push_str(&line);
            console.push('\n');
        }
        console.push_str("Cloud-init v. 22.2.2 finished\n");
        let seed = seed_of(&spec.instance_id);
        let instance = SimInstance {
            availability_zone: spec.availability_zone,
            vcpus: spec.vcpus,
            workload,
            console,
            status: BackendStatus::Booting,
            ready_at: spec.now + self.boot_seconds,
            stress: 0.0,
            requests: 0,
            sampled_requests: 0,
            last_sample: None,
            base_load: 0.9 + unit(seed, u64::MAX) * 1.6,
            seed,
        };
        inner.instances.insert(spec.instance_id, instance);
        ready(Ok(()))
    }

    fn start(&self, instance_id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        let boot = self.boot_seconds;
        ready(self.with_instance(instance_id, |i| {
            i.status = BackendStatus::Booting;
            i.ready_at = now + boot;
        }))
    }

    fn stop(&self, instance_id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        ready(self.with_instance(instance_id, |i| {
            i.status = BackendStatus::Stopped;
            // A stopped instance's processes are gone, `yes` included.
            i.stress = 0.0;
        }))
    }

    fn reboot(&self, instance_id: &str, _now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        // Instant: EC2 keeps a rebooting instance `running` and nothing polls the backend
        // for it, so a simulated boot delay here would never end. The `yes` goes away.
        ready(self.with_instance(instance_id, |i| {
            i.stress = 0.0;
            i.console.push_str("reboot: Restarting system\n");
        }))
    }

    fn terminate(&self, instance_id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        // Terminating what is already gone is done.
        self.lock().instances.remove(instance_id);
        ready(Ok(()))
    }

    fn status(
        &self,
        instance_id: &str,
        now: f64,
    ) -> BoxFuture<'_, Result<BackendStatus, BackendError>> {
        let status = self
            .with_instance(instance_id, |i| {
                if i.status == BackendStatus::Booting && now >= i.ready_at {
                    i.status = BackendStatus::Running;
                }
                i.status
            })
            .unwrap_or(BackendStatus::Gone);
        ready(Ok(status))
    }

    fn console_output(&self, instance_id: &str) -> BoxFuture<'_, Result<String, BackendError>> {
        ready(self.with_instance(instance_id, |i| i.console.clone()))
    }

    fn create_image(
        &self,
        instance_id: &str,
        image_id: &str,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let mut inner = self.lock();
        let result = match inner.instances.get(instance_id) {
            Some(i) => {
                let workload = i.workload.clone();
                inner.images.insert(image_id.to_owned(), workload);
                Ok(())
            }
            None => Err(BackendError::UnknownInstance(instance_id.to_owned())),
        };
        ready(result)
    }

    fn metrics_sample(
        &self,
        instance_id: &str,
        now: f64,
    ) -> BoxFuture<'_, Result<MetricsSample, BackendError>> {
        ready(self.with_instance(instance_id, |i| {
            if i.status != BackendStatus::Running {
                return MetricsSample::default();
            }
            let requests = i.requests - i.sampled_requests;
            let elapsed = i.last_sample.map_or(60.0, |t| (now - t).max(1.0));
            i.sampled_requests = i.requests;
            i.last_sample = Some(now);
            let rps = requests as f64 / elapsed;
            MetricsSample {
                cpu_utilization: cpu_model(i.base_load, i.seed, now, rps, i.vcpus, i.stress),
                requests,
                network_in_bytes: requests * REQUEST_BYTES_IN,
                network_out_bytes: requests * REQUEST_BYTES_OUT,
                network_packets_in: requests * REQUEST_PACKETS_IN,
                network_packets_out: requests * REQUEST_PACKETS_OUT,
            }
        }))
    }

    fn http_address(&self, instance_id: &str, port: u16) -> Option<HttpAddress> {
        if !self.answers_http(instance_id, port) {
            return None;
        }
        let backend = self.clone();
        let id = instance_id.to_owned();
        Some(HttpAddress::InProcess(Arc::new(
            move |req: &HttpRequest| {
                backend
                    .respond(&id, port, req)
                    .unwrap_or_else(|| HttpReply {
                        status: 502,
                        content_type: "text/plain; charset=utf-8",
                        body: "instance not answering\n".into(),
                    })
            },
        )))
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn set_stress(&self, instance_id: &str, cpu_percent: f64) -> Result<(), BackendError> {
        self.with_instance(instance_id, |i| i.stress = cpu_percent.clamp(0.0, 100.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, user_data: Option<&str>) -> LaunchSpec {
        LaunchSpec {
            instance_id: id.into(),
            image_id: "ami-1".into(),
            instance_type: "t3.micro".into(),
            vcpus: 2,
            memory_mib: 1024,
            account: "000000000000".into(),
            region: "us-east-1".into(),
            group: None,
            availability_zone: "us-east-1a".into(),
            private_ip: "172.31.0.10".into(),
            vpc_id: "vpc-1".into(),
            vpc_cidr: "172.31.0.0/16".into(),
            ingress_tcp_ports: vec![80],
            user_data: user_data.map(str::to_owned),
            now: 0.0,
        }
    }

    #[test]
    fn idle_cpu_stays_between_half_and_three_percent() {
        for n in 0..200u64 {
            let seed = seed_of(&format!("i-{n}"));
            let base = 0.9 + unit(seed, u64::MAX) * 1.6;
            for minute in 0..50 {
                let cpu = cpu_model(base, seed, minute as f64 * 60.0, 0.0, 2, 0.0);
                assert!((0.5..3.0).contains(&cpu), "{cpu}");
            }
        }
        assert_eq!(cpu_model(2.0, 1, 0.0, 0.0, 1, 100.0), 100.0);
        // 100 requests/s at 5 ms on 1 vCPU is half of it.
        let busy = cpu_model(1.0, 1, 0.0, 100.0, 1, 0.0);
        assert!((50.0..52.0).contains(&busy), "{busy}");
    }

    #[tokio::test]
    async fn boots_serves_and_carries_its_workload_into_images() {
        let b = SimulatedBackend::new(10.0);
        let ud =
            "#!/bin/bash\n# updraft:http-body Hello ELB 1\necho \"started\"\necho x > /tmp/f\n";
        b.launch(spec("i-a", Some(ud))).await.unwrap();
        assert_eq!(b.status("i-a", 5.0).await.unwrap(), BackendStatus::Booting);
        assert!(b.http_address("i-a", 80).is_none());
        assert_eq!(b.status("i-a", 10.0).await.unwrap(), BackendStatus::Running);
        let Some(HttpAddress::InProcess(r)) = b.http_address("i-a", 80) else {
            panic!("no responder")
        };
        let req = HttpRequest {
            method: "GET".into(),
            path: "/index.html".into(),
        };
        assert_eq!(r(&req).body, "Hello ELB 1\n");
        assert!(b.http_address("i-a", 8080).is_none());
        let console = b.console_output("i-a").await.unwrap();
        assert!(
            console.contains("\nstarted\n") && !console.contains("/tmp/f"),
            "{console}"
        );
        let sample = b.metrics_sample("i-a", 60.0).await.unwrap();
        assert_eq!(sample.requests, 1);
        b.set_stress("i-a", 90.0).unwrap();
        assert!(
            b.metrics_sample("i-a", 120.0)
                .await
                .unwrap()
                .cpu_utilization
                > 90.0
        );

        b.create_image("i-a", "ami-x").await.unwrap();
        let mut s = spec("i-b", None);
        s.image_id = "ami-x".into();
        b.launch(s).await.unwrap();
        b.status("i-b", 20.0).await.unwrap();
        let reply = b.respond("i-b", 80, &req).unwrap();
        assert_eq!(reply.body, "Hello ELB 1\n");
        b.launch(spec("i-c", None)).await.unwrap();
        b.status("i-c", 20.0).await.unwrap();
        assert_eq!(
            b.respond("i-c", 80, &req).unwrap().body,
            "Hello from i-c in us-east-1a\n"
        );
        b.terminate("i-c").await.unwrap();
        assert_eq!(b.status("i-c", 30.0).await.unwrap(), BackendStatus::Gone);
    }
}
