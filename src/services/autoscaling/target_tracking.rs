//! Target tracking: the configuration, and the two CloudWatch alarms Auto Scaling creates and
//! owns for each policy (EC2 Auto Scaling User Guide, "Target tracking scaling policies for
//! Amazon EC2 Auto Scaling"; shapes as in real Auto Scaling notifications quoted in public
//! code): `TargetTracking-{group}-AlarmHigh-{uuid}` (above the target for 3 of 3 one-minute
//! periods) and `…-AlarmLow-{uuid}` (below 0.7 × target — the ratio observed on AWS — for 15
//! of 15), both invoking the policy.

use serde::Deserialize;
use serde_json::Value;

use super::store::Group;
use super::validation;
use crate::error::ApiError;
use crate::services::cloudwatch::alarms::{AlarmCore, AlarmSettings, MetricAlarm};
use crate::services::cloudwatch::put_alarm::config_item;
use crate::services::cloudwatch::store::MetricKey;
use crate::services::cloudwatch::{Dimension, dimension_pairs};
use crate::state::{AppState, Scope, Topic, ids};

/// AlarmLow's threshold as a fraction of the target (undocumented; the ratio seen in the
/// `InvokingAlarms` of real Auto Scaling notifications: thresholds 35, 28 and 14 for targets
/// 50, 40 and 20).
const LOW_RATIO: f64 = 0.7;

/// A parsed `TargetTrackingConfiguration`.
#[derive(Debug, Clone)]
pub struct TargetTracking {
    /// TargetValue.
    pub target_value: f64,
    /// DisableScaleIn.
    pub disable_scale_in: bool,
    /// Namespace, metric name, dimensions, statistic, unit of the tracked metric. For
    /// predefined metrics the dimensions hold `AutoScalingGroupName` = `""` until bound.
    pub metric: (
        String,
        String,
        Vec<(String, String)>,
        String,
        Option<String>,
    ),
    /// PredefinedMetricType, when predefined.
    pub predefined: Option<String>,
    /// ResourceLabel (ALBRequestCountPerTarget).
    pub resource_label: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Config {
    target_value: Option<f64>,
    disable_scale_in: bool,
    predefined_metric_specification: Option<Predefined>,
    customized_metric_specification: Option<Customized>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Predefined {
    predefined_metric_type: String,
    resource_label: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Customized {
    metric_name: Option<String>,
    namespace: Option<String>,
    dimensions: Vec<Dimension>,
    statistic: Option<String>,
    unit: Option<String>,
    metrics: Vec<Value>,
}

/// Parse and check a configuration.
pub fn parse(cfg: &Value) -> Result<TargetTracking, ApiError> {
    let c: Config = serde_json::from_value(cfg.clone())
        .map_err(|_| validation("Invalid TargetTrackingConfiguration."))?;
    let target_value = c
        .target_value
        .ok_or_else(|| validation("TargetValue is required in TargetTrackingConfiguration."))?;
    let (metric, predefined, resource_label) = match (
        c.predefined_metric_specification,
        c.customized_metric_specification,
    ) {
        (Some(p), None) => {
            let (ns, name, stat) = match p.predefined_metric_type.as_str() {
                "ASGAverageCPUUtilization" => ("AWS/EC2", "CPUUtilization", "Average"),
                "ASGAverageNetworkIn" => ("AWS/EC2", "NetworkIn", "Average"),
                "ASGAverageNetworkOut" => ("AWS/EC2", "NetworkOut", "Average"),
                "ALBRequestCountPerTarget" => {
                    ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum")
                }
                other => {
                    return Err(validation(format!(
                        "Unsupported predefined metric type {other}. Valid values are ASGAverageCPUUtilization, ASGAverageNetworkIn, ASGAverageNetworkOut and ALBRequestCountPerTarget."
                    )));
                }
            };
            let dims = if name == "RequestCountPerTarget" {
                let label = p.resource_label.clone().ok_or_else(|| {
                    validation("ResourceLabel is required for ALBRequestCountPerTarget.")
                })?;
                let tg = label
                    .split_once("/targetgroup/")
                    .map(|(_, tg)| format!("targetgroup/{tg}"))
                    .filter(|_| label.starts_with("app/"))
                    .ok_or_else(|| validation(format!("Invalid resource label {label}.")))?;
                vec![("TargetGroup".to_owned(), tg)]
            } else {
                vec![("AutoScalingGroupName".to_owned(), String::new())]
            };
            (
                (ns.to_owned(), name.to_owned(), dims, stat.to_owned(), None),
                Some(p.predefined_metric_type),
                p.resource_label,
            )
        }
        (None, Some(m)) => {
            if !m.metrics.is_empty() {
                return Err(validation(
                    "Metric math in CustomizedMetricSpecification is not supported by Updraft.",
                ));
            }
            let (Some(name), Some(ns), Some(stat)) = (m.metric_name, m.namespace, m.statistic)
            else {
                return Err(validation(
                    "CustomizedMetricSpecification requires MetricName, Namespace and Statistic.",
                ));
            };
            (
                (ns, name, dimension_pairs(&m.dimensions), stat, m.unit),
                None,
                None,
            )
        }
        _ => {
            return Err(validation(
                "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified.",
            ));
        }
    };
    Ok(TargetTracking {
        target_value,
        disable_scale_in: c.disable_scale_in,
        metric,
        predefined,
        resource_label,
    })
}

/// ALBRequestCountPerTarget needs a target group attached to the group.
pub fn check_resource_label(g: &Group, t: &TargetTracking) -> Result<(), ApiError> {
    let Some(label) = &t.resource_label else {
        return Ok(());
    };
    let tg = label
        .split_once("/targetgroup/")
        .map(|(_, x)| x)
        .unwrap_or("");
    if g.target_group_arns()
        .iter()
        .any(|arn| arn.ends_with(&format!("targetgroup/{tg}")))
    {
        Ok(())
    } else {
        Err(validation(format!(
            "The target group in resource label {label} is not attached to the Auto Scaling group {}.",
            g.name
        )))
    }
}

/// Create (or update in place) the policy's two alarms; returns (name, ARN) pairs.
/// `existing` are the alarms of a previous version of the policy, kept by name.
pub fn put_alarms(
    state: &AppState,
    scope: &Scope,
    group: &str,
    policy_arn: &str,
    t: &TargetTracking,
    existing: &[(String, String)],
) -> Vec<(String, String)> {
    let now = state.clock.now();
    let (ns, name, dims, stat, unit) = &t.metric;
    let dims: Vec<(String, String)> = dims
        .iter()
        .map(|(k, v)| {
            let v = if k == "AutoScalingGroupName" && v.is_empty() {
                group.to_owned()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    let find = |kind: &str| {
        existing
            .iter()
            .find(|(n, _)| n.contains(&format!("-{kind}-")))
            .map(|(n, _)| n.clone())
    };
    let mut specs = vec![("AlarmHigh", "GreaterThanThreshold", t.target_value, 3)];
    if !t.disable_scale_in {
        specs.push((
            "AlarmLow",
            "LessThanThreshold",
            t.target_value * LOW_RATIO,
            15,
        ));
    } else if let Some(low) = find("AlarmLow") {
        delete_alarms(state, scope, &[low]);
    }
    let description =
        format!("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy_arn}.");
    let mut out = Vec::new();
    state.stores.with(scope, |s| {
        let cw = &mut s.cloudwatch;
        for (kind, op, threshold, periods) in specs {
            let alarm_name = find(kind)
                .unwrap_or_else(|| format!("TargetTracking-{group}-{kind}-{}", state.ids.uuid()));
            let arn = ids::arn(
                "cloudwatch",
                &scope.region,
                &scope.account,
                &format!("alarm:{alarm_name}"),
            );
            let actions = vec![policy_arn.to_owned()];
            let settings = AlarmSettings {
                name: &alarm_name,
                arn: arn.clone(),
                description: Some(&description),
                actions_enabled: Some(true),
                ok_actions: None,
                alarm_actions: Some(&actions),
                insufficient_data_actions: None,
            };
            let old = cw.alarms.get(&alarm_name);
            let core = AlarmCore::put(settings, old.map(|o| &o.core), now);
            let alarm = MetricAlarm {
                core,
                metric_name: Some(name.clone()),
                namespace: Some(ns.clone()),
                statistic: Some(stat.clone()),
                extended_statistic: None,
                dimensions: dims
                    .iter()
                    .map(|(k, v)| Dimension {
                        name: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                period: Some(60),
                unit: unit.clone(),
                evaluation_periods: periods,
                datapoints_to_alarm: Some(periods),
                threshold,
                comparison_operator: op.to_owned(),
                treat_missing_data: None,
                evaluate_low_sample_count_percentile: None,
                metrics: None,
                threshold_metric_id: None,
                tags: Vec::new(),
                next_evaluation: now,
                metric_key: Some(MetricKey::new(ns, name, dims.clone())),
            };
            let change = if old.is_some() { "Update" } else { "Create" };
            cw.history.push(config_item(change, &alarm, now));
            cw.alarms.insert(alarm_name.clone(), alarm);
            out.push((alarm_name, arn));
        }
    });
    state.touched(Topic::CloudWatch);
    out
}

/// Delete alarms by name (the target-tracking alarms of a deleted policy).
pub fn delete_alarms(state: &AppState, scope: &Scope, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let now = state.clock.now();
    state.stores.with(scope, |s| {
        let cw = &mut s.cloudwatch;
        for n in names {
            if let Some(alarm) = cw.alarms.remove(n) {
                cw.history.push(config_item("Delete", &alarm, now));
            }
        }
    });
}

/// Whether an alarm name is a target-tracking AlarmHigh (`Some(true)`) or AlarmLow.
pub fn alarm_side(alarm_name: &str) -> Option<bool> {
    if !alarm_name.starts_with("TargetTracking-") {
        return None;
    }
    if alarm_name.contains("-AlarmHigh-") {
        Some(true)
    } else if alarm_name.contains("-AlarmLow-") {
        Some(false)
    } else {
        None
    }
}
