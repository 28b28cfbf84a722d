//! Access keys Updraft itself hands out: STS temporary credentials (`ASIA…` with a session
//! token and an expiry on the virtual clock) and IAM users' long-term keys (`AKIA…`).
//!
//! The request path consults this registry twice: to find the account a key acts in (a role's
//! temporary keys act in the role's account, whatever their shape) and, under
//! `--verify-signatures`, to find the secret, check the session token and refuse expired keys.
//! Keys given with `--credentials` stay in the configuration; this holds only issued ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Who a key belongs to, as GetCallerIdentity reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Principal {
    /// The account's root user.
    Root,
    /// An IAM user (`arn:aws:iam::ACCT:user/PATHNAME`), with its unique id (`AIDA…`).
    User {
        /// The user's ARN.
        arn: String,
        /// The user's unique id.
        user_id: String,
    },
    /// A role session: `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`, user id
    /// `ROLEID:SESSION`.
    AssumedRole {
        /// The role's name (last element of its ARN).
        role_name: String,
        /// The role's unique id (`AROA…`).
        role_id: String,
        /// The session name given to AssumeRole.
        session: String,
    },
}

/// One issued access key.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IssuedKey {
    /// The secret access key.
    pub secret: String,
    /// The session token temporary credentials must present (`X-Amz-Security-Token`).
    pub session_token: Option<String>,
    /// The account the key acts in.
    pub account: String,
    /// Virtual epoch seconds after which the key is refused (`ExpiredToken`).
    pub expires: Option<f64>,
    /// Who the key belongs to.
    pub principal: Principal,
}

/// Issued keys by access key id.
#[derive(Debug, Default)]
pub struct KeyRegistry {
    keys: Mutex<HashMap<String, IssuedKey>>,
    /// Bumped by every change (the state writer snapshots when it moved).
    generation: AtomicU64,
}

impl KeyRegistry {
    /// How many changes there were.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, IssuedKey>> {
        // Plain data: a panic elsewhere leaves it consistent enough to keep serving.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remember a key.
    pub fn insert(&self, access_key_id: String, key: IssuedKey) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(access_key_id, key);
    }

    /// A copy of a key's record.
    pub fn get(&self, access_key_id: &str) -> Option<IssuedKey> {
        self.lock().get(access_key_id).cloned()
    }

    /// The account a key acts in, when Updraft issued it.
    pub fn account(&self, access_key_id: &str) -> Option<String> {
        self.lock().get(access_key_id).map(|k| k.account.clone())
    }

    /// Forget a key (DeleteAccessKey); whether it existed.
    pub fn remove(&self, access_key_id: &str) -> bool {
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.lock().remove(access_key_id).is_some()
    }

    /// Every key with its id (for a snapshot).
    pub fn all(&self) -> Vec<(String, IssuedKey)> {
        self.lock()
            .iter()
            .map(|(id, k)| (id.clone(), k.clone()))
            .collect()
    }

    /// Forget every key (admin reset).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_carry_their_account() {
        let keys = KeyRegistry::default();
        keys.insert(
            "ASIAEXAMPLE".into(),
            IssuedKey {
                secret: "s".into(),
                session_token: Some("t".into()),
                account: "111111111111".into(),
                expires: Some(10.0),
                principal: Principal::Root,
            },
        );
        assert_eq!(keys.account("ASIAEXAMPLE").as_deref(), Some("111111111111"));
        assert_eq!(keys.account("nope"), None);
        assert!(keys.remove("ASIAEXAMPLE"));
        keys.clear();
        assert!(keys.get("ASIAEXAMPLE").is_none());
    }
}
