//! A listener's certificates: Add/Remove/DescribeListenerCertificates. Certificates are
//! looked up in ACM and IAM (`CertificateNotFound` otherwise).

use serde::{Deserialize, Serialize};

use super::errors::Elbv2Error;
use super::errors::{listener_not_found, page_size, paginate, validation};
use super::listeners::{Certificate, CertificateOut};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// The certificate ARNs (of those given) that exist for a scope, read before the ELBv2 store
/// is locked (ACM and IAM data sit behind the same lock).
pub struct KnownCertificates(std::collections::HashSet<String>);

impl KnownCertificates {
    /// Look `arns` up in ACM and IAM.
    pub fn read<'a>(
        state: &AppState,
        scope: &crate::state::Scope,
        arns: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self(
            arns.into_iter()
                .filter(|a| crate::services::acm::lookup::stamp(state, scope, a).is_some())
                .map(str::to_owned)
                .collect(),
        )
    }
}

/// `CertificateNotFound` unless the certificate exists.
pub fn check_certificate(known: &KnownCertificates, arn: &str) -> Result<(), ApiError> {
    if known.0.contains(arn) {
        Ok(())
    } else {
        Err(crate::services::acm::lookup::not_found(arn))
    }
}

pub(super) fn arns_of(certs: &[Certificate]) -> impl Iterator<Item = &str> {
    certs.iter().filter_map(|c| c.certificate_arn.as_deref())
}

/// The input of Add/Remove/DescribeListenerCertificates.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificatesInput {
    listener_arn: String,
    #[serde(default)]
    certificates: Vec<Certificate>,
    marker: Option<String>,
    page_size: Option<i64>,
}

/// The output of Add/DescribeListenerCertificates.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificatesOutput {
    certificates: Vec<CertificateOut>,
    next_marker: Option<String>,
}

fn certificates_view(certs: &[(String, bool)]) -> Vec<CertificateOut> {
    certs
        .iter()
        .map(|(c, d)| CertificateOut {
            certificate_arn: c.clone(),
            is_default: Some(*d),
        })
        .collect()
}

/// AddListenerCertificates: extra (non-default) certificates of an HTTPS/TLS listener.
pub fn add_listener_certificates(
    ctx: &RequestContext,
    state: &AppState,
    req: CertificatesInput,
) -> Result<CertificatesOutput, ApiError> {
    let known = KnownCertificates::read(state, &ctx.scope, arns_of(&req.certificates));
    let added = state.stores.with(&ctx.scope, |s| {
        let l = s
            .elbv2
            .listeners
            .get_mut(&req.listener_arn)
            .ok_or_else(listener_not_found)?;
        let mut added = Vec::new();
        for c in &req.certificates {
            let arn = c.certificate_arn.clone().unwrap_or_default();
            check_certificate(&known, &arn)?;
            if c.is_default == Some(true) {
                return Err(validation(
                    "The default certificate must be set with ModifyListener",
                ));
            }
            added.push((arn, false));
        }
        if l.certificates.len() + added.len() > 26 {
            return Err(Elbv2Error::TooManyCertificates.with(
                "The quota for the number of certificates per load balancer has been reached",
            ));
        }
        for c in &added {
            if !l.certificates.iter().any(|(a, _)| *a == c.0) {
                l.certificates.push(c.clone());
            }
        }
        Ok(added)
    })?;
    Ok(CertificatesOutput {
        certificates: certificates_view(&added),
        next_marker: None,
    })
}

/// RemoveListenerCertificates: the default certificate cannot be removed.
pub fn remove_listener_certificates(
    ctx: &RequestContext,
    state: &AppState,
    req: CertificatesInput,
) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        let l = s
            .elbv2
            .listeners
            .get_mut(&req.listener_arn)
            .ok_or_else(listener_not_found)?;
        for c in &req.certificates {
            let arn = c.certificate_arn.clone().unwrap_or_default();
            if l.certificates.iter().any(|(a, d)| *a == arn && *d) {
                return Err(Elbv2Error::OperationNotPermitted
                    .with("The default certificate of a listener cannot be removed"));
            }
        }
        l.certificates.retain(|(a, _)| {
            !req.certificates
                .iter()
                .any(|c| c.certificate_arn.as_deref() == Some(a))
        });
        Ok::<_, ApiError>(())
    })
}

/// DescribeListenerCertificates: the default one (`IsDefault` true) and the added ones.
pub fn describe_listener_certificates(
    ctx: &RequestContext,
    state: &AppState,
    req: CertificatesInput,
) -> Result<CertificatesOutput, ApiError> {
    let page = page_size(req.page_size, 400)?;
    let certs = state.stores.with(&ctx.scope, |s| {
        s.elbv2
            .listeners
            .get(&req.listener_arn)
            .map(|l| certificates_view(&l.certificates))
            .ok_or_else(listener_not_found)
    })?;
    let (certificates, next_marker) = paginate(certs, req.marker.as_deref(), page)?;
    Ok(CertificatesOutput {
        certificates,
        next_marker,
    })
}
