//! The SNS admin endpoints:
//!
//! - `GET /_updraft/sns/inbox[?endpoint=…&topic_arn=…]`: the e-mail inbox, oldest first;
//!   `DELETE` empties it.
//! - `GET /_updraft/sns/confirm?TopicArn=…&Token=…`: the confirmation link of a
//!   `SubscriptionConfirmation` (AWS's `SubscribeURL`).
//! - `GET /_updraft/sns/unsubscribe?SubscriptionArn=…`: the `UnsubscribeURL` of a message.
//! - `GET /_updraft/sns/SimpleNotificationService-updraft.pem`: the signing certificate.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::services::sns;
use crate::state::AppState;

/// An admin answer: status, content type, body.
pub type AdminResponse = (u16, &'static str, String);

fn json_response(status: u16, value: &Value) -> AdminResponse {
    (status, "application/json", value.to_string())
}

fn error_response(err: &ApiError) -> AdminResponse {
    json_response(err.status, &json!({"error": err.message, "code": err.code}))
}

/// Answer an SNS admin request, or `None` when `path` is not one.
pub fn handle(
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
            let list = sns::inbox::list(state, param("endpoint"), param("topic_arn"));
            json_response(200, &json!(list))
        }
        ("DELETE", "/_updraft/sns/inbox") => {
            sns::inbox::clear(state);
            json_response(200, &json!({"status": "emptied"}))
        }
        ("GET", "/_updraft/sns/confirm") => {
            let (Some(topic_arn), Some(token)) = (param("TopicArn"), param("Token")) else {
                return Some(json_response(
                    400,
                    &json!({"error": "TopicArn and Token are required"}),
                ));
            };
            let Some((scope, _)) = sns::topic_arn_parts(topic_arn) else {
                return Some(error_response(&sns::topic_not_found()));
            };
            match sns::subscriptions::confirm_by_token(
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
            let Some((scope, _)) = sns::subscription_topic_arn(arn).and_then(sns::topic_arn_parts)
            else {
                return Some(error_response(&sns::subscription_not_found()));
            };
            match sns::subscriptions::unsubscribe_by_link(state, &scope, arn) {
                Ok(()) => json_response(200, &json!({"unsubscribed": arn})),
                Err(err) => error_response(&err),
            }
        }
        ("GET" | "HEAD", sns::signing::CERT_PATH) => match sns::signing::certificate_pem() {
            Some(pem) => (200, "application/x-x509-ca-cert", pem.to_owned()),
            None => json_response(503, &json!({"error": "no signing key"})),
        },
        _ => return None,
    })
}
