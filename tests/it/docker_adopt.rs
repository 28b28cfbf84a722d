//! Containers adopted across a restart (`--state-dir` with the Docker backend): a group of two
//! containers behind a Classic ELB keeps serving from the same two containers after the
//! server restarts, with no new launch; a container removed while the server was down ends
//! its instance `terminated` (`Server.InternalError`) and the group replaces it; a container
//! no restored record wants is removed. Without a state directory, the clean-up at start and
//! shutdown stays (`docker.rs` checks that nothing is left behind).
//!
//! As in `docker.rs`, a missing engine fails the test in CI and skips it elsewhere.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use updraft::Config;
use updraft::config::InstanceBackendKind;
use updraft::state::AppState;

use crate::common::TestServer;
use crate::docker::{docker, engine_ready};
use crate::docker_support::{
    activities, container_id, group_behind_elb, group_members, members, pages, run_until,
    state_and_reason, wait_group_in_service, wait_in_service,
};

/// Servers of one owner on one state directory; removes the owner's containers, images and
/// networks and the directory at the end, whatever happened.
struct Owner {
    owner: String,
    dir: PathBuf,
}

impl Owner {
    fn new(test: &str) -> Self {
        let owner = format!("it-{test}-{}", std::process::id());
        let dir = std::env::temp_dir().join(format!("updraft-{owner}"));
        let _ = std::fs::remove_dir_all(&dir);
        Self { owner, dir }
    }

    /// A frozen-clock server with the Docker backend that loads and keeps the state directory.
    fn server(&self) -> TestServer {
        let config = Config {
            instances: InstanceBackendKind::Docker,
            docker_owner: self.owner.clone(),
            time_scale: 0.0,
            state_dir: Some(self.dir.clone()),
            ..Config::default()
        };
        TestServer::with_state(config, |c| {
            let state = AppState::new(c);
            updraft::state::persist::disk::open(&state).expect("the state directory loads");
            state
        })
    }

    fn containers(&self) -> BTreeSet<String> {
        let filter = format!("label=updraft.owner={}", self.owner);
        docker(&["ps", "-aq", "--no-trunc", "--filter", &filter])
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        let filter = format!("label=updraft.owner={}", self.owner);
        for what in [
            &["ps", "-aq", "--filter"][..],
            &["images", "-q", "--filter"],
            &["network", "ls", "-q", "--filter"],
        ] {
            let listed = Command::new("docker")
                .args(what)
                .arg(&filter)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for item in listed.split_whitespace() {
                let rm: &[&str] = match what[0] {
                    "ps" => &["rm", "-f"],
                    "images" => &["rmi", "-f"],
                    _ => &["network", "rm"],
                };
                let _ = Command::new("docker").args(rm).arg(item).output();
            }
        }
        remove_dir(&self.dir);
    }
}

fn remove_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

fn launches(acts: &[String]) -> usize {
    acts.iter()
        .filter(|a| a.contains("Launching a new EC2 instance"))
        .count()
}

#[test]
fn a_restart_adopts_the_group_s_containers_and_replaces_one_removed_meanwhile() {
    if !engine_ready() {
        return;
    }
    let started = Instant::now();
    let o = Owner::new("adopt");

    // First run: a group of two behind a load balancer, both serving.
    let s = o.server();
    let dns = group_behind_elb(&s, 2, true, 60);
    let ids = wait_group_in_service(&s, 2);
    wait_in_service(&s, "web-elb", &ids);
    assert_eq!(pages(&s, &dns, 6).len(), 2, "both instances serve");
    let before: Vec<String> = ids.iter().map(|id| container_id(id).unwrap()).collect();
    drop(s);

    // The containers outlive the server.
    assert_eq!(
        o.containers(),
        before.iter().cloned().collect(),
        "kept at shutdown"
    );
    // A container of this owner that no restored instance wants, as a crash could leave.
    let stray = docker(&[
        "create",
        "--label",
        &format!("updraft.owner={}", o.owner),
        "--label",
        "updraft.instance-id=i-0123456789abcdef0",
        &format!("updraft/busybox:{}", o.owner),
    ]);

    // Second run: the same two containers serve through the ELB, with no new launch.
    let s = o.server();
    let t0 = Instant::now();
    assert_eq!(group_members(&s, "web"), ids);
    assert_eq!(
        pages(&s, &dns, 6).len(),
        2,
        "both adopted containers serve at once"
    );
    eprintln!("first page after the restart: {:?}", t0.elapsed());
    wait_in_service(&s, "web-elb", &ids);
    for _ in 0..6 {
        crate::docker_support::step(&s, 5.0, Duration::from_millis(50));
    }
    assert_eq!(group_members(&s, "web"), ids, "no replacement");
    let after: Vec<String> = ids.iter().map(|id| container_id(id).unwrap()).collect();
    assert_eq!(after, before, "the same containers");
    assert_eq!(launches(&activities(&s, "web")), 2, "no new launch");
    assert!(
        !o.containers().iter().any(|c| c.starts_with(&stray)),
        "the stray container is removed"
    );
    for id in &ids {
        assert_eq!(state_and_reason(&s, id).0, "running");
    }
    drop(s);

    // A container removed while the server is down: its instance ends terminated and the
    // group replaces it; the other is adopted.
    let victim = ids.first().unwrap().clone();
    let survivor = ids.last().unwrap().clone();
    docker(&["rm", "-f", &format!("updraft-{victim}")]);
    let s = o.server();
    run_until(
        &s,
        "the victim replaced",
        Duration::from_secs(60),
        Duration::from_millis(50),
        |st| {
            let m = members(st, "web");
            !m.contains(&victim) && crate::autoscaling::count_in_service(st, "web") == 2
        },
    );
    assert_eq!(
        state_and_reason(&s, &victim),
        ("terminated".to_owned(), "Server.InternalError".to_owned())
    );
    let now = group_members(&s, "web");
    assert!(now.contains(&survivor), "{now:?}");
    assert_eq!(container_id(&survivor).as_ref(), before.last());
    let acts = activities(&s, "web");
    assert_eq!(launches(&acts), 3, "one replacement: {acts:#?}");
    wait_in_service(&s, "web-elb", &now);
    assert_eq!(
        pages(&s, &dns, 6).len(),
        2,
        "survivor and replacement serve"
    );
    drop(s);
    drop(o);
    eprintln!("docker adopt test: {:?}", started.elapsed());
}
