//! Services know state, not HTTP: one module per service, one function per operation.
//!
//! A handler takes the request context, the shared state and its typed input (serde structs
//! named as AWS names them) and returns its typed output or an [`ApiError`]:
//! `fn(&RequestContext, &AppState, In) -> Result<Out, ApiError>`, registered in the service's
//! `TYPED_OPERATIONS` as `&Typed(handler)`. The codecs write the output straight from the
//! struct (see `protocol::output`). Operations not converted yet take and return value trees
//! ([`Handler`], in `OPERATIONS`); both tables answer through [`dispatch`] and [`sink_operation`].

pub mod autoscaling;
pub mod cloudwatch;
pub mod ec2;
pub mod echo;
pub mod elb;
pub mod elbv2;
pub mod errors;
pub mod iam;
pub mod sns;
pub mod ssm;
pub mod sts;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::write_output;
use crate::protocol::sink::OutputSink;
use crate::state::AppState;

/// One operation's handler.
pub type Handler = fn(&RequestContext, &AppState, Value) -> Result<Value, ApiError>;

/// A handler that writes its output into a sink instead of returning a tree, for listings
/// too large for one (see `protocol::sink`). It validates everything before its first write:
/// an error must leave the sink untouched.
pub type StreamingHandler =
    fn(&RequestContext, &AppState, Value, &mut dyn OutputSink) -> Result<(), ApiError>;

/// An operation with a typed handler, as its service's table holds it.
pub trait TypedOperation: Sync {
    /// Run it on a decoded input tree; write the output into `sink`. An error leaves the
    /// sink untouched (the handler returns before anything is written).
    fn write(
        &self,
        ctx: &RequestContext,
        state: &AppState,
        input: Value,
        sink: &mut dyn OutputSink,
    ) -> Result<(), ApiError>;
    /// Run it and return the output as a tree, for callers inside Updraft that read it.
    fn tree(&self, ctx: &RequestContext, state: &AppState, input: Value)
    -> Result<Value, ApiError>;
}

/// The one generic adapter: a typed handler as a [`TypedOperation`].
pub struct Typed<In, Out>(pub fn(&RequestContext, &AppState, In) -> Result<Out, ApiError>);

impl<In: DeserializeOwned, Out: Serialize> TypedOperation for Typed<In, Out> {
    fn write(
        &self,
        ctx: &RequestContext,
        state: &AppState,
        input: Value,
        sink: &mut dyn OutputSink,
    ) -> Result<(), ApiError> {
        let output = (self.0)(ctx, state, parse_input(input)?)?;
        write_output(&output, sink).map_err(|err| {
            tracing::error!(error = %err, "output does not fit the sink");
            ApiError::internal()
        })
    }

    fn tree(
        &self,
        ctx: &RequestContext,
        state: &AppState,
        input: Value,
    ) -> Result<Value, ApiError> {
        to_output(&(self.0)(ctx, state, parse_input(input)?)?)
    }
}

/// The typed operations of a service (by CLI name).
pub fn typed_operations(service: &str) -> &'static [(&'static str, &'static dyn TypedOperation)] {
    match service {
        "sns" => sns::TYPED_OPERATIONS,
        "autoscaling" => autoscaling::TYPED_OPERATIONS,
        "ec2" => ec2::TYPED_OPERATIONS,
        "sts" => sts::TYPED_OPERATIONS,
        "ssm" => ssm::TYPED_OPERATIONS,
        "iam" => iam::TYPED_OPERATIONS,
        "cloudwatch" => cloudwatch::TYPED_OPERATIONS,
        _ => &[],
    }
}

/// The names of every implemented operation of a service, typed or not.
pub fn implemented(service: &str) -> Vec<&'static str> {
    let typed = typed_operations(service).iter().map(|(name, _)| *name);
    let tree = operations(service).iter().map(|(name, _)| *name);
    typed.chain(tree).collect()
}

/// An operation that writes into a sink: typed, or a hand-written streaming handler.
#[derive(Clone, Copy)]
pub enum SinkOperation {
    /// A typed handler behind the generic adapter.
    Typed(&'static dyn TypedOperation),
    /// A large listing written by hand (see [`StreamingHandler`]).
    Streaming(StreamingHandler),
}

impl SinkOperation {
    /// Run it; its output goes into `sink`.
    pub fn write(
        self,
        ctx: &RequestContext,
        state: &AppState,
        input: Value,
        sink: &mut dyn OutputSink,
    ) -> Result<(), ApiError> {
        match self {
            Self::Typed(op) => op.write(ctx, state, input, sink),
            Self::Streaming(handler) => handler(ctx, state, input, sink),
        }
    }
}

/// How `operation` writes into a sink, when it does (typed and streaming operations); the
/// others answer with a tree through [`dispatch`].
pub fn sink_operation(service: &str, operation: &str) -> Option<SinkOperation> {
    typed_operations(service)
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, op)| SinkOperation::Typed(*op))
        .or_else(|| streaming_handler(service, operation).map(SinkOperation::Streaming))
}

/// The tree-handler table of a service (by CLI name): the operations not converted to typed
/// handlers yet.
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

/// Run an operation for its output tree: its handler, or `NotImplemented` naming it.
pub fn dispatch(ctx: &RequestContext, state: &AppState, input: Value) -> Result<Value, ApiError> {
    if let Some((_, op)) = typed_operations(ctx.service)
        .iter()
        .find(|(name, _)| *name == ctx.operation)
    {
        return op.tree(ctx, state, input);
    }
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
            let names = super::implemented(service.name);
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(
                unique.len(),
                names.len(),
                "{}: an operation is in both tables",
                service.name
            );
            for op in names {
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
