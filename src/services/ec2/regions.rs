//! Regions: the fixed set of commercial regions EC2 describes.

use serde::{Deserialize, Serialize};

use super::errors::invalid;
use super::filters::{self, Filter};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// (name, needs opt-in). Opt-in regions are listed only with `AllRegions`, as on a new account.
pub const REGIONS: &[(&str, bool)] = &[
    ("af-south-1", true),
    ("ap-east-1", true),
    ("ap-northeast-1", false),
    ("ap-northeast-2", false),
    ("ap-northeast-3", false),
    ("ap-south-1", false),
    ("ap-south-2", true),
    ("ap-southeast-1", false),
    ("ap-southeast-2", false),
    ("ap-southeast-3", true),
    ("ap-southeast-4", true),
    ("ca-central-1", false),
    ("ca-west-1", true),
    ("eu-central-1", false),
    ("eu-central-2", true),
    ("eu-north-1", false),
    ("eu-south-1", true),
    ("eu-south-2", true),
    ("eu-west-1", false),
    ("eu-west-2", false),
    ("eu-west-3", false),
    ("il-central-1", true),
    ("me-central-1", true),
    ("me-south-1", true),
    ("sa-east-1", false),
    ("us-east-1", false),
    ("us-east-2", false),
    ("us-west-1", false),
    ("us-west-2", false),
];

/// DescribeRegions' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRegionsRequest {
    region_names: Vec<String>,
    all_regions: bool,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// `Region` (members in model order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Region {
    opt_in_status: &'static str,
    region_name: &'static str,
    endpoint: String,
}

/// `DescribeRegionsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRegionsResult {
    regions: Vec<Region>,
}

/// DescribeRegions.
pub fn describe_regions(
    _: &RequestContext,
    _: &AppState,
    req: DescribeRegionsRequest,
) -> Result<DescribeRegionsResult, ApiError> {
    filters::check_names(&req.filters, &["endpoint", "region-name", "opt-in-status"])?;
    if let Some(unknown) = req
        .region_names
        .iter()
        .find(|n| !REGIONS.iter().any(|(r, _)| r == n))
    {
        return Err(invalid(format!("Invalid region: {unknown}")));
    }
    if req.dry_run {
        return Err(super::dry_run_ok());
    }
    let regions = REGIONS
        .iter()
        .filter(|(name, opt_in)| {
            if req.region_names.is_empty() {
                req.all_regions || !opt_in
            } else {
                req.region_names.iter().any(|n| n == name)
            }
        })
        .map(|(name, opt_in)| Region {
            opt_in_status: if *opt_in {
                "not-opted-in"
            } else {
                "opt-in-not-required"
            },
            region_name: name,
            endpoint: format!("ec2.{name}.amazonaws.com"),
        })
        .filter(|r| {
            filters::matches_all(&req.filters, |f| match f {
                "endpoint" => vec![r.endpoint.as_str()],
                "region-name" => vec![r.region_name],
                "opt-in-status" => vec![r.opt_in_status],
                _ => Vec::new(),
            })
        })
        .collect();
    Ok(DescribeRegionsResult { regions })
}
