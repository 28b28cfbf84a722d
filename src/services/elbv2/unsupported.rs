//! The parts of ELBv2 that need services Updraft does not emulate: mTLS trust stores (their CA
//! bundles and revocation lists live in S3), resource policies (RAM), load balancer capacity
//! reservations and IPAM pools. These calls answer as AWS would for an account that has none
//! of these resources, and refuse to create them with an error that says why.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::errors::Elbv2Error;
use super::errors::load_balancer_not_found;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::errors::ErrorCode;
use crate::state::AppState;

fn trust_store_not_found() -> ApiError {
    Elbv2Error::TrustStoreNotFound.with("One or more trust stores not found")
}

/// The input of create_trust_store.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrustStoreInput {
    trust_store_arns: Vec<String>,
    names: Vec<String>,
    ca_certificates_bundle_s3_bucket: Option<String>,
    ca_certificates_bundle_s3_key: Option<String>,
}

/// CreateTrustStore / ModifyTrustStore: the bundle would come from S3, which Updraft lacks.
pub fn create_trust_store(
    _: &RequestContext,
    _: &AppState,
    req: TrustStoreInput,
) -> Result<(), ApiError> {
    Err(Elbv2Error::CaCertificatesBundleNotFound.with(format!(
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
    req: TrustStoreInput,
) -> Result<DescribeTrustStoresOutput, ApiError> {
    if !req.trust_store_arns.is_empty() || !req.names.is_empty() {
        return Err(trust_store_not_found());
    }
    Ok(DescribeTrustStoresOutput {
        trust_stores: Vec::new(),
    })
}

/// DescribeTrustStores' output: always an empty list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTrustStoresOutput {
    trust_stores: Vec<String>,
}

/// Every call that names a trust store: none exists.
pub fn no_trust_store(_: &RequestContext, _: &AppState, _: IgnoredAny) -> Result<(), ApiError> {
    Err(trust_store_not_found())
}

/// GetResourcePolicy: no resource has a policy.
pub fn get_resource_policy(
    _: &RequestContext,
    _: &AppState,
    _: IgnoredAny,
) -> Result<(), ApiError> {
    Err(Elbv2Error::ResourceNotFound
        .with("The specified resource does not exist or has no resource policy"))
}

/// The input of describe_capacity_reservation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LbInput {
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
    req: LbInput,
) -> Result<DescribeCapacityReservationOutput, ApiError> {
    check_lb(ctx, state, &req.load_balancer_arn)?;
    Ok(DescribeCapacityReservationOutput {
        capacity_reservation_state: Vec::new(),
    })
}

/// DescribeCapacityReservation's output: no reservation in any zone.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCapacityReservationOutput {
    capacity_reservation_state: Vec<String>,
}

/// ModifyCapacityReservation / ModifyIpPools: refused with the reason.
pub fn not_permitted(ctx: &RequestContext, state: &AppState, req: LbInput) -> Result<(), ApiError> {
    check_lb(ctx, state, &req.load_balancer_arn)?;
    Err(Elbv2Error::OperationNotPermitted.with(format!(
        "Updraft does not support {}: load balancers have no capacity units or IPAM pools here",
        ctx.operation
    )))
}
