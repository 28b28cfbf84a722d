//! The `elb` (Classic Load Balancing) service: operation table. Handlers land here with the
//! issue that implements them; every other operation of the model answers `NotImplemented`.

pub mod dataplane;
pub mod limits;

use serde_json::Value;

use super::Handler;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// Implemented operations and their handlers.
pub const OPERATIONS: &[(&str, Handler)] = &[("DescribeAccountLimits", describe_account_limits)];

/// Classic load balancer quotas of a new account.
const LIMITS: &[(&str, &str)] = &[
    ("classic-load-balancers", "20"),
    ("classic-listeners", "100"),
    ("classic-registered-instances", "1000"),
];

fn describe_account_limits(
    _: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    limits::describe(LIMITS, input)
}
