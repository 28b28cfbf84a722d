//! The `acm` service (AWS Certificate Manager, awsJson 1.1, `X-Amz-Target:
//! CertificateManager.<Op>`): the certificates HTTPS listeners present.
//!
//! - [`certificates`] holds ImportCertificate (PEM certificate, key and chain, checked to match),
//!   RequestCertificate (issued at once by Updraft's local CA, [`ca`]: no DNS or e-mail
//!   validation happens locally), Describe/Get/DeleteCertificate; [`listing`]: ListCertificates.
//! - [`tags`] holds Add/ListTagsFor/RemoveTagsFromCertificate.
//! - [`x509`] reads certificates and keys (names, validity, algorithms).
//! - [`lookup`] gives what load balancers need: whether an ACM or IAM server certificate ARN exists,
//!   and its PEM material for the data plane's TLS.
//!
//! Certificates are regional, as on AWS: each (account, region) store holds its own.

pub mod ca;
pub mod certificates;
pub mod errors;
pub mod listing;
pub mod lookup;
pub mod tags;
pub mod x509;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Handler, Typed, TypedOperation};
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::{RegionStores, Scope};

use errors::AcmError;
pub(crate) use errors::{not_found, validation};

/// Implemented operations: all typed (see `services::Typed`).
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    (
        "AddTagsToCertificate",
        &Typed(tags::add_tags_to_certificate),
    ),
    (
        "DeleteCertificate",
        &Typed(certificates::delete_certificate),
    ),
    (
        "DescribeCertificate",
        &Typed(certificates::describe_certificate),
    ),
    ("GetCertificate", &Typed(certificates::get_certificate)),
    (
        "ImportCertificate",
        &Typed(certificates::import_certificate),
    ),
    ("ListCertificates", &Typed(listing::list_certificates)),
    (
        "ListTagsForCertificate",
        &Typed(tags::list_tags_for_certificate),
    ),
    (
        "RemoveTagsFromCertificate",
        &Typed(tags::remove_tags_from_certificate),
    ),
    (
        "RequestCertificate",
        &Typed(certificates::request_certificate),
    ),
];

/// Operations still answering with value trees: none.
pub const OPERATIONS: &[(&str, Handler)] = &[];

/// The certificates of one (account, region), by ARN.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AcmStore {
    pub(crate) certificates: BTreeMap<String, StoredCertificate>,
}

/// The certificates of a scope, to read (empty where ACM was never written).
pub(crate) fn certs(s: &RegionStores) -> &BTreeMap<String, StoredCertificate> {
    static EMPTY: BTreeMap<String, StoredCertificate> = BTreeMap::new();
    s.acm.as_deref().map_or(&EMPTY, |a| &a.certificates)
}

/// The certificates of a scope, to write.
pub(crate) fn certs_mut(s: &mut RegionStores) -> &mut BTreeMap<String, StoredCertificate> {
    &mut s.acm.get_or_insert_with(Box::default).certificates
}

/// One certificate with its private key (ACM keeps both; GetCertificate never returns the key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCertificate {
    pub(crate) arn: String,
    /// `IMPORTED` or `AMAZON_ISSUED`.
    pub(crate) kind: String,
    pub(crate) details: x509::CertInfo,
    pub(crate) certificate_pem: String,
    pub(crate) chain_pem: Option<String>,
    pub(crate) private_key_pem: String,
    pub(crate) created_at: f64,
    /// Imported certificates: when last (re)imported.
    pub(crate) imported_at: Option<f64>,
    /// Issued certificates: when issued.
    pub(crate) issued_at: Option<f64>,
    /// Requested certificates: `DNS` or `EMAIL`.
    pub(crate) validation_method: Option<String>,
    /// RequestCertificate's idempotency token (a repeat within the hour returns this ARN).
    pub(crate) idempotency_token: Option<String>,
    pub(crate) tags: Vec<Tag>,
    /// Bumped on every re-import, so the data plane's cache sees new material.
    pub(crate) revision: u64,
}

/// A tag on a certificate (`Value` is optional in ACM).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub(crate) key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
}

/// Check an ACM certificate ARN: its shape (the model's pattern, as a `ValidationException`),
/// then that it names the caller's account and region (else it cannot be found there).
pub(crate) fn check_arn(scope: &Scope, arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "acm"
        && !parts[4].is_empty()
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if !well_formed {
        return Err(validation(format!(
            "1 validation error detected: Value '{arn}' at 'certificateArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:acm:[\\w+=/,.@-]*:[0-9]+:[\\w+=,.@-]+(/[\\w+=,.@-]+)*"
        )));
    }
    if parts[3] != scope.region || parts[4] != scope.account {
        return Err(not_found(arn));
    }
    Ok(())
}

/// Tags: at most 50, keys 1 to 128 characters not starting with `aws:`, values at most 256.
pub(crate) fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.len() > 50 {
        return Err(AcmError::TooManyTags.with("the TagSet: exceeds the limit of 50 tags."));
    }
    for t in tags {
        let key_len = t.key.chars().count();
        if key_len == 0 || key_len > 128 {
            return Err(validation(format!(
                "1 validation error detected: Value '{}' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128",
                t.key
            )));
        }
        if t.value.as_deref().is_some_and(|v| v.chars().count() > 256) {
            return Err(validation(
                "1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256",
            ));
        }
        if t.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(AcmError::InvalidTag
                .with(format!("Tag key {} uses the reserved prefix aws:", t.key)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_tags() {
        let scope = Scope::new("000000000000", "us-east-1");
        let ok = "arn:aws:acm:us-east-1:000000000000:certificate/0f1e";
        assert!(check_arn(&scope, ok).is_ok());
        assert_eq!(
            check_arn(&scope, "nope").unwrap_err().code,
            "ValidationException"
        );
        let other_region = "arn:aws:acm:eu-west-1:000000000000:certificate/0f1e";
        assert_eq!(
            check_arn(&scope, other_region).unwrap_err().code,
            "ResourceNotFoundException"
        );
        let tag = |k: &str| Tag {
            key: k.into(),
            value: None,
        };
        assert!(check_tags(&[tag("Name")]).is_ok());
        assert_eq!(
            check_tags(&[tag("aws:x")]).unwrap_err().code,
            "InvalidTagException"
        );
        assert!(check_tags(&vec![tag("k"); 51]).is_err());
    }
}
