//! The admin API under `/_updraft/` (JSON), plus the LocalStack and moto paths that existing
//! CI recipes already call.
//!
//! - `GET /_updraft/health` (and `GET /_localstack/health` in LocalStack's shape)
//! - `POST /_updraft/reset` (and `POST /moto-api/reset`)
//! - `GET /_updraft/clock`, `POST /_updraft/clock` with `{"advance_seconds": N}` and/or `{"scale": N}`
//! - `POST /_updraft/instances/{instance_id}/stress` with `{"cpu_percent": N}` (0 clears): extra
//!   CPU load on an instance, the stand-in for `yes > /dev/null`
//! - `GET /_updraft/state` (`?account=`), `POST /_updraft/state` (`?mode=merge`): snapshots
//!   (see `admin::state`)
//! - `/_updraft/sns/…`: the SNS inbox, confirmation and unsubscribe links, signing certificate
//!   (see `admin::sns`)
//!
//! With `--admin-token`, what changes the world or reads other accounts' data needs the token
//! (see `admin::auth`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::protocol::models;
use crate::services;
use crate::state::AppState;

pub mod auth;
pub mod cli;
pub mod console;
mod sns;
pub mod state;

/// Whether `path` is under one of the admin prefixes.
fn is_admin_path(path: &str) -> bool {
    path.starts_with("/_updraft")
        || path.starts_with("/_localstack")
        || path.starts_with("/moto-api")
}

/// Answer an admin request, or `None` when the path is not an admin path.
pub fn handle(
    state: &AppState,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Response<Full<Bytes>>> {
    let path = path.trim_end_matches('/');
    if is_admin_path(path)
        && let Err(refusal) = auth::check(state.config.admin_token(), method, path, headers)
    {
        tracing::info!(method = %method, path, ?refusal, "admin request refused");
        return Some(refused(refusal));
    }
    if path.starts_with("/_updraft/sns/")
        && let Some((status, content_type, body)) = sns::handle(state, method.as_str(), path, query)
    {
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        return Some(resp);
    }
    if path == state::PATH
        && let Some(resp) = state::handle(state, method, query, body)
    {
        return Some(resp);
    }
    let (status, value) = match (method, path) {
        (&Method::GET | &Method::HEAD, "/_updraft/health") => (StatusCode::OK, health()),
        (&Method::GET | &Method::HEAD, "/_localstack/health") => {
            (StatusCode::OK, localstack_health())
        }
        (&Method::POST, "/_updraft/reset" | "/moto-api/reset" | "/_localstack/state/reset") => {
            state.reset();
            tracing::info!("state reset");
            (StatusCode::OK, json!({"status": "reset"}))
        }
        (&Method::GET, "/_updraft/clock") => (StatusCode::OK, clock(state)),
        (&Method::POST, "/_updraft/clock") => match set_clock(state, body) {
            Ok(()) => (StatusCode::OK, clock(state)),
            Err(message) => (StatusCode::BAD_REQUEST, json!({"error": message})),
        },
        (&Method::POST, p) if p.starts_with("/_updraft/instances/") && p.ends_with("/stress") => {
            stress(state, p, body)
        }
        (_, p) if is_admin_path(p) => (
            StatusCode::NOT_FOUND,
            json!({"error": format!("no admin endpoint {method} {p}")}),
        ),
        _ => return None,
    };
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Some(resp)
}

/// 401 with a `WWW-Authenticate` challenge for a missing token, 403 for a wrong one.
fn refused(refusal: auth::Refusal) -> Response<Full<Bytes>> {
    let (status, message) = match refusal {
        auth::Refusal::Missing => (
            StatusCode::UNAUTHORIZED,
            "this admin endpoint needs the admin token: send `Authorization: Bearer <token>` or `X-Updraft-Admin-Token: <token>`",
        ),
        auth::Refusal::Wrong => (
            StatusCode::FORBIDDEN,
            "the admin token is not the configured one",
        ),
    };
    let body = json!({"error": message}).to_string();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if refusal == auth::Refusal::Missing {
        headers.insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"updraft-admin\""),
        );
    }
    resp
}

fn implemented(service: &str) -> usize {
    services::implemented(service).len()
}

fn health() -> Value {
    let services: serde_json::Map<String, Value> = models::all()
        .iter()
        .map(|s| {
            let total = s.modelled_operation_count();
            let done = implemented(s.name);
            let status = if done == 0 { "not_implemented" } else if done < total { "partial" } else { "available" };
            (s.name.to_owned(), json!({"status": status, "implemented_operations": done, "modelled_operations": total}))
        })
        .collect();
    json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "services": services})
}

/// LocalStack's `{"services": {name: state}, "edition", "version"}` so its health checks pass.
fn localstack_health() -> Value {
    let services: serde_json::Map<String, Value> = models::all()
        .iter()
        .map(|s| {
            (
                s.name.to_owned(),
                json!(if implemented(s.name) > 0 {
                    "running"
                } else {
                    "available"
                }),
            )
        })
        .collect();
    json!({"services": services, "edition": "updraft", "version": env!("CARGO_PKG_VERSION")})
}

fn clock(state: &AppState) -> Value {
    json!({"now": state.clock.now_rfc3339(), "epoch_seconds": state.clock.now(), "scale": state.clock.scale()})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_seconds: Option<f64>,
    scale: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stress {
    cpu_percent: f64,
}

/// Set an instance's stress level on the instance backend.
fn stress(state: &AppState, path: &str, body: &[u8]) -> (StatusCode, Value) {
    let id = path
        .trim_start_matches("/_updraft/instances/")
        .trim_end_matches("/stress");
    let change: Stress = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => {
            let message = format!("expected {{\"cpu_percent\": N}} with 0 <= N <= 100: {e}");
            return (StatusCode::BAD_REQUEST, json!({"error": message}));
        }
    };
    if !(change.cpu_percent.is_finite() && (0.0..=100.0).contains(&change.cpu_percent)) {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": "cpu_percent must be between 0 and 100"}),
        );
    }
    match state.backend.set_stress(id, change.cpu_percent) {
        Ok(()) => {
            tracing::info!(
                instance_id = id,
                cpu_percent = change.cpu_percent,
                "instance stress set"
            );
            (
                StatusCode::OK,
                json!({"instance_id": id, "cpu_percent": change.cpu_percent}),
            )
        }
        Err(e) => (
            StatusCode::NOT_FOUND,
            json!({"error": format!("no launched instance {id}: {e}")}),
        ),
    }
}

fn set_clock(state: &AppState, body: &[u8]) -> Result<(), String> {
    let change: ClockChange = serde_json::from_slice(body)
        .map_err(|e| format!("expected {{\"advance_seconds\": N, \"scale\": N}}: {e}"))?;
    if change.scale.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
        return Err("scale must be a number >= 0".into());
    }
    if change
        .advance_seconds
        .is_some_and(|a| !(a.is_finite() && a >= 0.0))
    {
        return Err("advance_seconds must be a number >= 0 (time never runs back)".into());
    }
    if let Some(s) = change.scale {
        state.clock.set_scale(s);
        tracing::info!(scale = s, "clock scale changed");
    }
    if let Some(a) = change.advance_seconds {
        state.clock.advance(a);
        tracing::info!(advance_seconds = a, now = %state.clock.now_rfc3339(), "clock advanced");
    }
    state.changed.notify_waiters();
    Ok(())
}
