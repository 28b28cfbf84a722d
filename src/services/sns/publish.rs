//! Publish and PublishBatch: check a message, then queue one delivery per confirmed
//! subscription whose filter policy admits it. Delivery itself happens later, in the
//! `sns_delivery` controller.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::delivery::{Delivery, Kind, MessageAttributeValue};
use super::errors::{SnsError, not_implemented};
use super::{SnsStore, filter, invalid, parse_topic_arn, topic_not_found};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

pub use super::internal::{publish_internal, publish_internal_structured};

/// A message and its attributes may not exceed 256 KiB.
const MAX_MESSAGE_BYTES: usize = 262_144;
const MAX_ATTRIBUTES: usize = 10;
const MAX_BATCH: usize = 10;
/// FIFO topics drop a message whose deduplication id was seen this recently.
const DEDUP_WINDOW_SECONDS: f64 = 300.0;

/// A FIFO message seen within the deduplication window.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Dedup {
    expires: f64,
    message_id: String,
    sequence_number: String,
}

/// One message to publish (a Publish call or one PublishBatch entry).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct Message {
    pub(super) message: String,
    pub(super) subject: Option<String>,
    pub(super) message_structure: Option<String>,
    pub(super) message_attributes: BTreeMap<String, MessageAttributeValue>,
    pub(super) message_deduplication_id: Option<String>,
    pub(super) message_group_id: Option<String>,
}

/// A message that passed the checks that need no state.
#[derive(Debug)]
pub(super) struct Checked {
    /// Per-protocol bodies of `MessageStructure=json`; `None` for a plain message.
    structure: Option<BTreeMap<String, String>>,
    message: Message,
}

impl Checked {
    /// The body a subscription of `protocol` receives.
    fn body_for(&self, protocol: &str) -> &str {
        match &self.structure {
            Some(bodies) => bodies
                .get(protocol)
                .or_else(|| bodies.get("default"))
                .map_or("", String::as_str),
            None => &self.message.message,
        }
    }
}

fn attribute_error(message: String) -> ApiError {
    SnsError::ParameterValueInvalid.with(message)
}

fn check_attributes(attrs: &BTreeMap<String, MessageAttributeValue>) -> Result<usize, ApiError> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, v) in attrs {
        check_attribute_name(name)?;
        let kind = v.data_type.split('.').next().unwrap_or_default();
        if !matches!(kind, "String" | "Number" | "Binary") {
            return Err(attribute_error(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        let value = if kind == "Binary" {
            v.binary_value.as_deref()
        } else {
            v.string_value.as_deref()
        };
        let Some(value) = value else {
            let field = if kind == "Binary" { "Binary" } else { "String" };
            return Err(attribute_error(format!(
                "The message attribute '{name}' with type '{}' must use field '{field}'.",
                v.data_type
            )));
        };
        let Some(value) = Some(value).filter(|s| !s.is_empty()) else {
            return Err(attribute_error(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{}'.",
                v.data_type
            )));
        };
        if kind == "Number" && value.parse::<f64>().is_err() {
            return Err(attribute_error(format!(
                "Could not cast message attribute '{name}' value to number."
            )));
        }
        if v.data_type.starts_with("String.Array")
            && !matches!(serde_json::from_str::<Value>(value), Ok(Value::Array(_)))
        {
            return Err(attribute_error(format!(
                "The message attribute '{name}' with type 'String.Array' must be a JSON array."
            )));
        }
        size += name.len() + v.data_type.len() + value.len();
    }
    Ok(size)
}

/// Attribute names: letters, digits, `-`, `_` and `.`, not starting or ending with a dot, no
/// two dots in a row, under 256 bytes.
fn check_attribute_name(name: &str) -> Result<(), ApiError> {
    if name.len() >= 256 {
        return Err(attribute_error(
            "Length of message attribute name must be less than 256 bytes.".into(),
        ));
    }
    if name.starts_with('.') {
        return Err(attribute_error(
            "Invalid message attribute name starting with character '.' was found.".into(),
        ));
    }
    if name.ends_with('.') {
        return Err(attribute_error(
            "Invalid message attribute name ending with character '.' was found.".into(),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(attribute_error(format!(
            "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
            u32::from(c)
        )));
    }
    if name.contains("..") {
        return Err(attribute_error(
            "Message attribute name can not have successive '.' character.".into(),
        ));
    }
    Ok(())
}

/// The checks that need no state: message, subject, structure, attributes, size.
pub(super) fn check(message: Message) -> Result<Checked, ApiError> {
    if message.message.is_empty() {
        return Err(invalid("Empty message"));
    }
    if let Some(subject) = &message.subject {
        // ASCII text beginning with a letter, digit or punctuation, no line breaks or control
        // characters, under 100 characters.
        let ok = !subject.is_empty()
            && subject.len() < 100
            && subject.bytes().all(|b| (0x20..0x7f).contains(&b))
            && !subject.starts_with(' ');
        if !ok {
            return Err(invalid("Subject"));
        }
    }
    let attributes_size = check_attributes(&message.message_attributes)?;
    if message.message.len() + attributes_size > MAX_MESSAGE_BYTES {
        return Err(invalid("Message too long"));
    }
    let structure = match message.message_structure.as_deref() {
        None => None,
        Some("json") => {
            let parsed: BTreeMap<String, Value> = serde_json::from_str(&message.message)
                .map_err(|_| invalid("Message Structure - JSON message body failed to parse"))?;
            if !parsed.contains_key("default") {
                return Err(invalid(
                    "Message Structure - No default entry in JSON message body",
                ));
            }
            Some(
                parsed
                    .into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    })
                    .collect(),
            )
        }
        Some(_) => return Err(invalid("MessageStructure")),
    };
    Ok(Checked { structure, message })
}

/// The checks that need the topic, then the fan-out into the outbox. Returns the message id
/// and, on FIFO topics, the sequence number.
pub(super) fn enqueue(
    state: &AppState,
    store: &mut SnsStore,
    topic_arn: &str,
    checked: &Checked,
) -> Result<(String, Option<String>), ApiError> {
    let topic = store.topics.get(topic_arn).ok_or_else(topic_not_found)?;
    let m = &checked.message;
    let mut fifo_key = None;
    let sequence_number = if topic.is_fifo() {
        if m.message_group_id.is_none() {
            return Err(invalid(
                "The MessageGroupId parameter is required for FIFO topics",
            ));
        }
        let content_dedup = topic
            .attributes
            .get("ContentBasedDeduplication")
            .is_some_and(|v| v == "true");
        if m.message_deduplication_id.is_none() && !content_dedup {
            return Err(invalid(
                "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            ));
        }
        // Deduplication: a repeated id within five minutes is accepted and not delivered again.
        let dedup_id = m
            .message_deduplication_id
            .clone()
            .unwrap_or_else(|| hex::encode(Sha256::digest(checked.message.message.as_bytes())));
        let now = state.clock.now();
        store.dedup.retain(|_, seen| seen.expires > now);
        let key = (topic_arn.to_owned(), dedup_id);
        if let Some(seen) = store.dedup.get(&key) {
            tracing::info!(
                topic_arn,
                message_id = seen.message_id,
                "duplicate FIFO message"
            );
            return Ok((seen.message_id.clone(), Some(seen.sequence_number.clone())));
        }
        store.sequence += 1;
        let sequence_number = format!("{:020}", store.sequence);
        fifo_key = Some((key, now + DEDUP_WINDOW_SECONDS, sequence_number.clone()));
        Some(sequence_number)
    } else {
        if m.message_deduplication_id.is_some() {
            return Err(invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            ));
        }
        None
    };
    let message_id = state.ids.uuid();
    let mut queued = Vec::new();
    for sub in store.subscriptions.values() {
        if sub.topic_arn != topic_arn || !sub.confirmed {
            continue;
        }
        let body = checked.body_for(&sub.protocol);
        if let Some(policy) = sub.attributes.get("FilterPolicy") {
            let body_scope = sub
                .attributes
                .get("FilterPolicyScope")
                .is_some_and(|s| s == "MessageBody");
            let admitted = if body_scope {
                filter::matches_body(policy, body)
            } else {
                filter::matches_attributes(policy, &m.message_attributes)
            };
            if !admitted {
                tracing::debug!(subscription_arn = sub.arn, message_id, "filtered out");
                continue;
            }
        }
        let mut d = Delivery::new(state, Kind::Notification, sub, Some(topic));
        d.message_id.clone_from(&message_id);
        d.subject.clone_from(&m.subject);
        d.message = body.to_owned();
        d.message_attributes.clone_from(&m.message_attributes);
        d.sequence_number.clone_from(&sequence_number);
        queued.push(d);
    }
    tracing::info!(
        topic_arn,
        message_id,
        deliveries = queued.len(),
        "sns message published"
    );
    store.outbox.extend(queued);
    if let Some((key, expires, sequence_number)) = fifo_key {
        store.dedup.insert(
            key,
            Dedup {
                expires,
                message_id: message_id.clone(),
                sequence_number,
            },
        );
    }
    Ok((message_id, sequence_number))
}

/// The topic a Publish call names (`TopicArn`, or a topic ARN in `TargetArn`).
fn publish_target(ctx: &RequestContext, req: &PublishInput) -> Result<String, ApiError> {
    if req.phone_number.is_some() && req.topic_arn.is_none() && req.target_arn.is_none() {
        return Err(not_implemented(
            "Publishing SMS to a PhoneNumber is not implemented by Updraft yet.",
        ));
    }
    let (arn, param) = match (&req.topic_arn, &req.target_arn) {
        (Some(t), None) => (t, "TopicArn"),
        (None, Some(t)) => (t, "TargetArn"),
        (Some(_), Some(_)) => {
            return Err(invalid(
                "TopicArn or TargetArn Reason: Only one of TopicArn or TargetArn may be specified",
            ));
        }
        (None, None) => {
            return Err(invalid(
                "TopicArn or TargetArn Reason: no value for required parameter",
            ));
        }
    };
    parse_topic_arn(&ctx.scope, arn, param, "Publish")?;
    Ok(arn.clone())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishInput {
    topic_arn: Option<String>,
    target_arn: Option<String>,
    phone_number: Option<String>,
    #[serde(flatten)]
    message: Message,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishOutput {
    message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
}

/// Publish.
pub fn publish(
    ctx: &RequestContext,
    state: &AppState,
    req: PublishInput,
) -> Result<PublishOutput, ApiError> {
    let topic_arn = publish_target(ctx, &req)?;
    let checked = check(req.message)?;
    let (message_id, sequence_number) = state.stores.with(&ctx.scope, |s| {
        enqueue(state, &mut s.sns, &topic_arn, &checked)
    })?;
    state.touched(Topic::Sns);
    Ok(PublishOutput {
        message_id,
        sequence_number,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishBatchInput {
    topic_arn: String,
    #[serde(default)]
    publish_batch_request_entries: Vec<BatchEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchEntry {
    id: String,
    #[serde(flatten)]
    message: Message,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchResultEntry {
    id: String,
    message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchErrorEntry {
    id: String,
    code: String,
    message: String,
    sender_fault: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishBatchOutput {
    successful: Vec<BatchResultEntry>,
    failed: Vec<BatchErrorEntry>,
}

fn check_batch(entries: &[BatchEntry]) -> Result<(), ApiError> {
    if entries.is_empty() {
        return Err(
            SnsError::EmptyBatchRequest.with("The batch request doesn't contain any entries.")
        );
    }
    if entries.len() > MAX_BATCH {
        return Err(SnsError::TooManyEntriesInBatchRequest
            .with("The batch request contains more entries than permissible."));
    }
    let mut seen = HashSet::new();
    for e in entries {
        let valid = !e.id.is_empty()
            && e.id.len() <= 80
            && e.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SnsError::InvalidBatchEntryId.with(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(e.id.as_str()) {
            return Err(SnsError::BatchEntryIdsNotDistinct
                .with("Two or more batch entries in the request have the same Id."));
        }
    }
    let total: usize = entries.iter().map(|e| e.message.message.len()).sum();
    if total > MAX_MESSAGE_BYTES {
        return Err(SnsError::BatchRequestTooLong
            .with("The length of all the messages put together is more than the limit."));
    }
    Ok(())
}

/// PublishBatch: up to 10 messages; request-level problems fail the call, an entry's own
/// problem fails only that entry.
pub fn publish_batch(
    ctx: &RequestContext,
    state: &AppState,
    req: PublishBatchInput,
) -> Result<PublishBatchOutput, ApiError> {
    parse_topic_arn(&ctx.scope, &req.topic_arn, "TopicArn", "Publish")?;
    check_batch(&req.publish_batch_request_entries)?;
    let checked: Vec<(String, Result<Checked, ApiError>)> = req
        .publish_batch_request_entries
        .into_iter()
        .map(|e| (e.id, check(e.message)))
        .collect();
    let out = state.stores.with(&ctx.scope, |s| {
        if !s.sns.topics.contains_key(&req.topic_arn) {
            return Err(topic_not_found());
        }
        let mut out = PublishBatchOutput {
            successful: Vec::new(),
            failed: Vec::new(),
        };
        for (id, entry) in checked {
            match entry.and_then(|c| enqueue(state, &mut s.sns, &req.topic_arn, &c)) {
                Ok((message_id, sequence_number)) => out.successful.push(BatchResultEntry {
                    id,
                    message_id,
                    sequence_number,
                }),
                Err(err) => out.failed.push(BatchErrorEntry {
                    id,
                    code: err.code.into_owned(),
                    message: err.message,
                    sender_fault: err.sender_fault,
                }),
            }
        }
        Ok(out)
    })?;
    state.touched(Topic::Sns);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Message {
        Message {
            message: text.to_owned(),
            ..Message::default()
        }
    }

    #[test]
    fn messages_are_checked_before_anything_changes() {
        assert!(check(msg("hi")).is_ok());
        assert_eq!(
            check(msg("")).unwrap_err().message,
            "Invalid parameter: Empty message"
        );
        let subject = |s: &str| {
            check(Message {
                subject: Some(s.into()),
                ..msg("m")
            })
        };
        assert!(subject("ALARM: \"cpu\" in US East (N. Virginia)").is_ok());
        assert!(subject(&"x".repeat(100)).is_err());
        assert!(subject("two\nlines").is_err());
        assert!(check(msg(&"x".repeat(MAX_MESSAGE_BYTES + 1))).is_err());
        let structured = |body: &str| {
            check(Message {
                message_structure: Some("json".into()),
                ..msg(body)
            })
        };
        let c = structured(r#"{"default":"d","email":"e"}"#).unwrap();
        assert_eq!(c.body_for("email"), "e");
        assert_eq!(c.body_for("http"), "d");
        assert!(structured(r#"{"email":"e"}"#).is_err());
        assert!(structured("nope").is_err());
    }

    #[test]
    fn attributes_need_a_known_type_and_a_value() {
        let one = |t: &str, v: &str| {
            let mut m = BTreeMap::new();
            m.insert(
                "a".to_owned(),
                MessageAttributeValue {
                    data_type: t.into(),
                    string_value: Some(v.into()),
                    binary_value: None,
                },
            );
            check_attributes(&m)
        };
        assert!(one("String", "x").is_ok());
        assert!(one("Number", "1.5").is_ok());
        assert!(one("Number", "x").is_err());
        assert!(one("String.Array", r#"["a"]"#).is_ok());
        assert!(one("String.Array", "a").is_err());
        assert!(one("Integer", "1").is_err());
        assert!(one("String", "").is_err());
        for bad in [".a", "a.", "a..b", "a b", "ü"] {
            assert!(check_attribute_name(bad).is_err(), "{bad}");
        }
        assert!(check_attribute_name("AWS.SNS-ok_1").is_ok());
    }
}
