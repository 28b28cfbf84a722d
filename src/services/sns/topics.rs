//! Topics: CreateTopic (idempotent), DeleteTopic, ListTopics, Get/SetTopicAttributes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::tags::{MAX_TAGS, Tag, check_tags, tag_limit};
use super::{invalid, parse_topic_arn, topic_not_found};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::paging::page_after;
use crate::state::AppState;
use crate::state::ids::arn;

/// One topic.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Topic {
    pub(crate) arn: String,
    /// Attributes set by the caller (DisplayName, DeliveryPolicy, FifoTopic, ...).
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) tags: Vec<Tag>,
    /// Subscriptions removed so far (the `SubscriptionsDeleted` attribute).
    pub(crate) subscriptions_deleted: u64,
}

impl Topic {
    /// A FIFO topic (`FifoTopic=true`, name ending `.fifo`).
    pub(crate) fn is_fifo(&self) -> bool {
        self.attributes
            .get("FifoTopic")
            .is_some_and(|v| v == "true")
    }

    /// `SignatureVersion` of the messages it sends (AWS's default is 1, SHA1withRSA).
    pub(crate) fn signature_version(&self) -> &str {
        self.attributes
            .get("SignatureVersion")
            .map_or("1", String::as_str)
    }
}

const PAGE: usize = 100;

/// HTTP's delivery policy when a topic sets none ([AWS docs: "Amazon SNS message delivery
/// retries"](https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html)).
pub(crate) fn default_delivery_policy() -> Value {
    json!({"http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
            "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
            "backoffFunction": "linear"
        },
        "disableSubscriptionOverrides": false,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}
    }})
}

/// A topic's default access policy: only the owner may act on it.
fn default_policy(topic_arn: &str, account: &str) -> String {
    // Members in the sorted order AWS writes them.
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Policy<'a> {
        id: &'static str,
        statement: [Statement<'a>; 1],
        version: &'static str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Statement<'a> {
        action: [&'static str; 8],
        condition: Condition<'a>,
        effect: &'static str,
        principal: Principal,
        resource: &'a str,
        sid: &'static str,
    }
    #[derive(Serialize)]
    struct Condition<'a> {
        #[serde(rename = "StringEquals")]
        string_equals: SourceOwner<'a>,
    }
    #[derive(Serialize)]
    struct SourceOwner<'a> {
        #[serde(rename = "AWS:SourceOwner")]
        source_owner: &'a str,
    }
    #[derive(Serialize)]
    struct Principal {
        #[serde(rename = "AWS")]
        aws: &'static str,
    }
    serde_json::to_string(&Policy {
        id: "__default_policy_ID",
        statement: [Statement {
            action: [
                "SNS:GetTopicAttributes",
                "SNS:SetTopicAttributes",
                "SNS:AddPermission",
                "SNS:RemovePermission",
                "SNS:DeleteTopic",
                "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic",
                "SNS:Publish",
            ],
            condition: Condition {
                string_equals: SourceOwner {
                    source_owner: account,
                },
            },
            effect: "Allow",
            principal: Principal { aws: "*" },
            resource: topic_arn,
            sid: "__default_statement_ID",
        }],
        version: "2008-10-17",
    })
    .unwrap_or_default()
}

fn is_feedback_attribute(name: &str) -> bool {
    ["Application", "HTTP", "Lambda", "SQS", "Firehose"]
        .iter()
        .any(|p| {
            name.strip_prefix(p).is_some_and(|rest| {
                matches!(
                    rest,
                    "SuccessFeedbackRoleArn"
                        | "SuccessFeedbackSampleRate"
                        | "FailureFeedbackRoleArn"
                )
            })
        })
}

/// Check one settable topic attribute; `creating` admits `FifoTopic`.
fn check_attribute(name: &str, value: &str, fifo: bool, creating: bool) -> Result<(), ApiError> {
    let json_object = |what: &str| match serde_json::from_str::<Value>(value) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(invalid(format!(
            "Attributes Reason: {what}: failed to parse JSON"
        ))),
    };
    match name {
        "DisplayName" => {
            if value.chars().count() > 100 {
                return Err(invalid("DisplayName"));
            }
            Ok(())
        }
        "Policy" => json_object("Policy"),
        "DeliveryPolicy" => {
            if value.is_empty() {
                return Ok(());
            }
            json_object("DeliveryPolicy")?;
            super::policy::check_delivery_policy(value, true)
        }
        "KmsMasterKeyId" | "ArchivePolicy" | "DataProtectionPolicy" => Ok(()),
        "TracingConfig" if matches!(value, "PassThrough" | "Active") => Ok(()),
        "SignatureVersion" if matches!(value, "1" | "2") => Ok(()),
        "FifoTopic" if creating && matches!(value, "true" | "false") => Ok(()),
        "ContentBasedDeduplication" if fifo && matches!(value, "true" | "false") => Ok(()),
        "FifoThroughputScope" if fifo && matches!(value, "Topic" | "MessageGroup") => Ok(()),
        n if is_feedback_attribute(n) => Ok(()),
        "TracingConfig"
        | "SignatureVersion"
        | "FifoTopic"
        | "ContentBasedDeduplication"
        | "FifoThroughputScope" => Err(invalid(format!("Attributes Reason: {name}"))),
        _ => Err(invalid(format!(
            "Attributes Reason: Unknown attribute {name}"
        ))),
    }
}

fn check_name(name: &str, fifo: bool) -> Result<(), ApiError> {
    let base = if fifo {
        name.strip_suffix(".fifo").ok_or_else(|| {
            invalid("Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
        })?
    } else {
        name
    };
    let valid = !base.is_empty()
        && name.len() <= 256
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(invalid("Topic Name"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTopicInput {
    name: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    tags: Vec<Tag>,
    data_protection_policy: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTopicOutput {
    topic_arn: String,
}

/// CreateTopic: idempotent on the name; asking again with other attributes or tags fails.
pub fn create_topic(
    ctx: &RequestContext,
    state: &AppState,
    mut req: CreateTopicInput,
) -> Result<CreateTopicOutput, ApiError> {
    let fifo = req.attributes.get("FifoTopic").is_some_and(|v| v == "true");
    check_name(&req.name, fifo || req.name.ends_with(".fifo"))?;
    if req.name.ends_with(".fifo") && !fifo {
        return Err(invalid("Topic Name"));
    }
    for (name, value) in &req.attributes {
        check_attribute(name, value, fifo, true)?;
    }
    if let Some(p) = req.data_protection_policy.take() {
        req.attributes.insert("DataProtectionPolicy".into(), p);
    }
    check_tags(&req.tags)?;
    if req.tags.len() > MAX_TAGS {
        return Err(tag_limit());
    }
    let topic_arn = arn("sns", &ctx.scope.region, &ctx.scope.account, &req.name);
    state.stores.with(&ctx.scope, |s| {
        if let Some(existing) = s.sns.topics.get(&topic_arn) {
            let same_attributes = req
                .attributes
                .iter()
                .all(|(k, v)| existing.attributes.get(k).map_or(v.is_empty(), |e| e == v));
            if !same_attributes {
                return Err(invalid(
                    "Attributes Reason: Topic already exists with different attributes",
                ));
            }
            let same_tags = req.tags.iter().all(|t| existing.tags.contains(t));
            if !same_tags {
                return Err(invalid(
                    "Tags Reason: Topic already exists with different tags",
                ));
            }
            return Ok(());
        }
        req.attributes.retain(|_, v| !v.is_empty());
        s.sns.topics.insert(
            topic_arn.clone(),
            Topic {
                arn: topic_arn.clone(),
                attributes: req.attributes,
                tags: req.tags,
                subscriptions_deleted: 0,
            },
        );
        tracing::info!(topic_arn, "topic created");
        Ok(())
    })?;
    Ok(CreateTopicOutput { topic_arn })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopicArnInput {
    topic_arn: String,
}

/// DeleteTopic: removes the topic and its subscriptions. Deleting a topic that does not exist
/// succeeds, as on AWS.
pub fn delete_topic(
    ctx: &RequestContext,
    state: &AppState,
    req: TopicArnInput,
) -> Result<(), ApiError> {
    parse_topic_arn(&ctx.scope, &req.topic_arn, "TopicArn", "DeleteTopic")?;
    state.stores.with(&ctx.scope, |s| {
        if s.sns.topics.remove(&req.topic_arn).is_some() {
            s.sns
                .subscriptions
                .retain(|_, sub| sub.topic_arn != req.topic_arn);
            tracing::info!(topic_arn = req.topic_arn, "topic deleted");
        }
    });
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListTopicsInput {
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TopicEntry {
    topic_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTopicsOutput {
    topics: Vec<TopicEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// ListTopics: by ARN, 100 a page; the token is the last ARN of the previous page.
pub fn list_topics(
    ctx: &RequestContext,
    state: &AppState,
    req: ListTopicsInput,
) -> Result<ListTopicsOutput, ApiError> {
    let (topics, next_token) = state.stores.with(&ctx.scope, |s| {
        let (arns, next) = page_after(s.sns.topics.keys(), req.next_token.as_deref(), PAGE, |a| {
            a.as_str()
        });
        let topics = arns
            .into_iter()
            .map(|arn| TopicEntry {
                topic_arn: arn.clone(),
            })
            .collect();
        (topics, next)
    });
    Ok(ListTopicsOutput { topics, next_token })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetTopicAttributesOutput {
    attributes: BTreeMap<String, String>,
}

/// GetTopicAttributes: the caller's attributes plus the computed ones (owner, policy,
/// subscription counts, effective delivery policy).
pub fn get_topic_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: TopicArnInput,
) -> Result<GetTopicAttributesOutput, ApiError> {
    parse_topic_arn(&ctx.scope, &req.topic_arn, "TopicArn", "GetTopicAttributes")?;
    let attributes = state.stores.with(&ctx.scope, |s| {
        let topic = s
            .sns
            .topics
            .get(&req.topic_arn)
            .ok_or_else(topic_not_found)?;
        let (mut confirmed, mut pending) = (0u64, 0u64);
        for sub in s.sns.subscriptions.values() {
            if sub.topic_arn == topic.arn {
                if sub.confirmed {
                    confirmed += 1;
                } else {
                    pending += 1;
                }
            }
        }
        let mut attrs = topic.attributes.clone();
        attrs.insert("TopicArn".into(), topic.arn.clone());
        attrs.insert("Owner".into(), ctx.scope.account.clone());
        attrs
            .entry("Policy".into())
            .or_insert_with(|| default_policy(&topic.arn, &ctx.scope.account));
        attrs.entry("DisplayName".into()).or_default();
        attrs.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
        attrs.insert("SubscriptionsPending".into(), pending.to_string());
        attrs.insert(
            "SubscriptionsDeleted".into(),
            topic.subscriptions_deleted.to_string(),
        );
        // Checked when set; AWS's default stands in for an unset (or unreadable) policy.
        let effective = topic
            .attributes
            .get("DeliveryPolicy")
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .unwrap_or_else(default_delivery_policy);
        attrs.insert("EffectiveDeliveryPolicy".into(), effective.to_string());
        if topic.is_fifo() {
            attrs
                .entry("ContentBasedDeduplication".into())
                .or_insert_with(|| "false".into());
        }
        Ok::<_, ApiError>(attrs)
    })?;
    Ok(GetTopicAttributesOutput { attributes })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetTopicAttributesInput {
    topic_arn: String,
    attribute_name: String,
    #[serde(default)]
    attribute_value: Option<String>,
}

/// SetTopicAttributes: one attribute; an empty value resets it.
pub fn set_topic_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: SetTopicAttributesInput,
) -> Result<(), ApiError> {
    parse_topic_arn(&ctx.scope, &req.topic_arn, "TopicArn", "SetTopicAttributes")?;
    let value = req.attribute_value.unwrap_or_default();
    state.stores.with(&ctx.scope, |s| {
        let topic = s
            .sns
            .topics
            .get_mut(&req.topic_arn)
            .ok_or_else(topic_not_found)?;
        if !is_known_attribute(&req.attribute_name) {
            return Err(invalid("AttributeName"));
        }
        if !value.is_empty() {
            check_attribute(&req.attribute_name, &value, topic.is_fifo(), false)?;
        }
        if value.is_empty() {
            topic.attributes.remove(&req.attribute_name);
        } else {
            topic.attributes.insert(req.attribute_name, value);
        }
        Ok(())
    })?;
    Ok(())
}

fn is_known_attribute(name: &str) -> bool {
    matches!(
        name,
        "DisplayName"
            | "Policy"
            | "DeliveryPolicy"
            | "KmsMasterKeyId"
            | "ArchivePolicy"
            | "DataProtectionPolicy"
            | "TracingConfig"
            | "SignatureVersion"
            | "ContentBasedDeduplication"
            | "FifoThroughputScope"
    ) || is_feedback_attribute(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_attributes_are_checked() {
        assert!(check_name("orders-1_a", false).is_ok());
        assert!(check_name("", false).is_err());
        assert!(check_name("a b", false).is_err());
        assert!(check_name(&"a".repeat(257), false).is_err());
        assert!(check_name("q.fifo", true).is_ok());
        assert!(check_name("q", true).is_err());
        assert!(check_attribute("TracingConfig", "Active", false, false).is_ok());
        assert!(check_attribute("TracingConfig", "On", false, false).is_err());
        assert!(check_attribute("FifoTopic", "true", false, false).is_err());
        assert!(check_attribute("ContentBasedDeduplication", "true", false, false).is_err());
        assert!(check_attribute("ContentBasedDeduplication", "true", true, false).is_ok());
        assert!(check_attribute("HTTPSuccessFeedbackRoleArn", "arn", false, false).is_ok());
        assert!(check_attribute("Policy", "[]", false, false).is_err());
        assert!(check_attribute("Bogus", "x", false, false).is_err());
    }
}
