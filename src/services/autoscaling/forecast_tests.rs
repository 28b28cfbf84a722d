//! Unit tests of the forecast model.

use serde_json::json;

use super::*;
use crate::services::cloudwatch::stats::Agg;

/// 2026-11-28T00:00:00Z.
const DAY0: i64 = 1_795_824_000;

fn cpu_key() -> MetricKey {
    MetricKey::new(
        "AWS/EC2",
        "CPUUtilization",
        vec![("AutoScalingGroupName".into(), "web".into())],
    )
}

/// Two days of per-minute CPU from three instances: 60 % each at 10:00 UTC, 20 % otherwise.
fn history() -> (MetricStore, f64) {
    let now = (DAY0 + 2 * DAY) as f64;
    let mut m = MetricStore::default();
    for minute in 0..(2 * DAY / 60) {
        let t = DAY0 + minute * 60;
        let per_instance = if (t.rem_euclid(DAY) / HOUR) == 10 {
            60.0
        } else {
            20.0
        };
        for _ in 0..3 {
            m.put(
                &cpu_key(),
                "Percent",
                t as f64,
                &Agg::value(per_instance),
                false,
                now,
            );
        }
    }
    (m, now)
}

fn group() -> Group {
    Group {
        name: "web".into(),
        min_size: 1,
        max_size: 3,
        ..Group::default()
    }
}

fn config(breach: &str) -> Value {
    json!({
        "MetricSpecifications": [{
            "TargetValue": 50.0,
            "PredefinedMetricPairSpecification": {"PredefinedMetricType": "ASGCPUUtilization"}
        }],
        "Mode": "ForecastOnly",
        "MaxCapacityBreachBehavior": breach,
        "MaxCapacityBuffer": 50,
    })
}

#[test]
fn the_forecast_repeats_the_daily_profile_and_sizes_capacity_by_target() {
    let (m, now) = history();
    let day = DAY0 + 2 * DAY;
    let hours: Vec<i64> = (9..12).map(|h| day + h * HOUR).collect();
    let (loads, capacity) = compute(&m, &group(), &config("HonorMaxCapacity"), &hours, now);
    assert_eq!(loads.len(), 1);
    // Total load: 3 × 20 = 60, then 3 × 60 = 180 at 10:00.
    assert_eq!(loads[0].values, [60.0, 180.0, 60.0]);
    // ceil(60 / 50) = 2; ceil(180 / 50) = 4, held at MaxSize 3.
    assert_eq!(capacity, [2.0, 3.0, 2.0]);
    // IncreaseMaxCapacity lets it reach MaxSize + 50 % = 5.
    let (_, capacity) = compute(&m, &group(), &config("IncreaseMaxCapacity"), &hours, now);
    assert_eq!(capacity, [2.0, 4.0, 2.0]);
}

#[test]
fn no_history_gives_an_empty_forecast() {
    let m = MetricStore::default();
    let hours = vec![DAY0, DAY0 + HOUR];
    let (loads, capacity) = compute(&m, &group(), &config("HonorMaxCapacity"), &hours, 0.0);
    assert!(loads[0].values.is_empty() && loads[0].timestamps.is_empty());
    assert!(capacity.is_empty());
}

#[test]
fn configs_need_a_metric_and_a_positive_target() {
    assert!(check_config(&config("HonorMaxCapacity")).is_ok());
    assert!(check_config(&json!({"MetricSpecifications": []})).is_err());
    let no_target = json!({"MetricSpecifications": [{
        "TargetValue": 0,
        "PredefinedMetricPairSpecification": {"PredefinedMetricType": "ASGCPUUtilization"}
    }]});
    assert!(check_config(&no_target).is_err());
    let unknown = json!({"MetricSpecifications": [{
        "TargetValue": 10,
        "PredefinedMetricPairSpecification": {"PredefinedMetricType": "Nope"}
    }]});
    assert!(check_config(&unknown).is_err());
    let custom = json!({"MetricSpecifications": [{
        "TargetValue": 10,
        "CustomizedLoadMetricSpecification": {"MetricDataQueries": [{
            "Id": "load",
            "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Jobs"}, "Stat": "Sum"}
        }]}
    }]});
    assert_eq!(
        load_metric(&custom["MetricSpecifications"][0], "web"),
        Some(MetricKey::new("App", "Jobs", vec![]))
    );
}
