//! Classic Elastic Load Balancing's error codes ([AWS docs: Elastic Load Balancing API
//! Reference version 2012-06-01, each action's "Errors"](https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/CommonErrors.html)).
//! Codes, statuses and faults are the botocore model's (`…Exception` shapes' `error` traits):
//! every one is the sender's and 400, but `InvalidConfigurationRequest`, which is 409.

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// `ValidationError` (400): the one helper all services share.
pub use crate::services::errors::validation;

/// Every code the Classic ELB handlers answer (besides `ValidationError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElbError {
    /// No load balancer of that name (`AccessPointNotFoundException`).
    LoadBalancerNotFound,
    /// A load balancer of that name exists with other settings.
    DuplicateLoadBalancerName,
    /// A listener on that port exists with other settings.
    DuplicateListener,
    /// A policy of that name exists on the load balancer.
    DuplicatePolicyName,
    /// A tag key given more than once.
    DuplicateTagKeys,
    /// The request conflicts with the load balancer's configuration (409).
    InvalidConfigurationRequest,
    /// An instance that does not exist, is terminated or sits in another VPC
    /// (`InvalidEndPointException`).
    InvalidInstance,
    /// A scheme other than `internet-facing` or `internal`.
    InvalidScheme,
    /// A security group that is not in the load balancer's VPC.
    InvalidSecurityGroup,
    /// Subnets of several VPCs, or of another VPC.
    InvalidSubnet,
    /// No listener on that port.
    ListenerNotFound,
    /// An additional attribute this API does not know.
    LoadBalancerAttributeNotFound,
    /// No policy of that name.
    PolicyNotFound,
    /// No policy type of that name.
    PolicyTypeNotFound,
    /// A subnet that does not exist.
    SubnetNotFound,
    /// The region's quota of load balancers is reached (`TooManyAccessPointsException`).
    TooManyLoadBalancers,
    /// The load balancer's quota of policies is reached.
    TooManyPolicies,
    /// The load balancer's quota of tags is reached.
    TooManyTags,
    /// A protocol other than HTTP, HTTPS, TCP and SSL.
    UnsupportedProtocol,
}

impl ErrorCode for ElbError {
    fn code(self) -> &'static str {
        match self {
            Self::LoadBalancerNotFound => "LoadBalancerNotFound",
            Self::DuplicateLoadBalancerName => "DuplicateLoadBalancerName",
            Self::DuplicateListener => "DuplicateListener",
            Self::DuplicatePolicyName => "DuplicatePolicyName",
            Self::DuplicateTagKeys => "DuplicateTagKeys",
            Self::InvalidConfigurationRequest => "InvalidConfigurationRequest",
            Self::InvalidInstance => "InvalidInstance",
            Self::InvalidScheme => "InvalidScheme",
            Self::InvalidSecurityGroup => "InvalidSecurityGroup",
            Self::InvalidSubnet => "InvalidSubnet",
            Self::ListenerNotFound => "ListenerNotFound",
            Self::LoadBalancerAttributeNotFound => "LoadBalancerAttributeNotFound",
            Self::PolicyNotFound => "PolicyNotFound",
            Self::PolicyTypeNotFound => "PolicyTypeNotFound",
            Self::SubnetNotFound => "SubnetNotFound",
            Self::TooManyLoadBalancers => "TooManyLoadBalancers",
            Self::TooManyPolicies => "TooManyPolicies",
            Self::TooManyTags => "TooManyTags",
            Self::UnsupportedProtocol => "UnsupportedProtocol",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::InvalidConfigurationRequest => 409,
            Self::LoadBalancerNotFound
            | Self::DuplicateLoadBalancerName
            | Self::DuplicateListener
            | Self::DuplicatePolicyName
            | Self::DuplicateTagKeys
            | Self::InvalidInstance
            | Self::InvalidScheme
            | Self::InvalidSecurityGroup
            | Self::InvalidSubnet
            | Self::ListenerNotFound
            | Self::LoadBalancerAttributeNotFound
            | Self::PolicyNotFound
            | Self::PolicyTypeNotFound
            | Self::SubnetNotFound
            | Self::TooManyLoadBalancers
            | Self::TooManyPolicies
            | Self::TooManyTags
            | Self::UnsupportedProtocol => 400,
        }
    }

    fn sender_fault(self) -> bool {
        // The model marks every Classic ELB fault as the sender's, the 409 included.
        true
    }
}

/// A `PageSize` of 1 to 400 (400 when not given), as AWS's generated validation words it.
pub fn page_size(value: Option<i64>) -> Result<usize, ApiError> {
    match value {
        None => Ok(400),
        Some(n @ 1..=400) => Ok(n as usize),
        Some(n) => Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400"
        ))),
    }
}

/// One page of `items` from `marker` (an index), and the next marker when more remain.
pub fn marker_page<T>(
    items: impl IntoIterator<Item = T>,
    marker: Option<&str>,
    page: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    crate::services::paging::page_from_marker(items, marker, page)
        .map_err(|_| validation("Invalid value for marker"))
}

/// `LoadBalancerNotFound`, in the words of the real CLI's output.
pub fn not_found(name: &str) -> ApiError {
    ElbError::LoadBalancerNotFound.with(format!("There is no ACTIVE Load Balancer named '{name}'"))
}

/// `InvalidConfigurationRequest` (HTTP 409).
pub fn invalid_configuration(message: impl Into<String>) -> ApiError {
    ElbError::InvalidConfigurationRequest.with(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::models;

    const ALL: &[ElbError] = &[
        ElbError::LoadBalancerNotFound,
        ElbError::DuplicateLoadBalancerName,
        ElbError::DuplicateListener,
        ElbError::DuplicatePolicyName,
        ElbError::DuplicateTagKeys,
        ElbError::InvalidConfigurationRequest,
        ElbError::InvalidInstance,
        ElbError::InvalidScheme,
        ElbError::InvalidSecurityGroup,
        ElbError::InvalidSubnet,
        ElbError::ListenerNotFound,
        ElbError::LoadBalancerAttributeNotFound,
        ElbError::PolicyNotFound,
        ElbError::PolicyTypeNotFound,
        ElbError::SubnetNotFound,
        ElbError::TooManyLoadBalancers,
        ElbError::TooManyPolicies,
        ElbError::TooManyTags,
        ElbError::UnsupportedProtocol,
    ];

    #[test]
    fn codes_and_statuses_are_the_models() {
        crate::services::errors::assert_codes_are_the_models("elb", ALL);
        assert!(models::by_name("elb").is_some());
    }
}
