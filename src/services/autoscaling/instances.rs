//! Capacity and instance calls: SetDesiredCapacity, TerminateInstanceInAutoScalingGroup,
//! SetInstanceHealth, SetInstanceProtection (error texts as real AWS returned them, quoted in
//! public code; EC2 Auto Scaling User Guide, "Use instance scale-in protection" and "Health
//! checks for Auto Scaling instances"). Intent only; the reconciler acts.

use serde::Deserialize;

use super::activities::{ActivityDetails, ActivityOut, OneActivityOut};
use super::errors::AutoScalingError;
use super::store::{
    LifecycleState, TerminationReason, iso_seconds, record_activity, set_desired_capacity,
};
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

/// `Scaling activity {id} is in progress and blocks this action` (HonorCooldown calls).
pub fn blocked(activity: &str) -> ApiError {
    AutoScalingError::ScalingActivityInProgress.with(format!(
        "Scaling activity {activity} is in progress and blocks this action"
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SetDesiredInput {
    auto_scaling_group_name: String,
    desired_capacity: i64,
    honor_cooldown: bool,
}

/// SetDesiredCapacity.
pub fn set_desired_capacity_op(
    ctx: &RequestContext,
    state: &AppState,
    req: SetDesiredInput,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let a = &mut s.autoscaling;
        let last = a
            .activities
            .iter()
            .rev()
            .find(|x| x.group_name == req.auto_scaling_group_name)
            .map(|x| x.id.clone());
        let g = a.group_mut(&req.auto_scaling_group_name)?;
        let d = req.desired_capacity;
        if d > g.max_size {
            return Err(validation(format!(
                "New SetDesiredCapacity value {d} is above max value {} for the AutoScalingGroup.",
                g.max_size
            )));
        }
        if d < g.min_size {
            return Err(validation(format!(
                "New SetDesiredCapacity value {d} is below min value {} for the AutoScalingGroup.",
                g.min_size
            )));
        }
        if req.honor_cooldown {
            if let Some(id) = g.activity_in_progress() {
                return Err(blocked(id));
            }
            if g.cooldown_until > now {
                return Err(blocked(&last.unwrap_or_default()));
            }
        }
        set_desired_capacity(
            g,
            d,
            "a user request explicitly set group desired capacity",
            now,
        );
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TerminateInput {
    instance_id: String,
    should_decrement_desired_capacity: bool,
}

/// TerminateInstanceInAutoScalingGroup: returns the activity `InProgress`/0 at once.
pub fn terminate_instance_in_auto_scaling_group(
    ctx: &RequestContext,
    state: &AppState,
    req: TerminateInput,
) -> Result<OneActivityOut, ApiError> {
    let now = state.clock.now();
    let id = &req.instance_id;
    let activity_id = state.ids.uuid();
    let out = state.stores.with(&ctx.scope, |s| {
        let a = &mut s.autoscaling;
        let name = a.group_of_instance(id)?;
        let g = a.group_mut(&name)?;
        let inst = &g.instances[id.as_str()];
        if inst.lifecycle_state.is_leaving() {
            return Err(AutoScalingError::ScalingActivityInProgress.with(format!(
                    "Activity {} is in progress.",
                    inst.activity_id.clone().unwrap_or_default()
                ),
            ));
        }
        let counted = inst.lifecycle_state.counts();
        let mut cause = format!(
            "At {} instance {id} was taken out of service in response to a user request",
            iso_seconds(now)
        );
        if req.should_decrement_desired_capacity && counted {
            if g.desired_capacity <= g.min_size {
                return Err(validation(format!(
                    "Currently, desiredSize equals minSize ({}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.",
                    g.min_size
                )));
            }
            let (from, to) = (g.desired_capacity, g.desired_capacity - 1);
            g.desired_capacity = to;
            g.pending_cause = None;
            cause.push_str(&format!(", shrinking the capacity from {from} to {to}."));
        } else {
            cause.push('.');
        }
        let inst = g.instances.get_mut(id.as_str()).ok_or_else(ApiError::internal)?;
        inst.lifecycle_state = LifecycleState::Terminating;
        inst.state_since = now;
        inst.activity_id = Some(activity_id.clone());
        inst.termination_reason = Some(TerminationReason::UserRequest(cause.clone()));
        let details = ActivityDetails::at(inst.subnet_id.as_deref(), &inst.availability_zone);
        let group = g.clone();
        record_activity(
            a,
            activity_id.clone(),
            &group,
            format!("Terminating EC2 instance: {id}"),
            cause,
            "InProgress",
            0,
            &details,
            Some(id),
            now,
        );
        let act = a.activity_mut(&activity_id).ok_or_else(ApiError::internal)?;
        Ok::<_, ApiError>(ActivityOut::new(act, false))
    })?;
    state.touched(Topic::AutoScaling);
    Ok(OneActivityOut::new(out))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthInput {
    instance_id: String,
    health_status: String,
    should_respect_grace_period: Option<bool>,
}

/// SetInstanceHealth: `Unhealthy` inside the grace period is ignored unless
/// `ShouldRespectGracePeriod=false`; the reconciler replaces unhealthy instances.
pub fn set_instance_health(
    ctx: &RequestContext,
    state: &AppState,
    req: HealthInput,
) -> Result<(), ApiError> {
    let healthy = match req.health_status.as_str() {
        "Healthy" => true,
        "Unhealthy" => false,
        other => {
            return Err(validation(format!(
                "Health status {other} is not valid. Valid values are Healthy and Unhealthy."
            )));
        }
    };
    let now = state.clock.now();
    let id = &req.instance_id;
    state.stores.with(&ctx.scope, |s| {
        let a = &mut s.autoscaling;
        let name = a.group_of_instance(id)?;
        let g = a.group_mut(&name)?;
        let grace = g.health_check_grace_period as f64;
        let inst = g
            .instances
            .get_mut(id.as_str())
            .ok_or_else(ApiError::internal)?;
        if inst.lifecycle_state.is_leaving() {
            return Err(validation(format!(
                "The instance {id} is already terminating and its health cannot be changed."
            )));
        }
        if healthy {
            inst.healthy = true;
            inst.unhealthy_reason = None;
            return Ok(());
        }
        let in_grace = inst
            .in_service_since
            .is_none_or(|since| now < since + grace);
        if req.should_respect_grace_period.unwrap_or(true) && in_grace && grace > 0.0 {
            tracing::info!(instance = %id, "SetInstanceHealth Unhealthy ignored inside the grace period");
            return Ok(());
        }
        inst.healthy = false;
        inst.unhealthy_reason = Some(TerminationReason::UserHealth);
        tracing::info!(instance = %id, group = %name, "instance marked unhealthy by a user");
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ProtectionInput {
    instance_ids: Vec<String>,
    auto_scaling_group_name: String,
    protected_from_scale_in: bool,
}

/// SetInstanceProtection (≤ 50 ids; InService, EnteringStandby or Standby instances only).
pub fn set_instance_protection(
    ctx: &RequestContext,
    state: &AppState,
    req: ProtectionInput,
) -> Result<(), ApiError> {
    if req.instance_ids.len() > 50 {
        return Err(validation(
            "The number of instance ids that may be passed in is limited to 50",
        ));
    }
    state.stores.with(&ctx.scope, |s| {
        let g = s.autoscaling.group_mut(&req.auto_scaling_group_name)?;
        for id in &req.instance_ids {
            let Some(i) = g.instances.get(id) else {
                return Err(validation(format!(
                    "The instance {id} is not part of Auto Scaling group {}.",
                    g.name
                )));
            };
            if !matches!(
                i.lifecycle_state,
                LifecycleState::InService
                    | LifecycleState::EnteringStandby
                    | LifecycleState::Standby
                    | LifecycleState::Pending
                    | LifecycleState::PendingWait
                    | LifecycleState::PendingProceed
            ) {
                return Err(validation(format!(
                    "The instance {id} is not in InService or EnteringStandby or Standby."
                )));
            }
        }
        for id in &req.instance_ids {
            if let Some(i) = g.instances.get_mut(id) {
                i.protected_from_scale_in = req.protected_from_scale_in;
            }
        }
        Ok(())
    })?;
    state.touched(Topic::AutoScaling);
    Ok(())
}
