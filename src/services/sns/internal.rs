//! Publishing on behalf of other services — CloudWatch alarm actions, Auto Scaling
//! notifications — with Publish's checks and fan-out ([`publish_internal`]), and with a body per
//! protocol as Publish with `MessageStructure=json` ([`publish_internal_structured`]).
//!
//! The publisher may be in another account than the topic: the topic's access policy then
//! decides (see [`super::access`]); refused, the caller gets SNS's `AuthorizationError` and
//! records it (CloudWatch writes it into the alarm history as a failed action).

use serde_json::Value;

use super::access::{Publisher, may_publish};
use super::errors::SnsError;
use super::publish::{Message, check, enqueue};
use super::topic_not_found;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Scope, Topic};

/// Publish `message` to `topic_arn` in `scope` on behalf of another service — CloudWatch alarm
/// actions, Auto Scaling notifications — with the checks and fan-out of Publish. Returns the
/// message id. Errors are Publish's: `NotFound` when the topic does not exist (the caller
/// records the failed action, as AWS does), `InvalidParameter` for an empty message or a subject
/// that is not under 100 printable ASCII characters. Never blocks: deliveries are queued for the
/// delivery controller.
pub fn publish_internal(
    state: &AppState,
    scope: &Scope,
    from: &Publisher<'_>,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
) -> Result<String, ApiError> {
    publish_checked(
        state,
        scope,
        from,
        topic_arn,
        Message {
            message: message.to_owned(),
            subject: subject.map(str::to_owned),
            ..Message::default()
        },
    )
}

/// Like [`publish_internal`], but with a body per protocol, as Publish with
/// `MessageStructure=json`: subscribers whose protocol is among `variants` (`email`, `sms`,
/// `sqs`, ... — `(protocol, body)` pairs) get that body, all others get `default`. CloudWatch
/// alarm notifications use it to send `email` subscribers a plain-text e-mail and everyone
/// else the alarm JSON. Returns the message id; errors are [`publish_internal`]'s.
pub fn publish_internal_structured(
    state: &AppState,
    scope: &Scope,
    from: &Publisher<'_>,
    topic_arn: &str,
    subject: Option<&str>,
    default: &str,
    variants: &[(&str, &str)],
) -> Result<String, ApiError> {
    let mut bodies = serde_json::Map::new();
    bodies.insert("default".into(), Value::String(default.to_owned()));
    for (protocol, body) in variants {
        bodies.insert((*protocol).to_owned(), Value::String((*body).to_owned()));
    }
    publish_checked(
        state,
        scope,
        from,
        topic_arn,
        Message {
            message: Value::Object(bodies).to_string(),
            subject: subject.map(str::to_owned),
            message_structure: Some("json".into()),
            ..Message::default()
        },
    )
}

/// The shared tail of the internal publishers: the topic must be in the publisher's region
/// (`scope`), and in its account unless the topic's policy lets `from` publish; then
/// Publish's checks and fan-out in the topic's scope.
fn publish_checked(
    state: &AppState,
    scope: &Scope,
    from: &Publisher<'_>,
    topic_arn: &str,
    message: Message,
) -> Result<String, ApiError> {
    let topic_scope = match super::topic_arn_parts(topic_arn) {
        Some((arn_scope, _)) if arn_scope.region == scope.region => arn_scope,
        _ => return Err(topic_not_found()),
    };
    if topic_scope.account != scope.account {
        let policy = state.stores.with(&topic_scope, |s| {
            s.sns
                .topics
                .get(topic_arn)
                .map(|t| t.attributes.get("Policy").cloned())
        });
        // A topic that does not exist is NotFound, whoever asks.
        let Some(policy) = policy else {
            return Err(topic_not_found());
        };
        if !may_publish(policy.as_deref(), topic_arn, &topic_scope.account, from) {
            // The error text is AWS's as the alarm history shows it for an alarm action the
            // topic policy refuses (AWS knowledge center, "cloudwatch-receive-sns-for-alarm-
            // trigger"); the code and status are those a direct Publish gets.
            return Err(SnsError::AuthorizationError.with(format!(
                "Resource: {} is not authorized to perform: SNS:Publish on resource: {topic_arn}",
                from.source_arn
            )));
        }
    }
    let checked = check(message)?;
    let (message_id, _) = state.stores.with(&topic_scope, |s| {
        enqueue(state, &mut s.sns, topic_arn, &checked)
    })?;
    state.touched(Topic::Sns);
    Ok(message_id)
}
