//! The local inbox e-mail subscriptions deliver to, and the admin endpoints that go with SNS:
//!
//! - `GET /_updraft/sns/inbox[?endpoint=…&topic_arn=…]`: the messages, oldest first, as a JSON
//!   list of `{type, message_id, topic_arn, subscription_arn, protocol, endpoint, subject,
//!   message, timestamp, confirm_url?, unsubscribe_url?}`; `DELETE` empties it.
//! - `GET /_updraft/sns/confirm?TopicArn=…&Token=…`: the confirmation link of a
//!   `SubscriptionConfirmation` (AWS's `SubscribeURL`).
//! - `GET /_updraft/sns/unsubscribe?SubscriptionArn=…`: the `UnsubscribeURL` of a message.
//! - `GET /_updraft/sns/SimpleNotificationService-updraft.pem`: the signing certificate.
//!
//! `email` messages carry the published text (or the confirmation text with its link) in
//! `message`; `email-json` messages carry AWS's JSON envelope, as the e-mail body would.

use serde::Serialize;
use serde_json::{Value, json};

use super::delivery::{Delivery, Kind, envelope, subscribe_url, unsubscribe_url};
use super::signing;
use crate::error::ApiError;
use crate::protocol::timestamp::format_iso8601;
use crate::state::{AppState, Scope};

/// Oldest messages are dropped past this many per account and region.
const MAX_INBOX: usize = 10_000;

/// One delivered e-mail.
#[derive(Debug, Clone, Serialize)]
pub struct InboxMessage {
    r#type: &'static str,
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

/// An admin answer: status, content type, body.
pub type AdminResponse = (u16, &'static str, String);

fn json_response(status: u16, value: &Value) -> AdminResponse {
    (status, "application/json", value.to_string())
}

fn error_response(err: &ApiError) -> AdminResponse {
    json_response(err.status, &json!({"error": err.message, "code": err.code}))
}

/// Answer an SNS admin request, or `None` when `path` is not one.
pub fn admin(
    state: &AppState,
    method: &str,
    path: &str,
    query: Option<&str>,
) -> Option<AdminResponse> {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    Some(match (method, path) {
        ("GET", "/_updraft/sns/inbox") => {
            let mut messages: Vec<(String, InboxMessage)> = Vec::new();
            state.stores.for_each(|_, s| {
                messages.extend(
                    s.sns
                        .inbox
                        .iter()
                        .filter(|m| param("endpoint").is_none_or(|e| m.endpoint == e))
                        .filter(|m| param("topic_arn").is_none_or(|t| m.topic_arn == t))
                        .map(|m| (m.timestamp.clone(), m.clone())),
                );
            });
            // Scopes are not ordered among themselves; the timestamp is (stable within one).
            messages.sort_by(|a, b| a.0.cmp(&b.0));
            let list: Vec<InboxMessage> = messages.into_iter().map(|(_, m)| m).collect();
            json_response(200, &json!(list))
        }
        ("DELETE", "/_updraft/sns/inbox") => {
            state.stores.for_each(|_, s| s.sns.inbox.clear());
            json_response(200, &json!({"status": "emptied"}))
        }
        ("GET", "/_updraft/sns/confirm") => {
            let (Some(topic_arn), Some(token)) = (param("TopicArn"), param("Token")) else {
                return Some(json_response(
                    400,
                    &json!({"error": "TopicArn and Token are required"}),
                ));
            };
            let Some((scope, _)) = super::topic_arn_parts(topic_arn) else {
                return Some(error_response(&super::topic_not_found()));
            };
            match super::subscriptions::confirm_by_token(
                state, &scope, topic_arn, token, false, false,
            ) {
                Ok(arn) => json_response(200, &json!({"SubscriptionArn": arn})),
                Err(err) => error_response(&err),
            }
        }
        ("GET", "/_updraft/sns/unsubscribe") => {
            let Some(arn) = param("SubscriptionArn") else {
                return Some(json_response(
                    400,
                    &json!({"error": "SubscriptionArn is required"}),
                ));
            };
            let Some((scope, _)) =
                super::subscription_topic_arn(arn).and_then(super::topic_arn_parts)
            else {
                return Some(error_response(&super::subscription_not_found()));
            };
            let refused = state.stores.with(&scope, |s| {
                let locked = s
                    .sns
                    .subscriptions
                    .get(arn)
                    .is_some_and(|sub| sub.authenticate_on_unsubscribe);
                if !locked {
                    super::subscriptions::remove(state, &mut s.sns, arn);
                }
                locked
            });
            if refused {
                let err = ApiError::client(
                    "AuthorizationError",
                    "This subscription was confirmed with AuthenticateOnUnsubscribe: only a signed Unsubscribe call can end it.",
                )
                .with_status(403);
                return Some(error_response(&err));
            }
            state.changed.notify_waiters();
            json_response(200, &json!({"unsubscribed": arn}))
        }
        ("GET" | "HEAD", signing::CERT_PATH) => match signing::certificate_pem() {
            Some(pem) => (200, "application/x-x509-ca-cert", pem.to_owned()),
            None => json_response(503, &json!({"error": "no signing key"})),
        },
        _ => return None,
    })
}
