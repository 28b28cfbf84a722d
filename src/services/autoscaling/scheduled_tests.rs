//! Unit tests of `scheduled`: next runs and applying an action.

use super::*;

fn action(start: Option<f64>, recurrence: Option<&str>) -> ScheduledAction {
    ScheduledAction {
        group_name: "g".into(),
        name: "a".into(),
        arn: "arn".into(),
        start_time: start,
        end_time: None,
        recurrence: recurrence.map(str::to_owned),
        time_zone: None,
        min_size: None,
        max_size: None,
        desired_capacity: Some(2),
        next_run: None,
    }
}

#[test]
fn next_run_honours_start_recurrence_and_end() {
    // 2026-11-28T00:00:00Z
    let t0 = 1_795_824_000.0;
    assert_eq!(
        next_run(&action(Some(t0 + 90.0), None), t0, true),
        Some(t0 + 90.0)
    );
    assert_eq!(
        next_run(&action(Some(t0 + 90.0), None), t0 + 90.0, false),
        None
    );
    let hourly = action(None, Some("0 * * * *"));
    assert_eq!(next_run(&hourly, t0, true), Some(t0 + 3600.0));
    // StartTime first, then the recurrence.
    let both = action(Some(t0 + 600.0), Some("0 * * * *"));
    assert_eq!(next_run(&both, t0, true), Some(t0 + 600.0));
    assert_eq!(next_run(&both, t0 + 600.0, false), Some(t0 + 3600.0));
    let mut ending = hourly.clone();
    ending.end_time = Some(t0 + 5000.0);
    assert_eq!(next_run(&ending, t0 + 3600.0, false), None);
}

#[test]
fn apply_follows_update_semantics_and_writes_the_cause() {
    let mut g = Group {
        name: "g".into(),
        min_size: 1,
        max_size: 3,
        desired_capacity: 1,
        ..Group::default()
    };
    let mut a = action(None, None);
    a.min_size = Some(1);
    a.max_size = Some(3);
    assert_eq!(apply(&mut g, &a, 1_795_838_460.0), Ok(true));
    assert_eq!(g.desired_capacity, 2);
    assert_eq!(
        g.pending_cause.as_deref(),
        Some(
            "At 2026-11-28T04:01:00Z a scheduled action update of AutoScalingGroup constraints to min: 1, max: 3, desired: 2 changing the desired capacity from 1 to 2."
        )
    );
    // Only MinSize: desired rises with it.
    let mut raise = action(None, None);
    raise.desired_capacity = None;
    raise.min_size = Some(3);
    assert_eq!(apply(&mut g, &raise, 0.0), Ok(true));
    assert_eq!((g.min_size, g.desired_capacity), (3, 3));
    // Inconsistent: group untouched.
    let mut bad = action(None, None);
    bad.desired_capacity = Some(9);
    assert!(apply(&mut g, &bad, 0.0).is_err());
    assert_eq!(g.desired_capacity, 3);
}
