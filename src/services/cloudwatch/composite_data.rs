//! The JSON documents a composite alarm writes: its ConfigurationUpdate HistoryData and the
//! StateReasonData naming the child that moved it. Keys come in the sorted order AWS writes.

use serde::Serialize;

use super::composite::CompositeAlarm;
use super::evaluate::StateValue;
use super::format::data_date;
use super::history::HistoryItem;

/// A ConfigurationUpdate history item for a composite alarm.
pub fn config_item(kind: &str, c: &CompositeAlarm, now: f64) -> HistoryItem {
    let (verb, key) = match kind {
        "Create" => ("created", "createdAlarm"),
        "Update" => ("updated", "updatedAlarm"),
        _ => ("deleted", "deletedAlarm"),
    };
    /// The alarm as HistoryData shows it (keys in the sorted order AWS writes them).
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Snapshot<'a> {
        actions_enabled: bool,
        alarm_actions: &'a [String],
        alarm_arn: &'a str,
        alarm_configuration_updated_timestamp: String,
        alarm_name: &'a str,
        alarm_rule: &'a str,
        insufficient_data_actions: &'a [String],
        okactions: &'a [String],
        state_value: &'static str,
    }
    let body = serde_json::to_string(&Snapshot {
        actions_enabled: c.core.actions_enabled,
        alarm_actions: &c.core.alarm_actions,
        alarm_arn: &c.core.alarm_arn,
        alarm_configuration_updated_timestamp: data_date(
            c.core.alarm_configuration_updated_timestamp,
        ),
        alarm_name: &c.core.alarm_name,
        alarm_rule: &c.alarm_rule,
        insufficient_data_actions: &c.core.insufficient_data_actions,
        okactions: &c.core.ok_actions,
        state_value: c.core.state_value.as_str(),
    })
    .unwrap_or_default();
    HistoryItem {
        alarm_name: c.core.alarm_name.clone(),
        alarm_type: "CompositeAlarm",
        timestamp: now,
        history_item_type: "ConfigurationUpdate",
        history_summary: format!("Alarm \"{}\" {verb}", c.core.alarm_name),
        history_data: format!("{{\"version\":\"1.0\",\"type\":\"{kind}\",\"{key}\":{body}}}"),
    }
}

/// StateReasonData of a composite moved by a child: the child and its new state.
pub fn triggering_data(arn: &str, state: StateValue, at: f64) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Data<'a> {
        triggering_alarms: [Triggering<'a>; 1],
    }
    #[derive(Serialize)]
    struct Triggering<'a> {
        arn: &'a str,
        state: ChildState,
    }
    #[derive(Serialize)]
    struct ChildState {
        timestamp: String,
        value: &'static str,
    }
    serde_json::to_string(&Data {
        triggering_alarms: [Triggering {
            arn,
            state: ChildState {
                timestamp: data_date(at),
                value: state.as_str(),
            },
        }],
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn triggering_data_names_the_child_and_its_state() {
        let at = 1_795_838_400.0;
        assert_eq!(
            triggering_data("arn:a", StateValue::Alarm, at),
            json!({"triggeringAlarms": [{"arn": "arn:a",
                "state": {"value": "ALARM", "timestamp": data_date(at)}}]})
            .to_string()
        );
    }
}
