//! Server certificates (the certificates Classic ELB listeners used before ACM, and any load
//! balancer may still use): Upload/Get/List/DeleteServerCertificate.

use serde::{Deserialize, Serialize};

use super::errors::{IamError, quota};
use super::roles::ListRequest;
use super::{
    IamStore, Tag, already_exists, check_name, check_path, delete_conflict, no_such_entity, page,
    unique_id, with_iam,
};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::acm::x509;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

/// Server certificates per account (IAM's quota).
const MAX_CERTIFICATES: usize = 20;

/// A stored server certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerCertificate {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) body: String,
    pub(crate) chain: Option<String>,
    pub(crate) private_key: String,
    pub(crate) upload_date: f64,
    pub(crate) expiration: f64,
    pub(crate) tags: Vec<Tag>,
}

impl IamStore {
    /// A server certificate by ARN.
    pub fn server_certificate_by_arn(&self, arn: &str) -> Option<&ServerCertificate> {
        self.server_certificates.values().find(|c| c.arn == arn)
    }
}

/// `ServerCertificateMetadata`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    path: String,
    server_certificate_name: String,
    server_certificate_id: String,
    arn: String,
    upload_date: Timestamp,
    expiration: Timestamp,
}

impl ServerCertificate {
    fn metadata(&self) -> Metadata {
        Metadata {
            path: self.path.clone(),
            server_certificate_name: self.name.clone(),
            server_certificate_id: self.id.clone(),
            arn: self.arn.clone(),
            upload_date: Timestamp(self.upload_date),
            expiration: Timestamp(self.expiration),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadServerCertificateRequest {
    path: Option<String>,
    server_certificate_name: String,
    certificate_body: String,
    private_key: String,
    certificate_chain: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadServerCertificateResponse {
    server_certificate_metadata: Metadata,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

fn malformed(message: String) -> ApiError {
    IamError::MalformedCertificate.with(message)
}

fn not_found(name: &str) -> ApiError {
    no_such_entity(format!(
        "The Server Certificate with name {name} cannot be found."
    ))
}

/// UploadServerCertificate: the certificate must parse and the key must be its key.
pub fn upload_server_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: UploadServerCertificateRequest,
) -> Result<UploadServerCertificateResponse, ApiError> {
    check_name(&req.server_certificate_name, "serverCertificateName", 128)?;
    let path = req.path.unwrap_or_else(|| "/".into());
    check_path(&path)?;
    let (der, info) = x509::certificate(req.certificate_body.as_bytes())
        .map_err(|e| malformed(format!("Unable to parse certificate: {e}.")))?;
    let key = x509::private_key(req.private_key.as_bytes())
        .map_err(|e| malformed(format!("Unable to parse the private key: {e}.")))?;
    let mut chain = vec![der];
    if let Some(c) = &req.certificate_chain {
        chain.extend(
            x509::certificates(c.as_bytes())
                .map_err(|e| malformed(format!("Unable to parse the certificate chain: {e}.")))?,
        );
    }
    x509::certified_key(chain, &key).map_err(|e| {
        IamError::KeyPairMismatch.with(format!(
            "Unable to validate the private key with the certificate: {e}."
        ))
    })?;
    let cert = ServerCertificate {
        arn: format!(
            "arn:aws:iam::{}:server-certificate{path}{}",
            ctx.scope.account, req.server_certificate_name
        ),
        name: req.server_certificate_name,
        path,
        id: unique_id(state, "ASCA"),
        body: req.certificate_body,
        chain: req.certificate_chain,
        private_key: req.private_key,
        upload_date: state.clock.now().floor(),
        expiration: info.not_after,
        tags: req.tags,
    };
    let out = with_iam(ctx, state, |iam| {
        let key = cert.name.to_ascii_lowercase();
        if iam.server_certificates.contains_key(&key) {
            return Err(already_exists(format!(
                "The Server Certificate with name {} already exists.",
                cert.name
            )));
        }
        if iam.server_certificates.len() >= MAX_CERTIFICATES {
            return Err(quota("ServerCertificatesPerAccount", 20));
        }
        let out = UploadServerCertificateResponse {
            server_certificate_metadata: cert.metadata(),
            tags: cert.tags.clone(),
        };
        iam.server_certificates.insert(key, cert);
        Ok(out)
    })?;
    tracing::info!(arn = %out.server_certificate_metadata.arn, "server certificate uploaded");
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameRequest {
    server_certificate_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerCertificateOut {
    server_certificate_metadata: Metadata,
    certificate_body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_chain: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetServerCertificateResponse {
    server_certificate: ServerCertificateOut,
}

/// GetServerCertificate: the certificate and its chain, never the key.
pub fn get_server_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: NameRequest,
) -> Result<GetServerCertificateResponse, ApiError> {
    check_name(&req.server_certificate_name, "serverCertificateName", 128)?;
    with_iam(ctx, state, |iam| {
        let c = iam
            .server_certificates
            .get(&req.server_certificate_name.to_ascii_lowercase())
            .ok_or_else(|| not_found(&req.server_certificate_name))?;
        Ok(GetServerCertificateResponse {
            server_certificate: ServerCertificateOut {
                server_certificate_metadata: c.metadata(),
                certificate_body: c.body.clone(),
                certificate_chain: c.chain.clone(),
                tags: c.tags.clone(),
            },
        })
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListServerCertificatesResponse {
    server_certificate_metadata_list: Vec<Metadata>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// ListServerCertificates: under a path prefix, paged.
pub fn list_server_certificates(
    ctx: &RequestContext,
    state: &AppState,
    req: ListRequest,
) -> Result<ListServerCertificatesResponse, ApiError> {
    let prefix = req.path_prefix.unwrap_or_else(|| "/".into());
    let all: Vec<Metadata> = with_iam(ctx, state, |iam| {
        iam.server_certificates
            .values()
            .filter(|c| c.path.starts_with(&prefix))
            .map(ServerCertificate::metadata)
            .collect()
    });
    let (list, is_truncated, marker) = page(all, req.marker.as_deref(), req.max_items)?;
    Ok(ListServerCertificatesResponse {
        server_certificate_metadata_list: list,
        is_truncated,
        marker,
    })
}

/// Whether a load balancer of the account (any region) uses the certificate.
fn in_use(state: &AppState, account: &str, arn: &str) -> bool {
    let mut used = false;
    state.stores.for_each(|scope, s| {
        if scope.account != account || used {
            return;
        }
        used = s
            .elbv2
            .listeners
            .values()
            .any(|l| l.certificates.iter().any(|(c, _)| c == arn))
            || s.elb.load_balancers.values().any(|lb| {
                lb.listeners
                    .iter()
                    .any(|l| l.ssl_certificate_id.as_deref() == Some(arn))
            });
    });
    used
}

/// DeleteServerCertificate: refused while a load balancer uses it.
pub fn delete_server_certificate(
    ctx: &RequestContext,
    state: &AppState,
    req: NameRequest,
) -> Result<(), ApiError> {
    check_name(&req.server_certificate_name, "serverCertificateName", 128)?;
    let key = req.server_certificate_name.to_ascii_lowercase();
    let arn = with_iam(ctx, state, |iam| {
        iam.server_certificates
            .get(&key)
            .map(|c| c.arn.clone())
            .ok_or_else(|| not_found(&req.server_certificate_name))
    })?;
    if in_use(state, &ctx.scope.account, &arn) {
        return Err(delete_conflict(
            "Certificate is in use by a load balancer and cannot be deleted.",
        ));
    }
    with_iam(ctx, state, |iam| iam.server_certificates.remove(&key));
    tracing::info!(%arn, "server certificate deleted");
    Ok(())
}
