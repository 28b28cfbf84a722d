//! Timestamps on the wire: ISO 8601 text for query/ec2, epoch seconds for JSON and CBOR.
//!
//! The value tree holds epoch seconds (see [`super::model`]); these helpers convert at the edge.
//! The ISO 8601 text itself is [`crate::iso8601`]'s (services write it too).

use crate::iso8601::{EARLIEST, LATEST};
pub use crate::iso8601::{format_iso8601, in_range, iso8601_bytes, parse_iso8601, write_iso8601};

/// Epoch seconds as the wire writes them: whole seconds, or seconds rounded to milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Epoch {
    /// A whole number of seconds.
    Whole(i64),
    /// Seconds with a fraction of whole milliseconds.
    Millis(f64),
}

/// Epoch seconds, clamped to years 1 to 9999 (`NaN` is 0), as [`Epoch`].
pub fn epoch(epoch_seconds: f64) -> Epoch {
    let clamped = if epoch_seconds.is_nan() {
        0.0
    } else {
        epoch_seconds.clamp(EARLIEST, LATEST)
    };
    let millis = (clamped * 1000.0).round();
    if millis % 1000.0 == 0.0 {
        Epoch::Whole((millis / 1000.0) as i64)
    } else {
        Epoch::Millis(millis / 1000.0)
    }
}

/// Epoch seconds as a JSON number: an integer when whole, else rounded to milliseconds.
pub fn epoch_number(epoch_seconds: f64) -> serde_json::Value {
    match epoch(epoch_seconds) {
        Epoch::Whole(seconds) => serde_json::Value::from(seconds),
        Epoch::Millis(seconds) => {
            serde_json::Number::from_f64(seconds).map_or(serde_json::Value::Null, Into::into)
        }
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
