//! The wire layer: bytes in, `(service, operation, input value)` out, and back.
//!
//! Four protocols, all driven by the botocore models in `protocol/models/`:
//! - [`query`]: awsQuery and ec2Query form bodies (decode) — [`xml`] writes their responses;
//! - [`json`]: awsJson 1.0 (CloudWatch from botocore, the CLI and JS v3);
//! - [`cbor`]: Smithy rpc-v2-cbor (CloudWatch from the Rust, Go and Ruby SDKs);
//! - [`sink`]: output written member by member instead of as a tree, by every protocol;
//!   [`output`]: the serde serializer that writes a typed output struct into a sink.
//!
//! Nothing here knows what a service does; handlers never see a wire quirk.

pub mod cbor;
pub mod json;
pub mod model;
pub mod models;
pub mod object_sink;
pub mod output;
pub mod query;
pub mod render;
pub mod sigv4;
pub mod sigv4_request;
pub mod sink;
pub mod timestamp;
pub mod validate;
pub mod xml;

/// The four wire protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsQuery: form in, XML out with a `Result` wrapper.
    Query,
    /// ec2Query: form in with capitalised names, XML out without a wrapper.
    Ec2,
    /// awsJson 1.0.
    Json,
    /// Smithy rpc-v2-cbor.
    Cbor,
}

impl Protocol {
    /// The name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Ec2 => "ec2",
            Self::Json => "json",
            Self::Cbor => "rpc-v2-cbor",
        }
    }
}

/// Why a request body could not become an input value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not valid for the protocol (bad JSON, CBOR, form encoding, UTF-8).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A required member is absent. `path` is the dotted member-name path (`Tags.1.Key`).
    #[error("missing required parameter {path}")]
    Missing {
        /// Member path.
        path: String,
    },
    /// A value has the wrong type or cannot be parsed as its shape's type.
    #[error("invalid value for {path}: expected {expected}")]
    Invalid {
        /// Member path.
        path: String,
        /// The shape type that was expected.
        expected: &'static str,
        /// The offending value as received (truncated by the caller if needed).
        got: String,
    },
    /// A float member carries NaN or an infinity (sent as such, or a literal such as `1e309`
    /// that overflows a double). Every protocol can carry these; no AWS service accepts them.
    #[error("non-finite value {got} for {path}")]
    NotFinite {
        /// Member path.
        path: String,
        /// `NaN`, `Infinity` or `-Infinity`.
        got: String,
    },
    /// The body is over the operation's size limit (checked before decoding, so an oversize
    /// request never becomes a value tree).
    #[error("request size {size} exceeds {limit} bytes")]
    TooLarge {
        /// Body bytes received (after gunzip).
        size: usize,
        /// The operation's limit.
        limit: usize,
    },
}
