//! Subscription attributes: GetSubscriptionAttributes and SetSubscriptionAttributes
//! (RawMessageDelivery, FilterPolicy and its scope, DeliveryPolicy, RedrivePolicy,
//! SubscriptionRoleArn), and the checks Subscribe applies to the attributes it is given.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::subscriptions::{SubscriptionArnInput, check_subscription_arn};
use super::{invalid, subscription_not_found};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// Check one settable subscription attribute, given the subscription's protocol and the filter
/// policy scope that will apply.
pub(crate) fn check_attribute(
    name: &str,
    value: &str,
    protocol: &str,
    scope: &str,
) -> Result<(), ApiError> {
    match name {
        "RawMessageDelivery" => {
            if !matches!(value.to_ascii_lowercase().as_str(), "true" | "false") {
                return Err(invalid(format!(
                    "RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                )));
            }
            if !matches!(protocol, "http" | "https" | "sqs" | "firehose") {
                return Err(invalid(format!(
                    "Delivery protocol [{protocol}] does not support raw message delivery."
                )));
            }
            Ok(())
        }
        "FilterPolicy" => {
            if value.is_empty() {
                return Ok(());
            }
            super::filter::check(value, scope == "MessageBody")
                .map_err(|reason| invalid(format!("FilterPolicy: {reason}")))
        }
        "FilterPolicyScope" => match value {
            "MessageAttributes" | "MessageBody" => Ok(()),
            _ => Err(invalid(format!(
                "FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            ))),
        },
        "DeliveryPolicy" => {
            if !matches!(protocol, "http" | "https") {
                return Err(invalid(
                    "DeliveryPolicy: only HTTP(S) subscriptions have one",
                ));
            }
            if value.is_empty() {
                return Ok(());
            }
            super::policy::check_delivery_policy(value, false)
        }
        "RedrivePolicy" => match serde_json::from_str::<Value>(value) {
            Ok(Value::Object(_)) => Ok(()),
            _ if value.is_empty() => Ok(()),
            _ => Err(invalid("RedrivePolicy: failed to parse JSON.")),
        },
        "SubscriptionRoleArn" => Ok(()),
        _ => Err(invalid("AttributeName")),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSubscriptionAttributesOutput {
    attributes: BTreeMap<String, String>,
}

/// GetSubscriptionAttributes: the caller's attributes plus the computed ones.
pub fn get_subscription_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: SubscriptionArnInput,
) -> Result<GetSubscriptionAttributesOutput, ApiError> {
    check_subscription_arn(
        &ctx.scope,
        &req.subscription_arn,
        "GetSubscriptionAttributes",
    )?;
    let attributes = state.stores.with(&ctx.scope, |s| {
        let sub = s
            .sns
            .subscriptions
            .get(&req.subscription_arn)
            .ok_or_else(subscription_not_found)?;
        let mut attrs = sub.attributes.clone();
        attrs.insert("SubscriptionArn".into(), sub.arn.clone());
        attrs.insert("TopicArn".into(), sub.topic_arn.clone());
        attrs.insert("Owner".into(), sub.owner.clone());
        attrs.insert("Protocol".into(), sub.protocol.clone());
        attrs.insert("Endpoint".into(), sub.endpoint.clone());
        attrs.insert(
            "ConfirmationWasAuthenticated".into(),
            sub.confirmation_authenticated.to_string(),
        );
        attrs.insert("PendingConfirmation".into(), (!sub.confirmed).to_string());
        attrs
            .entry("RawMessageDelivery".into())
            .or_insert_with(|| "false".into());
        if attrs.contains_key("FilterPolicy") {
            attrs
                .entry("FilterPolicyScope".into())
                .or_insert_with(|| "MessageAttributes".into());
        }
        if matches!(sub.protocol.as_str(), "http" | "https") {
            let topic_policy = s
                .sns
                .topics
                .get(&sub.topic_arn)
                .and_then(|t| t.attributes.get("DeliveryPolicy"));
            let effective = super::policy::effective_policy(
                topic_policy.map(String::as_str),
                sub.attributes.get("DeliveryPolicy").map(String::as_str),
            );
            attrs.insert("EffectiveDeliveryPolicy".into(), effective.to_string());
        }
        Ok::<_, ApiError>(attrs)
    })?;
    Ok(GetSubscriptionAttributesOutput { attributes })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetSubscriptionAttributesInput {
    subscription_arn: String,
    attribute_name: String,
    attribute_value: Option<String>,
}

/// SetSubscriptionAttributes: one attribute; an empty value removes it.
pub fn set_subscription_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: SetSubscriptionAttributesInput,
) -> Result<(), ApiError> {
    check_subscription_arn(
        &ctx.scope,
        &req.subscription_arn,
        "SetSubscriptionAttributes",
    )?;
    let value = req.attribute_value.unwrap_or_default();
    state.stores.with(&ctx.scope, |s| {
        let sub = s
            .sns
            .subscriptions
            .get_mut(&req.subscription_arn)
            .ok_or_else(subscription_not_found)?;
        let scope = if req.attribute_name == "FilterPolicyScope" {
            value.as_str()
        } else {
            sub.attributes
                .get("FilterPolicyScope")
                .map_or("MessageAttributes", String::as_str)
        };
        check_attribute(&req.attribute_name, &value, &sub.protocol, scope)?;
        if req.attribute_name == "FilterPolicyScope"
            && let Some(policy) = sub.attributes.get("FilterPolicy")
        {
            check_attribute("FilterPolicy", policy, &sub.protocol, scope)?;
        }
        if value.is_empty() {
            sub.attributes.remove(&req.attribute_name);
        } else {
            sub.attributes.insert(req.attribute_name, value);
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_checked_against_the_protocol() {
        assert!(check_attribute("RawMessageDelivery", "true", "http", "MessageAttributes").is_ok());
        assert!(
            check_attribute("RawMessageDelivery", "true", "email", "MessageAttributes").is_err()
        );
        assert!(check_attribute("RawMessageDelivery", "yes", "http", "MessageAttributes").is_err());
        assert!(
            check_attribute(
                "FilterPolicy",
                r#"{"a":["b"]}"#,
                "email",
                "MessageAttributes"
            )
            .is_ok()
        );
        assert!(check_attribute("FilterPolicy", "nope", "email", "MessageAttributes").is_err());
        assert!(check_attribute("Bogus", "x", "email", "MessageAttributes").is_err());
    }
}
