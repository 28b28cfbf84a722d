//! The message CloudWatch publishes to an SNS topic when an alarm changes state: the subject
//! `ALARM: "name" in US East (N. Virginia)` and a `MessageStructure=json` message whose
//! `default` is the alarm JSON (keys in AWS's order, as in real alarm messages: the
//! `publishedMessage` of Action history items and notifications quoted in public code), `sms`
//! the subject line and `email` the plain-text e-mail (`notify_email.rs`).

use serde::Serialize;

use super::CloudWatchStore;
use super::actions::AlarmNotice;
use super::alarms::{AlarmCore, MetricAlarm};
use crate::iso8601::format_iso8601;
use crate::state::Scope;

/// The long region name CloudWatch writes in subjects and messages. CloudWatch still says
/// `EU (...)` where botocore's endpoint list says `Europe (...)`.
pub fn region_long_name(region: &str) -> String {
    let name = match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-south-2" => "Asia Pacific (Hyderabad)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-southeast-4" => "Asia Pacific (Melbourne)",
        "ca-central-1" => "Canada (Central)",
        "ca-west-1" => "Canada West (Calgary)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-central-2" => "EU (Zurich)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "eu-south-2" => "EU (Spain)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "il-central-1" => "Israel (Tel Aviv)",
        "me-central-1" => "Middle East (UAE)",
        "me-south-1" => "Middle East (Bahrain)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => other,
    };
    name.to_owned()
}

/// `2024-12-06T05:36:35.649+0000`, as alarm messages write times.
fn message_time(epoch_seconds: f64) -> String {
    let iso = format_iso8601(epoch_seconds);
    format!("{}+0000", iso.trim_end_matches('Z'))
}

#[derive(Serialize)]
struct TriggerDimension<'a> {
    value: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Trigger<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_statistic: Option<&'a str>,
    unit: Option<&'a str>,
    dimensions: Vec<TriggerDimension<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a Vec<super::get_metric_data::MetricDataQuery>>,
    period: i64,
    evaluation_periods: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<i64>,
    comparison_operator: &'a str,
    threshold: f64,
    treat_missing_data: &'a str,
    evaluate_low_sample_count_percentile: &'a str,
}

fn trigger(alarm: &MetricAlarm) -> Trigger<'_> {
    let statistic = alarm.statistic.as_deref().map(|s| match s {
        "SampleCount" => "SAMPLE_COUNT".to_owned(),
        other => other.to_ascii_uppercase(),
    });
    let single = alarm.metrics.is_none();
    Trigger {
        metric_name: alarm.metric_name.as_deref(),
        namespace: alarm.namespace.as_deref(),
        statistic_type: single.then_some(if alarm.extended_statistic.is_some() {
            "ExtendedStatistic"
        } else {
            "Statistic"
        }),
        statistic,
        extended_statistic: alarm.extended_statistic.as_deref(),
        unit: alarm.unit.as_deref(),
        dimensions: alarm
            .dimensions
            .iter()
            .map(|d| TriggerDimension {
                value: &d.value,
                name: &d.name,
            })
            .collect(),
        metrics: alarm.metrics.as_ref(),
        period: alarm.eval_period(),
        evaluation_periods: alarm.evaluation_periods,
        datapoints_to_alarm: alarm.datapoints_to_alarm,
        comparison_operator: &alarm.comparison_operator,
        threshold: alarm.threshold,
        treat_missing_data: alarm.treat_missing_data.as_deref().unwrap_or(""),
        evaluate_low_sample_count_percentile: alarm
            .evaluate_low_sample_count_percentile
            .as_deref()
            .unwrap_or(""),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Message<'a> {
    alarm_name: &'a str,
    alarm_description: Option<&'a str>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    alarm_configuration_updated_timestamp: String,
    new_state_value: &'static str,
    new_state_reason: &'a str,
    state_change_time: String,
    region: String,
    alarm_arn: &'a str,
    old_state_value: &'static str,
    #[serde(rename = "OKActions")]
    ok_actions: &'a [String],
    alarm_actions: &'a [String],
    insufficient_data_actions: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger: Option<Trigger<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm_rule: Option<&'a str>,
}

/// What CloudWatch publishes for one state change: SNS `MessageStructure=json` with a
/// `default` (the alarm JSON, for http/https/email-json/sqs/lambda), an `sms` line and an
/// `email` text (shapes as in real alarm messages: the `publishedMessage` of Action history
/// items and notifications quoted in public code).
#[derive(Debug, Clone)]
pub struct AlarmMessage {
    /// `ALARM: "name" in US East (N. Virginia)`, under 100 characters as SNS requires.
    pub subject: String,
    /// The alarm JSON.
    pub default: String,
    /// The short line SMS subscribers get (the subject).
    pub sms: String,
    /// The plain-text e-mail `email` subscribers get.
    pub email: String,
}

#[derive(Serialize)]
struct Structure<'a> {
    default: &'a str,
    sms: &'a str,
    email: &'a str,
}

impl AlarmMessage {
    /// The per-protocol variants besides `default`, as SNS takes them.
    pub fn variants(&self) -> [(&str, &str); 2] {
        [("sms", self.sms.as_str()), ("email", self.email.as_str())]
    }

    /// The message-structure JSON in AWS's key order, which the Action history item records
    /// as `publishedMessage`.
    pub fn published_message(&self) -> String {
        serde_json::to_string(&Structure {
            default: &self.default,
            sms: &self.sms,
            email: &self.email,
        })
        .unwrap_or_default()
    }
}

/// The notification for `notice`, read from the alarm as it is stored now; `None` when the
/// alarm is gone.
pub fn alarm_message(
    store: &CloudWatchStore,
    scope: &Scope,
    notice: &AlarmNotice,
) -> Option<AlarmMessage> {
    let metric = store.alarms.get(&notice.alarm_name);
    let composite = match metric {
        Some(_) => None,
        None => Some(store.composites.get(&notice.alarm_name)?),
    };
    let (core, trigger, rule): (&AlarmCore, _, _) = match (metric, composite) {
        (Some(a), _) => (&a.core, Some(trigger(a)), None),
        (None, Some(c)) => (&c.core, None, Some(c.alarm_rule.as_str())),
        (None, None) => return None,
    };
    let region = region_long_name(&scope.region);
    let message = Message {
        alarm_name: &core.alarm_name,
        alarm_description: core.alarm_description.as_deref(),
        aws_account_id: &scope.account,
        alarm_configuration_updated_timestamp: message_time(
            core.alarm_configuration_updated_timestamp,
        ),
        new_state_value: notice.new_state.as_str(),
        new_state_reason: &notice.reason,
        state_change_time: message_time(notice.state_change_time),
        region: region.clone(),
        alarm_arn: &core.alarm_arn,
        old_state_value: notice.old_state.as_str(),
        ok_actions: &core.ok_actions,
        alarm_actions: &core.alarm_actions,
        insufficient_data_actions: &core.insufficient_data_actions,
        trigger,
        alarm_rule: rule,
    };
    let sms = format!(
        "{}: \"{}\" in {region}",
        notice.new_state.as_str(),
        core.alarm_name
    );
    // SNS refuses subjects of 100 characters or more.
    let subject = if sms.chars().count() > 99 {
        sms.chars().take(99).collect()
    } else {
        sms.clone()
    };
    let email = match (metric, rule) {
        (Some(a), _) => super::notify_email::metric_alarm_email(a, scope, notice),
        (None, Some(rule)) => super::notify_email::composite_alarm_email(core, rule, scope, notice),
        (None, None) => return None,
    };
    Some(AlarmMessage {
        subject,
        default: serde_json::to_string(&message).ok()?,
        sms,
        email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_regions_are_written_as_cloudwatch_writes_them() {
        assert_eq!(
            message_time(1_733_463_395.649),
            "2024-12-06T05:36:35.649+0000"
        );
        assert_eq!(region_long_name("ap-northeast-2"), "Asia Pacific (Seoul)");
        assert_eq!(region_long_name("eu-west-1"), "EU (Ireland)");
        assert_eq!(region_long_name("xx-test-1"), "xx-test-1");
    }
}
