//! Timestamps on the wire: ISO 8601 text for query/ec2, epoch seconds for JSON and CBOR.
//!
//! The value tree holds epoch seconds (see [`super::model`]); these helpers convert at the edge.
//! The ISO 8601 text itself is [`crate::iso8601`]'s (services write it too).

use crate::iso8601::{EARLIEST, LATEST};
pub use crate::iso8601::{format_iso8601, in_range, iso8601_bytes, parse_iso8601, write_iso8601};

/// Epoch seconds as a JSON number: an integer when whole, else rounded to milliseconds.
pub fn epoch_number(epoch_seconds: f64) -> serde_json::Value {
    let clamped = if epoch_seconds.is_nan() {
        0.0
    } else {
        epoch_seconds.clamp(EARLIEST, LATEST)
    };
    let millis = (clamped * 1000.0).round();
    if millis % 1000.0 == 0.0 {
        serde_json::Value::from((millis / 1000.0) as i64)
    } else {
        serde_json::Number::from_f64(millis / 1000.0).map_or(serde_json::Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_numbers_are_integers_when_whole() {
        assert_eq!(
            epoch_number(1_704_067_200.0),
            serde_json::json!(1_704_067_200)
        );
        assert_eq!(
            epoch_number(1_704_067_500.25),
            serde_json::json!(1_704_067_500.25)
        );
    }
}
