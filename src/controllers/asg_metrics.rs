//! The Auto Scaling group metric publisher: once a minute, every group with metrics collection
//! enabled (EnableMetricsCollection) gets its enabled `AWS/AutoScaling` metrics written into
//! the CloudWatch store of its account and region, dimension `AutoScalingGroupName`, stamped
//! with the start of the minute just ended (the same convention as the `AWS/EC2` publisher).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::services::autoscaling::metrics_collection::{NAMESPACE, values};
use crate::services::cloudwatch::stats::Agg;
use crate::services::cloudwatch::store::MetricKey;
use crate::state::{AppState, Scope};

use super::ec2_metrics::{last_complete_period, until_next};
use super::{Controller, ControllerError};

/// Group metrics have one granularity: a minute.
const PERIOD: f64 = 60.0;

/// Publishes `AWS/AutoScaling` metrics.
#[derive(Debug, Default)]
pub struct AsgMetrics {
    /// (scope, group) → the last minute published.
    published: Mutex<HashMap<(Scope, String), f64>>,
}

impl Controller for AsgMetrics {
    fn name(&self) -> &'static str {
        "asg-metrics"
    }

    async fn reconcile(&self, state: &AppState) -> Result<f64, ControllerError> {
        let now = state.clock.now();
        let at = last_complete_period(now, PERIOD);
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut seen = Vec::new();
        state.stores.for_each(|scope, s| {
            let mut points = Vec::new();
            for g in s.autoscaling.groups.values() {
                if g.enabled_metrics.is_empty() {
                    continue;
                }
                let key = (scope.clone(), g.name.clone());
                seen.push(key.clone());
                match published.get(&key) {
                    // Start with the minute collection was enabled in, once it has ended.
                    None => {
                        published.insert(key, at);
                        continue;
                    }
                    Some(last) if *last >= at => continue,
                    Some(_) => {}
                }
                published.insert(key, at);
                let dims = vec![("AutoScalingGroupName".to_owned(), g.name.clone())];
                for (name, value) in values(g) {
                    if g.enabled_metrics.contains_key(name) {
                        points.push((MetricKey::new(NAMESPACE, name, dims.clone()), value));
                    }
                }
            }
            for (key, value) in &points {
                s.cloudwatch
                    .metrics
                    .put(key, "None", at, &Agg::value(*value), false, now);
            }
        });
        published.retain(|k, _| seen.contains(k));
        Ok(until_next(now, PERIOD).max(0.001))
    }
}
