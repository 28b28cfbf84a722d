//! The alarm evaluator: every account and region's alarms, evaluated on the clock as AWS
//! evaluates them (every minute at `:05`, at once after a write). The decision is the pure
//! `services::cloudwatch::evaluate::decide`; `tick` applies it under the store lock, and the
//! actions of the changes run afterwards, outside the lock.

use super::{Controller, ControllerError, Next};
use crate::services::cloudwatch::actions::dispatch_alarm_actions;
use crate::services::cloudwatch::tick::tick;
use crate::state::{AppState, Topic, Topics};

/// The longest the evaluator sleeps (it also prunes old metric data each pass).
const MAX_SLEEP: f64 = 60.0;

/// Evaluates metric and composite alarms.
#[derive(Debug, Default)]
pub struct AlarmEvaluator;

impl Controller for AlarmEvaluator {
    fn name(&self) -> &'static str {
        "alarm-evaluator"
    }

    fn watches(&self) -> Topics {
        Topic::CloudWatch | Topic::Clock
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let now = state.clock.now();
        let mut dispatch = Vec::new();
        let mut next_due = now + MAX_SLEEP;
        state.stores.for_each(|scope, s| {
            let out = tick(&mut s.cloudwatch, now);
            if let Some(due) = out.next_due {
                next_due = next_due.min(due);
            }
            dispatch.extend(out.dispatch.into_iter().map(|d| (scope.clone(), d)));
        });
        for (scope, (notice, actions)) in &dispatch {
            dispatch_alarm_actions(state, scope, notice, actions);
        }
        Ok(Next::after_secs((next_due - now).max(0.0)))
    }
}
