//! The metric store: per metric identity and unit, sample sets in four resolution tiers with
//! AWS's retention (CloudWatch User Guide, "Amazon CloudWatch concepts": metrics retention;
//! CloudWatch API Reference, GetMetricStatistics).
//!
//! Every datum is aggregated at ingest into each tier whose retention covers its timestamp:
//!
//! | tier | bucket | kept for | holds |
//! | --- | --- | --- | --- |
//! | `sec` | 1 s | 3 h | high-resolution data by second, standard data at its minute |
//! | `min` | 60 s | 15 days | everything |
//! | `five` | 300 s | 63 days | everything |
//! | `hour` | 3600 s | 455 days | everything |
//!
//! Roll-ups are exact (a bucket keeps SampleCount, Sum, Min, Max and a bounded percentile
//! sketch, see [`super::stats`]), so a query reads the coarsest tier whose buckets tile its
//! periods, and pruning drops whole buckets past their tier's age. Memory is therefore bounded
//! by metrics × units × (10,800 + 21,600 + 18,144 + 10,920) buckets at worst, independent of the
//! ingest rate; a steady stream into one metric costs a few buckets per minute.

use std::collections::BTreeMap;

use super::stats::Agg;

/// How long each tier keeps its buckets (seconds).
pub const SEC_RETENTION: f64 = 3.0 * 3600.0;
/// One-minute tier retention.
pub const MIN_RETENTION: f64 = 15.0 * 86_400.0;
/// Five-minute tier retention.
pub const FIVE_RETENTION: f64 = 63.0 * 86_400.0;
/// One-hour tier retention (15 months; a metric without data for longer expires).
pub const HOUR_RETENTION: f64 = 455.0 * 86_400.0;

/// A metric's identity: namespace, name and the *set* of dimensions (kept sorted by name, the
/// order ListMetrics returns them in).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct MetricKey {
    /// Namespace.
    pub namespace: String,
    /// MetricName.
    pub name: String,
    /// (Name, Value), sorted by name.
    pub dimensions: Vec<(String, String)>,
}

impl MetricKey {
    /// A key from unsorted dimensions.
    pub fn new(namespace: &str, name: &str, mut dimensions: Vec<(String, String)>) -> Self {
        dimensions.sort();
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions,
        }
    }
}

/// A unit's buckets. In snapshots: `{"packed": <bytes>}` ([`super::packed`], format 2);
/// format 1 wrote each tier as a map of time → bucket, which is still read.
#[derive(Debug, Default, Clone)]
struct Tiers {
    sec: BTreeMap<i64, Agg>,
    min: BTreeMap<i64, Agg>,
    five: BTreeMap<i64, Agg>,
    hour: BTreeMap<i64, Agg>,
}

impl serde::Serialize for Tiers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let packed = super::packed::pack([&self.sec, &self.min, &self.five, &self.hour]);
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("packed", &super::packed::Bytes(packed))?;
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Tiers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Tiers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a metric's tiers")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Tiers, A::Error> {
                use serde::de::Error;
                let mut t = Tiers::default();
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "packed" => {
                            let bytes: super::packed::Bytes = m.next_value()?;
                            [t.sec, t.min, t.five, t.hour] =
                                super::packed::unpack(&bytes.0).map_err(A::Error::custom)?;
                        }
                        // Format 1.
                        "sec" => t.sec = m.next_value()?,
                        "min" => t.min = m.next_value()?,
                        "five" => t.five = m.next_value()?,
                        "hour" => t.hour = m.next_value()?,
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(t)
            }
        }
        d.deserialize_map(Visit)
    }
}

impl Tiers {
    fn tier(&self, granularity: i64) -> &BTreeMap<i64, Agg> {
        match granularity {
            3600 => &self.hour,
            300 => &self.five,
            60 => &self.min,
            _ if self.sec.is_empty() => &self.min,
            _ => &self.sec,
        }
    }

    fn is_empty(&self) -> bool {
        self.hour.is_empty() && self.five.is_empty() && self.min.is_empty() && self.sec.is_empty()
    }
}

/// One metric's data.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Series {
    units: Vec<(String, Tiers)>,
    /// The newest datum timestamp received (ListMetrics lists metrics with data in 2 weeks).
    pub last_timestamp: f64,
}

/// Every metric of one account and region.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct MetricStore {
    series: BTreeMap<MetricKey, Series>,
    last_prune: f64,
}

fn floor_to(t: f64, g: i64) -> i64 {
    (t.floor() as i64).div_euclid(g) * g
}

fn add(tier: &mut BTreeMap<i64, Agg>, at: i64, agg: &Agg) {
    match tier.get_mut(&at) {
        Some(a) => a.merge(agg),
        None => {
            tier.insert(at, agg.clone());
        }
    }
}

impl MetricStore {
    /// Store one datum's samples at `ts` (epoch seconds) in `unit`.
    pub fn put(
        &mut self,
        key: &MetricKey,
        unit: &str,
        ts: f64,
        agg: &Agg,
        high_res: bool,
        now: f64,
    ) {
        if agg.is_empty() {
            return;
        }
        let series = match self.series.get_mut(key) {
            Some(s) => s,
            None => self.series.entry(key.clone()).or_default(),
        };
        series.last_timestamp = series.last_timestamp.max(ts);
        let tiers = match series.units.iter().position(|(u, _)| u == unit) {
            Some(i) => &mut series.units[i].1,
            None => {
                series.units.push((unit.to_owned(), Tiers::default()));
                series.units.sort_by(|a, b| a.0.cmp(&b.0));
                let i = series
                    .units
                    .iter()
                    .position(|(u, _)| u == unit)
                    .unwrap_or(0);
                &mut series.units[i].1
            }
        };
        let age = now - ts;
        // Standard data joins the seconds tier only next to high-resolution data of the same
        // series (sub-minute reads of a standard-only series use the minute tier instead).
        if age < SEC_RETENTION && (high_res || !tiers.sec.is_empty()) {
            let at = if high_res {
                floor_to(ts, 1)
            } else {
                floor_to(ts, 60)
            };
            add(&mut tiers.sec, at, agg);
        }
        if age < MIN_RETENTION {
            add(&mut tiers.min, floor_to(ts, 60), agg);
        }
        if age < FIVE_RETENTION {
            add(&mut tiers.five, floor_to(ts, 300), agg);
        }
        add(&mut tiers.hour, floor_to(ts, 3600), agg);
    }

    /// Aggregate `[start, end)` into buckets `[start + k·period, …)`, per unit (all units, or
    /// only `unit`). Units come sorted by name; buckets without data are absent. Callers check
    /// AWS's period rules first, which guarantee a tier that still holds the range.
    /// `with_dist: false` skips copying percentile distributions (plain statistics only).
    pub fn buckets(
        &self,
        key: &MetricKey,
        unit: Option<&str>,
        start: i64,
        end: i64,
        period: i64,
        with_dist: bool,
    ) -> Vec<(String, BTreeMap<i64, Agg>)> {
        let Some(series) = self.series.get(key) else {
            return Vec::new();
        };
        let granularity = [3600, 300, 60]
            .into_iter()
            .find(|g| period % g == 0 && start.rem_euclid(*g) == 0)
            .unwrap_or(1);
        let mut out = Vec::new();
        for (u, tiers) in &series.units {
            if unit.is_some_and(|want| want != u) {
                continue;
            }
            let mut buckets: BTreeMap<i64, Agg> = BTreeMap::new();
            for (&t, agg) in tiers.tier(granularity).range(start..end) {
                let b = start + (t - start) / period * period;
                match buckets.get_mut(&b) {
                    Some(a) => a.merge(agg),
                    None => {
                        buckets.insert(
                            b,
                            if with_dist {
                                agg.clone()
                            } else {
                                agg.summary()
                            },
                        );
                    }
                }
            }
            if !buckets.is_empty() {
                out.push((u.clone(), buckets));
            }
        }
        out
    }

    /// Drop buckets past their tier's retention and metrics with no data left. Cheap to call
    /// often: it runs at most once a virtual minute.
    pub fn prune(&mut self, now: f64) {
        if now - self.last_prune < 60.0 {
            return;
        }
        self.last_prune = now;
        let cut = |r: f64| (now - r).floor() as i64;
        self.series.retain(|_, s| {
            for (_, t) in &mut s.units {
                t.sec = t.sec.split_off(&cut(SEC_RETENTION));
                t.min = t.min.split_off(&cut(MIN_RETENTION));
                t.five = t.five.split_off(&cut(FIVE_RETENTION));
                t.hour = t.hour.split_off(&cut(HOUR_RETENTION));
            }
            s.units.retain(|(_, t)| !t.is_empty());
            !s.units.is_empty()
        });
    }

    /// Every metric with its data, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&MetricKey, &Series)> {
        self.series.iter()
    }

    /// Copies of up to `n` series after `after` (from the first when `None`), in key order:
    /// a snapshot copies a large store a slice at a time, so no request waits for all of it.
    pub fn clone_slice(&self, after: Option<&MetricKey>, n: usize) -> Vec<(MetricKey, Series)> {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.series
            .range((from, Bound::Unbounded))
            .take(n)
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect()
    }

    /// A store holding these series (the slices [`Self::clone_slice`] copied).
    pub fn from_slices(
        series: impl IntoIterator<Item = (MetricKey, Series)>,
        last_prune: f64,
    ) -> Self {
        Self {
            series: series.into_iter().collect(),
            last_prune,
        }
    }

    /// When the store was last pruned.
    pub fn last_prune(&self) -> f64 {
        self.last_prune
    }

    /// Number of metric identities stored.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no metric is stored.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Buckets held across all tiers (a memory gauge for benchmarks and tests).
    pub fn bucket_count(&self) -> usize {
        self.series
            .values()
            .flat_map(|s| &s.units)
            .map(|(_, t)| t.sec.len() + t.min.len() + t.five.len() + t.hour.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::super::stats::Stat;
    use super::*;

    const T0: f64 = 1_795_838_400.0; // 2026-11-28T04:00:00Z

    fn key() -> MetricKey {
        MetricKey::new(
            "App",
            "m",
            vec![("b".into(), "2".into()), ("a".into(), "1".into())],
        )
    }

    #[test]
    fn dimension_order_does_not_matter() {
        let other = MetricKey::new(
            "App",
            "m",
            vec![("a".into(), "1".into()), ("b".into(), "2".into())],
        );
        assert_eq!(key(), other);
        assert_eq!(key().dimensions[0].0, "a");
    }

    #[test]
    fn buckets_follow_the_start_not_the_clock() {
        let mut s = MetricStore::default();
        s.put(
            &key(),
            "None",
            T0 + 180.0,
            &Agg::value(1.0),
            false,
            T0 + 600.0,
        );
        s.put(
            &key(),
            "None",
            T0 + 480.0,
            &Agg::value(2.0),
            false,
            T0 + 600.0,
        );
        let b = s.buckets(
            &key(),
            None,
            (T0 + 120.0) as i64,
            (T0 + 720.0) as i64,
            300,
            true,
        );
        let stamps: Vec<i64> = b[0].1.keys().copied().collect();
        assert_eq!(stamps, vec![(T0 + 120.0) as i64, (T0 + 420.0) as i64]);
    }

    #[test]
    fn units_are_kept_apart_and_filtered() {
        let mut s = MetricStore::default();
        s.put(&key(), "Seconds", T0, &Agg::value(60.0), false, T0);
        s.put(&key(), "Count", T0, &Agg::value(1.0), false, T0);
        let all = s.buckets(&key(), None, T0 as i64, T0 as i64 + 60, 60, true);
        let units: Vec<&str> = all.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(units, ["Count", "Seconds"]);
        assert!(
            s.buckets(&key(), Some("Percent"), T0 as i64, T0 as i64 + 60, 60, true)
                .is_empty()
        );
    }

    #[test]
    fn high_resolution_data_rolls_up_and_ages_out() {
        let mut s = MetricStore::default();
        for i in 0..60 {
            s.put(
                &key(),
                "None",
                T0 + f64::from(i),
                &Agg::value(f64::from(i)),
                true,
                T0 + 60.0,
            );
        }
        let by10 = s.buckets(&key(), None, T0 as i64, T0 as i64 + 60, 10, true);
        assert_eq!(by10[0].1.len(), 6);
        let by60 = s.buckets(&key(), None, T0 as i64, T0 as i64 + 60, 60, true);
        assert_eq!(by60[0].1[&(T0 as i64)].stat(Stat::SampleCount), Some(60.0));
        // Four hours later the seconds are gone (a 10 s read sees only the minute) but the
        // minute remains.
        s.prune(T0 + 4.0 * 3600.0);
        let by10 = s.buckets(&key(), None, T0 as i64, T0 as i64 + 60, 10, true);
        assert_eq!(by10[0].1.len(), 1);
        assert_eq!(
            s.buckets(&key(), None, T0 as i64, T0 as i64 + 60, 60, true)
                .len(),
            1
        );
        // Sixteen months later the metric is gone.
        s.prune(T0 + 480.0 * 86_400.0);
        assert!(s.is_empty());
    }

    #[test]
    fn memory_stays_bounded_under_a_steady_stream() {
        let mut s = MetricStore::default();
        let mut now = T0;
        for _ in 0..(2 * 24 * 3600 / 10) {
            s.put(&key(), "None", now, &Agg::value(now % 97.0), true, now);
            now += 10.0;
            s.prune(now);
        }
        // 3 h of 10 s buckets + 2 days of minutes + five-minute and hour buckets.
        let bound = 3 * 360 + 2 * 1440 + 2 * 288 + 48 + 8;
        assert!(s.bucket_count() <= bound, "{} > {bound}", s.bucket_count());
    }
}
