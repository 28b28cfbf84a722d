//! ISO 8601 timestamps as AWS writes them (UTC, milliseconds, `Z`) and as clients send them,
//! over epoch seconds. Pure text and arithmetic: the wire codecs (`protocol::timestamp`) and
//! the services (notification bodies, scheduled actions) both use it.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Epoch seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years a timestamp
/// may have on the wire.
pub const EARLIEST: f64 = -62_135_596_800.0;
pub const LATEST: f64 = 253_402_300_799.0;

/// Whether epoch seconds fall in years 1 to 9999.
pub fn in_range(epoch_seconds: f64) -> bool {
    (EARLIEST..=LATEST).contains(&epoch_seconds)
}

/// Parse an ISO 8601 / RFC 3339 timestamp as clients send it in forms
/// (`2024-01-01T00:00:00Z`, `...00.500000Z`, `...00.123+02:00`, or without a zone, read as UTC)
/// into epoch seconds. Bare epoch numbers are accepted too, as botocore accepts them.
pub fn parse_iso8601(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(to_epoch(dt));
    }
    // Lowercase separators and a missing zone are common in hand-written input.
    let upper = text.to_ascii_uppercase();
    if let Ok(dt) = OffsetDateTime::parse(&upper, &Rfc3339) {
        return Some(to_epoch(dt));
    }
    let fmt = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(dt) = PrimitiveDateTime::parse(&upper, &fmt) {
        return Some(to_epoch(dt.assume_offset(UtcOffset::UTC)));
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(&upper, &date_only) {
        return Some(to_epoch(d.midnight().assume_utc()));
    }
    text.parse::<f64>().ok().filter(|v| in_range(*v))
}

fn to_epoch(dt: OffsetDateTime) -> f64 {
    dt.unix_timestamp() as f64 + f64::from(dt.nanosecond()) / 1e9
}

/// Format epoch seconds as AWS writes timestamps in XML: UTC, millisecond precision, `Z`
/// (`2024-01-02T03:04:05.123Z`).
pub fn format_iso8601(epoch_seconds: f64) -> String {
    let text = iso8601_bytes(epoch_seconds);
    // Only ASCII digits and separators are written.
    String::from_utf8_lossy(&text).into_owned()
}

/// [`format_iso8601`] appended to a byte buffer without an intermediate `String` (the XML
/// writer formats three timestamps per instance of a DescribeInstances answer).
pub fn write_iso8601(out: &mut Vec<u8>, epoch_seconds: f64) {
    out.extend_from_slice(&iso8601_bytes(epoch_seconds));
}

/// The 24 bytes of `YYYY-MM-DDThh:mm:ss.mmmZ`, computed with the proleptic Gregorian
/// calendar (days to civil date as in Howard Hinnant's `civil_from_days`).
pub fn iso8601_bytes(epoch_seconds: f64) -> [u8; 24] {
    // Out-of-range values (decoders refuse them) are clamped rather than overflowing.
    let clamped = if epoch_seconds.is_nan() {
        0.0
    } else {
        epoch_seconds.clamp(EARLIEST, LATEST)
    };
    let millis = (clamped * 1000.0).round() as i64;
    let (secs, ms) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, sod / 3600);
    put(14, 2, sod / 60 % 60);
    put(17, 2, sod % 60);
    put(20, 3, ms);
    b
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_clients_send() {
        assert_eq!(parse_iso8601("2024-01-01T00:00:00Z"), Some(1_704_067_200.0));
        assert_eq!(
            parse_iso8601("2024-01-01T01:00:00.500000Z"),
            Some(1_704_070_800.5)
        );
        assert_eq!(
            parse_iso8601("2024-01-01T02:00:00+02:00"),
            Some(1_704_067_200.0)
        );
        assert_eq!(parse_iso8601("2024-01-01T00:00:00"), Some(1_704_067_200.0));
        assert_eq!(parse_iso8601("1704067200"), Some(1_704_067_200.0));
        assert_eq!(parse_iso8601("yesterday"), None);
        assert_eq!(parse_iso8601("1e300"), None);
    }

    #[test]
    fn formats_with_milliseconds() {
        assert_eq!(
            format_iso8601(1_704_164_645.678),
            "2024-01-02T03:04:05.678Z"
        );
        assert_eq!(format_iso8601(1_704_067_200.0), "2024-01-01T00:00:00.000Z");
        assert_eq!(format_iso8601(1e300), "9999-12-31T23:59:59.000Z");
        assert_eq!(format_iso8601(f64::NAN), "1970-01-01T00:00:00.000Z");
    }

    /// The calendar arithmetic agrees with the `time` crate over years 1 to 9999.
    #[test]
    fn formatting_agrees_with_the_time_crate() {
        let oracle = |epoch: f64| {
            let millis = (epoch.clamp(EARLIEST, LATEST) * 1000.0).round() as i128;
            let dt = OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).unwrap();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                dt.millisecond()
            )
        };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let span = LATEST - EARLIEST;
            let epoch = EARLIEST + (x % 1_000_000_007) as f64 / 1_000_000_007.0 * span;
            let epoch = if i % 2 == 0 {
                epoch.floor() + 0.123
            } else {
                epoch
            };
            assert_eq!(format_iso8601(epoch), oracle(epoch), "{epoch}");
        }
        for edge in [
            EARLIEST,
            LATEST,
            0.0,
            -0.001,
            951_782_400.0,
            4_107_542_400.0,
        ] {
            assert_eq!(format_iso8601(edge), oracle(edge), "{edge}");
        }
        let mut buf = b"x".to_vec();
        write_iso8601(&mut buf, 1_704_164_645.678);
        assert_eq!(buf, b"x2024-01-02T03:04:05.678Z");
    }
}
