//! DescribeAccountLimits, shared by both load balancer APIs (same shapes, different limits).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::services::{parse_input, to_output};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeAccountLimitsInput {
    marker: Option<String>,
    page_size: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Limit {
    name: &'static str,
    max: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeAccountLimitsOutput {
    limits: Vec<Limit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

/// Page through a fixed limits table; the marker is the index of the next limit.
pub fn describe(limits: &[(&'static str, &'static str)], input: Value) -> Result<Value, ApiError> {
    let req: DescribeAccountLimitsInput = parse_input(input)?;
    let page = match req.page_size {
        None => 400,
        Some(n @ 1..=400) => n as usize,
        Some(n) => {
            return Err(ApiError::client(
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{n}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400"
                ),
            ));
        }
    };
    let start = match req.marker.as_deref() {
        None | Some("") => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|i| *i <= limits.len())
            .ok_or_else(|| ApiError::client("ValidationError", "Invalid value for marker"))?,
    };
    let end = (start + page).min(limits.len());
    let out = DescribeAccountLimitsOutput {
        limits: limits[start..end]
            .iter()
            .map(|(name, max)| Limit { name, max })
            .collect(),
        next_marker: (end < limits.len()).then(|| end.to_string()),
    };
    to_output(&out)
}
