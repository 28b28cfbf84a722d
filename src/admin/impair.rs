//! `POST /_updraft/instances/{instance_id}/impair` with `{"impaired": true}` (or `false` to
//! clear): the instance's EC2 status check fails, as when its kernel hangs or its network
//! stack breaks. DescribeInstanceStatus then shows the instance status `impaired`
//! (reachability `failed`), `StatusCheckFailed` and `StatusCheckFailed_Instance` publish 1,
//! and an Auto Scaling group replaces the instance after its health check grace period. A stop
//! and start clears it, as moving to new hardware does on AWS.

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::services::ec2::internal;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Impair {
    impaired: bool,
}

/// Set or clear an instance's status-check failure, in whichever account and region holds it.
pub fn impair(state: &AppState, path: &str, body: &[u8]) -> (StatusCode, Value) {
    let id = path
        .trim_start_matches("/_updraft/instances/")
        .trim_end_matches("/impair");
    let change: Impair = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => {
            let message = format!("expected {{\"impaired\": true|false}}: {e}");
            return (StatusCode::BAD_REQUEST, json!({"error": message}));
        }
    };
    let now = state.clock.now();
    let mut found = None;
    state.stores.for_each(|_, s| {
        if s.ec2.instances.contains_key(id) {
            found = Some(internal::set_impaired(&mut s.ec2, id, change.impaired, now));
        }
    });
    match found {
        Some(true) => {
            state.touched(crate::state::Topic::Ec2);
            (
                StatusCode::OK,
                json!({"instance_id": id, "impaired": change.impaired}),
            )
        }
        Some(false) => (
            StatusCode::CONFLICT,
            json!({"error": format!("instance {id} is not running; only a running instance has status checks")}),
        ),
        None => (
            StatusCode::NOT_FOUND,
            json!({"error": format!("no instance {id}")}),
        ),
    }
}
