//! Deliveries: what one message to one subscription is, and the JSON envelope AWS sends.
//!
//! API calls only queue a [`Delivery`] in the scope's outbox; the `sns_delivery` controller
//! takes it from there, off the request path. E-mail lands in the inbox ([`super::inbox`]);
//! HTTP gets a real POST ((`controllers::sns_http`)) to the endpoint the subscription names, and nothing
//! else is contacted. HTTPS needs TLS, which Updraft does not link: such deliveries are logged
//! and dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::policy::{RetryPolicy, effective_policy};
use super::subscriptions::Subscription;
use super::topics::Topic;
use super::{base_url, signing};
use crate::iso8601::format_iso8601;
use crate::state::AppState;

/// A message attribute as Publish takes it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageAttributeValue {
    /// `String`, `Number`, `Binary` or `String.Array`, with an optional `.custom` suffix.
    pub data_type: String,
    /// The value of string and number types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// The base64 value of binary types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

/// The `Type` of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// Asks the endpoint to confirm a subscription.
    SubscriptionConfirmation,
    /// A published message.
    Notification,
    /// Tells an HTTP endpoint it was unsubscribed.
    UnsubscribeConfirmation,
}

impl Kind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SubscriptionConfirmation => "SubscriptionConfirmation",
            Kind::Notification => "Notification",
            Kind::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }
}

/// One message on its way to one subscription.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    /// `SubscriptionConfirmation`, `Notification` or `UnsubscribeConfirmation`.
    pub kind: Kind,
    /// The message id (shared by every subscription's copy of one publish).
    pub message_id: String,
    /// The topic it came through.
    pub topic_arn: String,
    /// The subscription it goes to.
    pub subscription_arn: String,
    /// The subscription's protocol (`email`, `http`, ...).
    pub protocol: String,
    /// The subscription's endpoint (address, URL or ARN).
    pub endpoint: String,
    /// Publish's `Subject`, if any.
    pub subject: Option<String>,
    /// The text this subscription receives (its protocol's entry of `MessageStructure=json`).
    pub message: String,
    /// Confirmation token (confirmation messages).
    pub token: Option<String>,
    /// Publish's `MessageAttributes`.
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    /// Epoch seconds from the clock, when the message was accepted.
    pub timestamp: f64,
    /// `RawMessageDelivery`: HTTP gets the bare message instead of the envelope.
    pub raw: bool,
    /// The topic's `SignatureVersion` (`1` or `2`).
    pub signature_version: String,
    /// The effective HTTP retry policy of the subscription.
    pub retry: RetryPolicy,
    /// FIFO topics number their messages.
    pub sequence_number: Option<String>,
}

impl Delivery {
    /// A delivery of `kind` to `sub`, with the topic's signature version and retry policy.
    pub(crate) fn new(
        state: &AppState,
        kind: Kind,
        sub: &Subscription,
        topic: Option<&Topic>,
    ) -> Self {
        let topic_policy = topic.and_then(|t| t.attributes.get("DeliveryPolicy"));
        let policy = effective_policy(
            topic_policy.map(String::as_str),
            sub.attributes.get("DeliveryPolicy").map(String::as_str),
        );
        Self {
            kind,
            message_id: state.ids.uuid(),
            topic_arn: sub.topic_arn.clone(),
            subscription_arn: sub.arn.clone(),
            protocol: sub.protocol.clone(),
            endpoint: sub.endpoint.clone(),
            subject: None,
            message: String::new(),
            token: None,
            message_attributes: BTreeMap::new(),
            timestamp: state.clock.now(),
            raw: kind == Kind::Notification && sub.raw(),
            signature_version: topic.map_or("1", Topic::signature_version).to_owned(),
            retry: RetryPolicy::from_effective(&policy),
            sequence_number: None,
        }
    }
}

/// The JSON envelope AWS sends to HTTP and e-mail-json endpoints, in AWS's field order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope<'a> {
    r#type: &'a str,
    message_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<&'a str>,
    topic_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    message: &'a str,
    #[serde(rename = "SubscribeURL", skip_serializing_if = "Option::is_none")]
    subscribe_url: Option<String>,
    timestamp: String,
    signature_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: String,
    #[serde(rename = "UnsubscribeURL", skip_serializing_if = "Option::is_none")]
    unsubscribe_url: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    message_attributes: BTreeMap<&'a str, EnvelopeAttribute<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnvelopeAttribute<'a> {
    r#type: &'a str,
    value: &'a str,
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The link that confirms a subscription (AWS's `SubscribeURL`).
pub(crate) fn subscribe_url(state: &AppState, topic_arn: &str, token: &str) -> String {
    format!(
        "{}/_updraft/sns/confirm?TopicArn={}&Token={}",
        base_url(state),
        encode(topic_arn),
        encode(token)
    )
}

/// The link that ends a subscription (AWS's `UnsubscribeURL`).
pub(crate) fn unsubscribe_url(state: &AppState, subscription_arn: &str) -> String {
    format!(
        "{}/_updraft/sns/unsubscribe?SubscriptionArn={}",
        base_url(state),
        encode(subscription_arn)
    )
}

/// AWS's envelope for `d`, signed.
pub(crate) fn envelope(state: &AppState, d: &Delivery) -> String {
    let confirmation = d.kind != Kind::Notification;
    let timestamp = format_iso8601(d.timestamp);
    let subscribe = d
        .token
        .as_deref()
        .filter(|_| confirmation)
        .map(|t| subscribe_url(state, &d.topic_arn, t));
    let subject = d.subject.as_deref().filter(|_| !confirmation);
    // The string to sign: AWS's documented key/value lines, keys in alphabetical order.
    let mut to_sign = String::new();
    let mut line = |k: &str, v: &str| {
        to_sign.push_str(k);
        to_sign.push('\n');
        to_sign.push_str(v);
        to_sign.push('\n');
    };
    line("Message", &d.message);
    line("MessageId", &d.message_id);
    if confirmation {
        line("SubscribeURL", subscribe.as_deref().unwrap_or_default());
        line("Timestamp", &timestamp);
        line("Token", d.token.as_deref().unwrap_or_default());
    } else {
        if let Some(s) = subject {
            line("Subject", s);
        }
        line("Timestamp", &timestamp);
    }
    line("TopicArn", &d.topic_arn);
    line("Type", d.kind.as_str());
    let envelope = Envelope {
        r#type: d.kind.as_str(),
        message_id: &d.message_id,
        token: d.token.as_deref().filter(|_| confirmation),
        sequence_number: d.sequence_number.as_deref(),
        topic_arn: &d.topic_arn,
        subject,
        message: &d.message,
        subscribe_url: subscribe,
        timestamp,
        signature_version: &d.signature_version,
        signature: signing::sign(&d.signature_version, &to_sign),
        signing_cert_url: signing::cert_url(state),
        unsubscribe_url: (!confirmation).then(|| unsubscribe_url(state, &d.subscription_arn)),
        message_attributes: d
            .message_attributes
            .iter()
            .map(|(k, v)| {
                let value = v
                    .string_value
                    .as_deref()
                    .or(v.binary_value.as_deref())
                    .unwrap_or_default();
                (
                    k.as_str(),
                    EnvelopeAttribute {
                        r#type: &v.data_type,
                        value,
                    },
                )
            })
            .collect(),
    };
    serde_json::to_string_pretty(&envelope).unwrap_or_else(|err| {
        // Strings and maps of strings always serialize; keep the message rather than panic.
        tracing::error!(error = %err, "envelope does not serialize");
        d.message.clone()
    })
}
