//! Composite alarm action suppression (CloudWatch User Guide, "Create a composite alarm";
//! CloudWatch API Reference, PutCompositeAlarm): an `ActionsSuppressor` alarm silences a
//! composite's actions while it is in ALARM; `ActionsSuppressorWaitPeriod` holds the actions
//! of a composite that enters ALARM for that long, in case the suppressor follows;
//! `ActionsSuppressorExtensionPeriod` keeps suppressing for that long after the suppressor
//! leaves ALARM.
//!
//! [`gate`] decides, for one composite on one evaluation, which actions run now; it is pure
//! apart from the composite's own suppression fields, and unit-tested below.

use super::actions::AlarmNotice;
use super::composite::CompositeAlarm;
use super::evaluate::StateValue;

/// Actions of one transition: the notice and the action ARNs.
pub type Fired = (AlarmNotice, Vec<String>);

/// Why actions are held or dropped right now.
fn mark(c: &mut CompositeAlarm, by: Option<&'static str>) {
    c.actions_suppressed_by = by;
    c.actions_suppressed_reason = by.map(|b| format!("Actions suppressed by {b}"));
}

/// Apply the suppressor to a composite at `now`: `fired` is what its transition in this
/// evaluation asks to run (if any), `suppressor` the suppressor alarm's state. Returns the
/// actions to run now. Composites without a suppressor pass everything through.
pub fn gate(
    c: &mut CompositeAlarm,
    suppressor: Option<StateValue>,
    fired: Option<Fired>,
    now: f64,
) -> Vec<Fired> {
    if c.actions_suppressor.is_none() {
        return fired.into_iter().collect();
    }
    let wait = c.actions_suppressor_wait_period.unwrap_or(0) as f64;
    let extension = c.actions_suppressor_extension_period.unwrap_or(0) as f64;
    let suppressing = suppressor == Some(StateValue::Alarm);
    let mut run = Vec::new();

    // The suppressor's own transitions.
    if suppressing {
        c.pending = None;
        c.wait_until = None;
        c.extension_until = None;
    } else if c.suppressor_was_alarm {
        c.extension_until = Some(now + extension);
    }
    c.suppressor_was_alarm = suppressing;

    // The composite's transition in this evaluation.
    if let Some((notice, actions)) = fired {
        c.pending = None;
        c.wait_until = None;
        if suppressing {
            // Dropped: the suppressor is in ALARM.
        } else if notice.new_state != StateValue::Alarm {
            // Leaving ALARM ends an extension; other states' actions are not held.
            c.extension_until = None;
            run.push((notice, actions));
        } else if c.extension_until.is_some_and(|until| now < until) {
            c.pending = Some((notice, actions));
        } else {
            c.wait_until = Some(now + wait);
            c.pending = Some((notice, actions));
        }
    }

    // Timers.
    if c.extension_until.is_some_and(|until| now >= until) {
        c.extension_until = None;
        if c.core.state_value == StateValue::Alarm {
            c.wait_until = None;
            run.extend(c.pending.take());
        }
    }
    if c.wait_until.is_some_and(|until| now >= until) {
        c.wait_until = None;
        run.extend(c.pending.take());
    }

    let by = if c.core.state_value != StateValue::Alarm {
        None
    } else if suppressing {
        Some("Alarm")
    } else if c.extension_until.is_some() {
        Some("ExtensionPeriod")
    } else if c.wait_until.is_some() {
        Some("WaitPeriod")
    } else {
        None
    };
    mark(c, by);
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::cloudwatch::composite::parse_rule;

    fn composite() -> CompositeAlarm {
        let core = crate::services::cloudwatch::alarms::AlarmCore::put(
            crate::services::cloudwatch::alarms::AlarmSettings {
                name: "c",
                arn: "arn:aws:cloudwatch:us-east-1:000000000000:alarm:c".into(),
                description: None,
                actions_enabled: Some(true),
                ok_actions: None,
                alarm_actions: None,
                insufficient_data_actions: None,
            },
            None,
            0.0,
        );
        CompositeAlarm {
            core,
            alarm_rule: "ALARM(a)".into(),
            actions_suppressor: Some("s".into()),
            actions_suppressor_wait_period: Some(120),
            actions_suppressor_extension_period: Some(300),
            rule: parse_rule("ALARM(a)").ok(),
            tags: Vec::new(),
            last_inputs: None,
            actions_suppressed_by: None,
            actions_suppressed_reason: None,
            suppressor_was_alarm: false,
            wait_until: None,
            extension_until: None,
            pending: None,
        }
    }

    fn fire(c: &mut CompositeAlarm, to: StateValue) -> Option<Fired> {
        let old = c.core.state_value;
        c.core.state_value = to;
        Some((
            c.core.notice(old, false),
            vec!["arn:aws:sns:us-east-1:000000000000:t".into()],
        ))
    }

    use StateValue::{Alarm, Ok as Fine};

    #[test]
    fn actions_wait_then_run_unless_the_suppressor_follows() {
        let mut c = composite();
        let f = fire(&mut c, Alarm);
        assert!(gate(&mut c, Some(Fine), f, 0.0).is_empty());
        assert_eq!(c.actions_suppressed_by, Some("WaitPeriod"));
        assert_eq!(
            c.actions_suppressed_reason.as_deref(),
            Some("Actions suppressed by WaitPeriod")
        );
        assert!(gate(&mut c, Some(Fine), None, 60.0).is_empty());
        assert_eq!(
            gate(&mut c, Some(Fine), None, 120.0).len(),
            1,
            "the wait ran out"
        );
        assert_eq!(c.actions_suppressed_by, None);

        let mut c = composite();
        let f = fire(&mut c, Alarm);
        assert!(gate(&mut c, Some(Fine), f, 0.0).is_empty());
        assert!(gate(&mut c, Some(Alarm), None, 60.0).is_empty());
        assert_eq!(c.actions_suppressed_by, Some("Alarm"));
        assert!(
            gate(&mut c, Some(Alarm), None, 180.0).is_empty(),
            "dropped, not delayed"
        );
        // The suppressor leaves ALARM: suppression extends for 300 s.
        assert!(gate(&mut c, Some(Fine), None, 240.0).is_empty());
        assert_eq!(c.actions_suppressed_by, Some("ExtensionPeriod"));
        assert!(gate(&mut c, Some(Fine), None, 600.0).is_empty());
        assert_eq!(c.actions_suppressed_by, None);
    }

    #[test]
    fn other_states_run_at_once_unless_suppressed_and_no_suppressor_passes() {
        let mut c = composite();
        let f = fire(&mut c, Fine);
        assert_eq!(gate(&mut c, Some(Fine), f, 0.0).len(), 1);
        let f = fire(&mut c, Fine);
        assert!(gate(&mut c, Some(Alarm), f, 10.0).is_empty());
        let mut plain = composite();
        plain.actions_suppressor = None;
        let f = fire(&mut plain, Alarm);
        assert_eq!(gate(&mut plain, None, f, 0.0).len(), 1);
    }
}
