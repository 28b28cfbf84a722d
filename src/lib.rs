//! Updraft: a local AWS emulator for EC2, Auto Scaling, Elastic Load Balancing, CloudWatch and
//! the slice of SNS scaling notifications use — where the scaling loop is real.
//!
//! ```text
//!  client (aws CLI, boto3, SDKs)
//!         │ HTTP :4566
//!         ▼
//!  server ── router ── protocol codecs ── services::{ec2,autoscaling,elb,elbv2,cloudwatch,sns}
//!  (server.rs) (router.rs) (protocol/)            │ plain functions over state
//!                                                 ▼
//!                               state (per account+region stores, Clock, IdGen) ◄── controllers
//! ```
//!
//! - [`protocol`] knows the four wire protocols (query, ec2, JSON 1.0, rpc-v2-cbor), driven by
//!   the trimmed botocore models in `protocol/models/`; nothing else sees wire quirks.
//! - [`services`] know state, not HTTP: one function per operation.
//! - [`dataplane`] carries load-balancer traffic (HTTP proxy, TCP flows, TLS); it asks the
//!   load-balancer services where traffic goes only through [`lb`], the layer below both
//!   (names, route types, and the [`lb::Resolver`] table the services register).
//! - [`iso8601`] is timestamp text, shared by the codecs and the services.
//! - [`controllers`] make things happen over time, on the one [`state::Clock`].
//! - [`admin`] is the JSON API under `/_updraft/` (health, reset, clock), the console's assets
//!   and the guided labs (`admin::lab`: YAML lab files whose checks run in-process).
//! - [`classroom`] is one server for a room: accounts and keys per student, the teacher's
//!   rights on the admin API, the teacher board's data.

pub mod admin;
pub mod backend;
pub mod classroom;
pub mod config;
pub mod context;
pub mod controllers;
pub mod dataplane;
pub mod error;
/// Entry points for the fuzz targets in `fuzz/`; not an API.
#[doc(hidden)]
pub mod fuzzing;
pub mod iso8601;
pub mod lb;
pub mod protocol;
pub mod router;
pub mod server;
pub mod services;
pub mod state;

use std::sync::Arc;

use crate::state::Topic;
pub use config::Config;
use tokio::net::TcpListener;

/// Serve Updraft on `listener` with `config` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let state = state::AppState::new(config);
    state::persist::disk::open(&state).map_err(std::io::Error::other)?;
    run_with_state(listener, state, shutdown).await
}

/// Serve with prepared state (tests keep a handle on it).
pub async fn run_with_state(
    listener: TcpListener,
    state: Arc<state::AppState>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // The backend gets ready (e.g. reaches the Docker Engine) before anything is served, so
    // that a missing engine is reported at start.
    let backend = state.backend.clone();
    backend.prepare().await.map_err(|err| {
        std::io::Error::other(format!("{} instance backend: {err}", backend.name()))
    })?;
    // Machines an earlier run left for the restored records are taken over, not replaced.
    controllers::instances::adopt_restored(&state)
        .await
        .map_err(|err| {
            std::io::Error::other(format!(
                "{} instance backend: adopting the restored instances' machines: {err}",
                backend.name()
            ))
        })?;
    // What the backend notices behind Updraft's back (a container died) wakes the controllers.
    let waker = {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                state.backend.changed().await;
                state.touched(Topic::Ec2);
            }
        })
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let controllers = controllers::start_all(&state, &stopped);
    let writer = state::persist::disk::spawn_writer(&state);
    let served = server::serve(listener, state.clone(), shutdown).await;
    // Receivers live in the controllers; none left means none to stop.
    let _ = stop.send(true);
    for task in controllers {
        if let Err(err) = task.await {
            tracing::error!(error = %err, "controller task failed");
        }
    }
    if let Some(writer) = writer
        && let Err(err) = tokio::task::spawn_blocking(move || writer.stop()).await
    {
        tracing::error!(error = %err, "could not stop the state writer");
    }
    state::persist::disk::write_at_stop(&state);
    waker.abort();
    backend.shutdown().await;
    served
}
