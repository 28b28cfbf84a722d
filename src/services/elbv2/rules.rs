//! Listener rules: Create/Describe/Modify/DeleteRule and SetRulePriorities.
//!
//! Every listener has a default rule (priority `default`, no conditions, evaluated last) made
//! with the listener; it cannot be deleted or re-prioritised and its conditions cannot change,
//! but ModifyRule may change its actions, as on AWS.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions::{Action, Condition, Owner, normalise_actions, normalise_conditions};
use super::errors::Elbv2Error;
use super::errors::{
    ArnKind, listener_not_found, missing, page_size, paginate, priority_in_use, rule_not_found,
    validation,
};
use super::load_balancers::hex16;
use super::store::{Elbv2Store, Rule};
use super::tags::{Tag, check_tags, set_tags};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

/// Rules per load balancer (default rules not counted).
const MAX_RULES: usize = 100;

/// `Rule` as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleOut {
    rule_arn: String,
    priority: String,
    conditions: Vec<Condition>,
    actions: Vec<Action>,
    is_default: bool,
}

/// The output of CreateRule, ModifyRule, DescribeRules and SetRulePriorities.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RulesOutput {
    rules: Vec<RuleOut>,
    next_marker: Option<String>,
}

impl RulesOutput {
    fn of(rules: Vec<RuleOut>) -> Self {
        Self {
            rules,
            next_marker: None,
        }
    }
}

/// The API view of a rule.
pub fn view(r: &Rule) -> RuleOut {
    RuleOut {
        rule_arn: r.arn.clone(),
        priority: r
            .priority
            .map_or_else(|| "default".to_owned(), |p| p.to_string()),
        conditions: r.conditions.clone(),
        actions: r.actions.clone(),
        is_default: r.priority.is_none(),
    }
}

fn check_priority(p: i64) -> Result<u32, ApiError> {
    if (1..=50_000).contains(&p) {
        Ok(p as u32)
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{p}' at 'priority' failed to satisfy constraint: Member must have value between 1 and 50000"
        )))
    }
}

fn owner_of(store: &Elbv2Store, listener_arn: &str) -> Result<(String, String), ApiError> {
    let l = store
        .listeners
        .get(listener_arn)
        .ok_or_else(listener_not_found)?;
    let lb = store
        .load_balancers
        .get(&l.lb_arn)
        .ok_or_else(listener_not_found)?;
    Ok((lb.arn.clone(), lb.kind.clone()))
}

/// The input of create_rule.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    listener_arn: String,
    conditions: Vec<Condition>,
    priority: i64,
    actions: Vec<Action>,
    #[serde(default)]
    tags: Vec<Tag>,
    transforms: Option<Value>,
}

/// CreateRule.
pub fn create_rule(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateInput,
) -> Result<RulesOutput, ApiError> {
    if req.transforms.is_some() {
        return Err(validation("Updraft does not support rule transforms"));
    }
    let priority = check_priority(req.priority)?;
    check_tags(&req.tags)?;
    if req.conditions.is_empty() {
        return Err(validation("A rule must have at least one condition"));
    }
    let conditions = normalise_conditions(req.conditions)?;
    let out = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        let (lb_arn, lb_kind) = owner_of(store, &req.listener_arn)?;
        if lb_kind != "application" {
            return Err(Elbv2Error::UnsupportedProtocol
                .with("Rules are supported only by listeners of Application Load Balancers"));
        }
        if store
            .rules
            .values()
            .any(|r| r.listener_arn == req.listener_arn && r.priority == Some(priority))
        {
            return Err(priority_in_use(i64::from(priority)));
        }
        let listeners: Vec<String> = store
            .listeners_of(&lb_arn)
            .iter()
            .map(|l| l.arn.clone())
            .collect();
        let count = store
            .rules
            .values()
            .filter(|r| r.priority.is_some() && listeners.contains(&r.listener_arn))
            .count();
        if count >= MAX_RULES {
            return Err(Elbv2Error::TooManyRules
                .with("The quota for the number of rules per load balancer has been reached"));
        }
        let actions = normalise_actions(
            store,
            &Owner {
                lb_arn: &lb_arn,
                lb_kind: &lb_kind,
            },
            req.actions.clone(),
        )?;
        let rule_arn =
            req.listener_arn.replace(":listener/", ":listener-rule/") + "/" + &hex16(state);
        let rule = Rule {
            arn: rule_arn.clone(),
            listener_arn: req.listener_arn.clone(),
            priority: Some(priority),
            conditions,
            actions,
        };
        let v = view(&rule);
        store.rules.insert(rule_arn.clone(), rule);
        set_tags(store, &rule_arn, &req.tags);
        tracing::info!(rule = %rule_arn, priority, "rule created");
        Ok(v)
    })?;
    state.touched(Topic::Elbv2);
    Ok(RulesOutput::of(vec![out]))
}

/// The input of describe_rules.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    listener_arn: Option<String>,
    rule_arns: Vec<String>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// DescribeRules: a listener's rules by priority, the default last; or rules by ARN.
pub fn describe_rules(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<RulesOutput, ApiError> {
    let page = page_size(req.page_size, 400)?;
    let views = state.stores.with(&ctx.scope, |s| {
        let store = &s.elbv2;
        match (&req.listener_arn, req.rule_arns.is_empty()) {
            (Some(_), false) => Err(validation(
                "Rule ARNs and a listener ARN cannot be specified at the same time",
            )),
            (None, true) => Err(validation(
                "You must specify either rule ARNs or a listener ARN",
            )),
            (Some(l), true) => {
                if !store.listeners.contains_key(l) {
                    return Err(listener_not_found());
                }
                let mut rules: Vec<&Rule> = store
                    .rules
                    .values()
                    .filter(|r| r.listener_arn == *l)
                    .collect();
                rules.sort_by_key(|r| r.priority.unwrap_or(u32::MAX));
                Ok(rules.into_iter().map(view).collect::<Vec<_>>())
            }
            (None, false) => req
                .rule_arns
                .iter()
                .map(|a| {
                    store
                        .rules
                        .get(a)
                        .map(view)
                        .ok_or_else(|| missing(&ctx.scope, a, ArnKind::Rule))
                })
                .collect(),
        }
    })?;
    let (rules, next_marker) = paginate(views, req.marker.as_deref(), page)?;
    Ok(RulesOutput { rules, next_marker })
}

/// The input of modify_rule.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyInput {
    rule_arn: String,
    conditions: Option<Vec<Condition>>,
    actions: Option<Vec<Action>>,
    transforms: Option<Value>,
}

/// ModifyRule: conditions and/or actions (the default rule: actions only).
pub fn modify_rule(
    ctx: &RequestContext,
    state: &AppState,
    req: ModifyInput,
) -> Result<RulesOutput, ApiError> {
    if req.transforms.is_some() {
        return Err(validation("Updraft does not support rule transforms"));
    }
    let conditions = match req.conditions {
        Some(c) if c.is_empty() => {
            return Err(validation("A rule must have at least one condition"));
        }
        Some(c) => Some(normalise_conditions(c)?),
        None => None,
    };
    let out = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        let rule = store
            .rules
            .get(&req.rule_arn)
            .ok_or_else(rule_not_found)?
            .clone();
        if rule.priority.is_none() && conditions.is_some() {
            return Err(Elbv2Error::OperationNotPermitted.with(format!(
                "The conditions of default rule '{}' cannot be modified",
                rule.arn
            )));
        }
        let (lb_arn, lb_kind) = owner_of(store, &rule.listener_arn)?;
        let actions = match &req.actions {
            Some(a) => Some(normalise_actions(
                store,
                &Owner {
                    lb_arn: &lb_arn,
                    lb_kind: &lb_kind,
                },
                a.clone(),
            )?),
            None => None,
        };
        let r = store
            .rules
            .get_mut(&req.rule_arn)
            .ok_or_else(rule_not_found)?;
        if let Some(c) = conditions {
            r.conditions = c;
        }
        if let Some(a) = actions {
            r.actions = a;
        }
        Ok::<_, ApiError>(view(r))
    })?;
    state.touched(Topic::Elbv2);
    Ok(RulesOutput::of(vec![out]))
}

/// The input of delete_rule.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    rule_arn: String,
}

/// DeleteRule: not the default rule.
pub fn delete_rule(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        let rule = store.rules.get(&req.rule_arn).ok_or_else(rule_not_found)?;
        if rule.priority.is_none() {
            return Err(Elbv2Error::OperationNotPermitted
                .with(format!("Default rule '{}' cannot be deleted", rule.arn)));
        }
        store.rules.shift_remove(&req.rule_arn);
        store.tags.remove(&req.rule_arn);
        Ok(())
    })?;
    state.touched(Topic::Elbv2);
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PriorityPair {
    rule_arn: Option<String>,
    priority: Option<i64>,
}

/// The input of set_rule_priorities.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetPrioritiesInput {
    rule_priorities: Vec<PriorityPair>,
}

/// SetRulePriorities: all or nothing; priorities must stay unique per listener.
pub fn set_rule_priorities(
    ctx: &RequestContext,
    state: &AppState,
    req: SetPrioritiesInput,
) -> Result<RulesOutput, ApiError> {
    let mut wanted: Vec<(String, u32)> = Vec::new();
    for p in &req.rule_priorities {
        let arn = p
            .rule_arn
            .clone()
            .ok_or_else(|| validation("A rule ARN must be specified"))?;
        let priority = check_priority(
            p.priority
                .ok_or_else(|| validation("A priority must be specified"))?,
        )?;
        wanted.push((arn, priority));
    }
    let out = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.elbv2;
        let mut next: Vec<(String, String, u32)> = Vec::new();
        for (arn, p) in &wanted {
            let rule = store.rules.get(arn).ok_or_else(rule_not_found)?;
            if rule.priority.is_none() {
                return Err(Elbv2Error::OperationNotPermitted.with(format!(
                    "The priority of default rule '{arn}' cannot be changed"
                )));
            }
            next.push((arn.clone(), rule.listener_arn.clone(), *p));
        }
        // The priorities after the change, per listener, must not collide.
        for (arn, listener, p) in &next {
            let clash_new = next
                .iter()
                .any(|(a, l, q)| a != arn && l == listener && q == p);
            let clash_old = store.rules.values().any(|r| {
                r.listener_arn == *listener
                    && r.priority == Some(*p)
                    && !next.iter().any(|(a, _, _)| *a == r.arn)
            });
            if clash_new || clash_old {
                return Err(priority_in_use(i64::from(*p)));
            }
        }
        let mut views = Vec::new();
        for (arn, _, p) in &next {
            if let Some(r) = store.rules.get_mut(arn) {
                r.priority = Some(*p);
                views.push(view(r));
            }
        }
        Ok(views)
    })?;
    state.touched(Topic::Elbv2);
    Ok(RulesOutput::of(out))
}
