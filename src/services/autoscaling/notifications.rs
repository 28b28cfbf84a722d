//! Put/Describe/DeleteNotificationConfiguration(s) and the SNS messages Auto Scaling sends:
//! `autoscaling:TEST_NOTIFICATION` when a configuration is put, and
//! `autoscaling:EC2_INSTANCE_LAUNCH` / `_LAUNCH_ERROR` / `_TERMINATE` / `_TERMINATE_ERROR`
//! when a launch or terminate activity ends (EC2 Auto Scaling User Guide, "Getting Amazon SNS
//! notifications when your Auto Scaling group scales"; subjects and bodies as in real
//! notifications quoted in public code).
//!
//! The message JSON keeps AWS's key order (captured notifications, 2017 onwards); `Details`
//! is an object here although the API carries it as a string. Successful launches and
//! terminations are announced as `InProgress` / 50 with an empty `StatusMessage`, because AWS
//! sends them before the activity is marked complete.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::AutoScalingError;
pub use super::notify_routes::{hook_route, route};
use super::store::{Activity, AutoScalingStore};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::iso8601::format_iso8601;
use crate::services::errors::ErrorCode;
use crate::services::errors::validation;
use crate::state::{AppState, Scope};

/// The notification types a configuration may name.
pub const TYPES: [&str; 5] = [
    "autoscaling:EC2_INSTANCE_LAUNCH",
    "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
    "autoscaling:EC2_INSTANCE_TERMINATE",
    "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
    "autoscaling:TEST_NOTIFICATION",
];

/// At most this many topics per group (EC2 Auto Scaling User Guide, "Quotas for Amazon EC2
/// Auto Scaling").
const MAX_TOPICS_PER_GROUP: usize = 10;

/// One message to publish: topic, subject, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The SNS topic ARN.
    pub topic_arn: String,
    /// The SNS Subject.
    pub subject: String,
    /// The JSON message.
    pub message: String,
}

/// Which event an ended activity announces, if any (standby, attach and detach activities
/// announce nothing).
pub fn event_of(activity: &Activity) -> Option<&'static str> {
    let failed = matches!(activity.status_code.as_str(), "Failed" | "Cancelled");
    if activity
        .description
        .starts_with("Launching a new EC2 instance")
    {
        Some(if failed {
            "autoscaling:EC2_INSTANCE_LAUNCH_ERROR"
        } else {
            "autoscaling:EC2_INSTANCE_LAUNCH"
        })
    } else if activity.description.starts_with("Terminating EC2 instance") {
        Some(if failed {
            "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"
        } else {
            "autoscaling:EC2_INSTANCE_TERMINATE"
        })
    } else {
        None
    }
}

/// AWS's SNS Subject for an event of group `group`.
pub fn subject(event: &str, group: &str) -> String {
    let what = match event {
        "autoscaling:EC2_INSTANCE_LAUNCH" => "launch",
        "autoscaling:EC2_INSTANCE_LAUNCH_ERROR" => "failed launch",
        "autoscaling:EC2_INSTANCE_TERMINATE" => "termination",
        // By analogy with "failed launch": no real notification of this kind was found.
        "autoscaling:EC2_INSTANCE_TERMINATE_ERROR" => "failed termination",
        _ => "test notification",
    };
    format!("Auto Scaling: {what} for group \"{group}\"")
}

/// The JSON message of an ended launch/terminate activity (members in AWS's order).
#[derive(Serialize)]
struct ActivityMessage<'a> {
    #[serde(rename = "Origin")]
    origin: &'static str,
    #[serde(rename = "Destination")]
    destination: &'static str,
    #[serde(rename = "Progress")]
    progress: i64,
    #[serde(rename = "AccountId")]
    account_id: &'a str,
    #[serde(rename = "Description")]
    description: &'a str,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
    #[serde(rename = "EndTime")]
    end_time: &'a str,
    #[serde(rename = "AutoScalingGroupARN")]
    auto_scaling_group_arn: &'a str,
    #[serde(rename = "ActivityId")]
    activity_id: &'a str,
    #[serde(rename = "StartTime")]
    start_time: String,
    #[serde(rename = "Service")]
    service: &'static str,
    #[serde(rename = "Time")]
    time: &'a str,
    #[serde(rename = "EC2InstanceId")]
    ec2_instance_id: &'a str,
    #[serde(rename = "StatusCode")]
    status_code: &'a str,
    #[serde(rename = "StatusMessage")]
    status_message: String,
    #[serde(rename = "Details")]
    details: Value,
    #[serde(rename = "AutoScalingGroupName")]
    auto_scaling_group_name: &'a str,
    #[serde(rename = "Cause")]
    cause: &'a str,
    #[serde(rename = "Event")]
    event: &'a str,
}

/// The `Service` member of every message.
pub(super) const SERVICE: &str = "AWS Auto Scaling";

/// The JSON message for an ended launch/terminate activity, sent at `now` from `account`.
pub fn activity_message(account: &str, activity: &Activity, event: &str, now: f64) -> String {
    let failed = event.ends_with("_ERROR");
    let (status_code, progress, status_message) = if failed {
        (
            activity.status_code.as_str(),
            100,
            activity.status_message.clone().unwrap_or_default(),
        )
    } else {
        ("InProgress", 50, String::new())
    };
    let details: Value = serde_json::from_str(&activity.details)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    let time = format_iso8601(now);
    let (origin, destination) = route(&activity.description);
    let message = ActivityMessage {
        origin,
        destination,
        progress,
        account_id: account,
        description: &activity.description,
        request_id: &activity.id,
        end_time: &time,
        auto_scaling_group_arn: &activity.group_arn,
        activity_id: &activity.id,
        start_time: format_iso8601(activity.start_time),
        service: SERVICE,
        time: &time,
        ec2_instance_id: activity.instance_id.as_deref().unwrap_or_default(),
        status_code,
        status_message,
        details,
        auto_scaling_group_name: &activity.group_name,
        cause: &activity.cause,
        event,
    };
    serde_json::to_string(&message).unwrap_or_default()
}

/// The `autoscaling:TEST_NOTIFICATION` message (members in AWS's order).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TestMessage<'a> {
    account_id: &'a str,
    request_id: &'a str,
    #[serde(rename = "AutoScalingGroupARN")]
    auto_scaling_group_arn: &'a str,
    auto_scaling_group_name: &'a str,
    service: &'static str,
    event: &'static str,
    time: String,
}

/// The `autoscaling:TEST_NOTIFICATION` message.
pub fn test_message(
    account: &str,
    request_id: &str,
    group_name: &str,
    group_arn: &str,
    now: f64,
) -> String {
    let message = TestMessage {
        account_id: account,
        request_id,
        auto_scaling_group_arn: group_arn,
        auto_scaling_group_name: group_name,
        service: SERVICE,
        event: "autoscaling:TEST_NOTIFICATION",
        time: format_iso8601(now),
    };
    serde_json::to_string(&message).unwrap_or_default()
}

/// The messages an ended activity sends to its group's configured topics. Pure and cheap:
/// callers holding the store lock collect these, drop the lock, then [`publish`] them.
pub fn notices_for(
    store: &AutoScalingStore,
    account: &str,
    activity: &Activity,
    now: f64,
) -> Vec<Notice> {
    let Some(event) = event_of(activity) else {
        return Vec::new();
    };
    let Some(group) = store.groups.get(&activity.group_name) else {
        return Vec::new();
    };
    let topics: Vec<&String> = group
        .notification_configurations
        .iter()
        .filter(|(_, t)| t == event)
        .map(|(topic, _)| topic)
        .collect();
    if topics.is_empty() {
        return Vec::new();
    }
    let message = activity_message(account, activity, event, now);
    let subject = subject(event, &group.name);
    topics
        .into_iter()
        .map(|topic| Notice {
            topic_arn: topic.clone(),
            subject: subject.clone(),
            message: message.clone(),
        })
        .collect()
}

/// Publish notices through SNS. Must be called without the store lock held. A topic that no
/// longer exists loses its message, as on AWS; that is logged, not an error.
pub fn publish(state: &AppState, scope: &Scope, notices: Vec<Notice>) {
    // The group's account publishes; a topic in another account must allow it by policy.
    let source_arn = format!(
        "arn:aws:autoscaling:{}:{}:autoScalingGroup:*",
        scope.region, scope.account
    );
    let from = crate::services::sns::access::Publisher {
        account: &scope.account,
        source_arn: &source_arn,
        service: "autoscaling.amazonaws.com",
    };
    for n in notices {
        if let Err(err) = crate::services::sns::publish::publish_internal(
            state,
            scope,
            &from,
            &n.topic_arn,
            Some(&n.subject),
            &n.message,
        ) {
            tracing::warn!(topic = %n.topic_arn, error = %err.message, "auto scaling notification not delivered");
        }
    }
}

/// The hook for the reconciler: an activity (by id) has ended or reached the point where AWS
/// notifies; publish its launch/terminate message to the group's topics. Takes the store
/// lock itself, so call it after releasing it.
pub fn on_activity_end(state: &AppState, scope: &Scope, activity_id: &str) {
    let now = state.clock.now();
    let notices = state.stores.with(scope, |s| {
        let store = &s.autoscaling;
        store
            .activities
            .iter()
            .rev()
            .find(|a| a.id == activity_id)
            .map(|a| notices_for(store, &scope.account, a, now))
            .unwrap_or_default()
    });
    publish(state, scope, notices);
}

#[derive(Deserialize)]
pub struct PutInput {
    #[serde(rename = "AutoScalingGroupName")]
    group: String,
    #[serde(rename = "TopicARN")]
    topic_arn: String,
    #[serde(rename = "NotificationTypes", default)]
    types: Vec<String>,
}

/// PutNotificationConfiguration: replaces the types configured for (group, topic) and sends
/// the test notification to the topic.
pub fn put_notification_configuration(
    ctx: &RequestContext,
    state: &AppState,
    input: PutInput,
) -> Result<(), ApiError> {
    if let Some(bad) = input.types.iter().find(|t| !TYPES.contains(&t.as_str())) {
        // Text not captured from AWS.
        return Err(validation(format!("Invalid notification type: {bad}")));
    }
    if crate::services::sns::topic_arn_parts(&input.topic_arn).is_none() {
        return Err(validation(format!("Invalid TopicARN: {}", input.topic_arn)));
    }
    let now = state.clock.now();
    let (group_name, group_arn) = state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.group)?;
        let topics: std::collections::BTreeSet<&String> = group
            .notification_configurations
            .iter()
            .map(|(t, _)| t)
            .collect();
        if !topics.contains(&input.topic_arn) && topics.len() >= MAX_TOPICS_PER_GROUP {
            return Err(AutoScalingError::LimitExceeded.with(format!(
                    "Maximum number of SNS topics ({MAX_TOPICS_PER_GROUP}) reached for AutoScalingGroup {}",
                    group.name
                ),
            ));
        }
        group
            .notification_configurations
            .retain(|(t, _)| *t != input.topic_arn);
        let mut types = input.types.clone();
        types.sort();
        types.dedup();
        for t in types {
            group
                .notification_configurations
                .push((input.topic_arn.clone(), t));
        }
        Ok((group.name.clone(), group.arn.clone()))
    })?;
    let message = test_message(
        &ctx.scope.account,
        &state.ids.uuid(),
        &group_name,
        &group_arn,
        now,
    );
    publish(
        state,
        &ctx.scope,
        vec![Notice {
            topic_arn: input.topic_arn,
            subject: subject("autoscaling:TEST_NOTIFICATION", &group_name),
            message,
        }],
    );
    Ok(())
}

#[derive(Deserialize)]
pub struct DeleteInput {
    #[serde(rename = "AutoScalingGroupName")]
    group: String,
    #[serde(rename = "TopicARN")]
    topic_arn: String,
}

/// DeleteNotificationConfiguration.
pub fn delete_notification_configuration(
    ctx: &RequestContext,
    state: &AppState,
    input: DeleteInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.group)?;
        group
            .notification_configurations
            .retain(|(t, _)| *t != input.topic_arn);
        Ok::<_, ApiError>(())
    })?;
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    auto_scaling_group_names: Vec<String>,
    next_token: Option<String>,
    max_records: Option<i64>,
}

/// DescribeNotificationConfigurations: one entry per (group, topic, type), groups in the
/// order given (or creation order), paginated.
pub fn describe_notification_configurations(
    ctx: &RequestContext,
    state: &AppState,
    input: DescribeInput,
) -> Result<NotificationConfigurationsOut, ApiError> {
    let rows: Vec<NotificationConfigurationOut> = state.stores.with(&ctx.scope, |s| {
        let groups: Vec<&super::store::Group> = if input.auto_scaling_group_names.is_empty() {
            s.autoscaling.groups.values().map(|g| &**g).collect()
        } else {
            input
                .auto_scaling_group_names
                .iter()
                .filter_map(|n| s.autoscaling.groups.get(n).map(|g| &**g))
                .collect()
        };
        groups
            .into_iter()
            .flat_map(|g| {
                g.notification_configurations.iter().map(|(topic, t)| {
                    NotificationConfigurationOut {
                        auto_scaling_group_name: g.name.clone(),
                        topic_arn: topic.clone(),
                        notification_type: t.clone(),
                    }
                })
            })
            .collect()
    });
    let (notification_configurations, next_token) =
        super::limits::paginate(rows, input.next_token.as_deref(), input.max_records, 50)?;
    Ok(NotificationConfigurationsOut {
        notification_configurations,
        next_token,
    })
}

/// `NotificationConfiguration`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfigurationOut {
    auto_scaling_group_name: String,
    #[serde(rename = "TopicARN")]
    topic_arn: String,
    notification_type: String,
}

/// `DescribeNotificationConfigurationsAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfigurationsOut {
    notification_configurations: Vec<NotificationConfigurationOut>,
    next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(description: &str, status: &str) -> Activity {
        Activity {
            id: "f7a5d9dd-8760-bea7-4791-40188ec73279".into(),
            group_name: "Test".into(),
            group_arn: "arn:aws:autoscaling:us-east-2:123456789012:autoScalingGroup:ab007579-3d71-4cdb-ba01-7459f8ddf514:autoScalingGroupName/Test".into(),
            description: description.into(),
            cause: "At 2020-12-18T19:44:21Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 1.".into(),
            start_time: 1_608_320_669.743,
            end_time: None,
            status_code: status.into(),
            status_message: (status == "Failed").then(|| "The image id '[ami-1]' does not exist. Launching EC2 instance failed.".into()),
            progress: 100,
            details: r#"{"Subnet ID":"subnet-0ea442a34acb3f730","Availability Zone":"us-east-2b"}"#.into(),
            instance_id: Some("i-03cfd6816e40bf9a9".into()),
            announced: false,
        }
    }

    #[test]
    fn launch_message_has_awss_fields_in_awss_order() {
        let a = activity(
            "Launching a new EC2 instance: i-03cfd6816e40bf9a9",
            "Successful",
        );
        let event = event_of(&a).unwrap();
        assert_eq!(event, "autoscaling:EC2_INSTANCE_LAUNCH");
        let text = activity_message("123456789012", &a, event, 1_608_320_700.886);
        assert!(text.starts_with(
            r#"{"Origin":"EC2","Destination":"AutoScalingGroup","Progress":50,"AccountId":"123456789012","Description":"Launching a new EC2 instance: i-03cfd6816e40bf9a9","RequestId":"f7a5d9dd-8760-bea7-4791-40188ec73279","EndTime":"2020-12-18T19:45:00.886Z","AutoScalingGroupARN":"#
        ));
        assert!(text.ends_with(r#""Event":"autoscaling:EC2_INSTANCE_LAUNCH"}"#));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["StartTime"], "2020-12-18T19:44:29.743Z");
        assert_eq!(v["Time"], v["EndTime"]);
        assert_eq!(v["ActivityId"], v["RequestId"]);
        assert_eq!(v["StatusCode"], "InProgress");
        assert_eq!(v["StatusMessage"], "");
        assert_eq!(v["Details"]["Availability Zone"], "us-east-2b");
        assert_eq!(v["Service"], "AWS Auto Scaling");
        assert_eq!(
            subject(event, "Test"),
            "Auto Scaling: launch for group \"Test\""
        );
    }

    #[test]
    fn failures_and_terminations_pick_their_events() {
        let failed = activity("Launching a new EC2 instance.  Status Reason: x", "Failed");
        let event = event_of(&failed).unwrap();
        assert_eq!(event, "autoscaling:EC2_INSTANCE_LAUNCH_ERROR");
        let v: Value = serde_json::from_str(&activity_message("1", &failed, event, 1.0e9)).unwrap();
        assert_eq!(v["StatusCode"], "Failed");
        assert_eq!(v["Progress"], 100);
        assert!(v["StatusMessage"].as_str().unwrap().ends_with("failed."));
        assert_eq!(
            subject(event, "g"),
            "Auto Scaling: failed launch for group \"g\""
        );
        let term = activity("Terminating EC2 instance: i-1", "Successful");
        assert_eq!(event_of(&term), Some("autoscaling:EC2_INSTANCE_TERMINATE"));
        let v: Value = serde_json::from_str(&activity_message("1", &term, "x", 1.0e9)).unwrap();
        assert_eq!(
            (&v["Origin"], &v["Destination"]),
            (&"AutoScalingGroup".into(), &"EC2".into())
        );
        assert_eq!(
            subject("autoscaling:EC2_INSTANCE_TERMINATE", "g"),
            "Auto Scaling: termination for group \"g\""
        );
        assert_eq!(
            event_of(&activity(
                "Moving EC2 instance to Standby: i-1",
                "Successful"
            )),
            None
        );
    }

    #[test]
    fn test_notification_message() {
        let text = test_message("609519224176", "r-1", "g", "arn:g", 1_526_337_585.555);
        assert_eq!(
            text,
            r#"{"AccountId":"609519224176","RequestId":"r-1","AutoScalingGroupARN":"arn:g","AutoScalingGroupName":"g","Service":"AWS Auto Scaling","Event":"autoscaling:TEST_NOTIFICATION","Time":"2018-05-14T22:39:45.555Z"}"#
        );
        assert_eq!(
            subject("autoscaling:TEST_NOTIFICATION", "g"),
            "Auto Scaling: test notification for group \"g\""
        );
    }
}
