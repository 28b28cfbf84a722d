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

/// Test support: each of `codes` is an error shape of the service's botocore model
/// (`protocol/models/<service>.json`) with the same HTTP status and fault.
#[cfg(test)]
pub fn assert_codes_are_the_models<E: ErrorCode>(service: &str, codes: &[E]) {
    let path = format!(
        "{}/protocol/models/{service}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the service's model");
    let model: serde_json::Value = serde_json::from_str(&text).expect("json");
    let shapes = model["shapes"].as_object().expect("shapes");
    for e in codes {
        let code = e.code();
        let found = shapes.values().find(|s| s["error"]["code"] == code);
        let shape = found.unwrap_or_else(|| panic!("{code} is not in the {service} model"));
        assert_eq!(shape["error"]["httpStatusCode"], e.status(), "{code}");
        assert_eq!(shape["error"]["senderFault"], e.sender_fault(), "{code}");
    }
}
