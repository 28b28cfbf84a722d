//! Adoption after a restart with a state directory: the containers an earlier run of this owner
//! left are matched to the restored instance records by their `updraft.instance-id` label.
//!
//! - A container whose record wants it (`running`/`pending`, `stopped`, or in a transition
//!   the lifecycle controller finishes) is taken over as it is: its bridge address and
//!   published ports are read back from the engine, its CPUs from its limits, its boot count
//!   from its console (Updraft's init prints `boot N` on each boot), so the load balancers and
//!   health checks reach it again with no new launch.
//! - A `stopped` record's container that runs (started while Updraft was down) is stopped, so
//!   the two agree.
//! - A `running` record whose container exited is reported stopped behind Updraft's back
//!   (`Client.InstanceInitiatedShutdown` for an exit of its own with code 0,
//!   `Client.UserInitiatedShutdown` otherwise, as the event watcher says for a live exit); a
//!   paused one fails its status check.
//! - A record whose container is gone is reported vanished: it ends `terminated` with
//!   `Server.InternalError`, as an instance lost with its host does on AWS, and its Auto
//!   Scaling group replaces it.
//! - Containers no record wants (no record, or `shutting-down`/`terminated`) are removed.
//! - Images made by CreateImage are kept track of again; the controller deletes those whose
//!   AMI is no longer registered.

use std::collections::HashMap;
use std::time::Instant;

use bollard::query_parameters::{RemoveContainerOptions, StopContainerOptions};

use super::stats::Counters;
use super::{
    AMI_REPO, DockerBackend, INIT_LABEL, INSTANCE_LABEL, STOP_TIMEOUT, Tracked, failed, not_found,
    rootfs,
};
use crate::backend::{BackendError, Expect, Restored, Vanished};

/// The boot in progress or last finished, from the console of Updraft's init: the highest
/// `N` of its `Updraft busybox init: boot N of …` lines (0 when it never booted).
pub fn boots_in_console(console: &str) -> u32 {
    console
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("Updraft busybox init: boot ")?;
            rest.split_whitespace().next()?.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// The `StateReason` of a container found exited: its own clean exit (`poweroff` inside) or
/// a stop or kill from outside (exit code 128 + signal).
pub fn exited_reason(exit_code: Option<i64>) -> &'static str {
    if exit_code == Some(0) {
        "Client.InstanceInitiatedShutdown"
    } else {
        "Client.UserInitiatedShutdown"
    }
}

/// What one container's engine state says, as adoption needs it.
struct Found {
    container: String,
    running: bool,
    paused: bool,
    exit_code: Option<i64>,
}

impl DockerBackend {
    /// Match this owner's containers to the restored records (see the module's notes).
    pub(super) async fn adopt_containers(
        &self,
        restored: Vec<Restored>,
    ) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let wanted: HashMap<String, Expect> = restored
            .into_iter()
            .map(|r| (r.instance_id, r.expect))
            .collect();
        let containers = self.owned_containers(docker).await?;
        let mut seen = std::collections::HashSet::new();
        let (mut adopted, mut removed) = (0usize, 0usize);
        for c in containers {
            let Some(container) = c.id else { continue };
            let instance = c
                .labels
                .unwrap_or_default()
                .get(INSTANCE_LABEL)
                .cloned()
                .unwrap_or_default();
            match wanted.get(&instance) {
                Some(expect) if *expect != Expect::Gone => {
                    seen.insert(instance.clone());
                    self.adopt_one(&instance, &container, *expect).await?;
                    adopted += 1;
                }
                _ => {
                    let options = RemoveContainerOptions {
                        force: true,
                        v: true,
                        link: false,
                    };
                    match docker.remove_container(&container, Some(options)).await {
                        Ok(()) => {}
                        Err(e) if not_found(&e) => {}
                        Err(e) => return Err(failed("remove container", e)),
                    }
                    tracing::info!(instance_id = %instance, %container,
                        "no restored instance wants this container: removed");
                    removed += 1;
                }
            }
        }
        let mut lost = 0usize;
        {
            let mut inner = self.lock();
            for (id, expect) in &wanted {
                if matches!(expect, Expect::Up | Expect::Down) && !seen.contains(id) {
                    tracing::warn!(instance_id = %id,
                        "the instance's container is gone: it ends terminated");
                    inner.vanished.push(Vanished {
                        instance_id: id.clone(),
                        reason: "Server.InternalError",
                        gone: true,
                    });
                    lost += 1;
                }
            }
        }
        self.adopt_images().await?;
        tracing::info!(
            adopted,
            removed,
            lost,
            "docker backend: containers of the restored state adopted"
        );
        self.events.notify_one();
        Ok(())
    }

    /// Take over one container for its record.
    async fn adopt_one(
        &self,
        id: &str,
        container: &str,
        expect: Expect,
    ) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let info = match docker.inspect_container(container, None).await {
            Ok(i) => i,
            // Removed between the listing and now: reported as gone below, by status.
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(failed("inspect", e)),
        };
        let state = info.state.unwrap_or_default();
        let found = Found {
            container: container.to_owned(),
            running: state.running == Some(true),
            paused: state.paused == Some(true),
            exit_code: state.exit_code,
        };
        let own_init = info
            .config
            .and_then(|c| c.labels)
            .is_some_and(|l| l.contains_key(INIT_LABEL));
        let host_cpus = f64::from(self.lock().host_cpus.max(1));
        let cpus = info
            .host_config
            .and_then(|h| h.nano_cpus)
            .filter(|n| *n > 0)
            .map_or(1.0, |n| n as f64 / 1e9)
            .min(host_cpus);
        let console = if own_init {
            // No console (an engine that lost its log): counted as not booted yet.
            self.logs(id).await.unwrap_or_default()
        } else {
            String::new()
        };
        let boots = boots_in_console(&console).max(1);
        let up = found.running
            && (!own_init
                || console
                    .lines()
                    .any(|l| l.trim() == rootfs::boot_marker(boots)));
        self.lock().instances.insert(
            id.to_owned(),
            Tracked {
                cpus,
                own_init,
                boots,
                up,
                ip: None,
                ports: HashMap::new(),
                prev: Counters::zero(Instant::now()),
                // Its user data ran at its first start, before the restart.
                exec_user_data: false,
            },
        );
        self.refresh_addresses(id).await?;
        match expect {
            Expect::Down if found.running => {
                let options = StopContainerOptions {
                    t: Some(STOP_TIMEOUT),
                    signal: None,
                };
                match docker.stop_container(&found.container, Some(options)).await {
                    Ok(()) => {}
                    Err(e) if not_found(&e) => {}
                    Err(e) => return Err(failed("stop", e)),
                }
                self.update(id, |t| t.up = false);
                tracing::info!(instance_id = %id, "adopted a running container of a stopped instance: stopped it");
            }
            Expect::Up if !found.running => {
                let reason = exited_reason(found.exit_code);
                tracing::warn!(instance_id = %id, reason,
                    "adopted an exited container of a running instance: the instance stops");
                self.lock().vanished.push(Vanished {
                    instance_id: id.to_owned(),
                    reason,
                    gone: false,
                });
            }
            Expect::Up if found.paused => {
                self.lock().impaired.push((id.to_owned(), true));
            }
            _ => {}
        }
        tracing::info!(instance_id = %id, container = %found.container, running = found.running,
            paused = found.paused, up, boots, "container adopted");
        Ok(())
    }

    /// Keep track of the images CreateImage made in an earlier run (`updraft/ami:<ami>`).
    async fn adopt_images(&self) -> Result<(), BackendError> {
        let docker = self.docker()?;
        let images = self.owned_images(docker).await?;
        let prefix = format!("{AMI_REPO}:");
        let amis: Vec<String> = images
            .iter()
            .flat_map(|i| i.repo_tags.iter())
            .filter_map(|t| t.strip_prefix(&prefix))
            .map(str::to_owned)
            .collect();
        self.lock().images.extend(amis);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boot_count_comes_from_the_console() {
        let console = "Updraft busybox init: boot 1 of i-1 (t2.micro in us-east-1a)\n\
                       updraft: boot 1 finished\n\
                       Updraft busybox init: boot 2 of i-1 (t2.micro in us-east-1a)\n";
        assert_eq!(boots_in_console(console), 2);
        assert_eq!(boots_in_console("nothing here"), 0);
        assert_eq!(boots_in_console("Updraft busybox init: boot x of"), 0);
    }

    #[test]
    fn a_clean_exit_is_the_instance_s_own() {
        assert_eq!(exited_reason(Some(0)), "Client.InstanceInitiatedShutdown");
        assert_eq!(exited_reason(Some(143)), "Client.UserInitiatedShutdown");
        assert_eq!(exited_reason(None), "Client.UserInitiatedShutdown");
    }
}
