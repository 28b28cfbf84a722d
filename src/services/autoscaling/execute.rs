//! Running a policy against its group (Auto Scaling API Reference, PutScalingPolicy and
//! ExecutePolicy; EC2 Auto Scaling User Guide, "Step and simple scaling policies for Amazon EC2
//! Auto Scaling" and "Target tracking scaling policies for Amazon EC2 Auto Scaling"): [`execute`]
//! is the one place a policy changes desired capacity — for ExecutePolicy and for CloudWatch alarm
//! actions — with cooldowns (simple), steps and warm-up (step), and the target-tracking estimate.

use super::scaling::{adjusted, aggregate, matching_step, target_capacity};
use super::store::{Group, LifecycleState, set_desired_capacity};
use super::{target_tracking, tt_agree, validation};
use crate::error::ApiError;
use crate::state::{AppState, Scope, Topic};

/// What invoked a policy.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// ExecutePolicy.
    User {
        /// HonorCooldown.
        honor_cooldown: bool,
        /// MetricValue and BreachThreshold (step policies).
        metric: Option<(f64, f64)>,
    },
    /// An alarm action.
    Alarm {
        /// The alarm's name.
        name: String,
        /// Its recent datapoints (newest last) and threshold.
        values: Vec<f64>,
        /// Threshold.
        threshold: f64,
        /// AlarmHigh / AlarmLow of a target-tracking policy: true for high.
        high: Option<bool>,
    },
}

/// Instances still warming up: pending, or in service for less than the warm-up.
fn warming(g: &Group, warmup: i64, now: f64) -> i64 {
    g.instances
        .values()
        .filter(|i| match i.lifecycle_state {
            LifecycleState::InService => {
                i.in_service_since.is_some_and(|t| now < t + warmup as f64)
            }
            s => s.counts(),
        })
        .count() as i64
}

/// Run a policy against its group. Returns the new desired capacity when it changed, `None`
/// for a quiet no-op (clamped to the same capacity, cooldown, scale-in during warm-up).
/// Errors are the ones ExecutePolicy reports (HonorCooldown, no matching step).
pub fn execute(
    state: &AppState,
    scope: &Scope,
    arn: &str,
    trigger: &Trigger,
) -> Result<Option<i64>, ApiError> {
    let now = state.clock.now();
    let changed = state.stores.with(scope, |s| {
        let a = &mut s.autoscaling;
        let p = a
            .policies
            .get(arn)
            .cloned()
            .ok_or_else(|| validation(format!("No such policy {arn} found.")))?;
        let last = a
            .activities
            .iter()
            .rev()
            .find(|x| x.group_name == p.group_name)
            .map(|x| x.id.clone());
        let others: Vec<_> = a
            .policies_of(&p.group_name)
            .filter(|q| q.arn != p.arn)
            .cloned()
            .collect();
        let g = a.group_mut(&p.group_name)?;
        if let Trigger::Alarm { .. } = trigger
            && (!p.enabled || super::store::is_suspended(g, "AlarmNotification"))
        {
            return Ok(None);
        }
        let desired = g.desired_capacity;
        let warmup = p
            .estimated_instance_warmup
            .or(g.default_instance_warmup)
            .unwrap_or(g.default_cooldown);
        let wanted = match p.policy_type.as_str() {
            "SimpleScaling" => {
                let cooling = g.cooldown_until > now || g.cooldown_pending.is_some();
                match trigger {
                    Trigger::User { honor_cooldown: true, .. } if cooling => {
                        let id = g.activity_in_progress().map(str::to_owned).or(last);
                        return Err(super::instances::blocked(&id.unwrap_or_default()));
                    }
                    Trigger::Alarm { .. } if cooling => return Ok(None),
                    _ => {}
                }
                adjusted(
                    p.adjustment_type.as_deref().unwrap_or("ChangeInCapacity"),
                    p.scaling_adjustment.unwrap_or(0),
                    desired,
                    p.min_adjustment_magnitude,
                )
            }
            "StepScaling" => {
                let (value, threshold) = match trigger {
                    Trigger::User { metric: Some(m), .. } => *m,
                    Trigger::Alarm { values, threshold, .. } => {
                        match aggregate(values, p.metric_aggregation_type.as_deref()) {
                            Some(v) => (v, *threshold),
                            None => return Ok(None),
                        }
                    }
                    Trigger::User { metric: None, .. } => return Ok(None),
                };
                let Some(step) = matching_step(&p.step_adjustments, value, threshold) else {
                    return match trigger {
                        Trigger::User { .. } => Err(validation(format!(
                            "The metric value {value} does not match any step adjustment of policy {}.",
                            p.name
                        ))),
                        Trigger::Alarm { .. } => Ok(None),
                    };
                };
                let kind = p.adjustment_type.as_deref().unwrap_or("ChangeInCapacity");
                let warm = warming(g, warmup, now);
                if step >= 0 || kind == "ExactCapacity" {
                    // Warming instances are not in the base, so breaches in the same step
                    // while they warm up add nothing (EC2 Auto Scaling User Guide, "Step and
                    // simple scaling policies for Amazon EC2 Auto Scaling", instance warm-up).
                    let base = (g.counted_capacity() - warm).max(0);
                    adjusted(kind, step, base, p.min_adjustment_magnitude).max(desired)
                } else {
                    if warm > 0 {
                        return Ok(None);
                    }
                    adjusted(kind, step, desired, p.min_adjustment_magnitude)
                }
            }
            "TargetTrackingScaling" => {
                let Trigger::Alarm { values, high, .. } = trigger else {
                    return Ok(None);
                };
                let Some(t) = p.target_tracking.as_ref().and_then(|c| target_tracking::parse(c).ok())
                else {
                    return Ok(None);
                };
                // The latest datapoint: the evaluation window still holds pre-scaling values.
                let Some(metric) = values.last().copied() else {
                    return Ok(None);
                };
                let warm = warming(g, warmup, now);
                let base = (g.counted_capacity() - warm).max(0);
                let estimate = target_capacity(base.max(1), metric, t.target_value);
                match high {
                    Some(true) => estimate.max(desired),
                    Some(false) if t.disable_scale_in || warm > 0 => return Ok(None),
                    Some(false) => {
                        // Scale in only when every target-tracking policy of the group agrees,
                        // and no lower than any of them would keep (EC2 Auto Scaling User
                        // Guide, "Target tracking scaling policies for Amazon EC2 Auto Scaling").
                        let Some(floor) = tt_agree::scale_in_floor(&others, &s.cloudwatch, base, now)
                        else {
                            return Ok(None);
                        };
                        estimate.max(floor).min(desired)
                    }
                    None => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        let new = wanted.clamp(g.min_size, g.max_size);
        if new == desired {
            return Ok(None);
        }
        let why = match trigger {
            Trigger::User { .. } => format!("a user request executed policy {}", p.name),
            Trigger::Alarm { name, .. } => {
                format!("a monitor alarm {name} in state ALARM triggered policy {}", p.name)
            }
        };
        set_desired_capacity(g, new, &why, now);
        if p.policy_type == "SimpleScaling" {
            g.cooldown_pending = Some(p.cooldown.unwrap_or(g.default_cooldown));
        }
        Ok::<_, ApiError>(Some(new))
    })?;
    if changed.is_some() {
        state.touched(Topic::AutoScaling);
    }
    Ok(changed)
}
