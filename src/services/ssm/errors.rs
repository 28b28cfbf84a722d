//! Systems Manager's error codes ([AWS docs: AWS Systems Manager API Reference, "Common
//! Errors" and each action's "Errors"](https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html)).
//! SSM speaks awsJson: the model's exception shapes carry no `error` trait, so each code is
//! its shape's name and a 400 of the sender's. `ValidationException`, the framework's
//! constraint check, is one of AWS's common errors, not a shape of the model.

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// Every code the SSM handlers answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsmError {
    /// A constraint check failed (common error).
    ValidationException,
    /// A name of more than 15 levels.
    HierarchyLevelLimitExceeded,
    /// An `AllowedPattern` that is not a regular expression.
    InvalidAllowedPattern,
    /// A filter key this listing does not know.
    InvalidFilterKey,
    /// A filter option the key does not take.
    InvalidFilterOption,
    /// A filter without values.
    InvalidFilterValue,
    /// A `NextToken` that names no page.
    InvalidNextToken,
    /// A tagged resource that does not exist.
    InvalidResourceId,
    /// A tagged resource type other than `Parameter`.
    InvalidResourceType,
    /// PutParameter of an existing name without `Overwrite`.
    ParameterAlreadyExists,
    /// The oldest of 100 versions carries a label, so no version can be added.
    ParameterMaxVersionLimitExceeded,
    /// No parameter of that name.
    ParameterNotFound,
    /// A value that does not match the parameter's `AllowedPattern`.
    ParameterPatternMismatch,
    /// More than ten labels on a version.
    ParameterVersionLabelLimitExceeded,
    /// No such version of the parameter.
    ParameterVersionNotFound,
    /// More than 50 tags.
    TooManyTagsError,
}

impl ErrorCode for SsmError {
    fn code(self) -> &'static str {
        match self {
            Self::ValidationException => "ValidationException",
            Self::HierarchyLevelLimitExceeded => "HierarchyLevelLimitExceededException",
            Self::InvalidAllowedPattern => "InvalidAllowedPatternException",
            Self::InvalidFilterKey => "InvalidFilterKey",
            Self::InvalidFilterOption => "InvalidFilterOption",
            Self::InvalidFilterValue => "InvalidFilterValue",
            Self::InvalidNextToken => "InvalidNextToken",
            Self::InvalidResourceId => "InvalidResourceId",
            Self::InvalidResourceType => "InvalidResourceType",
            Self::ParameterAlreadyExists => "ParameterAlreadyExists",
            Self::ParameterMaxVersionLimitExceeded => "ParameterMaxVersionLimitExceeded",
            Self::ParameterNotFound => "ParameterNotFound",
            Self::ParameterPatternMismatch => "ParameterPatternMismatchException",
            Self::ParameterVersionLabelLimitExceeded => "ParameterVersionLabelLimitExceeded",
            Self::ParameterVersionNotFound => "ParameterVersionNotFound",
            Self::TooManyTagsError => "TooManyTagsError",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::ValidationException
            | Self::HierarchyLevelLimitExceeded
            | Self::InvalidAllowedPattern
            | Self::InvalidFilterKey
            | Self::InvalidFilterOption
            | Self::InvalidFilterValue
            | Self::InvalidNextToken
            | Self::InvalidResourceId
            | Self::InvalidResourceType
            | Self::ParameterAlreadyExists
            | Self::ParameterMaxVersionLimitExceeded
            | Self::ParameterNotFound
            | Self::ParameterPatternMismatch
            | Self::ParameterVersionLabelLimitExceeded
            | Self::ParameterVersionNotFound
            | Self::TooManyTagsError => 400,
        }
    }
}

/// `ValidationException` with a message: SSM's one validation helper.
pub fn validation(message: impl Into<String>) -> ApiError {
    SsmError::ValidationException.with(message)
}

/// `ValidationException` in the "1 validation error detected" wording.
pub fn constraint(value: &str, member: &str, constraint: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// `ParameterNotFound`: AWS sends it with an empty message.
pub fn not_found() -> ApiError {
    SsmError::ParameterNotFound.with("")
}

/// `ParameterVersionNotFound` for `version` of `name`.
pub fn version_not_found(name: &str, version: i64) -> ApiError {
    SsmError::ParameterVersionNotFound.with(format!(
        "Systems Manager could not find version {version} of {name}. Verify the version and try again."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODELLED: &[SsmError] = &[
        SsmError::HierarchyLevelLimitExceeded,
        SsmError::InvalidAllowedPattern,
        SsmError::InvalidFilterKey,
        SsmError::InvalidFilterOption,
        SsmError::InvalidFilterValue,
        SsmError::InvalidNextToken,
        SsmError::InvalidResourceId,
        SsmError::InvalidResourceType,
        SsmError::ParameterAlreadyExists,
        SsmError::ParameterMaxVersionLimitExceeded,
        SsmError::ParameterNotFound,
        SsmError::ParameterPatternMismatch,
        SsmError::ParameterVersionLabelLimitExceeded,
        SsmError::ParameterVersionNotFound,
        SsmError::TooManyTagsError,
    ];

    #[test]
    fn codes_and_statuses_are_the_models() {
        crate::services::errors::assert_codes_are_the_models("ssm", MODELLED);
        crate::services::errors::assert_codes_are_common("ssm", &[SsmError::ValidationException]);
    }
}
