//! The `elb` (Classic Load Balancing, 2012-06-01) service: all 29 operations, every one typed
//! (see `services::Typed`); its error codes are [`errors::ElbError`].
//!
//! Handlers record intent in the [`store::ElbStore`]; the health checker
//! (`controllers::elb_health`) probes registered instances on the clock and decides
//! InService/OutOfService; the data plane (`dataplane` here and the data-plane module, through `crate::lb`) proxies to
//! InService instances. Auto Scaling uses [`exists`], [`register_internal`],
//! [`deregister_internal`] and [`instance_in_service`].

pub mod attributes;
pub mod backend_auth;
pub mod dataplane;
pub mod describe;
pub mod errors;
pub mod flows;
pub mod instances;
pub mod limits;
pub mod load_balancers;
pub mod policies;
pub mod route_cache;
pub mod ssl_negotiation;
pub mod store;
pub mod tags;
pub mod zones;

use super::{Replying, Typed, TypedOperation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, RegionStores, Scope, Topic};

pub use errors::{invalid_configuration, not_found, validation};
pub use instances::{
    deregister_internal, instance_in_service, instance_in_service_in, register_internal,
};

/// Every operation, with its typed handler (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    ("AddTags", &Typed(tags::add_tags)),
    (
        "ApplySecurityGroupsToLoadBalancer",
        &Typed(zones::apply_security_groups_to_load_balancer),
    ),
    (
        "AttachLoadBalancerToSubnets",
        &Typed(zones::attach_load_balancer_to_subnets),
    ),
    (
        "ConfigureHealthCheck",
        &Typed(attributes::configure_health_check),
    ),
    (
        "CreateAppCookieStickinessPolicy",
        &Typed(policies::create_app_cookie_stickiness_policy),
    ),
    (
        "CreateLBCookieStickinessPolicy",
        &Typed(policies::create_lb_cookie_stickiness_policy),
    ),
    (
        "CreateLoadBalancer",
        &Typed(load_balancers::create_load_balancer),
    ),
    (
        "CreateLoadBalancerListeners",
        &Typed(load_balancers::create_load_balancer_listeners),
    ),
    (
        "CreateLoadBalancerPolicy",
        &Typed(policies::create_load_balancer_policy),
    ),
    (
        "DeleteLoadBalancer",
        &Typed(load_balancers::delete_load_balancer),
    ),
    (
        "DeleteLoadBalancerListeners",
        &Typed(load_balancers::delete_load_balancer_listeners),
    ),
    (
        "DeleteLoadBalancerPolicy",
        &Typed(policies::delete_load_balancer_policy),
    ),
    (
        "DeregisterInstancesFromLoadBalancer",
        &Typed(instances::deregister_instances_from_load_balancer),
    ),
    ("DescribeAccountLimits", &Typed(describe_account_limits)),
    (
        "DescribeInstanceHealth",
        &Typed(instances::describe_instance_health),
    ),
    (
        "DescribeLoadBalancerAttributes",
        &Typed(attributes::describe_load_balancer_attributes),
    ),
    (
        "DescribeLoadBalancerPolicies",
        &Typed(policies::describe_load_balancer_policies),
    ),
    (
        "DescribeLoadBalancerPolicyTypes",
        &Typed(policies::describe_load_balancer_policy_types),
    ),
    (
        "DescribeLoadBalancers",
        &Replying(describe::describe_load_balancers),
    ),
    ("DescribeTags", &Typed(tags::describe_tags)),
    (
        "DetachLoadBalancerFromSubnets",
        &Typed(zones::detach_load_balancer_from_subnets),
    ),
    (
        "DisableAvailabilityZonesForLoadBalancer",
        &Typed(zones::disable_availability_zones_for_load_balancer),
    ),
    (
        "EnableAvailabilityZonesForLoadBalancer",
        &Typed(zones::enable_availability_zones_for_load_balancer),
    ),
    (
        "ModifyLoadBalancerAttributes",
        &Typed(attributes::modify_load_balancer_attributes),
    ),
    (
        "RegisterInstancesWithLoadBalancer",
        &Typed(instances::register_instances_with_load_balancer),
    ),
    ("RemoveTags", &Typed(tags::remove_tags)),
    (
        "SetLoadBalancerListenerSSLCertificate",
        &Typed(load_balancers::set_load_balancer_listener_ssl_certificate),
    ),
    (
        "SetLoadBalancerPoliciesForBackendServer",
        &Typed(policies::set_load_balancer_policies_for_backend_server),
    ),
    (
        "SetLoadBalancerPoliciesOfListener",
        &Typed(policies::set_load_balancer_policies_of_listener),
    ),
];

/// Classic load balancer quotas of a new account.
const LIMITS: &[(&str, &str)] = &[
    ("classic-load-balancers", "20"),
    ("classic-listeners", "100"),
    ("classic-registered-instances", "1000"),
];

/// DescribeAccountLimits.
pub fn describe_account_limits(
    _: &RequestContext,
    _: &AppState,
    req: limits::DescribeAccountLimitsInput,
) -> Result<limits::DescribeAccountLimitsOutput, ApiError> {
    limits::describe(LIMITS, req)
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
