//! The [`InstanceBackend`] operations of the Docker backend: each EC2 lifecycle step as engine
//! calls on the instance's container (`updraft-<instance-id>`), status from inspecting it,
//! metrics from its stats, stress as busy loops run with `docker exec`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use super::stats::{self, Counters};
use super::{
    AMI_REPO, DockerBackend, STOP_TIMEOUT, container_name, failed, not_found, rootfs, stress_loops,
    stress_script,
};
use crate::backend::{
    BackendError, BackendStatus, BoxFuture, HttpAddress, InstanceBackend, LaunchSpec,
    MetricsSample, Restored, Vanished,
};

impl InstanceBackend for DockerBackend {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.prepare_engine())
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.release_all())
    }

    fn changed(&self) -> BoxFuture<'_, ()> {
        let events = self.events.clone();
        Box::pin(async move { events.notified().await })
    }

    fn take_vanished(&self) -> Vec<Vanished> {
        std::mem::take(&mut self.lock().vanished)
    }

    fn take_impaired(&self) -> Vec<(String, bool)> {
        std::mem::take(&mut self.lock().impaired)
    }

    fn adopt(&self, restored: Vec<Restored>) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            if !self.settings.adopt {
                return Ok(());
            }
            self.adopt_containers(restored).await
        })
    }

    fn instance_ids(&self) -> Vec<String> {
        self.lock().instances.keys().cloned().collect()
    }

    fn images(&self) -> Vec<String> {
        self.lock().images.iter().cloned().collect()
    }

    fn delete_image(&self, image_id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        let ami = image_id.to_owned();
        Box::pin(async move {
            let docker = self.docker()?;
            let tag = format!("{AMI_REPO}:{ami}");
            let options = bollard::query_parameters::RemoveImageOptions::default();
            match docker.remove_image(&tag, Some(options), None).await {
                Ok(_) => {}
                Err(e) if not_found(&e) => {}
                // A container still uses it (409): try again on a later pass.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                }) => return Ok(()),
                Err(e) => return Err(failed("remove image", e)),
            }
            self.lock().images.remove(&ami);
            tracing::info!(image_id = %ami, "image removed");
            Ok(())
        })
    }

    fn launch(&self, spec: LaunchSpec) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.launch_container(spec))
    }

    fn start(&self, instance_id: &str, _now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        let id = instance_id.to_owned();
        Box::pin(async move {
            self.tracked(&id)?;
            let docker = self.docker()?;
            match docker.start_container(&container_name(&id), None).await {
                Ok(()) => {}
                Err(e) if not_found(&e) => return Err(BackendError::UnknownInstance(id)),
                Err(e) => return Err(failed("start", e)),
            }
            self.restarted(&id);
            self.refresh_addresses(&id).await
        })
    }

    fn stop(&self, instance_id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        let id = instance_id.to_owned();
        Box::pin(async move {
            let docker = self.docker()?;
            let options = bollard::query_parameters::StopContainerOptions {
                t: Some(STOP_TIMEOUT),
                signal: None,
            };
            match docker
                .stop_container(&container_name(&id), Some(options))
                .await
            {
                // Already stopped (304) or gone: nothing left to do.
                Ok(()) => {}
                Err(e) if not_found(&e) => {}
                Err(e) => return Err(failed("stop", e)),
            }
            self.update(&id, |t| t.up = false);
            Ok(())
        })
    }

    fn reboot(&self, instance_id: &str, _now: f64) -> BoxFuture<'_, Result<(), BackendError>> {
        let id = instance_id.to_owned();
        Box::pin(async move {
            let docker = self.docker()?;
            let options = bollard::query_parameters::RestartContainerOptions {
                t: Some(STOP_TIMEOUT),
                signal: None,
            };
            match docker
                .restart_container(&container_name(&id), Some(options))
                .await
            {
                Ok(()) => {}
                Err(e) if not_found(&e) => return Err(BackendError::UnknownInstance(id)),
                Err(e) => return Err(failed("restart", e)),
            }
            self.restarted(&id);
            self.refresh_addresses(&id).await
        })
    }

    fn terminate(&self, instance_id: &str) -> BoxFuture<'_, Result<(), BackendError>> {
        let id = instance_id.to_owned();
        Box::pin(async move {
            let docker = self.docker()?;
            let name = container_name(&id);
            let result = if self.settings.keep_containers {
                let options = bollard::query_parameters::StopContainerOptions {
                    t: Some(STOP_TIMEOUT),
                    signal: None,
                };
                docker.stop_container(&name, Some(options)).await
            } else {
                let options = bollard::query_parameters::RemoveContainerOptions {
                    force: true,
                    v: true,
                    link: false,
                };
                docker.remove_container(&name, Some(options)).await
            };
            self.lock().instances.remove(&id);
            match result {
                Ok(()) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(e) => Err(failed("remove", e)),
            }
        })
    }

    fn status(
        &self,
        instance_id: &str,
        _now: f64,
    ) -> BoxFuture<'_, Result<BackendStatus, BackendError>> {
        let id = instance_id.to_owned();
        Box::pin(async move {
            let docker = self.docker()?;
            let info = match docker.inspect_container(&container_name(&id), None).await {
                Ok(i) => i,
                Err(e) if not_found(&e) => {
                    self.lock().instances.remove(&id);
                    return Ok(BackendStatus::Gone);
                }
                Err(e) => return Err(failed("inspect", e)),
            };
            let state = info.state.unwrap_or_default();
            if state.restarting == Some(true) {
                return Ok(BackendStatus::Booting);
            }
            if state.running != Some(true) {
                self.update(&id, |t| t.up = false);
                return Ok(BackendStatus::Stopped);
            }
            let Ok(t) = self.tracked(&id) else {
                // Running but not ours to track (kept from elsewhere): report it as it is.
                return Ok(BackendStatus::Running);
            };
            if t.up {
                return Ok(BackendStatus::Running);
            }
            if t.own_init {
                let marker = rootfs::boot_marker(t.boots);
                if !self.logs(&id).await?.lines().any(|l| l.trim() == marker) {
                    return Ok(BackendStatus::Booting);
                }
            } else if t.exec_user_data {
                // Once per instance, as cloud-init does; the output goes to PID 1's stdout,
                // which is the console.
                let run = format!(
                    "d={dir}; [ -f $d/user-data.done ] && exit 0; : > $d/user-data.done; \
                     sh $d/user-data > /proc/1/fd/1 2>&1 &",
                    dir = rootfs::instance_dir(&id)
                );
                self.exec_detached(&id, &run).await?;
                self.update(&id, |t| t.exec_user_data = false);
            }
            // Addresses as they are now that it is up (a published port can show late).
            self.refresh_addresses(&id).await?;
            self.update(&id, |t| t.up = true);
            Ok(BackendStatus::Running)
        })
    }

    fn console_output(&self, instance_id: &str) -> BoxFuture<'_, Result<String, BackendError>> {
        let id = instance_id.to_owned();
        Box::pin(async move { self.logs(&id).await })
    }

    fn create_image(
        &self,
        instance_id: &str,
        image_id: &str,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let (id, image) = (instance_id.to_owned(), image_id.to_owned());
        Box::pin(async move { self.commit(&id, &image).await })
    }

    fn metrics_sample(
        &self,
        instance_id: &str,
        _now: f64,
    ) -> BoxFuture<'_, Result<MetricsSample, BackendError>> {
        let id = instance_id.to_owned();
        Box::pin(async move {
            use futures_util::StreamExt;
            let t = self.tracked(&id)?;
            let docker = self.docker()?;
            let options = bollard::query_parameters::StatsOptions {
                stream: false,
                one_shot: true,
            };
            let reading = docker
                .stats(&container_name(&id), Some(options))
                .next()
                .await
                .ok_or_else(|| failed("stats", "no reading"))?;
            let reading = match reading {
                Ok(r) => r,
                Err(e) if not_found(&e) => return Err(BackendError::UnknownInstance(id)),
                Err(e) => return Err(failed("stats", e)),
            };
            let cur = Counters::from_stats(&reading, Instant::now());
            self.update(&id, |t| t.prev = cur);
            Ok(stats::sample(&t.prev, &cur, t.cpus))
        })
    }

    fn http_address(&self, instance_id: &str, port: u16) -> Option<HttpAddress> {
        let inner = self.peek();
        let t = inner.instances.get(instance_id).filter(|t| t.up)?;
        if let Some(host) = t.ports.get(&port).filter(|_| !self.settings.via_bridge) {
            return Some(HttpAddress::Socket(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                *host,
            ))));
        }
        t.ip.map(|ip| HttpAddress::Socket(SocketAddr::from((ip, port))))
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_stress(&self, instance_id: &str, cpu_percent: f64) -> Result<(), BackendError> {
        let t = self.tracked(instance_id)?;
        let docker = self.docker()?.clone();
        let loops = stress_loops(cpu_percent, t.cpus);
        let id = instance_id.to_owned();
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| failed("stress", "no runtime to run it on"))?;
        // The exec is an engine round trip; the admin API answers without waiting for it.
        handle.spawn(async move {
            let exec = docker
                .create_exec(
                    &container_name(&id),
                    bollard::exec::CreateExecOptions {
                        cmd: Some(vec!["/bin/sh".to_owned(), "-c".to_owned(), stress_script(loops)]),
                        ..Default::default()
                    },
                )
                .await;
            let started = match exec {
                Ok(exec) => docker
                    .start_exec(
                        &exec.id,
                        Some(bollard::exec::StartExecOptions {
                            detach: true,
                            tty: false,
                            output_capacity: None,
                        }),
                    )
                    .await
                    .map(drop),
                Err(e) => Err(e),
            };
            if let Err(err) = started {
                tracing::warn!(instance_id = %id, error = %err, "cannot set stress in the container");
            }
        });
        Ok(())
    }
}
