//! Several target-tracking policies on one group (EC2 Auto Scaling User Guide, "Target tracking
//! scaling policies for Amazon EC2 Auto Scaling", on multiple policies): the group scales out
//! when any policy wants more capacity, taking the largest proposal (our choice, the rule
//! Application Auto Scaling documents), and scales in only when every policy with scale-in
//! enabled is ready to — and then no lower than the largest capacity any of them still needs,
//! so no metric is pushed over its target.
//!
//! A policy is "ready to scale in" when its AlarmLow is in ALARM; its proposal is the usual
//! estimate from its metric's latest datapoint. A policy whose metric has no data is not
//! ready, so it holds scale-in back (AWS does not scale on INSUFFICIENT_DATA).

use super::scaling::target_capacity;
use super::store::Policy;
use super::target_tracking::{self, alarm_side};
use crate::services::cloudwatch::CloudWatchStore;
use crate::services::cloudwatch::evaluate::StateValue;
use crate::services::cloudwatch::tick::{rule_of, slots_for};

/// The latest datapoint in an alarm's evaluation range.
fn latest_value(cw: &CloudWatchStore, alarm_name: &str, now: f64) -> Option<f64> {
    let a = cw.alarms.get(alarm_name)?;
    let rule = rule_of(a);
    // Newest first.
    slots_for(&cw.metrics, &cw.anomaly_detectors, a, &rule, now)
        .iter()
        .find_map(|s| s.value)
}

/// What another policy says about a scale-in: `None` when it is not ready (a veto), else the
/// capacity it would keep for `base` instances.
fn proposal(q: &Policy, cw: &CloudWatchStore, base: i64, now: f64) -> Option<i64> {
    let low = q
        .alarms
        .iter()
        .find(|(name, _)| alarm_side(name) == Some(false))?;
    let alarm = cw.alarms.get(&low.0)?;
    if alarm.core.state_value != StateValue::Alarm {
        return None;
    }
    let t = target_tracking::parse(q.target_tracking.as_ref()?).ok()?;
    let metric = latest_value(cw, &low.0, now)?;
    Some(target_capacity(base.max(1), metric, t.target_value))
}

/// Whether `q` takes part in the scale-in vote: an enabled target-tracking policy with
/// scale-in enabled.
fn votes(q: &Policy) -> bool {
    q.enabled
        && q.policy_type == "TargetTrackingScaling"
        && q.target_tracking
            .as_ref()
            .and_then(|c| target_tracking::parse(c).ok())
            .is_some_and(|t| !t.disable_scale_in)
}

/// The floor a scale-in proposed by one policy must respect: `Some(capacity)`, the largest
/// capacity the `others` (the group's other policies) would keep, or `None` when one of them
/// is not ready to scale in. With no other voting policy the floor is 0.
pub fn scale_in_floor(others: &[Policy], cw: &CloudWatchStore, base: i64, now: f64) -> Option<i64> {
    let mut floor = 0;
    for q in others.iter().filter(|q| votes(q)) {
        floor = floor.max(proposal(q, cw, base, now)?);
    }
    Some(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, disable_scale_in: bool, enabled: bool) -> Policy {
        Policy {
            arn: format!("arn:{name}"),
            group_name: "g".into(),
            name: name.into(),
            policy_type: "TargetTrackingScaling".into(),
            adjustment_type: None,
            min_adjustment_magnitude: None,
            scaling_adjustment: None,
            cooldown: None,
            step_adjustments: Vec::new(),
            metric_aggregation_type: None,
            estimated_instance_warmup: None,
            target_tracking: Some(serde_json::json!({
                "TargetValue": 50.0,
                "DisableScaleIn": disable_scale_in,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"}
            })),
            predictive: None,
            enabled,
            alarms: vec![(
                format!("TargetTracking-g-AlarmLow-{name}"),
                format!("arn:alarm:{name}"),
            )],
        }
    }

    #[test]
    fn a_policy_without_its_low_alarm_in_alarm_vetoes_scale_in() {
        let cw = CloudWatchStore::default();
        // The alarm does not even exist: not ready.
        assert_eq!(
            scale_in_floor(&[policy("q", false, true)], &cw, 4, 0.0),
            None
        );
        // Policies that cannot scale in, or are disabled, have no vote.
        assert_eq!(
            scale_in_floor(
                &[policy("r", true, true), policy("s", false, false)],
                &cw,
                4,
                0.0
            ),
            Some(0)
        );
        assert_eq!(scale_in_floor(&[], &cw, 4, 0.0), Some(0));
    }
}
