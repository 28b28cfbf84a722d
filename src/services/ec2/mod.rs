//! The `ec2` service: operation table. Handlers land here with the issue that implements them;
//! every other operation of the model answers `NotImplemented` naming it.

pub mod filters;
mod regions;

use super::Handler;
use crate::error::ApiError;

/// Implemented operations and their handlers.
pub const OPERATIONS: &[(&str, Handler)] = &[("DescribeRegions", regions::describe_regions)];

/// What EC2 answers to a `DryRun` request that would have succeeded.
pub fn dry_run_ok() -> ApiError {
    ApiError::client(
        "DryRunOperation",
        "Request would have succeeded, but DryRun flag is set.",
    )
    .with_status(412)
}
