//! DescribeAccountLimits, shared by both load balancer APIs (same shapes, different limits).

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::services::errors::validation;

/// DescribeAccountLimits' input (both APIs).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAccountLimitsInput {
    marker: Option<String>,
    page_size: Option<i64>,
}

/// `Limit`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Limit {
    name: &'static str,
    max: &'static str,
}

/// DescribeAccountLimits' output (both APIs).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAccountLimitsOutput {
    limits: Vec<Limit>,
    next_marker: Option<String>,
}

/// Page through a fixed limits table; the marker is the index of the next limit.
pub fn describe(
    limits: &[(&'static str, &'static str)],
    req: DescribeAccountLimitsInput,
) -> Result<DescribeAccountLimitsOutput, ApiError> {
    let page = match req.page_size {
        None => 400,
        Some(n @ 1..=400) => n as usize,
        Some(n) => {
            return Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400"
            )));
        }
    };
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|i| *i <= limits.len())
            .ok_or_else(|| validation("Invalid value for marker"))?,
    };
    let end = (start + page).min(limits.len());
    Ok(DescribeAccountLimitsOutput {
        limits: limits[start..end]
            .iter()
            .map(|(name, max)| Limit { name, max })
            .collect(),
        next_marker: (end < limits.len()).then(|| end.to_string()),
    })
}
