//! Error codes as data: each service lists its AWS error codes as an enum implementing
//! [`ErrorCode`], whose wire string, HTTP status and fault are total matches, so a code cannot
//! be misspelt in a handler or answered with the wrong status. Plus the one
//! `ValidationError` helper every query service shares.

use std::borrow::Cow;

use crate::error::ApiError;

/// A service's error code: what it is on the wire.
pub trait ErrorCode: Copy {
    /// The AWS error code (the awsQuery `Code`).
    fn code(self) -> &'static str;
    /// The HTTP status AWS answers it with.
    fn status(self) -> u16;
    /// Whether it is the caller's fault (`Sender`); the server's (`Receiver`) otherwise.
    fn sender_fault(self) -> bool {
        self.status() < 500
    }
    /// The error with this code and `message`.
    fn with(self, message: impl Into<String>) -> ApiError {
        ApiError {
            code: Cow::Borrowed(self.code()),
            message: message.into(),
            status: self.status(),
            sender_fault: self.sender_fault(),
        }
    }
}

/// `ValidationError` (400, Sender): the code of AWS's framework-level constraint checks in
/// every awsQuery service (Auto Scaling, ELB, ELBv2, CloudWatch).
pub fn validation(message: impl Into<String>) -> ApiError {
    ApiError::client("ValidationError", message)
}
