//! The web console: embedded static assets under `/_updraft/console/`, the redirect of a
//! browser's plain `GET /` there (and of `/_updraft/console/loop/` and `…/teacher/` to their
//! pages' hash routes), and the change stream `GET /_updraft/events`.
//!
//! The console is one more AWS client: its pages call the AWS APIs on this same port (signed
//! with SigV4 in the browser), so nothing here reads or writes AWS resources. Assets are
//! compiled into the binary (no build step, nothing to install), served with a strong ETag
//! and gzip-compressed once, on first use, when the browser accepts it.

pub mod events;

use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The body type the connection service answers with.
pub type ConsoleBody = BoxBody<Bytes, crate::dataplane::proxy::BoxError>;

/// Where the console lives.
pub const PREFIX: &str = "/_updraft/console/";

/// The loop page's own address (for the projector), sent on to the console's hash route: one
/// shell, one router, and a bookmark that reads as what it shows.
pub const LOOP: &str = "/_updraft/console/#/loop";

/// The teacher board's route (classroom mode), for `/_updraft/console/teacher/`.
pub const TEACHER: &str = "/_updraft/console/#/teacher";
/// The guided lab's address, sent on to its hash route the same way.
pub const LAB: &str = "/_updraft/console/#/lab";

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        /// Every embedded file: path under [`PREFIX`] and bytes.
        pub const ASSETS: &[(&str, &[u8])] = &[
            $(($path, include_bytes!(concat!("assets/", $path)))),*
        ];
    };
}

assets!(
    "index.html",
    "boot.js",
    "console.css",
    "api.js",
    "sigv4.js",
    "router.js",
    "i18n.js",
    "ko.js",
    "en.js",
    "dom.js",
    "chart.js",
    "events.js",
    "workshop.js",
    "app.js",
    "pages/instances.js",
    "pages/launch.js",
    "pages/amis.js",
    "pages/keypairs.js",
    "pages/secgroups.js",
    "pages/elb.js",
    "pages/elbv2.js",
    "pages/elbv2_rules.js",
    "pages/lc.js",
    "pages/asg.js",
    "pages/asg_tabs.js",
    "pages/lt.js",
    "pages/asg_wizard.js",
    "pages/alarms.js",
    "pages/alarm_form.js",
    "pages/sns.js",
    "pages/metric_data.js",
    "pages/metrics.js",
    "pages/dashboards.js",
    "pages/elb_settings.js",
    "pages/loop.js",
    "pages/teacher.js",
    "lab.js",
);

/// One asset ready to serve: raw and gzip bytes, ETag, content type.
struct Prepared {
    raw: Bytes,
    gzip: Bytes,
    etag: HeaderValue,
    content_type: &'static str,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    enc.write_all(raw).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

/// All assets, compressed and hashed once.
fn prepared() -> &'static [(&'static str, Prepared)] {
    static PREPARED: OnceLock<Vec<(&'static str, Prepared)>> = OnceLock::new();
    PREPARED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(path, raw)| {
                let digest = Sha256::digest(raw);
                let etag = format!("\"{}\"", hex::encode(&digest[..12]));
                let prepared = Prepared {
                    raw: Bytes::from_static(raw),
                    gzip: Bytes::from(gzip(raw)),
                    etag: HeaderValue::from_str(&etag).expect("hex is a valid header value"),
                    content_type: content_type(path),
                };
                (*path, prepared)
            })
            .collect()
    })
}

/// Total (raw, gzip) bytes of the embedded assets.
pub fn asset_sizes() -> (usize, usize) {
    prepared()
        .iter()
        .fold((0, 0), |(r, g), (_, p)| (r + p.raw.len(), g + p.gzip.len()))
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<ConsoleBody> {
    let mut resp = Response::new(
        Full::new(body.into())
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp
}

fn accepts(headers: &HeaderMap, name: &header::HeaderName, what: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|part| {
                let mut it = part.split(';');
                let token = it.next().unwrap_or("").trim();
                // `gzip;q=0` refuses it.
                let refused = it.any(|p| p.trim().replace(' ', "") == "q=0");
                token.eq_ignore_ascii_case(what) && !refused
            })
        })
}

/// Answer a console, redirect or event-stream request; `None` when `req` is none of those
/// (API calls and the rest of the admin API go on as before).
pub fn handle<B>(state: &Arc<AppState>, req: &Request<B>) -> Option<Response<ConsoleBody>> {
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = req.uri().path();
    if path == "/" {
        return redirect_browser(req);
    }
    if path == "/_updraft/events" {
        return Some(events::stream(state, req.uri().query()));
    }
    if path == "/_updraft/console" {
        return Some(see_other(PREFIX));
    }
    let rel = path.strip_prefix(PREFIX)?;
    if rel == "loop" || rel == "loop/" {
        return Some(see_other(LOOP));
    }
    if rel == "teacher" || rel == "teacher/" {
        return Some(see_other(TEACHER));
    }
    if rel == "lab" || rel == "lab/" {
        return Some(see_other(LAB));
    }
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let Some((_, asset)) = prepared().iter().find(|(p, _)| *p == rel) else {
        let mut resp = full(StatusCode::NOT_FOUND, "not found\n");
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return Some(resp);
    };
    Some(serve(req.headers(), method, asset))
}

fn serve(headers: &HeaderMap, method: &Method, asset: &Prepared) -> Response<ConsoleBody> {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == "*" || tag.trim() == asset.etag)
        });
    let gz = accepts(headers, &header::ACCEPT_ENCODING, "gzip");
    let mut resp = if not_modified {
        full(StatusCode::NOT_MODIFIED, Bytes::new())
    } else {
        let body = if gz { &asset.gzip } else { &asset.raw };
        let body = if method == Method::HEAD {
            Bytes::new()
        } else {
            body.clone()
        };
        full(StatusCode::OK, body)
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, asset.etag.clone());
    // Revalidate every time: a 304 costs one round trip on localhost, and a new binary's
    // assets are never mixed with an old one's.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if !not_modified && gz {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if asset.content_type.starts_with("text/html") {
        // Scripts only from this origin, no inline ones: a name that slips into markup can't run.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'",
            ),
        );
    }
    resp
}

fn see_other(location: &'static str) -> Response<ConsoleBody> {
    let mut resp = full(StatusCode::FOUND, Bytes::new());
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    resp
}

/// A browser opening `http://localhost:4566/` (HTML wanted, no `Action`, no signature) goes to
/// the console; every other `GET /` is an API call and stays one.
fn redirect_browser<B>(req: &Request<B>) -> Option<Response<ConsoleBody>> {
    let headers = req.headers();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let query = req.uri().query().unwrap_or("");
    let has_action =
        form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k.eq_ignore_ascii_case("Action"));
    let api_like = headers.contains_key(header::AUTHORIZATION)
        || headers.contains_key("x-amz-target")
        || query.contains("X-Amz-");
    (wants_html && !has_action && !api_like).then(|| see_other(PREFIX))
}

#[cfg(test)]
mod tests;
