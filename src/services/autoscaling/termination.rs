//! Which instances a scale-in removes (EC2 Auto Scaling User Guide, "Working with Amazon EC2 Auto
//! Scaling termination policies"), as a pure function: zone balance first (victims come from the
//! zones with the most instances), then the group's termination policies in order, each keeping its
//! preferred subset, then a stable pseudo-random pick. Protected instances are never chosen.

use std::collections::HashMap;

use super::store::{Group, GroupInstance, LifecycleState};

/// The numeric version an instance's template was launched at (0 when unknown).
fn template_version(i: &GroupInstance) -> i64 {
    i.launch_template
        .as_ref()
        .and_then(|t| t.version.as_deref())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The candidates with the smallest `key`.
fn keep_min<'a>(
    cands: &[&'a GroupInstance],
    key: &dyn Fn(&GroupInstance) -> f64,
) -> Vec<&'a GroupInstance> {
    let best = cands.iter().map(|i| key(i)).fold(f64::INFINITY, f64::min);
    cands.iter().copied().filter(|i| key(i) == best).collect()
}

/// Keep the subset a policy prefers; never empties the candidates.
fn apply_policy<'a>(
    policy: &str,
    g: &Group,
    cands: Vec<&'a GroupInstance>,
    now: f64,
) -> Vec<&'a GroupInstance> {
    let current_lt = g.launch_template.as_ref().map(|t| t.id.as_str());
    let current_lc = g.launch_configuration_name.as_deref();
    let narrowed = match policy {
        "OldestInstance" => keep_min(&cands, &|i| i.launched_at),
        "NewestInstance" => keep_min(&cands, &|i| -i.launched_at),
        "ClosestToNextInstanceHour" => keep_min(&cands, &|i| {
            let age = (now - i.launched_at).max(0.0);
            3600.0 - age % 3600.0
        }),
        "OldestLaunchConfiguration" => cands
            .iter()
            .copied()
            .filter(|i| {
                i.launch_configuration_name.is_some()
                    && i.launch_configuration_name.as_deref() != current_lc
            })
            .collect(),
        "OldestLaunchTemplate" => {
            let stale: Vec<_> = cands
                .iter()
                .copied()
                .filter(|i| {
                    i.launch_template.is_some()
                        && i.launch_template.as_ref().map(|t| t.id.as_str()) != current_lt
                })
                .collect();
            if stale.is_empty() {
                let with_lt: Vec<_> = cands
                    .iter()
                    .copied()
                    .filter(|i| i.launch_template.is_some())
                    .collect();
                keep_min(&with_lt, &|i| template_version(i) as f64)
            } else {
                stale
            }
        }
        "Default" => {
            // Launch configurations go before templates; then the non-current ones; then
            // the oldest template version; then closest to the next billing hour.
            let lc: Vec<_> = cands
                .iter()
                .copied()
                .filter(|i| i.launch_configuration_name.is_some())
                .collect();
            let mut c = if !lc.is_empty() && lc.len() < cands.len() {
                lc
            } else {
                cands.clone()
            };
            for p in [
                "OldestLaunchConfiguration",
                "OldestLaunchTemplate",
                "ClosestToNextInstanceHour",
            ] {
                c = apply_policy(p, g, c, now);
            }
            c
        }
        // AllocationStrategy and Lambda policies: no preference without Spot/On-Demand mixes.
        _ => cands.clone(),
    };
    if narrowed.is_empty() { cands } else { narrowed }
}

/// A stable stand-in for AWS's random last step: the smallest hash of the id.
fn pick<'a>(cands: &[&'a GroupInstance]) -> Option<&'a GroupInstance> {
    cands.iter().copied().min_by_key(|i| {
        i.id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

/// Choose `n` victims for a scale-in. Eligible: counted (`Pending*`/`InService`), healthy or
/// not, and not protected from scale-in. Zone counts include protected instances.
pub fn choose_victims(g: &Group, n: usize, now: f64) -> Vec<String> {
    let mut zone_count: HashMap<&str, i64> = HashMap::new();
    for i in g.instances.values().filter(|i| i.lifecycle_state.counts()) {
        *zone_count.entry(i.availability_zone.as_str()).or_default() += 1;
    }
    let mut eligible: Vec<&GroupInstance> = g
        .instances
        .values()
        .filter(|i| i.lifecycle_state.counts() && !i.protected_from_scale_in)
        .collect();
    // InService ones before Pending ones: scaling in should not cancel launches first.
    eligible.sort_by_key(|i| i.lifecycle_state != LifecycleState::InService);
    let mut out = Vec::new();
    while out.len() < n && !eligible.is_empty() {
        let busiest = eligible
            .iter()
            .map(|i| zone_count[i.availability_zone.as_str()])
            .max()
            .unwrap_or(0);
        let in_service_left = eligible
            .iter()
            .any(|i| i.lifecycle_state == LifecycleState::InService);
        let mut cands: Vec<&GroupInstance> = eligible
            .iter()
            .copied()
            .filter(|i| zone_count[i.availability_zone.as_str()] == busiest)
            .filter(|i| !in_service_left || i.lifecycle_state == LifecycleState::InService)
            .collect();
        if cands.is_empty() {
            cands = eligible.clone();
        }
        for policy in &g.termination_policies {
            if cands.len() == 1 {
                break;
            }
            cands = apply_policy(policy, g, cands, now);
        }
        let Some(victim) = pick(&cands) else { break };
        out.push(victim.id.clone());
        *zone_count
            .get_mut(victim.availability_zone.as_str())
            .expect("counted zone") -= 1;
        eligible.retain(|i| i.id != victim.id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::autoscaling::store::TemplateRef;

    fn inst(id: &str, az: &str, launched: f64) -> GroupInstance {
        GroupInstance {
            id: id.into(),
            instance_type: "t3.micro".into(),
            availability_zone: az.into(),
            subnet_id: None,
            lifecycle_state: LifecycleState::InService,
            state_since: 0.0,
            healthy: true,
            unhealthy_reason: None,
            launch_configuration_name: None,
            launch_template: None,
            image_id: "ami-1".into(),
            protected_from_scale_in: false,
            weighted_capacity: None,
            spot: false,
            launched_at: launched,
            in_service_since: Some(launched),
            activity_id: None,
            lifecycle_action: None,
            launch_hooks_done: false,
            terminate_hooks_done: false,
            deregistered: false,
            termination_reason: None,
            attached: false,
            existing_ec2: false,
        }
    }

    fn group(instances: Vec<GroupInstance>, policies: &[&str]) -> Group {
        Group {
            name: "g".into(),
            termination_policies: policies.iter().map(|p| (*p).to_owned()).collect(),
            instances: instances.into_iter().map(|i| (i.id.clone(), i)).collect(),
            ..Group::default()
        }
    }

    #[test]
    fn zone_balance_wins_over_the_policy() {
        let g = group(
            vec![
                inst("i-a1", "a", 1.0),
                inst("i-a2", "a", 5.0),
                inst("i-b1", "b", 9.0),
            ],
            &["NewestInstance"],
        );
        // The newest is in zone b, but zone a has more instances.
        assert_eq!(choose_victims(&g, 1, 100.0), vec!["i-a2"]);
        let g = group(
            vec![inst("i-a1", "a", 1.0), inst("i-b1", "b", 9.0)],
            &["OldestInstance"],
        );
        assert_eq!(choose_victims(&g, 1, 100.0), vec!["i-a1"]);
    }

    #[test]
    fn protected_instances_are_never_chosen() {
        let mut a = inst("i-a", "a", 1.0);
        a.protected_from_scale_in = true;
        let g = group(vec![a, inst("i-b", "a", 2.0)], &["OldestInstance"]);
        assert_eq!(choose_victims(&g, 2, 10.0), vec!["i-b"]);
    }

    #[test]
    fn default_prefers_launch_configurations_then_old_template_versions() {
        let mut lc = inst("i-lc", "a", 50.0);
        lc.launch_configuration_name = Some("old".into());
        let mut v1 = inst("i-v1", "a", 1.0);
        v1.launch_template = Some(TemplateRef {
            id: "lt-1".into(),
            name: "t".into(),
            version: Some("1".into()),
        });
        let mut v2 = inst("i-v2", "a", 2.0);
        v2.launch_template = Some(TemplateRef {
            id: "lt-1".into(),
            name: "t".into(),
            version: Some("2".into()),
        });
        let mut g = group(vec![v1.clone(), lc, v2.clone()], &["Default"]);
        g.launch_template = Some(TemplateRef {
            id: "lt-1".into(),
            name: "t".into(),
            version: None,
        });
        assert_eq!(choose_victims(&g, 1, 10.0), vec!["i-lc"]);
        let mut g2 = group(vec![v2, v1], &["Default"]);
        g2.launch_template = g.launch_template.clone();
        assert_eq!(choose_victims(&g2, 1, 10.0), vec!["i-v1"]);
    }
}
