//! The EC2 metric publisher: `AWS/EC2` metrics of every running instance, sampled from the
//! instance backend and stored in the CloudWatch metric store of the instance's account and
//! region, on the virtual clock.
//!
//! As on AWS:
//!
//! - basic monitoring publishes one datapoint per 5 minutes, detailed monitoring
//!   (`Monitoring.Enabled`, MonitorInstances) one per minute; each datapoint is stamped with the
//!   start of the period it covers and is published once that period has ended;
//! - metrics: `CPUUtilization` (Percent), `NetworkIn` / `NetworkOut` (Bytes, over the period),
//!   `NetworkPacketsIn` / `NetworkPacketsOut` (Count, over the period), `StatusCheckFailed`,
//!   `StatusCheckFailed_Instance`, `StatusCheckFailed_System` (Count; 0, or 1 for the first two
//!   while the instance is impaired, see `admin::impair`);
//! - dimensions: `InstanceId`; `AutoScalingGroupName` (from the `aws:autoscaling:groupName`
//!   tag); and, for detailed monitoring only, `ImageId` and `InstanceType`. Every instance's
//!   value goes into the aggregate series too, so SampleCount, Average, Sum, Minimum and Maximum
//!   of those series aggregate across instances as AWS's do.
//!
//! The first datapoint of an instance covers the period in which the publisher first saw it
//! running. When the clock jumps over several periods, one datapoint (for the latest complete
//! period) carries the backend's sample since the previous one.

use std::collections::HashMap;

use crate::backend::MetricsSample;
use crate::services::autoscaling::attach_detach::GROUP_TAG;
use crate::services::cloudwatch::stats::Agg;
use crate::services::cloudwatch::store::MetricKey;
use crate::services::ec2::store::InstanceState;
use crate::state::{AppState, RegionStores, Scope, Topic, Topics};

use super::{Controller, ControllerError, Next};

/// The namespace.
pub const NAMESPACE: &str = "AWS/EC2";
/// Period of basic monitoring (seconds).
pub const BASIC_PERIOD: f64 = 300.0;
/// Period of detailed monitoring (seconds).
pub const DETAILED_PERIOD: f64 = 60.0;
/// Sleep when no instance runs (a newly running instance is seen within this).
const IDLE_SECONDS: f64 = 60.0;

/// What the publisher needs to know about one running instance.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceInfo {
    /// `i-…`.
    pub id: String,
    /// `ami-…`.
    pub image_id: String,
    /// `t3.micro`, ...
    pub instance_type: String,
    /// Detailed monitoring.
    pub detailed: bool,
    /// The `aws:autoscaling:groupName` tag, when present.
    pub asg: Option<String>,
}

/// The period at which an instance's metrics are published.
pub fn period_of(detailed: bool) -> f64 {
    if detailed {
        DETAILED_PERIOD
    } else {
        BASIC_PERIOD
    }
}

/// Start of the latest period that has fully ended at `now`.
pub fn last_complete_period(now: f64, period: f64) -> f64 {
    (now / period).floor() * period - period
}

/// The period start to publish now, if the instance is due: the latest complete period, when
/// it is newer than the last one published.
pub fn due(last_published: f64, now: f64, period: f64) -> Option<f64> {
    let complete = last_complete_period(now, period);
    (complete > last_published).then_some(complete)
}

/// Virtual seconds from `now` to the end of the current period.
pub fn until_next(now: f64, period: f64) -> f64 {
    ((now / period).floor() * period + period - now).max(0.0)
}

/// The dimension sets an instance's sample is published under.
pub fn dimension_sets(i: &InstanceInfo) -> Vec<Vec<(String, String)>> {
    let mut sets = vec![vec![("InstanceId".to_owned(), i.id.clone())]];
    if let Some(asg) = &i.asg {
        sets.push(vec![("AutoScalingGroupName".to_owned(), asg.clone())]);
    }
    if i.detailed {
        sets.push(vec![("ImageId".to_owned(), i.image_id.clone())]);
        sets.push(vec![("InstanceType".to_owned(), i.instance_type.clone())]);
    }
    sets
}

/// The (metric, unit, value) triples of one sample; `impaired` instances fail their instance
/// status check (`StatusCheckFailed` and `StatusCheckFailed_Instance` 1). Without a sample
/// (the backend could not read the instance: a frozen or vanished container) only the status
/// checks are published: they are EC2's verdict, not a reading from the instance.
pub fn metric_values(
    sample: Option<&crate::backend::MetricsSample>,
    impaired: bool,
) -> Vec<(&'static str, &'static str, f64)> {
    let failed = if impaired { 1.0 } else { 0.0 };
    let mut values = Vec::with_capacity(8);
    if let Some(sample) = sample {
        values.extend([
            ("CPUUtilization", "Percent", sample.cpu_utilization),
            ("NetworkIn", "Bytes", sample.network_in_bytes as f64),
            ("NetworkOut", "Bytes", sample.network_out_bytes as f64),
            (
                "NetworkPacketsIn",
                "Count",
                sample.network_packets_in as f64,
            ),
            (
                "NetworkPacketsOut",
                "Count",
                sample.network_packets_out as f64,
            ),
        ]);
    }
    values.extend([
        ("StatusCheckFailed", "Count", failed),
        ("StatusCheckFailed_Instance", "Count", failed),
        ("StatusCheckFailed_System", "Count", 0.0),
    ]);
    values
}

/// Publishes `AWS/EC2` metrics. What it published is recorded on each instance
/// (`Instance::metrics_published_through`), so a pass decides from state alone.
#[derive(Debug, Default)]
pub struct Ec2Metrics;

/// One instance's datapoint to sample and publish.
struct Work {
    scope: Scope,
    info: InstanceInfo,
    at: f64,
    /// The status check failed during the period: decided with the datapoint, not when the
    /// sample arrives (by then a group may have terminated the instance and cleared it).
    impaired: bool,
}

/// Note the instances first seen running, forget those that stopped, and collect the due
/// datapoints. Returns the virtual seconds until the next period ends.
fn plan(scope: &Scope, s: &mut RegionStores, now: f64, work: &mut Vec<Work>) -> f64 {
    let mut next = IDLE_SECONDS;
    let ec2 = &mut s.ec2;
    let mut due_now = Vec::new();
    for i in ec2.instances.values_mut() {
        if i.state != InstanceState::Running {
            // Written only when set: a write copies an instance a snapshot holds.
            if i.metrics_published_through.is_some() {
                i.metrics_published_through = None;
            }
            continue;
        }
        let period = period_of(i.monitoring);
        next = next.min(until_next(now, period));
        match i.metrics_published_through {
            // First seen running: its first datapoint is the period it was seen in.
            None => i.metrics_published_through = Some(last_complete_period(now, period)),
            Some(last) => {
                if let Some(at) = due(last, now, period) {
                    due_now.push((i.id.clone(), at));
                }
            }
        }
    }
    for (id, at) in due_now {
        let Some(i) = ec2.instances.get(&id) else {
            continue;
        };
        let info = InstanceInfo {
            id: i.id.clone(),
            image_id: i.image_id.clone(),
            instance_type: i.instance_type.clone(),
            detailed: i.monitoring,
            asg: ec2.tags_of(&i.id).get(GROUP_TAG).cloned(),
        };
        let period = period_of(i.monitoring);
        work.push(Work {
            scope: scope.clone(),
            info,
            at,
            impaired: i.impaired_since.is_some_and(|t| t < at + period),
        });
    }
    next
}

/// Store one period's datapoint (with no sample, its status checks only), unless a pass
/// already did: the instance's record says what was published.
fn publish(
    s: &mut RegionStores,
    info: &InstanceInfo,
    at: f64,
    impaired: bool,
    sample: Option<&MetricsSample>,
    now: f64,
) {
    let Some(i) = s.ec2.instances.get_mut(&info.id) else {
        return;
    };
    if i.metrics_published_through.is_some_and(|last| last >= at) {
        return;
    }
    i.metrics_published_through = Some(at);
    let values = metric_values(sample, impaired);
    for dims in dimension_sets(info) {
        for (name, unit, value) in &values {
            let key = MetricKey::new(NAMESPACE, name, dims.clone());
            s.cloudwatch
                .metrics
                .put(&key, unit, at, &Agg::value(*value), false, now);
        }
    }
}

impl Controller for Ec2Metrics {
    fn name(&self) -> &'static str {
        "ec2-metrics"
    }

    fn watches(&self) -> Topics {
        Topic::Ec2 | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let now = state.clock.now();
        let mut next = IDLE_SECONDS;
        let mut work = Vec::new();
        state.stores.for_each(|scope, s| {
            if !s.ec2.instances.is_empty() {
                next = next.min(plan(scope, s, now, &mut work));
            }
        });

        let mut by_scope: HashMap<Scope, Vec<_>> = HashMap::new();
        for w in work {
            let sample = match state.backend.metrics_sample(&w.info.id, now).await {
                Ok(sample) => Some(sample),
                // Gone or frozen meanwhile (terminated, paused, backend restarted): the
                // period gets its status checks only.
                Err(err) => {
                    tracing::debug!(instance = %w.info.id, error = %err, "no metrics sample");
                    None
                }
            };
            by_scope
                .entry(w.scope)
                .or_default()
                .push((w.info, w.at, w.impaired, sample));
        }
        for (scope, items) in by_scope {
            state.stores.with(&scope, |s| {
                for (info, at, impaired, sample) in &items {
                    publish(s, info, *at, *impaired, sample.as_ref(), now);
                }
                s.cloudwatch.metrics.prune(now);
            });
        }
        Ok(Next::after_secs(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(detailed: bool, asg: Option<&str>) -> InstanceInfo {
        InstanceInfo {
            id: "i-1".into(),
            image_id: "ami-1".into(),
            instance_type: "t3.micro".into(),
            detailed,
            asg: asg.map(str::to_owned),
        }
    }

    #[test]
    fn basic_instances_get_instance_and_group_series_only() {
        let names = |i: &InstanceInfo| -> Vec<String> {
            dimension_sets(i)
                .into_iter()
                .map(|d| format!("{}={}", d[0].0, d[0].1))
                .collect()
        };
        assert_eq!(names(&info(false, None)), ["InstanceId=i-1"]);
        assert_eq!(
            names(&info(false, Some("web"))),
            ["InstanceId=i-1", "AutoScalingGroupName=web"]
        );
        assert_eq!(
            names(&info(true, Some("web"))),
            [
                "InstanceId=i-1",
                "AutoScalingGroupName=web",
                "ImageId=ami-1",
                "InstanceType=t3.micro"
            ]
        );
    }

    #[test]
    fn samples_become_aws_ec2_metrics() {
        let sample = MetricsSample {
            cpu_utilization: 42.0,
            requests: 3,
            network_in_bytes: 100,
            network_out_bytes: 200,
            network_packets_in: 15,
            network_packets_out: 12,
        };
        let v = metric_values(Some(&sample), false);
        assert_eq!(v[0], ("CPUUtilization", "Percent", 42.0));
        assert_eq!(v[1], ("NetworkIn", "Bytes", 100.0));
        assert_eq!(v[2], ("NetworkOut", "Bytes", 200.0));
        assert_eq!(v[3], ("NetworkPacketsIn", "Count", 15.0));
        assert_eq!(v[4], ("NetworkPacketsOut", "Count", 12.0));
        assert!(v[5..].iter().all(|(_, u, x)| *u == "Count" && *x == 0.0));
        assert_eq!(v.len(), 8);
        let v = metric_values(Some(&sample), true);
        assert_eq!(v[5], ("StatusCheckFailed", "Count", 1.0));
        assert_eq!(v[6], ("StatusCheckFailed_Instance", "Count", 1.0));
        assert_eq!(v[7], ("StatusCheckFailed_System", "Count", 0.0));
        // No reading from the instance: EC2's status checks still publish.
        assert_eq!(
            metric_values(None, true),
            [
                ("StatusCheckFailed", "Count", 1.0),
                ("StatusCheckFailed_Instance", "Count", 1.0),
                ("StatusCheckFailed_System", "Count", 0.0)
            ]
        );
    }

    #[test]
    fn due_once_per_completed_period() {
        // First seen at 12:03:30: the period before is taken as published.
        let now = 1_800_000_210.0; // 30 s past a 5-minute boundary + 3 min
        let p = DETAILED_PERIOD;
        let first = last_complete_period(now, p);
        assert_eq!(first, 1_800_000_120.0);
        assert_eq!(due(first, now, p), None);
        assert_eq!(until_next(now, p), 30.0);
        // The minute in which it was seen ends: publish it, stamped at its start.
        assert_eq!(due(first, now + 30.0, p), Some(1_800_000_180.0));
        assert_eq!(due(1_800_000_180.0, now + 89.0, p), None);
        // A jump over several minutes publishes the latest complete one.
        assert_eq!(due(1_800_000_180.0, now + 400.0, p), Some(1_800_000_540.0));
    }

    #[test]
    fn basic_monitoring_is_due_every_five_minutes() {
        let p = period_of(false);
        assert_eq!(p, 300.0);
        let start = 1_800_000_000.0;
        let last = last_complete_period(start + 10.0, p);
        assert_eq!(last, start - 300.0);
        assert_eq!(due(last, start + 299.0, p), None);
        assert_eq!(due(last, start + 300.0, p), Some(start));
        assert_eq!(until_next(start + 10.0, p), 290.0);
        assert_eq!(period_of(true), 60.0);
    }
}
