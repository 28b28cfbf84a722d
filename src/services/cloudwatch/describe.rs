//! DescribeAlarms and DescribeAlarmsForMetric (CloudWatch API Reference, those operations; the
//! fields and their order as recorded against AWS in LocalStack's CloudWatch tests).

use serde::{Deserialize, Serialize};

use super::composite::CompositeAlarm;
use super::evaluate::StateValue;
use super::views::{CompositeAlarmOut, MetricAlarmOut};
use super::{Dimension, enum_error, invalid_combination, invalid_token, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::paging::{Paging, page};
use crate::services::{Reply, Sent};
use crate::state::AppState;

const DEFAULT_PAGE: usize = 50;

/// The alarm types a request asks for; metric alarms only when absent.
pub fn alarm_types(types: Option<&[String]>) -> Result<Vec<&'static str>, ApiError> {
    let Some(types) = types else {
        return Ok(vec!["MetricAlarm"]);
    };
    types
        .iter()
        .enumerate()
        .map(|(i, t)| match t.as_str() {
            "MetricAlarm" => Ok("MetricAlarm"),
            "CompositeAlarm" => Ok("CompositeAlarm"),
            other => Err(enum_error(
                other,
                &format!("alarmTypes.{}.member", i + 1),
                "CompositeAlarm, MetricAlarm",
            )),
        })
        .collect()
}

/// DescribeAlarms input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAlarmsInput {
    alarm_names: Option<Vec<String>>,
    alarm_name_prefix: Option<String>,
    alarm_types: Option<Vec<String>>,
    children_of_alarm_name: Option<String>,
    parents_of_alarm_name: Option<String>,
    state_value: Option<String>,
    action_prefix: Option<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAlarmsOutput<'a> {
    composite_alarms: Vec<CompositeAlarmOut<'a>>,
    metric_alarms: Vec<MetricAlarmOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// DescribeAlarms: the page is written while the store lock is held (no copy of the alarms).
pub fn describe_alarms(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeAlarmsInput,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    if req.alarm_names.is_some() && req.alarm_name_prefix.is_some() {
        // UNVERIFIED wording.
        return Err(invalid_combination(
            "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.",
        ));
    }
    if req.alarm_names.as_ref().is_some_and(|n| n.len() > 100) {
        return Err(validation(
            "1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100",
        ));
    }
    let wanted_state = match &req.state_value {
        None => None,
        Some(s) => Some(
            StateValue::parse(s)
                .ok_or_else(|| enum_error(s, "stateValue", "INSUFFICIENT_DATA, ALARM, OK"))?,
        ),
    };
    let limit = match req.max_records {
        None => DEFAULT_PAGE,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100"
            )));
        }
    };
    let mut types = alarm_types(req.alarm_types.as_deref())?;
    if req.children_of_alarm_name.is_some() || req.parents_of_alarm_name.is_some() {
        types = vec!["MetricAlarm", "CompositeAlarm"];
    }
    state.stores.with(&ctx.scope, |s| {
        let cw = &s.cloudwatch;
        let children: Option<Vec<String>> = req.children_of_alarm_name.as_ref().map(|p| {
            cw.composites
                .get(p)
                .map(CompositeAlarm::children)
                .unwrap_or_default()
        });
        let keep = |name: &str, core: &super::alarms::AlarmCore| {
            req.alarm_names
                .as_ref()
                .is_none_or(|n| n.iter().any(|x| x == name))
                && req
                    .alarm_name_prefix
                    .as_ref()
                    .is_none_or(|p| name.starts_with(p.as_str()))
                && wanted_state.is_none_or(|w| w == core.state_value)
                && req.action_prefix.as_ref().is_none_or(|p| {
                    core.ok_actions
                        .iter()
                        .chain(&core.alarm_actions)
                        .chain(&core.insufficient_data_actions)
                        .any(|a| a.starts_with(p.as_str()))
                })
                && children
                    .as_ref()
                    .is_none_or(|c| c.iter().any(|x| x == name))
                && req.parents_of_alarm_name.as_ref().is_none_or(|child| {
                    cw.composites
                        .get(name)
                        .is_some_and(|c| c.children().contains(child))
                })
        };
        enum Either<'a> {
            M(MetricAlarmOut<'a>),
            C(CompositeAlarmOut<'a>),
        }
        let metric = cw
            .alarms
            .iter()
            .filter(|_| types.contains(&"MetricAlarm"))
            .filter(|(n, a)| keep(n, &a.core))
            .map(|(_, a)| Either::M(MetricAlarmOut::new(a)));
        let composite = cw
            .composites
            .iter()
            .filter(|_| types.contains(&"CompositeAlarm"))
            .filter(|(n, c)| keep(n, &c.core))
            .map(|(_, c)| Either::C(CompositeAlarmOut::new(c)));
        let (selected, next_token) = page(
            metric.chain(composite),
            req.next_token.as_deref(),
            limit,
            Paging::LENIENT_OFFSET,
        )
        .map_err(|_| invalid_token())?;
        let mut out = DescribeAlarmsOutput {
            composite_alarms: Vec::new(),
            metric_alarms: Vec::new(),
            next_token,
        };
        for e in selected {
            match e {
                Either::M(a) => out.metric_alarms.push(a),
                Either::C(c) => out.composite_alarms.push(c),
            }
        }
        reply.send(&out)
    })
}

/// DescribeAlarmsForMetric input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsForMetricInput {
    metric_name: String,
    namespace: String,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    dimensions: Option<Vec<Dimension>>,
    period: Option<i64>,
    unit: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAlarmsForMetricOutput<'a> {
    metric_alarms: Vec<MetricAlarmOut<'a>>,
}

/// DescribeAlarmsForMetric: alarms on exactly this metric (dimension set), narrowed by the
/// optional statistic, period and unit.
pub fn describe_alarms_for_metric(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeAlarmsForMetricInput,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    let mut dims = req.dimensions.clone();
    if let Some(d) = &mut dims {
        d.sort();
    }
    state.stores.with(&ctx.scope, |s| {
        let alarms = s
            .cloudwatch
            .alarms
            .values()
            .filter(|a| {
                a.metric_name.as_deref() == Some(&req.metric_name)
                    && a.namespace.as_deref() == Some(&req.namespace)
                    && req
                        .statistic
                        .as_ref()
                        .is_none_or(|x| a.statistic.as_ref() == Some(x))
                    && req
                        .extended_statistic
                        .as_ref()
                        .is_none_or(|x| a.extended_statistic.as_ref() == Some(x))
                    && req.period.is_none_or(|p| a.period == Some(p))
                    && req.unit.as_ref().is_none_or(|u| a.unit.as_ref() == Some(u))
                    && dims.as_ref().is_none_or(|d| {
                        let mut mine = a.dimensions.clone();
                        mine.sort();
                        mine == *d
                    })
            })
            .map(MetricAlarmOut::new)
            .collect();
        reply.send(&DescribeAlarmsForMetricOutput {
            metric_alarms: alarms,
        })
    })
}
