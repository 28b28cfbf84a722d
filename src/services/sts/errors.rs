//! STS's error codes ([AWS docs: AWS Security Token Service API Reference, "Common Errors"
//! and each action's "Errors"](https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html)).
//! Modelled codes take their status and fault from the botocore model's `error` traits;
//! `AccessDenied` (403) is one of AWS's common errors, as is the framework-level
//! `ValidationError` ([`validation`]).

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// `ValidationError` (400): the one helper all query services share.
pub use crate::services::errors::validation;

/// Every code the STS handlers answer (besides `ValidationError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsError {
    /// The caller may not make this call (common error, 403).
    AccessDenied,
    /// A web identity token that cannot be read or validated.
    InvalidIdentityToken,
    /// An encoded authorization message this server did not issue.
    InvalidAuthorizationMessage,
}

impl ErrorCode for StsError {
    fn code(self) -> &'static str {
        match self {
            Self::AccessDenied => "AccessDenied",
            Self::InvalidIdentityToken => "InvalidIdentityToken",
            Self::InvalidAuthorizationMessage => "InvalidAuthorizationMessageException",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::AccessDenied => 403,
            Self::InvalidIdentityToken | Self::InvalidAuthorizationMessage => 400,
        }
    }

    fn sender_fault(self) -> bool {
        // Each is the caller's: the model's traits for two, AWS's common errors for the 403.
        true
    }
}

/// `ValidationError` in AWS's "1 validation error detected" wording.
pub fn constraint(value: &str, member: &str, constraint: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::errors::{assert_codes_are_common, assert_codes_are_the_models};

    #[test]
    fn codes_and_statuses_are_the_models() {
        assert_codes_are_the_models(
            "sts",
            &[
                StsError::InvalidIdentityToken,
                StsError::InvalidAuthorizationMessage,
            ],
        );
        assert_codes_are_common("sts", &[StsError::AccessDenied]);
        assert_eq!(StsError::AccessDenied.with("x").status, 403);
    }
}
