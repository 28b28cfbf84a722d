//! DescribeAccountLimits, shared by both load balancer APIs (same shapes, different limits).

use serde::{Deserialize, Serialize};

use super::errors::{marker_page, page_size};
use crate::error::ApiError;

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
    let page = page_size(req.page_size)?;
    let (limits, next_marker) = marker_page(limits, req.marker.as_deref(), page)?;
    Ok(DescribeAccountLimitsOutput {
        limits: limits
            .iter()
            .map(|(name, max)| Limit { name, max })
            .collect(),
        next_marker,
    })
}
