//! The reconciler's decisions, as pure functions of a group and the EC2 states of its
//! instances (EC2 Auto Scaling User Guide: "Amazon EC2 Auto Scaling instance lifecycle",
//! "Working with Amazon EC2 Auto Scaling termination policies", "Health checks for Auto Scaling
//! instances"): how many to launch and where, which instances to take out and why, and the
//! Cause sentences AWS writes for each.

use std::collections::HashMap;

use super::mixed::{self, Pick};
use super::store::{Group, LifecycleState, TerminationReason, is_suspended};
use super::termination::choose_victims;
use crate::services::ec2::store::InstanceState;

/// What the reconciler should start for a group in this pass.
#[derive(Debug, Default, PartialEq)]
pub struct CapacityPlan {
    /// New instances: (zone, subnet) for each, and the Cause each launch activity carries.
    pub launches: Vec<(String, Option<String>)>,
    /// What each launch uses (type, weight, market), in `launches` order; one plain pick per
    /// launch for a group without a mixed instances policy.
    pub picks: Vec<Pick>,
    /// The Cause of every launch of this pass.
    pub launch_cause: String,
    /// Instances to take out, with the Cause of each terminate activity.
    pub terminations: Vec<(String, TerminationReason, String)>,
}

/// `At {t} …` prefix helper.
fn at(now: f64) -> String {
    format!("At {}", super::store::iso_seconds(now))
}

/// Join cause sentences with AWS's two spaces.
fn join(parts: &[Option<String>]) -> String {
    parts
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("  ")
}

/// The Cause of taking an instance out for a health reason.
pub fn health_cause(reason: &TerminationReason, now: f64) -> String {
    let why = match reason {
        TerminationReason::Ec2NotRunning => {
            "an EC2 health check indicating it has been terminated or stopped"
        }
        TerminationReason::Ec2StatusChecks => "an EC2 instance status checks failure",
        TerminationReason::ElbHealth => "an ELB system health check failure",
        TerminationReason::UserHealth => "a user health-check",
        TerminationReason::UserRequest(c) | TerminationReason::Other(c) => return c.clone(),
        TerminationReason::ScaleIn => "a difference between desired and actual capacity",
    };
    format!(
        "{} an instance was taken out of service in response to {why}.",
        at(now)
    )
}

/// How long an instance status check must have been failing before Auto Scaling acts on it:
/// EC2 runs its checks once a minute, and AWS replaces an instance once a check has failed
/// (EC2 Auto Scaling User Guide, "Health checks for Auto Scaling instances": "after a few
/// minutes" of impairment; one check period here).
pub const IMPAIRED_BEFORE_UNHEALTHY: f64 = 60.0;

/// The health verdict for an in-service instance: `Some(reason)` when it must be marked
/// unhealthy now. EC2 not running counts immediately, even inside the grace period; a failed
/// EC2 status check (`impaired_since`) after the grace period and a minute of failing; the
/// load balancers' verdict only after the grace period, and only with HealthCheckType ELB.
pub fn health_verdict(
    g: &Group,
    ec2: Option<InstanceState>,
    impaired_since: Option<f64>,
    elb_healthy: Option<bool>,
    in_service_since: Option<f64>,
    now: f64,
) -> Option<TerminationReason> {
    if is_suspended(g, "HealthCheck") {
        return None;
    }
    if !matches!(
        ec2,
        Some(InstanceState::Running) | Some(InstanceState::Pending)
    ) {
        return Some(TerminationReason::Ec2NotRunning);
    }
    let grace_over =
        in_service_since.is_some_and(|t| now >= t + g.health_check_grace_period as f64);
    if grace_over && impaired_since.is_some_and(|t| now >= t + IMPAIRED_BEFORE_UNHEALTHY) {
        return Some(TerminationReason::Ec2StatusChecks);
    }
    if g.health_check_type.split(',').any(|t| t.trim() == "ELB")
        && grace_over
        && elb_healthy == Some(false)
    {
        return Some(TerminationReason::ElbHealth);
    }
    None
}

/// Zones for `n` launches: each into the enabled zone with the fewest counted instances (ties
/// in the group's zone order), and the zone's subnets taken in turn.
pub fn choose_zones(g: &Group, n: usize) -> Vec<(String, Option<String>)> {
    choose_zones_besides(g, n, &[])
}

/// [`choose_zones`], not counting the instances in `leaving`: the unhealthy ones this very plan
/// terminates are still `InService` in the group, and counting them would put a replacement
/// into a zone that keeps its instances while the zone that lost one stays short (then an AZ
/// rebalance launches a fourth instance and terminates a healthy one to make up for it).
fn choose_zones_besides(g: &Group, n: usize, leaving: &[String]) -> Vec<(String, Option<String>)> {
    let mut count: HashMap<&str, usize> = g
        .availability_zones
        .iter()
        .map(|z| (z.as_str(), 0))
        .collect();
    let mut per_subnet: HashMap<String, usize> = HashMap::new();
    for i in g
        .instances
        .values()
        .filter(|i| i.lifecycle_state.counts() && !leaving.contains(&i.id))
    {
        if let Some(c) = count.get_mut(i.availability_zone.as_str()) {
            *c += 1;
        }
        if let Some(s) = &i.subnet_id {
            *per_subnet.entry(s.clone()).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for _ in 0..n {
        let Some(zone) = g
            .availability_zones
            .iter()
            .min_by_key(|z| count[z.as_str()])
            .cloned()
        else {
            break;
        };
        *count.get_mut(zone.as_str()).expect("zone") += 1;
        let subnet = g
            .subnets
            .iter()
            .filter(|(_, az)| *az == zone)
            .min_by_key(|(s, _)| per_subnet.get(s).copied().unwrap_or(0))
            .map(|(s, _)| s.clone());
        if let Some(s) = &subnet {
            *per_subnet.entry(s.clone()).or_default() += 1;
        }
        out.push((zone, subnet));
    }
    out
}

/// Zones are unbalanced when the fullest and emptiest enabled zones differ by more than one
/// in-service instance; returns the zone counts in group order when they are.
fn unbalanced(g: &Group) -> Option<Vec<usize>> {
    let counts: Vec<usize> = g
        .availability_zones
        .iter()
        .map(|z| {
            g.instances
                .values()
                .filter(|i| i.lifecycle_state.counts() && i.availability_zone == *z)
                .count()
        })
        .collect();
    let (max, min) = (counts.iter().max()?, counts.iter().min()?);
    (max - min > 1).then_some(counts)
}

/// Desired vs actual for one group (the desired capacity against the instances that count
/// toward it, [`LifecycleState::counts`]): launches when short (unless `Launch` is suspended or
/// a failure backoff runs), victims when over (unless `Terminate` is suspended), replacements
/// for unhealthy instances, and one AZ-rebalancing launch when balanced capacity is met but
/// zones are not.
pub fn plan_capacity(g: &Group, now: f64) -> CapacityPlan {
    let mut plan = CapacityPlan::default();
    let deleting = g.status.is_some();
    // Unhealthy in-service instances are replaced: terminate now, launch alongside.
    let replace = !is_suspended(g, "ReplaceUnhealthy") && !is_suspended(g, "Terminate");
    let mut replaced = 0;
    for i in g.instances.values() {
        if deleting && !i.lifecycle_state.is_leaving() && !i.lifecycle_state.is_warmed() {
            let reason = i
                .termination_reason
                .clone()
                .unwrap_or(TerminationReason::Other(String::new()));
            let cause = health_cause(&reason, now);
            plan.terminations.push((i.id.clone(), reason, cause));
            continue;
        }
        if replace && !i.healthy && i.lifecycle_state == LifecycleState::InService {
            let reason = i
                .unhealthy_reason
                .clone()
                .unwrap_or(TerminationReason::UserHealth);
            let cause = health_cause(&reason, now);
            plan.terminations.push((i.id.clone(), reason, cause));
            replaced += 1;
        }
    }
    if deleting {
        return plan;
    }
    let counted = g.counted_capacity() - replaced;
    // An instance refresh that launches before it terminates raises the target for a batch.
    let surge = super::refresh_preferences::surge(g);
    let deficit = g.desired_capacity + surge - counted;
    if deficit > 0 && !is_suspended(g, "Launch") && now >= g.next_launch_at {
        let leaving: Vec<String> = plan.terminations.iter().map(|t| t.0.clone()).collect();
        // Weighted members: as many launches as it takes to fill the deficit's units.
        let picks = mixed::plan_launches(g, counted, g.desired_capacity + surge);
        plan.launches = choose_zones_besides(g, picks.len(), &leaving);
        plan.picks = picks;
        plan.launch_cause = if surge > 0 && counted >= g.desired_capacity {
            format!(
                "{} an instance was launched in response to an instance refresh.",
                at(now)
            )
        } else if replaced > 0 && g.pending_cause.is_none() {
            format!(
                "{} an instance was launched in response to an unhealthy instance needing to be replaced.",
                at(now)
            )
        } else {
            join(&[
                g.pending_cause.clone(),
                Some(format!(
                    "{} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {counted} to {}.",
                    at(now),
                    g.desired_capacity
                )),
            ])
        };
    } else if deficit < 0 && !is_suspended(g, "Terminate") {
        let victims = if g.mixed_instances_policy.is_some() {
            // By weight: only members whose units fit the excess, so never below desired.
            let order = choose_victims(g, g.instances.len(), now);
            mixed::victims_by_weight(g, order, -deficit)
        } else {
            choose_victims(g, (-deficit) as usize, now)
        };
        let sentence = format!(
            "{} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from {counted} to {}.",
            at(now),
            g.desired_capacity
        );
        for id in victims {
            let cause = join(&[
                g.pending_cause.clone(),
                Some(sentence.clone()),
                Some(format!(
                    "{} instance {id} was selected for termination.",
                    at(now)
                )),
            ]);
            plan.terminations
                .push((id, TerminationReason::ScaleIn, cause));
        }
    } else if deficit == 0
        && g.activity_in_progress().is_none()
        && !is_suspended(g, "AZRebalance")
        && !is_suspended(g, "Launch")
        && !is_suspended(g, "Terminate")
        && let Some(counts) = unbalanced(g)
    {
        let headroom = (g.max_size / 10).max(1);
        if counted < g.max_size + headroom {
            plan.launches = choose_zones(g, 1);
            plan.picks = mixed::plan_launches(g, counted, counted + 1);
            let counts: Vec<String> = counts.iter().map(ToString::to_string).collect();
            plan.launch_cause = format!(
                "{} availability zones had {} instances respectively. An instance was launched to aid in balancing the group's zones.",
                at(now),
                counts.join(" ")
            );
        }
    }
    plan
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::services::autoscaling::store::GroupInstance;

    /// An in-service member for tests (other modules' tests start from it too).
    pub(crate) fn inst(id: &str, az: &str) -> GroupInstance {
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
            launched_at: 0.0,
            in_service_since: Some(0.0),
            activity_id: None,
            lifecycle_action: None,
            launch_hooks_done: true,
            terminate_hooks_done: false,
            deregistered: false,
            termination_reason: None,
            attached: false,
            existing_ec2: false,
        }
    }

    fn group(desired: i64, instances: Vec<GroupInstance>) -> Group {
        Group {
            name: "g".into(),
            min_size: 0,
            max_size: 10,
            desired_capacity: desired,
            availability_zones: vec!["a".into(), "b".into()],
            termination_policies: vec!["Default".into()],
            health_check_type: "EC2".into(),
            instances: instances.into_iter().map(|i| (i.id.clone(), i)).collect(),
            ..Group::default()
        }
    }

    const T: f64 = 1_795_838_460.0;

    #[test]
    fn launches_spread_over_zones_with_awss_cause() {
        let mut g = group(3, vec![]);
        g.pending_cause = Some("At 2026-11-28T04:01:00Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 3.".into());
        let p = plan_capacity(&g, T);
        let zones: Vec<&str> = p.launches.iter().map(|(z, _)| z.as_str()).collect();
        assert_eq!(zones, ["a", "b", "a"]);
        assert_eq!(
            p.launch_cause,
            "At 2026-11-28T04:01:00Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 3.  At 2026-11-28T04:01:00Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 3."
        );
    }

    #[test]
    fn scale_in_picks_from_the_fuller_zone_and_says_so() {
        let g = group(
            2,
            vec![inst("i-1", "a"), inst("i-2", "a"), inst("i-3", "b")],
        );
        let p = plan_capacity(&g, T);
        assert!(p.launches.is_empty());
        assert_eq!(p.terminations.len(), 1);
        let (id, reason, cause) = &p.terminations[0];
        assert!(id == "i-1" || id == "i-2");
        assert_eq!(*reason, TerminationReason::ScaleIn);
        assert!(cause.ends_with(&format!("shrinking the capacity from 3 to 2.  At 2026-11-28T04:01:00Z instance {id} was selected for termination.")));
    }

    #[test]
    fn unhealthy_instances_are_replaced_and_suspension_stops_it() {
        let mut bad = inst("i-1", "a");
        bad.healthy = false;
        bad.unhealthy_reason = Some(TerminationReason::UserHealth);
        let mut g = group(1, vec![bad]);
        let p = plan_capacity(&g, T);
        assert_eq!(
            p.terminations[0].2,
            "At 2026-11-28T04:01:00Z an instance was taken out of service in response to a user health-check."
        );
        assert_eq!(p.launches.len(), 1);
        assert!(
            p.launch_cause
                .contains("an unhealthy instance needing to be replaced")
        );
        g.suspended_processes
            .insert("ReplaceUnhealthy".into(), String::new());
        assert_eq!(plan_capacity(&g, T), CapacityPlan::default());
    }

    #[test]
    fn a_replacement_goes_to_the_zone_that_lost_the_instance() {
        // The unhealthy instance is in the second zone: with it counted, both zones hold one
        // and the tie would send the replacement to the first.
        let mut bad = inst("i-2", "b");
        bad.healthy = false;
        bad.unhealthy_reason = Some(TerminationReason::Ec2NotRunning);
        let g = group(2, vec![inst("i-1", "a"), bad]);
        let p = plan_capacity(&g, T);
        assert_eq!(p.terminations.len(), 1);
        assert_eq!(p.terminations[0].0, "i-2");
        assert_eq!(p.launches, vec![("b".to_owned(), None)]);
    }

    #[test]
    fn suspended_launch_and_backoff_hold_launches() {
        let mut g = group(2, vec![]);
        g.suspended_processes.insert("Launch".into(), String::new());
        assert!(plan_capacity(&g, T).launches.is_empty());
        g.suspended_processes.clear();
        g.next_launch_at = T + 10.0;
        assert!(plan_capacity(&g, T).launches.is_empty());
        assert_eq!(plan_capacity(&g, T + 10.0).launches.len(), 2);
    }

    #[test]
    fn unbalanced_zones_get_one_rebalancing_launch() {
        let g = group(
            3,
            vec![inst("i-1", "a"), inst("i-2", "a"), inst("i-3", "a")],
        );
        let p = plan_capacity(&g, T);
        assert_eq!(p.launches, vec![("b".to_owned(), None)]);
        assert!(
            p.launch_cause
                .contains("availability zones had 3 0 instances respectively")
        );
    }

    #[test]
    fn ec2_not_running_is_unhealthy_even_in_grace() {
        let mut g = group(1, vec![]);
        g.health_check_grace_period = 300;
        g.health_check_type = "ELB".into();
        assert_eq!(
            health_verdict(
                &g,
                Some(InstanceState::Stopped),
                None,
                None,
                Some(T),
                T + 1.0
            ),
            Some(TerminationReason::Ec2NotRunning)
        );
        assert_eq!(
            health_verdict(
                &g,
                Some(InstanceState::Running),
                None,
                Some(false),
                Some(T),
                T + 1.0
            ),
            None
        );
        assert_eq!(
            health_verdict(
                &g,
                Some(InstanceState::Running),
                None,
                Some(false),
                Some(T),
                T + 300.0
            ),
            Some(TerminationReason::ElbHealth)
        );
    }

    #[test]
    fn an_impaired_instance_is_unhealthy_after_grace_and_a_failing_minute() {
        let mut g = group(1, vec![]);
        g.health_check_grace_period = 300;
        let running = Some(InstanceState::Running);
        let verdict =
            |since: f64, now: f64| health_verdict(&g, running, Some(since), None, Some(T), now);
        // Inside the grace period: not yet.
        assert_eq!(verdict(T, T + 200.0), None);
        // After it, once the check has failed for a minute.
        assert_eq!(verdict(T + 280.0, T + 320.0), None);
        assert_eq!(
            verdict(T + 280.0, T + 340.0),
            Some(TerminationReason::Ec2StatusChecks)
        );
        g.suspended_processes
            .insert("HealthCheck".into(), String::new());
        assert_eq!(
            health_verdict(&g, running, Some(T), None, Some(T), T + 900.0),
            None
        );
        assert_eq!(
            health_cause(&TerminationReason::Ec2StatusChecks, T),
            "At 2026-11-28T04:01:00Z an instance was taken out of service in response to an EC2 instance status checks failure."
        );
    }
}
