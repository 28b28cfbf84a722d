//! Unit tests of the console's serving rules and of its static assets' invariants (the same
//! keys in both catalogues, every used key defined, no `innerHTML`, size and file limits).

use std::collections::BTreeSet;

use http::{Request, StatusCode, header};

use super::*;
use crate::config::Config;

fn text(path: &str) -> &'static str {
    let (_, bytes) = ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .unwrap_or_else(|| panic!("{path} is not embedded"));
    std::str::from_utf8(bytes).expect("assets are UTF-8")
}

/// The keys of a catalogue: lines `  "key": "text",`.
fn catalogue(path: &str) -> BTreeSet<String> {
    text(path)
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split_once("\":").map(|(k, _)| k.to_owned()))
        .collect()
}

#[test]
fn both_catalogues_have_the_same_keys() {
    let ko = catalogue("ko.js");
    let en = catalogue("en.js");
    assert!(en.len() > 200, "catalogue parsed: {} keys", en.len());
    let only_en: Vec<_> = en.difference(&ko).collect();
    let only_ko: Vec<_> = ko.difference(&en).collect();
    assert!(
        only_en.is_empty() && only_ko.is_empty(),
        "missing in ko.js: {only_en:?}; missing in en.js: {only_ko:?}"
    );
}

#[test]
fn every_literal_key_used_by_a_module_is_defined() {
    let en = catalogue("en.js");
    let mut missing = Vec::new();
    for (path, _) in ASSETS.iter().filter(|(p, _)| p.ends_with(".js")) {
        let src = text(path);
        for (at, _) in src.match_indices("t(\"") {
            // `t(` itself, not the end of another name (`import(`).
            if src[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let key = src[at + 3..].split('"').next().unwrap_or("");
            if !en.contains(key) {
                missing.push(format!("{path}: {key}"));
            }
        }
    }
    assert!(missing.is_empty(), "undefined keys: {missing:?}");
}

#[test]
fn no_module_writes_markup_from_strings() {
    for (path, _) in ASSETS.iter().filter(|(p, _)| p.ends_with(".js")) {
        let src = text(path);
        for banned in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!src.contains(banned), "{path} uses {banned}");
        }
    }
}

#[test]
fn assets_are_small_and_every_file_is_embedded() {
    let (raw, gz) = asset_sizes();
    assert!(raw < 300 * 1024, "assets are {raw} bytes");
    assert!(gz < raw / 2, "gzip {gz} of {raw}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/admin/console/assets");
    let mut on_disk = Vec::new();
    for sub in ["", "pages"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                let name = entry.file_name().into_string().unwrap();
                on_disk.push(if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                });
            }
        }
    }
    for f in &on_disk {
        assert!(ASSETS.iter().any(|(p, _)| p == f), "{f} is not in ASSETS");
    }
    for (path, _) in ASSETS.iter().filter(|(p, _)| p.starts_with("pages/")) {
        let lines = text(path).lines().count();
        assert!(lines < 400, "{path} has {lines} lines");
    }
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<()> {
    let mut b = Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap()
}

#[tokio::test]
async fn assets_have_etags_gzip_and_304() {
    let state = AppState::new(Config::default());
    let resp = handle(
        &state,
        &get("/_updraft/console/", &[("accept-encoding", "gzip, br")]),
    )
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let etag = resp.headers()[header::ETAG].to_str().unwrap().to_owned();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let mut html = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut html).unwrap();
    assert!(html.contains("app.js"));

    let again = handle(
        &state,
        &get("/_updraft/console/index.html", &[("if-none-match", &etag)]),
    )
    .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let plain = handle(
        &state,
        &get(
            "/_updraft/console/app.js",
            &[("accept-encoding", "gzip;q=0")],
        ),
    )
    .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert!(
        plain.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let missing = handle(&state, &get("/_updraft/console/nope.js", &[])).unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_a_browser_asking_for_html_is_redirected() {
    let state = AppState::new(Config::default());
    let browser = handle(
        &state,
        &get("/", &[("accept", "text/html,application/xhtml+xml")]),
    )
    .unwrap();
    assert_eq!(browser.status(), StatusCode::FOUND);
    assert_eq!(browser.headers()[header::LOCATION], PREFIX);
    // API calls by GET keep working, whatever they accept.
    assert!(
        handle(
            &state,
            &get(
                "/?Action=DescribeRegions&Version=2016-11-15",
                &[("accept", "text/html")]
            )
        )
        .is_none()
    );
    assert!(handle(&state, &get("/", &[("accept", "*/*")])).is_none());
    assert!(
        handle(
            &state,
            &get(
                "/",
                &[
                    ("accept", "text/html"),
                    ("authorization", "AWS4-HMAC-SHA256 x")
                ]
            )
        )
        .is_none()
    );
    assert!(handle(&state, &get("/_updraft/health", &[])).is_none());
}
