//! The `Origin` and `Destination` of Auto Scaling's messages: where an instance comes from and
//! goes to (`EC2`, `AutoScalingGroup` or `WarmPool`; EC2 Auto Scaling User Guide, "Warm pool
//! example events and patterns"), for launch/terminate notifications and lifecycle-hook
//! messages.

use super::store::{AutoScalingStore, GroupInstance};

/// Where an activity's instance comes from and goes to: the `Origin` and `Destination` that
/// AWS's launch/terminate and lifecycle messages carry (`EC2`, `AutoScalingGroup` or
/// `WarmPool`; EC2 Auto Scaling User Guide, "Warm pool example events and patterns"). Read from
/// the activity's Description, which names each move.
pub fn route(description: &str) -> (&'static str, &'static str) {
    const EC2: &str = "EC2";
    const GROUP: &str = "AutoScalingGroup";
    const POOL: &str = "WarmPool";
    if description.starts_with("Launching a new EC2 instance from warm pool") {
        (POOL, GROUP)
    } else if description.starts_with("Launching a new EC2 instance into warm pool") {
        (EC2, POOL)
    } else if description.starts_with("Moving EC2 instance to warm pool") {
        (GROUP, POOL)
    } else if description.starts_with("Terminating EC2 instance from warm pool") {
        (POOL, EC2)
    } else if description.starts_with("Terminating") {
        (GROUP, EC2)
    } else {
        (EC2, GROUP)
    }
}

/// The (Origin, Destination) of an instance waiting on a lifecycle hook: its activity's route,
/// or, without one, the plain launch or terminate route of the hook's transition.
pub fn hook_route(
    store: &AutoScalingStore,
    instance: &GroupInstance,
    transition: &str,
) -> (&'static str, &'static str) {
    let description = instance.activity_id.as_deref().and_then(|id| {
        store
            .activities
            .iter()
            .rev()
            .find(|a| a.id == id)
            .map(|a| a.description.as_str())
    });
    match description {
        Some(d) => route(d),
        None if transition.ends_with("TERMINATING") => ("AutoScalingGroup", "EC2"),
        None => ("EC2", "AutoScalingGroup"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_pool_moves_name_the_pool_as_origin_or_destination() {
        assert_eq!(
            route("Launching a new EC2 instance from warm pool: i-1"),
            ("WarmPool", "AutoScalingGroup")
        );
        assert_eq!(
            route("Launching a new EC2 instance into warm pool: i-1"),
            ("EC2", "WarmPool")
        );
        assert_eq!(
            route("Moving EC2 instance to warm pool: i-1"),
            ("AutoScalingGroup", "WarmPool")
        );
        assert_eq!(
            route("Launching a new EC2 instance: i-1"),
            ("EC2", "AutoScalingGroup")
        );
    }
}
