//! Unit tests of `mixed`: weights, the On-Demand/Spot split and the allocation strategies.

use serde_json::json;

use super::*;
use crate::services::autoscaling::plan::tests::inst;
use crate::services::autoscaling::store::LifecycleState;

fn group(policy: Value, desired: i64) -> Group {
    Group {
        name: "g".into(),
        max_size: 20,
        desired_capacity: desired,
        availability_zones: vec!["a".into()],
        termination_policies: vec!["Default".into()],
        mixed_instances_policy: Some(policy),
        ..Group::default()
    }
}

fn policy(overrides: Value, distribution: Value) -> Value {
    json!({
        "LaunchTemplate": {
            "LaunchTemplateSpecification": {"LaunchTemplateName": "lt"},
            "Overrides": overrides,
        },
        "InstancesDistribution": distribution,
    })
}

fn summary(picks: &[Pick]) -> Vec<(String, i64, bool)> {
    picks
        .iter()
        .map(|p| {
            (
                p.instance_type.clone().unwrap_or_default(),
                units(p.weight.as_deref()),
                p.spot,
            )
        })
        .collect()
}

#[test]
fn weights_fill_desired_with_base_and_percentage_split() {
    let p = policy(
        json!([
            {"InstanceType": "t3.small", "WeightedCapacity": "2"},
            {"InstanceType": "t3.micro", "WeightedCapacity": "1"},
        ]),
        json!({"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 50}),
    );
    let g = group(p, 4);
    // On-Demand share: 1 + ceil(50% of 3) = 3 units; prioritized takes the first type that fits.
    assert_eq!(Mixed::of(&g).unwrap().on_demand_target(4), 3);
    let picks = plan_launches(&g, 0, 4);
    assert_eq!(
        summary(&picks),
        [
            ("t3.small".to_owned(), 2, false),
            ("t3.micro".to_owned(), 1, false),
            ("t3.micro".to_owned(), 1, true),
        ]
    );
    let total: i64 = picks.iter().map(|p| units(p.weight.as_deref())).sum();
    assert_eq!(total, 4);
}

#[test]
fn a_heavy_only_type_overshoots_by_less_than_its_weight() {
    let p = policy(
        json!([{"InstanceType": "t3.large", "WeightedCapacity": "3"}]),
        json!({}),
    );
    let g = group(p, 4);
    let picks = plan_launches(&g, 0, 4);
    assert_eq!(picks.len(), 2);
    assert!(picks.iter().all(|p| !p.spot));
}

#[test]
fn lowest_price_orders_by_price_per_unit_and_prioritized_by_order() {
    let p = policy(
        json!([
            {"InstanceType": "m5.large", "WeightedCapacity": "1"},
            {"InstanceType": "t3.medium", "WeightedCapacity": "1"},
        ]),
        json!({
            "OnDemandPercentageAboveBaseCapacity": 0,
            "SpotAllocationStrategy": "price-capacity-optimized",
        }),
    );
    let g = group(p.clone(), 2);
    let picks = plan_launches(&g, 0, 2);
    assert!(
        picks
            .iter()
            .all(|p| p.spot && p.instance_type.as_deref() == Some("t3.medium"))
    );
    // capacity-optimized keeps the order given.
    let mut q = p;
    q["InstancesDistribution"]["SpotAllocationStrategy"] = json!("capacity-optimized");
    let picks = plan_launches(&group(q, 1), 0, 1);
    assert_eq!(picks[0].instance_type.as_deref(), Some("m5.large"));
}

#[test]
fn existing_members_count_by_weight_and_market() {
    let p = policy(
        json!([
            {"InstanceType": "t3.small", "WeightedCapacity": "2"},
            {"InstanceType": "t3.micro", "WeightedCapacity": "1"},
        ]),
        json!({"OnDemandBaseCapacity": 2, "OnDemandPercentageAboveBaseCapacity": 0}),
    );
    let mut g = group(p, 6);
    let mut od = inst("i-1", "a");
    od.weighted_capacity = Some("2".into());
    let mut gone = inst("i-2", "a");
    gone.weighted_capacity = Some("2".into());
    gone.lifecycle_state = LifecycleState::Terminating;
    g.instances.insert(od.id.clone(), od);
    g.instances.insert(gone.id.clone(), gone);
    assert_eq!(g.counted_capacity(), 2);
    assert_eq!(market_units(&g), (2, 0));
    // The base is met: the remaining 4 units are Spot.
    let picks = plan_launches(&g, 2, 6);
    assert_eq!(picks.len(), 2);
    assert!(picks.iter().all(|p| p.spot));
}

#[test]
fn scale_in_takes_by_weight_without_dropping_below_desired() {
    let p = policy(
        json!([
            {"InstanceType": "t3.small", "WeightedCapacity": "2"},
            {"InstanceType": "t3.micro", "WeightedCapacity": "1"},
        ]),
        json!({}),
    );
    let mut g = group(p, 2);
    for (id, w) in [("i-1", "2"), ("i-2", "1"), ("i-3", "2")] {
        let mut m = inst(id, "a");
        m.weighted_capacity = Some(w.into());
        g.instances.insert(id.into(), m);
    }
    // 5 units, desired 2: excess 3 = one of weight 2 and the one of weight 1.
    let order = vec!["i-1".to_owned(), "i-3".to_owned(), "i-2".to_owned()];
    assert_eq!(victims_by_weight(&g, order.clone(), 3), ["i-1", "i-2"]);
    // Excess 1 with only the weight-1 member fitting.
    assert_eq!(victims_by_weight(&g, order, 1), ["i-2"]);
    g.desired_capacity = 4;
    assert!(!g.capacity_met());
    g.desired_capacity = 5;
    assert!(g.capacity_met());
}

#[test]
fn scale_in_prefers_the_market_above_its_share() {
    let p = policy(
        json!([{"InstanceType": "t3.micro"}]),
        json!({"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 0}),
    );
    let mut g = group(p, 1);
    let mut spot = inst("i-2", "a");
    spot.spot = true;
    g.instances.insert("i-1".into(), inst("i-1", "a"));
    g.instances.insert("i-2".into(), spot);
    // The On-Demand base is 1: the Spot member goes even though the policies listed i-1 first.
    let order = vec!["i-1".to_owned(), "i-2".to_owned()];
    assert_eq!(victims_by_weight(&g, order, 1), ["i-2"]);
}

#[test]
fn a_group_without_a_policy_launches_one_plain_instance_per_unit() {
    let g = Group {
        desired_capacity: 3,
        ..Group::default()
    };
    let picks = plan_launches(&g, 1, 3);
    assert_eq!(picks.len(), 2);
    assert!(picks.iter().all(|p| p.instance_type.is_none() && !p.spot));
    assert!(price("t3.micro").is_some() && price("x9.huge").is_none());
}
