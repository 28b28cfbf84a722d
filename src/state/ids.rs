//! AWS-shaped identifiers: resource ids, request ids and ARNs.

use std::fmt::Write;

use std::cell::RefCell;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

thread_local! {
    /// The generator of [`IdGen::derived`] while it runs on this thread.
    static DERIVED: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Makes every id in Updraft, so that tests can reason about their shapes in one place.
#[derive(Debug, Default)]
pub struct IdGen;

impl IdGen {
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
        DERIVED.with_borrow_mut(|derived| {
            let mut random = rand::rng();
            let rng: &mut dyn rand::RngCore = match derived {
                Some(d) => d,
                None => &mut random,
            };
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
        uuid::Uuid::new_v4().to_string()
    }

    /// An access key id or IAM unique id: `prefix` (`ASIA`, `AKIA`, `AIDA`, `AROA`, `AIPA`)
    /// followed by upper-case letters and digits up to `len` characters.
    pub fn access_key(&self, prefix: &str, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut rng = rand::rng();
        let mut id = String::with_capacity(len);
        id.push_str(prefix);
        while id.len() < len {
            id.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
        }
        id
    }

    /// `len` random base64-alphabet characters: secret access keys (40) and session tokens.
    pub fn secret(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut rng = rand::rng();
        (0..len)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect()
    }

    /// A UUID, for resources AWS names by UUID (policy ids, activity ids, subscriptions).
    pub fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
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
        let ids = IdGen;
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
        let ids = IdGen;
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
