//! DescribeSSLPolicies: a few of AWS's predefined security policies with their protocols and
//! ciphers. An HTTPS listener's policy picks the TLS versions and cipher suites its data plane
//! offers, as far as rustls has them (TLS 1.2 and 1.3, AEAD suites with ECDHE; see
//! `elbv2::tls`).

use serde::{Deserialize, Serialize};

use super::errors::Elbv2Error;
use super::errors::{page_size, paginate};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// The policy a secure listener gets when it names none.
pub const DEFAULT_POLICY: &str = "ELBSecurityPolicy-2016-08";

/// TLS 1.2 ciphers of the current policies (OpenSSL names), in AWS's order.
pub const TLS12_CIPHERS: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
    "AES128-GCM-SHA256",
    "AES128-SHA256",
    "AES256-GCM-SHA384",
    "AES256-SHA256",
];
/// The CBC ciphers older policies add.
pub const LEGACY_CIPHERS: &[&str] = &[
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-SHA",
    "AES256-SHA",
];
const TLS13_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// (name, protocols, TLS 1.3 ciphers, legacy ciphers included).
const POLICIES: &[(&str, &[&str], bool, bool)] = &[
    (
        "ELBSecurityPolicy-2016-08",
        &["TLSv1", "TLSv1.1", "TLSv1.2"],
        false,
        true,
    ),
    (
        "ELBSecurityPolicy-TLS-1-1-2017-01",
        &["TLSv1.1", "TLSv1.2"],
        false,
        true,
    ),
    (
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        &["TLSv1.2"],
        false,
        false,
    ),
    (
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        &["TLSv1.2"],
        false,
        true,
    ),
    (
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        &["TLSv1.2", "TLSv1.3"],
        true,
        false,
    ),
    (
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        &["TLSv1.3"],
        true,
        false,
    ),
];

/// The predefined policies without TLS 1.3 (those a Classic listener can reference: Classic
/// Load Balancers do not support TLS 1.3), in AWS's order.
pub fn pre_tls13_policies() -> impl Iterator<Item = &'static str> {
    POLICIES.iter().filter(|p| !p.2).map(|p| p.0)
}

/// Whether a policy name is one of the predefined ones.
pub fn policy_exists(name: &str) -> bool {
    POLICIES.iter().any(|p| p.0 == name)
}

/// `SslPolicy`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SslPolicyOut {
    ssl_protocols: &'static [&'static str],
    ciphers: Vec<CipherOut>,
    name: &'static str,
    supported_load_balancer_types: [&'static str; 2],
}

/// `Cipher`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CipherOut {
    name: &'static str,
    priority: usize,
}

/// DescribeSSLPolicies' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSslPoliciesOutput {
    ssl_policies: Vec<SslPolicyOut>,
    next_marker: Option<String>,
}

/// A policy's protocols and its ciphers in preference order (OpenSSL names, as AWS lists
/// them), when the policy exists. The HTTPS data plane serves what rustls can of them.
pub fn policy_terms(name: &str) -> Option<(&'static [&'static str], Vec<&'static str>)> {
    POLICIES.iter().find(|p| p.0 == name).map(terms)
}

fn terms(
    p: &(&'static str, &'static [&'static str], bool, bool),
) -> (&'static [&'static str], Vec<&'static str>) {
    let (_, protocols, tls13, legacy) = *p;
    let mut ciphers: Vec<&str> = Vec::new();
    if tls13 {
        ciphers.extend(TLS13_CIPHERS);
    }
    if protocols.iter().any(|p| *p != "TLSv1.3") {
        ciphers.extend(TLS12_CIPHERS);
        if legacy {
            ciphers.extend(LEGACY_CIPHERS);
        }
    }
    (protocols, ciphers)
}

fn view(p: &(&'static str, &'static [&'static str], bool, bool)) -> SslPolicyOut {
    let name = p.0;
    let (protocols, ciphers) = terms(p);
    SslPolicyOut {
        ssl_protocols: protocols,
        ciphers: ciphers
            .into_iter()
            .enumerate()
            .map(|(i, name)| CipherOut {
                name,
                priority: i + 1,
            })
            .collect(),
        name,
        supported_load_balancer_types: ["application", "network"],
    }
}

/// The input of describe_ssl_policies.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Input {
    names: Vec<String>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// DescribeSSLPolicies: all, or the named ones (an unknown name fails the call).
pub fn describe_ssl_policies(
    _: &RequestContext,
    _: &AppState,
    req: Input,
) -> Result<DescribeSslPoliciesOutput, ApiError> {
    let page = page_size(req.page_size, 400)?;
    for n in &req.names {
        if !policy_exists(n) {
            return Err(Elbv2Error::SslPolicyNotFound.with(format!("SSL policy '{n}' not found")));
        }
    }
    let views: Vec<SslPolicyOut> = POLICIES
        .iter()
        .filter(|p| req.names.is_empty() || req.names.iter().any(|n| n == p.0))
        .map(view)
        .collect();
    let (ssl_policies, next_marker) = paginate(views, req.marker.as_deref(), page)?;
    Ok(DescribeSslPoliciesOutput {
        ssl_policies,
        next_marker,
    })
}
