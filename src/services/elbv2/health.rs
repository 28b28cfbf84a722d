//! Target health as DescribeTargetHealth shows it, and the pure rules the health controller
//! applies to each check (User Guide for Application Load Balancers, "Health checks for your
//! target groups"; Elastic Load Balancing API Reference, TargetHealth).
//!
//! - Right after RegisterTargets a target is `initial` / `Elb.RegistrationInProgress` for
//!   [`REGISTRATION_SECONDS`], then `initial` / `Elb.InitialHealthChecking` until a verdict.
//! - Checks run every `HealthCheckIntervalSeconds`, the first when registration completes. A
//!   new target is `healthy` after its **first** passing check ("after your target is
//!   registered, it must pass one health check to be considered healthy"); afterwards
//!   `UnhealthyThresholdCount` consecutive failures make it `unhealthy` and
//!   `HealthyThresholdCount` consecutive passes make it `healthy` again. A new target that keeps
//!   failing becomes `unhealthy` after `UnhealthyThresholdCount` failures.
//! - A deregistered target is `draining` / `Target.DeregistrationInProgress` for the group's
//!   `deregistration_delay.timeout_seconds`, then it is gone.
//! - `unused`: `Target.NotInUse` when no listener or rule forwards to the group (or the
//!   instance is in a zone the load balancer does not use),
//!   `Target.InvalidState` when the instance is stopped or terminated (checks pause; it starts
//!   over from `initial` when it runs again), `Target.NotRegistered` when asked about a target
//!   that is not registered.

use crate::services::ec2::store::InstanceState;

use super::store::{Health, HealthCheck, Target};

/// Seconds a registration stays "in progress" [INF: AWS takes a few seconds].
pub const REGISTRATION_SECONDS: f64 = 5.0;

/// What DescribeTargetHealth shows for one target.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthView {
    /// `initial`, `healthy`, `unhealthy`, `unused`, `draining`.
    pub state: &'static str,
    /// Reason code, absent when healthy.
    pub reason: Option<&'static str>,
    /// Description, absent when healthy.
    pub description: Option<String>,
}

impl HealthView {
    fn new(state: &'static str, reason: &'static str, description: &str) -> Self {
        Self {
            state,
            reason: Some(reason),
            description: Some(description.to_owned()),
        }
    }

    /// The view of a target that is not registered.
    pub fn not_registered() -> Self {
        Self::new(
            "unused",
            "Target.NotRegistered",
            "Target is not registered to the target group",
        )
    }
}

/// Whether the instance state stops a target from being checked, and the description.
pub fn invalid_state(state: Option<InstanceState>) -> Option<&'static str> {
    match state? {
        InstanceState::Stopped | InstanceState::Stopping => Some("Target is in the stopped state"),
        InstanceState::Terminated | InstanceState::ShuttingDown => {
            Some("Target is in the terminated state")
        }
        InstanceState::Pending | InstanceState::Running => None,
    }
}

/// The health of a registered target at `now`. `instance` is the EC2 state of an instance
/// target (`None` for ip targets).
/// `zone_enabled` is false when an instance is in an Availability Zone none of the group's
/// load balancers is enabled in.
pub fn view(
    t: &Target,
    in_use: bool,
    zone_enabled: bool,
    instance: Option<InstanceState>,
    now: f64,
) -> HealthView {
    if t.draining_until.is_some() {
        return HealthView::new(
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        );
    }
    if let Some(d) = invalid_state(instance) {
        return HealthView::new("unused", "Target.InvalidState", d);
    }
    if !in_use {
        return HealthView::new(
            "unused",
            "Target.NotInUse",
            "Target group is not configured to receive traffic from the load balancer",
        );
    }
    if !zone_enabled {
        return HealthView::new(
            "unused",
            "Target.NotInUse",
            "Target is in an Availability Zone that is not enabled for the load balancer",
        );
    }
    match &t.health {
        Health::Healthy => HealthView {
            state: "healthy",
            reason: None,
            description: None,
        },
        Health::Unhealthy(reason, description) => HealthView::new("unhealthy", reason, description),
        Health::Initial if now - t.registered_at < REGISTRATION_SECONDS => HealthView::new(
            "initial",
            "Elb.RegistrationInProgress",
            "Target registration is in progress",
        ),
        Health::Initial => HealthView::new(
            "initial",
            "Elb.InitialHealthChecking",
            "Initial health checks in progress",
        ),
    }
}

/// The result of one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// Answered with a status that matched.
    Pass,
    /// Answered with this status, which the matcher does not accept.
    Code(u16),
    /// No answer within the timeout.
    Timeout,
    /// Refused, reset, or not serving the port.
    Failed,
}

/// Whether `code` satisfies a matcher such as `200`, `200,202` or `200-299`.
pub fn code_matches(matcher: &str, code: u16) -> bool {
    matcher.split(',').any(|part| match part.split_once('-') {
        Some((a, b)) => match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
            (Ok(a), Ok(b)) => (a..=b).contains(&code),
            _ => false,
        },
        None => part.trim().parse::<u16>() == Ok(code),
    })
}

/// Apply `n` identical probe results (the checks due since the last pass) to a target.
/// Returns true when its verdict changed.
pub fn apply(t: &mut Target, hc: &HealthCheck, probe: &Probe, n: u32) -> bool {
    let before = t.health.clone();
    for _ in 0..n {
        if *probe == Probe::Pass {
            t.passes += 1;
            t.failures = 0;
            let enough = match t.health {
                Health::Initial => true,
                Health::Healthy => true,
                Health::Unhealthy(..) => i64::from(t.passes) >= hc.healthy_threshold,
            };
            if enough {
                t.health = Health::Healthy;
            }
        } else {
            t.failures += 1;
            t.passes = 0;
            if i64::from(t.failures) >= hc.unhealthy_threshold {
                t.health = match probe {
                    Probe::Code(c) => Health::Unhealthy(
                        "Target.ResponseCodeMismatch",
                        format!("Health checks failed with these codes: [{c}]"),
                    ),
                    Probe::Timeout => {
                        Health::Unhealthy("Target.Timeout", "Request timed out".into())
                    }
                    _ => Health::Unhealthy(
                        "Target.FailedHealthChecks",
                        "Health checks failed".into(),
                    ),
                };
            }
        }
    }
    t.health != before
}

/// Reset a target to `initial` (it came back into use, or its instance runs again).
pub fn restart(t: &mut Target, now: f64) {
    t.health = Health::Initial;
    t.passes = 0;
    t.failures = 0;
    t.registered_at = now - REGISTRATION_SECONDS;
    t.next_check = now;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::elbv2::target_groups::default_health;

    fn target() -> Target {
        Target {
            id: "i-1".into(),
            port: 80,
            availability_zone: None,
            registered_at: 100.0,
            health: Health::Initial,
            next_check: 105.0,
            passes: 0,
            failures: 0,
            draining_until: None,
            in_flight: 0,
        }
    }

    #[test]
    fn initial_then_healthy_after_one_pass_then_unhealthy_after_threshold() {
        let hc = default_health("HTTP");
        let mut t = target();
        assert_eq!(
            view(&t, true, true, Some(InstanceState::Running), 101.0).reason,
            Some("Elb.RegistrationInProgress")
        );
        assert_eq!(
            view(&t, true, true, Some(InstanceState::Running), 106.0).reason,
            Some("Elb.InitialHealthChecking")
        );
        assert!(apply(&mut t, &hc, &Probe::Pass, 1));
        assert_eq!(view(&t, true, true, None, 106.0).state, "healthy");
        assert!(!apply(&mut t, &hc, &Probe::Code(404), 1));
        assert!(apply(&mut t, &hc, &Probe::Code(404), 1));
        let v = view(&t, true, true, None, 200.0);
        assert_eq!(
            (v.state, v.reason),
            ("unhealthy", Some("Target.ResponseCodeMismatch"))
        );
        assert_eq!(
            v.description.as_deref(),
            Some("Health checks failed with these codes: [404]")
        );
        // Back to healthy only after HealthyThresholdCount (5) passes.
        assert!(!apply(&mut t, &hc, &Probe::Pass, 4));
        assert!(apply(&mut t, &hc, &Probe::Pass, 1));
        assert_eq!(t.health, Health::Healthy);
        apply(&mut t, &hc, &Probe::Timeout, 2);
        assert_eq!(
            view(&t, true, true, None, 0.0).reason,
            Some("Target.Timeout")
        );
    }

    #[test]
    fn unused_and_draining_take_precedence() {
        let mut t = target();
        t.health = Health::Healthy;
        assert_eq!(
            view(&t, false, true, None, 500.0).reason,
            Some("Target.NotInUse")
        );
        let v = view(&t, true, true, Some(InstanceState::Stopped), 500.0);
        assert_eq!(
            (v.state, v.description.as_deref()),
            ("unused", Some("Target is in the stopped state"))
        );
        t.draining_until = Some(800.0);
        assert_eq!(view(&t, true, true, None, 500.0).state, "draining");
    }

    #[test]
    fn matchers_accept_lists_and_ranges() {
        assert!(code_matches("200", 200));
        assert!(!code_matches("200", 204));
        assert!(code_matches("200,202", 202));
        assert!(code_matches("200-299", 250));
        assert!(!code_matches("200-299", 301));
    }
}
