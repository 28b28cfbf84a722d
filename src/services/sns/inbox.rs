//! The local inbox e-mail subscriptions deliver to (served by the admin API as
//! `GET /_updraft/sns/inbox`, see `admin::sns`): messages as a list of `{type, message_id,
//! topic_arn, subscription_arn, protocol, endpoint, subject, message, timestamp, confirm_url?,
//! unsubscribe_url?}`.
//!
//! `email` messages carry the published text (or the confirmation text with its link) in
//! `message`; `email-json` messages carry AWS's JSON envelope, as the e-mail body would.

use serde::Serialize;

use super::delivery::{Delivery, Kind, envelope, subscribe_url, unsubscribe_url};
use crate::iso8601::format_iso8601;
use crate::state::{AppState, Scope};

/// Oldest messages are dropped past this many per account and region.
const MAX_INBOX: usize = 10_000;

/// One delivered e-mail.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InboxMessage {
    #[serde(deserialize_with = "crate::state::persist::fields::static_str")]
    r#type: crate::state::persist::fields::StaticStr,
    message_id: String,
    topic_arn: String,
    subscription_arn: String,
    protocol: String,
    endpoint: String,
    subject: String,
    message: String,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsubscribe_url: Option<String>,
}

/// Put an e-mail delivery into its scope's inbox.
pub fn deliver(state: &AppState, scope: &Scope, d: &Delivery) {
    let confirm_url = d
        .token
        .as_deref()
        .filter(|_| d.kind == Kind::SubscriptionConfirmation)
        .map(|t| subscribe_url(state, &d.topic_arn, t));
    let unsubscribe =
        (d.kind == Kind::Notification).then(|| unsubscribe_url(state, &d.subscription_arn));
    let subject = match d.kind {
        Kind::SubscriptionConfirmation => "AWS Notification - Subscription Confirmation".to_owned(),
        _ => d
            .subject
            .clone()
            .unwrap_or_else(|| "AWS Notification Message".to_owned()),
    };
    let message = if d.protocol == "email-json" {
        envelope(state, d)
    } else if let Some(url) = &confirm_url {
        format!(
            "You have chosen to subscribe to the topic: \n{}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary): \n{url}\n",
            d.topic_arn
        )
    } else {
        d.message.clone()
    };
    let item = InboxMessage {
        r#type: d.kind.as_str(),
        message_id: d.message_id.clone(),
        topic_arn: d.topic_arn.clone(),
        subscription_arn: d.subscription_arn.clone(),
        protocol: d.protocol.clone(),
        endpoint: d.endpoint.clone(),
        subject,
        message,
        timestamp: format_iso8601(d.timestamp),
        confirm_url,
        unsubscribe_url: unsubscribe,
    };
    tracing::info!(
        endpoint = d.endpoint,
        message_id = d.message_id,
        r#type = item.r#type,
        "sns e-mail delivered to the inbox"
    );
    state.stores.with(scope, |s| {
        s.sns.inbox.push(item);
        let excess = s.sns.inbox.len().saturating_sub(MAX_INBOX);
        s.sns.inbox.drain(..excess);
    });
}

/// The inbox messages of every scope, oldest first, optionally only those for one endpoint
/// and/or topic.
pub fn list(
    state: &AppState,
    endpoint: Option<&str>,
    topic_arn: Option<&str>,
) -> Vec<InboxMessage> {
    let mut messages: Vec<InboxMessage> = Vec::new();
    state.stores.for_each(|_, s| {
        messages.extend(
            s.sns
                .inbox
                .iter()
                .filter(|m| endpoint.is_none_or(|e| m.endpoint == e))
                .filter(|m| topic_arn.is_none_or(|t| m.topic_arn == t))
                .cloned(),
        );
    });
    // Scopes are not ordered among themselves; the timestamp is (stable within one).
    messages.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    messages
}

/// Empty every scope's inbox.
pub fn clear(state: &AppState) {
    state.stores.for_each(|_, s| s.sns.inbox.clear());
}
