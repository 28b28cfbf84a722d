//! Every store is scoped by (account, region): one account never sees another's resources.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::fasthash::FastMap;

thread_local! {
    /// Set while a read-only operation runs on this thread (see [`reading`]).
    static READING: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` (a read-only operation) so that looking up a scope that holds no data does not
/// create it: the lookup gets a throwaway empty store instead. Requests that only read, with
/// made-up account ids, then cost nothing that stays: a scope's data exists only after a
/// write. (Runs synchronously on the calling thread, as every handler does.)
pub fn reading<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            READING.set(self.0);
        }
    }
    let _restore = Restore(READING.replace(true));
    f()
}

/// An account and a region.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Scope {
    /// 12-digit account id.
    pub account: String,
    /// Region name (`us-east-1`).
    pub region: String,
}

impl Scope {
    /// A scope from its parts.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            region: region.into(),
        }
    }
}

/// Plain data per scope behind one short synchronous lock. Never hold it across `.await`:
/// copy out, drop the guard, then do slow work.
#[derive(Debug)]
pub struct Scoped<T> {
    inner: Mutex<FastMap<Scope, T>>,
    /// Bumped by every access that may have changed data (not by [`reading`] ones), always
    /// while it holds the lock: the state writer snapshots only when it moved, and whoever
    /// holds the lock and reads it knows that no change since is pending, so data derived
    /// from the stores under the lock stays valid while it stays put (the data plane's
    /// Classic route cache, the ALB route index).
    generation: AtomicU64,
}

impl<T> Default for Scoped<T> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(FastMap::default()),
            generation: AtomicU64::new(0),
        }
    }
}

impl<T: Default> Scoped<T> {
    /// How many times the data may have changed (see the field).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn touched(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, FastMap<Scope, T>> {
        // Poisoning means a panic while holding plain data; the data is still consistent
        // enough to serve, and refusing every later request would be worse.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `f` on the scope's data, creating it empty on first use (inside [`reading`], an
    /// absent scope gets a throwaway empty value instead and stays absent).
    pub fn with<R>(&self, scope: &Scope, f: impl FnOnce(&mut T) -> R) -> R {
        let mut map = self.lock();
        if !READING.get() {
            self.touched();
        }
        if let Some(data) = map.get_mut(scope) {
            return f(data);
        }
        if READING.get() {
            drop(map);
            return f(&mut T::default());
        }
        f(map.entry(scope.clone()).or_default())
    }

    /// Run `f` on the data of a scope that holds some (`None` otherwise, and nothing is
    /// created), without counting as a change: for the load balancers' data plane, which per
    /// request only moves round-robin cursors and live counters. Counting it would make the
    /// state writer capture and write a snapshot every second while traffic flows.
    pub fn with_existing<R>(&self, scope: &Scope, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.lock().get_mut(scope).map(f)
    }

    /// How many scopes hold data.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no scope holds data.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Run `f` on every scope's data (controllers sweep all accounts and regions).
    pub fn for_each(&self, mut f: impl FnMut(&Scope, &mut T)) {
        let mut map = self.lock();
        self.touched();
        for (scope, data) in map.iter_mut() {
            f(scope, data);
        }
    }

    /// The scopes that hold data.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = self.lock().keys().cloned().collect();
        scopes.sort();
        scopes
    }

    /// Forget everything.
    pub fn clear(&self) {
        let mut map = self.lock();
        self.touched();
        map.clear();
    }

    /// Keep only the scopes `keep` says yes to.
    pub fn retain(&self, mut keep: impl FnMut(&Scope) -> bool) {
        let mut map = self.lock();
        self.touched();
        map.retain(|scope, _| keep(scope));
    }

    /// Put these scopes' data in, replacing what they held.
    pub fn insert_all(&self, data: impl IntoIterator<Item = (Scope, T)>) {
        let mut map = self.lock();
        self.touched();
        map.extend(data);
    }
}

impl<T: Default + Clone> Scoped<T> {
    /// A copy of one scope's data (for a snapshot), taken under the lock.
    pub fn cloned(&self, scope: &Scope) -> Option<T> {
        self.lock().get(scope).cloned()
    }

    /// `f` on one scope's data if it exists, for copying out of it: neither creates the scope
    /// nor counts as a change (`f` must leave the data as it found it).
    pub fn cloned_with<R>(&self, scope: &Scope, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.lock().get_mut(scope).map(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_isolated_and_reset_clears_them() {
        let store: Scoped<Vec<&str>> = Scoped::default();
        let a = Scope::new("111111111111", "us-east-1");
        let b = Scope::new("222222222222", "us-east-1");
        let c = Scope::new("111111111111", "eu-west-1");
        store.with(&a, |v| v.push("x"));
        assert_eq!(store.with(&b, |v| v.len()), 0);
        assert_eq!(store.with(&c, |v| v.len()), 0);
        assert_eq!(store.with(&a, |v| v.clone()), vec!["x"]);
        assert_eq!(store.scopes().len(), 3);
        store.clear();
        assert!(store.scopes().is_empty());
        assert_eq!(store.with(&a, |v| v.len()), 0);
    }

    #[test]
    fn a_read_of_an_absent_scope_creates_nothing() {
        let store: Scoped<Vec<&str>> = Scoped::default();
        let a = Scope::new("111111111111", "us-east-1");
        // Even a mutation inside a read stays on the throwaway value.
        let seen = reading(|| {
            store.with(&a, |v| {
                v.push("x");
                v.len()
            })
        });
        assert_eq!(seen, 1);
        assert!(store.is_empty());
        store.with(&a, |v| v.push("y"));
        assert_eq!(reading(|| store.with(&a, |v| v.clone())), vec!["y"]);
        assert_eq!(store.len(), 1);
    }
}
