//! Lifecycle hooks (EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle hooks"):
//! Put/Describe/DeleteLifecycleHook(s), CompleteLifecycleAction, RecordLifecycleActionHeartbeat,
//! and the clock side the scheduler runs: heartbeat and global timeouts that apply the hook's
//! `DefaultResult`, and the notification sent to a hook's SNS target when an instance waits.
//!
//! The reconciler puts an instance into `Pending:Wait` / `Terminating:Wait` with a
//! [`LifecycleAction`] (see [`begin_wait`]); completing or timing out only records the result,
//! and the reconciler moves the instance on (`:Proceed`, or terminate on a launch ABANDON).

use serde::{Deserialize, Serialize};

use super::errors::AutoScalingError;
use super::notifications::Notice;
use super::store::{AutoScalingStore, Group, LifecycleAction, LifecycleHook};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::iso8601::format_iso8601;
use crate::services::errors::ErrorCode;
use crate::services::errors::validation;
use crate::state::{AppState, Topic};

/// The two transitions a hook can hold.
pub const TRANSITIONS: [&str; 2] = [
    "autoscaling:EC2_INSTANCE_LAUNCHING",
    "autoscaling:EC2_INSTANCE_TERMINATING",
];
/// HeartbeatTimeout default (seconds).
pub const DEFAULT_HEARTBEAT: i64 = 3600;
/// The cap on a whole wait: min(48 h, 100 × HeartbeatTimeout).
const MAX_GLOBAL: i64 = 172_800;
/// At most this many hooks per group.
const MAX_HOOKS: usize = 50;

/// GlobalTimeout for a heartbeat timeout.
pub fn global_timeout(heartbeat: i64) -> i64 {
    (heartbeat * 100).min(MAX_GLOBAL)
}

/// A new wait on `hook`, starting at `now`, with a fresh token.
pub fn begin_wait(hook: &LifecycleHook, token: String, now: f64) -> LifecycleAction {
    LifecycleAction {
        token,
        hook_name: hook.name.clone(),
        transition: hook.transition.clone(),
        started: now,
        heartbeat_deadline: now + hook.heartbeat_timeout as f64,
        global_deadline: now + hook.global_timeout as f64,
        result: None,
        ended_by: None,
        wait_notified: false,
    }
}

/// AWS's StatusMessage for a launch that a hook abandoned (explicitly or by timeout).
pub fn abandon_message(action: &LifecycleAction) -> String {
    format!(
        "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token {} was abandoned: {}",
        action.token,
        action
            .ended_by
            .as_deref()
            .unwrap_or("Lifecycle Action Completed with ABANDON Result")
    )
}

/// The message a hook's target gets when an instance starts waiting (members in AWS's order).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WaitMessage<'a> {
    lifecycle_hook_name: &'a str,
    account_id: &'a str,
    request_id: &'a str,
    lifecycle_transition: &'a str,
    auto_scaling_group_name: &'a str,
    service: &'static str,
    time: String,
    #[serde(rename = "EC2InstanceId")]
    ec2_instance_id: &'a str,
    lifecycle_action_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_metadata: Option<&'a str>,
    origin: &'a str,
    destination: &'a str,
}

/// The message sent to a hook's SNS target when an instance starts waiting. `route` is the
/// instance's (Origin, Destination), see `notifications::route`.
#[allow(clippy::too_many_arguments)] // reason: every argument is a member of the message
pub fn wait_notice(
    account: &str,
    group: &Group,
    hook: &LifecycleHook,
    instance_id: &str,
    action: &LifecycleAction,
    route: (&str, &str),
    request_id: &str,
    now: f64,
) -> Option<Notice> {
    let target = hook.notification_target_arn.as_deref()?;
    if !target.starts_with("arn:aws:sns:") {
        // SQS targets are accepted and recorded; Updraft has no SQS to deliver to.
        return None;
    }
    let message = WaitMessage {
        lifecycle_hook_name: &hook.name,
        account_id: account,
        request_id,
        lifecycle_transition: &action.transition,
        auto_scaling_group_name: &group.name,
        service: super::notifications::SERVICE,
        time: format_iso8601(now),
        ec2_instance_id: instance_id,
        lifecycle_action_token: &action.token,
        notification_metadata: hook.notification_metadata.as_deref(),
        origin: route.0,
        destination: route.1,
    };
    let what = if action.transition.ends_with("LAUNCHING") {
        "LAUNCHING"
    } else {
        "TERMINATING"
    };
    Some(Notice {
        topic_arn: target.to_owned(),
        // Two spaces after the colon, as captured.
        subject: format!(
            "Auto Scaling:  Lifecycle action '{what}' for instance {instance_id} in progress."
        ),
        message: serde_json::to_string(&message).unwrap_or_default(),
    })
}

/// Apply heartbeat and global timeouts at `now`: a wait past its deadline gets the hook's
/// DefaultResult (ABANDON if the hook is gone). Returns whether anything changed and the next
/// deadline still pending.
pub fn expire(store: &mut AutoScalingStore, now: f64) -> (bool, Option<f64>) {
    let mut changed = false;
    let mut next: Option<f64> = None;
    for group in store.groups.values_mut() {
        if group
            .instances
            .values()
            .all(|i| i.lifecycle_action.is_none())
        {
            continue; // nothing to expire: the group is not written (nor copied, see Shared)
        }
        let group = &mut **group;
        let hooks = &group.lifecycle_hooks;
        for inst in group.instances.values_mut() {
            let Some(action) = inst.lifecycle_action.as_mut() else {
                continue;
            };
            if action.result.is_some() {
                continue;
            }
            let deadline = action.heartbeat_deadline.min(action.global_deadline);
            if deadline <= now {
                let result = hooks
                    .get(&action.hook_name)
                    .map_or("ABANDON", |h| h.default_result.as_str());
                action.result = Some(result.to_owned());
                action.ended_by = Some("Heartbeat Timeout".to_owned());
                tracing::info!(group = %group.name, instance = %inst.id, hook = %action.hook_name, result, "lifecycle action timed out");
                changed = true;
            } else {
                next = Some(next.map_or(deadline, |n: f64| n.min(deadline)));
            }
        }
    }
    (changed, next)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    lifecycle_hook_name: String,
    auto_scaling_group_name: String,
    lifecycle_transition: Option<String>,
    #[serde(rename = "RoleARN")]
    role_arn: Option<String>,
    #[serde(rename = "NotificationTargetARN")]
    notification_target_arn: Option<String>,
    notification_metadata: Option<String>,
    heartbeat_timeout: Option<i64>,
    default_result: Option<String>,
}

/// PutLifecycleHook: create, or change the given fields of an existing hook. Setting a
/// notification target sends it a test notification.
pub fn put_lifecycle_hook(
    ctx: &RequestContext,
    state: &AppState,
    input: PutInput,
) -> Result<(), ApiError> {
    if let Some(t) = &input.lifecycle_transition
        && !TRANSITIONS.contains(&t.as_str())
    {
        return Err(validation(format!(
            "Invalid value for LifecycleTransition: {t}"
        )));
    }
    if let Some(h) = input.heartbeat_timeout
        && !(30..=7200).contains(&h)
    {
        return Err(validation(format!(
            "Heartbeat timeout must be between 30 and 7200 seconds, got {h}"
        )));
    }
    if let Some(r) = &input.default_result
        && r != "CONTINUE"
        && r != "ABANDON"
    {
        return Err(validation(format!("Invalid value for DefaultResult: {r}")));
    }
    let now = state.clock.now();
    let test = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        let existing = group.lifecycle_hooks.get(&input.lifecycle_hook_name).cloned();
        let mut hook = match existing {
            Some(h) => h,
            None => {
                if group.lifecycle_hooks.len() >= MAX_HOOKS {
                    return Err(AutoScalingError::LimitExceeded.with(format!("Maximum number of lifecycle hooks ({MAX_HOOKS}) reached for AutoScalingGroup {}", group.name),
                    ));
                }
                let Some(transition) = input.lifecycle_transition.clone() else {
                    return Err(validation(
                        "LifecycleTransition is required when creating a lifecycle hook",
                    ));
                };
                LifecycleHook {
                    name: input.lifecycle_hook_name.clone(),
                    transition,
                    notification_target_arn: None,
                    role_arn: None,
                    notification_metadata: None,
                    heartbeat_timeout: DEFAULT_HEARTBEAT,
                    global_timeout: global_timeout(DEFAULT_HEARTBEAT),
                    default_result: "ABANDON".to_owned(),
                }
            }
        };
        if let Some(t) = &input.lifecycle_transition {
            hook.transition = t.clone();
        }
        if let Some(h) = input.heartbeat_timeout {
            hook.heartbeat_timeout = h;
            hook.global_timeout = global_timeout(h);
        }
        if let Some(r) = &input.default_result {
            hook.default_result = r.clone();
        }
        if let Some(m) = &input.notification_metadata {
            hook.notification_metadata = Some(m.clone()).filter(|m| !m.is_empty());
        }
        if let Some(r) = &input.role_arn {
            hook.role_arn = Some(r.clone()).filter(|r| !r.is_empty());
        }
        let mut test = None;
        if let Some(t) = &input.notification_target_arn {
            // An empty string clears the target.
            hook.notification_target_arn = Some(t.clone()).filter(|t| !t.is_empty());
            test = hook.notification_target_arn.clone();
        }
        let out = test.map(|t| (t, group.name.clone(), group.arn.clone()));
        group.lifecycle_hooks.insert(hook.name.clone(), hook);
        Ok(out)
    })?;
    if let Some((topic, group_name, group_arn)) = test
        && topic.starts_with("arn:aws:sns:")
    {
        let message = super::notifications::test_message(
            &ctx.scope.account,
            &state.ids.uuid(),
            &group_name,
            &group_arn,
            now,
        );
        super::notifications::publish(
            state,
            &ctx.scope,
            vec![Notice {
                topic_arn: topic,
                subject: super::notifications::subject(
                    "autoscaling:TEST_NOTIFICATION",
                    &group_name,
                ),
                message,
            }],
        );
    }
    state.touched(Topic::AutoScaling);
    Ok(())
}

/// The `LifecycleHook` output shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HookOut {
    lifecycle_hook_name: String,
    auto_scaling_group_name: String,
    lifecycle_transition: String,
    #[serde(rename = "NotificationTargetARN")]
    notification_target_arn: Option<String>,
    #[serde(rename = "RoleARN")]
    role_arn: Option<String>,
    notification_metadata: Option<String>,
    heartbeat_timeout: i64,
    global_timeout: i64,
    default_result: String,
}

impl HookOut {
    fn new(group: &str, h: &LifecycleHook) -> Self {
        Self {
            lifecycle_hook_name: h.name.clone(),
            auto_scaling_group_name: group.to_owned(),
            lifecycle_transition: h.transition.clone(),
            notification_target_arn: h.notification_target_arn.clone(),
            role_arn: h.role_arn.clone(),
            notification_metadata: h.notification_metadata.clone(),
            heartbeat_timeout: h.heartbeat_timeout,
            global_timeout: h.global_timeout,
            default_result: h.default_result.clone(),
        }
    }
}

/// `DescribeLifecycleHooksAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HooksOut {
    lifecycle_hooks: Vec<HookOut>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    lifecycle_hook_names: Vec<String>,
}

/// DescribeLifecycleHooks.
pub fn describe_lifecycle_hooks(
    ctx: &RequestContext,
    state: &AppState,
    input: DescribeInput,
) -> Result<HooksOut, ApiError> {
    let hooks = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group(&input.auto_scaling_group_name)?;
        Ok::<_, ApiError>(
            group
                .lifecycle_hooks
                .values()
                .filter(|h| {
                    input.lifecycle_hook_names.is_empty()
                        || input.lifecycle_hook_names.contains(&h.name)
                })
                .map(|h| HookOut::new(&group.name, h))
                .collect::<Vec<_>>(),
        )
    })?;
    Ok(HooksOut {
        lifecycle_hooks: hooks,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    lifecycle_hook_name: String,
    auto_scaling_group_name: String,
}

/// DeleteLifecycleHook. Outstanding actions on it are completed first, as the API reference
/// says: ABANDON for launching instances, CONTINUE for terminating ones.
pub fn delete_lifecycle_hook(
    ctx: &RequestContext,
    state: &AppState,
    input: DeleteInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        if group
            .lifecycle_hooks
            .shift_remove(&input.lifecycle_hook_name)
            .is_none()
        {
            // Text not captured from AWS.
            return Err(validation(format!(
                "No Lifecycle Hook found with name {} for AutoScalingGroup {}",
                input.lifecycle_hook_name, group.name
            )));
        }
        for inst in group.instances.values_mut() {
            if let Some(a) = inst.lifecycle_action.as_mut()
                && a.hook_name == input.lifecycle_hook_name
                && a.result.is_none()
            {
                let result = if a.transition.ends_with("LAUNCHING") {
                    "ABANDON"
                } else {
                    "CONTINUE"
                };
                a.result = Some(result.to_owned());
                a.ended_by = Some(format!("Lifecycle Action Completed with {result} Result"));
            }
        }
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActionInput {
    lifecycle_hook_name: String,
    auto_scaling_group_name: String,
    lifecycle_action_token: Option<String>,
    instance_id: Option<String>,
    lifecycle_action_result: Option<String>,
}

/// Find the waiting action `input` names, or AWS's "No active Lifecycle Action" error.
fn waiting<'a>(
    store: &'a mut AutoScalingStore,
    input: &ActionInput,
) -> Result<(&'a mut LifecycleAction, i64, String), ApiError> {
    let not_found = || match (&input.lifecycle_action_token, &input.instance_id) {
        (Some(t), _) => validation(format!("No active Lifecycle Action found with token {t}")),
        (None, Some(i)) => validation(format!(
            "No active Lifecycle Action found with instance ID {i}"
        )),
        (None, None) => validation("Either LifecycleActionToken or InstanceId must be provided"),
    };
    let group = store
        .groups
        .get_mut(&input.auto_scaling_group_name)
        .ok_or_else(not_found)?;
    let heartbeat = group
        .lifecycle_hooks
        .get(&input.lifecycle_hook_name)
        .map_or(DEFAULT_HEARTBEAT, |h| h.heartbeat_timeout);
    group
        .instances
        .values_mut()
        .find_map(|inst| {
            let id = inst.id.clone();
            let a = inst.lifecycle_action.as_mut()?;
            let matches = a.result.is_none()
                && a.hook_name == input.lifecycle_hook_name
                && match (&input.lifecycle_action_token, &input.instance_id) {
                    (Some(t), _) => a.token == *t,
                    (None, Some(i)) => id == *i,
                    (None, None) => false,
                };
            matches.then_some((a, heartbeat, id))
        })
        .ok_or_else(not_found)
}

/// CompleteLifecycleAction: record the result; the reconciler moves the instance on.
pub fn complete_lifecycle_action(
    ctx: &RequestContext,
    state: &AppState,
    input: ActionInput,
) -> Result<(), ApiError> {
    let result = input.lifecycle_action_result.clone().unwrap_or_default();
    if result != "CONTINUE" && result != "ABANDON" {
        return Err(validation(format!(
            "Invalid value for LifecycleActionResult: {result}"
        )));
    }
    state.stores.with(&ctx.scope, |s| {
        let (action, _, id) = waiting(&mut s.autoscaling, &input)?;
        action.ended_by = Some(format!("Lifecycle Action Completed with {result} Result"));
        action.result = Some(result.clone());
        tracing::info!(instance = %id, hook = %action.hook_name, %result, "lifecycle action completed");
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

/// RecordLifecycleActionHeartbeat: restart the heartbeat timeout (never past the global one).
pub fn record_lifecycle_action_heartbeat(
    ctx: &RequestContext,
    state: &AppState,
    input: ActionInput,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let (action, heartbeat, _) = waiting(&mut s.autoscaling, &input)?;
        action.heartbeat_deadline = (now + heartbeat as f64).min(action.global_deadline);
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[cfg(test)]
#[path = "lifecycle_hooks_tests.rs"]
mod tests;
