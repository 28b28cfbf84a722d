//! The Docker backend's work with the engine beyond single calls: start-up (reach the engine,
//! remove what an earlier run left unless its containers are adopted, import the busybox
//! image), shutdown, launching a
//! container (on its VPC's network, [`super::network`]), AMI → image resolution,
//! CreateImage's commit, and the event watcher that notices containers dying or vanishing
//! behind Updraft's back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    CommitContainerOptions, CreateContainerOptions, CreateImageOptions, EventsOptions,
    ListContainersOptions, ListImagesOptions, RemoveContainerOptions, RemoveImageOptions,
    UploadToContainerOptions,
};
use futures_util::StreamExt;

use super::stats::Counters;
use super::{
    AMI_REPO, BASE_REPO, DockerBackend, INIT_LABEL, INSTANCE_LABEL, OWNER_LABEL, Tracked,
    container_name, engine_address, failed, not_found, rootfs, userdata,
};
use crate::backend::{BackendError, LaunchSpec, Vanished};

/// The `StateReason` of an exit nobody at Updraft asked for.
fn exit_reason(killed_from_outside: bool) -> &'static str {
    if killed_from_outside {
        "Client.UserInitiatedShutdown"
    } else {
        "Client.InstanceInitiatedShutdown"
    }
}

/// Signal numbers of SIGSTOP and SIGCONT, as the engine's `kill` events name them (Linux).
const SIGSTOP: &str = "19";
const SIGCONT: &str = "18";

/// Whether an engine event fails (`true`) or passes again (`false`) the instance's status
/// check: the container frozen (`pause`, or SIGSTOP to its PID 1) stops answering as a hung
/// kernel does; `unpause` or SIGCONT brings it back.
fn status_check_change(action: &str, signal: Option<&str>) -> Option<bool> {
    match (action, signal) {
        ("pause", _) | ("kill", Some(SIGSTOP | "SIGSTOP" | "STOP")) => Some(true),
        ("unpause", _) | ("kill", Some(SIGCONT | "SIGCONT" | "CONT")) => Some(false),
        _ => None,
    }
}

impl DockerBackend {
    pub(super) fn owner_filter(&self) -> HashMap<String, Vec<String>> {
        HashMap::from([(
            "label".to_owned(),
            vec![format!("{OWNER_LABEL}={}", self.settings.owner)],
        )])
    }

    /// Every container labelled with this owner, running or not.
    pub(super) async fn owned_containers(
        &self,
        docker: &Docker,
    ) -> Result<Vec<bollard::models::ContainerSummary>, BackendError> {
        docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(self.owner_filter()),
                ..Default::default()
            }))
            .await
            .map_err(|e| failed("list containers", e))
    }

    /// Every tagged image labelled with this owner.
    pub(super) async fn owned_images(
        &self,
        docker: &Docker,
    ) -> Result<Vec<bollard::models::ImageSummary>, BackendError> {
        docker
            .list_images(Some(ListImagesOptions {
                all: false,
                filters: Some(self.owner_filter()),
                ..Default::default()
            }))
            .await
            .map_err(|e| failed("list images", e))
    }

    /// Reach the engine, clean up, import the busybox image, watch events.
    pub(super) async fn prepare_engine(&self) -> Result<(), BackendError> {
        let unreachable = |e: &dyn std::fmt::Display| {
            BackendError::Failed(format!(
                "cannot reach the Docker Engine at {} ({e}); start Docker or set DOCKER_HOST, \
                 or run with --instances simulated",
                engine_address()
            ))
        };
        let client = self.client.clone().map_err(|e| unreachable(&e))?;
        let negotiated = client
            .negotiate_version()
            .await
            .map_err(|e| unreachable(&e))?;
        negotiated.ping().await.map_err(|e| unreachable(&e))?;
        let info = negotiated.info().await.map_err(|e| unreachable(&e))?;
        self.lock().host_cpus = info.ncpu.unwrap_or(1).max(1) as u32;
        // A second prepare keeps the first client (both talk to the same engine).
        let _ = self.docker.set(negotiated);
        let docker = self.docker()?;
        let started = Instant::now();
        if !self.settings.adopt {
            self.remove_owned().await?;
            self.import_base().await?;
        } else if docker
            .inspect_image(&self.settings.base_image())
            .await
            .is_err()
        {
            // Adopted containers keep the image they run; a new one only when it is missing.
            self.import_base().await?;
        }
        self.start_watcher()?;
        tracing::info!(
            engine = %engine_address(),
            owner = %self.settings.owner,
            ms = started.elapsed().as_millis() as u64,
            "docker backend ready"
        );
        Ok(())
    }

    /// Shutdown: stop watching; remove this owner's containers and images unless kept (with
    /// `--keep-containers`, or a state directory: the next run adopts them).
    pub(super) async fn release_all(&self) {
        if let Some(w) = self
            .watcher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            w.abort();
        }
        if self.settings.keep_containers || self.settings.adopt || self.docker.get().is_none() {
            return;
        }
        if let Err(err) = self.remove_owned().await {
            tracing::warn!(error = %err, "docker backend: cleanup at shutdown failed");
        }
        self.lock().instances.clear();
    }

    /// Remove every container, network and image labelled with this owner (an earlier run's
    /// or ours).
    async fn remove_owned(&self) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let containers = self.owned_containers(docker).await?;
        for c in containers {
            let Some(id) = c.id else { continue };
            let options = RemoveContainerOptions {
                force: true,
                v: true,
                link: false,
            };
            match docker.remove_container(&id, Some(options)).await {
                Ok(()) => {}
                Err(e) if not_found(&e) => {}
                Err(e) => return Err(failed("remove container", e)),
            }
        }
        self.remove_owned_networks().await;
        let mut images = self.owned_images(docker).await?;
        // Images made by CreateImage first: they are children of the busybox image.
        images.sort_by_key(|i| !i.repo_tags.iter().any(|t| t.starts_with(AMI_REPO)));
        for image in images {
            let refs = if image.repo_tags.is_empty() {
                vec![image.id.clone()]
            } else {
                image.repo_tags.clone()
            };
            for r in refs {
                match docker
                    .remove_image(&r, Some(RemoveImageOptions::default()), None)
                    .await
                {
                    Ok(_) => {}
                    Err(e) if not_found(&e) => {}
                    Err(e) => tracing::warn!(image = %r, error = %e, "cannot remove image"),
                }
            }
        }
        Ok(())
    }

    /// Import the busybox root filesystem as `updraft/busybox:<owner>`.
    async fn import_base(&self) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let tar = rootfs::busybox_rootfs(&self.settings.busybox).map_err(BackendError::Failed)?;
        let owner = &self.settings.owner;
        let options = CreateImageOptions {
            from_src: Some("-".into()),
            repo: Some(BASE_REPO.into()),
            tag: Some(owner.clone()),
            changes: vec![
                r#"CMD ["/bin/busybox", "sh", "/sbin/updraft-init"]"#.into(),
                "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin".into(),
                format!("LABEL {OWNER_LABEL}={owner} {INIT_LABEL}=1"),
            ],
            ..Default::default()
        };
        let mut stream = docker.create_image(
            Some(options),
            Some(bollard::body_full(bytes::Bytes::from(tar))),
            None,
        );
        while let Some(item) = stream.next().await {
            item.map_err(|e| failed("import the busybox image", e))?;
        }
        Ok(())
    }

    /// The image an AMI runs as, and whether its PID 1 is Updraft's init: `--ami-image`, then
    /// `updraft/ami:<ami>` (CreateImage), then a LocalStack-style `localstack-ec2/<name>:<ami>`,
    /// else the busybox image.
    pub(super) async fn resolve_image(&self, ami: &str) -> Result<(String, bool), BackendError> {
        let docker = self.docker()?;
        let has_init = |labels: Option<HashMap<String, String>>| {
            labels.is_some_and(|l| l.contains_key(INIT_LABEL))
        };
        if let Some((_, image)) = self.settings.ami_images.iter().find(|(a, _)| a == ami) {
            return match docker.inspect_image(image).await {
                Ok(i) => Ok((image.clone(), has_init(i.config.and_then(|c| c.labels)))),
                Err(e) if not_found(&e) => Err(BackendError::UnknownImage(image.clone())),
                Err(e) => Err(failed("inspect image", e)),
            };
        }
        let own = format!("{AMI_REPO}:{ami}");
        match docker.inspect_image(&own).await {
            Ok(i) => return Ok((own, has_init(i.config.and_then(|c| c.labels)))),
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(failed("inspect image", e)),
        }
        let filters = HashMap::from([(
            "reference".to_owned(),
            vec![format!("localstack-ec2/*:{ami}")],
        )]);
        let listed = docker
            .list_images(Some(ListImagesOptions {
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| failed("list images", e))?;
        let suffix = format!(":{ami}");
        for image in listed {
            if let Some(tag) = image
                .repo_tags
                .iter()
                .find(|t| t.starts_with("localstack-ec2/") && t.ends_with(&suffix))
            {
                return Ok((tag.clone(), image.labels.contains_key(INIT_LABEL)));
            }
        }
        let base = self.settings.base_image();
        match docker.inspect_image(&base).await {
            Ok(_) => {}
            // Removed behind our back: make it again.
            Err(e) if not_found(&e) => self.import_base().await?,
            Err(e) => return Err(failed("inspect image", e)),
        }
        Ok((base, true))
    }

    /// Create, fill and start the container of a new instance.
    pub(super) async fn launch_container(&self, spec: LaunchSpec) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let id = spec.instance_id.clone();
        let name = container_name(&id);
        let (image, own_init) = self.resolve_image(&spec.image_id).await?;

        let host_cpus = self.lock().host_cpus.max(1);
        let cpus = spec.vcpus.clamp(1, host_cpus);
        let owner = &self.settings.owner;
        let mut labels = HashMap::from([
            (OWNER_LABEL.to_owned(), owner.clone()),
            (INSTANCE_LABEL.to_owned(), id.clone()),
            ("updraft.account".to_owned(), spec.account.clone()),
            ("updraft.region".to_owned(), spec.region.clone()),
            ("updraft.ami".to_owned(), spec.image_id.clone()),
            (
                "updraft.instance-type".to_owned(),
                spec.instance_type.clone(),
            ),
        ]);
        if let Some(group) = &spec.group {
            labels.insert("updraft.group".to_owned(), group.clone());
        }
        // The ports the instance's security groups open, and those published everywhere.
        let mut published = spec.ingress_tcp_ports.clone();
        published.extend(&self.settings.publish_ports);
        published.sort_unstable();
        published.dedup();
        let network = self.vpc_network(&spec).await;
        let port_bindings = published
            .iter()
            .map(|p| {
                let binding = PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(String::new()),
                };
                (format!("{p}/tcp"), Some(vec![binding]))
            })
            .collect();
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            hostname: Some(format!("ip-{}", spec.private_ip.replace('.', "-"))),
            env: Some(vec![
                format!("UPDRAFT_INSTANCE_ID={id}"),
                format!("UPDRAFT_INSTANCE_TYPE={}", spec.instance_type),
                format!("UPDRAFT_AZ={}", spec.availability_zone),
                format!("UPDRAFT_PRIVATE_IP={}", spec.private_ip),
            ]),
            labels: Some(labels),
            exposed_ports: Some(published.iter().map(|p| format!("{p}/tcp")).collect()),
            host_config: Some(HostConfig {
                nano_cpus: Some(i64::from(cpus) * 1_000_000_000),
                memory: Some((spec.memory_mib.max(6) * 1024 * 1024) as i64),
                port_bindings: Some(port_bindings),
                network_mode: network.clone(),
                ..Default::default()
            }),
            networking_config: network
                .as_deref()
                .map(|n| super::network::endpoint(n, &spec.private_ip)),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        match docker
            .create_container(Some(options.clone()), body.clone())
            .await
        {
            Ok(_) => {}
            // A retry after a half-done launch: start clean.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => {
                remove_quietly(docker, &name).await;
                docker
                    .create_container(Some(options), body)
                    .await
                    .map_err(|e| failed("create container", e))?;
            }
            Err(e) => return Err(failed("create container", e)),
        }

        let script = spec.user_data.as_deref().and_then(userdata::to_script);
        if let Some(script) = &script {
            let archive = rootfs::user_data_archive(&id, script).map_err(BackendError::Failed)?;
            let options = UploadToContainerOptions {
                path: "/".into(),
                ..Default::default()
            };
            docker
                .upload_to_container(
                    &name,
                    Some(options),
                    bollard::body_full(bytes::Bytes::from(archive)),
                )
                .await
                .map_err(|e| failed("place the user data", e))?;
        }
        self.lock().instances.insert(
            id.clone(),
            Tracked {
                cpus: f64::from(cpus),
                own_init,
                boots: 0,
                up: false,
                ip: None,
                ports: HashMap::new(),
                prev: Counters::zero(Instant::now()),
                exec_user_data: script.is_some() && !own_init,
            },
        );
        docker
            .start_container(&name, None)
            .await
            .map_err(|e| failed("start container", e))?;
        self.restarted(&id);
        self.refresh_addresses(&id).await?;
        // Where the host reaches it, and each published port (as `docker port` says).
        let (address, mut host_ports) = self
            .tracked(&id)
            .map(|t| {
                let ports: Vec<String> = t
                    .ports
                    .iter()
                    .map(|(c, h)| format!("{c}->127.0.0.1:{h}"))
                    .collect();
                (t.ip.map(|ip| ip.to_string()).unwrap_or_default(), ports)
            })
            .unwrap_or_default();
        host_ports.sort();
        tracing::info!(instance_id = %id, %image, container = %name,
            network = network.as_deref().unwrap_or("bridge"), %address,
            published = %host_ports.join(","), "container started");
        Ok(())
    }

    /// CreateImage: commit the container as `updraft/ami:<ami>`.
    pub(super) async fn commit(&self, id: &str, ami: &str) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let options = CommitContainerOptions {
            container: Some(container_name(id)),
            repo: Some(AMI_REPO.into()),
            tag: Some(ami.into()),
            pause: true,
            changes: Some(format!(
                "LABEL {OWNER_LABEL}={} updraft.ami={ami}",
                self.settings.owner
            )),
            ..Default::default()
        };
        match docker
            .commit_container(options, bollard::models::ContainerConfig::default())
            .await
        {
            Ok(_) => {
                self.lock().images.insert(ami.to_owned());
                Ok(())
            }
            Err(e) if not_found(&e) => Err(BackendError::UnknownInstance(id.to_owned())),
            Err(e) => Err(failed("commit", e)),
        }
    }

    fn start_watcher(&self) -> Result<(), BackendError> {
        let docker = self.docker()?.clone();
        let inner = self.inner.clone();
        let events = self.events.clone();
        let mut filters = self.owner_filter();
        filters.insert("type".into(), vec!["container".into()]);
        filters.insert(
            "event".into(),
            ["kill", "die", "destroy", "pause", "unpause"]
                .map(String::from)
                .to_vec(),
        );
        let task = tokio::spawn(async move {
            let mut killed: HashMap<String, bool> = HashMap::new();
            loop {
                let options = EventsOptions {
                    filters: Some(filters.clone()),
                    ..Default::default()
                };
                let mut stream = docker.events(Some(options));
                while let Some(Ok(event)) = stream.next().await {
                    let attrs = event.actor.and_then(|a| a.attributes).unwrap_or_default();
                    let Some(id) = attrs.get(INSTANCE_LABEL).cloned() else {
                        continue;
                    };
                    let action = event.action.unwrap_or_default();
                    let signal = attrs.get("signal").map(String::as_str);
                    if let Some(impaired) = status_check_change(&action, signal) {
                        let mut guard = inner
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        if guard.instances.contains_key(&id) {
                            guard.impaired.push((id, impaired));
                            drop(guard);
                            events.notify_one();
                        }
                        continue;
                    }
                    let reason = match action.as_str() {
                        "kill" => {
                            killed.insert(id, true);
                            continue;
                        }
                        "die" => exit_reason(killed.remove(&id).unwrap_or(false)),
                        "destroy" => "Server.InternalError",
                        _ => continue,
                    };
                    let mut guard = inner
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if guard.instances.contains_key(&id) {
                        guard.vanished.push(Vanished {
                            instance_id: id,
                            reason,
                            gone: action == "destroy",
                        });
                        drop(guard);
                        events.notify_one();
                    }
                }
                // The engine went away or restarted: watch again shortly.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        *self
            .watcher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
        Ok(())
    }
}

async fn remove_quietly(docker: &Docker, name: &str) {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        link: false,
    };
    // Usually 404: there is nothing to remove.
    let _ = docker.remove_container(name, Some(options)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_containers_fail_their_status_check() {
        assert_eq!(status_check_change("pause", None), Some(true));
        assert_eq!(status_check_change("kill", Some("19")), Some(true));
        assert_eq!(status_check_change("unpause", None), Some(false));
        assert_eq!(status_check_change("kill", Some("18")), Some(false));
        assert_eq!(status_check_change("kill", Some("15")), None);
        assert_eq!(status_check_change("die", None), None);
    }

    #[test]
    fn exits_from_outside_are_user_initiated() {
        assert_eq!(exit_reason(true), "Client.UserInitiatedShutdown");
        assert_eq!(exit_reason(false), "Client.InstanceInitiatedShutdown");
    }
}
