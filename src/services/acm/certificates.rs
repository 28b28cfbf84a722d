//! Import, request, describe, list, get and delete certificates.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::errors::AcmError;
use super::x509::{self, CertInfo};
use std::collections::BTreeMap;

use super::{
    StoredCertificate, Tag, certs, certs_mut, check_arn, check_tags, not_found, validation,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::state::{AppState, Scope, Topic};

/// Certificates an account may hold per region (ACM's default quota, imported and issued).
const MAX_CERTIFICATES: usize = 2500;
/// Names one requested certificate may carry (the domain and its alternative names).
const MAX_NAMES: usize = 100;
/// RequestCertificate's idempotency tokens hold for an hour.
const IDEMPOTENCY_SECONDS: f64 = 3600.0;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportCertificateRequest {
    certificate_arn: Option<String>,
    certificate: String,
    private_key: String,
    certificate_chain: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateArnResponse {
    certificate_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestCertificateRequest {
    domain_name: String,
    validation_method: Option<String>,
    subject_alternative_names: Option<Vec<String>>,
    idempotency_token: Option<String>,
    key_algorithm: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateArnRequest {
    pub(crate) certificate_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCertificateResponse {
    certificate: CertificateDetail,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DomainValidation {
    domain_name: String,
    validation_domain: String,
    validation_status: &'static str,
    validation_method: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CertificateDetail {
    certificate_arn: String,
    domain_name: String,
    subject_alternative_names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    domain_validation_options: Vec<DomainValidation>,
    serial: String,
    subject: String,
    issuer: String,
    created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    imported_at: Option<Timestamp>,
    status: &'static str,
    not_before: Timestamp,
    not_after: Timestamp,
    key_algorithm: String,
    signature_algorithm: String,
    in_use_by: Vec<String>,
    #[serde(rename = "Type")]
    kind: String,
    renewal_eligibility: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCertificateResponse {
    certificate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_chain: Option<String>,
}

/// A blob's bytes (the codec hands blobs over as canonical base64).
fn blob(b64: &str, member: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| validation(format!("The {member} is not valid base64.")))
}

/// Status of a stored certificate on the server's clock.
pub(super) fn status(c: &StoredCertificate, now: f64) -> &'static str {
    if now > c.details.not_after {
        "EXPIRED"
    } else {
        "ISSUED"
    }
}

/// The certificate's ARN with a fresh id.
fn new_arn(state: &AppState, scope: &Scope) -> String {
    crate::state::ids::arn(
        "acm",
        &scope.region,
        &scope.account,
        &format!("certificate/{}", state.ids.uuid()),
    )
}

/// ImportCertificate: a new certificate, or new material for an imported one (its ARN and tags
/// kept; tags cannot be given on a re-import).
pub fn import_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: ImportCertificateRequest,
) -> Result<CertificateArnResponse, ApiError> {
    check_tags(&req.tags)?;
    let cert_pem = blob(&req.certificate, "certificate")?;
    let key_pem = blob(&req.private_key, "private key")?;
    let chain_pem = req
        .certificate_chain
        .as_deref()
        .map(|c| blob(c, "certificate chain"))
        .transpose()?;
    let (der, details) = x509::certificate(&cert_pem).map_err(validation)?;
    let key = x509::private_key(&key_pem).map_err(validation)?;
    let mut chain = vec![der];
    if let Some(c) = &chain_pem {
        chain.extend(x509::certificates(c).map_err(validation)?);
    }
    x509::certified_key(chain, &key).map_err(validation)?;
    let text =
        |b: Vec<u8>| String::from_utf8(b).map_err(|_| validation("The PEM text is not UTF-8."));
    let (cert_pem, key_pem) = (text(cert_pem)?, text(key_pem)?);
    let chain_pem = chain_pem.map(text).transpose()?;
    let now = state.clock.now();
    if let Some(arn) = &req.certificate_arn {
        check_arn(&ctx.scope, arn)?;
        if !req.tags.is_empty() {
            return Err(validation(
                "Tags cannot be specified when reimporting a certificate.",
            ));
        }
    }
    let arn = state.stores.with(&ctx.scope, |s| {
        let store = certs_mut(s);
        match &req.certificate_arn {
            Some(arn) => {
                let c = store
                    .get_mut(arn)
                    .ok_or_else(|| not_found(arn))?;
                if c.kind != "IMPORTED" {
                    return Err(validation(format!(
                        "Certificate {arn} was not imported: only imported certificates can be reimported."
                    )));
                }
                c.details = details;
                c.certificate_pem = cert_pem;
                c.private_key_pem = key_pem;
                c.chain_pem = chain_pem;
                c.imported_at = Some(now);
                c.revision += 1;
                Ok(arn.clone())
            }
            None => {
                check_room(store)?;
                let arn = new_arn(state, &ctx.scope);
                store.insert(
                    arn.clone(),
                    StoredCertificate {
                        arn: arn.clone(),
                        kind: "IMPORTED".into(),
                        details,
                        certificate_pem: cert_pem,
                        chain_pem,
                        private_key_pem: key_pem,
                        created_at: now,
                        imported_at: Some(now),
                        issued_at: None,
                        validation_method: None,
                        idempotency_token: None,
                        tags: req.tags,
                        revision: 0,
                    },
                );
                Ok(arn)
            }
        }
    })?;
    tracing::info!(certificate = %arn, "certificate imported");
    state.touched(Topic::Elbv2);
    Ok(CertificateArnResponse {
        certificate_arn: arn,
    })
}

fn check_room(store: &BTreeMap<String, StoredCertificate>) -> Result<(), ApiError> {
    if store.len() >= MAX_CERTIFICATES {
        return Err(AcmError::LimitExceeded
            .with("The certificate quota of this account and region has been reached."));
    }
    Ok(())
}

/// A domain name as RequestCertificate accepts it (the model's pattern: labels of letters,
/// digits and hyphens, an optional leading `*.`).
fn check_domain(name: &str, member: &str) -> Result<(), ApiError> {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let labels: Vec<&str> = bare.split('.').collect();
    if name.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\*\\.)?(((?!-)[A-Za-z0-9-]{{0,62}}[A-Za-z0-9])\\.)+((?!-)[A-Za-z0-9-]{{1,62}}[A-Za-z0-9])"
        )));
    }
    Ok(())
}

/// RequestCertificate: issued at once by the local CA (validation is recorded as passed).
pub fn request_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: RequestCertificateRequest,
) -> Result<CertificateArnResponse, ApiError> {
    check_tags(&req.tags)?;
    check_domain(&req.domain_name, "domainName")?;
    let mut names = vec![req.domain_name.to_ascii_lowercase()];
    for san in req.subject_alternative_names.iter().flatten() {
        check_domain(san, "subjectAlternativeNames")?;
        let san = san.to_ascii_lowercase();
        if !names.contains(&san) {
            names.push(san);
        }
    }
    if names.len() > MAX_NAMES {
        return Err(AcmError::LimitExceeded.with(format!(
            "A certificate can have at most {MAX_NAMES} domain names."
        )));
    }
    let algorithm = req.key_algorithm.as_deref().unwrap_or("RSA_2048");
    if !matches!(algorithm, "RSA_2048" | "EC_prime256v1" | "EC_secp384r1") {
        return Err(validation(format!(
            "Key algorithm {algorithm} is not supported for requested certificates: use RSA_2048, EC_prime256v1 or EC_secp384r1."
        )));
    }
    let now = state.clock.now();
    if let Some(token) = &req.idempotency_token {
        let repeat = state.stores.with(&ctx.scope, |s| {
            certs(s)
                .values()
                .find(|c| {
                    c.idempotency_token.as_deref() == Some(token.as_str())
                        && now - c.created_at < IDEMPOTENCY_SECONDS
                })
                .map(|c| c.arn.clone())
        });
        if let Some(arn) = repeat {
            return Ok(CertificateArnResponse {
                certificate_arn: arn,
            });
        }
    }
    state.stores.with(&ctx.scope, |s| check_room(certs(s)))?;
    // Key generation and signing happen outside every lock.
    let fail = |err: super::ca::CaError| {
        tracing::error!(error = %err, "local CA failed");
        ApiError::internal()
    };
    let ca = state.tls.ca.get(state).map_err(fail)?;
    let issued = super::ca::issue(&ca, &names, algorithm, now).map_err(fail)?;
    let (_, details) = x509::certificate(issued.cert_pem.as_bytes()).map_err(|e| {
        tracing::error!(error = %e, "issued certificate does not parse");
        ApiError::internal()
    })?;
    let arn = new_arn(state, &ctx.scope);
    state.stores.with(&ctx.scope, |s| {
        certs_mut(s).insert(
            arn.clone(),
            StoredCertificate {
                arn: arn.clone(),
                kind: "AMAZON_ISSUED".into(),
                details,
                certificate_pem: issued.cert_pem,
                chain_pem: Some(issued.chain_pem),
                private_key_pem: issued.key_pem,
                created_at: now,
                imported_at: None,
                issued_at: Some(now),
                validation_method: Some(req.validation_method.unwrap_or_else(|| "EMAIL".into())),
                idempotency_token: req.idempotency_token,
                tags: req.tags,
                revision: 0,
            },
        );
    });
    tracing::info!(certificate = %arn, "certificate issued by the local CA");
    Ok(CertificateArnResponse {
        certificate_arn: arn,
    })
}

/// The listeners and load balancers of the scope that use a certificate (`InUseBy`).
pub(super) fn in_use_by(s: &crate::state::RegionStores, scope: &Scope, arn: &str) -> Vec<String> {
    let mut users: Vec<String> = s
        .elbv2
        .listeners
        .values()
        .filter(|l| l.certificates.iter().any(|(c, _)| c == arn))
        .map(|l| l.lb_arn.clone())
        .collect();
    users.extend(
        s.elb
            .load_balancers
            .values()
            .filter(|lb| {
                lb.listeners
                    .iter()
                    .any(|l| l.ssl_certificate_id.as_deref() == Some(arn))
            })
            .map(|lb| {
                crate::state::ids::arn(
                    "elasticloadbalancing",
                    &scope.region,
                    &scope.account,
                    &format!("loadbalancer/{}", lb.name),
                )
            }),
    );
    users.sort();
    users.dedup();
    users
}

fn detail(
    c: &StoredCertificate,
    info: &CertInfo,
    in_use: Vec<String>,
    now: f64,
) -> CertificateDetail {
    let domain_validation_options = match &c.validation_method {
        Some(method) => info
            .names
            .iter()
            .map(|n| DomainValidation {
                domain_name: n.clone(),
                validation_domain: n.trim_start_matches("*.").to_owned(),
                validation_status: "SUCCESS",
                validation_method: method.clone(),
            })
            .collect(),
        None => Vec::new(),
    };
    CertificateDetail {
        certificate_arn: c.arn.clone(),
        domain_name: info.domain_name.clone(),
        subject_alternative_names: info.names.clone(),
        domain_validation_options,
        serial: info.serial.clone(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        created_at: Timestamp(c.created_at),
        issued_at: c.issued_at.map(Timestamp),
        imported_at: c.imported_at.map(Timestamp),
        status: status(c, now),
        not_before: Timestamp(info.not_before),
        not_after: Timestamp(info.not_after),
        key_algorithm: info.key_algorithm.clone(),
        signature_algorithm: info.signature_algorithm.clone(),
        in_use_by: in_use,
        kind: c.kind.clone(),
        renewal_eligibility: "INELIGIBLE",
    }
}

/// DescribeCertificate.
pub fn describe_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: CertificateArnRequest,
) -> Result<DescribeCertificateResponse, ApiError> {
    check_arn(&ctx.scope, &req.certificate_arn)?;
    let now = state.clock.now();
    state.stores.with(&ctx.scope, |s| {
        let c = certs(s)
            .get(&req.certificate_arn)
            .ok_or_else(|| not_found(&req.certificate_arn))?;
        Ok(DescribeCertificateResponse {
            certificate: detail(c, &c.details, in_use_by(s, &ctx.scope, &c.arn), now),
        })
    })
}

/// GetCertificate: the certificate and its chain, never the key.
pub fn get_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: CertificateArnRequest,
) -> Result<GetCertificateResponse, ApiError> {
    check_arn(&ctx.scope, &req.certificate_arn)?;
    state.stores.with(&ctx.scope, |s| {
        let c = certs(s)
            .get(&req.certificate_arn)
            .ok_or_else(|| not_found(&req.certificate_arn))?;
        Ok(GetCertificateResponse {
            certificate: c.certificate_pem.clone(),
            certificate_chain: c.chain_pem.clone(),
        })
    })
}

/// DeleteCertificate: refused while a load balancer uses it.
pub fn delete_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: CertificateArnRequest,
) -> Result<(), ApiError> {
    check_arn(&ctx.scope, &req.certificate_arn)?;
    state.stores.with(&ctx.scope, |s| {
        if !certs(s).contains_key(&req.certificate_arn) {
            return Err(not_found(&req.certificate_arn));
        }
        if !in_use_by(s, &ctx.scope, &req.certificate_arn).is_empty() {
            return Err(AcmError::ResourceInUse
                .with(format!("Certificate {} is in use.", req.certificate_arn)));
        }
        certs_mut(s).remove(&req.certificate_arn);
        Ok(())
    })?;
    tracing::info!(certificate = %req.certificate_arn, "certificate deleted");
    Ok(())
}
