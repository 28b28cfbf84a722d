//! Alarm actions: which ARNs PutMetricAlarm accepts (CloudWatch API Reference, PutMetricAlarm:
//! AlarmActions), and the one hook that runs them on a state change
//! ([`dispatch_alarm_actions`]).
//!
//! SNS topics get the alarm message (`notify.rs`: alarm JSON, SMS line and e-mail text) through
//! `sns::publish_internal_structured`, and an
//! `Action` history item says whether that worked. Auto Scaling policies run through
//! `autoscaling::policies::execute` with the alarm's latest datapoints: on the state change
//! (with a `Succeeded`/`Failed` Action history item, as AWS writes) and again on every
//! once-a-minute repeat while the state lasts (no history for repeats).

use serde::Serialize;

use super::evaluate::StateValue;
use super::format::data_date;
use super::history::HistoryItem;
use super::validation;
use crate::error::ApiError;
use crate::state::{AppState, Scope};

/// Why an action did not run (kinds Updraft does not run).
fn not_delivered(_arn: &str) -> &'static str {
    "Updraft does not run this kind of alarm action"
}

/// What changed, for the actions of one alarm.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AlarmNotice {
    /// AlarmName.
    pub alarm_name: String,
    /// AlarmArn.
    pub alarm_arn: String,
    /// `MetricAlarm` or `CompositeAlarm`.
    #[serde(deserialize_with = "crate::state::persist::fields::static_str")]
    pub alarm_type: crate::state::persist::fields::StaticStr,
    /// The state before.
    pub old_state: StateValue,
    /// The state now.
    pub new_state: StateValue,
    /// The new StateReason.
    pub reason: String,
    /// The new StateReasonData, if any.
    pub reason_data: Option<String>,
    /// StateChangeTime: the time of the last transition (epoch seconds).
    pub state_change_time: f64,
    /// True for the once-a-minute repeat of Auto Scaling actions while a state lasts. No
    /// history item is written for repeats: AWS does not document it, and a published 2013
    /// alarm history shows an Action item only at the transition.
    pub repeat: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionData<'a> {
    action_state: &'static str,
    state_update_timestamp: i64,
    notification_resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    published_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// Run an alarm's actions for a state change (or a repeat). Call it outside the store lock.
///
/// This is the one place alarm actions run: SNS topics are published to on state changes
/// (not on the per-minute repeats, which only Auto Scaling actions get); Auto Scaling
/// policies are logged and recorded as not executed until that service lands.
pub fn dispatch_alarm_actions(
    state: &AppState,
    scope: &Scope,
    alarm: &AlarmNotice,
    actions: &[String],
) {
    if actions.is_empty() {
        return;
    }
    let now = state.clock.now();
    let mut items = Vec::new();
    for arn in actions {
        let is_sns = arn.split(':').nth(2) == Some("sns");
        if is_sns && !alarm.repeat {
            items.push(publish_to_topic(state, scope, alarm, arn, now));
            continue;
        }
        if is_autoscaling(arn) {
            let outcome = invoke_policy(state, scope, alarm, arn);
            if !alarm.repeat {
                items.push(policy_item(alarm, arn, outcome, now));
            }
            continue;
        }
        let why = not_delivered(arn);
        tracing::info!(
            alarm = %alarm.alarm_name,
            action = %arn,
            old_state = alarm.old_state.as_str(),
            new_state = alarm.new_state.as_str(),
            repeat = alarm.repeat,
            at = %data_date(now),
            "alarm action not delivered: {why}"
        );
        if alarm.repeat {
            continue;
        }
        let data = ActionData {
            action_state: "Failed",
            state_update_timestamp: (alarm.state_change_time * 1000.0).round() as i64,
            notification_resource: arn,
            published_message: None,
            error: Some(why),
        };
        items.push(HistoryItem {
            alarm_name: alarm.alarm_name.clone(),
            alarm_type: alarm.alarm_type,
            timestamp: now,
            history_item_type: "Action",
            history_summary: format!("Failed to execute action {arn}. Received error: \"{why}\""),
            history_data: serde_json::to_string(&data).unwrap_or_default(),
        });
    }
    if !items.is_empty() {
        state.stores.with(scope, |s| {
            for item in items {
                s.cloudwatch.history.push(item);
            }
        });
    }
}

/// Run an Auto Scaling policy for an alarm (in the account and region its ARN names), with
/// the alarm's datapoints of the evaluation range, newest last, and its threshold.
fn invoke_policy(
    state: &AppState,
    scope: &Scope,
    alarm: &AlarmNotice,
    arn: &str,
) -> Result<(), String> {
    use crate::services::autoscaling::{policies, target_tracking};
    let now = state.clock.now();
    let (values, threshold) = state.stores.with(scope, |s| {
        let cw = &s.cloudwatch;
        let Some(a) = cw.alarms.get(&alarm.alarm_name) else {
            return (Vec::new(), 0.0);
        };
        let rule = super::tick::rule_of(a);
        let slots = super::tick::slots_for(&cw.metrics, &cw.anomaly_detectors, a, &rule, now);
        // Newest first in the range; keep the evaluated periods, newest last.
        let mut values: Vec<f64> = slots
            .iter()
            .filter_map(|x| x.value)
            .take(rule.evaluation_periods.max(1))
            .collect();
        values.reverse();
        (values, a.threshold)
    });
    let mut parts = arn.split(':');
    let policy_scope = match (parts.nth(3), parts.next()) {
        (Some(region), Some(account)) => Scope::new(account, region),
        _ => scope.clone(),
    };
    // Scaling policies have no resource policy: only the alarm's own account may run them.
    // UNVERIFIED wording, in the shape of AWS's authorization errors.
    if policy_scope.account != scope.account {
        return Err(format!(
            "Resource: {} is not authorized to perform: autoscaling:ExecutePolicy on resource: {arn}",
            alarm.alarm_arn
        ));
    }
    let trigger = policies::Trigger::Alarm {
        name: alarm.alarm_name.clone(),
        values,
        threshold,
        high: target_tracking::alarm_side(&alarm.alarm_name),
    };
    policies::execute(state, &policy_scope, arn, &trigger)
        .map(|_| ())
        .map_err(|e| e.message)
}

/// The Action history item for a policy invocation.
fn policy_item(
    alarm: &AlarmNotice,
    arn: &str,
    outcome: Result<(), String>,
    now: f64,
) -> HistoryItem {
    let (action_state, summary, error) = match &outcome {
        Ok(()) => (
            "Succeeded",
            format!("Successfully executed action {arn}"),
            None,
        ),
        Err(why) => (
            "Failed",
            format!("Failed to execute action {arn}. Received error: \"{why}\""),
            Some(why.as_str()),
        ),
    };
    tracing::info!(alarm = %alarm.alarm_name, action = %arn, outcome = action_state, "alarm action");
    let data = ActionData {
        action_state,
        state_update_timestamp: (alarm.state_change_time * 1000.0).round() as i64,
        notification_resource: arn,
        published_message: None,
        error,
    };
    HistoryItem {
        alarm_name: alarm.alarm_name.clone(),
        alarm_type: alarm.alarm_type,
        timestamp: now,
        history_item_type: "Action",
        history_summary: summary,
        history_data: serde_json::to_string(&data).unwrap_or_default(),
    }
}

/// Publish the alarm message to an SNS topic (in the account and region its ARN names) and
/// return the Action history item AWS writes for the attempt.
fn publish_to_topic(
    state: &AppState,
    scope: &Scope,
    alarm: &AlarmNotice,
    arn: &str,
    now: f64,
) -> HistoryItem {
    let message = state.stores.with(scope, |s| {
        super::notify::alarm_message(&s.cloudwatch, scope, alarm)
    });
    // The alarm's account publishes; a topic in another account must allow it by policy.
    let from = crate::services::sns::access::Publisher::alarm(&scope.account, &alarm.alarm_arn);
    let outcome = match &message {
        Some(m) => crate::services::sns::publish_internal_structured(
            state,
            scope,
            &from,
            arn,
            Some(&m.subject),
            &m.default,
            &m.variants(),
        )
        .map_err(|e| e.message),
        None => Err("The alarm no longer exists".to_owned()),
    };
    let (action_state, summary, error) = match &outcome {
        Ok(_) => (
            "Succeeded",
            format!("Successfully executed action {arn}"),
            None,
        ),
        Err(why) => (
            "Failed",
            format!("Failed to execute action {arn}. Received error: \"{why}\""),
            Some(why.as_str()),
        ),
    };
    tracing::info!(alarm = %alarm.alarm_name, action = %arn, outcome = action_state, "alarm action");
    let data = ActionData {
        action_state,
        state_update_timestamp: (alarm.state_change_time * 1000.0).round() as i64,
        notification_resource: arn,
        // AWS records the message-structure JSON it published, all three variants.
        published_message: outcome
            .is_ok()
            .then(|| message.map(|m| m.published_message()))
            .flatten(),
        error,
    };
    HistoryItem {
        alarm_name: alarm.alarm_name.clone(),
        alarm_type: alarm.alarm_type,
        timestamp: now,
        history_item_type: "Action",
        history_summary: summary,
        history_data: serde_json::to_string(&data).unwrap_or_default(),
    }
}

/// Whether an action ARN is an Auto Scaling policy (those repeat every minute).
pub fn is_autoscaling(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("autoscaling")
}

fn account_ok(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// Check one action ARN as PutMetricAlarm does: a malformed ARN is a `ValidationError` with
/// an empty message (terraform#19015); another region is
/// `Invalid region X specified. Only Y is supported.`. `composite` refuses the kinds composite
/// alarms cannot have (EC2 and Auto Scaling).
pub fn check_action(arn: &str, scope: &Scope, composite: bool) -> Result<(), ApiError> {
    let malformed = || validation("");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_lit, partition, service, region, account, resource] = parts[..] else {
        return Err(malformed());
    };
    if arn_lit != "arn" || !partition.starts_with("aws") || resource.is_empty() {
        return Err(malformed());
    }
    let ok = match service {
        "automate" => {
            !composite
                && account == "ec2"
                && matches!(resource, "stop" | "terminate" | "reboot" | "recover")
        }
        "swf" => {
            !composite
                && account_ok(account)
                && matches!(
                    resource,
                    "action/actions/AWS_EC2.InstanceId.Stop/1.0"
                        | "action/actions/AWS_EC2.InstanceId.Terminate/1.0"
                        | "action/actions/AWS_EC2.InstanceId.Reboot/1.0"
                        | "action/actions/AWS_EC2.InstanceId.Recover/1.0"
                )
        }
        "autoscaling" => {
            !composite
                && account_ok(account)
                && resource.starts_with("scalingPolicy:")
                && resource.contains(":autoScalingGroupName/")
                && resource.contains(":policyName/")
        }
        "lambda" => {
            account_ok(account)
                && resource.len() > "function:".len()
                && resource.starts_with("function:")
        }
        "sns" => account_ok(account) && !resource.contains(':') && !resource.contains('/'),
        "ssm" => account_ok(account) && resource.starts_with("opsitem:"),
        "ssm-incidents" => account_ok(account) && resource.starts_with("responseplan/"),
        "aiops" => account_ok(account) && resource.starts_with("investigation-group:"),
        _ => false,
    };
    if !ok {
        return Err(malformed());
    }
    if service != "ssm-incidents" && region != scope.region {
        return Err(validation(format!(
            "Invalid region {region} specified. Only {} is supported.",
            scope.region
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_arns_are_checked_as_aws_checks_them() {
        let scope = Scope::new("123456789012", "us-east-1");
        for good in [
            "arn:aws:sns:us-east-1:123456789012:alerts",
            "arn:aws:automate:us-east-1:ec2:stop",
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0c3b9c3a-1d2e-4f5a-8b7c-6d5e4f3a2b1c:autoScalingGroupName/web:policyName/up",
            "arn:aws:lambda:us-east-1:123456789012:function:f:prod",
            "arn:aws:swf:us-east-1:123456789012:action/actions/AWS_EC2.InstanceId.Reboot/1.0",
        ] {
            assert!(check_action(good, &scope, false).is_ok(), "{good}");
        }
        for bad in [
            "my-policy",
            "arn:aws:sns:us-east-1:1234:t",
            "arn:aws:s3:::bucket",
            "arn:aws:automate:us-east-1:ec2:explode",
        ] {
            let e = check_action(bad, &scope, false).unwrap_err();
            assert_eq!(
                (e.code.as_ref(), e.message.as_str()),
                ("ValidationError", ""),
                "{bad}"
            );
        }
        let e = check_action("arn:aws:sns:us-west-2:123456789012:t", &scope, false).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid region us-west-2 specified. Only us-east-1 is supported."
        );
        assert!(check_action("arn:aws:automate:us-east-1:ec2:stop", &scope, true).is_err());
    }
}
