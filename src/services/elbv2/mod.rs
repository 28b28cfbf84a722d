//! The `elbv2` service (Elastic Load Balancing 2015-12-01): application load balancers (and
//! network ones with TCP-family listeners), target groups, listeners, rules, targets and their
//! health, attributes and tags.
//!
//! Handlers record intent; the health controller (`controllers::elbv2_health`) probes targets
//! on the clock and publishes `AWS/ApplicationELB` metrics; the data plane asks
//! [`dataplane::route`] where each request goes.
//!
//! For Auto Scaling: [`target_group_exists`], [`register_internal`], [`deregister_internal`],
//! [`target_healthy`], [`target_draining`].

pub mod actions;
pub mod attributes;
pub mod conditions;
pub mod dataplane;
pub mod errors;
pub mod health;
pub mod lb_settings;
pub mod listener_certificates;
pub mod listeners;
pub mod load_balancers;
pub mod metrics;
pub mod nlb;
pub mod route_index;
pub mod routing;
pub mod rules;
pub mod ssl_policies;
pub mod stickiness;
pub mod store;
pub mod tags;
pub mod target_groups;
pub mod targets;
pub mod tls;
pub mod unsupported;

pub use store::Elbv2Store;
pub use targets::{
    deregister_internal, register_internal, target_draining, target_draining_in,
    target_group_exists, target_healthy, target_healthy_in,
};

use super::elb::limits;
use super::{Replying, Typed, TypedOperation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// Every operation of the model, with its typed handler (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    (
        "AddListenerCertificates",
        &Typed(listener_certificates::add_listener_certificates),
    ),
    ("AddTags", &Typed(tags::add_tags)),
    (
        "AddTrustStoreRevocations",
        &Typed(unsupported::no_trust_store),
    ),
    ("CreateListener", &Typed(listeners::create_listener)),
    (
        "CreateLoadBalancer",
        &Replying(load_balancers::create_load_balancer),
    ),
    ("CreateRule", &Typed(rules::create_rule)),
    (
        "CreateTargetGroup",
        &Typed(target_groups::create_target_group),
    ),
    ("CreateTrustStore", &Typed(unsupported::create_trust_store)),
    ("DeleteListener", &Typed(listeners::delete_listener)),
    (
        "DeleteLoadBalancer",
        &Typed(load_balancers::delete_load_balancer),
    ),
    ("DeleteRule", &Typed(rules::delete_rule)),
    (
        "DeleteSharedTrustStoreAssociation",
        &Typed(unsupported::no_trust_store),
    ),
    (
        "DeleteTargetGroup",
        &Typed(target_groups::delete_target_group),
    ),
    ("DeleteTrustStore", &Typed(unsupported::no_trust_store)),
    ("DeregisterTargets", &Typed(targets::deregister_targets)),
    ("DescribeAccountLimits", &Typed(describe_account_limits)),
    (
        "DescribeCapacityReservation",
        &Typed(unsupported::describe_capacity_reservation),
    ),
    (
        "DescribeListenerAttributes",
        &Typed(attributes::describe_listener_attributes),
    ),
    (
        "DescribeListenerCertificates",
        &Typed(listener_certificates::describe_listener_certificates),
    ),
    ("DescribeListeners", &Typed(listeners::describe_listeners)),
    (
        "DescribeLoadBalancerAttributes",
        &Typed(attributes::describe_load_balancer_attributes),
    ),
    (
        "DescribeLoadBalancers",
        &Replying(load_balancers::describe_load_balancers),
    ),
    ("DescribeRules", &Typed(rules::describe_rules)),
    (
        "DescribeSSLPolicies",
        &Typed(ssl_policies::describe_ssl_policies),
    ),
    ("DescribeTags", &Typed(tags::describe_tags)),
    (
        "DescribeTargetGroupAttributes",
        &Typed(attributes::describe_target_group_attributes),
    ),
    (
        "DescribeTargetGroups",
        &Typed(target_groups::describe_target_groups),
    ),
    (
        "DescribeTargetHealth",
        &Typed(targets::describe_target_health),
    ),
    (
        "DescribeTrustStoreAssociations",
        &Typed(unsupported::no_trust_store),
    ),
    (
        "DescribeTrustStoreRevocations",
        &Typed(unsupported::no_trust_store),
    ),
    (
        "DescribeTrustStores",
        &Typed(unsupported::describe_trust_stores),
    ),
    (
        "GetResourcePolicy",
        &Typed(unsupported::get_resource_policy),
    ),
    (
        "GetTrustStoreCaCertificatesBundle",
        &Typed(unsupported::no_trust_store),
    ),
    (
        "GetTrustStoreRevocationContent",
        &Typed(unsupported::no_trust_store),
    ),
    (
        "ModifyCapacityReservation",
        &Typed(unsupported::not_permitted),
    ),
    ("ModifyIpPools", &Typed(unsupported::not_permitted)),
    ("ModifyListener", &Typed(listeners::modify_listener)),
    (
        "ModifyListenerAttributes",
        &Typed(attributes::modify_listener_attributes),
    ),
    (
        "ModifyLoadBalancerAttributes",
        &Typed(attributes::modify_load_balancer_attributes),
    ),
    ("ModifyRule", &Typed(rules::modify_rule)),
    (
        "ModifyTargetGroup",
        &Typed(target_groups::modify_target_group),
    ),
    (
        "ModifyTargetGroupAttributes",
        &Typed(attributes::modify_target_group_attributes),
    ),
    ("ModifyTrustStore", &Typed(unsupported::no_trust_store)),
    ("RegisterTargets", &Typed(targets::register_targets)),
    (
        "RemoveListenerCertificates",
        &Typed(listener_certificates::remove_listener_certificates),
    ),
    ("RemoveTags", &Typed(tags::remove_tags)),
    (
        "RemoveTrustStoreRevocations",
        &Typed(unsupported::no_trust_store),
    ),
    ("SetIpAddressType", &Typed(lb_settings::set_ip_address_type)),
    ("SetRulePriorities", &Typed(rules::set_rule_priorities)),
    (
        "SetSecurityGroups",
        &Typed(lb_settings::set_security_groups),
    ),
    ("SetSubnets", &Typed(lb_settings::set_subnets)),
];

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

/// DescribeAccountLimits.
pub fn describe_account_limits(
    _: &RequestContext,
    _: &AppState,
    req: limits::DescribeAccountLimitsInput,
) -> Result<limits::DescribeAccountLimitsOutput, ApiError> {
    limits::describe(LIMITS, req)
}
