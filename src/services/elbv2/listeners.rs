//! Listeners: Create/Describe/Modify/DeleteListener and their default rule.
//!
//! HTTPS (and TLS) listeners name certificates that must exist: ACM certificates of the load
//! balancer's account and region, or IAM server certificates of its account
//! (`CertificateNotFound` otherwise). On listener ports the data plane terminates TLS with them
//! ([`super::tls`]).

use serde::{Deserialize, Serialize};

use super::actions::{Action, Owner, normalise_actions};
use super::errors::Elbv2Error;
use super::errors::{
    ArnKind, invalid_configuration, listener_not_found, load_balancer_not_found, missing,
    page_size, paginate, validation,
};
use super::listener_certificates::{KnownCertificates, arns_of, check_certificate};
use super::load_balancers::hex16;
use super::ssl_policies::{DEFAULT_POLICY, policy_exists};
use super::store::{Elbv2Store, Listener, Rule};
use super::tags::{Tag, check_tags, set_tags};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Topic};

/// A certificate as the API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Certificate {
    /// ARN.
    pub certificate_arn: Option<String>,
    /// Default certificate of the listener.
    pub is_default: Option<bool>,
}

fn protocol_fits(kind: &str, protocol: &str) -> bool {
    if kind == "network" {
        matches!(protocol, "TCP" | "TLS" | "UDP" | "TCP_UDP")
    } else {
        matches!(protocol, "HTTP" | "HTTPS")
    }
}

/// `Listener` as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerOut {
    listener_arn: String,
    load_balancer_arn: String,
    port: u16,
    protocol: String,
    /// The default certificate only (HTTPS and TLS listeners).
    certificates: Option<Vec<CertificateOut>>,
    ssl_policy: Option<String>,
    default_actions: Vec<Action>,
    alpn_policy: Option<Vec<String>>,
}

/// `Certificate`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CertificateOut {
    pub(super) certificate_arn: String,
    /// Left out in a listener's description.
    pub(super) is_default: Option<bool>,
}

/// The output of CreateListener, ModifyListener and DescribeListeners.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenersOutput {
    listeners: Vec<ListenerOut>,
    next_marker: Option<String>,
}

/// The API view of a listener (default actions from its default rule).
pub fn view(store: &Elbv2Store, l: &Listener) -> ListenerOut {
    ListenerOut {
        listener_arn: l.arn.clone(),
        load_balancer_arn: l.lb_arn.clone(),
        port: l.port,
        protocol: l.protocol.clone(),
        certificates: l.certificates.iter().find(|(_, d)| *d).map(|(cert, _)| {
            vec![CertificateOut {
                certificate_arn: cert.clone(),
                is_default: None,
            }]
        }),
        ssl_policy: l.ssl_policy.clone(),
        default_actions: store
            .rules
            .get(&l.default_rule)
            .map(|r| r.actions.clone())
            .unwrap_or_default(),
        alpn_policy: l.alpn_policy.clone(),
    }
}

/// Update the data plane's DNS index with a load balancer's listener ports.
pub fn reindex(state: &AppState, scope: &crate::state::Scope, store: &Elbv2Store, lb_arn: &str) {
    if let Some(lb) = store.load_balancers.get(lb_arn) {
        let listeners = store.listeners_of(lb_arn);
        let ports: Vec<u16> = listeners.iter().map(|l| l.port).collect();
        let tcp_ports: Vec<u16> = listeners
            .iter()
            .filter(|l| super::nlb::carries_flows(&l.protocol))
            .map(|l| l.port)
            .collect();
        super::dataplane::index(state, scope, lb, &ports, &tcp_ports);
    }
}

/// CreateListener's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateListenerInput {
    load_balancer_arn: String,
    protocol: Option<String>,
    port: Option<i64>,
    ssl_policy: Option<String>,
    #[serde(default)]
    certificates: Vec<Certificate>,
    default_actions: Vec<Action>,
    alpn_policy: Option<Vec<String>>,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// Check protocol, port, certificates and SSL policy; returns (port, default cert, policy).
fn check_listener(
    kind: &str,
    protocol: &str,
    port: Option<i64>,
    certificates: &[Certificate],
    ssl_policy: Option<&String>,
    known: &KnownCertificates,
) -> Result<(u16, Option<String>, Option<String>), ApiError> {
    if !protocol_fits(kind, protocol) {
        return Err(Elbv2Error::UnsupportedProtocol.with(format!(
            "Protocol '{protocol}' is not supported for load balancers of type '{kind}'"
        )));
    }
    let port = port.ok_or_else(|| validation("A listener port must be specified"))?;
    let port = u16::try_from(port).ok().filter(|p| *p > 0).ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value '{port}' at 'port' failed to satisfy constraint: Member must have value between 1 and 65535"
        ))
    })?;
    let secure = matches!(protocol, "HTTPS" | "TLS");
    if !secure {
        if !certificates.is_empty() {
            return Err(invalid_configuration(format!(
                "Certificates are not supported for listeners with protocol '{protocol}'"
            )));
        }
        if ssl_policy.is_some() {
            return Err(invalid_configuration(format!(
                "An SSL policy is not supported for listeners with protocol '{protocol}'"
            )));
        }
        return Ok((port, None, None));
    }
    let cert = match certificates {
        [] => {
            return Err(validation(format!(
                "A certificate must be specified for {protocol} listeners"
            )));
        }
        [one] => one.certificate_arn.clone().unwrap_or_default(),
        _ => {
            return Err(validation(
                "You can specify only one default certificate when creating or modifying a listener",
            ));
        }
    };
    check_certificate(known, &cert)?;
    let policy = ssl_policy.cloned().unwrap_or_else(|| DEFAULT_POLICY.into());
    if !policy_exists(&policy) {
        return Err(Elbv2Error::SslPolicyNotFound.with(format!("SSL policy '{policy}' not found")));
    }
    Ok((port, Some(cert), Some(policy)))
}

/// CreateListener: with its default rule.
pub fn create_listener(
    ctx: &RequestContext,
    state: &AppState,
    req: CreateListenerInput,
) -> Result<ListenersOutput, ApiError> {
    check_tags(&req.tags)?;
    let scope = ctx.scope.clone();
    let known = KnownCertificates::read(state, &scope, arns_of(&req.certificates));
    let out = state.stores.with(&scope, |s| {
        let store = &mut s.elbv2;
        let lb = store
            .load_balancers
            .get(&req.load_balancer_arn)
            .ok_or_else(load_balancer_not_found)?
            .clone();
        let protocol = req
            .protocol
            .clone()
            .unwrap_or_else(|| if lb.kind == "network" { "TCP" } else { "HTTP" }.into());
        let (port, cert, policy) = check_listener(
            &lb.kind,
            &protocol,
            req.port,
            &req.certificates,
            req.ssl_policy.as_ref(),
            &known,
        )?;
        if store.listeners_of(&lb.arn).iter().any(|l| l.port == port) {
            return Err(Elbv2Error::DuplicateListener.with(format!(
                "A listener already exists on this port for this load balancer '{}'",
                lb.arn
            )));
        }
        if store.listeners_of(&lb.arn).len() >= 50 {
            return Err(Elbv2Error::TooManyListeners
                .with("The quota for the number of listeners has been reached"));
        }
        let owner = Owner {
            lb_arn: &lb.arn,
            lb_kind: &lb.kind,
        };
        let actions = normalise_actions(store, &owner, req.default_actions.clone())?;
        let tail = lb
            .arn
            .split_once(":loadbalancer/")
            .map_or("", |(_, t)| t)
            .to_owned();
        let listener_id = hex16(state);
        let listener_arn = lb.arn.replace(
            &format!(":loadbalancer/{tail}"),
            &format!(":listener/{tail}/{listener_id}"),
        );
        let rule_arn = listener_arn.replace(":listener/", ":listener-rule/") + "/" + &hex16(state);
        store.rules.insert(
            rule_arn.clone(),
            Rule {
                arn: rule_arn.clone(),
                listener_arn: listener_arn.clone(),
                priority: None,
                conditions: Vec::new(),
                actions,
            },
        );
        let mut attributes = indexmap::IndexMap::new();
        if lb.kind == "network" {
            attributes.insert("tcp.idle_timeout.seconds".to_owned(), "350".to_owned());
        } else {
            attributes.insert(
                "routing.http.response.server.enabled".to_owned(),
                "true".to_owned(),
            );
        }
        let listener = Listener {
            arn: listener_arn.clone(),
            lb_arn: lb.arn.clone(),
            port,
            protocol,
            ssl_policy: policy,
            certificates: cert.into_iter().map(|c| (c, true)).collect(),
            alpn_policy: req.alpn_policy.clone(),
            attributes,
            default_rule: rule_arn,
        };
        store.listeners.insert(listener_arn.clone(), listener);
        set_tags(store, &listener_arn, &req.tags);
        reindex(state, &scope, store, &lb.arn);
        tracing::info!(listener = %listener_arn, port, "listener created");
        Ok(view(store, &store.listeners[&listener_arn]))
    })?;
    state.touched(Topic::Elbv2);
    Ok(ListenersOutput {
        listeners: vec![out],
        next_marker: None,
    })
}

/// DescribeListeners' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeListenersInput {
    load_balancer_arn: Option<String>,
    listener_arns: Vec<String>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// DescribeListeners: of a load balancer, or by ARN.
pub fn describe_listeners(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeListenersInput,
) -> Result<ListenersOutput, ApiError> {
    let page = page_size(req.page_size, 400)?;
    let views = state.stores.with(&ctx.scope, |s| {
        let store = &s.elbv2;
        match (&req.load_balancer_arn, req.listener_arns.is_empty()) {
            (Some(_), false) => Err(validation(
                "Listener ARNs and a load balancer ARN cannot be specified at the same time",
            )),
            (None, true) => Err(validation(
                "You must specify either listener ARNs or a load balancer ARN",
            )),
            (Some(lb), true) => {
                if !store.load_balancers.contains_key(lb) {
                    return Err(load_balancer_not_found());
                }
                Ok(store
                    .listeners_of(lb)
                    .into_iter()
                    .map(|l| view(store, l))
                    .collect::<Vec<_>>())
            }
            (None, false) => req
                .listener_arns
                .iter()
                .map(|a| {
                    store
                        .listeners
                        .get(a)
                        .map(|l| view(store, l))
                        .ok_or_else(|| missing(&ctx.scope, a, ArnKind::Listener))
                })
                .collect(),
        }
    })?;
    let (listeners, next_marker) = paginate(views, req.marker.as_deref(), page)?;
    Ok(ListenersOutput {
        listeners,
        next_marker,
    })
}

/// ModifyListener's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyListenerInput {
    listener_arn: String,
    port: Option<i64>,
    protocol: Option<String>,
    ssl_policy: Option<String>,
    certificates: Option<Vec<Certificate>>,
    default_actions: Option<Vec<Action>>,
    alpn_policy: Option<Vec<String>>,
}

/// ModifyListener: port, protocol, certificate, SSL policy, default actions.
pub fn modify_listener(
    ctx: &RequestContext,
    state: &AppState,
    req: ModifyListenerInput,
) -> Result<ListenersOutput, ApiError> {
    let scope = ctx.scope.clone();
    let current: Vec<String> = state.stores.with(&scope, |s| {
        s.elbv2
            .listeners
            .get(&req.listener_arn)
            .map(|l| l.certificates.iter().map(|(c, _)| c.clone()).collect())
            .unwrap_or_default()
    });
    let known = KnownCertificates::read(
        state,
        &scope,
        arns_of(req.certificates.as_deref().unwrap_or_default())
            .chain(current.iter().map(String::as_str)),
    );
    let out = state.stores.with(&scope, |s| {
        let store = &mut s.elbv2;
        let l = store
            .listeners
            .get(&req.listener_arn)
            .ok_or_else(listener_not_found)?
            .clone();
        let lb = store
            .load_balancers
            .get(&l.lb_arn)
            .ok_or_else(load_balancer_not_found)?
            .clone();
        let protocol = req.protocol.clone().unwrap_or_else(|| l.protocol.clone());
        let secure = matches!(protocol.as_str(), "HTTPS" | "TLS");
        let certificates: Vec<Certificate> = match (&req.certificates, secure) {
            (Some(c), _) => c.clone(),
            (None, true) => l
                .certificates
                .iter()
                .filter(|(_, d)| *d)
                .map(|(c, _)| Certificate {
                    certificate_arn: Some(c.clone()),
                    is_default: Some(true),
                })
                .collect(),
            (None, false) => Vec::new(),
        };
        let policy = match (&req.ssl_policy, secure) {
            (Some(p), _) => Some(p.clone()),
            (None, true) => l.ssl_policy.clone(),
            (None, false) => None,
        };
        let (port, cert, policy) = check_listener(
            &lb.kind,
            &protocol,
            Some(req.port.unwrap_or(i64::from(l.port))),
            &certificates,
            policy.as_ref(),
            &known,
        )?;
        if port != l.port && store.listeners_of(&lb.arn).iter().any(|o| o.port == port) {
            return Err(Elbv2Error::DuplicateListener.with(format!(
                "A listener already exists on this port for this load balancer '{}'",
                lb.arn
            )));
        }
        let actions = match &req.default_actions {
            Some(a) => Some(normalise_actions(
                store,
                &Owner {
                    lb_arn: &lb.arn,
                    lb_kind: &lb.kind,
                },
                a.clone(),
            )?),
            None => None,
        };
        if let Some(actions) = actions
            && let Some(rule) = store.rules.get_mut(&l.default_rule)
        {
            rule.actions = actions;
        }
        let listener = store
            .listeners
            .get_mut(&req.listener_arn)
            .ok_or_else(listener_not_found)?;
        listener.port = port;
        listener.protocol = protocol;
        listener.ssl_policy = policy;
        listener.certificates.retain(|(_, d)| !*d);
        if let Some(c) = cert {
            listener.certificates.insert(0, (c, true));
        } else {
            listener.certificates.clear();
        }
        if req.alpn_policy.is_some() {
            listener.alpn_policy = req.alpn_policy.clone();
        }
        reindex(state, &scope, store, &lb.arn);
        Ok::<_, ApiError>(view(store, &store.listeners[&req.listener_arn]))
    })?;
    state.touched(Topic::Elbv2);
    Ok(ListenersOutput {
        listeners: vec![out],
        next_marker: None,
    })
}

/// DeleteListener's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteListenerInput {
    listener_arn: String,
}

/// DeleteListener: with its rules.
pub fn delete_listener(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteListenerInput,
) -> Result<(), ApiError> {
    let scope = ctx.scope.clone();
    state.stores.with(&scope, |s| {
        let store = &mut s.elbv2;
        let l = store
            .listeners
            .shift_remove(&req.listener_arn)
            .ok_or_else(listener_not_found)?;
        let rules: Vec<String> = store
            .rules
            .values()
            .filter(|r| r.listener_arn == l.arn)
            .map(|r| r.arn.clone())
            .collect();
        for r in rules {
            store.rules.shift_remove(&r);
            store.tags.remove(&r);
        }
        store.tags.remove(&l.arn);
        reindex(state, &scope, store, &l.lb_arn);
        tracing::info!(listener = %l.arn, "listener deleted");
        Ok::<_, ApiError>(())
    })?;
    state.touched(Topic::Elbv2);
    Ok(())
}
