//! SNS's error codes ([AWS docs: SNS API "Common Errors" and each action's "Errors"](https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html)).

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// Every code the SNS handlers answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnsError {
    /// A parameter is malformed or out of range.
    InvalidParameter,
    /// A parameter value is invalid (message attributes).
    ParameterValueInvalid,
    /// The topic or subscription does not exist.
    NotFound,
    /// The tagged resource does not exist.
    ResourceNotFound,
    /// Another account's resource, or an unsigned call that must be signed.
    AuthorizationError,
    /// Too many tags on a resource.
    TagLimitExceeded,
    /// PublishBatch without entries.
    EmptyBatchRequest,
    /// PublishBatch with more than ten entries.
    TooManyEntriesInBatchRequest,
    /// PublishBatch whose messages together are too long.
    BatchRequestTooLong,
    /// PublishBatch with a repeated entry id.
    BatchEntryIdsNotDistinct,
    /// PublishBatch with a malformed entry id.
    InvalidBatchEntryId,
}

impl ErrorCode for SnsError {
    fn code(self) -> &'static str {
        match self {
            Self::InvalidParameter => "InvalidParameter",
            Self::ParameterValueInvalid => "ParameterValueInvalid",
            Self::NotFound => "NotFound",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::AuthorizationError => "AuthorizationError",
            Self::TagLimitExceeded => "TagLimitExceeded",
            Self::EmptyBatchRequest => "EmptyBatchRequest",
            Self::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Self::BatchRequestTooLong => "BatchRequestTooLong",
            Self::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Self::InvalidBatchEntryId => "InvalidBatchEntryId",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::NotFound | Self::ResourceNotFound => 404,
            Self::AuthorizationError => 403,
            Self::InvalidParameter
            | Self::ParameterValueInvalid
            | Self::TagLimitExceeded
            | Self::EmptyBatchRequest
            | Self::TooManyEntriesInBatchRequest
            | Self::BatchRequestTooLong
            | Self::BatchEntryIdsNotDistinct
            | Self::InvalidBatchEntryId => 400,
        }
    }
}

/// A feature of SNS Updraft does not have (501, `NotImplemented`, not retried by the SDKs),
/// in `message`'s words.
pub fn not_implemented(message: impl Into<String>) -> ApiError {
    ApiError {
        message: message.into(),
        ..ApiError::not_implemented("sns", "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[SnsError] = &[
        SnsError::InvalidParameter,
        SnsError::ParameterValueInvalid,
        SnsError::NotFound,
        SnsError::ResourceNotFound,
        SnsError::AuthorizationError,
        SnsError::TagLimitExceeded,
        SnsError::EmptyBatchRequest,
        SnsError::TooManyEntriesInBatchRequest,
        SnsError::BatchRequestTooLong,
        SnsError::BatchEntryIdsNotDistinct,
        SnsError::InvalidBatchEntryId,
    ];

    #[test]
    fn codes_and_statuses_are_the_models() {
        crate::services::errors::assert_codes_are_the_models("sns", ALL);
    }

    #[test]
    fn not_implemented_is_a_501_of_the_server() {
        let e = not_implemented("SMS");
        assert_eq!(
            (
                e.code.as_ref(),
                e.status,
                e.sender_fault,
                e.message.as_str()
            ),
            ("NotImplemented", 501, false, "SMS")
        );
    }
}
