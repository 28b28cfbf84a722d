//! ListCertificates: by status and key type, sorted and paged.

use serde::{Deserialize, Serialize};

use super::certificates::{in_use_by, status};
use super::errors::{AcmError, validation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::services::paging::{Paging, PastEnd, Token, page};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListCertificatesRequest {
    certificate_statuses: Option<Vec<String>>,
    includes: Option<Filters>,
    next_token: Option<String>,
    max_items: Option<i64>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Filters {
    #[serde(rename = "keyTypes")]
    key_types: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListCertificatesResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    certificate_summary_list: Vec<CertificateSummary>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CertificateSummary {
    certificate_arn: String,
    domain_name: String,
    subject_alternative_name_summaries: Vec<String>,
    has_additional_subject_alternative_names: bool,
    status: &'static str,
    #[serde(rename = "Type")]
    kind: String,
    key_algorithm: String,
    in_use: bool,
    renewal_eligibility: &'static str,
    not_before: Timestamp,
    not_after: Timestamp,
    created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    imported_at: Option<Timestamp>,
}

/// ListCertificates: by status and key type (ACM lists only RSA-1024/2048 certificates unless
/// `Includes.keyTypes` asks for others), oldest first unless sorted by `CREATED_AT`.
pub fn list_certificates(
    ctx: &RequestContext,
    state: &AppState,
    req: ListCertificatesRequest,
) -> Result<ListCertificatesResponse, ApiError> {
    if req.sort_by.is_some() != req.sort_order.is_some() {
        return Err(AcmError::InvalidArgs.with("SortBy and SortOrder must be given together."));
    }
    let limit = match req.max_items {
        None => 1000,
        Some(n) if (1..=1000).contains(&n) => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
            )));
        }
    };
    let key_types = req
        .includes
        .and_then(|f| f.key_types)
        .unwrap_or_else(|| vec!["RSA_1024".into(), "RSA_2048".into()]);
    let now = state.clock.now();
    let mut items: Vec<CertificateSummary> = state.stores.with(&ctx.scope, |s| {
        super::certs(s)
            .values()
            .filter(|c| key_types.contains(&c.details.key_type()))
            .filter(|c| {
                req.certificate_statuses
                    .as_ref()
                    .is_none_or(|st| st.is_empty() || st.iter().any(|x| x == status(c, now)))
            })
            .map(|c| CertificateSummary {
                certificate_arn: c.arn.clone(),
                domain_name: c.details.domain_name.clone(),
                subject_alternative_name_summaries: c
                    .details
                    .names
                    .iter()
                    .take(100)
                    .cloned()
                    .collect(),
                has_additional_subject_alternative_names: c.details.names.len() > 100,
                status: status(c, now),
                kind: c.kind.clone(),
                key_algorithm: c.details.key_algorithm.clone(),
                in_use: !in_use_by(s, &ctx.scope, &c.arn).is_empty(),
                renewal_eligibility: "INELIGIBLE",
                not_before: Timestamp(c.details.not_before),
                not_after: Timestamp(c.details.not_after),
                created_at: Timestamp(c.created_at),
                issued_at: c.issued_at.map(Timestamp),
                imported_at: c.imported_at.map(Timestamp),
            })
            .collect()
    });
    items.sort_by(|a, b| {
        a.created_at
            .0
            .total_cmp(&b.created_at.0)
            .then(a.certificate_arn.cmp(&b.certificate_arn))
    });
    if req.sort_order.as_deref() == Some("DESCENDING") {
        items.reverse();
    }
    let paging = Paging {
        token: Token::Prefixed("updraft-"),
        past_end: PastEnd::Refused,
    };
    let (certificate_summary_list, next_token) =
        page(items, req.next_token.as_deref(), limit, paging)
            .map_err(|_| AcmError::InvalidArgs.with("The NextToken is not valid."))?;
    Ok(ListCertificatesResponse {
        next_token,
        certificate_summary_list,
    })
}
