//! The one wire error every handler returns.
//!
//! A service error is data: an AWS error code, a message, an HTTP status and whose fault it was.
//! Only `src/protocol` turns it into bytes, in the shape the client's protocol expects.

use std::borrow::Cow;

/// An error as AWS reports it to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The AWS error code (`ValidationError`, `InvalidInstanceID.NotFound`, ...). For
    /// query-compatible JSON/CBOR services this is the awsQuery code, not the shape name.
    pub code: Cow<'static, str>,
    /// Human-readable message, in AWS's wording where known.
    pub message: String,
    /// HTTP status code.
    pub status: u16,
    /// `true` for client faults (`Sender`), `false` for server faults (`Receiver`).
    pub sender_fault: bool,
}

impl ApiError {
    /// A client fault with status 400.
    pub fn client(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            status: 400,
            sender_fault: true,
        }
    }

    /// Override the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// An internal failure; the cause is logged by the caller, never sent.
    pub fn internal() -> Self {
        Self {
            code: Cow::Borrowed("InternalFailure"),
            message: "The request processing has failed because of an unknown error, exception or failure.".into(),
            status: 500,
            sender_fault: false,
        }
    }

    /// The operation exists in the service's API but Updraft does not implement it yet.
    /// 501 is not retried by the SDKs, unlike 500.
    pub fn not_implemented(service: &str, operation: &str) -> Self {
        Self {
            code: Cow::Borrowed("NotImplemented"),
            message: format!(
                "The operation {operation} of service {service} is not implemented by Updraft yet."
            ),
            status: 501,
            sender_fault: false,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}
