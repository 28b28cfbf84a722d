//! The `elbv2` service: operation table. Handlers land here with the issue that implements
//! them; every other operation of the model answers `NotImplemented` naming it.

use serde_json::Value;

use super::Handler;
use super::elb::limits;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// Implemented operations and their handlers.
pub const OPERATIONS: &[(&str, Handler)] = &[("DescribeAccountLimits", describe_account_limits)];

/// Application, network and gateway load balancer quotas of a new account.
const LIMITS: &[(&str, &str)] = &[
    ("application-load-balancers", "50"),
    ("listeners-per-application-load-balancer", "50"),
    ("listeners-per-network-load-balancer", "50"),
    ("network-load-balancers", "50"),
    ("target-groups", "3000"),
    ("target-groups-per-action-on-application-load-balancer", "5"),
    ("target-groups-per-action-on-network-load-balancer", "1"),
    ("target-groups-per-application-load-balancer", "100"),
    ("targets-per-application-load-balancer", "1000"),
    (
        "targets-per-availability-zone-per-network-load-balancer",
        "500",
    ),
    ("targets-per-network-load-balancer", "3000"),
    ("targets-per-target-group", "1000"),
    ("rules-per-application-load-balancer", "100"),
    ("condition-values-per-alb-rule", "5"),
    ("condition-wildcards-per-alb-rule", "5"),
    ("certificates-per-application-load-balancer", "25"),
    ("certificates-per-network-load-balancer", "25"),
    ("gateway-load-balancers", "100"),
    ("gateway-load-balancers-per-vpc", "100"),
    ("listeners-per-gateway-load-balancer", "1"),
    ("target-groups-per-action-on-gateway-load-balancer", "1"),
    (
        "targets-per-availability-zone-per-gateway-load-balancer",
        "300",
    ),
];

fn describe_account_limits(
    _: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    limits::describe(LIMITS, input)
}
