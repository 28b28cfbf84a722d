//! The plain-text e-mail CloudWatch sends `email` subscribers of an alarm's topic (the `email`
//! variant of the notification, laid out as real alarm e-mails quoted in public code): the opening
//! sentence, a console link, the alarm details, the threshold, the monitored metric and the
//! actions, with AWS's column layout and its `EEEE dd MMMM, yyyy HH:mm:ss 'UTC'` dates.

use std::fmt::Write;

use super::actions::AlarmNotice;
use super::alarms::{AlarmCore, MetricAlarm};
use super::format::{java_double, long_date};
use crate::state::Scope;

/// Alarm details are written `- Key:` padded to this column.
const DETAIL_COLUMN: usize = 30;
/// Monitored-metric lines are padded to this column.
const METRIC_COLUMN: usize = 39;

/// One `- Key:   value` line, the key padded to `column` (AWS pads even when the value is empty).
fn line(out: &mut String, key: &str, value: &str, column: usize) {
    let _ = writeln!(out, "{:<column$}{value}", format!("- {key}:"));
}

/// The console deep link for an alarm. Updraft has no console, so this is AWS's link shape.
fn console_link(scope: &Scope, name: &str) -> String {
    let r = &scope.region;
    format!(
        "https://{r}.console.aws.amazon.com/cloudwatch/deeplink.js?region={r}#alarmsV2:alarm/{name}"
    )
}

/// A Java-style list, `[a, b]`; empty lists are written as nothing.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("[{}]", items.join(", "))
    }
}

/// The "Alarm Details" block shared by metric and composite alarms.
fn details(out: &mut String, core: &AlarmCore, scope: &Scope, notice: &AlarmNotice, date: &str) {
    out.push_str("Alarm Details:\n");
    let c = DETAIL_COLUMN;
    line(out, "Name", &core.alarm_name, c);
    line(
        out,
        "Description",
        core.alarm_description.as_deref().unwrap_or(""),
        c,
    );
    let change = format!(
        "{} -> {}",
        notice.old_state.as_str(),
        notice.new_state.as_str()
    );
    line(out, "State Change", &change, c);
    line(out, "Reason for State Change", &notice.reason, c);
    line(out, "Timestamp", date, c);
    line(out, "AWS Account", &scope.account, c);
    line(out, "Alarm Arn", &core.alarm_arn, c);
}

/// The closing "State Change Actions" block.
fn actions(out: &mut String, core: &AlarmCore) {
    out.push_str("State Change Actions:\n");
    let _ = writeln!(out, "- OK: {}", list(&core.ok_actions));
    let _ = writeln!(out, "- ALARM: {}", list(&core.alarm_actions));
    let _ = writeln!(
        out,
        "- INSUFFICIENT_DATA: {}",
        list(&core.insufficient_data_actions)
    );
}

/// The e-mail for a metric alarm's state change.
pub fn metric_alarm_email(alarm: &MetricAlarm, scope: &Scope, notice: &AlarmNotice) -> String {
    let core = &alarm.core;
    let date = long_date(notice.state_change_time);
    let region = super::notify::region_long_name(&scope.region);
    let mut out = format!(
        "You are receiving this email because your Amazon CloudWatch Alarm \"{}\" in the {region} region has entered the {} state, because \"{}\" at \"{date}\".\n\n",
        core.alarm_name,
        notice.new_state.as_str(),
        notice.reason
    );
    let _ = write!(
        out,
        "View this alarm in the AWS Management Console:\n{}\n\n",
        console_link(scope, &core.alarm_name)
    );
    details(&mut out, core, scope, notice, &date);
    let period = alarm.eval_period();
    let _ = write!(
        out,
        "\nThreshold:\n- The alarm is in the ALARM state when the metric is {} {} for at least {} of the last {} period(s) of {period} seconds.\n\n",
        alarm.comparison_operator,
        java_double(alarm.threshold),
        alarm
            .datapoints_to_alarm
            .unwrap_or(alarm.evaluation_periods),
        alarm.evaluation_periods
    );
    out.push_str("Monitored Metric:\n");
    let c = METRIC_COLUMN;
    match &alarm.metrics {
        // A metric-math alarm names its queries instead of one metric.
        Some(queries) => {
            for q in queries {
                let what = match (&q.expression, &q.metric_stat) {
                    (Some(e), _) => e.clone(),
                    (None, Some(m)) => format!(
                        "{}/{} {}",
                        m.metric.namespace.as_deref().unwrap_or(""),
                        m.metric.metric_name.as_deref().unwrap_or(""),
                        m.stat
                    ),
                    (None, None) => String::new(),
                };
                line(&mut out, &q.id, &what, c);
            }
        }
        None => {
            line(
                &mut out,
                "MetricNamespace",
                alarm.namespace.as_deref().unwrap_or(""),
                c,
            );
            line(
                &mut out,
                "MetricName",
                alarm.metric_name.as_deref().unwrap_or(""),
                c,
            );
            let dims: Vec<String> = alarm
                .dimensions
                .iter()
                .map(|d| format!("{} = {}", d.name, d.value))
                .collect();
            line(&mut out, "Dimensions", &format!("[{}]", dims.join(", ")), c);
        }
    }
    line(&mut out, "Period", &format!("{period} seconds"), c);
    let statistic = alarm
        .statistic
        .as_deref()
        .or(alarm.extended_statistic.as_deref())
        .unwrap_or("");
    if alarm.metrics.is_none() {
        line(&mut out, "Statistic", statistic, c);
    }
    line(
        &mut out,
        "Unit",
        alarm.unit.as_deref().unwrap_or("not specified"),
        c,
    );
    line(
        &mut out,
        "TreatMissingData",
        alarm.treat_missing_data.as_deref().unwrap_or("missing"),
        c,
    );
    out.push_str("\n\n");
    actions(&mut out, core);
    out
}

/// The e-mail for a composite alarm's state change: "has transitioned to", the rule, and the
/// children that triggered it (from StateReasonData's `triggeringAlarms`, at most ten).
pub fn composite_alarm_email(
    core: &AlarmCore,
    rule: &str,
    scope: &Scope,
    notice: &AlarmNotice,
) -> String {
    let date = long_date(notice.state_change_time);
    let region = super::notify::region_long_name(&scope.region);
    let mut out = format!(
        "You are receiving this email because your Amazon CloudWatch Alarm \"{}\" in the {region} region has transitioned to {} state on {date}, because \"{}\".\n\n",
        core.alarm_name,
        notice.new_state.as_str(),
        notice.reason
    );
    let _ = write!(
        out,
        "View this alarm in the AWS Management Console:\n{}\n\n",
        console_link(scope, &core.alarm_name)
    );
    details(&mut out, core, scope, notice, &date);
    line(&mut out, "Alarm Rule", rule, DETAIL_COLUMN);
    out.push_str("\nTriggering children (max. 10):\n");
    let data: Option<serde_json::Value> = notice
        .reason_data
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok());
    let children = data
        .as_ref()
        .and_then(|d| d["triggeringAlarms"].as_array())
        .into_iter()
        .flatten()
        .take(10);
    for child in children {
        let _ = writeln!(
            out,
            "- {} ({} at {})",
            child["arn"].as_str().unwrap_or(""),
            child["state"]["value"].as_str().unwrap_or(""),
            child["state"]["timestamp"].as_str().unwrap_or("")
        );
    }
    out.push('\n');
    actions(&mut out, core);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::cloudwatch::Dimension;
    use crate::services::cloudwatch::evaluate::StateValue;

    fn alarm() -> MetricAlarm {
        let topic = "arn:aws:sns:us-east-1:486183375590:ops".to_owned();
        MetricAlarm {
            core: AlarmCore {
                alarm_name: "CIS.3.10".into(),
                alarm_arn: "arn:aws:cloudwatch:us-east-1:486183375590:alarm:CIS.3.10".into(),
                alarm_description: None,
                alarm_configuration_updated_timestamp: 0.0,
                actions_enabled: true,
                ok_actions: Vec::new(),
                alarm_actions: vec![topic.clone(), topic],
                insufficient_data_actions: Vec::new(),
                state_value: StateValue::Alarm,
                state_reason: String::new(),
                state_reason_data: None,
                state_updated_timestamp: 0.0,
                state_transitioned_timestamp: 0.0,
            },
            metric_name: Some("CIS.3.10".into()),
            namespace: Some("LogMetrics".into()),
            statistic: Some("Sum".into()),
            extended_statistic: None,
            dimensions: vec![Dimension {
                name: "InstanceId".into(),
                value: "i-0abc".into(),
            }],
            period: Some(300),
            unit: None,
            evaluation_periods: 2,
            datapoints_to_alarm: Some(1),
            threshold: 3.0,
            comparison_operator: "GreaterThanOrEqualToThreshold".into(),
            treat_missing_data: None,
            evaluate_low_sample_count_percentile: None,
            metrics: None,
            threshold_metric_id: None,
            tags: Vec::new(),
            next_evaluation: 0.0,
            metric_key: None,
        }
    }

    fn notice() -> AlarmNotice {
        AlarmNotice {
            alarm_name: "CIS.3.10".into(),
            alarm_arn: "arn:aws:cloudwatch:us-east-1:486183375590:alarm:CIS.3.10".into(),
            alarm_type: "MetricAlarm",
            old_state: StateValue::Ok,
            new_state: StateValue::Alarm,
            reason: "Threshold Crossed".into(),
            reason_data: None,
            // 2021-09-15T18:32:31Z, a Wednesday.
            state_change_time: 1_631_730_751.0,
            repeat: false,
        }
    }

    #[test]
    fn metric_alarm_email_has_aws_layout_and_dates() {
        let scope = Scope::new("486183375590", "us-east-1");
        let text = metric_alarm_email(&alarm(), &scope, &notice());
        let expected = "\
You are receiving this email because your Amazon CloudWatch Alarm \"CIS.3.10\" in the US East (N. Virginia) region has entered the ALARM state, because \"Threshold Crossed\" at \"Wednesday 15 September, 2021 18:32:31 UTC\".

View this alarm in the AWS Management Console:
https://us-east-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=us-east-1#alarmsV2:alarm/CIS.3.10

Alarm Details:
- Name:                       CIS.3.10
- Description:                
- State Change:               OK -> ALARM
- Reason for State Change:    Threshold Crossed
- Timestamp:                  Wednesday 15 September, 2021 18:32:31 UTC
- AWS Account:                486183375590
- Alarm Arn:                  arn:aws:cloudwatch:us-east-1:486183375590:alarm:CIS.3.10

Threshold:
- The alarm is in the ALARM state when the metric is GreaterThanOrEqualToThreshold 3.0 for at least 1 of the last 2 period(s) of 300 seconds.

Monitored Metric:
- MetricNamespace:                     LogMetrics
- MetricName:                          CIS.3.10
- Dimensions:                          [InstanceId = i-0abc]
- Period:                              300 seconds
- Statistic:                           Sum
- Unit:                                not specified
- TreatMissingData:                    missing


State Change Actions:
- OK: 
- ALARM: [arn:aws:sns:us-east-1:486183375590:ops, arn:aws:sns:us-east-1:486183375590:ops]
- INSUFFICIENT_DATA: 
";
        assert_eq!(text, expected);
    }

    #[test]
    fn composite_alarm_email_names_rule_and_triggering_children() {
        let scope = Scope::new("486183375590", "eu-west-1");
        let mut n = notice();
        n.reason_data = Some(
            r#"{"triggeringAlarms":[{"arn":"arn:child","state":{"value":"ALARM","timestamp":"2021-09-15T18:32:31.000+0000"}}]}"#
                .into(),
        );
        let core = alarm().core;
        let text = composite_alarm_email(&core, "ALARM(child)", &scope, &n);
        assert!(text.starts_with(
            "You are receiving this email because your Amazon CloudWatch Alarm \"CIS.3.10\" in the EU (Ireland) region has transitioned to ALARM state on Wednesday 15 September, 2021 18:32:31 UTC, because \"Threshold Crossed\".\n\n"
        ), "{text}");
        assert!(
            text.contains("\n- Alarm Rule:                 ALARM(child)\n"),
            "{text}"
        );
        assert!(text.contains(
            "Triggering children (max. 10):\n- arn:child (ALARM at 2021-09-15T18:32:31.000+0000)\n\nState Change Actions:\n"
        ), "{text}");
    }
}
