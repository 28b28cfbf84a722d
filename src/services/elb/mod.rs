//! The `elb` (Classic Load Balancing, 2012-06-01) service: all 29 operations.
//!
//! Handlers record intent in the [`store::ElbStore`]; the health checker
//! (`controllers::elb_health`) probes registered instances on the clock and decides
//! InService/OutOfService; the data plane (`dataplane` here and `crate::dataplane`) proxies to
//! InService instances. Auto Scaling uses [`exists`], [`register_internal`],
//! [`deregister_internal`] and [`instance_in_service`].

pub mod attributes;
pub mod dataplane;
pub mod instances;
pub mod limits;
pub mod load_balancers;
pub mod policies;
pub mod store;
pub mod zones;

use serde_json::Value;

use super::Handler;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, RegionStores, Scope, Topic};

pub use instances::{
    deregister_internal, instance_in_service, instance_in_service_in, register_internal,
};

/// Implemented operations and their handlers.
pub const OPERATIONS: &[(&str, Handler)] = &[
    ("AddTags", policies::add_tags),
    (
        "ApplySecurityGroupsToLoadBalancer",
        zones::apply_security_groups,
    ),
    ("AttachLoadBalancerToSubnets", zones::attach_subnets),
    ("ConfigureHealthCheck", attributes::configure_health_check),
    (
        "CreateAppCookieStickinessPolicy",
        policies::create_app_cookie_policy,
    ),
    (
        "CreateLBCookieStickinessPolicy",
        policies::create_lb_cookie_policy,
    ),
    ("CreateLoadBalancer", load_balancers::create),
    (
        "CreateLoadBalancerListeners",
        load_balancers::create_listeners,
    ),
    ("CreateLoadBalancerPolicy", policies::create_policy),
    ("DeleteLoadBalancer", load_balancers::delete),
    (
        "DeleteLoadBalancerListeners",
        load_balancers::delete_listeners,
    ),
    ("DeleteLoadBalancerPolicy", policies::delete_policy),
    ("DeregisterInstancesFromLoadBalancer", instances::deregister),
    ("DescribeAccountLimits", describe_account_limits),
    ("DescribeInstanceHealth", instances::describe_health),
    (
        "DescribeLoadBalancerAttributes",
        attributes::describe_attributes,
    ),
    ("DescribeLoadBalancerPolicies", policies::describe_policies),
    (
        "DescribeLoadBalancerPolicyTypes",
        policies::describe_policy_types,
    ),
    ("DescribeLoadBalancers", load_balancers::describe),
    ("DescribeTags", policies::describe_tags),
    ("DetachLoadBalancerFromSubnets", zones::detach_subnets),
    (
        "DisableAvailabilityZonesForLoadBalancer",
        zones::disable_zones,
    ),
    (
        "EnableAvailabilityZonesForLoadBalancer",
        zones::enable_zones,
    ),
    (
        "ModifyLoadBalancerAttributes",
        attributes::modify_attributes,
    ),
    ("RegisterInstancesWithLoadBalancer", instances::register),
    ("RemoveTags", policies::remove_tags),
    (
        "SetLoadBalancerListenerSSLCertificate",
        load_balancers::set_listener_certificate,
    ),
    (
        "SetLoadBalancerPoliciesForBackendServer",
        policies::set_backend_policies,
    ),
    (
        "SetLoadBalancerPoliciesOfListener",
        policies::set_listener_policies,
    ),
];

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

/// `LoadBalancerNotFound`, in the words of the real CLI's output.
pub fn not_found(name: &str) -> ApiError {
    ApiError::client(
        "LoadBalancerNotFound",
        format!("There is no ACTIVE Load Balancer named '{name}'"),
    )
}

/// `ValidationError` (400): the one helper all services share.
pub use crate::services::errors::validation;

/// `InvalidConfigurationRequest` (HTTP 409).
pub fn invalid_configuration(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidConfigurationRequest", message).with_status(409)
}

/// Run `f` on the named load balancer with the scope's stores (EC2 defaults ensured), or
/// `LoadBalancerNotFound`. Notifies the controllers when `f` succeeds.
pub fn with_lb<R>(
    state: &AppState,
    scope: &Scope,
    name: &str,
    f: impl FnOnce(&mut store::LoadBalancer, &mut RegionStores) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let result = state.stores.with(scope, |s| {
        s.ec2.ensure_defaults(scope, state);
        let (index, key, mut lb) = s
            .elb
            .load_balancers
            .shift_remove_full(name)
            .ok_or_else(|| not_found(name))?;
        // Taken out so that `f` may use the other stores; put back where it was.
        let out = f(&mut lb, s);
        let (at, _) = s.elb.load_balancers.insert_full(key, lb);
        s.elb.load_balancers.move_index(at, index);
        out
    });
    if result.is_ok() {
        state.touched(Topic::Elb);
    }
    result
}

/// Whether Classic load balancer `name` exists in `scope` (Auto Scaling validates
/// `LoadBalancerNames` with it).
pub fn exists(state: &AppState, scope: &Scope, name: &str) -> bool {
    state
        .stores
        .with(scope, |s| s.elb.load_balancers.contains_key(name))
}
