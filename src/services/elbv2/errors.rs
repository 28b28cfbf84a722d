//! ELBv2 error codes with AWS's messages where they were captured (research §9.5); the codes
//! and statuses are the model's (all 400 but `HealthUnavailable`, `InsufficientCapacity` 500
//! and `PriorRequestNotComplete` 429).

use crate::error::ApiError;

/// `ValidationError` (400): the one helper all services share.
pub use crate::services::errors::validation;

/// `LoadBalancerNotFound`.
pub fn load_balancer_not_found() -> ApiError {
    ApiError::client(
        "LoadBalancerNotFound",
        "One or more load balancers not found",
    )
}

/// `TargetGroupNotFound`.
pub fn target_group_not_found() -> ApiError {
    ApiError::client("TargetGroupNotFound", "One or more target groups not found")
}

/// `ListenerNotFound`.
pub fn listener_not_found() -> ApiError {
    ApiError::client("ListenerNotFound", "One or more listeners not found")
}

/// `RuleNotFound`.
pub fn rule_not_found() -> ApiError {
    ApiError::client("RuleNotFound", "One or more rules not found")
}

/// `InvalidLoadBalancerAction`.
pub fn invalid_action(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidLoadBalancerAction", message)
}

/// `InvalidConfigurationRequest` (400 in ELBv2, unlike Classic's 409).
pub fn invalid_configuration(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidConfigurationRequest", message)
}

/// `InvalidTarget`.
pub fn invalid_target(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidTarget", message)
}

/// `PriorityInUse`: `Priority '{n}' is currently in use` (as seen in CloudFormation and
/// Terraform output).
pub fn priority_in_use(priority: i64) -> ApiError {
    ApiError::client(
        "PriorityInUse",
        format!("Priority '{priority}' is currently in use"),
    )
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
    let start = match marker {
        None | Some("") => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|i| *i <= items.len())
            .ok_or_else(|| validation("Invalid value for marker"))?,
    };
    let end = (start + page).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
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
