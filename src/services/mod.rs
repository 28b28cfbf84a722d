//! Services know state, not HTTP: one module per service, one function per operation.
//!
//! A handler takes the request context, the shared state and the decoded input (a value tree
//! keyed by AWS member names, see `protocol::model`) and returns the output tree or an
//! [`ApiError`]. Typed serde structs named as AWS names them sit between the tree and the logic.

pub mod autoscaling;
pub mod cloudwatch;
pub mod ec2;
pub mod elb;
pub mod elbv2;
pub mod iam;
pub mod sns;
pub mod ssm;
pub mod sts;

use serde_json::Value;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::sink::OutputSink;
use crate::state::AppState;

/// One operation's handler.
pub type Handler = fn(&RequestContext, &AppState, Value) -> Result<Value, ApiError>;

/// A handler that writes its output into a sink instead of returning a tree, for listings
/// too large for one (see `protocol::sink`). It validates everything before its first write:
/// an error must leave the sink untouched.
pub type StreamingHandler =
    fn(&RequestContext, &AppState, Value, &mut dyn OutputSink) -> Result<(), ApiError>;

/// The operation table of a service (by CLI name).
pub fn operations(service: &str) -> &'static [(&'static str, Handler)] {
    match service {
        "ec2" => ec2::OPERATIONS,
        "autoscaling" => autoscaling::OPERATIONS,
        "elb" => elb::OPERATIONS,
        "elbv2" => elbv2::OPERATIONS,
        "cloudwatch" => cloudwatch::OPERATIONS,
        "sns" => sns::OPERATIONS,
        "sts" => sts::OPERATIONS,
        "ssm" => ssm::OPERATIONS,
        "iam" => iam::OPERATIONS,
        _ => &[],
    }
}

/// The streaming handler of an operation, where it has one besides its [`Handler`] (which
/// protocols without a streaming codec still use).
pub fn streaming_handler(service: &str, operation: &str) -> Option<StreamingHandler> {
    let table: &[(&str, StreamingHandler)] = match service {
        "ec2" => ec2::STREAMING_OPERATIONS,
        _ => &[],
    };
    table
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, handler)| *handler)
}

/// Run an operation: its handler, or `NotImplemented` naming it.
pub fn dispatch(ctx: &RequestContext, state: &AppState, input: Value) -> Result<Value, ApiError> {
    match operations(ctx.service)
        .iter()
        .find(|(name, _)| *name == ctx.operation)
    {
        Some((_, handler)) => handler(ctx, state, input),
        None => Err(ApiError::not_implemented(ctx.service, &ctx.operation)),
    }
}

/// Turn a decoded input tree into a handler's typed request. The codecs have already checked
/// types against the model, so a failure here is a mismatch between a struct and its shape.
pub fn parse_input<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|err| {
        tracing::error!(error = %err, "input does not fit the handler's request type");
        ApiError::internal()
    })
}

/// Turn a handler's typed response into the output tree.
pub fn to_output<T: serde::Serialize>(output: &T) -> Result<Value, ApiError> {
    serde_json::to_value(output).map_err(|err| {
        tracing::error!(error = %err, "output does not serialize");
        ApiError::internal()
    })
}

#[cfg(test)]
mod tests {
    use crate::protocol::models;

    #[test]
    fn every_handler_names_an_operation_of_its_model() {
        for service in models::all() {
            for (op, _) in super::operations(service.name) {
                assert!(
                    service.operation(op).is_some(),
                    "{}:{op} is not in the model",
                    service.name
                );
            }
            for (op, _) in super::ec2::STREAMING_OPERATIONS {
                assert!(
                    super::operations("ec2").iter().any(|(name, _)| name == op),
                    "ec2:{op} streams but has no tree handler"
                );
            }
        }
    }
}
