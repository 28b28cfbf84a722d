//! IAM's error codes ([AWS docs: IAM API Reference, "Common Errors" and each action's
//! "Errors"](https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html)).
//! Codes, statuses and faults are the botocore model's (`…Exception` shapes' `error` traits);
//! the framework-level `ValidationError` is [`validation`].

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// `ValidationError` (400): the one helper all query services share.
pub use crate::services::errors::validation;

/// Every code the IAM handlers answer (besides `ValidationError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamError {
    /// No role, policy, profile, user or certificate of that name (404).
    NoSuchEntity,
    /// A role, profile, user or certificate of that name exists (409).
    EntityAlreadyExists,
    /// The entity still has subordinate entities attached (409).
    DeleteConflict,
    /// An account or entity quota is reached (409).
    LimitExceeded,
    /// A parameter (a marker, a policy ARN) is not valid.
    InvalidInput,
    /// A certificate body or chain that is not a PEM certificate.
    MalformedCertificate,
    /// A private key that does not match the certificate.
    KeyPairMismatch,
    /// A policy document that is not JSON.
    MalformedPolicyDocument,
}

impl ErrorCode for IamError {
    fn code(self) -> &'static str {
        match self {
            Self::NoSuchEntity => "NoSuchEntity",
            Self::EntityAlreadyExists => "EntityAlreadyExists",
            Self::DeleteConflict => "DeleteConflict",
            Self::LimitExceeded => "LimitExceeded",
            Self::InvalidInput => "InvalidInput",
            Self::MalformedCertificate => "MalformedCertificate",
            Self::KeyPairMismatch => "KeyPairMismatch",
            Self::MalformedPolicyDocument => "MalformedPolicyDocument",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::NoSuchEntity => 404,
            Self::EntityAlreadyExists | Self::DeleteConflict | Self::LimitExceeded => 409,
            Self::InvalidInput
            | Self::MalformedCertificate
            | Self::KeyPairMismatch
            | Self::MalformedPolicyDocument => 400,
        }
    }

    fn sender_fault(self) -> bool {
        // The model marks every IAM fault these handlers answer as the sender's.
        true
    }
}

/// `NoSuchEntity` (404).
pub fn no_such_entity(message: String) -> ApiError {
    IamError::NoSuchEntity.with(message)
}

/// `EntityAlreadyExists` (409).
pub fn already_exists(message: String) -> ApiError {
    IamError::EntityAlreadyExists.with(message)
}

/// `DeleteConflict` (409).
pub fn delete_conflict(message: &str) -> ApiError {
    IamError::DeleteConflict.with(message)
}

/// `LimitExceeded` (409): `Cannot exceed quota for {quota}: {max}`.
pub fn quota(quota: &str, max: usize) -> ApiError {
    IamError::LimitExceeded.with(format!("Cannot exceed quota for {quota}: {max}"))
}

/// `InvalidInput` `Invalid Marker.`: a marker that names no page of the listing.
pub fn invalid_marker() -> ApiError {
    IamError::InvalidInput.with("Invalid Marker.")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[IamError] = &[
        IamError::NoSuchEntity,
        IamError::EntityAlreadyExists,
        IamError::DeleteConflict,
        IamError::LimitExceeded,
        IamError::InvalidInput,
        IamError::MalformedCertificate,
        IamError::KeyPairMismatch,
        IamError::MalformedPolicyDocument,
    ];

    #[test]
    fn codes_and_statuses_are_the_models() {
        crate::services::errors::assert_codes_are_the_models("iam", ALL);
    }

    #[test]
    fn helpers_keep_their_wire_strings() {
        let e = quota("PoliciesPerRole", 10);
        assert_eq!((e.code.as_ref(), e.status), ("LimitExceeded", 409));
        assert_eq!(e.message, "Cannot exceed quota for PoliciesPerRole: 10");
        let e = invalid_marker();
        assert_eq!((e.code.as_ref(), e.status), ("InvalidInput", 400));
        assert_eq!(validation("x").code, "ValidationError");
    }
}
