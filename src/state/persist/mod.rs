//! State that survives a restart: snapshots of everything the API can observe.
//!
//! A snapshot is the [`Body`]: every (account, region)'s [`RegionStores`], the issued access
//! keys, the virtual clock and what the instance backend keeps about its machines. It is taken
//! by cloning one scope's stores at a time under the stores' lock (the large collections hold
//! [`crate::state::Shared`] records, so that copy clones pointers; metric data is copied a
//! slice of series at a time) and encoded outside any lock ([`capture`], then
//! [`format::encode`]). The same bytes are the state directory's file ([`disk`]) and what
//! `GET /_updraft/state` downloads.
//!
//! What is not kept, because it is rebuilt or belongs to the running process:
//! - the data plane's DNS index (rebuilt from the load balancers on load, [`restore`]);
//! - the EC2 tag index (rebuilt from the tags);
//! - requests in flight and the current minute's Classic ELB request counters;
//! - the id generator: ids are random, so there is no counter to carry over;
//! - `Notify`s, channels, connection pools and the console's event stream.

pub mod disk;
pub mod fields;
pub mod format;

use serde::{Deserialize, Serialize};

use super::keys::IssuedKey;
use super::{AppState, RegionStores, Scope};

/// The virtual clock as saved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClockState {
    /// Virtual now, epoch seconds.
    pub now: f64,
    /// Virtual seconds per real second.
    pub scale: f64,
    /// Wall-clock time of the save, epoch seconds (how long the server was down).
    pub wall: f64,
}

/// Everything a snapshot holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Body {
    /// The clock.
    pub clock: ClockState,
    /// Every scope's stores.
    pub scopes: Vec<(Scope, RegionStores)>,
    /// Access keys issued by STS and IAM.
    pub keys: Vec<(String, IssuedKey)>,
    /// What the instance backend keeps about its machines (`None`: nothing to keep).
    pub backend: Option<crate::backend::Saved>,
    /// The SNS signing key and certificate (PEM), in whole-state snapshots once made.
    #[serde(default)]
    pub sns_signing: Option<(String, String)>,
}

/// How a loaded snapshot meets the state already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything is replaced.
    Replace,
    /// The snapshot's accounts replace the same accounts; other accounts stay.
    Merge,
}

/// Wall-clock now in epoch seconds (only for "how long was the server down").
pub fn wall_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Copy the state (or one account's part of it) into a snapshot body. Each scope is cloned
/// under the stores' lock on its own, so a request waits at most one scope's copy.
pub fn capture(state: &AppState, account: Option<&str>) -> Body {
    let wanted = |a: &str| account.is_none_or(|want| want == a);
    let scopes: Vec<(Scope, RegionStores)> = state
        .stores
        .scopes()
        .into_iter()
        .filter(|s| wanted(&s.account))
        .filter_map(|scope| {
            let data = copy_scope(state, &scope)?;
            Some((scope, data))
        })
        .collect();
    let keys = state
        .keys
        .all()
        .into_iter()
        .filter(|(_, k)| wanted(&k.account))
        .collect();
    let backend = match account {
        None => state.backend.save(None),
        Some(_) => state.backend.save(Some(&machine_ids(&scopes))),
    };
    Body {
        clock: ClockState {
            now: state.clock.now(),
            scale: state.clock.scale(),
            wall: wall_now(),
        },
        scopes,
        keys,
        backend,
        sns_signing: account
            .is_none()
            .then(crate::services::sns::signing::saved)
            .flatten(),
    }
}

/// Series of metrics copied per hold of the stores' lock.
const SERIES_PER_SLICE: usize = 64;

/// Copy one scope's stores: everything but the metric data in one hold of the lock, then the
/// metric data (by far the largest part) a slice of series at a time, so that a request waits
/// for one slice, not for the whole store. Metrics written between slices may or may not be
/// in the snapshot, as if they had arrived just before or after it.
fn copy_scope(state: &AppState, scope: &Scope) -> Option<RegionStores> {
    let mut data = state.stores.cloned_with(scope, |s| {
        let metrics = std::mem::take(&mut s.cloudwatch.metrics);
        let tag_index = s.ec2.take_tag_index();
        let copy = s.clone();
        s.cloudwatch.metrics = metrics;
        s.ec2.put_tag_index(tag_index);
        copy
    })?;
    let mut series = Vec::new();
    let mut last_prune = 0.0;
    loop {
        let after = series.last().map(|(k, _)| k);
        let slice = state.stores.cloned_with(scope, |s| {
            last_prune = s.cloudwatch.metrics.last_prune();
            s.cloudwatch.metrics.clone_slice(after, SERIES_PER_SLICE)
        });
        match slice {
            Some(slice) if !slice.is_empty() => series.extend(slice),
            _ => break,
        }
    }
    data.cloudwatch.metrics =
        crate::services::cloudwatch::store::MetricStore::from_slices(series, last_prune);
    Some(data)
}

/// The instance and image ids of these scopes (what a one-account snapshot keeps of the
/// backend).
fn machine_ids(scopes: &[(Scope, RegionStores)]) -> std::collections::HashSet<String> {
    scopes
        .iter()
        .flat_map(|(_, s)| s.ec2.instances.keys().chain(s.ec2.images.keys()))
        .cloned()
        .collect()
}

/// Put a snapshot's contents into the state. The clock moves to the snapshot's time when that
/// is later than now (virtual time never runs back); the caller decides about the scale.
pub fn restore(state: &AppState, body: Body, mode: Mode) {
    let mut scopes = body.scopes;
    for (_, stores) in &mut scopes {
        stores.ec2.rebuild_tag_index();
    }
    if mode == Mode::Replace {
        state.stores.clear();
        state.keys.clear();
        state.dataplane.index.clear();
    } else {
        let accounts: std::collections::BTreeSet<String> =
            scopes.iter().map(|(s, _)| s.account.clone()).collect();
        state.stores.retain(|s| !accounts.contains(&s.account));
    }
    for (scope, stores) in &scopes {
        index_load_balancers(state, scope, stores);
    }
    state.stores.insert_all(scopes);
    for (id, key) in body.keys {
        state.keys.insert(id, key);
    }
    if let Some(saved) = body.backend {
        state.backend.restore(saved);
    }
    if let Some((key, cert)) = &body.sns_signing
        && !crate::services::sns::signing::install(key, cert)
    {
        tracing::info!(
            "this process already signs SNS messages with its own key; the snapshot's is not used"
        );
    }
    let ahead = body.clock.now - state.clock.now();
    if ahead > 0.0 {
        state.clock.advance(ahead);
    }
    state.touched(crate::state::Topics::ALL);
}

/// Put a scope's load balancers into the data plane's DNS index.
fn index_load_balancers(state: &AppState, scope: &Scope, stores: &RegionStores) {
    for lb in stores.elb.load_balancers.values() {
        crate::services::elb::load_balancers::index(state, scope, lb);
    }
    for arn in stores.elbv2.load_balancers.keys() {
        crate::services::elbv2::listeners::reindex(state, scope, &stores.elbv2, arn);
    }
}

#[cfg(test)]
mod tests;
