//! Auto Scaling's error codes ([AWS docs: Amazon EC2 Auto Scaling API Reference, "Common
//! Errors" and each action's "Errors"](https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html)).
//! Status and fault are the botocore model's (`…Fault` shapes' `error` traits).

use crate::services::errors::ErrorCode;

/// Every code the Auto Scaling handlers answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoScalingError {
    /// A constraint check failed (the framework-level code of every awsQuery service).
    ValidationError,
    /// A group, launch configuration or action of this name exists.
    AlreadyExists,
    /// An account quota (groups, configurations, policies, hooks, ...) is reached.
    LimitExceeded,
    /// The resource is in use (a configuration by a group, a group with instances).
    ResourceInUse,
    /// A scaling activity of the group is in progress.
    ScalingActivityInProgress,
    /// A `NextToken` that names no page.
    InvalidNextToken,
    /// No instance refresh is running for the group.
    ActiveInstanceRefreshNotFound,
    /// An instance refresh is already running for the group.
    InstanceRefreshInProgress,
    /// The refresh cannot be rolled back.
    IrreversibleInstanceRefresh,
    /// Another request is changing the same resource.
    ResourceContention,
    /// A `ClientToken` reused with different parameters (LaunchInstances).
    IdempotentParameterMismatch,
}

impl ErrorCode for AutoScalingError {
    fn code(self) -> &'static str {
        match self {
            Self::ValidationError => "ValidationError",
            Self::AlreadyExists => "AlreadyExists",
            Self::LimitExceeded => "LimitExceeded",
            Self::ResourceInUse => "ResourceInUse",
            Self::ScalingActivityInProgress => "ScalingActivityInProgress",
            Self::InvalidNextToken => "InvalidNextToken",
            Self::ActiveInstanceRefreshNotFound => "ActiveInstanceRefreshNotFound",
            Self::InstanceRefreshInProgress => "InstanceRefreshInProgress",
            Self::IrreversibleInstanceRefresh => "IrreversibleInstanceRefresh",
            Self::ResourceContention => "ResourceContention",
            Self::IdempotentParameterMismatch => "IdempotentParameterMismatch",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::ResourceContention => 500,
            Self::ValidationError
            | Self::AlreadyExists
            | Self::LimitExceeded
            | Self::ResourceInUse
            | Self::ScalingActivityInProgress
            | Self::InvalidNextToken
            | Self::ActiveInstanceRefreshNotFound
            | Self::InstanceRefreshInProgress
            | Self::IrreversibleInstanceRefresh
            | Self::IdempotentParameterMismatch => 400,
        }
    }

    fn sender_fault(self) -> bool {
        // The model marks every Auto Scaling fault as the sender's, the 500 included.
        true
    }
}
