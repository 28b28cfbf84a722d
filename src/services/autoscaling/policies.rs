//! Scaling policies: PutScalingPolicy, DescribePolicies, DeletePolicy, ExecutePolicy, and
//! [`execute`], the one place a policy changes a group — called by ExecutePolicy and by
//! CloudWatch alarm actions (`cloudwatch::actions`). Rules: Auto Scaling API Reference,
//! PutScalingPolicy and ExecutePolicy; EC2 Auto Scaling User Guide, "Step and simple scaling
//! policies for Amazon EC2 Auto Scaling", "Target tracking scaling policies for Amazon EC2 Auto
//! Scaling" and "Scaling cooldowns for Amazon EC2 Auto Scaling".

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::describe::page;
use super::errors::AutoScalingError;
pub use super::execute::{Trigger, execute};
use super::scaling::check_steps;
use super::store::{Policy, StepAdjustment};
use super::views::Kept;
use super::{target_tracking, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Scope, Topic, ids};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct StepIn {
    metric_interval_lower_bound: Option<f64>,
    metric_interval_upper_bound: Option<f64>,
    scaling_adjustment: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PutInput {
    auto_scaling_group_name: String,
    policy_name: String,
    policy_type: Option<String>,
    adjustment_type: Option<String>,
    min_adjustment_step: Option<i64>,
    min_adjustment_magnitude: Option<i64>,
    scaling_adjustment: Option<i64>,
    cooldown: Option<i64>,
    metric_aggregation_type: Option<String>,
    step_adjustments: Vec<StepIn>,
    estimated_instance_warmup: Option<i64>,
    target_tracking_configuration: Option<Value>,
    enabled: Option<bool>,
    predictive_scaling_configuration: Option<Value>,
}

const ADJUSTMENT_TYPES: &[&str] = &[
    "ChangeInCapacity",
    "ExactCapacity",
    "PercentChangeInCapacity",
];

fn check_put(req: &PutInput, kind: &str) -> Result<(), ApiError> {
    let adjustment_needed = matches!(kind, "SimpleScaling" | "StepScaling");
    match (&req.adjustment_type, adjustment_needed) {
        (None, true) => {
            return Err(validation(format!(
                "AdjustmentType is required for policy type {kind}."
            )));
        }
        (Some(t), true) if !ADJUSTMENT_TYPES.contains(&t.as_str()) => {
            return Err(validation(format!(
                "Invalid adjustment type {t}. Valid values are ChangeInCapacity, ExactCapacity and PercentChangeInCapacity."
            )));
        }
        (Some(_), false) => {
            return Err(validation(format!(
                "AdjustmentType is not supported for policy type {kind}."
            )));
        }
        _ => {}
    }
    let magnitude = req.min_adjustment_magnitude.or(req.min_adjustment_step);
    if magnitude.is_some() && req.adjustment_type.as_deref() != Some("PercentChangeInCapacity") {
        return Err(validation(
            "MinAdjustmentMagnitude is only supported with adjustment type PercentChangeInCapacity.",
        ));
    }
    if req.adjustment_type.as_deref() == Some("ExactCapacity")
        && req.scaling_adjustment.is_some_and(|a| a < 0)
    {
        return Err(validation(
            "ScalingAdjustment cannot be negative when AdjustmentType is ExactCapacity.",
        ));
    }
    match kind {
        "SimpleScaling" => {
            if req.scaling_adjustment.is_none() {
                return Err(validation(
                    "ScalingAdjustment is required for policy type SimpleScaling.",
                ));
            }
            if !req.step_adjustments.is_empty() {
                return Err(validation(
                    "StepAdjustments is not supported for policy type SimpleScaling.",
                ));
            }
        }
        "StepScaling" => {
            if req.cooldown.is_some() {
                return Err(validation(
                    "Cooldown is not supported for policy type StepScaling.",
                ));
            }
            if req.scaling_adjustment.is_some() {
                return Err(validation(
                    "ScalingAdjustment is not supported for policy type StepScaling.",
                ));
            }
            if let Some(t) = &req.metric_aggregation_type
                && !matches!(t.as_str(), "Average" | "Minimum" | "Maximum")
            {
                return Err(validation(format!(
                    "Invalid metric aggregation type {t}. Valid values are Average, Minimum and Maximum."
                )));
            }
        }
        "TargetTrackingScaling" => {
            if req.target_tracking_configuration.is_none() {
                return Err(validation(
                    "TargetTrackingConfiguration is required for policy type TargetTrackingScaling.",
                ));
            }
            if req.cooldown.is_some() || req.scaling_adjustment.is_some() {
                return Err(validation(
                    "Cooldown and ScalingAdjustment are not supported for policy type TargetTrackingScaling.",
                ));
            }
        }
        "PredictiveScaling" => {
            let Some(config) = &req.predictive_scaling_configuration else {
                return Err(validation(
                    "PredictiveScalingConfiguration is required for policy type PredictiveScaling.",
                ));
            };
            super::forecast::check_config(config)?;
        }
        other => {
            return Err(validation(format!(
                "Invalid policy type {other}. Valid values are SimpleScaling, StepScaling, TargetTrackingScaling and PredictiveScaling."
            )));
        }
    }
    Ok(())
}

/// PutScalingPolicy: create or update (same name in the same group keeps its ARN).
pub fn put_scaling_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: PutInput,
) -> Result<PolicyArnOut, ApiError> {
    let kind = req
        .policy_type
        .clone()
        .unwrap_or_else(|| "SimpleScaling".into());
    check_put(&req, &kind)?;
    let steps: Vec<StepAdjustment> = req
        .step_adjustments
        .iter()
        .map(|s| StepAdjustment {
            lower: s.metric_interval_lower_bound,
            upper: s.metric_interval_upper_bound,
            adjustment: s.scaling_adjustment,
        })
        .collect();
    if kind == "StepScaling" {
        check_steps(&steps).map_err(validation)?;
    }
    let tt = match &req.target_tracking_configuration {
        Some(cfg) => Some(target_tracking::parse(cfg)?),
        None => None,
    };
    let scope = &ctx.scope;
    let group_name = req.auto_scaling_group_name.clone();
    let (arn, old_alarms) = state.stores.with(scope, |s| {
        let a = &mut s.autoscaling;
        let g = a.group(&group_name)?;
        if let Some(t) = &tt {
            target_tracking::check_resource_label(g, t)?;
        }
        let existing = a
            .policies_of(&group_name)
            .find(|p| p.name == req.policy_name)
            .map(|p| (p.arn.clone(), p.alarms.clone(), p.policy_type.clone()));
        if existing.is_none() && a.policies_of(&group_name).count() >= 50 {
            return Err(AutoScalingError::LimitExceeded.with(
                "Maximum number of scaling policies (50) reached for this Auto Scaling group.",
            ));
        }
        let arn = existing.as_ref().map(|e| e.0.clone()).unwrap_or_else(|| {
            ids::arn(
                "autoscaling",
                &scope.region,
                &scope.account,
                &format!(
                    "scalingPolicy:{}:autoScalingGroupName/{group_name}:policyName/{}",
                    state.ids.uuid(),
                    req.policy_name
                ),
            )
        });
        // Alarms of a target-tracking policy survive an update only while it stays one.
        let old_alarms = existing
            .filter(|e| e.2 == "TargetTrackingScaling")
            .map(|e| e.1)
            .unwrap_or_default();
        let policy = Policy {
            arn: arn.clone(),
            group_name: group_name.clone(),
            name: req.policy_name.clone(),
            policy_type: kind.clone(),
            adjustment_type: req.adjustment_type.clone(),
            min_adjustment_magnitude: req.min_adjustment_magnitude.or(req.min_adjustment_step),
            scaling_adjustment: req.scaling_adjustment,
            cooldown: req.cooldown,
            step_adjustments: steps.clone(),
            metric_aggregation_type: req.metric_aggregation_type.clone(),
            estimated_instance_warmup: req.estimated_instance_warmup,
            target_tracking: req.target_tracking_configuration.clone(),
            predictive: req.predictive_scaling_configuration.clone(),
            enabled: req.enabled.unwrap_or(true),
            alarms: Vec::new(),
        };
        a.policies.insert(arn.clone(), policy);
        Ok::<_, ApiError>((arn, old_alarms))
    })?;
    let mut out = PolicyArnOut {
        policy_arn: arn.clone(),
        alarms: None,
    };
    match &tt {
        Some(t) => {
            let alarms =
                target_tracking::put_alarms(state, scope, &group_name, &arn, t, &old_alarms);
            state.stores.with(scope, |s| {
                if let Some(p) = s.autoscaling.policies.get_mut(&arn) {
                    p.alarms = alarms.clone();
                }
            });
            out.alarms = Some(AlarmOut::list(&alarms));
        }
        None => {
            let names: Vec<String> = old_alarms.into_iter().map(|(n, _)| n).collect();
            target_tracking::delete_alarms(state, scope, &names);
        }
    }
    state.touched(Topic::AutoScaling | Topic::CloudWatch);
    Ok(out)
}

/// The alarms that invoke a policy: its own (target tracking) or every alarm naming its ARN.
fn alarms_of(state: &AppState, scope: &Scope, p: &Policy) -> Vec<(String, String)> {
    if p.policy_type == "TargetTrackingScaling" {
        return p.alarms.clone();
    }
    state.stores.with(scope, |s| {
        s.cloudwatch
            .alarms
            .values()
            .filter(|a| {
                let c = &a.core;
                c.alarm_actions
                    .iter()
                    .chain(&c.ok_actions)
                    .chain(&c.insufficient_data_actions)
                    .any(|x| *x == p.arn)
            })
            .map(|a| (a.core.alarm_name.clone(), a.core.alarm_arn.clone()))
            .collect()
    })
}

/// `PolicyARNType`: PutScalingPolicy's answer (`Alarms` for target tracking only).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyArnOut {
    #[serde(rename = "PolicyARN")]
    policy_arn: String,
    alarms: Option<Vec<AlarmOut>>,
}

/// `Alarm`: an alarm that invokes a policy.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmOut {
    alarm_name: String,
    #[serde(rename = "AlarmARN")]
    alarm_arn: String,
}

impl AlarmOut {
    /// (name, ARN) pairs as alarms.
    fn list(alarms: &[(String, String)]) -> Vec<Self> {
        alarms
            .iter()
            .map(|(alarm_name, alarm_arn)| Self {
                alarm_name: alarm_name.clone(),
                alarm_arn: alarm_arn.clone(),
            })
            .collect()
    }
}

/// `StepAdjustment`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StepAdjustmentOut {
    metric_interval_lower_bound: Option<f64>,
    metric_interval_upper_bound: Option<f64>,
    scaling_adjustment: i64,
}

/// The `ScalingPolicy` output shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyOut {
    auto_scaling_group_name: String,
    policy_name: String,
    #[serde(rename = "PolicyARN")]
    policy_arn: String,
    policy_type: String,
    adjustment_type: Option<String>,
    min_adjustment_step: Option<i64>,
    min_adjustment_magnitude: Option<i64>,
    scaling_adjustment: Option<i64>,
    cooldown: Option<i64>,
    step_adjustments: Vec<StepAdjustmentOut>,
    metric_aggregation_type: Option<String>,
    estimated_instance_warmup: Option<i64>,
    alarms: Vec<AlarmOut>,
    target_tracking_configuration: Option<Kept>,
    enabled: bool,
    predictive_scaling_configuration: Option<Kept>,
}

impl PolicyOut {
    /// The policy with the alarms that invoke it; a step policy's aggregation defaults to
    /// `Average`.
    fn new(p: &Policy, alarms: &[(String, String)]) -> Self {
        let aggregation = match (&p.metric_aggregation_type, p.policy_type.as_str()) {
            (None, "StepScaling") => Some("Average".to_owned()),
            (given, _) => given.clone(),
        };
        Self {
            auto_scaling_group_name: p.group_name.clone(),
            policy_name: p.name.clone(),
            policy_arn: p.arn.clone(),
            policy_type: p.policy_type.clone(),
            adjustment_type: p.adjustment_type.clone(),
            min_adjustment_step: p.min_adjustment_magnitude,
            min_adjustment_magnitude: p.min_adjustment_magnitude,
            scaling_adjustment: p.scaling_adjustment,
            cooldown: p.cooldown,
            step_adjustments: p
                .step_adjustments
                .iter()
                .map(|s| StepAdjustmentOut {
                    metric_interval_lower_bound: s.lower,
                    metric_interval_upper_bound: s.upper,
                    scaling_adjustment: s.adjustment,
                })
                .collect(),
            metric_aggregation_type: aggregation,
            estimated_instance_warmup: p.estimated_instance_warmup,
            alarms: AlarmOut::list(alarms),
            target_tracking_configuration: Kept::opt(
                "TargetTrackingConfiguration",
                p.target_tracking.as_ref(),
            ),
            enabled: p.enabled,
            predictive_scaling_configuration: Kept::opt(
                "PredictiveScalingConfiguration",
                p.predictive.as_ref(),
            ),
        }
    }
}

/// `PoliciesType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoliciesOut {
    scaling_policies: Vec<PolicyOut>,
    next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInput {
    auto_scaling_group_name: Option<String>,
    policy_names: Vec<String>,
    policy_types: Vec<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// DescribePolicies.
pub fn describe_policies(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInput,
) -> Result<PoliciesOut, ApiError> {
    let scope = &ctx.scope;
    let chosen: Vec<Policy> = state.stores.with(scope, |s| {
        let a = &s.autoscaling;
        if let Some(g) = &req.auto_scaling_group_name {
            a.group(g)?;
        }
        Ok::<_, ApiError>(
            a.policies
                .values()
                .filter(|p| {
                    req.auto_scaling_group_name
                        .as_ref()
                        .is_none_or(|g| *g == p.group_name)
                })
                .filter(|p| {
                    req.policy_names.is_empty()
                        || req.policy_names.iter().any(|n| *n == p.name || *n == p.arn)
                })
                .filter(|p| {
                    req.policy_types.is_empty() || req.policy_types.contains(&p.policy_type)
                })
                .cloned()
                .collect(),
        )
    })?;
    let rows: Vec<PolicyOut> = chosen
        .iter()
        .map(|p| PolicyOut::new(p, &alarms_of(state, scope, p)))
        .collect();
    let (scaling_policies, next_token) =
        page(rows, req.max_records, req.next_token.as_deref(), 50)?;
    Ok(PoliciesOut {
        scaling_policies,
        next_token,
    })
}

/// Find a policy by name (in a group) or ARN.
fn find_policy<'a>(
    a: &'a super::AutoScalingStore,
    group: Option<&str>,
    name: &str,
) -> Result<&'a Policy, ApiError> {
    a.policies
        .get(name)
        .or_else(|| {
            a.policies
                .values()
                .find(|p| p.name == name && group.is_none_or(|g| g == p.group_name))
        })
        .ok_or_else(|| validation(format!("No such policy {name} found.")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteInput {
    auto_scaling_group_name: Option<String>,
    policy_name: String,
}

/// DeletePolicy: a target-tracking policy's alarms go with it; other policies leave their
/// alarms in place with the action removed (EC2 Auto Scaling User Guide, "Deleting a scaling
/// policy").
pub fn delete_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteInput,
) -> Result<(), ApiError> {
    let scope = &ctx.scope;
    let p = state.stores.with(scope, |s| {
        let a = &mut s.autoscaling;
        if let Some(g) = &req.auto_scaling_group_name {
            a.group(g)?;
        }
        let p = find_policy(a, req.auto_scaling_group_name.as_deref(), &req.policy_name)?.clone();
        a.policies.shift_remove(&p.arn);
        Ok::<_, ApiError>(p)
    })?;
    let names: Vec<String> = p.alarms.iter().map(|(n, _)| n.clone()).collect();
    target_tracking::delete_alarms(state, scope, &names);
    detach_from_alarms(state, scope, std::slice::from_ref(&p.arn), false);
    Ok(())
}

/// Remove policy ARNs from every alarm's actions; with `delete_empty`, alarms left without any
/// action are deleted (Auto Scaling API Reference, DeleteAutoScalingGroup).
pub fn detach_from_alarms(state: &AppState, scope: &Scope, arns: &[String], delete_empty: bool) {
    if arns.is_empty() {
        return;
    }
    state.stores.with(scope, |s| {
        let cw = &mut s.cloudwatch;
        let mut emptied = Vec::new();
        for alarm in cw.alarms.values_mut() {
            let c = &mut alarm.core;
            let before =
                c.alarm_actions.len() + c.ok_actions.len() + c.insufficient_data_actions.len();
            for list in [
                &mut c.alarm_actions,
                &mut c.ok_actions,
                &mut c.insufficient_data_actions,
            ] {
                list.retain(|a| !arns.contains(a));
            }
            let after =
                c.alarm_actions.len() + c.ok_actions.len() + c.insufficient_data_actions.len();
            if delete_empty && before != after && after == 0 {
                emptied.push(c.alarm_name.clone());
            }
        }
        for name in emptied {
            cw.alarms.remove(&name);
        }
    });
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecuteInput {
    auto_scaling_group_name: Option<String>,
    policy_name: String,
    honor_cooldown: bool,
    metric_value: Option<f64>,
    breach_threshold: Option<f64>,
}

/// ExecutePolicy.
pub fn execute_policy(
    ctx: &RequestContext,
    state: &AppState,
    req: ExecuteInput,
) -> Result<(), ApiError> {
    let scope = &ctx.scope;
    let arn = state.stores.with(scope, |s| {
        let a = &s.autoscaling;
        if let Some(g) = &req.auto_scaling_group_name {
            a.group(g)?;
        }
        let p = find_policy(a, req.auto_scaling_group_name.as_deref(), &req.policy_name)?;
        let metric = req.metric_value.zip(req.breach_threshold);
        match p.policy_type.as_str() {
            "StepScaling" if metric.is_none() => Err(validation(
                "MetricValue and BreachThreshold are required for a policy of type StepScaling.",
            )),
            "StepScaling" => Ok(p.arn.clone()),
            "SimpleScaling" if req.metric_value.is_some() || req.breach_threshold.is_some() => {
                Err(validation(
                    "MetricValue and BreachThreshold are not supported for a policy of type SimpleScaling.",
                ))
            }
            "SimpleScaling" => Ok(p.arn.clone()),
            other => Err(validation(format!(
                "ExecutePolicy is not supported for a policy of type {other}."
            ))),
        }
    })?;
    let trigger = Trigger::User {
        honor_cooldown: req.honor_cooldown,
        metric: req.metric_value.zip(req.breach_threshold),
    };
    execute(state, scope, &arn, &trigger)?;
    Ok(())
}
