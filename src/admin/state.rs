//! `GET /_updraft/state` and `POST /_updraft/state`: snapshots for CI fixtures and workshops,
//! in the state directory's format ([`crate::state::persist::format`]).
//!
//! - `GET /_updraft/state` downloads the whole state; `?account=123456789012` only that
//!   account's resources and issued keys (the clock comes along either way).
//! - `POST /_updraft/state` with a snapshot as the body replaces the whole state;
//!   `?mode=merge` replaces only the accounts the snapshot holds and keeps the others. The
//!   clock moves forward to the snapshot's time if that is later (it never runs back).
//!   A snapshot that cannot be read is refused with 400 and changes nothing.
//!
//! Both need the admin token when one is set (they read and change every account).

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use serde_json::json;

use crate::state::AppState;
use crate::state::persist::{self, Mode, format};

/// The endpoint's path.
pub const PATH: &str = "/_updraft/state";
/// The largest snapshot `POST` accepts (bigger than `--max-body-bytes`, which is for API
/// calls; only callers the admin rules admit get this far).
pub const MAX_SNAPSHOT_BYTES: usize = 1 << 30;

/// Answer a request to [`PATH`], or `None` for another method.
pub fn handle(
    state: &AppState,
    method: &Method,
    query: Option<&str>,
    body: &[u8],
) -> Option<Response<Full<Bytes>>> {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match *method {
        Method::GET => Some(download(state, param("account"))),
        Method::POST => Some(match param("mode").unwrap_or("replace") {
            "replace" => load(state, body, Mode::Replace),
            "merge" => load(state, body, Mode::Merge),
            other => json_response(
                StatusCode::BAD_REQUEST,
                &json!({"error": format!("mode must be replace or merge, got {other:?}")}),
            ),
        }),
        _ => None,
    }
}

fn download(state: &AppState, account: Option<&str>) -> Response<Full<Bytes>> {
    if let Some(a) = account
        && !(a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
    {
        let error = json!({"error": format!("account must be 12 digits, got {a:?}")});
        return json_response(StatusCode::BAD_REQUEST, &error);
    }
    let bytes = format::encode(&persist::capture(state, account));
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        http::header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"updraft-state.bin\""),
    );
    resp
}

fn load(state: &AppState, body: &[u8], mode: Mode) -> Response<Full<Bytes>> {
    match format::decode(body) {
        Ok(snapshot) => {
            let scopes = snapshot.scopes.len();
            persist::restore(state, snapshot, mode);
            tracing::info!(scopes, ?mode, "state snapshot loaded");
            json_response(
                StatusCode::OK,
                &json!({"status": "loaded", "mode": if mode == Mode::Merge { "merge" } else { "replace" }, "scopes": scopes}),
            )
        }
        Err(problem) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": format!("the snapshot cannot be loaded: {problem}")}),
        ),
    }
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
