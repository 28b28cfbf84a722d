//! Updraft driven by the AWS SDK for Rust (issue #19): the seed chapter end to end with
//! CloudWatch speaking rpc-v2-cbor, typed errors across the services, paginators, and
//! GetCallerIdentity. The server and its frozen-clock helpers are the integration tests' own
//! (`tests/it/common`, `tests/it/autoscaling.rs`), included by path rather than copied.

#[path = "../../../it/common/mod.rs"]
mod common;

#[path = "../../../it/autoscaling.rs"]
#[allow(
    dead_code,
    reason = "the SDK tests use only the clock, stress and store helpers"
)]
mod autoscaling;

mod chapter;
mod errors;
mod paging;
