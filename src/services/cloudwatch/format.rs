//! The text formats CloudWatch writes: numbers as Java's `Double.toString`, and its three
//! date layouts (as they appear in real StateReason, StateReasonData and composite-alarm
//! texts: LocalStack's CloudWatch tests recorded against AWS, payloads quoted in public code).

use time::OffsetDateTime;

fn datetime(epoch: f64) -> OffsetDateTime {
    let millis = (epoch * 1000.0).round() as i128;
    OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A double as Java prints it: `85.0`, `0.059`, `1.0E7`, `4.5E-4` (plain for
/// 10^-3 ≤ |x| < 10^7, else scientific), shortest round-trip digits.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// `dd/MM/yy HH:mm:ss`, the datapoint stamp inside StateReason texts.
pub fn reason_date(epoch: f64) -> String {
    let d = datetime(epoch);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        d.day(),
        u8::from(d.month()),
        d.year().rem_euclid(100),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`, the timestamps inside StateReasonData and history JSON.
pub fn data_date(epoch: f64) -> String {
    let d = datetime(epoch);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.millisecond()
    )
}

/// `EEEE dd MMMM, yyyy HH:mm:ss 'UTC'`, used in composite alarm reasons.
pub fn long_date(epoch: f64) -> String {
    let d = datetime(epoch);
    format!(
        "{} {:02} {}, {:04} {:02}:{:02}:{:02} UTC",
        d.weekday(),
        d.day(),
        d.month(),
        d.year(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_java() {
        for (x, s) in [
            (85.0, "85.0"),
            (2.0, "2.0"),
            (0.059, "0.059"),
            (10.7, "10.7"),
            (0.01758096118768056, "0.01758096118768056"),
            (1223375.0, "1223375.0"),
            (1e7, "1.0E7"),
            (4.5e-4, "4.5E-4"),
            (-3.25, "-3.25"),
            (0.0, "0.0"),
            (99.97497497497497, "99.97497497497497"),
        ] {
            assert_eq!(java_double(x), s);
        }
    }

    #[test]
    fn dates_in_cloudwatch_layouts() {
        // 2026-11-28T04:01:00Z
        let t = 1_795_838_460.0;
        assert_eq!(reason_date(t), "28/11/26 04:01:00");
        assert_eq!(data_date(t + 0.26), "2026-11-28T04:01:00.260+0000");
        assert_eq!(long_date(t), "Saturday 28 November, 2026 04:01:00 UTC");
    }
}
