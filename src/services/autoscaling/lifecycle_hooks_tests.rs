//! Unit tests of `lifecycle_hooks`: waits, timeouts and the wait notice.

use super::*;
use crate::services::autoscaling::store::{GroupInstance, LifecycleState};

fn hook(default_result: &str) -> LifecycleHook {
    LifecycleHook {
        name: "h".into(),
        transition: TRANSITIONS[0].into(),
        notification_target_arn: Some("arn:aws:sns:us-east-1:000000000000:t".into()),
        role_arn: None,
        notification_metadata: Some("meta".into()),
        heartbeat_timeout: 60,
        global_timeout: global_timeout(60),
        default_result: default_result.into(),
    }
}

#[test]
fn timeouts_apply_the_default_result() {
    let mut store = AutoScalingStore::default();
    let mut g = Group {
        name: "g".into(),
        ..Group::default()
    };
    g.lifecycle_hooks.insert("h".into(), hook("CONTINUE"));
    let mut inst = GroupInstance {
        id: "i-1".into(),
        instance_type: "t3.micro".into(),
        availability_zone: "us-east-1a".into(),
        subnet_id: None,
        lifecycle_state: LifecycleState::PendingWait,
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
        in_service_since: None,
        activity_id: None,
        lifecycle_action: None,
        launch_hooks_done: false,
        terminate_hooks_done: false,
        deregistered: false,
        termination_reason: None,
        attached: false,
        existing_ec2: false,
    };
    inst.lifecycle_action = Some(begin_wait(&g.lifecycle_hooks["h"], "tok".into(), 100.0));
    g.instances.insert("i-1".into(), inst);
    store.groups.insert("g".into(), g.into());
    assert_eq!(expire(&mut store, 159.0), (false, Some(160.0)));
    assert_eq!(expire(&mut store, 160.0), (true, None));
    let a = store.groups["g"].instances["i-1"]
        .lifecycle_action
        .clone()
        .unwrap();
    assert_eq!(a.result.as_deref(), Some("CONTINUE"));
    assert_eq!(
        abandon_message(&a),
        "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token tok was abandoned: Heartbeat Timeout"
    );
    assert_eq!(global_timeout(3600), 172_800);
    assert_eq!(global_timeout(60), 6000);
}

#[test]
fn wait_notice_carries_the_token_and_metadata() {
    let g = Group {
        name: "g".into(),
        ..Group::default()
    };
    let h = hook("ABANDON");
    let a = begin_wait(&h, "tok".into(), 0.0);
    let n = wait_notice(
        "000000000000",
        &g,
        &h,
        "i-1",
        &a,
        ("EC2", "AutoScalingGroup"),
        "r",
        0.0,
    )
    .unwrap();
    assert_eq!(
        n.subject,
        "Auto Scaling:  Lifecycle action 'LAUNCHING' for instance i-1 in progress."
    );
    let v: serde_json::Value = serde_json::from_str(&n.message).unwrap();
    assert_eq!(v["LifecycleActionToken"], "tok");
    assert_eq!(v["NotificationMetadata"], "meta");
    assert_eq!(v["LifecycleTransition"], TRANSITIONS[0]);
    assert!(
        n.message
            .ends_with(r#""Origin":"EC2","Destination":"AutoScalingGroup"}"#)
    );
}
