//! The arithmetic of dynamic scaling, as pure functions (EC2 Auto Scaling User Guide, "Step and
//! simple scaling policies for Amazon EC2 Auto Scaling" and "Target tracking scaling policies
//! for Amazon EC2 Auto Scaling"; Auto Scaling API Reference, StepAdjustment): adjustment types
//! and AWS's percent rounding, step matching relative to the threshold, the target-tracking
//! estimate (our reconstruction: AWS describes it only in words), and metric aggregation.

use super::store::StepAdjustment;

/// AWS's rounding of a percent change (EC2 Auto Scaling User Guide, "Step and simple scaling
/// policies for Amazon EC2 Auto Scaling", the note on `PercentChangeInCapacity`): above 1 round
/// down, between 0 and 1 round to 1, between -1 and 0 round to -1, below -1 round toward zero.
pub fn round_pct(x: f64) -> i64 {
    if x == x.trunc() {
        x as i64
    } else if x > 1.0 {
        x.floor() as i64
    } else if x > 0.0 {
        1
    } else if x > -1.0 {
        -1
    } else {
        x.ceil() as i64
    }
}

/// The capacity an adjustment asks for from `base` (before clamping to [min, max]).
/// `MinAdjustmentMagnitude` only applies to `PercentChangeInCapacity`.
pub fn adjusted(kind: &str, adjustment: i64, base: i64, min_magnitude: Option<i64>) -> i64 {
    match kind {
        "ExactCapacity" => adjustment,
        "PercentChangeInCapacity" => {
            let mut change = round_pct(base as f64 * adjustment as f64 / 100.0);
            if let Some(m) = min_magnitude
                && change != 0
                && change.abs() < m
            {
                change = m * change.signum();
            }
            if change == 0
                && let Some(m) = min_magnitude
            {
                change = m * adjustment.signum();
            }
            base + change
        }
        _ => base + adjustment,
    }
}

/// The step matching `metric` for an alarm at `threshold`: at or above the threshold a step
/// matches when `lower <= d < upper`; below it when `lower < d <= upper` (d = metric −
/// threshold; a missing bound is infinite).
pub fn matching_step(steps: &[StepAdjustment], metric: f64, threshold: f64) -> Option<i64> {
    let d = metric - threshold;
    let lo = |s: &StepAdjustment| s.lower.unwrap_or(f64::NEG_INFINITY);
    let hi = |s: &StepAdjustment| s.upper.unwrap_or(f64::INFINITY);
    steps
        .iter()
        .find(|s| {
            if metric >= threshold {
                lo(s) <= d && d < hi(s)
            } else {
                lo(s) < d && d <= hi(s)
            }
        })
        .map(|s| s.adjustment)
}

/// Check step adjustments as AWS does: no overlap, no gap, at most one open lower and one
/// open upper bound, no step with both bounds open... Returns AWS-style messages.
pub fn check_steps(steps: &[StepAdjustment]) -> Result<(), String> {
    if steps.is_empty() {
        return Err("StepAdjustments must be provided for a StepScaling policy.".into());
    }
    if steps.len() > 20 {
        return Err("A step scaling policy can have at most 20 step adjustments.".into());
    }
    let mut sorted = steps.to_vec();
    sorted.sort_by(|a, b| {
        a.lower
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.lower.unwrap_or(f64::NEG_INFINITY))
    });
    for s in &sorted {
        if let (Some(l), Some(u)) = (s.lower, s.upper)
            && u <= l
        {
            return Err(
                "Upper bound must be greater than lower bound for a step adjustment.".into(),
            );
        }
    }
    if sorted.iter().filter(|s| s.lower.is_none()).count() > 1
        || sorted.iter().filter(|s| s.upper.is_none()).count() > 1
    {
        return Err("Only one step adjustment may have an unspecified lower bound and only one may have an unspecified upper bound.".into());
    }
    for pair in sorted.windows(2) {
        if pair[0].upper != pair[1].lower {
            return Err(
                "Step adjustments must not overlap and must have no gaps between them.".into(),
            );
        }
    }
    let first = &sorted[0];
    let last = &sorted[sorted.len() - 1];
    if first.lower.is_some_and(|l| l < 0.0) {
        return Err("A step adjustment with a negative lower bound requires a step adjustment with a null lower bound.".into());
    }
    if last.upper.is_some_and(|u| u > 0.0) {
        return Err("A step adjustment with a positive upper bound requires a step adjustment with a null upper bound.".into());
    }
    Ok(())
}

/// Aggregate the alarm's recent datapoints (`Average` by default, `Minimum`, `Maximum`).
pub fn aggregate(values: &[f64], kind: Option<&str>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match kind {
        Some("Minimum") => values.iter().copied().fold(f64::INFINITY, f64::min),
        Some("Maximum") => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        _ => values.iter().sum::<f64>() / values.len() as f64,
    })
}

/// Target tracking: the capacity that would bring the metric to the target, assuming it
/// scales inversely with capacity; rounded up, so AWS's "add 1.5 → 2" and "remove 1.5 → 1".
pub fn target_capacity(capacity: i64, metric: f64, target: f64) -> i64 {
    if target <= 0.0 {
        return capacity;
    }
    let wanted = capacity.max(1) as f64 * metric / target;
    // A tiny epsilon keeps exact quotients (2 × 50 / 50) from rounding up through noise.
    (wanted - 1e-9).ceil().max(0.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounding_follows_the_user_guide_table() {
        assert_eq!(adjusted("PercentChangeInCapacity", 10, 10, None), 11);
        assert_eq!(adjusted("PercentChangeInCapacity", 30, 11, None), 14);
        assert_eq!(adjusted("PercentChangeInCapacity", -10, 14, None), 13);
        assert_eq!(adjusted("PercentChangeInCapacity", -30, 13, None), 10);
        assert_eq!(adjusted("PercentChangeInCapacity", 50, 1, None), 2);
        assert_eq!(adjusted("PercentChangeInCapacity", -50, 1, None), 0);
        assert_eq!(adjusted("PercentChangeInCapacity", 25, 4, Some(2)), 6);
        assert_eq!(adjusted("ChangeInCapacity", -1, 1, None), 0);
        assert_eq!(adjusted("ExactCapacity", 3, 1, None), 3);
        assert_eq!(round_pct(12.7), 12);
        assert_eq!(round_pct(-6.67), -6);
        assert_eq!(round_pct(0.67), 1);
        assert_eq!(round_pct(-0.58), -1);
    }

    #[test]
    fn steps_match_inclusively_on_the_side_of_the_threshold() {
        let out = [
            StepAdjustment {
                lower: Some(0.0),
                upper: Some(10.0),
                adjustment: 0,
            },
            StepAdjustment {
                lower: Some(10.0),
                upper: Some(20.0),
                adjustment: 1,
            },
            StepAdjustment {
                lower: Some(20.0),
                upper: None,
                adjustment: 3,
            },
        ];
        assert!(check_steps(&out).is_ok());
        assert_eq!(matching_step(&out, 60.0, 50.0), Some(1));
        assert_eq!(matching_step(&out, 70.0, 50.0), Some(3));
        assert_eq!(matching_step(&out, 50.0, 50.0), Some(0));
        let inn = [
            StepAdjustment {
                lower: Some(-10.0),
                upper: Some(0.0),
                adjustment: 0,
            },
            StepAdjustment {
                lower: None,
                upper: Some(-10.0),
                adjustment: -1,
            },
        ];
        assert!(check_steps(&inn).is_ok());
        assert_eq!(matching_step(&inn, 40.0, 50.0), Some(-1));
        assert_eq!(matching_step(&inn, 45.0, 50.0), Some(0));
        let gap = [
            StepAdjustment {
                lower: Some(0.0),
                upper: Some(10.0),
                adjustment: 1,
            },
            StepAdjustment {
                lower: Some(20.0),
                upper: None,
                adjustment: 2,
            },
        ];
        assert!(check_steps(&gap).is_err());
    }

    #[test]
    fn target_tracking_rounds_conservatively() {
        assert_eq!(target_capacity(1, 100.0, 50.0), 2);
        assert_eq!(target_capacity(2, 75.0, 50.0), 3);
        assert_eq!(target_capacity(2, 50.0, 50.0), 2);
        assert_eq!(target_capacity(4, 10.0, 50.0), 1);
        assert_eq!(aggregate(&[1.0, 3.0], None), Some(2.0));
        assert_eq!(aggregate(&[1.0, 3.0], Some("Maximum")), Some(3.0));
    }
}
