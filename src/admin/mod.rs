//! The admin API under `/_updraft/` (JSON), plus the LocalStack and moto paths that existing
//! CI recipes already call.
//!
//! - `GET /_updraft/health` (and `GET /_localstack/health` in LocalStack's shape)
//! - `POST /_updraft/reset` (and `POST /moto-api/reset`)
//! - `GET /_updraft/clock`, `POST /_updraft/clock` with `{"advance_seconds": N}` and/or `{"scale": N}`
//! - `POST /_updraft/instances/{instance_id}/stress` with `{"cpu_percent": N}` (0 clears): extra
//!   CPU load on an instance, the stand-in for `yes > /dev/null`
//! - `POST /_updraft/instances/{instance_id}/impair` with `{"impaired": true|false}`: the
//!   instance's EC2 status check fails (see `admin::impair`)
//! - `GET /_updraft/state` (`?account=`), `POST /_updraft/state` (`?mode=merge`): snapshots
//!   (see `admin::state`)
//! - `/_updraft/sns/…`: the SNS inbox, confirmation and unsubscribe links, signing certificate
//!   (see `admin::sns`)
//!
//! - `GET /_updraft/classroom/board` and `GET /_updraft/classroom/peek?account=…`: the teacher
//!   board's data in classroom mode (see `classroom::board`)
//!
//! With `--admin-token`, what changes the world or reads other accounts' data needs the token;
//! in classroom mode, the teacher (see `admin::auth`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::protocol::models;
use crate::services;
use crate::state::{AppState, Topic};

pub mod auth;
pub mod cli;
pub mod console;
mod impair;
pub mod lab;
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
    let signed_path = path;
    let path = path.trim_end_matches('/');
    if !is_admin_path(path) {
        return None;
    }
    let request = auth::AdminRequest {
        method,
        path: signed_path,
        query,
        headers,
        body,
    };
    let access = match auth::authorize(state, &request) {
        Ok(access) => access,
        Err(refusal) => {
            tracing::info!(method = %method, path, ?refusal, "admin request refused");
            return Some(refused(refusal));
        }
    };
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
    if path == crate::services::acm::ca::CA_PATH && matches!(*method, Method::GET | Method::HEAD) {
        return Some(ca_pem(state));
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
            stress(state, &access, p, body)
        }
        (&Method::GET, p) if p == "/_updraft/lab" || p.starts_with("/_updraft/lab/") => {
            lab::handle_for(state, &access, path, query)?
        }
        (&Method::GET, "/_updraft/classroom/board") => classroom_board(state),
        (&Method::GET, "/_updraft/classroom/peek") => classroom_peek(state, query),
        (&Method::POST, p) if p.starts_with("/_updraft/instances/") && p.ends_with("/impair") => {
            impair::impair(state, p, body)
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

/// 401 with a `WWW-Authenticate` challenge for a missing token, 403 for a wrong one, a
/// student asking for the teacher's endpoints, or a signature that does not hold.
fn refused(refusal: auth::Refusal) -> Response<Full<Bytes>> {
    let (status, code, message) = match refusal {
        auth::Refusal::Missing => (
            StatusCode::UNAUTHORIZED,
            "AdminTokenMissing",
            "this admin endpoint needs the admin token: send `Authorization: Bearer <token>` or `X-Updraft-Admin-Token: <token>` (in classroom mode: or sign the request with the teacher's key)",
        ),
        auth::Refusal::Wrong => (
            StatusCode::FORBIDDEN,
            "AdminTokenWrong",
            "the admin token is not the configured one",
        ),
        auth::Refusal::TeacherOnly => (
            StatusCode::FORBIDDEN,
            "TeacherOnly",
            "in classroom mode this admin endpoint needs the teacher's credentials",
        ),
        auth::Refusal::BadSignature => (
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "the admin request's signature does not hold for a known key (or its time is more than 15 minutes off)",
        ),
    };
    let body = json!({"error": message, "code": code}).to_string();
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

/// The local CA's certificate (PEM), for clients to trust the certificates RequestCertificate
/// issues.
fn ca_pem(state: &AppState) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match state.tls.ca.get(state) {
        Ok(ca) => (StatusCode::OK, "application/x-pem-file", ca.cert_pem),
        Err(err) => {
            tracing::error!(error = %err, "local CA unavailable");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                json!({"error": "the local certificate authority is unavailable"}).to_string(),
            )
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
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

/// Whether `account` has an instance `id`, in any region.
fn owns_instance(state: &AppState, account: &str, id: &str) -> bool {
    let mut found = false;
    state.stores.for_each(|scope, stores| {
        found |= scope.account == account && stores.ec2.instances.contains_key(id);
    });
    found
}

/// Set an instance's stress level on the instance backend (a classroom student: only on
/// their own instances; another's answers as a missing one, telling nothing about it).
fn stress(state: &AppState, access: &auth::Access, path: &str, body: &[u8]) -> (StatusCode, Value) {
    let id = path
        .trim_start_matches("/_updraft/instances/")
        .trim_end_matches("/stress");
    if let auth::Access::OwnAccount(account) = access
        && !owns_instance(state, account, id)
    {
        let message = format!("no instance {id} in account {account}");
        return (StatusCode::NOT_FOUND, json!({"error": message}));
    }
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
    state.touched(Topic::Clock);
    Ok(())
}

fn classroom_off() -> (StatusCode, Value) {
    let message = "classroom mode is off (start with `updraft classroom --students N`)";
    (StatusCode::NOT_FOUND, json!({"error": message}))
}

/// `GET /_updraft/classroom/board`: one row per student.
fn classroom_board(state: &AppState) -> (StatusCode, Value) {
    let Some(roster) = state.config.classroom.roster.as_deref() else {
        return classroom_off();
    };
    let board = crate::classroom::board::board(state, roster);
    (
        StatusCode::OK,
        serde_json::to_value(board).unwrap_or_default(),
    )
}

/// `GET /_updraft/classroom/peek?account=…`: one classroom member's resources.
fn classroom_peek(state: &AppState, query: Option<&str>) -> (StatusCode, Value) {
    let Some(roster) = state.config.classroom.roster.as_deref() else {
        return classroom_off();
    };
    let account = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "account")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if !roster.members.iter().any(|m| m.account == account) {
        let message = format!("no classroom account {account:?}");
        return (StatusCode::NOT_FOUND, json!({"error": message}));
    }
    let peek = crate::classroom::board::peek(state, &account);
    (
        StatusCode::OK,
        serde_json::to_value(peek).unwrap_or_default(),
    )
}
