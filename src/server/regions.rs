//! Which requests may touch state: only those for regions that exist (or that `--regions`
//! allows), and reads never create an (account, region) store.

use crate::error::ApiError;

/// Whether an operation only reads (AWS names them so: `Describe…`, `List…`, `Get…`).
pub fn is_read(operation: &str) -> bool {
    ["Describe", "List", "Get"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// A request for a region that does not exist is refused as AWS refuses a credential scoped
/// to one (such a region has no endpoint to reach; a request signed for it and sent to a real
/// endpoint gets this answer), with how to allow it here.
pub fn known_region(config: &crate::Config, region: &str) -> Result<(), ApiError> {
    if config.knows_region(region) {
        return Ok(());
    }
    Err(ApiError::client(
        "SignatureDoesNotMatch",
        format!(
            "Credential should be scoped to a valid region, not '{region}'. Updraft serves the \
             regions DescribeRegions lists; start it with --regions {region} (or \
             UPDRAFT_REGIONS) to serve this one too."
        ),
    )
    .with_status(403))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_named_so_and_unknown_regions_refused() {
        assert!(is_read("DescribeInstances") && is_read("ListMetrics") && is_read("GetMetricData"));
        assert!(!is_read("RunInstances") && !is_read("PutMetricData"));
        let config = crate::Config::default();
        assert!(known_region(&config, "eu-west-1").is_ok());
        let err = known_region(&config, "zz-fake-1").unwrap_err();
        assert_eq!(
            (err.code.as_ref(), err.status),
            ("SignatureDoesNotMatch", 403)
        );
        assert!(err.message.contains("'zz-fake-1'") && err.message.contains("--regions"));
    }

    #[test]
    fn an_empty_store_is_small() {
        let size = std::mem::size_of::<crate::state::RegionStores>();
        eprintln!("an empty (account, region) store: {size} bytes inline");
        assert!(size <= 2048, "{size} bytes");
    }
}
