//! The compact encoding of a metric's buckets in snapshots (format 2).
//!
//! A series' four tiers are one byte string. Each tier is its buckets in columns:
//!
//! ```text
//! n                       varint: number of buckets
//! 7 × (len, bytes)        columns, each preceded by its length (varint):
//!   times                 zigzag varint deltas from the previous bucket (the first from 0)
//!   counts                floats
//!   flags                 one byte per bucket (below)
//!   minimums              floats
//!   sums                  floats, only for buckets flagged SUM
//!   maximums              floats, only for buckets flagged MAX
//!   distributions         per bucket, by its flags' kind
//! ```
//!
//! A float is XORed with the previous float of its column and written as a header byte
//! (whole zero bytes leading, whole zero bytes trailing: `lz << 4 | tz`; `0x88` for an XOR of
//! zero) and the bytes in between, big-endian. Repeated values cost one byte, integers few.
//! A bucket of one value (the common case) stores its count and minimum only: without SUM its
//! sum is minimum × count, without MAX its maximum is its minimum, and with kind
//! [`IMPLIED`] its distribution is that one value `count` times. Every bit of every `f64` is
//! kept. Decoding checks every length against the bytes left, so a damaged body is an error,
//! never a panic or an allocation it does not carry.

use std::collections::BTreeMap;

use super::stats::{Agg, Dist, Sketch};

const SUM: u8 = 1;
const MAX: u8 = 2;
const KIND_SHIFT: u8 = 2;
/// The distribution is `[(min, count)]`.
const IMPLIED: u8 = 0;
const EXACT: u8 = 1;
const SKETCH: u8 = 2;
const UNAVAILABLE: u8 = 3;
const ZERO_XOR: u8 = 0x88;

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_float(buf: &mut Vec<u8>, prev: &mut u64, v: f64) {
    let bits = v.to_bits();
    let x = bits ^ *prev;
    *prev = bits;
    if x == 0 {
        buf.push(ZERO_XOR);
        return;
    }
    let lz = x.leading_zeros() / 8;
    let tz = x.trailing_zeros() / 8;
    buf.push(((lz << 4) | tz) as u8);
    let mid = x >> (tz * 8);
    for i in (0..8 - lz - tz).rev() {
        buf.push((mid >> (i * 8)) as u8);
    }
}

/// Reads what the `put_*` functions wrote.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

type Result<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or("packed metric data ends early")?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err("packed metric data ends early".into());
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("packed metric data: a varint is too long".into())
    }

    /// A count of items each taking at least one byte of what is left.
    fn count(&mut self) -> Result<usize> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.left())
            .ok_or_else(|| format!("packed metric data: {n} items in {} bytes", self.left()))
    }

    fn column(&mut self) -> Result<Reader<'a>> {
        let n = self.count()?;
        Ok(Reader::new(self.take(n)?))
    }

    fn float(&mut self, prev: &mut u64) -> Result<f64> {
        let h = self.byte()?;
        let x = if h == ZERO_XOR {
            0
        } else {
            let (lz, tz) = (u32::from(h >> 4), u32::from(h & 0x0f));
            if lz + tz >= 8 {
                return Err(format!("packed metric data: bad float header {h:#04x}"));
            }
            let mut mid = 0u64;
            for &b in self.take((8 - lz - tz) as usize)? {
                mid = (mid << 8) | u64::from(b);
            }
            mid << (tz * 8)
        };
        *prev ^= x;
        Ok(f64::from_bits(*prev))
    }
}

fn bits_eq(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

/// Append one tier's buckets.
fn pack_tier(out: &mut Vec<u8>, tier: &BTreeMap<i64, Agg>) {
    let mut cols: [Vec<u8>; 7] = Default::default();
    let [times, counts, flags, mins, sums, maxs, dists] = &mut cols;
    let (mut t_prev, mut c_prev, mut lo_prev, mut s_prev, mut hi_prev) = (0i64, 0, 0, 0, 0);
    let (mut dv_prev, mut dc_prev) = (0u64, 0u64);
    for (&t, agg) in tier {
        put_varint(times, zigzag(t.wrapping_sub(t_prev)));
        t_prev = t;
        put_float(counts, &mut c_prev, agg.count);
        put_float(mins, &mut lo_prev, agg.min);
        let mut flag = 0;
        if !bits_eq(agg.sum, agg.min * agg.count) {
            flag |= SUM;
            put_float(sums, &mut s_prev, agg.sum);
        }
        if !bits_eq(agg.max, agg.min) {
            flag |= MAX;
            put_float(maxs, &mut hi_prev, agg.max);
        }
        let kind = match &agg.dist {
            Dist::Exact(v)
                if v.len() == 1 && bits_eq(v[0].0, agg.min) && bits_eq(v[0].1, agg.count) =>
            {
                IMPLIED
            }
            Dist::Exact(v) => {
                put_varint(dists, v.len() as u64);
                for &(value, count) in v {
                    put_float(dists, &mut dv_prev, value);
                    put_float(dists, &mut dc_prev, count);
                }
                EXACT
            }
            Dist::Sketch(s) => {
                put_float(dists, &mut dc_prev, s.zeros);
                put_varint(dists, s.buckets.len() as u64);
                let mut i_prev = 0i64;
                for &(i, c) in &s.buckets {
                    put_varint(dists, zigzag(i64::from(i) - i_prev));
                    i_prev = i64::from(i);
                    dists.extend_from_slice(&c.to_bits().to_le_bytes());
                }
                SKETCH
            }
            Dist::Unavailable => UNAVAILABLE,
        };
        flags.push(flag | (kind << KIND_SHIFT));
    }
    put_varint(out, tier.len() as u64);
    for col in &cols {
        put_varint(out, col.len() as u64);
        out.extend_from_slice(col);
    }
}

/// Read one tier's buckets.
fn unpack_tier(r: &mut Reader<'_>) -> Result<BTreeMap<i64, Agg>> {
    let n = r.count()?;
    let mut times = r.column()?;
    let mut counts = r.column()?;
    let mut flags = r.column()?;
    let mut mins = r.column()?;
    let mut sums = r.column()?;
    let mut maxs = r.column()?;
    let mut dists = r.column()?;
    if flags.left() != n {
        return Err(format!(
            "packed metric data: {} flags for {n} buckets",
            flags.left()
        ));
    }
    let (mut t, mut c_prev, mut lo_prev, mut s_prev, mut hi_prev) = (0i64, 0, 0, 0, 0);
    let (mut dv_prev, mut dc_prev) = (0u64, 0u64);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        t = t.wrapping_add(unzigzag(times.varint()?));
        let count = counts.float(&mut c_prev)?;
        let min = mins.float(&mut lo_prev)?;
        let flag = flags.byte()?;
        let sum = if flag & SUM != 0 {
            sums.float(&mut s_prev)?
        } else {
            min * count
        };
        let max = if flag & MAX != 0 {
            maxs.float(&mut hi_prev)?
        } else {
            min
        };
        let dist = match flag >> KIND_SHIFT {
            IMPLIED => Dist::Exact(vec![(min, count)]),
            EXACT => {
                let len = dists.count()?;
                let mut v = Vec::with_capacity(len);
                for _ in 0..len {
                    let value = dists.float(&mut dv_prev)?;
                    v.push((value, dists.float(&mut dc_prev)?));
                }
                Dist::Exact(v)
            }
            SKETCH => {
                let zeros = dists.float(&mut dc_prev)?;
                let len = dists.count()?;
                let mut buckets = Vec::with_capacity(len);
                let mut i = 0i64;
                for _ in 0..len {
                    i = i.wrapping_add(unzigzag(dists.varint()?));
                    let index = i16::try_from(i).map_err(|_| "packed metric data: bad index")?;
                    let raw: [u8; 4] = dists.take(4)?.try_into().map_err(|_| "short")?;
                    buckets.push((index, f32::from_bits(u32::from_le_bytes(raw))));
                }
                Dist::Sketch(Sketch { zeros, buckets })
            }
            UNAVAILABLE => Dist::Unavailable,
            _ => return Err(format!("packed metric data: bad flags {flag:#04x}")),
        };
        out.push((
            t,
            Agg {
                count,
                sum,
                min,
                max,
                dist,
            },
        ));
    }
    // Sorted and distinct as written; anything else is damage.
    if out.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err("packed metric data: bucket times out of order".into());
    }
    Ok(out.into_iter().collect())
}

/// The four tiers (seconds, minutes, five minutes, hours) as one byte string.
pub fn pack(tiers: [&BTreeMap<i64, Agg>; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    for tier in tiers {
        pack_tier(&mut out, tier);
    }
    out
}

/// What [`pack`] wrote.
pub fn unpack(bytes: &[u8]) -> Result<[BTreeMap<i64, Agg>; 4]> {
    let mut r = Reader::new(bytes);
    let tiers = [
        unpack_tier(&mut r)?,
        unpack_tier(&mut r)?,
        unpack_tier(&mut r)?,
        unpack_tier(&mut r)?,
    ];
    if r.left() != 0 {
        return Err(format!("packed metric data: {} bytes too many", r.left()));
    }
    Ok(tiers)
}

/// A byte string for serde (CBOR writes it as one, not as an array of numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct Bytes(pub Vec<u8>);

impl serde::Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> std::result::Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> std::result::Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Bytes, A::Error> {
                let mut v = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    v.push(b);
                }
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

#[cfg(test)]
#[path = "packed_tests.rs"]
mod tests;
