//! The Auto Scaling group metric publisher: once a minute, every group with metrics collection
//! enabled (EnableMetricsCollection) gets its enabled `AWS/AutoScaling` metrics written into
//! the CloudWatch store of its account and region, dimension `AutoScalingGroupName`, stamped
//! with the start of the minute just ended (the same convention as the `AWS/EC2` publisher).

use crate::services::autoscaling::metrics_collection::{NAMESPACE, values};
use crate::services::autoscaling::store::Group;
use crate::services::cloudwatch::stats::Agg;
use crate::services::cloudwatch::store::MetricKey;
use crate::state::{AppState, Shared, Topic, Topics};

use super::ec2_metrics::{last_complete_period, until_next};
use super::{Controller, ControllerError, Next};

/// Group metrics have one granularity: a minute.
const PERIOD: f64 = 60.0;

/// Publishes `AWS/AutoScaling` metrics. What it published is recorded on each group
/// (`Group::metrics_published_through`), so a pass decides from state alone.
#[derive(Debug, Default)]
pub struct AsgMetrics;

impl Controller for AsgMetrics {
    fn name(&self) -> &'static str {
        "asg-metrics"
    }

    fn watches(&self) -> Topics {
        Topic::AutoScaling | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let now = state.clock.now();
        let at = last_complete_period(now, PERIOD);
        state.stores.for_each(|_, s| {
            let mut points = Vec::new();
            for g in s.autoscaling.groups.values_mut() {
                if let Some(values) = due_values(g, at) {
                    points.extend(values);
                }
            }
            for (key, value) in &points {
                s.cloudwatch
                    .metrics
                    .put(key, "None", at, &Agg::value(*value), false, now);
            }
        });
        Ok(Next::after_secs(until_next(now, PERIOD).max(0.001)))
    }
}

/// The datapoints of `g` for the minute starting `at`, when that minute is due; records it
/// as published. Collection off forgets the progress; the first pass after it is enabled
/// only notes the minute (the first datapoint is the minute collection was enabled in, once
/// it has ended).
/// (`g` is written only when something changes: a write copies a group a snapshot holds.)
fn due_values(g: &mut Shared<Group>, at: f64) -> Option<Vec<(MetricKey, f64)>> {
    if g.enabled_metrics.is_empty() {
        if g.metrics_published_through.is_some() {
            g.metrics_published_through = None;
        }
        return None;
    }
    let last = g.metrics_published_through;
    if last.is_some_and(|last| last >= at) {
        return None;
    }
    g.metrics_published_through = Some(at);
    last?;
    let dims = vec![("AutoScalingGroupName".to_owned(), g.name.clone())];
    let points = values(g)
        .into_iter()
        .filter(|(name, _)| g.enabled_metrics.contains_key(*name))
        .map(|(name, value)| (MetricKey::new(NAMESPACE, name, dims.clone()), value))
        .collect();
    Some(points)
}
