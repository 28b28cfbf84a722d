//! Internal EC2 entry points for other services (Auto Scaling): read an instance's state and
//! terminate an instance on a service's behalf, inside the caller's store lock. The lifecycle
//! controller finishes what these start, exactly as for the API calls.

use super::instance_view::reason_time;
use super::store::{Ec2Store, InstanceState};

/// The state of an instance, `None` when EC2 has never heard of it.
pub fn instance_state(ec2: &Ec2Store, id: &str) -> Option<InstanceState> {
    ec2.instances.get(id).map(|i| i.state)
}

/// Whether an instance is `running` and has been since before `now` (its boot finished).
pub fn is_running(ec2: &Ec2Store, id: &str) -> bool {
    instance_state(ec2, id) == Some(InstanceState::Running)
}

/// Start terminating an instance as a service does (TerminateInstances without the API's
/// checks: termination protection does not stop Auto Scaling, as on AWS). Returns false when
/// the instance is unknown or already shutting down or terminated.
pub fn terminate(ec2: &mut Ec2Store, id: &str, now: f64) -> bool {
    let Some(i) = ec2.instances.get_mut(id) else {
        return false;
    };
    if matches!(
        i.state,
        InstanceState::ShuttingDown | InstanceState::Terminated
    ) {
        return false;
    }
    tracing::info!(instance_id = %id, from = i.state.name(), to = "shutting-down", "instance state change (service)");
    i.state = InstanceState::ShuttingDown;
    i.state_since = now;
    i.backend_done = false;
    i.transition_reason = format!("Service initiated ({})", reason_time(now));
    i.state_reason = Some("Client.UserInitiatedShutdown");
    true
}
