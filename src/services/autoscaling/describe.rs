//! DescribeAutoScalingGroups (filters, pagination), DescribeAutoScalingInstances, and the
//! output shapes of a group and its instances.

use serde::{Deserialize, Serialize};

use super::store::Group;
use super::validation;
use super::views::{GroupOut, InstanceOut};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::paging::{self, Paging};
use crate::state::AppState;

/// One page of `rows` for `MaxRecords`/`NextToken` (the token is the offset of the next row;
/// `MaxRecords` is 1–100, `default` when absent).
pub fn page<T>(
    rows: Vec<T>,
    max_records: Option<i64>,
    next_token: Option<&str>,
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
    paging::page(
        rows,
        next_token.filter(|t| !t.is_empty()),
        max,
        Paging::OFFSET,
    )
    .map_err(|_| validation("The token provided is invalid."))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct FilterIn {
    name: String,
    values: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeGroupsInput {
    auto_scaling_group_names: Vec<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
    filters: Vec<FilterIn>,
    include_instances: Option<bool>,
}

/// Whether a group passes one filter (`tag-key`, `tag-value`, `tag:<key>`).
fn filter_matches(g: &Group, f: &FilterIn) -> Result<bool, ApiError> {
    let name = f.name.as_str();
    Ok(if name == "tag-key" {
        g.tags.iter().any(|t| f.values.contains(&t.key))
    } else if name == "tag-value" {
        g.tags.iter().any(|t| f.values.contains(&t.value))
    } else if let Some(key) = name.strip_prefix("tag:") {
        g.tags
            .iter()
            .any(|t| t.key == key && f.values.contains(&t.value))
    } else {
        return Err(validation(format!(
            "Filter type {name} is not correct. Allowed Filter types are: tag-key tag-value tag:<key> "
        )));
    })
}

/// `AutoScalingGroupsType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupsOut {
    auto_scaling_groups: Vec<GroupOut>,
    next_token: Option<String>,
}

/// DescribeAutoScalingGroups.
pub fn describe_auto_scaling_groups(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeGroupsInput,
) -> Result<GroupsOut, ApiError> {
    if req.auto_scaling_group_names.len() > 50 && req.max_records.is_none_or(|m| m <= 50) {
        return Err(validation(
            "The number of group names that may be passed in is limited to 50",
        ));
    }
    let include_instances = req.include_instances != Some(false);
    state.stores.with(&ctx.scope, |s| {
        let chosen: Vec<&Group> = if req.auto_scaling_group_names.is_empty() {
            s.autoscaling.groups.values().map(|g| &**g).collect()
        } else {
            req.auto_scaling_group_names
                .iter()
                .filter_map(|n| s.autoscaling.groups.get(n).map(|g| &**g))
                .collect()
        };
        let mut kept = Vec::with_capacity(chosen.len());
        for g in chosen {
            let mut keep = true;
            for f in &req.filters {
                keep &= filter_matches(g, f)?;
            }
            if keep {
                kept.push(g);
            }
        }
        // Only the page's groups are copied out: a walk of 1,000 groups 100 at a time would
        // otherwise copy every group (its instances, tags, zones) once per page.
        let (groups, next_token) = page(kept, req.max_records, req.next_token.as_deref(), 50)?;
        Ok(GroupsOut {
            auto_scaling_groups: groups
                .into_iter()
                .map(|g| GroupOut::new(g, include_instances))
                .collect(),
            next_token,
        })
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstancesInput {
    instance_ids: Vec<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// DescribeAutoScalingInstances (`HealthStatus` in upper case here, as in every example of the
/// EC2 Auto Scaling User Guide, e.g. "Temporarily remove instances from your Auto Scaling
/// group").
pub fn describe_auto_scaling_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInstancesInput,
) -> Result<InstancesOut, ApiError> {
    let rows: Vec<InstanceOut> = state.stores.with(&ctx.scope, |s| {
        let mut rows = Vec::new();
        for g in s.autoscaling.groups.values() {
            for i in g.instances.values() {
                if !req.instance_ids.is_empty() && !req.instance_ids.contains(&i.id) {
                    continue;
                }
                rows.push(InstanceOut::details(i, &g.name));
            }
        }
        rows
    });
    let (auto_scaling_instances, next_token) =
        page(rows, req.max_records, req.next_token.as_deref(), 50)?;
    Ok(InstancesOut {
        auto_scaling_instances,
        next_token,
    })
}

/// `AutoScalingInstancesType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstancesOut {
    auto_scaling_instances: Vec<InstanceOut>,
    next_token: Option<String>,
}
