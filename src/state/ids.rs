//! AWS-shaped identifiers: resource ids, request ids and ARNs.

use std::cell::RefCell;
use std::fmt::Write;
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

thread_local! {
    /// The generator of [`IdGen::derived`] while it runs on this thread.
    static DERIVED: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Makes every id in Updraft, so that tests can reason about their shapes in one place.
///
/// Ids are random, except in a generator made by [`IdGen::seeded`]: the golden-bytes test
/// replays the same requests and must get the same ids (and so the same bytes) each time.
#[derive(Debug, Default)]
pub struct IdGen {
    seeded: Option<Mutex<StdRng>>,
}

impl IdGen {
    /// A generator whose ids follow from `seed` (tests only: ids then repeat across runs).
    pub fn seeded(seed: u64) -> Self {
        Self {
            seeded: Some(Mutex::new(StdRng::seed_from_u64(seed))),
        }
    }

    /// `f` with the generator's source of randomness.
    fn with_rng<T>(&self, f: impl FnOnce(&mut dyn RngCore) -> T) -> T {
        // Inside `derived`, its generator decides, whatever this one is.
        DERIVED.with_borrow_mut(|derived| match (derived, &self.seeded) {
            (Some(rng), _) => f(rng),
            (None, None) => f(&mut rand::rng()),
            // A poisoned lock only means a panic elsewhere while drawing a number; go on.
            (None, Some(rng)) => f(&mut *rng
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)),
        })
    }

    /// Ten random digits, for a load balancer's DNS name (AWS's are 9–10 digits).
    pub fn dns_digits(&self) -> String {
        self.with_rng(|rng| rng.random_range(1_000_000_000u64..10_000_000_000))
            .to_string()
    }

    /// A resource id: `prefix-` + 17 lowercase hex digits (`i-0a1b…`, `ami-…`, `sg-…`,
    /// `subnet-…`, `vpc-…`, `r-…`, `lt-…`, `snap-…`, `vol-…`, `eni-…`).
    pub fn resource(&self, prefix: &str) -> String {
        self.hex_id(prefix, 17)
    }

    /// `prefix-` + `digits` hex digits, for the few ids with other lengths.
    pub fn hex_id(&self, prefix: &str, digits: usize) -> String {
        let mut id = String::with_capacity(prefix.len() + 1 + digits);
        id.push_str(prefix);
        id.push('-');
        self.with_rng(|rng| {
            for _ in 0..digits {
                let nibble: u8 = rng.random_range(0..16);
                let _ = write!(id, "{nibble:x}"); // writing to a String cannot fail
            }
        });
        id
    }

    /// Run `f` with every id it makes derived from `seed` (the same seed, the same ids). For
    /// what a region has before its first write (the default VPC): a read of a region that
    /// holds no data builds it on a throwaway store, and the ids must not change when a write
    /// later builds it for real.
    pub fn derived<R>(&self, seed: &str, f: impl FnOnce() -> R) -> R {
        use sha2::Digest;
        struct Restore(Option<StdRng>);
        impl Drop for Restore {
            fn drop(&mut self) {
                DERIVED.set(self.0.take());
            }
        }
        let digest = sha2::Sha256::digest(seed.as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&digest);
        let _restore = Restore(DERIVED.replace(Some(StdRng::from_seed(bytes))));
        f()
    }

    /// A request id (a UUID, as AWS's query and JSON services send).
    pub fn request_id(&self) -> String {
        self.uuid()
    }

    /// An access key id or IAM unique id: `prefix` (`ASIA`, `AKIA`, `AIDA`, `AROA`, `AIPA`)
    /// followed by upper-case letters and digits up to `len` characters.
    pub fn access_key(&self, prefix: &str, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut id = String::with_capacity(len);
        id.push_str(prefix);
        self.with_rng(|rng| {
            while id.len() < len {
                id.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
            }
        });
        id
    }

    /// `len` random base64-alphabet characters: secret access keys (40) and session tokens.
    pub fn secret(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        self.with_rng(|rng| {
            (0..len)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect()
        })
    }

    /// A UUID, for resources AWS names by UUID (policy ids, activity ids, subscriptions).
    pub fn uuid(&self) -> String {
        match &self.seeded {
            None => uuid::Uuid::new_v4().to_string(),
            Some(_) => {
                let bytes: [u8; 16] = self.with_rng(|rng| {
                    let mut bytes = [0; 16];
                    rng.fill_bytes(&mut bytes);
                    bytes
                });
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string()
            }
        }
    }
}

/// `arn:aws:{service}:{region}:{account}:{resource}`.
pub fn arn(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{region}:{account}:{resource}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_repeat_for_a_seed() {
        let ids = IdGen::default();
        let a = ids.derived("123456789012/eu-west-1", || {
            (ids.resource("vpc"), ids.resource("sg"))
        });
        let b = ids.derived("123456789012/eu-west-1", || {
            (ids.resource("vpc"), ids.resource("sg"))
        });
        let c = ids.derived("123456789012/eu-west-2", || ids.resource("vpc"));
        assert_eq!(a, b);
        assert_ne!(a.0, c);
        assert_ne!(ids.resource("vpc"), ids.resource("vpc"));
    }

    #[test]
    fn resource_ids_have_aws_shapes() {
        let ids = IdGen::default();
        for prefix in ["i", "ami", "sg", "subnet", "vpc"] {
            let id = ids.resource(prefix);
            let (p, hex) = id.split_once('-').unwrap();
            assert_eq!(p, prefix);
            assert_eq!(hex.len(), 17);
            assert!(
                hex.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        assert_ne!(ids.resource("i"), ids.resource("i"));
        assert_eq!(ids.request_id().len(), 36);
        let key = ids.access_key("ASIA", 20);
        assert!(key.starts_with("ASIA") && key.len() == 20);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(ids.secret(40).len(), 40);
        let (a, b) = (IdGen::seeded(7), IdGen::seeded(7));
        assert_eq!(a.resource("i"), b.resource("i"));
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.dns_digits(), b.dns_digits());
        assert_ne!(a.uuid(), a.uuid());
        assert_eq!(
            arn(
                "autoscaling",
                "us-east-1",
                "123456789012",
                "autoScalingGroup:x"
            ),
            "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x"
        );
    }
}
