//! Listener and rule actions: their API shapes, validation and the normalised form
//! DescribeRules / DescribeListeners show.
//!
//! As AWS does, a `forward` action given with `TargetGroupArn` is shown with a `ForwardConfig`
//! of weight 1 and stickiness off as well, and actions get `Order` 1, 2, … when none was given.
//! Only `forward`, `redirect` and `fixed-response` are supported; authentication and JWT
//! actions need an identity provider Updraft does not have and are refused with
//! `InvalidLoadBalancerAction` naming the type.

use serde::{Deserialize, Serialize};

pub use super::conditions::{
    Condition, HttpHeaderConfig, QueryPair, QueryStringConfig, ValuesConfig, normalise_conditions,
};
use super::errors::Elbv2Error;
use super::errors::{invalid_action, target_group_not_found, validation};
use super::store::Elbv2Store;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// One action of a listener or rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Action {
    /// `forward`, `redirect`, `fixed-response` (others refused).
    #[serde(rename = "Type")]
    pub kind: String,
    /// Single target group (forward).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    /// Order among the actions (1–50000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// Redirect settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_config: Option<RedirectConfig>,
    /// Fixed response settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_response_config: Option<FixedResponseConfig>,
    /// Weighted target groups and group stickiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_config: Option<ForwardConfig>,
}

/// `RedirectActionConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedirectConfig {
    /// `HTTP`, `HTTPS` or `#{protocol}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Port or `#{port}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Host, may use `#{host}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Absolute path, may use `#{path}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Query without `?`, may use `#{query}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `HTTP_301` or `HTTP_302`.
    pub status_code: String,
}

/// `FixedResponseActionConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FixedResponseConfig {
    /// Body, ≤ 1024 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_body: Option<String>,
    /// `2XX`, `4XX` or `5XX` code.
    pub status_code: String,
    /// One of the five content types AWS allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `ForwardActionConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForwardConfig {
    /// Target groups with weights.
    #[serde(default)]
    pub target_groups: Vec<TargetGroupTuple>,
    /// Group-level stickiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_group_stickiness_config: Option<Stickiness>,
}

/// `TargetGroupTuple`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupTuple {
    /// Target group.
    pub target_group_arn: Option<String>,
    /// 0–999.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}

/// `TargetGroupStickinessConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stickiness {
    /// On.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// 1–604800 seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
}

impl Action {
    /// Every target group this action forwards to.
    pub fn target_group_arns(&self) -> Vec<String> {
        if self.kind != "forward" {
            return Vec::new();
        }
        match &self.forward_config {
            Some(fc) => fc
                .target_groups
                .iter()
                .filter_map(|t| t.target_group_arn.clone())
                .collect(),
            None => self.target_group_arn.iter().cloned().collect(),
        }
    }
}

const CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "text/css",
    "text/html",
    "application/javascript",
    "application/json",
];

/// What an action list is attached to, for the checks that depend on it.
pub struct Owner<'a> {
    /// The load balancer's ARN.
    pub lb_arn: &'a str,
    /// `application` or `network`.
    pub lb_kind: &'a str,
}

/// Check and normalise a listener's or rule's actions.
pub fn normalise_actions(
    store: &Elbv2Store,
    owner: &Owner<'_>,
    mut actions: Vec<Action>,
) -> Result<Vec<Action>, ApiError> {
    if actions.is_empty() {
        return Err(validation("At least one action must be specified"));
    }
    for (i, a) in actions.iter_mut().enumerate() {
        if a.order.is_none() {
            a.order = Some(i as i64 + 1);
        }
    }
    actions.sort_by_key(|a| a.order);
    let terminal = actions
        .iter()
        .filter(|a| matches!(a.kind.as_str(), "forward" | "redirect" | "fixed-response"))
        .count();
    for a in &actions {
        if !matches!(a.kind.as_str(), "forward" | "redirect" | "fixed-response") {
            return Err(invalid_action(format!(
                "Updraft does not support '{}' actions; use forward, redirect or fixed-response",
                a.kind
            )));
        }
    }
    if terminal != 1 || actions.len() != 1 {
        return Err(invalid_action(
            "You must specify exactly one forward, redirect or fixed-response action",
        ));
    }
    for a in &mut actions {
        match a.kind.as_str() {
            "forward" => normalise_forward(store, owner, a)?,
            "redirect" => check_redirect(owner, a)?,
            _ => check_fixed(owner, a)?,
        }
    }
    Ok(actions)
}

fn normalise_forward(
    store: &Elbv2Store,
    owner: &Owner<'_>,
    a: &mut Action,
) -> Result<(), ApiError> {
    a.redirect_config = None;
    a.fixed_response_config = None;
    let mut fc = match (a.forward_config.take(), a.target_group_arn.clone()) {
        (None, None) => {
            return Err(validation(
                "A target group ARN must be specified for a forward action",
            ));
        }
        (None, Some(arn)) => ForwardConfig {
            target_groups: vec![TargetGroupTuple {
                target_group_arn: Some(arn),
                weight: Some(1),
            }],
            target_group_stickiness_config: None,
        },
        (Some(fc), single) => {
            if let Some(single) = single
                && !(fc.target_groups.len() == 1
                    && fc.target_groups[0].target_group_arn.as_deref() == Some(&single))
            {
                return Err(invalid_action(
                    "You cannot specify both a target group ARN and a forward config with other target groups",
                ));
            }
            fc
        }
    };
    if fc.target_groups.is_empty() || fc.target_groups.len() > 5 {
        return Err(validation(
            "A forward action must have between 1 and 5 target groups",
        ));
    }
    let mut seen = Vec::new();
    for t in &mut fc.target_groups {
        let arn = t
            .target_group_arn
            .clone()
            .ok_or_else(|| validation("A target group ARN must be specified"))?;
        if seen.contains(&arn) {
            return Err(invalid_action(format!(
                "Target group '{arn}' is specified more than once"
            )));
        }
        let tg = store
            .target_groups
            .get(&arn)
            .ok_or_else(target_group_not_found)?;
        let want_l7 = owner.lb_kind == "application";
        let is_l7 = matches!(tg.protocol.as_deref(), Some("HTTP" | "HTTPS"));
        if want_l7 != is_l7 {
            return Err(Elbv2Error::IncompatibleProtocols.with(format!(
                    "The target group '{arn}' uses protocol {} which is not compatible with a load balancer of type '{}'",
                    tg.protocol.as_deref().unwrap_or("none"),
                    owner.lb_kind
                ),
            ));
        }
        let others = store.load_balancers_of(&arn);
        if others.iter().any(|lb| lb != owner.lb_arn) {
            return Err(Elbv2Error::TargetGroupAssociationLimit.with(format!(
                    "The following target groups cannot be associated with more than one load balancer: {arn}"
                ),
            ));
        }
        let w = t.weight.unwrap_or(1);
        if !(0..=999).contains(&w) {
            return Err(validation(format!(
                "Target group weight '{w}' must be between 0 and 999"
            )));
        }
        t.weight = Some(w);
        seen.push(arn);
    }
    let mut st = fc
        .target_group_stickiness_config
        .take()
        .unwrap_or(Stickiness {
            enabled: Some(false),
            duration_seconds: None,
        });
    if st.enabled == Some(true) {
        let d = st.duration_seconds.ok_or_else(|| {
            validation("A duration must be specified when target group stickiness is enabled")
        })?;
        if !(1..=604_800).contains(&d) {
            return Err(validation(format!(
                "Stickiness duration '{d}' must be between 1 and 604800 seconds"
            )));
        }
    } else {
        st.enabled = Some(false);
    }
    fc.target_group_stickiness_config = Some(st);
    a.target_group_arn = (fc.target_groups.len() == 1)
        .then(|| fc.target_groups[0].target_group_arn.clone())
        .flatten();
    a.forward_config = Some(fc);
    Ok(())
}

fn check_redirect(owner: &Owner<'_>, a: &mut Action) -> Result<(), ApiError> {
    if owner.lb_kind != "application" {
        return Err(invalid_action(
            "Redirect actions are supported only by Application Load Balancers",
        ));
    }
    a.target_group_arn = None;
    a.forward_config = None;
    a.fixed_response_config = None;
    let r = a
        .redirect_config
        .as_mut()
        .ok_or_else(|| validation("A redirect configuration must be specified"))?;
    let protocol = r.protocol.get_or_insert_with(|| "#{protocol}".into());
    if !matches!(protocol.as_str(), "HTTP" | "HTTPS" | "#{protocol}") {
        return Err(validation(format!(
            "Redirect protocol '{protocol}' must be HTTP, HTTPS or #{{protocol}}"
        )));
    }
    let port = r.port.get_or_insert_with(|| "#{port}".into());
    if port != "#{port}" && !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return Err(validation(format!(
            "Redirect port '{port}' must be a port number or #{{port}}"
        )));
    }
    r.host.get_or_insert_with(|| "#{host}".into());
    let path = r.path.get_or_insert_with(|| "/#{path}".into());
    if !path.starts_with('/') {
        return Err(validation("The redirect path must start with a '/'"));
    }
    r.query.get_or_insert_with(|| "#{query}".into());
    // AWS: the redirect must change at least one of protocol, port, host or path.
    let loops = r.protocol.as_deref() == Some("#{protocol}")
        && r.port.as_deref() == Some("#{port}")
        && r.host.as_deref() == Some("#{host}")
        && r.path.as_deref() == Some("/#{path}");
    if loops {
        return Err(invalid_action(
            "The redirect must change at least one of protocol, port, host or path",
        ));
    }
    Ok(())
}

fn check_fixed(owner: &Owner<'_>, a: &mut Action) -> Result<(), ApiError> {
    if owner.lb_kind != "application" {
        return Err(invalid_action(
            "Fixed-response actions are supported only by Application Load Balancers",
        ));
    }
    a.target_group_arn = None;
    a.forward_config = None;
    a.redirect_config = None;
    let f = a
        .fixed_response_config
        .as_ref()
        .ok_or_else(|| validation("A fixed-response configuration must be specified"))?;
    let code_ok = f.status_code.len() == 3
        && matches!(f.status_code.as_bytes()[0], b'2' | b'4' | b'5')
        && f.status_code.bytes().all(|b| b.is_ascii_digit());
    if !code_ok {
        return Err(validation(format!(
            "1 validation error detected: Value '{}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$",
            f.status_code
        )));
    }
    if let Some(ct) = &f.content_type
        && !CONTENT_TYPES.contains(&ct.as_str())
    {
        return Err(invalid_action(format!(
            "Content type '{ct}' is not supported; use one of {}",
            CONTENT_TYPES.join(", ")
        )));
    }
    if f.message_body
        .as_ref()
        .is_some_and(|b| b.chars().count() > 1024)
    {
        return Err(validation(
            "The fixed-response message body must be at most 1024 characters",
        ));
    }
    Ok(())
}
