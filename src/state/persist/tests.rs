//! Snapshot round trips and refusals, on state built directly.

use super::format::{self, FormatError};
use super::*;
use crate::config::Config;
use crate::services::cloudwatch::stats::Agg;
use crate::services::cloudwatch::store::MetricKey;

fn world() -> std::sync::Arc<AppState> {
    let state = AppState::deterministic(Config::default(), 1_700_000_000.0);
    let scope = Scope::new("123456789012", "eu-west-1");
    state.stores.with(&scope, |s| {
        // More series than one slice of the copy holds.
        for host in 0..150 {
            let key = MetricKey::new("App", "Latency", vec![("Host".into(), format!("h{host}"))]);
            for i in 0..40 {
                let t = 1_700_000_000.0 - 60.0 * f64::from(i);
                let v = f64::from(i) * 0.1 + 1e-9 * f64::from(host);
                let agg = Agg::value(v);
                s.cloudwatch
                    .metrics
                    .put(&key, "Seconds", t, &agg, false, 1_700_000_000.0);
            }
        }
        s.ec2
            .set_tags("i-0123", [("Name".to_owned(), "web".to_owned())]);
    });
    state
}

fn debug_of(state: &AppState) -> String {
    let scope = Scope::new("123456789012", "eu-west-1");
    state
        .stores
        .with(&scope, |s| format!("{:?}", s.cloudwatch.metrics))
}

#[test]
fn a_snapshot_round_trips_bit_for_bit() {
    let state = world();
    let bytes = format::encode(&capture(&state, None));
    let body = format::decode(&bytes).unwrap();
    let other = AppState::deterministic(Config::default(), 0.0);
    restore(&other, body, Mode::Replace);
    assert!(debug_of(&state).contains("h149"));
    assert_eq!(debug_of(&state), debug_of(&other));
    let again = format::encode(&capture(&other, None));
    let (h1, b1) = format::header(&bytes).unwrap();
    let (h2, b2) = format::header(&again).unwrap();
    assert_eq!((h1.format, b1.len()), (h2.format, b2.len()));
    let scope = Scope::new("123456789012", "eu-west-1");
    let tagged = other
        .stores
        .with(&scope, |s| s.ec2.ids_tagged("Name", "web").is_some());
    assert!(tagged, "the tag index is rebuilt");
    assert_eq!(
        other.clock.now(),
        state.clock.now(),
        "the clock moved forward to the snapshot's"
    );
}

#[test]
fn one_account_only_holds_that_account() {
    let state = world();
    state
        .stores
        .with(&Scope::new("999999999999", "us-east-1"), |s| {
            s.ec2.set_tags("i-9", [("k".to_owned(), "v".to_owned())]);
        });
    let body = capture(&state, Some("999999999999"));
    assert_eq!(body.scopes.len(), 1);
    assert_eq!(body.scopes[0].0.account, "999999999999");
    let other = world();
    restore(&other, body, Mode::Merge);
    assert_eq!(
        other.stores.scopes().len(),
        2,
        "merge keeps the other account"
    );
}

#[test]
fn damaged_truncated_foreign_and_newer_files_are_refused() {
    let bytes = format::encode(&capture(&world(), None));
    let mut flipped = bytes.clone();
    let last = flipped.len() - 10;
    flipped[last] ^= 0x40;
    assert!(
        matches!(format::decode(&flipped), Err(FormatError::Corrupt(m)) if m.contains("checksum"))
    );
    let truncated = &bytes[..bytes.len() - 100];
    assert!(
        matches!(format::decode(truncated), Err(FormatError::Corrupt(m)) if m.contains("truncated"))
    );
    assert!(matches!(
        format::decode(b"{\"not\":1}"),
        Err(FormatError::NotSnapshot)
    ));
    let text = String::from_utf8_lossy(&bytes[..200]).into_owned();
    let ours = format!("\"format\":{}", format::FORMAT);
    let newer = text.replacen(&ours, "\"format\":99", 1);
    let mut future = newer.into_bytes();
    future.truncate(200);
    future.extend_from_slice(&bytes[200..]);
    let err = format::decode(&future).unwrap_err();
    assert!(
        matches!(err, FormatError::Newer { format: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer Updraft"), "{err}");
}

/// Rewrite a format-2 body as format 1 wrote it: each unit's tiers as maps of buckets.
fn as_format_1(value: ciborium::Value) -> ciborium::Value {
    use ciborium::Value;
    match value {
        Value::Map(entries) => {
            if let [(Value::Text(k), Value::Bytes(b))] = entries.as_slice()
                && k == "packed"
            {
                let tiers = crate::services::cloudwatch::packed::unpack(b).unwrap();
                let names = ["sec", "min", "five", "hour"];
                return Value::Map(
                    names
                        .iter()
                        .zip(&tiers)
                        .map(|(n, t)| (Value::Text((*n).to_owned()), Value::serialized(t).unwrap()))
                        .collect(),
                );
            }
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (as_format_1(k), as_format_1(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(as_format_1).collect()),
        other => other,
    }
}

#[test]
fn a_format_1_file_is_still_read() {
    let state = world();
    let bytes = format::encode(&capture(&state, None));
    let (header, body) = format::header(&bytes).unwrap();
    let value: ciborium::Value = ciborium::from_reader(body).unwrap();
    let mut old_body = Vec::new();
    ciborium::into_writer(&as_format_1(value), &mut old_body).unwrap();
    assert!(
        old_body.len() > body.len() * 2,
        "format 2 packs metric data"
    );
    let old_header = format::Header {
        format: 1,
        body_bytes: old_body.len() as u64,
        body_crc32: crc32fast::hash(&old_body),
        ..header
    };
    let mut old = format::MAGIC.to_vec();
    old.extend_from_slice(serde_json::to_string(&old_header).unwrap().as_bytes());
    old.push(b'\n');
    old.extend_from_slice(&old_body);
    let other = AppState::deterministic(Config::default(), 0.0);
    restore(&other, format::decode(&old).unwrap(), Mode::Replace);
    assert_eq!(debug_of(&state), debug_of(&other));
}
