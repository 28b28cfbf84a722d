//! DescribeAccountLimits: AWS's default quotas per account and region (research §1.1:
//! 500 groups, 200 launch configurations) and the current counts.

use serde_json::{Value, json};

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// Default quota of Auto Scaling groups per region.
pub const MAX_GROUPS: usize = 500;
/// Default quota of launch configurations per region.
pub const MAX_LAUNCH_CONFIGURATIONS: usize = 200;

/// DescribeAccountLimits.
pub fn describe_account_limits(
    ctx: &RequestContext,
    state: &AppState,
    _: Value,
) -> Result<Value, ApiError> {
    let (groups, configs) = state.stores.with(&ctx.scope, |s| {
        (
            s.autoscaling.groups.len(),
            s.autoscaling.launch_configurations.len(),
        )
    });
    Ok(json!({
        "MaxNumberOfAutoScalingGroups": MAX_GROUPS,
        "MaxNumberOfLaunchConfigurations": MAX_LAUNCH_CONFIGURATIONS,
        "NumberOfAutoScalingGroups": groups,
        "NumberOfLaunchConfigurations": configs,
    }))
}
