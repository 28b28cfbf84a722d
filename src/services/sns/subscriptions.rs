//! Subscriptions: Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions and
//! ListSubscriptionsByTopic (attributes are in [`super::subscription_attributes`]).
//!
//! E-mail and HTTP(S) subscriptions start `PendingConfirmation` and get a
//! `SubscriptionConfirmation` message carrying a token; the token confirms them through
//! ConfirmSubscription or the link in the message. `--sns-auto-confirm` skips that step. SQS and
//! Lambda subscriptions are confirmed at once (same account) and recorded; Updraft emulates
//! neither service, so nothing is delivered to them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::delivery::{Delivery, Kind};
use super::errors::{SnsError, not_implemented};
use super::topics::Topic;
use super::{SnsStore, invalid, parse_topic_arn, topic_not_found};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::services::paging::{Paging, page};
use crate::state::{AppState, Scope};

/// Confirmation tokens are valid for three days.
const TOKEN_TTL_SECONDS: f64 = 3.0 * 86_400.0;
const PAGE: usize = 100;

/// One subscription.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Subscription {
    pub(crate) arn: String,
    pub(crate) topic_arn: String,
    pub(crate) protocol: String,
    pub(crate) endpoint: String,
    pub(crate) owner: String,
    pub(crate) confirmed: bool,
    pub(crate) confirmation_authenticated: bool,
    /// Set by ConfirmSubscription's `AuthenticateOnUnsubscribe`: the unsubscribe link no
    /// longer works, only a signed Unsubscribe call.
    pub(crate) authenticate_on_unsubscribe: bool,
    pub(crate) token: String,
    pub(crate) token_expires: f64,
    /// Attributes set by the caller (FilterPolicy, RawMessageDelivery, DeliveryPolicy, ...).
    pub(crate) attributes: BTreeMap<String, String>,
}

impl Subscription {
    /// `RawMessageDelivery=true`.
    pub(crate) fn raw(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The ARN as lists show it: `PendingConfirmation` until confirmed.
    fn listed_arn(&self) -> String {
        if self.confirmed {
            self.arn.clone()
        } else {
            "PendingConfirmation".into()
        }
    }
}

/// Protocols whose subscriptions wait for a confirmation.
fn needs_confirmation(protocol: &str) -> bool {
    matches!(protocol, "email" | "email-json" | "http" | "https")
}

fn check_endpoint(protocol: &str, endpoint: &str) -> Result<(), ApiError> {
    let ok = match protocol {
        "email" | "email-json" => {
            let parts = endpoint.split_once('@');
            if !parts.is_some_and(|(user, host)| {
                !user.is_empty() && !host.is_empty() && !endpoint.contains(char::is_whitespace)
            }) {
                return Err(invalid("Email address"));
            }
            true
        }
        "http" | "https" => {
            let uri = endpoint.parse::<http::Uri>();
            uri.is_ok_and(|u| u.scheme_str() == Some(protocol) && u.host().is_some())
        }
        "sqs" => endpoint.starts_with("arn:aws:sqs:"),
        "lambda" => endpoint.starts_with("arn:aws:lambda:"),
        _ => true,
    };
    if ok {
        Ok(())
    } else if matches!(protocol, "sqs" | "lambda") {
        Err(invalid(format!(
            "{} endpoint ARN",
            if protocol == "sqs" { "SQS" } else { "Lambda" }
        )))
    } else {
        Err(invalid("Endpoint must match the specified protocol"))
    }
}

/// A confirmation token: 64 hex digits.
fn new_token(state: &AppState) -> String {
    format!("{}{}", state.ids.uuid(), state.ids.uuid()).replace('-', "")
}

/// The `SubscriptionConfirmation` delivery for `sub`.
pub(crate) fn confirmation(state: &AppState, sub: &Subscription, topic: &Topic) -> Delivery {
    Delivery {
        message: format!(
            "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            sub.topic_arn
        ),
        token: Some(sub.token.clone()),
        ..Delivery::new(state, Kind::SubscriptionConfirmation, sub, Some(topic))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscribeInput {
    topic_arn: String,
    protocol: String,
    endpoint: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    return_subscription_arn: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscriptionArnOutput {
    subscription_arn: String,
}

/// Subscribe. Pending subscriptions answer `pending confirmation` unless
/// `ReturnSubscriptionArn` is set; subscribing the same endpoint again returns the existing
/// subscription (and resends the confirmation while it is pending).
pub fn subscribe(
    ctx: &RequestContext,
    state: &AppState,
    req: SubscribeInput,
) -> Result<SubscriptionArnOutput, ApiError> {
    parse_topic_arn(&ctx.scope, &req.topic_arn, "TopicArn", "Subscribe")?;
    let protocol = req.protocol.to_ascii_lowercase();
    match protocol.as_str() {
        "email" | "email-json" | "http" | "https" | "sqs" | "lambda" => {}
        "sms" | "application" | "firehose" => {
            return Err(not_implemented(format!(
                "Subscribing with protocol {protocol} is not implemented by Updraft yet."
            )));
        }
        _ => {
            return Err(invalid(format!(
                "Amazon SNS does not support this protocol string: {}",
                req.protocol
            )));
        }
    }
    let endpoint = req
        .endpoint
        .filter(|e| !e.is_empty())
        .ok_or_else(|| invalid("Endpoint"))?;
    check_endpoint(&protocol, &endpoint)?;
    let filter_scope = req
        .attributes
        .get("FilterPolicyScope")
        .map_or("MessageAttributes", String::as_str);
    for (name, value) in &req.attributes {
        // Subscribe words attribute errors as `Attributes Reason: …` (seen from AWS for
        // RawMessageDelivery on an e-mail subscription).
        super::subscription_attributes::check_attribute(name, value, &protocol, filter_scope)
            .map_err(|e| ApiError {
                message: e.message.replacen(
                    "Invalid parameter: ",
                    "Invalid parameter: Attributes Reason: ",
                    1,
                ),
                ..e
            })?;
    }
    let auto_confirm = state.config.sns_auto_confirm || !needs_confirmation(&protocol);
    let now = state.clock.now();
    let new_arn = format!("{}:{}", req.topic_arn, state.ids.uuid());
    let token = new_token(state);
    let (arn, pending) = state.stores.with(&ctx.scope, |s| {
        let topic = s
            .sns
            .topics
            .get(&req.topic_arn)
            .ok_or_else(topic_not_found)?;
        let existing = s.sns.subscriptions.values_mut().find(|sub| {
            sub.topic_arn == req.topic_arn && sub.protocol == protocol && sub.endpoint == endpoint
        });
        if let Some(sub) = existing {
            let same = req
                .attributes
                .iter()
                .all(|(k, v)| sub.attributes.get(k) == Some(v));
            if !same {
                return Err(invalid(
                    "Attributes Reason: Subscription already exists with different attributes",
                ));
            }
            if sub.confirmed {
                return Ok((sub.arn.clone(), false));
            }
            // Resend the confirmation; earlier messages' links keep working until it expires.
            if now > sub.token_expires {
                sub.token = token;
            }
            sub.token_expires = now + TOKEN_TTL_SECONDS;
            let delivery = confirmation(state, sub, topic);
            let arn = sub.arn.clone();
            s.sns.outbox.push(delivery);
            return Ok((arn, true));
        }
        let sub = Subscription {
            arn: new_arn.clone(),
            topic_arn: req.topic_arn.clone(),
            protocol: protocol.clone(),
            endpoint: endpoint.clone(),
            owner: ctx.scope.account.clone(),
            confirmed: auto_confirm,
            confirmation_authenticated: auto_confirm,
            authenticate_on_unsubscribe: false,
            token,
            token_expires: now + TOKEN_TTL_SECONDS,
            attributes: req.attributes.clone(),
        };
        if !auto_confirm {
            s.sns.outbox.push(confirmation(state, &sub, topic));
        }
        s.sns.subscriptions.insert(new_arn.clone(), sub);
        tracing::info!(
            subscription_arn = new_arn,
            protocol,
            endpoint,
            confirmed = auto_confirm,
            "subscribed"
        );
        Ok((new_arn.clone(), !auto_confirm))
    })?;
    state.touched(crate::state::Topic::Sns);
    let subscription_arn = if pending && !req.return_subscription_arn {
        "pending confirmation".to_owned()
    } else {
        arn
    };
    Ok(SubscriptionArnOutput { subscription_arn })
}

/// Confirm the subscription of `topic_arn` that `token` names. `authenticated` is true for the
/// API call and false for the link in the message (AWS's `ConfirmationWasAuthenticated`);
/// `authenticate_on_unsubscribe` disables the unsubscribe link from then on.
pub(crate) fn confirm_by_token(
    state: &AppState,
    scope: &Scope,
    topic_arn: &str,
    token: &str,
    authenticated: bool,
    authenticate_on_unsubscribe: bool,
) -> Result<String, ApiError> {
    let now = state.clock.now();
    state.stores.with(scope, |s| {
        if !s.sns.topics.contains_key(topic_arn) {
            return Err(topic_not_found());
        }
        let sub = s
            .sns
            .subscriptions
            .values_mut()
            .find(|sub| sub.topic_arn == topic_arn && sub.token == token)
            .ok_or_else(|| invalid("Token"))?;
        if !sub.confirmed {
            if now > sub.token_expires {
                return Err(invalid("Token"));
            }
            sub.confirmed = true;
            sub.confirmation_authenticated = authenticated;
            tracing::info!(subscription_arn = sub.arn, "subscription confirmed");
        }
        sub.authenticate_on_unsubscribe |= authenticate_on_unsubscribe;
        Ok(sub.arn.clone())
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfirmSubscriptionInput {
    topic_arn: String,
    token: String,
    authenticate_on_unsubscribe: Option<String>,
}

/// ConfirmSubscription: with the token of the confirmation message.
pub fn confirm_subscription(
    ctx: &RequestContext,
    state: &AppState,
    req: ConfirmSubscriptionInput,
) -> Result<SubscriptionArnOutput, ApiError> {
    parse_topic_arn(
        &ctx.scope,
        &req.topic_arn,
        "TopicArn",
        "ConfirmSubscription",
    )?;
    let authenticate_on_unsubscribe = match req.authenticate_on_unsubscribe.as_deref() {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(invalid("AuthenticateOnUnsubscribe")),
    };
    let subscription_arn = confirm_by_token(
        state,
        &ctx.scope,
        &req.topic_arn,
        &req.token,
        true,
        authenticate_on_unsubscribe,
    )?;
    Ok(SubscriptionArnOutput { subscription_arn })
}

/// Remove `arn`; HTTP(S) endpoints get an `UnsubscribeConfirmation`. Unknown ARNs are ignored,
/// as on AWS.
pub(crate) fn remove(state: &AppState, store: &mut SnsStore, arn: &str) {
    let Some(sub) = store.subscriptions.shift_remove(arn) else {
        return;
    };
    if let Some(topic) = store.topics.get_mut(&sub.topic_arn) {
        topic.subscriptions_deleted += 1;
    }
    if sub.confirmed && matches!(sub.protocol.as_str(), "http" | "https") {
        let topic = store.topics.get(&sub.topic_arn);
        let mut delivery = Delivery::new(state, Kind::UnsubscribeConfirmation, &sub, topic);
        delivery.message = format!(
            "You have chosen to deactivate subscription {}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
            sub.arn
        );
        delivery.token = Some(sub.token.clone());
        store.outbox.push(delivery);
    }
    tracing::info!(subscription_arn = arn, "unsubscribed");
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscriptionArnInput {
    pub(crate) subscription_arn: String,
}

pub(crate) fn check_subscription_arn(
    scope: &Scope,
    arn: &str,
    action: &str,
) -> Result<(), ApiError> {
    let topic = super::subscription_topic_arn(arn).ok_or_else(|| invalid("SubscriptionId"))?;
    parse_topic_arn(scope, topic, "SubscriptionId", action).map(|_| ())
}

/// Unsubscribe.
pub fn unsubscribe(
    ctx: &RequestContext,
    state: &AppState,
    req: SubscriptionArnInput,
) -> Result<(), ApiError> {
    check_subscription_arn(&ctx.scope, &req.subscription_arn, "Unsubscribe")?;
    state.stores.with(&ctx.scope, |s| {
        remove(state, &mut s.sns, &req.subscription_arn)
    });
    state.touched(crate::state::Topic::Sns);
    Ok(())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubscriptionEntry {
    subscription_arn: String,
    owner: String,
    protocol: String,
    endpoint: String,
    topic_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSubscriptionsOutput {
    subscriptions: Vec<SubscriptionEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// One page of the subscriptions `keep` selects; the token is the offset of the next page.
fn list_page(
    store: &SnsStore,
    next_token: Option<&str>,
    keep: impl Fn(&Subscription) -> bool,
) -> Result<ListSubscriptionsOutput, ApiError> {
    let listed = store.subscriptions.values().filter(|s| keep(s));
    let (rows, next_token) =
        page(listed, next_token, PAGE, Paging::LENIENT_OFFSET).map_err(|_| invalid("NextToken"))?;
    let subscriptions = rows
        .into_iter()
        .map(|s| SubscriptionEntry {
            subscription_arn: s.listed_arn(),
            owner: s.owner.clone(),
            protocol: s.protocol.clone(),
            endpoint: s.endpoint.clone(),
            topic_arn: s.topic_arn.clone(),
        })
        .collect();
    Ok(ListSubscriptionsOutput {
        subscriptions,
        next_token,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListSubscriptionsInput {
    next_token: Option<String>,
}

/// ListSubscriptions: 100 a page, in creation order.
pub fn list_subscriptions(
    ctx: &RequestContext,
    state: &AppState,
    req: ListSubscriptionsInput,
) -> Result<ListSubscriptionsOutput, ApiError> {
    let page = state.stores.with(&ctx.scope, |s| {
        list_page(&s.sns, req.next_token.as_deref(), |_| true)
    })?;
    Ok(page)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSubscriptionsByTopicInput {
    topic_arn: String,
    next_token: Option<String>,
}

/// ListSubscriptionsByTopic.
pub fn list_subscriptions_by_topic(
    ctx: &RequestContext,
    state: &AppState,
    req: ListSubscriptionsByTopicInput,
) -> Result<ListSubscriptionsOutput, ApiError> {
    parse_topic_arn(
        &ctx.scope,
        &req.topic_arn,
        "TopicArn",
        "ListSubscriptionsByTopic",
    )?;
    let page = state.stores.with(&ctx.scope, |s| {
        if !s.sns.topics.contains_key(&req.topic_arn) {
            return Err(topic_not_found());
        }
        list_page(&s.sns, req.next_token.as_deref(), |sub| {
            sub.topic_arn == req.topic_arn
        })
    })?;
    Ok(page)
}

/// Follow a message's `UnsubscribeURL`: remove the subscription, unless it was confirmed with
/// `AuthenticateOnUnsubscribe`, which only a signed Unsubscribe call may end.
pub(crate) fn unsubscribe_by_link(
    state: &AppState,
    scope: &Scope,
    arn: &str,
) -> Result<(), ApiError> {
    let refused = state.stores.with(scope, |s| {
        let locked = s
            .sns
            .subscriptions
            .get(arn)
            .is_some_and(|sub| sub.authenticate_on_unsubscribe);
        if !locked {
            remove(state, &mut s.sns, arn);
        }
        locked
    });
    if refused {
        return Err(SnsError::AuthorizationError.with(
            "This subscription was confirmed with AuthenticateOnUnsubscribe: only a signed Unsubscribe call can end it.",
        ));
    }
    state.touched(crate::state::Topic::Sns);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_fit_their_protocol() {
        assert!(check_endpoint("email", "ops@example.com").is_ok());
        assert!(check_endpoint("email", "nobody").is_err());
        assert!(check_endpoint("http", "http://127.0.0.1:8080/hook").is_ok());
        assert!(check_endpoint("http", "https://example.com/").is_err());
        assert!(check_endpoint("https", "https://example.com/").is_ok());
        assert!(check_endpoint("sqs", "arn:aws:sqs:us-east-1:000000000000:q").is_ok());
        assert!(check_endpoint("lambda", "fn").is_err());
    }
}
