//! Shared state: configuration, the clock, ids, and the per-(account, region) stores.

pub mod clock;
pub mod fasthash;
pub mod ids;
pub mod keys;
pub mod persist;
pub mod scope;
pub mod shared;
pub mod wake;

use std::sync::Arc;

pub use clock::Clock;
pub use ids::IdGen;
pub use scope::{Scope, Scoped};
pub use shared::Shared;
pub use wake::{Topic, Topics};

use crate::config::Config;

/// The data of one (account, region). Each service adds its store here as it lands.
/// Account-global resources (CloudWatch dashboards) live in the scope whose region is empty.
/// Everything here is kept in snapshots ([`persist`]).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct RegionStores {
    /// CloudWatch dashboards (global scope only).
    pub cloudwatch_dashboards: GlobalOnly<crate::services::cloudwatch::dashboards::Dashboards>,
    /// CloudWatch metrics, alarms and alarm history.
    pub cloudwatch: crate::services::cloudwatch::CloudWatchStore,
    /// Auto Scaling: launch configurations, groups, policies, scheduled actions, activities.
    pub autoscaling: crate::services::autoscaling::AutoScalingStore,
    /// EC2: VPCs, subnets, instances, images, key pairs, security groups, tags, templates.
    pub ec2: crate::services::ec2::store::Ec2Store,
    /// Classic load balancers.
    pub elb: crate::services::elb::store::ElbStore,
    /// SNS: topics, subscriptions, queued deliveries and the e-mail inbox.
    pub sns: crate::services::sns::SnsStore,
    /// ELBv2: load balancers, target groups, listeners, rules, targets, traffic counters.
    pub elbv2: crate::services::elbv2::Elbv2Store,
    /// SSM Parameter Store: the account's own parameters in this region.
    pub ssm: crate::services::ssm::SsmStore,
    /// ACM certificates of this (account, region), with their keys (made on the first write
    /// there, so other stores carry one pointer).
    #[serde(default)]
    pub acm: Option<Box<crate::services::acm::AcmStore>>,
    /// IAM roles, instance profiles and users (global scope only: made on its first write
    /// there, so every other region's store carries one pointer, not IAM's maps).
    pub iam: Option<Box<crate::services::iam::IamStore>>,
    /// Guided-lab progress: when each step first turned green (global scope only).
    pub lab: GlobalOnly<crate::admin::lab::progress::LabProgress>,
}

/// Data an account keeps only in its global scope (region ""): made on its first write there,
/// so every other (account, region) store carries one null pointer, not the data's maps (an
/// empty store stays within 2 KiB, `server::regions`' test).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct GlobalOnly<T>(Option<Box<T>>);

impl<T: Default> GlobalOnly<T> {
    /// The data, if anything was ever written.
    pub fn get(&self) -> Option<&T> {
        self.0.as_deref()
    }

    /// The data to write, made empty on first use.
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

/// Everything handlers and controllers share.
#[derive(Debug)]
pub struct AppState {
    /// Configuration the server started with.
    pub config: Config,
    /// The one clock.
    pub clock: Clock,
    /// The one id generator.
    pub ids: IdGen,
    /// Per-(account, region) service data.
    pub stores: Scoped<RegionStores>,
    /// Wakes the controllers that watch what a write touched (see [`AppState::touched`]).
    pub wake: wake::Wake,
    /// Runs EC2 instances (`--instances`): driven by the instance lifecycle controller.
    pub backend: Arc<dyn crate::backend::InstanceBackend>,
    /// Load balancer data plane: DNS index and the pooled client to backends.
    pub dataplane: crate::dataplane::DataPlane,
    /// The console's change stream (`/_updraft/events`).
    pub events: crate::admin::console::events::Hub,
    /// Access keys Updraft issued (STS sessions, IAM users' keys).
    pub keys: keys::KeyRegistry,
    /// When each account last wrote (the classroom board).
    pub activity: crate::classroom::activity::Activity,
    /// HTTPS listeners' certificates ready to serve, and the local CA.
    pub tls: crate::services::elbv2::tls::TlsState,
}

impl AppState {
    /// State for a server with this configuration.
    pub fn new(config: Config) -> Arc<Self> {
        let backend = crate::backend::from_config(&config);
        Self::with_backend(config, backend)
    }

    /// State with a given instance backend (benchmarks and tests plug their own in).
    pub fn with_backend(
        config: Config,
        backend: Arc<dyn crate::backend::InstanceBackend>,
    ) -> Arc<Self> {
        let clock = Clock::new(config.time_scale);
        Self::assemble(config, backend, clock, IdGen::default())
    }

    /// State whose clock stands still at `epoch` (until the admin API advances it) and whose
    /// ids follow from a fixed seed: the same requests then get the same bytes back, which the
    /// golden-bytes test relies on. Not for serving: ids would repeat across restarts.
    pub fn deterministic(config: Config, epoch: f64) -> Arc<Self> {
        let backend = crate::backend::from_config(&config);
        let clock = Clock::starting_at(epoch, 0.0);
        Self::assemble(config, backend, clock, IdGen::seeded(0x5eed))
    }

    fn assemble(
        config: Config,
        backend: Arc<dyn crate::backend::InstanceBackend>,
        clock: Clock,
        ids: IdGen,
    ) -> Arc<Self> {
        Arc::new(Self {
            config,
            clock,
            ids,
            stores: Scoped::default(),
            wake: wake::Wake::default(),
            backend,
            dataplane: crate::dataplane::DataPlane::new(crate::services::lb_resolver::registered()),
            events: Default::default(),
            keys: keys::KeyRegistry::default(),
            activity: Default::default(),
            tls: Default::default(),
        })
    }

    /// Empty every store (admin reset). The clock keeps running.
    pub fn reset(&self) {
        self.stores.clear();
        self.dataplane.index.clear();
        self.keys.clear();
        self.touched(Topics::ALL);
    }

    /// Say that a write changed `topics` (`Topic::AutoScaling`, `Topic::Ec2 | Topic::Elb`):
    /// the controllers that watch them run again. Every API write calls it once it is done.
    pub fn touched(&self, topics: impl Into<Topics>) {
        self.wake.touched(topics);
    }
}
