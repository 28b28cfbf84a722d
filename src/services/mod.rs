//! Services know state, not HTTP: one module per service, one function per operation.
//!
//! A handler takes the request context, the shared state and its typed input (serde structs
//! named as AWS names them) and returns its typed output or an [`ApiError`]:
//! `fn(&RequestContext, &AppState, In) -> Result<Out, ApiError>`, registered in the service's
//! `TYPED_OPERATIONS` as `&Typed(handler)`. The codecs write the output straight from the
//! struct (see `protocol::output`). Operations not converted yet take and return value trees
//! ([`Handler`], in `OPERATIONS`); both tables answer through [`dispatch`] and [`sink_operation`].

pub mod acm;
pub mod autoscaling;
pub mod cloudwatch;
pub mod ec2;
pub mod echo;
pub mod elb;
pub mod elbv2;
pub mod errors;
pub mod iam;
pub mod lb_resolver;
pub mod paging;
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

/// Where a handler that answers from inside its store lock sends its typed output: into the
/// protocol's sink, or into a tree for callers inside Updraft. Outputs that borrow the store
/// (DescribeInstances over 10,000 instances) are written while the lock is held, with no copy.
pub enum Reply<'s> {
    /// Write into the response's sink.
    Sink(&'s mut dyn OutputSink),
    /// Build the output tree here.
    Tree(&'s mut Option<Value>),
}

/// Proof that a handler sent its output (only [`Reply::send`] makes one).
#[derive(Debug)]
pub struct Sent(());

impl Reply<'_> {
    /// Send `output`; call it once, after every check (an error must leave the sink untouched).
    pub fn send<T: Serialize>(self, output: &T) -> Result<Sent, ApiError> {
        match self {
            Reply::Sink(sink) => write_output(output, sink).map_err(|err| {
                tracing::error!(error = %err, "output does not fit the sink");
                ApiError::internal()
            })?,
            Reply::Tree(slot) => *slot = Some(to_output(output)?),
        }
        Ok(Sent(()))
    }
}

/// A typed handler whose output borrows its store: it sends the output through a [`Reply`]
/// before it lets go of the lock. The adapter is [`Typed`]'s otherwise.
pub struct Replying<In>(
    pub fn(&RequestContext, &AppState, In, Reply<'_>) -> Result<Sent, ApiError>,
);

impl<In: DeserializeOwned> TypedOperation for Replying<In> {
    fn write(
        &self,
        ctx: &RequestContext,
        state: &AppState,
        input: Value,
        sink: &mut dyn OutputSink,
    ) -> Result<(), ApiError> {
        (self.0)(ctx, state, parse_input(input)?, Reply::Sink(sink)).map(drop)
    }

    fn tree(
        &self,
        ctx: &RequestContext,
        state: &AppState,
        input: Value,
    ) -> Result<Value, ApiError> {
        let mut slot = None;
        (self.0)(ctx, state, parse_input(input)?, Reply::Tree(&mut slot))?;
        slot.ok_or_else(ApiError::internal)
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
        "elb" => elb::TYPED_OPERATIONS,
        "elbv2" => elbv2::TYPED_OPERATIONS,
        "acm" => acm::TYPED_OPERATIONS,
        _ => &[],
    }
}

/// The names of every implemented operation of a service, typed or not.
pub fn implemented(service: &str) -> Vec<&'static str> {
    let typed = typed_operations(service).iter().map(|(name, _)| *name);
    let tree = operations(service).iter().map(|(name, _)| *name);
    typed.chain(tree).collect()
}

/// How `operation` writes into a sink, when it does (typed operations); the others answer
/// with a tree through [`dispatch`].
pub fn sink_operation(service: &str, operation: &str) -> Option<&'static dyn TypedOperation> {
    typed_operations(service)
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, op)| *op)
}

/// The tree-handler table of a service (by CLI name): the operations not converted to typed
/// handlers yet.
pub fn operations(service: &str) -> &'static [(&'static str, Handler)] {
    match service {
        "ec2" => ec2::OPERATIONS,
        "autoscaling" => autoscaling::OPERATIONS,
        "cloudwatch" => cloudwatch::OPERATIONS,
        "sns" => sns::OPERATIONS,
        "sts" => sts::OPERATIONS,
        "ssm" => ssm::OPERATIONS,
        "iam" => iam::OPERATIONS,
        "acm" => acm::OPERATIONS,
        _ => &[],
    }
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
        }
    }
}
