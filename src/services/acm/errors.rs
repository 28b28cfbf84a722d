//! ACM's error codes ([AWS docs: AWS Certificate Manager API Reference, "Common Errors" and
//! each action's "Errors"](https://docs.aws.amazon.com/acm/latest/APIReference/CommonErrors.html)).
//! ACM speaks awsJson: the model's exception shapes carry no `error` trait, so each code is
//! its shape's name and a 400 of the sender's.

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// Every code the ACM handlers answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcmError {
    /// A constraint check failed: ACM's framework-level code, which its model lists.
    ValidationException,
    /// Arguments that cannot go together, or a `NextToken` that names no page.
    InvalidArgs,
    /// A tag key with the reserved `aws:` prefix.
    InvalidTag,
    /// A quota of the account or certificate is reached.
    LimitExceeded,
    /// A certificate still in use by a load balancer.
    ResourceInUse,
    /// No certificate of that ARN.
    ResourceNotFound,
    /// More than 50 tags.
    TooManyTags,
}

impl ErrorCode for AcmError {
    fn code(self) -> &'static str {
        match self {
            Self::ValidationException => "ValidationException",
            Self::InvalidArgs => "InvalidArgsException",
            Self::InvalidTag => "InvalidTagException",
            Self::LimitExceeded => "LimitExceededException",
            Self::ResourceInUse => "ResourceInUseException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::TooManyTags => "TooManyTagsException",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::ValidationException
            | Self::InvalidArgs
            | Self::InvalidTag
            | Self::LimitExceeded
            | Self::ResourceInUse
            | Self::ResourceNotFound
            | Self::TooManyTags => 400,
        }
    }
}

/// `ValidationException`: ACM's one validation helper.
pub fn validation(message: impl Into<String>) -> ApiError {
    AcmError::ValidationException.with(message)
}

/// `ResourceNotFoundException` for an ARN.
pub fn not_found(arn: &str) -> ApiError {
    AcmError::ResourceNotFound.with(format!("Could not find certificate {arn}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_the_models() {
        crate::services::errors::assert_codes_are_the_models(
            "acm",
            &[
                AcmError::ValidationException,
                AcmError::InvalidArgs,
                AcmError::InvalidTag,
                AcmError::LimitExceeded,
                AcmError::ResourceInUse,
                AcmError::ResourceNotFound,
                AcmError::TooManyTags,
            ],
        );
    }
}
