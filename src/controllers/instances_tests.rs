//! The lifecycle controller on the simulated backend: instances and images move through
//! their states on the clock.

use serde_json::{Value, json};

use super::*;
use crate::config::Config;
use crate::context::RequestContext;
use crate::protocol::Protocol;
use crate::services::ec2::instances;

fn call(state: &AppState, scope: &Scope, op: &str, input: Value) -> Value {
    let ctx = RequestContext {
        request_id: "r".into(),
        scope: scope.clone(),
        service: "ec2",
        operation: op.into(),
        protocol: Protocol::Ec2,
        access_key_id: None,
    };
    crate::services::dispatch(&ctx, state, input).expect(op)
}

fn instance(state: &AppState, scope: &Scope, id: &str) -> (String, Option<std::net::Ipv4Addr>) {
    state.stores.with(scope, |s| {
        let i = &s.ec2.instances[id];
        (i.state.name().to_owned(), i.public_ip)
    })
}

#[tokio::test(start_paused = true)]
async fn instances_move_through_their_states_on_the_clock() {
    let state = AppState::new(Config {
        time_scale: 0.0,
        ..Config::default()
    });
    let scope = Scope::new("000000000000", "eu-west-1");
    let id = instances::launch_one(
        &state,
        &scope,
        json!({"UserData": "IyEvYmluL3NoCmVjaG8gYm9vdGVkCg=="}),
    );
    let c = InstanceLifecycle;
    assert_eq!(
        c.reconcile(&state).await.unwrap(),
        Next::after_secs(POLL_SECONDS)
    );
    assert_eq!(instance(&state, &scope, &id).0, "pending");
    state.clock.advance(9.0);
    c.reconcile(&state).await.unwrap();
    assert_eq!(instance(&state, &scope, &id).0, "pending", "still booting");
    state.clock.advance(1.0);
    c.reconcile(&state).await.unwrap();
    let (name, ip) = instance(&state, &scope, &id);
    assert_eq!(name, "running");
    assert!(ip.is_some(), "a default subnet gives a public address");
    let console = state
        .stores
        .with(&scope, |s| s.ec2.instances[&id].console_output.clone());
    assert!(console.unwrap().contains("\nbooted\n"));

    call(
        &state,
        &scope,
        "StopInstances",
        json!({"InstanceIds": [id]}),
    );
    assert_eq!(
        c.reconcile(&state).await.unwrap(),
        Next::after_secs(STOP_SECONDS)
    );
    assert_eq!(instance(&state, &scope, &id).0, "stopping");
    state.clock.advance(STOP_SECONDS);
    c.reconcile(&state).await.unwrap();
    assert_eq!(instance(&state, &scope, &id), ("stopped".to_owned(), None));

    call(
        &state,
        &scope,
        "StartInstances",
        json!({"InstanceIds": [id]}),
    );
    c.reconcile(&state).await.unwrap();
    state.clock.advance(10.0);
    c.reconcile(&state).await.unwrap();
    assert_eq!(instance(&state, &scope, &id).0, "running");

    let before = state.stores.with(&scope, |s| {
        s.ec2
            .subnets
            .values()
            .map(network::available_ips)
            .sum::<i64>()
    });
    call(
        &state,
        &scope,
        "TerminateInstances",
        json!({"InstanceIds": [id]}),
    );
    c.reconcile(&state).await.unwrap();
    state.clock.advance(TERMINATE_SECONDS);
    c.reconcile(&state).await.unwrap();
    assert_eq!(instance(&state, &scope, &id).0, "terminated");
    let after = state.stores.with(&scope, |s| {
        s.ec2
            .subnets
            .values()
            .map(network::available_ips)
            .sum::<i64>()
    });
    assert_eq!(
        after,
        before + 1,
        "the private address went back to its subnet"
    );
    assert_eq!(
        c.reconcile(&state).await.unwrap(),
        Next::after_secs(IDLE_SECONDS)
    );
    state.clock.advance(TERMINATED_VISIBLE_SECONDS);
    c.reconcile(&state).await.unwrap();
    assert!(
        state
            .stores
            .with(&scope, |s| !s.ec2.instances.contains_key(&id))
    );
}

#[tokio::test(start_paused = true)]
async fn an_image_of_a_vanished_instance_fails() {
    let state = AppState::new(Config {
        time_scale: 0.0,
        ..Config::default()
    });
    let scope = Scope::new("000000000000", "us-east-1");
    let id = instances::launch_one(&state, &scope, json!({}));
    let c = InstanceLifecycle;
    c.reconcile(&state).await.unwrap();
    state.clock.advance(10.0);
    c.reconcile(&state).await.unwrap();
    let image = call(
        &state,
        &scope,
        "CreateImage",
        json!({"InstanceId": id, "Name": "img", "NoReboot": true}),
    );
    let image = image["ImageId"].as_str().unwrap().to_owned();
    // The backend loses the instance before the controller captures it.
    state.backend.terminate(&id).await.unwrap();
    c.reconcile(&state).await.unwrap();
    state.clock.advance(IMAGE_SECONDS);
    c.reconcile(&state).await.unwrap();
    let st = state
        .stores
        .with(&scope, |s| s.ec2.images[&image].state.clone());
    assert_eq!(st, "failed");
}
