//! Serde helpers for stored fields whose types serde cannot read back by itself.
//!
//! - `&'static str` codes (state reasons, health reasons): read back through an interner, so
//!   each distinct code is allocated once for the life of the process (codes are a small
//!   closed set; the interner refuses to grow past [`MAX_INTERNED`] so that a crafted snapshot
//!   cannot make it take memory without bound).
//! - Fields a wire shape hides (`#[serde(skip)]` on the output) but a snapshot must keep:
//!   `#[serde(skip_serializing_if = "persist::fields::on_wire", default)]` writes them only
//!   while [`persisting`] runs on this thread.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Deserializer};

thread_local! {
    static PERSISTING: Cell<bool> = const { Cell::new(false) };
}

/// `&'static str` under another name: serde's derive takes a field spelled `&'static str` as
/// borrowed from the input (and then reads only from `'static` input); through this alias
/// it reads with [`static_str`] from any input.
pub type StaticStr = &'static str;

/// Most distinct `&'static str` values a process interns.
pub const MAX_INTERNED: usize = 4096;

static INTERNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// The one `&'static str` equal to `s` (allocated on first sight).
pub fn intern(s: &str) -> Option<&'static str> {
    let mut set = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
    let set = set.get_or_insert_with(HashSet::new);
    if let Some(found) = set.get(s) {
        return Some(found);
    }
    if set.len() >= MAX_INTERNED || s.len() > 256 {
        return None;
    }
    // Leaked on purpose: bounded above, and the same codes recur for the process's life.
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    Some(leaked)
}

fn interned<E: serde::de::Error>(s: String) -> Result<&'static str, E> {
    intern(&s).ok_or_else(|| E::custom(format!("too many distinct codes (at {s:?})")))
}

/// Read a `&'static str` field.
pub fn static_str<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    interned(String::deserialize(d)?)
}

/// Read an `Option<&'static str>` field.
pub fn opt_static_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
    Option::<String>::deserialize(d)?.map(interned).transpose()
}

/// Run `f` (an encoding of state) with the fields wire shapes hide included.
pub fn persisting<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            PERSISTING.set(self.0);
        }
    }
    let _restore = Restore(PERSISTING.replace(true));
    f()
}

/// `skip_serializing_if` for fields only a snapshot carries: true (skip) on the wire.
pub fn on_wire<T>(_: &T) -> bool {
    !PERSISTING.get()
}

/// Whether a snapshot is being encoded on this thread (for hand-written `Serialize` impls).
pub fn is_persisting() -> bool {
    PERSISTING.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_gives_one_pointer_per_code() {
        let a = intern("Client.UserInitiatedShutdown").unwrap();
        let b = intern(&String::from("Client.UserInitiatedShutdown")).unwrap();
        assert!(std::ptr::eq(a, b));
        assert!(intern(&"x".repeat(300)).is_none());
    }

    #[test]
    fn hidden_fields_show_only_while_persisting() {
        assert!(on_wire(&1));
        assert!(!persisting(|| on_wire(&1)));
        assert!(on_wire(&1));
    }
}
