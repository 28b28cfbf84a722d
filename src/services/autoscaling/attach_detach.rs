//! AttachInstances and DetachInstances (EC2 Auto Scaling User Guide, "Attach EC2 instances to
//! your Auto Scaling group" and "Detach EC2 instances from your Auto Scaling group").
//!
//! Attach takes running EC2 instances that belong to no group into the group as `Pending`
//! (the reconciler registers them with the load balancers and marks them `InService`; no
//! lifecycle hooks), tags them `aws:autoscaling:groupName` and raises the desired capacity.
//! Detach moves `InService`/`Standby` instances to `Detaching` (deregistered); the scheduler
//! then lets them go. Without `ShouldDecrementDesiredCapacity` the reconciler launches
//! replacements.

use serde::Deserialize;

use super::activities::{ActivitiesOut, ActivityDetails};
use super::errors::AutoScalingError;
use super::standby::{
    MAX_IDS, TakeOut, check_capacity, check_members, take_out_of_service, validation,
};
use super::store::{GroupInstance, LifecycleState, iso_seconds, record_activity};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::ec2::store::InstanceState;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

/// The tag Auto Scaling puts on its instances.
pub const GROUP_TAG: &str = "aws:autoscaling:groupName";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    instance_ids: Vec<String>,
}

/// AttachInstances.
pub fn attach_instances(
    ctx: &RequestContext,
    state: &AppState,
    input: AttachInput,
) -> Result<(), ApiError> {
    if input.instance_ids.len() > MAX_IDS {
        return Err(validation(format!(
            "The number of instance ids that may be passed in is limited to {MAX_IDS}"
        )));
    }
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let group = s.autoscaling.group(&input.auto_scaling_group_name)?;
        if super::store::is_suspended(group, "Launch") {
            // Text not captured from AWS.
            return Err(validation(format!(
                "The Launch process is suspended for AutoScalingGroup {}",
                group.name
            )));
        }
        let mut ids = input.instance_ids.clone();
        ids.dedup();
        let mut members = Vec::new();
        for id in &ids {
            if let Some((other, _)) = s.autoscaling.find_instance(id) {
                return Err(validation(format!(
                    "The Instance: {id} is already part of AutoScalingGroup:{}",
                    other.name
                )));
            }
            let Some(ec2) = s.ec2.instances.get(id) else {
                return Err(AutoScalingError::ValidationError.with(format!("Instance Id not found - No managed instance found for instance ID: {id}"),
                ));
            };
            if ec2.state != InstanceState::Running {
                // Text not captured from AWS.
                return Err(validation(format!(
                    "Instance {id} is not in correct state: it must be running to be attached"
                )));
            }
            if !group.availability_zones.is_empty()
                && !group.availability_zones.contains(&ec2.availability_zone)
            {
                // Text not captured from AWS.
                return Err(validation(format!(
                    "Instance {id} is in Availability Zone {}, which is not enabled for AutoScalingGroup {}",
                    ec2.availability_zone, group.name
                )));
            }
            members.push(GroupInstance {
                id: id.clone(),
                instance_type: ec2.instance_type.clone(),
                availability_zone: ec2.availability_zone.clone(),
                subnet_id: Some(ec2.subnet_id.clone()).filter(|s| !s.is_empty()),
                lifecycle_state: LifecycleState::Pending,
                state_since: now,
                healthy: true,
                unhealthy_reason: None,
                launch_configuration_name: None,
                launch_template: None,
                image_id: ec2.image_id.clone(),
                protected_from_scale_in: group.new_instances_protected_from_scale_in,
                weighted_capacity: None,
                spot: false,
                launched_at: ec2.launch_time,
                in_service_since: None,
                activity_id: None,
                lifecycle_action: None,
                // Hooks do not fire for attached instances.
                launch_hooks_done: true,
                terminate_hooks_done: false,
                deregistered: false,
                termination_reason: None,
                attached: true,
                existing_ec2: true,
            });
        }
        let n = members.len();
        let new = group.desired_capacity + n as i64;
        check_capacity(group, new, "attach", n)?;
        let group_name = group.name.clone();
        for m in &members {
            s.ec2
                .set_tags(&m.id, [(GROUP_TAG.to_owned(), group_name.clone())]);
        }
        let store = &mut s.autoscaling;
        let t = iso_seconds(now);
        for m in members {
            let az = m.availability_zone.clone();
            let id = m.id.clone();
            let group = store.group_mut(&group_name)?;
            group.desired_capacity += 1;
            group.instances.insert(id.clone(), m);
            let snapshot = group.clone();
            // Attach activities carry no Subnet ID (seen in real attach activities quoted in
            // public code).
            let activity = record_activity(
                store,
                state.ids.uuid(),
                &snapshot,
                format!("Attaching an existing EC2 instance: {id}"),
                format!("At {t} an instance was added in response to user request. Keeping the capacity at the new {new}."),
                "InProgress",
                50,
                &ActivityDetails::at(None, &az),
                Some(&id),
                now,
            );
            if let Some(i) = store
                .groups
                .get_mut(&group_name)
                .and_then(|g| g.instances.get_mut(&id))
            {
                i.activity_id = Some(activity);
            }
        }
        Ok(())
    })?;
    state.touched(Topic::AutoScaling | Topic::Ec2);
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetachInput {
    auto_scaling_group_name: String,
    #[serde(default)]
    instance_ids: Vec<String>,
    should_decrement_desired_capacity: bool,
}

/// DetachInstances.
pub fn detach_instances(
    ctx: &RequestContext,
    state: &AppState,
    input: DetachInput,
) -> Result<ActivitiesOut, ApiError> {
    let now = state.clock.now();
    let activities = state.stores.with(&ctx.scope, |s| {
        let store = &mut s.autoscaling;
        let group = store.group(&input.auto_scaling_group_name)?;
        check_members(
            group,
            &input.instance_ids,
            &[LifecycleState::InService, LifecycleState::Standby],
            "InService or Standby",
        )?;
        let n = input.instance_ids.len();
        let old = group.desired_capacity;
        // Standby instances are not part of the desired capacity already.
        let counted = input
            .instance_ids
            .iter()
            .filter(|id| {
                group
                    .instances
                    .get(*id)
                    .is_some_and(|i| i.lifecycle_state == LifecycleState::InService)
            })
            .count() as i64;
        let new = if input.should_decrement_desired_capacity {
            old - counted
        } else {
            old
        };
        check_capacity(group, new, "detach", n)?;
        let take_out = TakeOut {
            group_name: &input.auto_scaling_group_name,
            ids: &input.instance_ids,
            old,
            new,
            shrink: input.should_decrement_desired_capacity,
            to: LifecycleState::Detaching,
            description: "Detaching EC2 instance",
            verb: "detached",
            unprotect: true,
        };
        take_out_of_service(store, state, &take_out, now)
    })?;
    state.touched(Topic::AutoScaling | Topic::Ec2);
    Ok(ActivitiesOut::new(activities))
}
