//! Publishing on behalf of other services — CloudWatch alarm actions, Auto Scaling
//! notifications — with Publish's checks and fan-out ([`publish_internal`]), and with a body per
//! protocol as Publish with `MessageStructure=json` ([`publish_internal_structured`]).

use serde_json::Value;

use super::publish::{Message, check, enqueue};
use super::topic_not_found;
use crate::error::ApiError;
use crate::state::{AppState, Scope};

/// Publish `message` to `topic_arn` in `scope` on behalf of another service — CloudWatch alarm
/// actions, Auto Scaling notifications — with the checks and fan-out of Publish. Returns the
/// message id. Errors are Publish's: `NotFound` when the topic does not exist (the caller
/// records the failed action, as AWS does), `InvalidParameter` for an empty message or a subject
/// that is not under 100 printable ASCII characters. Never blocks: deliveries are queued for the
/// delivery controller.
pub fn publish_internal(
    state: &AppState,
    scope: &Scope,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
) -> Result<String, ApiError> {
    publish_checked(
        state,
        scope,
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
        topic_arn,
        Message {
            message: Value::Object(bodies).to_string(),
            subject: subject.map(str::to_owned),
            message_structure: Some("json".into()),
            ..Message::default()
        },
    )
}

/// The shared tail of the internal publishers: the topic must be in `scope`, then Publish's
/// checks and fan-out.
fn publish_checked(
    state: &AppState,
    scope: &Scope,
    topic_arn: &str,
    message: Message,
) -> Result<String, ApiError> {
    match super::topic_arn_parts(topic_arn) {
        Some((arn_scope, _)) if arn_scope == *scope => {}
        _ => return Err(topic_not_found()),
    }
    let checked = check(message)?;
    let (message_id, _) = state
        .stores
        .with(scope, |s| enqueue(state, &mut s.sns, topic_arn, &checked))?;
    state.changed.notify_waiters();
    Ok(message_id)
}
