//! When each account last wrote through the API, in real time: the teacher board's "last
//! activity" and its "stuck" highlight. Real time, not the virtual clock: stuck is about people,
//! and at `--time-scale 60` ten virtual minutes pass in ten seconds.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// Last write per account, and when the server started (an account that never wrote has been
/// idle since then).
#[derive(Debug)]
pub struct Activity {
    started: Instant,
    last: Mutex<HashMap<String, Instant>>,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            last: Mutex::new(HashMap::new()),
        }
    }
}

impl Activity {
    /// An API write by `account` just happened.
    pub fn record(&self, account: &str) {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match last.get_mut(account) {
            Some(at) => *at = now,
            None => {
                last.insert(account.to_owned(), now);
            }
        }
    }

    /// Whole seconds since `account` last wrote (or since the start), and whether it ever did.
    pub fn idle_seconds(&self, account: &str) -> (u64, bool) {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match last.get(account) {
            Some(at) => (at.elapsed().as_secs(), true),
            None => (self.started.elapsed().as_secs(), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_that_wrote_is_known() {
        let a = Activity::default();
        assert!(!a.idle_seconds("100000000001").1);
        a.record("100000000001");
        a.record("100000000001");
        assert_eq!(a.idle_seconds("100000000001"), (0, true));
    }
}
