//! The `Recurrence` of scheduled actions: five-field Unix cron
//! (`[Minute] [Hour] [Day_of_Month] [Month_of_Year] [Day_of_Week]`, e.g. `30 0 1 1,6,12 *`)
//! evaluated in the action's `TimeZone` (an IANA name, default UTC).
//!
//! Syntax is crontab's: `*`, lists `a,b`, ranges `a-b`, steps `*/n` and `a-b/n` (`a/n` means
//! `a-max/n`), month names `JAN`–`DEC` and day names `SUN`–`SAT` (0 and 7 are both Sunday).
//! As in Vixie cron, when both day fields are restricted a day matching either one fires.
//!
//! Time zones come from the system tzdata (`/usr/share/zoneinfo`, parsed by `tz-rs`), with DST:
//! a wall time that does not exist (spring forward) fires just after the gap, and a wall time
//! that happens twice (fall back) fires once, the first time. `UTC`, `Etc/UTC`, `GMT` and
//! `Etc/GMT±N` work without tzdata.

use time::{Date, Duration};
use tz::TimeZone;

/// A parsed cron expression: one bit set per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    /// Vixie cron: a field written starting with `*` does not restrict the day.
    dom_any: bool,
    dow_any: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Parse one field into a bit set over `min..=max`.
fn field(text: &str, min: u32, max: u32, names: &[&str], name_base: u32) -> Option<u64> {
    let value = |s: &str| -> Option<u32> {
        if let Ok(n) = s.parse::<u32>() {
            return Some(n);
        }
        let upper = s.to_ascii_uppercase();
        names
            .iter()
            .position(|n| *n == upper)
            .map(|i| i as u32 + name_base)
    };
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            // `a/n` runs from a to the end of the field.
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return None;
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Some(bits)
}

impl Cron {
    /// Parse a five-field expression; `None` when it is not valid crontab syntax.
    pub fn parse(expr: &str) -> Option<Self> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let [mi, h, dom, mon, dow] = fields.as_slice() else {
            return None;
        };
        let mut days_of_week = field(dow, 0, 7, &DAYS, 0)?;
        // 7 is Sunday too.
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week | 1) & 0x7f;
        }
        Some(Self {
            minutes: field(mi, 0, 59, &[], 0)?,
            hours: field(h, 0, 23, &[], 0)? as u32,
            days_of_month: field(dom, 1, 31, &[], 0)? as u32,
            months: field(mon, 1, 12, &MONTHS, 1)? as u16,
            days_of_week: days_of_week as u8,
            dom_any: dom.starts_with('*'),
            dow_any: dow.starts_with('*'),
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        if self.months & (1 << u8::from(date.month())) == 0 {
            return false;
        }
        let dom = self.days_of_month & (1 << date.day()) != 0;
        let dow = self.days_of_week & (1 << date.weekday().number_days_from_sunday()) != 0;
        match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (true, false) => dow,
            (false, true) => dom,
            (false, false) => dom || dow,
        }
    }

    /// The first fire time strictly after `after` (epoch seconds), in `zone`; `None` if the
    /// expression never fires (e.g. `0 0 31 2 *`).
    pub fn next_after(&self, after: f64, zone: &Zone) -> Option<f64> {
        let after_secs = after.floor() as i64;
        let local = after_secs + i64::from(zone.offset_at(after_secs));
        let mut date = Date::from_julian_day(
            (local.div_euclid(86_400) + i64::from(UNIX_EPOCH_JULIAN_DAY)) as i32,
        )
        .ok()?
        .previous_day()?;
        // Feb 29 on a given weekday can be 28 years away; a day-by-day scan is cheap enough.
        for _ in 0..(366 * 29) {
            if self.day_matches(date) {
                let midnight =
                    (i64::from(date.to_julian_day()) - i64::from(UNIX_EPOCH_JULIAN_DAY)) * 86_400;
                for h in (0..24).filter(|h| self.hours & (1 << h) != 0) {
                    for m in (0..60).filter(|m| self.minutes & (1u64 << m) != 0) {
                        let utc = zone.to_utc(midnight + h * 3600 + m * 60);
                        if utc > after_secs && (utc as f64) > after {
                            return Some(utc as f64);
                        }
                    }
                }
            }
            date = date.checked_add(Duration::days(1))?;
        }
        None
    }
}

const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// A time zone a scheduled action runs in.
#[derive(Debug, Clone)]
pub enum Zone {
    /// A constant offset from UTC in seconds (`UTC`, `Etc/GMT+9`).
    Fixed(i32),
    /// An IANA zone with its transitions.
    Tz(Box<TimeZone>),
}

/// Where the system keeps IANA zone files.
const ZONEINFO: &str = "/usr/share/zoneinfo";

impl Zone {
    /// The zone named `name` (IANA canonical names as AWS accepts them), or `None`.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Etc/UCT" | "UCT" | "Etc/Universal"
            | "Etc/Zulu" | "Universal" | "Zulu" | "Etc/Greenwich" | "Greenwich" => {
                return Some(Self::Fixed(0));
            }
            _ => {}
        }
        // POSIX-style sign: Etc/GMT+9 is nine hours *behind* UTC.
        if let Some(rest) = name.strip_prefix("Etc/GMT") {
            let hours: i32 = rest.parse().ok()?;
            if (-14..=12).contains(&hours) && (rest.starts_with('+') || rest.starts_with('-')) {
                return Some(Self::Fixed(-hours * 3600));
            }
            return None;
        }
        let safe = !name.is_empty()
            && !name.starts_with('/')
            && !name
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
        if !safe || !name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            return None;
        }
        let bytes = std::fs::read(format!("{ZONEINFO}/{name}")).ok()?;
        TimeZone::from_tz_data(&bytes)
            .ok()
            .map(|tz| Self::Tz(Box::new(tz)))
    }

    /// Seconds east of UTC at the instant `unix` (epoch seconds).
    pub fn offset_at(&self, unix: i64) -> i32 {
        match self {
            Self::Fixed(off) => *off,
            Self::Tz(tz) => tz
                .find_local_time_type(unix)
                .map_or(0, tz::LocalTimeType::ut_offset),
        }
    }

    /// The instant a wall-clock time (`local`, seconds since the epoch read as local time)
    /// happens: the first of two when the clock falls back, just after the gap when it
    /// springs forward.
    pub fn to_utc(&self, local: i64) -> i64 {
        let before = self.offset_at(local - 86_400);
        let after = self.offset_at(local + 86_400);
        let candidates = [local - i64::from(before), local - i64::from(after)];
        let valid = candidates
            .iter()
            .copied()
            .filter(|u| local - i64::from(self.offset_at(*u)) == *u)
            .min();
        valid.unwrap_or_else(|| candidates[0].max(candidates[1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iso8601::{format_iso8601, parse_iso8601};

    fn at(s: &str) -> f64 {
        parse_iso8601(s).unwrap()
    }

    fn next(expr: &str, after: &str, zone: &str) -> String {
        let cron = Cron::parse(expr).unwrap();
        let zone = Zone::named(zone).unwrap();
        format_iso8601(cron.next_after(at(after), &zone).unwrap())
    }

    #[test]
    fn parses_crontab_syntax_and_refuses_the_rest() {
        assert!(Cron::parse("30 0 1 1,6,12 *").is_some());
        assert!(Cron::parse("*/5 9-17 * * MON-FRI").is_some());
        assert!(Cron::parse("0 0 * jan,Jul sun").is_some());
        assert!(Cron::parse("5/15 * * * 7").is_some());
        for bad in [
            "",
            "* * * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/0 * * * *",
            "5-1 * * * *",
            "a * * * *",
            "0 0 * FOO *",
            "1,,2 * * * *",
        ] {
            assert!(Cron::parse(bad).is_none(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn next_fire_time_in_utc() {
        assert_eq!(
            next("0 8 * * *", "2026-11-28T07:33:00Z", "UTC"),
            "2026-11-28T08:00:00.000Z"
        );
        assert_eq!(
            next("0 8 * * *", "2026-11-28T08:00:00Z", "UTC"),
            "2026-11-29T08:00:00.000Z",
            "strictly after"
        );
        assert_eq!(
            next("*/15 * * * *", "2026-11-28T07:31:10Z", "Etc/UTC"),
            "2026-11-28T07:45:00.000Z"
        );
        assert_eq!(
            next("30 0 1 1,6,12 *", "2026-11-28T00:00:00Z", "UTC"),
            "2026-12-01T00:30:00.000Z"
        );
        // 2026-11-28 is a Saturday.
        assert_eq!(
            next("0 9 * * MON-FRI", "2026-11-28T00:00:00Z", "UTC"),
            "2026-11-30T09:00:00.000Z"
        );
        assert_eq!(
            next("0 0 29 2 *", "2026-03-01T00:00:00Z", "UTC"),
            "2028-02-29T00:00:00.000Z"
        );
        assert!(
            Cron::parse("0 0 31 2 *")
                .unwrap()
                .next_after(0.0, &Zone::Fixed(0))
                .is_none()
        );
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        // The 1st of the month or any Monday: after Sat 2026-11-28 comes Mon 11-30.
        assert_eq!(
            next("0 0 1 * 1", "2026-11-28T00:00:00Z", "UTC"),
            "2026-11-30T00:00:00.000Z"
        );
        assert_eq!(
            next("0 0 1 * 1", "2026-11-30T01:00:00Z", "UTC"),
            "2026-12-01T00:00:00.000Z"
        );
    }

    #[test]
    fn fixed_offset_zones_use_the_posix_sign() {
        // Etc/GMT+9 is UTC-9: 08:00 there is 17:00 UTC.
        assert_eq!(
            next("0 8 * * *", "2026-11-28T00:00:00Z", "Etc/GMT+9"),
            "2026-11-28T17:00:00.000Z"
        );
        assert_eq!(
            next("0 8 * * *", "2026-11-28T00:00:00Z", "Etc/GMT-9"),
            "2026-11-28T23:00:00.000Z"
        );
        assert!(Zone::named("Etc/GMT+99").is_none());
        assert!(Zone::named("Not/AZone").is_none());
        assert!(Zone::named("../etc/passwd").is_none());
        assert!(Zone::named("").is_none());
    }

    #[test]
    fn iana_zones_follow_daylight_saving_time() {
        if Zone::named("America/New_York").is_none() {
            // Without system tzdata only UTC and fixed zones exist (tested above).
            return;
        }
        // EST (UTC-5) in winter, EDT (UTC-4) in summer.
        assert_eq!(
            next("0 9 * * *", "2026-01-10T00:00:00Z", "America/New_York"),
            "2026-01-10T14:00:00.000Z"
        );
        assert_eq!(
            next("0 9 * * *", "2026-07-10T00:00:00Z", "America/New_York"),
            "2026-07-10T13:00:00.000Z"
        );
        // 2026-03-08 02:30 does not exist in New York: it fires right after the jump.
        assert_eq!(
            next("30 2 * * *", "2026-03-08T00:00:00Z", "America/New_York"),
            "2026-03-08T07:30:00.000Z"
        );
        // 2026-11-01 01:30 happens twice: it fires once, at the first (EDT) one.
        assert_eq!(
            next("30 1 * * *", "2026-11-01T00:00:00Z", "America/New_York"),
            "2026-11-01T05:30:00.000Z"
        );
        assert_eq!(
            next("30 1 * * *", "2026-11-01T05:30:00Z", "America/New_York"),
            "2026-11-02T06:30:00.000Z"
        );
        // Seoul has no DST.
        assert_eq!(
            next("0 9 * * *", "2026-11-28T00:00:00Z", "Asia/Seoul"),
            "2026-11-29T00:00:00.000Z"
        );
    }
}
