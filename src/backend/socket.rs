//! Simulated instances whose HTTP is served by one real socket.
//!
//! Everything but HTTP is the [`SimulatedBackend`]'s (lifecycle on the clock, CPU model,
//! console output); a running instance that serves a port is reached at one fixed socket
//! address instead of the in-process responder. Tests and benchmarks use it to drive the data
//! plane's socket path (pooled keep-alive connections, streamed bodies) without Docker.

use std::net::SocketAddr;

use super::simulated::SimulatedBackend;
use super::{
    BackendError, BackendStatus, BoxFuture, HttpAddress, InstanceBackend, LaunchSpec, MetricsSample,
};

/// Simulated instances whose HTTP goes to `addr`.
#[derive(Debug)]
pub struct SocketInstances {
    sim: SimulatedBackend,
    addr: SocketAddr,
}

impl SocketInstances {
    /// Instances that boot in `boot_seconds` (virtual) and answer HTTP at `addr`.
    pub fn new(boot_seconds: f64, addr: SocketAddr) -> Self {
        Self {
            sim: SimulatedBackend::new(boot_seconds),
            addr,
        }
    }
}

impl InstanceBackend for SocketInstances {
    fn name(&self) -> &'static str {
        "socket"
    }
    fn launch(&self, spec: LaunchSpec) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.launch(spec)
    }
    fn start(&self, id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.start(id, now)
    }
    fn stop(&self, id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.stop(id)
    }
    fn reboot(&self, id: &str, now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.reboot(id, now)
    }
    fn terminate(&self, id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.terminate(id)
    }
    fn status(&self, id: &str, now: f64) -> BoxFuture<'_, Result<BackendStatus, BackendError>> {
        self.sim.status(id, now)
    }
    fn console_output(&self, id: &str) -> BoxFuture<'_, Result<String, BackendError>> {
        self.sim.console_output(id)
    }
    fn create_image(&self, id: &str, image: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        self.sim.create_image(id, image)
    }
    fn metrics_sample(
        &self,
        id: &str,
        now: f64,
    ) -> BoxFuture<'_, Result<MetricsSample, BackendError>> {
        self.sim.metrics_sample(id, now)
    }
    fn http_address(&self, id: &str, port: u16) -> Option<HttpAddress> {
        self.sim
            .answers_http(id, port)
            .then_some(HttpAddress::Socket(self.addr))
    }
    fn generation(&self) -> u64 {
        self.sim.generation()
    }
    fn set_stress(&self, id: &str, cpu: f64) -> Result<(), BackendError> {
        self.sim.set_stress(id, cpu)
    }
}
