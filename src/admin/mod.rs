//! The admin API under `/_updraft/` (JSON), plus the LocalStack and moto paths that existing
//! CI recipes already call.
//!
//! - `GET /_updraft/health` (and `GET /_localstack/health` in LocalStack's shape)
//! - `POST /_updraft/reset` (and `POST /moto-api/reset`)
//! - `GET /_updraft/clock`, `POST /_updraft/clock` with `{"advance_seconds": N}` and/or `{"scale": N}`

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::protocol::models;
use crate::services;
use crate::state::AppState;

/// Answer an admin request, or `None` when the path is not an admin path.
pub fn handle(
    state: &AppState,
    method: &Method,
    path: &str,
    _query: Option<&str>,
    body: &[u8],
) -> Option<Response<Full<Bytes>>> {
    let path = path.trim_end_matches('/');
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
        (_, p)
            if p.starts_with("/_updraft")
                || p.starts_with("/_localstack")
                || p.starts_with("/moto-api") =>
        {
            (
                StatusCode::NOT_FOUND,
                json!({"error": format!("no admin endpoint {method} {p}")}),
            )
        }
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

fn implemented(service: &str) -> usize {
    services::operations(service).len()
}

fn health() -> Value {
    let services: serde_json::Map<String, Value> = models::all()
        .iter()
        .map(|s| {
            let total = s.model().operations.len();
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
