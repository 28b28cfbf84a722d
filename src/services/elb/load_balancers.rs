//! Load balancers and their listeners, zones, subnets and security groups.

use serde::{Deserialize, Serialize};

use super::errors::ElbError;
use super::store::{Attributes, HealthCheck, Listener, LoadBalancer};
use super::{invalid_configuration, validation, with_lb};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::lb::{self, LbEntry, LbKind, LbRef};
use crate::services::ec2::store::Ec2Store;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Scope, Topic};

/// Load balancers per region (DescribeAccountLimits says so too).
const MAX_LOAD_BALANCERS: usize = 20;

/// A listener as the API spells it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerInput {
    protocol: String,
    load_balancer_port: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instance_protocol: Option<String>,
    instance_port: i64,
    #[serde(
        rename = "SSLCertificateId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    ssl_certificate_id: Option<String>,
}

/// CreateLoadBalancer's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateLoadBalancerInput {
    load_balancer_name: String,
    listeners: Vec<ListenerInput>,
    availability_zones: Option<Vec<String>>,
    subnets: Option<Vec<String>>,
    security_groups: Option<Vec<String>>,
    scheme: Option<String>,
    tags: Option<Vec<super::tags::TagInput>>,
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(validation(
            "LoadBalancerName must contain only alphanumeric characters or hyphens, must not begin or end with a hyphen, and must be at most 32 characters long.",
        ))
    }
}

/// Check a listener and give it its stored form.
pub fn listener_of(l: &ListenerInput) -> Result<Listener, ApiError> {
    let protocol = l.protocol.to_ascii_uppercase();
    let instance_protocol = l
        .instance_protocol
        .as_deref()
        .map_or_else(|| protocol.clone(), str::to_ascii_uppercase);
    for p in [&protocol, &instance_protocol] {
        if !["HTTP", "HTTPS", "TCP", "SSL"].contains(&p.as_str()) {
            return Err(ElbError::UnsupportedProtocol.with(format!(
                "Unsupported protocol: {p}. Valid protocols are HTTP, HTTPS, TCP and SSL."
            )));
        }
    }
    let layer7 = |p: &str| p == "HTTP" || p == "HTTPS";
    if layer7(&protocol) != layer7(&instance_protocol) {
        return Err(validation(format!(
            "Listener protocol {protocol} and instance protocol {instance_protocol} are not compatible: both must be HTTP/HTTPS or both TCP/SSL."
        )));
    }
    let port = |p: i64, what: &str| {
        u16::try_from(p)
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| validation(format!("{what} must be between 1 and 65535, got {p}.")))
    };
    let lb_port = port(l.load_balancer_port, "LoadBalancerPort")?;
    let instance_port = port(l.instance_port, "InstancePort")?;
    if (protocol == "HTTPS" || protocol == "SSL") && l.ssl_certificate_id.is_none() {
        return Err(validation(
            "SSLCertificateId is required for HTTPS and SSL listeners.",
        ));
    }
    Ok(Listener {
        protocol,
        lb_port,
        instance_protocol,
        instance_port,
        ssl_certificate_id: l.ssl_certificate_id.clone(),
        policy_names: Vec::new(),
    })
}

/// `CertificateNotFound` unless every listener's certificate is in ACM or IAM.
fn certificates_exist(state: &AppState, scope: &Scope, ls: &[Listener]) -> Result<(), ApiError> {
    let arns = ls.iter().filter_map(|l| l.ssl_certificate_id.as_deref());
    crate::services::acm::lookup::check_all(state, scope, arns)
}

fn duplicate_listener(name: &str, port: u16) -> ApiError {
    ElbError::DuplicateListener.with(format!(
        "A listener already exists for {name} with LoadBalancerPort {port}, but with a different InstancePort, Protocol, or SSLCertificateId"
    ))
}

/// Subnets for zones: the default subnet of each zone of the default VPC.
pub(super) fn subnets_for_zones(
    ec2: &Ec2Store,
    zones: &[String],
) -> Result<(String, Vec<String>), ApiError> {
    let vpc = ec2
        .default_vpc()
        .ok_or_else(|| invalid_configuration("There is no default VPC in this region."))?
        .id
        .clone();
    let mut subnets = Vec::new();
    for zone in zones {
        let subnet = ec2
            .subnets
            .values()
            .find(|s| s.vpc_id == vpc && s.default_for_az && &s.availability_zone == zone)
            .ok_or_else(|| validation(format!("Invalid Availability Zone: {zone}")))?;
        subnets.push(subnet.id.clone());
    }
    Ok((vpc, subnets))
}

/// Check subnets: they exist, share one VPC, one per zone. Returns (vpc, zones).
pub(super) fn check_subnets(
    ec2: &Ec2Store,
    subnets: &[String],
) -> Result<(String, Vec<String>), ApiError> {
    let mut vpc: Option<String> = None;
    let mut zones: Vec<String> = Vec::new();
    for id in subnets {
        let subnet = ec2.subnets.get(id).ok_or_else(|| {
            ElbError::SubnetNotFound.with(format!("One or more subnets were not found: {id}"))
        })?;
        if vpc.as_ref().is_some_and(|v| v != &subnet.vpc_id) {
            return Err(ElbError::InvalidSubnet.with("All subnets must belong to the same VPC."));
        }
        if zones.contains(&subnet.availability_zone) {
            return Err(invalid_configuration(format!(
                "LoadBalancer attached to multiple subnets in AZ: {}",
                subnet.availability_zone
            )));
        }
        vpc = Some(subnet.vpc_id.clone());
        zones.push(subnet.availability_zone.clone());
    }
    vpc.map(|v| (v, zones))
        .ok_or_else(|| validation("At least one subnet must be specified."))
}

pub(super) fn check_security_groups(
    ec2: &Ec2Store,
    vpc: &str,
    groups: &[String],
) -> Result<(), ApiError> {
    for g in groups {
        if ec2.security_groups.get(g).is_none_or(|sg| sg.vpc_id != vpc) {
            return Err(ElbError::InvalidSecurityGroup
                .with(format!("One or more security groups are invalid: {g}")));
        }
    }
    Ok(())
}

/// CreateLoadBalancer's output.
#[derive(Debug, Serialize)]
pub struct CreateLoadBalancerOutput {
    #[serde(rename = "DNSName")]
    dns_name: String,
}

/// CreateLoadBalancer.
pub fn create_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateLoadBalancerInput,
) -> Result<CreateLoadBalancerOutput, ApiError> {
    let name = req.load_balancer_name.clone();
    check_name(&name)?;
    if req.listeners.is_empty() {
        return Err(validation("At least one listener must be specified."));
    }
    let mut listeners: Vec<Listener> = Vec::new();
    for l in &req.listeners {
        let l = listener_of(l)?;
        if listeners.iter().any(|x| x.lb_port == l.lb_port) {
            return Err(duplicate_listener(&name, l.lb_port));
        }
        listeners.push(l);
    }
    certificates_exist(state, &ctx.scope, &listeners)?;
    let scheme = req
        .scheme
        .clone()
        .unwrap_or_else(|| "internet-facing".into());
    if scheme != "internet-facing" && scheme != "internal" {
        return Err(ElbError::InvalidScheme.with(format!(
            "Invalid scheme: {scheme}. Valid schemes are internet-facing and internal."
        )));
    }
    let tags = super::tags::check_new_tags(&req.tags.clone().unwrap_or_default(), 0)?;
    let scope = &ctx.scope;
    let dns = state.stores.with(scope, |s| -> Result<String, ApiError> {
        s.ec2.ensure_defaults(scope, state);
        let (vpc, subnets, zones) = match (&req.availability_zones, &req.subnets) {
            (Some(z), None) if !z.is_empty() => {
                let mut zones = z.clone();
                zones.dedup();
                let (vpc, subnets) = subnets_for_zones(&s.ec2, &zones)?;
                (vpc, subnets, zones)
            }
            (None, Some(sn)) if !sn.is_empty() => {
                let (vpc, zones) = check_subnets(&s.ec2, sn)?;
                (vpc, sn.clone(), zones)
            }
            (Some(_), Some(_)) => {
                return Err(validation(
                    "Only one of SubnetIds or AvailabilityZones may be specified",
                ));
            }
            _ => {
                return Err(validation(
                    "Either AvailabilityZones or SubnetIds must be specified",
                ));
            }
        };
        let groups = match &req.security_groups {
            Some(g) if !g.is_empty() => {
                check_security_groups(&s.ec2, &vpc, g)?;
                g.clone()
            }
            _ => s
                .ec2
                .group_by_name(&vpc, "default")
                .map(|g| vec![g.id.clone()])
                .unwrap_or_default(),
        };
        if let Some(existing) = s.elb.load_balancers.get(&name) {
            let same = existing.listeners.iter().map(strip_policies).eq(listeners.iter().cloned())
                && existing.subnets == subnets
                && existing.scheme == scheme;
            return if same {
                Ok(existing.dns_name.clone())
            } else {
                Err(ElbError::DuplicateLoadBalancerName.with(format!(
                    "Load Balancer named '{name}' already exists and it is configured with different parameters."
                )))
            };
        }
        if s.elb.load_balancers.len() >= MAX_LOAD_BALANCERS {
            return Err(ElbError::TooManyLoadBalancers
                .with(format!("Exceeded quota of account {}", scope.account)));
        }
        let dns = lb::dns_name(&name, &state.ids.dns_digits(), &scope.region, scheme == "internal");
        let lb = LoadBalancer {
            name: name.clone(),
            dns_name: dns.clone(),
            created: state.clock.now(),
            scheme,
            vpc_id: vpc,
            subnets,
            availability_zones: zones,
            security_groups: groups,
            health_check: HealthCheck::default_for(listeners[0].instance_port),
            listeners,
            attributes: Attributes::default(),
            policies: Default::default(),
            backend_policies: Default::default(),
            instances: Default::default(),
            draining: Default::default(),
            tags: tags.into_iter().collect(),
            cursor: std::sync::Arc::default(),
            stats: Default::default(),
            zone_stats: Default::default(),
            metrics_published_through: None,
        };
        index(state, scope, &lb);
        s.elb.load_balancers.insert(name.clone(), lb);
        Ok(dns)
    })?;
    state.touched(Topic::Elb);
    Ok(CreateLoadBalancerOutput { dns_name: dns })
}

fn strip_policies(l: &Listener) -> Listener {
    Listener {
        policy_names: Vec::new(),
        ..l.clone()
    }
}

/// Put (or refresh) a load balancer in the data plane's DNS index.
pub fn index(state: &AppState, scope: &Scope, lb: &LoadBalancer) {
    state.dataplane.index.insert(
        &lb.dns_name,
        LbEntry {
            lb: LbRef {
                scope: scope.clone(),
                kind: LbKind::Classic,
                name: lb.name.clone(),
            },
            ports: lb.ports(),
            tcp_ports: super::flows::flow_ports(lb),
        },
    );
}

/// DeleteLoadBalancer's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteLoadBalancerInput {
    load_balancer_name: String,
}

/// DeleteLoadBalancer (succeeds when there is no such load balancer).
pub fn delete_load_balancer(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteLoadBalancerInput,
) -> Result<(), ApiError> {
    let removed = state.stores.with(&ctx.scope, |s| {
        s.elb.load_balancers.shift_remove(&req.load_balancer_name)
    });
    if let Some(lb) = removed {
        state.dataplane.index.remove(&lb.dns_name);
        state.touched(Topic::Elb);
    }
    Ok(())
}

/// The input of Create/DeleteLoadBalancerListeners.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListenersInput {
    load_balancer_name: String,
    listeners: Vec<ListenerInput>,
    load_balancer_ports: Vec<i64>,
}

/// CreateLoadBalancerListeners.
pub fn create_load_balancer_listeners(
    ctx: &RequestContext,
    state: &AppState,
    req: ListenersInput,
) -> Result<(), ApiError> {
    let name = req.load_balancer_name.clone();
    let new: Vec<Listener> = req
        .listeners
        .iter()
        .map(listener_of)
        .collect::<Result<_, _>>()?;
    certificates_exist(state, &ctx.scope, &new)?;
    with_lb(state, &ctx.scope, &name, |lb, _| {
        let mut added: Vec<Listener> = Vec::new();
        for l in new {
            match lb
                .listener(l.lb_port)
                .or_else(|| added.iter().find(|a| a.lb_port == l.lb_port))
            {
                Some(existing) if strip_policies(existing) == l => {}
                Some(_) => return Err(duplicate_listener(&name, l.lb_port)),
                None => added.push(l),
            }
        }
        lb.listeners.extend(added);
        index(state, &ctx.scope, lb);
        Ok(())
    })
}

/// DeleteLoadBalancerListeners (ports without a listener are ignored).
pub fn delete_load_balancer_listeners(
    ctx: &RequestContext,
    state: &AppState,
    req: ListenersInput,
) -> Result<(), ApiError> {
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, _| {
        lb.listeners
            .retain(|l| !req.load_balancer_ports.contains(&i64::from(l.lb_port)));
        index(state, &ctx.scope, lb);
        Ok(())
    })
}

/// SetLoadBalancerListenerSSLCertificate's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CertificateInput {
    load_balancer_name: String,
    load_balancer_port: i64,
    #[serde(rename = "SSLCertificateId")]
    ssl_certificate_id: String,
}

/// SetLoadBalancerListenerSSLCertificate (the certificate must exist in ACM or IAM).
pub fn set_load_balancer_listener_ssl_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: CertificateInput,
) -> Result<(), ApiError> {
    crate::services::acm::lookup::check(state, &ctx.scope, &req.ssl_certificate_id)?;
    with_lb(state, &ctx.scope, &req.load_balancer_name, |lb, _| {
        let name = lb.name.clone();
        let listener = lb
            .listeners
            .iter_mut()
            .find(|l| i64::from(l.lb_port) == req.load_balancer_port)
            .ok_or_else(|| {
                ElbError::ListenerNotFound.with(format!(
                    "There is no listener on port {} for load balancer {name}",
                    req.load_balancer_port
                ))
            })?;
        if listener.protocol != "HTTPS" && listener.protocol != "SSL" {
            return Err(invalid_configuration(format!(
                "The listener on port {} uses {}: only HTTPS and SSL listeners have a certificate.",
                req.load_balancer_port, listener.protocol
            )));
        }
        listener.ssl_certificate_id = Some(req.ssl_certificate_id.clone());
        Ok(())
    })
}
