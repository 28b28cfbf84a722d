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
pub mod listener_certificates;
pub mod listeners;
pub mod load_balancers;
pub mod metrics;
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

use serde_json::Value;

pub use store::Elbv2Store;
pub use targets::{
    deregister_internal, register_internal, target_draining, target_draining_in,
    target_group_exists, target_healthy, target_healthy_in,
};

use super::Handler;
use super::elb::limits;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// Implemented operations and their handlers: every operation of the model.
pub const OPERATIONS: &[(&str, Handler)] = &[
    (
        "AddListenerCertificates",
        listener_certificates::add_listener_certificates,
    ),
    ("AddTags", tags::add_tags),
    ("AddTrustStoreRevocations", unsupported::no_trust_store),
    ("CreateListener", listeners::create_listener),
    ("CreateLoadBalancer", load_balancers::create_load_balancer),
    ("CreateRule", rules::create_rule),
    ("CreateTargetGroup", target_groups::create_target_group),
    ("CreateTrustStore", unsupported::create_trust_store),
    ("DeleteListener", listeners::delete_listener),
    ("DeleteLoadBalancer", load_balancers::delete_load_balancer),
    ("DeleteRule", rules::delete_rule),
    (
        "DeleteSharedTrustStoreAssociation",
        unsupported::no_trust_store,
    ),
    ("DeleteTargetGroup", target_groups::delete_target_group),
    ("DeleteTrustStore", unsupported::no_trust_store),
    ("DeregisterTargets", targets::deregister_targets),
    ("DescribeAccountLimits", describe_account_limits),
    (
        "DescribeCapacityReservation",
        unsupported::describe_capacity_reservation,
    ),
    (
        "DescribeListenerAttributes",
        attributes::describe_listener_attributes,
    ),
    (
        "DescribeListenerCertificates",
        listener_certificates::describe_listener_certificates,
    ),
    ("DescribeListeners", listeners::describe_listeners),
    (
        "DescribeLoadBalancerAttributes",
        attributes::describe_load_balancer_attributes,
    ),
    (
        "DescribeLoadBalancers",
        load_balancers::describe_load_balancers,
    ),
    ("DescribeRules", rules::describe_rules),
    ("DescribeSSLPolicies", ssl_policies::describe_ssl_policies),
    ("DescribeTags", tags::describe_tags),
    (
        "DescribeTargetGroupAttributes",
        attributes::describe_target_group_attributes,
    ),
    (
        "DescribeTargetGroups",
        target_groups::describe_target_groups,
    ),
    ("DescribeTargetHealth", targets::describe_target_health),
    (
        "DescribeTrustStoreAssociations",
        unsupported::no_trust_store,
    ),
    ("DescribeTrustStoreRevocations", unsupported::no_trust_store),
    ("DescribeTrustStores", unsupported::describe_trust_stores),
    ("GetResourcePolicy", unsupported::get_resource_policy),
    (
        "GetTrustStoreCaCertificatesBundle",
        unsupported::no_trust_store,
    ),
    (
        "GetTrustStoreRevocationContent",
        unsupported::no_trust_store,
    ),
    ("ModifyCapacityReservation", unsupported::not_permitted),
    ("ModifyIpPools", unsupported::not_permitted),
    ("ModifyListener", listeners::modify_listener),
    (
        "ModifyListenerAttributes",
        attributes::modify_listener_attributes,
    ),
    (
        "ModifyLoadBalancerAttributes",
        attributes::modify_load_balancer_attributes,
    ),
    ("ModifyRule", rules::modify_rule),
    ("ModifyTargetGroup", target_groups::modify_target_group),
    (
        "ModifyTargetGroupAttributes",
        attributes::modify_target_group_attributes,
    ),
    ("ModifyTrustStore", unsupported::no_trust_store),
    ("RegisterTargets", targets::register_targets),
    (
        "RemoveListenerCertificates",
        listener_certificates::remove_listener_certificates,
    ),
    ("RemoveTags", tags::remove_tags),
    ("RemoveTrustStoreRevocations", unsupported::no_trust_store),
    ("SetIpAddressType", load_balancers::set_ip_address_type),
    ("SetRulePriorities", rules::set_rule_priorities),
    ("SetSecurityGroups", load_balancers::set_security_groups),
    ("SetSubnets", load_balancers::set_subnets),
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

fn describe_account_limits(
    _: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    limits::describe(LIMITS, input)
}
