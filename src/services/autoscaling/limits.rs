//! DescribeAccountLimits: AWS's default quotas per account and region (EC2 Auto Scaling User Guide,
//! "Quotas for Amazon EC2 Auto Scaling": 500 groups, 200 launch configurations) and the current
//! counts; and [`paginate`], the `MaxRecords`/`NextToken` limits the describe calls of this service
//! share.

use serde::Serialize;
use serde::de::IgnoredAny;

use super::errors::AutoScalingError;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::services::errors::validation;

use crate::state::AppState;

/// Default quota of Auto Scaling groups per region.
pub const MAX_GROUPS: usize = 500;
/// Default quota of launch configurations per region.
pub const MAX_LAUNCH_CONFIGURATIONS: usize = 200;

/// `DescribeAccountLimitsAnswer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountLimits {
    max_number_of_auto_scaling_groups: usize,
    max_number_of_launch_configurations: usize,
    number_of_auto_scaling_groups: usize,
    number_of_launch_configurations: usize,
}

/// DescribeAccountLimits.
pub fn describe_account_limits(
    ctx: &RequestContext,
    state: &AppState,
    _: IgnoredAny,
) -> Result<AccountLimits, ApiError> {
    let (groups, configs) = state.stores.with(&ctx.scope, |s| {
        (
            s.autoscaling.groups.len(),
            s.autoscaling.launch_configurations.len(),
        )
    });
    Ok(AccountLimits {
        max_number_of_auto_scaling_groups: MAX_GROUPS,
        max_number_of_launch_configurations: MAX_LAUNCH_CONFIGURATIONS,
        number_of_auto_scaling_groups: groups,
        number_of_launch_configurations: configs,
    })
}

/// Cut `rows` into a page: `next_token` is the offset AWS would hide in an opaque token,
/// `max_records` defaults to `default` and may not exceed 100.
pub fn paginate<T>(
    mut rows: Vec<T>,
    next_token: Option<&str>,
    max_records: Option<i64>,
    default: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match max_records {
        None => default,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'maxRecords' failed to satisfy constraint: Member must have value {} 100",
                if n < 1 {
                    "greater than or equal to 1, and less than or equal to"
                } else {
                    "less than or equal to"
                }
            )));
        }
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= rows.len())
            .ok_or_else(|| AutoScalingError::InvalidNextToken.with("The token is invalid."))?,
    };
    let end = (start + max).min(rows.len());
    let next = (end < rows.len()).then(|| end.to_string());
    rows.truncate(end);
    Ok((rows.split_off(start), next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paginate_pages_and_checks_limits() {
        let rows: Vec<serde_json::Value> = (0..5).map(|i| json!(i)).collect();
        let (p, n) = paginate(rows.clone(), None, Some(2), 50).unwrap();
        assert_eq!((p.len(), n.as_deref()), (2, Some("2")));
        let (p, n) = paginate(rows.clone(), Some("4"), Some(2), 50).unwrap();
        assert_eq!((p, n), (vec![json!(4)], None));
        assert!(paginate(rows.clone(), None, Some(101), 50).is_err());
        assert!(paginate(rows, Some("x"), None, 50).is_err());
    }
}
