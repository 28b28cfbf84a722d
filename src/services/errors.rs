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
/// (`protocol/models/<service>.json`) with the same HTTP status and fault. A query service's
/// shape carries its code, status and fault in an `error` trait; a JSON service's shape has
/// none: its name is the code, and it is a 400 of the sender's unless it is a `fault` (500).
#[cfg(test)]
pub fn assert_codes_are_the_models<E: ErrorCode>(service: &str, codes: &[E]) {
    let shapes = model_shapes(service);
    for e in codes {
        let code = e.code();
        let (status, sender) = modelled(&shapes, code)
            .unwrap_or_else(|| panic!("{code} is not in the {service} model"));
        assert_eq!(status, e.status(), "{code}");
        assert_eq!(sender, e.sender_fault(), "{code}");
    }
}

/// Test support: each of `codes` is one of AWS's common (framework-level) errors, which the
/// service's model does not list. Should a model start listing one, the test says so and the
/// code moves to the modelled ones.
#[cfg(test)]
pub fn assert_codes_are_common<E: ErrorCode>(service: &str, codes: &[E]) {
    let shapes = model_shapes(service);
    for e in codes {
        let code = e.code();
        assert!(
            modelled(&shapes, code).is_none(),
            "{code} is in the {service} model: check it there"
        );
    }
}

#[cfg(test)]
fn model_shapes(service: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = format!(
        "{}/protocol/models/{service}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the service's model");
    let mut model: serde_json::Value = serde_json::from_str(&text).expect("json");
    match model["shapes"].take() {
        serde_json::Value::Object(shapes) => shapes,
        _ => panic!("the {service} model has no shapes"),
    }
}

/// The status and sender fault the model gives `code`, if it lists it.
#[cfg(test)]
fn modelled(
    shapes: &serde_json::Map<String, serde_json::Value>,
    code: &str,
) -> Option<(u16, bool)> {
    let by_trait = shapes.values().find(|s| s["error"]["code"] == code);
    if let Some(shape) = by_trait {
        let status = shape["error"]["httpStatusCode"].as_u64()?;
        let sender = shape["error"]["senderFault"].as_bool().unwrap_or(false);
        return Some((u16::try_from(status).ok()?, sender));
    }
    let shape = shapes
        .get(code)
        .filter(|s| s["exception"] == true && s["error"].is_null())?;
    let fault = shape["fault"] == true;
    Some((if fault { 500 } else { 400 }, !fault))
}
