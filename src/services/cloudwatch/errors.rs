//! CloudWatch's error codes ([AWS docs: Amazon CloudWatch API Reference, "Common Errors" and
//! each action's "Errors"](https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html)).
//! Status and fault are the botocore model's (the error shapes' `error` traits); the
//! framework-level `ValidationError` is [`super::validation`].

use crate::services::errors::ErrorCode;

/// Every code the CloudWatch handlers answer, `ValidationError` aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudWatchError {
    /// A parameter value is out of range or malformed.
    InvalidParameterValue,
    /// Parameters that cannot be given together (or one missing that another needs).
    InvalidParameterCombination,
    /// A required parameter is absent.
    MissingParameter,
    /// A `NextToken` that names no page.
    InvalidNextToken,
    /// `StateReasonData` that is not JSON.
    InvalidFormat,
    /// A dashboard name or body that is not valid (`DashboardInvalidInputError`).
    InvalidParameterInput,
    /// Too many tags on a resource.
    LimitExceededException,
    /// An alarm or dashboard that does not exist.
    ResourceNotFound,
    /// A tagged resource or anomaly detector that does not exist.
    ResourceNotFoundException,
}

impl ErrorCode for CloudWatchError {
    fn code(self) -> &'static str {
        match self {
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::InvalidParameterCombination => "InvalidParameterCombination",
            Self::MissingParameter => "MissingParameter",
            Self::InvalidNextToken => "InvalidNextToken",
            Self::InvalidFormat => "InvalidFormat",
            Self::InvalidParameterInput => "InvalidParameterInput",
            Self::LimitExceededException => "LimitExceededException",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::ResourceNotFound | Self::ResourceNotFoundException => 404,
            Self::InvalidParameterValue
            | Self::InvalidParameterCombination
            | Self::MissingParameter
            | Self::InvalidNextToken
            | Self::InvalidFormat
            | Self::InvalidParameterInput
            | Self::LimitExceededException => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::models;

    #[test]
    fn codes_and_statuses_are_the_models() {
        let all = [
            CloudWatchError::InvalidParameterValue,
            CloudWatchError::InvalidParameterCombination,
            CloudWatchError::MissingParameter,
            CloudWatchError::InvalidNextToken,
            CloudWatchError::InvalidFormat,
            CloudWatchError::InvalidParameterInput,
            CloudWatchError::LimitExceededException,
            CloudWatchError::ResourceNotFound,
            CloudWatchError::ResourceNotFoundException,
        ];
        let model = models::by_name("cloudwatch")
            .expect("cloudwatch is registered")
            .model();
        for e in all {
            let (_, shape) = model
                .error_shape_by_code(e.code())
                .unwrap_or_else(|| panic!("{} is not in the model", e.code()));
            let modelled = shape.error.as_ref().expect("an error trait");
            assert_eq!(modelled.http_status_code, Some(e.status()), "{}", e.code());
            assert_eq!(
                modelled.sender_fault,
                Some(e.sender_fault()),
                "{}",
                e.code()
            );
        }
    }
}
