//! A fast, non-cryptographic hasher for the maps the load balancers' data plane looks up on
//! every request: scopes, DNS names, backend addresses. Their keys come from this process's
//! own API calls, not from whoever sends traffic, so SipHash's resistance to crafted
//! collisions buys nothing there, and its cost showed in the proxy's profile.
//!
//! Each 8-byte word of the input is mixed in by a rotate, an exclusive or and a multiply by
//! an odd constant; the result is rotated so that its well-mixed high bits also reach the
//! low bits that pick a hash table's bucket.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// An odd 64-bit constant with its bits spread evenly (from the binary expansion of π).
const MULTIPLIER: u64 = 0x243f_6a88_85a3_08d3;

/// The hasher (see the module).
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.mix(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

/// Builds [`FastHasher`]s.
pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn equal_keys_hash_alike_and_near_keys_spread() {
        let build = FastBuild::default();
        assert_eq!(
            build.hash_one("a.elb.localhost"),
            build.hash_one("a.elb.localhost")
        );
        // Keys that differ in one byte land in different buckets of a small table.
        let buckets: std::collections::HashSet<u64> = (0..64u8)
            .map(|i| build.hash_one(format!("lb-{i}.us-east-1.elb.localhost")) & 63)
            .collect();
        assert!(buckets.len() > 32, "{} buckets of 64", buckets.len());
        let mut map: FastMap<String, u32> = FastMap::default();
        map.insert("x".into(), 1);
        assert_eq!(map.get("x"), Some(&1));
    }
}
