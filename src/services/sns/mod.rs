//! The `sns` service: topics, subscriptions, publishing, and delivery that works offline.
//!
//! - [`topics`]: CreateTopic (idempotent), DeleteTopic, ListTopics, Get/SetTopicAttributes;
//!   [`tags`]: the tagging operations.
//! - [`subscriptions`]: Subscribe, ConfirmSubscription, Unsubscribe and the two lists;
//!   [`subscription_attributes`]: Get/SetSubscriptionAttributes (RawMessageDelivery,
//!   FilterPolicy, DeliveryPolicy).
//! - [`publish`]: Publish and PublishBatch; [`internal`]: [`publish_internal`] and
//!   [`publish_internal_structured`] for other services
//!   (CloudWatch alarm actions, Auto Scaling notifications).
//! - [`access`]: whether a topic's access policy lets another account publish to it.
//! - [`filter`]: filter policies, checked when set and matched when publishing.
//! - [`delivery`]: what a delivery is and AWS's JSON envelope. Publishing only *queues*
//!   deliveries in the scope's outbox; the `sns_delivery` controller takes them off the request
//!   path, as AWS does. [`http`] POSTs them, retried on the schedule of the delivery [`policy`].
//! - [`inbox`]: the local mailbox e-mail subscriptions deliver to, and the admin endpoints
//!   (inbox, confirmation and unsubscribe links, the signing certificate).
//! - [`signing`]: the RSA key and self-signed certificate that sign HTTP and e-mail-json
//!   messages (`SignatureVersion` 1 = SHA1withRSA, 2 = SHA256withRSA).

pub mod access;
pub mod delivery;
pub mod errors;
pub mod filter;
pub mod inbox;
pub mod internal;
pub mod policy;
pub mod publish;
pub mod signing;
pub mod subscription_attributes;
pub mod subscriptions;
pub mod tags;
pub mod topics;

use std::collections::BTreeMap;

use indexmap::IndexMap;

pub use publish::{publish_internal, publish_internal_structured};

use super::{Handler, Typed, TypedOperation};
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Scope};
use errors::SnsError;

/// Implemented operations: all typed (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    (
        "ConfirmSubscription",
        &Typed(subscriptions::confirm_subscription),
    ),
    ("CreateTopic", &Typed(topics::create_topic)),
    ("DeleteTopic", &Typed(topics::delete_topic)),
    (
        "GetSubscriptionAttributes",
        &Typed(subscription_attributes::get_subscription_attributes),
    ),
    ("GetTopicAttributes", &Typed(topics::get_topic_attributes)),
    (
        "ListSubscriptions",
        &Typed(subscriptions::list_subscriptions),
    ),
    (
        "ListSubscriptionsByTopic",
        &Typed(subscriptions::list_subscriptions_by_topic),
    ),
    ("ListTagsForResource", &Typed(tags::list_tags_for_resource)),
    ("ListTopics", &Typed(topics::list_topics)),
    ("Publish", &Typed(publish::publish)),
    ("PublishBatch", &Typed(publish::publish_batch)),
    (
        "SetSubscriptionAttributes",
        &Typed(subscription_attributes::set_subscription_attributes),
    ),
    ("SetTopicAttributes", &Typed(topics::set_topic_attributes)),
    ("Subscribe", &Typed(subscriptions::subscribe)),
    ("TagResource", &Typed(tags::tag_resource)),
    ("Unsubscribe", &Typed(subscriptions::unsubscribe)),
    ("UntagResource", &Typed(tags::untag_resource)),
];

/// Operations still answering with value trees: none.
pub const OPERATIONS: &[(&str, Handler)] = &[];

/// The SNS data of one (account, region).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct SnsStore {
    /// Topics by ARN.
    pub(crate) topics: BTreeMap<String, topics::Topic>,
    /// Subscriptions by ARN, in creation order (the order AWS lists them in).
    pub(crate) subscriptions: IndexMap<String, subscriptions::Subscription>,
    /// Deliveries queued by API calls, taken by the delivery controller.
    pub(crate) outbox: Vec<delivery::Delivery>,
    /// Messages delivered to e-mail subscriptions.
    pub(crate) inbox: Vec<inbox::InboxMessage>,
    /// Last FIFO sequence number handed out.
    pub(crate) sequence: u128,
    /// FIFO deduplication ids seen in the last five minutes, by (topic ARN, id).
    pub(crate) dedup: std::collections::HashMap<(String, String), publish::Dedup>,
}

/// `InvalidParameter` with AWS's `Invalid parameter: ` prefix.
pub(crate) fn invalid(what: impl std::fmt::Display) -> ApiError {
    SnsError::InvalidParameter.with(format!("Invalid parameter: {what}"))
}

/// `NotFound` for a topic.
pub(crate) fn topic_not_found() -> ApiError {
    SnsError::NotFound.with("Topic does not exist")
}

/// `NotFound` for a subscription.
pub(crate) fn subscription_not_found() -> ApiError {
    SnsError::NotFound.with("Subscription does not exist")
}

/// A topic ARN's scope and name, checked against the caller's scope: another region's topic is
/// an invalid parameter (AWS answers so when the ARN's region is not the endpoint's), another
/// account's is an authorization error (the default topic policy admits only the owner).
pub(crate) fn parse_topic_arn(
    scope: &Scope,
    arn: &str,
    param: &str,
    action: &str,
) -> Result<String, ApiError> {
    let elements = arn.split(':').count();
    if elements < 6 {
        return Err(invalid(format!(
            "{param} Reason: An ARN must have at least 6 elements, not {elements}"
        )));
    }
    let (arn_scope, name) = topic_arn_parts(arn).ok_or_else(|| invalid(param))?;
    if arn_scope.region != scope.region {
        return Err(invalid(param));
    }
    if arn_scope.account != scope.account {
        return Err(SnsError::AuthorizationError.with(
            format!(
                "User: arn:aws:iam::{}:root is not authorized to perform: SNS:{action} on resource: {arn}",
                scope.account
            ),
        ));
    }
    Ok(name.to_owned())
}

/// `arn:aws:sns:{region}:{account}:{name}` → (scope, name).
pub(crate) fn topic_arn_parts(arn: &str) -> Option<(Scope, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, account, name]
            if !region.is_empty() && !account.is_empty() && !name.is_empty() =>
        {
            Some((Scope::new(*account, *region), *name))
        }
        _ => None,
    }
}

/// The topic ARN a subscription ARN belongs to (`{topic arn}:{uuid}`).
pub(crate) fn subscription_topic_arn(arn: &str) -> Option<&str> {
    let (topic, id) = arn.rsplit_once(':')?;
    (topic_arn_parts(topic).is_some_and(|(_, name)| !name.contains(':')) && !id.is_empty())
        .then_some(topic)
}

/// Where Updraft can be reached, for links inside messages (confirmation, unsubscribe, the
/// signing certificate). An unspecified listen address is reached through `localhost`.
pub(crate) fn base_url(state: &AppState) -> String {
    let addr = state.config.listen;
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_split_into_scope_and_name() {
        let (scope, name) = topic_arn_parts("arn:aws:sns:us-east-1:123456789012:t").unwrap();
        assert_eq!(scope, Scope::new("123456789012", "us-east-1"));
        assert_eq!(name, "t");
        assert!(topic_arn_parts("arn:aws:sqs:us-east-1:123456789012:t").is_none());
        assert!(topic_arn_parts("nope").is_none());
        assert_eq!(
            subscription_topic_arn("arn:aws:sns:us-east-1:123456789012:t:abc"),
            Some("arn:aws:sns:us-east-1:123456789012:t")
        );
        assert_eq!(
            subscription_topic_arn("arn:aws:sns:us-east-1:123456789012:t"),
            None
        );
        let here = Scope::new("123456789012", "us-east-1");
        let code = |arn: &str| {
            parse_topic_arn(&here, arn, "TopicArn", "Publish")
                .unwrap_err()
                .code
        };
        assert_eq!(
            code("arn:aws:sns:eu-west-1:123456789012:t"),
            "InvalidParameter"
        );
        assert_eq!(
            code("arn:aws:sns:us-east-1:111111111111:t"),
            "AuthorizationError"
        );
        assert_eq!(code("t"), "InvalidParameter");
        assert_eq!(
            parse_topic_arn(&here, "a:b", "TopicArn", "Publish")
                .unwrap_err()
                .message,
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 2"
        );
    }
}
