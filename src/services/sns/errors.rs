//! SNS's error codes ([AWS docs: SNS API "Common Errors" and each action's "Errors"](https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html)).

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
