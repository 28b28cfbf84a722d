//! [`Shared`]: a stored record behind a reference count, copied on write.
//!
//! A snapshot copies the stores under their lock ([`super::persist::capture`]). With the large
//! collections (instances, groups, activities, tags) holding `Shared` records, that copy
//! clones pointers, not records: 10,000 instances cost 10,000 reference-count increments
//! instead of 10,000 deep copies. A write through [`DerefMut`] copies the one record it
//! changes if a snapshot still holds it ([`Arc::make_mut`]), and only then.
//!
//! Reading and writing fields look as with the plain record (`instance.state = …` works on a
//! `&mut Shared<Instance>`); serde sees the record itself, so the wire shapes and the
//! snapshot format do not change.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A record shared between the stores and the snapshots taken of them.
#[derive(Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    /// Share `value`.
    pub fn new(value: T) -> Self {
        Self(Arc::new(value))
    }
}

impl<T: Clone> Shared<T> {
    /// The record itself (copied if a snapshot still holds it).
    pub fn into_inner(self) -> T {
        Arc::unwrap_or_clone(self.0)
    }
}

impl<T> Clone for Shared<T> {
    /// Another pointer to the same record (what a snapshot takes).
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T> AsRef<T> for Shared<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: serde::Serialize> serde::Serialize for Shared<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Shared<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_until_one_side_writes() {
        let mut stored = Shared::new(vec![1, 2]);
        let snapshot = stored.clone();
        assert!(std::ptr::eq(&*stored, &*snapshot));
        stored.push(3);
        assert_eq!(*snapshot, vec![1, 2]);
        assert_eq!(*stored, vec![1, 2, 3]);
        // Alone again: writes go in place.
        let before: *const Vec<i32> = &*stored;
        stored.push(4);
        assert!(std::ptr::eq(before, &*stored));
    }

    #[test]
    fn serde_sees_the_record() {
        let s = Shared::new(("a".to_owned(), 1));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"["a",1]"#);
        let back: Shared<(String, i32)> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
