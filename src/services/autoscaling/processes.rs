//! SuspendProcesses and ResumeProcesses (EC2 Auto Scaling User Guide, "Suspend and resume
//! Amazon EC2 Auto Scaling processes"). Suspension is recorded on the group
//! (`SuspendedProcesses`, with AWS's `User suspended at {time}` reason, as a real
//! describe-auto-scaling-groups output shows it); the reconciler and the scheduler consult
//! [`super::store::is_suspended`] before each kind of action, so a suspended process really
//! pauses: `Launch`, `Terminate`, `HealthCheck`, `ReplaceUnhealthy`, `AZRebalance`,
//! `AlarmNotification`, `ScheduledActions`, `AddToLoadBalancer`, `InstanceRefresh`.

use serde::Deserialize;

use super::errors::AutoScalingError;
use super::store::iso_seconds;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

/// Every process a group runs (DescribeScalingProcessTypes).
pub const PROCESSES: [&str; 9] = [
    "Launch",
    "Terminate",
    "AddToLoadBalancer",
    "AlarmNotification",
    "AZRebalance",
    "HealthCheck",
    "InstanceRefresh",
    "ReplaceUnhealthy",
    "ScheduledActions",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    auto_scaling_group_name: String,
    #[serde(default)]
    scaling_processes: Option<Vec<String>>,
}

/// The processes a request names: all of them when the list is absent or empty, as on AWS.
fn named(input: &Input) -> Result<Vec<String>, ApiError> {
    let list = match &input.scaling_processes {
        Some(list) if !list.is_empty() => list.clone(),
        _ => return Ok(PROCESSES.iter().map(|p| (*p).to_owned()).collect()),
    };
    // Describe output may show this one; AWS accepts and ignores it.
    let unknown: Vec<&String> = list
        .iter()
        .filter(|p| {
            !PROCESSES.contains(&p.as_str()) && p.as_str() != "RemoveFromLoadBalancerLowPriority"
        })
        .collect();
    if let Some(bad) = unknown.first() {
        // Text not captured from AWS.
        return Err(AutoScalingError::ValidationError
            .with(format!("Process {bad} is not a valid scaling process")));
    }
    Ok(list
        .into_iter()
        .filter(|p| PROCESSES.contains(&p.as_str()))
        .collect())
}

/// SuspendProcesses. Suspending an already suspended process keeps its original reason.
pub fn suspend_processes(
    ctx: &RequestContext,
    state: &AppState,
    input: Input,
) -> Result<(), ApiError> {
    let processes = named(&input)?;
    let reason = format!("User suspended at {}", iso_seconds(state.clock.now()));
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        for p in processes {
            tracing::info!(group = %group.name, process = %p, "process suspended");
            group
                .suspended_processes
                .entry(p)
                .or_insert_with(|| reason.clone());
        }
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

/// ResumeProcesses: the reconciler picks up what the suspension held back on its next pass
/// (alarms still in breach, unhealthy instances, missing capacity).
pub fn resume_processes(
    ctx: &RequestContext,
    state: &AppState,
    input: Input,
) -> Result<(), ApiError> {
    let processes = named(&input)?;
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group_mut(&input.auto_scaling_group_name)?;
        for p in processes {
            if group.suspended_processes.remove(&p).is_some() {
                tracing::info!(group = %group.name, process = %p, "process resumed");
            }
        }
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(list: Option<&[&str]>) -> Input {
        Input {
            auto_scaling_group_name: "g".into(),
            scaling_processes: list.map(|l| l.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    #[test]
    fn no_list_means_every_process_and_unknown_names_are_refused() {
        assert_eq!(named(&input(None)).unwrap().len(), 9);
        assert_eq!(named(&input(Some(&[]))).unwrap().len(), 9);
        assert_eq!(
            named(&input(Some(&[
                "Launch",
                "RemoveFromLoadBalancerLowPriority"
            ])))
            .unwrap(),
            vec!["Launch".to_owned()]
        );
        assert!(named(&input(Some(&["Launch", "Nope"]))).is_err());
    }
}
