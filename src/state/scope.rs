//! Every store is scoped by (account, region): one account never sees another's resources.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// An account and a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    inner: Mutex<HashMap<Scope, T>>,
}

impl<T> Default for Scoped<T> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Default> Scoped<T> {
    fn lock(&self) -> MutexGuard<'_, HashMap<Scope, T>> {
        // Poisoning means a panic while holding plain data; the data is still consistent
        // enough to serve, and refusing every later request would be worse.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `f` on the scope's data, creating it empty on first use.
    pub fn with<R>(&self, scope: &Scope, f: impl FnOnce(&mut T) -> R) -> R {
        let mut map = self.lock();
        if !map.contains_key(scope) {
            map.insert(scope.clone(), T::default());
        }
        // Just inserted when absent.
        f(map.get_mut(scope).expect("scope present"))
    }

    /// Run `f` on every scope's data (controllers sweep all accounts and regions).
    pub fn for_each(&self, mut f: impl FnMut(&Scope, &mut T)) {
        for (scope, data) in self.lock().iter_mut() {
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
        self.lock().clear();
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
}
