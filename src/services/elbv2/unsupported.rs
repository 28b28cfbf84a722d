//! The parts of ELBv2 that need services Updraft does not emulate: mTLS trust stores (their CA
//! bundles and revocation lists live in S3), resource policies (RAM), load balancer capacity
//! reservations and IPAM pools. These calls answer as AWS would for an account that has none
//! of these resources, and refuse to create them with an error that says why.

use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::load_balancer_not_found;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::AppState;

fn trust_store_not_found() -> ApiError {
    ApiError::client("TrustStoreNotFound", "One or more trust stores not found")
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct TrustStoreInput {
    trust_store_arns: Vec<String>,
    names: Vec<String>,
    ca_certificates_bundle_s3_bucket: Option<String>,
    ca_certificates_bundle_s3_key: Option<String>,
}

/// CreateTrustStore / ModifyTrustStore: the bundle would come from S3, which Updraft lacks.
pub fn create_trust_store(
    _: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: TrustStoreInput = parse_input(input)?;
    Err(ApiError::client(
        "CaCertificatesBundleNotFound",
        format!(
            "Updraft has no S3, so the CA certificates bundle 's3://{}/{}' cannot be read; trust stores are not supported",
            req.ca_certificates_bundle_s3_bucket.unwrap_or_default(),
            req.ca_certificates_bundle_s3_key.unwrap_or_default()
        ),
    ))
}

/// DescribeTrustStores: there are none.
pub fn describe_trust_stores(
    _: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: TrustStoreInput = parse_input(input)?;
    if !req.trust_store_arns.is_empty() || !req.names.is_empty() {
        return Err(trust_store_not_found());
    }
    Ok(json!({ "TrustStores": [] }))
}

/// Every call that names a trust store: none exists.
pub fn no_trust_store(_: &RequestContext, _: &AppState, _: Value) -> Result<Value, ApiError> {
    Err(trust_store_not_found())
}

/// GetResourcePolicy: no resource has a policy.
pub fn get_resource_policy(_: &RequestContext, _: &AppState, _: Value) -> Result<Value, ApiError> {
    Err(ApiError::client(
        "ResourceNotFound",
        "The specified resource does not exist or has no resource policy",
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LbInput {
    load_balancer_arn: String,
}

fn check_lb(ctx: &RequestContext, state: &AppState, arn: &str) -> Result<(), ApiError> {
    state.stores.with(&ctx.scope, |s| {
        if s.elbv2.load_balancers.contains_key(arn) {
            Ok(())
        } else {
            Err(load_balancer_not_found())
        }
    })
}

/// DescribeCapacityReservation: no reservation (the load balancer scales on demand).
pub fn describe_capacity_reservation(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: LbInput = parse_input(input)?;
    check_lb(ctx, state, &req.load_balancer_arn)?;
    Ok(json!({ "CapacityReservationState": [] }))
}

/// ModifyCapacityReservation / ModifyIpPools: refused with the reason.
pub fn not_permitted(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: LbInput = parse_input(input)?;
    check_lb(ctx, state, &req.load_balancer_arn)?;
    Err(ApiError::client(
        "OperationNotPermitted",
        format!(
            "Updraft does not support {}: load balancers have no capacity units or IPAM pools here",
            ctx.operation
        ),
    ))
}
