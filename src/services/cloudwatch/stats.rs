//! Sample sets: what one bucket of a metric holds, and the statistics read from it.
//!
//! A bucket keeps SampleCount, Sum, Minimum and Maximum exactly (so roll-ups are exact, as in
//! AWS) plus a distribution for percentiles: the exact multiset while it has few distinct
//! values (small test sets give exact nearest-rank answers), then a log-bucketed sketch with 1 %
//! relative accuracy, so a bucket's memory stays bounded whatever the ingest rate.
//! Percentiles are unavailable for a period holding a negative value or a statistic set that
//! is not a single repeated value (AWS `Statistics-definitions`).

/// Distinct values kept exactly before switching to the sketch.
const EXACT_CAP: usize = 64;
/// Sketch base: bucket `i` holds values in `(GAMMA^(i-1), GAMMA^i]`, about ±1 % around its
/// representative value.
const GAMMA: f64 = 1.02;

/// A statistic AWS can compute from a sample set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// `SampleCount`.
    SampleCount,
    /// `Average` (Sum / SampleCount).
    Average,
    /// `Sum`.
    Sum,
    /// `Minimum`.
    Minimum,
    /// `Maximum`.
    Maximum,
    /// `pNN` (nearest rank).
    Percentile(f64),
    /// `tmNN`, `TM(a:b)`, `IQM`, `wmNN`/`WM`, `tcNN`/`TC`, `tsNN`/`TS`: see
    /// [`super::trimmed`].
    Trimmed(super::trimmed::Trim),
    /// `PR(n:m)`: the percentage of values in `(n, m]`.
    PercentileRank(Option<f64>, Option<f64>),
}

impl Stat {
    /// One of the five plain statistics, by its AWS name.
    pub fn simple(name: &str) -> Option<Stat> {
        Some(match name {
            "SampleCount" => Stat::SampleCount,
            "Average" => Stat::Average,
            "Sum" => Stat::Sum,
            "Minimum" => Stat::Minimum,
            "Maximum" => Stat::Maximum,
            _ => return None,
        })
    }

    /// A percentile `pNN` / `pNN.NN` (up to 10 decimals, 0 to 100).
    pub fn percentile(name: &str) -> Option<Stat> {
        let digits = name.strip_prefix('p')?;
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = !int.is_empty()
            && int.len() <= 3
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.len() <= 10
            && frac.bytes().all(|b| b.is_ascii_digit())
            && (frac.is_empty() != digits.contains('.'));
        let p: f64 = digits.parse().ok().filter(|_| ok)?;
        (0.0..=100.0).contains(&p).then_some(Stat::Percentile(p))
    }

    /// An `ExtendedStatistic`: a percentile or one of the trimmed statistics.
    pub fn extended(name: &str) -> Option<Stat> {
        Stat::percentile(name).or_else(|| super::trimmed::parse(name))
    }

    /// Any statistic name GetMetricData and alarms accept.
    pub fn parse(name: &str) -> Option<Stat> {
        Stat::simple(name).or_else(|| Stat::extended(name))
    }

    /// Whether the statistic reads the distribution (not just count, sum, min and max).
    pub fn needs_distribution(self) -> bool {
        matches!(
            self,
            Stat::Percentile(_) | Stat::Trimmed(_) | Stat::PercentileRank(..)
        )
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) enum Dist {
    /// (value, count), sorted by value, distinct values.
    Exact(Vec<(f64, f64)>),
    Sketch(Sketch),
    /// Percentiles cannot be computed for this set.
    Unavailable,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Sketch {
    pub(super) zeros: f64,
    /// (bucket index, count), sorted by index; compact, since every stored bucket of a
    /// metric carries one.
    pub(super) buckets: Vec<(i16, f32)>,
}

impl Sketch {
    fn index(v: f64) -> i16 {
        // |v| ≤ 2^360 keeps the index within ±12,600.
        (v.ln() / GAMMA.ln())
            .ceil()
            .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
    }

    fn value(i: i16) -> f64 {
        2.0 * GAMMA.powi(i32::from(i)) / (GAMMA + 1.0)
    }

    fn add(&mut self, v: f64, c: f64) {
        if v == 0.0 {
            self.zeros += c;
            return;
        }
        let i = Self::index(v);
        match self.buckets.binary_search_by_key(&i, |b| b.0) {
            Ok(pos) => self.buckets[pos].1 += c as f32,
            Err(pos) => self.buckets.insert(pos, (i, c as f32)),
        }
    }

    fn merge(&mut self, other: &Sketch) {
        self.zeros += other.zeros;
        for &(i, c) in &other.buckets {
            match self.buckets.binary_search_by_key(&i, |b| b.0) {
                Ok(pos) => self.buckets[pos].1 += c,
                Err(pos) => self.buckets.insert(pos, (i, c)),
            }
        }
    }
}

/// The aggregate of the samples in one bucket (or one query period).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Agg {
    /// SampleCount.
    pub count: f64,
    /// Sum.
    pub sum: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    pub(super) dist: Dist,
}

impl Agg {
    /// One value.
    pub fn value(v: f64) -> Agg {
        Agg::values(&[(v, 1.0)])
    }

    /// `Values` with their `Counts` (pairs with a zero count are skipped). `None` when nothing
    /// is left.
    pub fn values(pairs: &[(f64, f64)]) -> Agg {
        let mut agg = Agg {
            count: 0.0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            dist: Dist::Exact(Vec::with_capacity(pairs.len())),
        };
        for &(v, c) in pairs.iter().filter(|(_, c)| *c > 0.0) {
            agg.count += c;
            agg.sum += v * c;
            agg.min = agg.min.min(v);
            agg.max = agg.max.max(v);
            agg.add_to_dist(v, c);
        }
        agg
    }

    /// A `StatisticValues` set. Percentile-capable only when it is one value repeated.
    pub fn set(count: f64, sum: f64, min: f64, max: f64) -> Agg {
        let single = min == max && (sum - min * count).abs() <= 1e-9 * sum.abs().max(1.0);
        let dist = if single && min >= 0.0 {
            Dist::Exact(vec![(min, count)])
        } else {
            Dist::Unavailable
        };
        Agg {
            count,
            sum,
            min,
            max,
            dist,
        }
    }

    /// The four plain statistics only (no percentile distribution): a cheap copy for
    /// readers that do not ask for percentiles.
    pub fn summary(&self) -> Agg {
        Agg {
            count: self.count,
            sum: self.sum,
            min: self.min,
            max: self.max,
            dist: Dist::Unavailable,
        }
    }

    /// Whether the set holds no samples.
    pub fn is_empty(&self) -> bool {
        self.count <= 0.0
    }

    fn add_to_dist(&mut self, v: f64, c: f64) {
        if v < 0.0 {
            self.dist = Dist::Unavailable;
        }
        match &mut self.dist {
            Dist::Unavailable => {}
            Dist::Sketch(s) => s.add(v, c),
            Dist::Exact(vals) => {
                match vals.binary_search_by(|p| p.0.total_cmp(&v)) {
                    Ok(pos) => vals[pos].1 += c,
                    Err(pos) => vals.insert(pos, (v, c)),
                }
                if vals.len() > EXACT_CAP {
                    let mut s = Sketch::default();
                    for &(v, c) in vals.iter() {
                        s.add(v, c);
                    }
                    self.dist = Dist::Sketch(s);
                }
            }
        }
    }

    /// Add another set's samples to this one.
    pub fn merge(&mut self, other: &Agg) {
        if other.is_empty() {
            return;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        match (&mut self.dist, &other.dist) {
            (Dist::Unavailable, _) => {}
            (_, Dist::Unavailable) => self.dist = Dist::Unavailable,
            (_, Dist::Exact(vals)) => {
                for &(v, c) in vals {
                    self.add_to_dist(v, c);
                }
            }
            (Dist::Sketch(a), Dist::Sketch(b)) => a.merge(b),
            (Dist::Exact(vals), Dist::Sketch(b)) => {
                let mut s = b.clone();
                for &(v, c) in vals.iter() {
                    s.add(v, c);
                }
                self.dist = Dist::Sketch(s);
            }
        }
    }

    /// The statistic's value; `None` for a percentile the set cannot answer.
    pub fn stat(&self, stat: Stat) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        Some(match stat {
            Stat::SampleCount => self.count,
            Stat::Average => self.sum / self.count,
            Stat::Sum => self.sum,
            Stat::Minimum => self.min,
            Stat::Maximum => self.max,
            Stat::Percentile(p) => return self.percentile(p),
            Stat::Trimmed(t) => return super::trimmed::compute(t, &self.weighted()?, self.count),
            Stat::PercentileRank(lo, hi) => {
                return super::trimmed::percentile_rank(lo, hi, &self.weighted()?, self.count);
            }
        })
    }

    /// The distribution as sorted (value, count) pairs (sketch buckets by their
    /// representative value); `None` when it is unavailable.
    fn weighted(&self) -> Option<Vec<(f64, f64)>> {
        match &self.dist {
            Dist::Unavailable => None,
            Dist::Exact(vals) => Some(vals.clone()),
            Dist::Sketch(s) => {
                let mut out = Vec::with_capacity(s.buckets.len() + 1);
                if s.zeros > 0.0 {
                    out.push((0.0, s.zeros));
                }
                out.extend(
                    s.buckets
                        .iter()
                        .map(|&(i, c)| (Sketch::value(i).clamp(self.min, self.max), f64::from(c))),
                );
                Some(out)
            }
        }
    }

    /// Nearest-rank percentile: the smallest value whose cumulative count reaches
    /// `p/100 × SampleCount`. The CloudWatch User Guide ("CloudWatch statistics definitions",
    /// "Percentiles versus trimmed mean") makes p99 the largest value left once the top 1 % is
    /// dropped: nearest rank, no interpolation.
    fn percentile(&self, p: f64) -> Option<f64> {
        if p <= 0.0 {
            return (!matches!(self.dist, Dist::Unavailable)).then_some(self.min);
        }
        let target = p / 100.0 * self.count;
        let eps = 1e-9 * self.count.max(1.0);
        match &self.dist {
            Dist::Unavailable => None,
            Dist::Exact(vals) => {
                let mut cum = 0.0;
                for &(v, c) in vals {
                    cum += c;
                    if cum + eps >= target {
                        return Some(v);
                    }
                }
                Some(self.max)
            }
            Dist::Sketch(s) => {
                let mut cum = s.zeros;
                if cum + eps >= target {
                    return Some(0.0);
                }
                for &(i, c) in &s.buckets {
                    cum += f64::from(c);
                    if cum + eps >= target {
                        return Some(Sketch::value(i).clamp(self.min, self.max));
                    }
                }
                Some(self.max)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ten() -> Agg {
        let mut a = Agg::value(1.0);
        for v in 2..=10 {
            a.merge(&Agg::value(f64::from(v)));
        }
        a
    }

    #[test]
    fn plain_statistics_of_ten_values() {
        let mut a = Agg::value(0.0);
        for v in 1..10 {
            a.merge(&Agg::value(f64::from(v)));
        }
        assert_eq!(a.stat(Stat::Average), Some(4.5));
        assert_eq!(a.stat(Stat::Maximum), Some(9.0));
        assert_eq!(a.stat(Stat::Minimum), Some(0.0));
        assert_eq!(a.stat(Stat::SampleCount), Some(10.0));
        assert_eq!(a.stat(Stat::Sum), Some(45.0));
    }

    #[test]
    fn values_with_counts_and_statistic_sets_combine_as_aws_records() {
        let a = Agg::values(&[(1.0, 2.0), (10.0, 4.0)]);
        assert_eq!((a.count, a.sum, a.max), (6.0, 42.0, 10.0));
        let mut b = Agg::value(11.0);
        b.merge(&Agg::set(10.0, 55.0, 1.0, 10.0));
        assert_eq!((b.sum, b.count, b.min, b.max), (66.0, 11.0, 1.0, 11.0));
        assert_eq!(b.stat(Stat::Average), Some(6.0));
        // A mixed statistic set cannot answer percentiles.
        assert_eq!(b.stat(Stat::Percentile(50.0)), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let a = ten();
        assert_eq!(a.stat(Stat::Percentile(50.0)), Some(5.0));
        assert_eq!(a.stat(Stat::Percentile(90.0)), Some(9.0));
        assert_eq!(a.stat(Stat::Percentile(99.0)), Some(10.0));
        assert_eq!(a.stat(Stat::Percentile(100.0)), Some(10.0));
        assert_eq!(a.stat(Stat::Percentile(0.0)), Some(1.0));
        let rep = Agg::set(4.0, 20.0, 5.0, 5.0);
        assert_eq!(rep.stat(Stat::Percentile(90.0)), Some(5.0));
        let mut neg = ten();
        neg.merge(&Agg::value(-1.0));
        assert_eq!(neg.stat(Stat::Percentile(50.0)), None);
    }

    #[test]
    fn many_distinct_values_switch_to_a_bounded_sketch_within_one_percent() {
        let mut a = Agg::value(1.0);
        for v in 2..=100_000 {
            a.merge(&Agg::value(f64::from(v)));
        }
        let Dist::Sketch(s) = &a.dist else {
            panic!("expected a sketch")
        };
        assert!(s.buckets.len() < 700, "{}", s.buckets.len());
        for (p, exact) in [(50.0, 50_000.0), (90.0, 90_000.0), (99.0, 99_000.0)] {
            let got = a.stat(Stat::Percentile(p)).unwrap();
            assert!((got - exact).abs() / exact < 0.011, "p{p}: {got}");
        }
        assert_eq!(a.stat(Stat::Sum), Some(5_000_050_000.0));
    }

    #[test]
    fn statistic_names() {
        assert_eq!(Stat::parse("Average"), Some(Stat::Average));
        assert_eq!(Stat::parse("p99"), Some(Stat::Percentile(99.0)));
        assert_eq!(Stat::parse("p99.9"), Some(Stat::Percentile(99.9)));
        assert_eq!(Stat::parse("p100"), Some(Stat::Percentile(100.0)));
        for bad in ["p101", "p", "p9.", "average", "P50", "p-1", "tm", "TM(a:b)"] {
            assert_eq!(Stat::parse(bad), None, "{bad}");
        }
    }
}
