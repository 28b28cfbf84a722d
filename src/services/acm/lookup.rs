//! Certificates as load balancers see them: an ACM certificate of the load balancer's account
//! and region, or an IAM server certificate of its account, by ARN.
//!
//! Call these outside any store lock (they take it).

use crate::error::ApiError;
use crate::services::elbv2::errors::Elbv2Error;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Scope};

/// A certificate's PEM material for the data plane.
#[derive(Debug, Clone)]
pub struct Material {
    /// Changes whenever the material does (ARN and revision): the data plane's cache key.
    pub stamp: String,
    /// The certificate.
    pub cert_pem: String,
    /// Its chain, when any.
    pub chain_pem: Option<String>,
    /// Its private key.
    pub key_pem: String,
}

enum Kind<'a> {
    Acm,
    Iam(&'a str),
}

/// Which store an ARN points into, when it is a certificate ARN the `scope` may use.
fn kind<'a>(scope: &Scope, arn: &'a str) -> Option<Kind<'a>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[4] != scope.account {
        return None;
    }
    match (parts[2], parts[3]) {
        ("acm", region) if region == scope.region && parts[5].starts_with("certificate/") => {
            Some(Kind::Acm)
        }
        ("iam", "") if parts[5].starts_with("server-certificate/") => Some(Kind::Iam(arn)),
        _ => None,
    }
}

/// The certificate's material and stamp, or `None` when no such certificate exists for `scope`.
fn read<R>(
    state: &AppState,
    scope: &Scope,
    arn: &str,
    f: impl FnOnce(Material) -> R,
    stamp_only: bool,
) -> Option<R> {
    match kind(scope, arn)? {
        Kind::Acm => state.stores.with(scope, |s| {
            let c = super::certs(s).get(arn)?;
            let stamp = format!("{arn}#{}", c.revision);
            Some(f(if stamp_only {
                Material {
                    stamp,
                    cert_pem: String::new(),
                    chain_pem: None,
                    key_pem: String::new(),
                }
            } else {
                Material {
                    stamp,
                    cert_pem: c.certificate_pem.clone(),
                    chain_pem: c.chain_pem.clone(),
                    key_pem: c.private_key_pem.clone(),
                }
            }))
        }),
        Kind::Iam(arn) => {
            let global = crate::services::iam::global(&scope.account);
            state.stores.with(&global, |s| {
                let c = s.iam.as_ref()?.server_certificate_by_arn(arn)?;
                let stamp = format!("{arn}#{}", c.id);
                Some(f(if stamp_only {
                    Material {
                        stamp,
                        cert_pem: String::new(),
                        chain_pem: None,
                        key_pem: String::new(),
                    }
                } else {
                    Material {
                        stamp,
                        cert_pem: c.body.clone(),
                        chain_pem: c.chain.clone(),
                        key_pem: c.private_key.clone(),
                    }
                }))
            })
        }
    }
}

/// The cache stamp of a certificate, when it exists for `scope`.
pub fn stamp(state: &AppState, scope: &Scope, arn: &str) -> Option<String> {
    read(state, scope, arn, |m| m.stamp, true)
}

/// The PEM material of a certificate, when it exists for `scope`.
pub fn material(state: &AppState, scope: &Scope, arn: &str) -> Option<Material> {
    read(state, scope, arn, |m| m, false)
}

/// `CertificateNotFound` (ELB and ELBv2's code) unless the certificate exists for `scope`.
pub fn check(state: &AppState, scope: &Scope, arn: &str) -> Result<(), ApiError> {
    match stamp(state, scope, arn) {
        Some(_) => Ok(()),
        None => Err(not_found(arn)),
    }
}

/// [`check`] every certificate of `arns`.
pub fn check_all<'a>(
    state: &AppState,
    scope: &Scope,
    arns: impl IntoIterator<Item = &'a str>,
) -> Result<(), ApiError> {
    arns.into_iter().try_for_each(|a| check(state, scope, a))
}

/// ELB's and ELBv2's `CertificateNotFound`.
pub fn not_found(arn: &str) -> ApiError {
    Elbv2Error::CertificateNotFound.with(format!("Certificate '{arn}' not found"))
}
