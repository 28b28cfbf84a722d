//! DescribeLoadBalancers: the `LoadBalancerDescription` of each load balancer, written while
//! the store lock is held (the output borrows the records; nothing is copied). Fields are in
//! the model's member order (see `protocol::output`).

use serde::{Deserialize, Serialize};

use super::attributes::HealthCheckOut;
use super::errors::{marker_page, page_size};
use super::instances::InstanceOut;
use super::not_found;
use super::policies::{APP_COOKIE_TYPE, LB_COOKIE_TYPE};
use super::store::{CANONICAL_HOSTED_ZONE_ID, Listener, LoadBalancer};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::ec2::store::Ec2Store;
use crate::services::{Reply, Sent};
use crate::state::AppState;

/// DescribeLoadBalancers' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeLoadBalancersInput {
    load_balancer_names: Option<Vec<String>>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// DescribeLoadBalancers' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeLoadBalancersOutput<'a> {
    load_balancer_descriptions: Vec<DescriptionOut<'a>>,
    next_marker: Option<String>,
}

/// `LoadBalancerDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescriptionOut<'a> {
    load_balancer_name: &'a str,
    #[serde(rename = "DNSName")]
    dns_name: &'a str,
    canonical_hosted_zone_name: &'a str,
    #[serde(rename = "CanonicalHostedZoneNameID")]
    canonical_hosted_zone_name_id: &'static str,
    listener_descriptions: Vec<ListenerDescriptionOut<'a>>,
    policies: PoliciesOut<'a>,
    backend_server_descriptions: Vec<BackendOut<'a>>,
    availability_zones: &'a [String],
    subnets: &'a [String],
    #[serde(rename = "VPCId")]
    vpc_id: &'a str,
    instances: Vec<InstanceOut<'a>>,
    health_check: HealthCheckOut<'a>,
    source_security_group: SourceSecurityGroupOut<'a>,
    security_groups: &'a [String],
    created_time: Timestamp,
    scheme: &'a str,
}

/// `ListenerDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListenerDescriptionOut<'a> {
    listener: ListenerOut<'a>,
    policy_names: &'a [String],
}

/// `Listener`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListenerOut<'a> {
    protocol: &'a str,
    load_balancer_port: u16,
    instance_protocol: &'a str,
    instance_port: u16,
    #[serde(rename = "SSLCertificateId")]
    ssl_certificate_id: Option<&'a str>,
}

/// `Policies`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PoliciesOut<'a> {
    app_cookie_stickiness_policies: Vec<AppCookieOut<'a>>,
    #[serde(rename = "LBCookieStickinessPolicies")]
    lb_cookie_stickiness_policies: Vec<LbCookieOut<'a>>,
    other_policies: Vec<&'a str>,
}

/// `AppCookieStickinessPolicy`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AppCookieOut<'a> {
    policy_name: &'a str,
    cookie_name: &'a str,
}

/// `LBCookieStickinessPolicy`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LbCookieOut<'a> {
    policy_name: &'a str,
    cookie_expiration_period: Option<i64>,
}

/// `BackendServerDescription`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct BackendOut<'a> {
    instance_port: u16,
    policy_names: &'a [String],
}

/// `SourceSecurityGroup`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SourceSecurityGroupOut<'a> {
    owner_alias: &'a str,
    group_name: &'a str,
}

fn listener_description(l: &Listener) -> ListenerDescriptionOut<'_> {
    ListenerDescriptionOut {
        listener: ListenerOut {
            protocol: &l.protocol,
            load_balancer_port: l.lb_port,
            instance_protocol: &l.instance_protocol,
            instance_port: l.instance_port,
            ssl_certificate_id: l.ssl_certificate_id.as_deref(),
        },
        policy_names: &l.policy_names,
    }
}

fn policies(lb: &LoadBalancer) -> PoliciesOut<'_> {
    let mut out = PoliciesOut {
        app_cookie_stickiness_policies: Vec::new(),
        lb_cookie_stickiness_policies: Vec::new(),
        other_policies: Vec::new(),
    };
    for (name, p) in &lb.policies {
        match p.type_name.as_str() {
            LB_COOKIE_TYPE => out.lb_cookie_stickiness_policies.push(LbCookieOut {
                policy_name: name,
                cookie_expiration_period: p
                    .attribute("CookieExpirationPeriod")
                    .and_then(|x| x.parse::<i64>().ok()),
            }),
            APP_COOKIE_TYPE => out.app_cookie_stickiness_policies.push(AppCookieOut {
                policy_name: name,
                cookie_name: p.attribute("CookieName").unwrap_or(""),
            }),
            _ => out.other_policies.push(name),
        }
    }
    out
}

/// The `LoadBalancerDescription` of one load balancer.
fn description<'a>(
    lb: &'a LoadBalancer,
    account: &'a str,
    ec2: &'a Ec2Store,
) -> DescriptionOut<'a> {
    let group_name = lb
        .security_groups
        .first()
        .and_then(|g| ec2.security_groups.get(g))
        .map_or("default", |g| g.name.as_str());
    DescriptionOut {
        load_balancer_name: &lb.name,
        dns_name: &lb.dns_name,
        canonical_hosted_zone_name: &lb.dns_name,
        canonical_hosted_zone_name_id: CANONICAL_HOSTED_ZONE_ID,
        listener_descriptions: lb.listeners.iter().map(listener_description).collect(),
        policies: policies(lb),
        backend_server_descriptions: lb
            .backend_policies
            .iter()
            .map(|(port, names)| BackendOut {
                instance_port: *port,
                policy_names: names,
            })
            .collect(),
        availability_zones: &lb.availability_zones,
        subnets: &lb.subnets,
        vpc_id: &lb.vpc_id,
        instances: InstanceOut::all(lb),
        health_check: HealthCheckOut::new(&lb.health_check),
        source_security_group: SourceSecurityGroupOut {
            owner_alias: account,
            group_name,
        },
        security_groups: &lb.security_groups,
        created_time: Timestamp(lb.created),
        scheme: &lb.scheme,
    }
}

/// DescribeLoadBalancers: the named load balancers (an unknown name fails the call) or all of
/// them, a page of up to `PageSize` (400 at most) from `Marker` (an index).
pub fn describe_load_balancers(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeLoadBalancersInput,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    let page = page_size(req.page_size)?;
    let scope = &ctx.scope;
    state.stores.with(scope, |s| {
        s.ec2.ensure_defaults(scope, state);
        let lbs = &s.elb.load_balancers;
        let all: Vec<&LoadBalancer> = match &req.load_balancer_names {
            Some(names) if !names.is_empty() => names
                .iter()
                .map(|n| lbs.get(n).ok_or_else(|| not_found(n)))
                .collect::<Result<_, _>>()?,
            _ => lbs.values().collect(),
        };
        let (lbs, next_marker) = marker_page(all, req.marker.as_deref(), page)?;
        reply.send(&DescribeLoadBalancersOutput {
            load_balancer_descriptions: lbs
                .into_iter()
                .map(|lb| description(lb, &scope.account, &s.ec2))
                .collect(),
            next_marker,
        })
    })
}
