//! ELBv2 error codes with AWS's messages where they were captured (real AWS CLI,
//! CloudFormation, CloudTrail and AWS Load Balancer Controller output quoted in public code and
//! issues); the codes and statuses are those of botocore's elbv2 service model (all 400 but
//! `HealthUnavailable`, `InsufficientCapacity` 500 and `PriorRequestNotComplete` 429).

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// `ValidationError` (400): the one helper all services share.
pub use crate::services::errors::validation;

/// Every code the ELBv2 handlers answer (besides `ValidationError`). Codes, statuses and
/// faults are the botocore model's (`…Exception` shapes' `error` traits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elbv2Error {
    /// The CA bundle of a trust store cannot be read.
    CaCertificatesBundleNotFound,
    /// A certificate ARN that is neither ACM's nor IAM's.
    CertificateNotFound,
    /// A listener on that port exists.
    DuplicateListener,
    /// A load balancer of that name exists with other settings.
    DuplicateLoadBalancerName,
    /// A tag key given more than once.
    DuplicateTagKeys,
    /// A target group of that name exists with other settings.
    DuplicateTargetGroupName,
    /// The protocols of a listener and a target group do not fit.
    IncompatibleProtocols,
    /// The request conflicts with the resource's configuration (400 here, unlike Classic's 409).
    InvalidConfigurationRequest,
    /// An action that cannot be used.
    InvalidLoadBalancerAction,
    /// A security group that is not in the VPC.
    InvalidSecurityGroup,
    /// Subnets of another VPC.
    InvalidSubnet,
    /// A target that cannot be registered.
    InvalidTarget,
    /// No such listener.
    ListenerNotFound,
    /// No such load balancer.
    LoadBalancerNotFound,
    /// The operation is refused (deletion protection, default rules, unsupported features).
    OperationNotPermitted,
    /// A rule priority in use on the listener.
    PriorityInUse,
    /// The resource is in use (a target group by a load balancer).
    ResourceInUse,
    /// No such resource (resource policies).
    ResourceNotFound,
    /// No such rule.
    RuleNotFound,
    /// No predefined SSL policy of that name.
    SslPolicyNotFound,
    /// No such subnet.
    SubnetNotFound,
    /// A target group already belongs to a load balancer of another kind.
    TargetGroupAssociationLimit,
    /// No such target group.
    TargetGroupNotFound,
    /// The quota of certificates per listener is reached.
    TooManyCertificates,
    /// The quota of listeners per load balancer is reached.
    TooManyListeners,
    /// The quota of load balancers is reached.
    TooManyLoadBalancers,
    /// The quota of rules per load balancer is reached.
    TooManyRules,
    /// The quota of tags per resource is reached.
    TooManyTags,
    /// The quota of target groups is reached.
    TooManyTargetGroups,
    /// The quota of targets is reached.
    TooManyTargets,
    /// No such trust store (there are none).
    TrustStoreNotFound,
    /// A protocol the load balancer type does not take.
    UnsupportedProtocol,
}

impl ErrorCode for Elbv2Error {
    fn code(self) -> &'static str {
        match self {
            Self::CaCertificatesBundleNotFound => "CaCertificatesBundleNotFound",
            Self::CertificateNotFound => "CertificateNotFound",
            Self::DuplicateListener => "DuplicateListener",
            Self::DuplicateLoadBalancerName => "DuplicateLoadBalancerName",
            Self::DuplicateTagKeys => "DuplicateTagKeys",
            Self::DuplicateTargetGroupName => "DuplicateTargetGroupName",
            Self::IncompatibleProtocols => "IncompatibleProtocols",
            Self::InvalidConfigurationRequest => "InvalidConfigurationRequest",
            Self::InvalidLoadBalancerAction => "InvalidLoadBalancerAction",
            Self::InvalidSecurityGroup => "InvalidSecurityGroup",
            Self::InvalidSubnet => "InvalidSubnet",
            Self::InvalidTarget => "InvalidTarget",
            Self::ListenerNotFound => "ListenerNotFound",
            Self::LoadBalancerNotFound => "LoadBalancerNotFound",
            Self::OperationNotPermitted => "OperationNotPermitted",
            Self::PriorityInUse => "PriorityInUse",
            Self::ResourceInUse => "ResourceInUse",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::RuleNotFound => "RuleNotFound",
            Self::SslPolicyNotFound => "SSLPolicyNotFound",
            Self::SubnetNotFound => "SubnetNotFound",
            Self::TargetGroupAssociationLimit => "TargetGroupAssociationLimit",
            Self::TargetGroupNotFound => "TargetGroupNotFound",
            Self::TooManyCertificates => "TooManyCertificates",
            Self::TooManyListeners => "TooManyListeners",
            Self::TooManyLoadBalancers => "TooManyLoadBalancers",
            Self::TooManyRules => "TooManyRules",
            Self::TooManyTags => "TooManyTags",
            Self::TooManyTargetGroups => "TooManyTargetGroups",
            Self::TooManyTargets => "TooManyTargets",
            Self::TrustStoreNotFound => "TrustStoreNotFound",
            Self::UnsupportedProtocol => "UnsupportedProtocol",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::CaCertificatesBundleNotFound
            | Self::CertificateNotFound
            | Self::DuplicateListener
            | Self::DuplicateLoadBalancerName
            | Self::DuplicateTagKeys
            | Self::DuplicateTargetGroupName
            | Self::IncompatibleProtocols
            | Self::InvalidConfigurationRequest
            | Self::InvalidLoadBalancerAction
            | Self::InvalidSecurityGroup
            | Self::InvalidSubnet
            | Self::InvalidTarget
            | Self::ListenerNotFound
            | Self::LoadBalancerNotFound
            | Self::OperationNotPermitted
            | Self::PriorityInUse
            | Self::ResourceInUse
            | Self::ResourceNotFound
            | Self::RuleNotFound
            | Self::SslPolicyNotFound
            | Self::SubnetNotFound
            | Self::TargetGroupAssociationLimit
            | Self::TargetGroupNotFound
            | Self::TooManyCertificates
            | Self::TooManyListeners
            | Self::TooManyLoadBalancers
            | Self::TooManyRules
            | Self::TooManyTags
            | Self::TooManyTargetGroups
            | Self::TooManyTargets
            | Self::TrustStoreNotFound
            | Self::UnsupportedProtocol => 400,
        }
    }
}

/// `LoadBalancerNotFound`.
pub fn load_balancer_not_found() -> ApiError {
    Elbv2Error::LoadBalancerNotFound.with("One or more load balancers not found")
}

/// `TargetGroupNotFound`.
pub fn target_group_not_found() -> ApiError {
    Elbv2Error::TargetGroupNotFound.with("One or more target groups not found")
}

/// `ListenerNotFound`.
pub fn listener_not_found() -> ApiError {
    Elbv2Error::ListenerNotFound.with("One or more listeners not found")
}

/// `RuleNotFound`.
pub fn rule_not_found() -> ApiError {
    Elbv2Error::RuleNotFound.with("One or more rules not found")
}

/// `InvalidLoadBalancerAction`.
pub fn invalid_action(message: impl Into<String>) -> ApiError {
    Elbv2Error::InvalidLoadBalancerAction.with(message)
}

/// `InvalidConfigurationRequest` (400 in ELBv2, unlike Classic's 409).
pub fn invalid_configuration(message: impl Into<String>) -> ApiError {
    Elbv2Error::InvalidConfigurationRequest.with(message)
}

/// `InvalidTarget`.
pub fn invalid_target(message: impl Into<String>) -> ApiError {
    Elbv2Error::InvalidTarget.with(message)
}

/// `PriorityInUse`: `Priority '{n}' is currently in use` (as seen in CloudFormation and
/// Terraform output).
pub fn priority_in_use(priority: i64) -> ApiError {
    Elbv2Error::PriorityInUse.with(format!("Priority '{priority}' is currently in use"))
}

/// Check a 1–`max` page size the way AWS's generated validation words it.
pub fn page_size(value: Option<i64>, max: i64) -> Result<usize, ApiError> {
    match value {
        None => Ok(max as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(validation(format!(
            "1 validation error detected: Value '{n}' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to {max}"
        ))),
    }
}

/// One page of `items` from `marker` (an index), with the next marker when more remain.
pub fn paginate<T>(
    items: Vec<T>,
    marker: Option<&str>,
    page: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    crate::services::paging::page_from_marker(items, marker, page)
        .map_err(|_| validation("Invalid value for marker"))
}

/// The kinds of ELBv2 ARNs, with the words AWS uses for them in `… is not a valid … ARN`.
#[derive(Debug, Clone, Copy)]
pub enum ArnKind {
    /// `loadbalancer/app|net/…`.
    LoadBalancer,
    /// `targetgroup/…`.
    TargetGroup,
    /// `listener/…`.
    Listener,
    /// `listener-rule/…`.
    Rule,
}

/// AWS answers `ValidationError` `'{arn}' is not a valid load balancer ARN` (as captured in
/// aws-cli#3673) for an ARN that is malformed or names another region or account, and the
/// NotFound error of the kind only for a well-formed ARN of the caller's scope.
pub fn missing(scope: &crate::state::Scope, arn: &str, kind: ArnKind) -> ApiError {
    let (resource, words, not_found): (&str, &str, fn() -> ApiError) = match kind {
        ArnKind::LoadBalancer => ("loadbalancer/", "load balancer", load_balancer_not_found),
        ArnKind::TargetGroup => ("targetgroup/", "target group", target_group_not_found),
        ArnKind::Listener => ("listener/", "listener", listener_not_found),
        ArnKind::Rule => ("listener-rule/", "listener rule", rule_not_found),
    };
    let prefix = format!(
        "arn:aws:elasticloadbalancing:{}:{}:{resource}",
        scope.region, scope.account
    );
    let ok = arn
        .strip_prefix(&prefix)
        .is_some_and(|rest| rest.split('/').all(|p| !p.is_empty()));
    if ok {
        not_found()
    } else {
        validation(format!("'{arn}' is not a valid {words} ARN"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Elbv2Error] = &[
        Elbv2Error::CaCertificatesBundleNotFound,
        Elbv2Error::CertificateNotFound,
        Elbv2Error::DuplicateListener,
        Elbv2Error::DuplicateLoadBalancerName,
        Elbv2Error::DuplicateTagKeys,
        Elbv2Error::DuplicateTargetGroupName,
        Elbv2Error::IncompatibleProtocols,
        Elbv2Error::InvalidConfigurationRequest,
        Elbv2Error::InvalidLoadBalancerAction,
        Elbv2Error::InvalidSecurityGroup,
        Elbv2Error::InvalidSubnet,
        Elbv2Error::InvalidTarget,
        Elbv2Error::ListenerNotFound,
        Elbv2Error::LoadBalancerNotFound,
        Elbv2Error::OperationNotPermitted,
        Elbv2Error::PriorityInUse,
        Elbv2Error::ResourceInUse,
        Elbv2Error::ResourceNotFound,
        Elbv2Error::RuleNotFound,
        Elbv2Error::SslPolicyNotFound,
        Elbv2Error::SubnetNotFound,
        Elbv2Error::TargetGroupAssociationLimit,
        Elbv2Error::TargetGroupNotFound,
        Elbv2Error::TooManyCertificates,
        Elbv2Error::TooManyListeners,
        Elbv2Error::TooManyLoadBalancers,
        Elbv2Error::TooManyRules,
        Elbv2Error::TooManyTags,
        Elbv2Error::TooManyTargetGroups,
        Elbv2Error::TooManyTargets,
        Elbv2Error::TrustStoreNotFound,
        Elbv2Error::UnsupportedProtocol,
    ];

    #[test]
    fn codes_and_statuses_are_the_models() {
        crate::services::errors::assert_codes_are_the_models("elbv2", ALL);
    }
}
