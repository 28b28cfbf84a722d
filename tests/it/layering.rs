//! Folders point one way: services know state, not the wire, and the data plane and the
//! services do not import each other. Reads the sources; run it with
//! `cargo test --locked --test it -- layering`.
//!
//! - A module under `src/services` may use from `crate::protocol` only the output and model
//!   types ([`ALLOWED_PROTOCOL`]): `sink` (the output sink), `output` (typed outputs,
//!   `Timestamp`), `model`/`models` (the service models).
//! - `src/dataplane` must not use `crate::services`, nor `src/services` use `crate::dataplane`.
//!   What both need lives below them in `src/lb` (load-balancer names, the resolver's request
//!   and answer types, the `Resolver` hooks the services register for the data plane), and
//!   `src/lb` uses neither. Time text (ISO 8601) is `crate::iso8601`, not `protocol`'s.
//!
//! [`KNOWN`] lists what breaks these rules today. It may only shrink: a listed import that is
//! gone fails the test too, so whoever removes one also removes its line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What `src/services` may use from `crate::protocol`.
const ALLOWED_PROTOCOL: &[&str] = &["sink", "output", "model", "models"];

/// Today's exceptions: (file, what it imports). Only ever remove lines; none are left.
const KNOWN: &[(&str, &str)] = &[];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segments after `prefix` (`crate::protocol::timestamp::x` → `timestamp`; a
/// braced group gives each of its first segments; `prefix` alone gives `*`).
fn imports(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        rest = &rest[at + prefix.len()..];
        let Some(after) = rest.strip_prefix("::") else {
            if !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                found.insert("*".to_owned());
            }
            continue;
        };
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if !first.is_empty() {
                    found.insert(first.to_owned());
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    // `use crate::{protocol, …}` imports the whole module.
    let bare = prefix.rsplit("::").next().unwrap_or(prefix);
    for group in text.split("crate::{").skip(1) {
        let end = group.find('}').unwrap_or(group.len());
        if group[..end].split(',').any(|item| item.trim() == bare) {
            found.insert("*".to_owned());
        }
    }
    found
}

#[test]
fn services_and_dataplane_point_one_way() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut violations: BTreeSet<(String, String)> = BTreeSet::new();
    for (folder, prefix, allowed) in [
        ("src/services", "crate::protocol", ALLOWED_PROTOCOL),
        ("src/services", "crate::dataplane", &[][..]),
        ("src/dataplane", "crate::services", &[][..]),
        ("src/lb", "crate::services", &[][..]),
        ("src/lb", "crate::dataplane", &[][..]),
    ] {
        let mut files = Vec::new();
        sources(&root.join(folder), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable source");
            let name = file
                .strip_prefix(&root)
                .expect("under the crate")
                .to_string_lossy()
                .replace('\\', "/");
            let module = prefix.trim_start_matches("crate::");
            for import in imports(&text, prefix) {
                if !allowed.contains(&import.as_str()) {
                    violations.insert((name.clone(), format!("{module}::{import}")));
                }
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(f, i)| ((*f).to_owned(), (*i).to_owned()))
        .collect();
    let new: Vec<_> = violations.difference(&known).collect();
    let gone: Vec<_> = known.difference(&violations).collect();
    assert!(
        new.is_empty(),
        "imports against the layering (see this test's docs): {new:#?}"
    );
    assert!(
        gone.is_empty(),
        "these known exceptions are gone: remove them from KNOWN: {gone:#?}"
    );
}

#[test]
fn the_import_reader_finds_each_form() {
    let text = "use crate::protocol::timestamp::x;\nuse crate::protocol::{sink::OutputSink, model};\nuse crate::{error, protocol};\nlet _ = crate::protocol::json::f();";
    let found: Vec<String> = imports(text, "crate::protocol").into_iter().collect();
    assert_eq!(found, ["*", "json", "model", "sink", "timestamp"]);
    assert!(imports("use crate::protocols::x;", "crate::protocol").is_empty());
}
