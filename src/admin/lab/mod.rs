//! The guided labs: lab files (YAML, embedded from `labs/`) whose steps check themselves
//! against the caller's state, and the endpoints the console's lab panel and the teacher's
//! board read.
//!
//! - `GET /_updraft/lab`: the labs (id, titles)
//! - `GET /_updraft/lab/{id}`: one lab's definition for the panel, both languages
//! - `GET /_updraft/lab/{id}/status?access_key=…&region=…`: per step done/pending, the names
//!   found, when it first turned green; records first times in the account's progress
//! - `GET /_updraft/lab/{id}/steps/{step}/calls/{n}?access_key=…&region=…`: "do it for me"'s
//!   call `n`, its references filled from the state now, as the form the console sends
//! - `GET /_updraft/lab/progress?account=…`: `{account, lab, steps_total, steps_done,
//!   current_step, last_change}` for the teacher's board
//!
//! The account comes from the access key the way the change stream takes it (the console's
//! key; a 12-digit key is the account), the region from the console's choice.

pub mod def;
pub mod eval;
pub mod expr;
pub mod progress;
pub mod wire;
pub mod yaml;

use std::sync::LazyLock;

use http::StatusCode;
use serde_json::{Value, json};

use crate::state::{AppState, Scope, scope::reading};
use def::Lab;

/// The embedded lab files: path (for messages) and text.
pub const FILES: &[(&str, &str)] = &[
    (
        "labs/chapter19.yaml",
        include_str!("../../../labs/chapter19.yaml"),
    ),
    (
        "labs/alb-target-tracking.yaml",
        include_str!("../../../labs/alb-target-tracking.yaml"),
    ),
];

/// Where a lab is done when the account never said (the console's default region).
const DEFAULT_REGION: &str = "ap-northeast-1";

/// Read one lab file; a problem reads `file:line: problem`.
pub fn load(file: &str, text: &str) -> Result<Lab, String> {
    def::parse(text).map_err(|p| format!("{file}:{}: {}", p.line, p.message))
}

static LABS: LazyLock<Result<Vec<Lab>, String>> =
    LazyLock::new(|| FILES.iter().map(|(f, t)| load(f, t)).collect());

/// Every embedded lab reads cleanly (the server refuses to start otherwise).
pub fn check_embedded() -> Result<(), String> {
    LABS.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// The labs (none if a file did not read, which `check_embedded` refuses at start).
pub fn labs() -> &'static [Lab] {
    LABS.as_ref().map(Vec::as_slice).unwrap_or(&[])
}

fn param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn caller(state: &AppState, query: Option<&str>) -> Scope {
    let key = param(query, "access_key");
    let account = crate::server::auth::account_for_key(key.as_deref(), &state.config, &state.keys);
    let region = param(query, "region").filter(|r| state.config.knows_region(r));
    Scope::new(account, region.unwrap_or_else(|| DEFAULT_REGION.to_owned()))
}

fn not_found(what: &str) -> (StatusCode, Value) {
    (
        StatusCode::NOT_FOUND,
        json!({"error": format!("no {what}")}),
    )
}

/// Answer a `GET /_updraft/lab…` request for a caller the admin API admitted: a classroom
/// student (`OwnAccount`) reads only their own account, whichever key or account the query names.
pub fn handle_for(
    state: &AppState,
    access: &crate::admin::auth::Access,
    path: &str,
    query: Option<&str>,
) -> Option<(StatusCode, Value)> {
    if let crate::admin::auth::Access::OwnAccount(own) = access
        && param(query, "access_key").is_some()
        && caller(state, query).account != *own
    {
        return Some((
            StatusCode::FORBIDDEN,
            json!({"code": "TeacherOnly", "error": "a student reads only their own lab status"}),
        ));
    }
    handle(state, path, query)
}

/// Answer a `GET /_updraft/lab…` request; `None` for other paths.
pub fn handle(state: &AppState, path: &str, query: Option<&str>) -> Option<(StatusCode, Value)> {
    let rest = path.strip_prefix("/_updraft/lab")?;
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    Some(match parts.as_slice() {
        [] => (
            StatusCode::OK,
            json!(
                labs()
                    .iter()
                    .map(|l| json!({"id": l.id, "title": l.title}))
                    .collect::<Vec<_>>()
            ),
        ),
        ["progress"] => match param(query, "account") {
            Some(account) => (StatusCode::OK, progress(state, &account)),
            None => (
                StatusCode::BAD_REQUEST,
                json!({"error": "progress needs ?account=ACCOUNT"}),
            ),
        },
        [id, more @ ..] => {
            let Some(lab) = labs().iter().find(|l| l.id == *id) else {
                return Some(not_found(&format!("lab {id}")));
            };
            match more {
                [] => (StatusCode::OK, json!(lab)),
                ["status"] => (
                    StatusCode::OK,
                    eval::status(state, lab, &caller(state, query)),
                ),
                ["steps", step, "calls", n] => {
                    let Some(i) = lab.steps.iter().position(|s| s.id == *step) else {
                        return Some(not_found(&format!("step {step}")));
                    };
                    let n: usize = n.parse().unwrap_or(usize::MAX);
                    match eval::resolve_call(state, lab, i, n, &caller(state, query)) {
                        Ok(v) => (StatusCode::OK, v),
                        Err(e) => (StatusCode::CONFLICT, json!({"error": e})),
                    }
                }
                _ => not_found(&format!("lab endpoint {path}")),
            }
        }
    })
}

/// The teacher board's line for one account: the lab it last opened (re-checked in its
/// region, so the board moves even when the student's panel is closed).
pub fn progress(state: &AppState, account: &str) -> Value {
    let global = Scope::new(account, "");
    let known = reading(|| {
        state
            .stores
            .with(&global, |s| s.lab.get().cloned().unwrap_or_default())
    });
    let lab = known
        .current
        .as_ref()
        .and_then(|id| labs().iter().find(|l| &l.id == id))
        .or_else(|| labs().first());
    let Some(lab) = lab else {
        return json!({"account": account, "lab": null, "steps_total": 0, "steps_done": 0, "current_step": null, "last_change": null});
    };
    let rec = match known.labs.get(&lab.id) {
        Some(r) => eval::record(state, lab, &Scope::new(account, r.region.clone())).1,
        // Never opened in the console (a student working from the CLI): checked in the
        // chapter's region, so the teacher sees their progress all the same.
        None => eval::record(state, lab, &Scope::new(account, DEFAULT_REGION)).1,
    };
    let current = lab.steps.iter().find(|s| !rec.done.contains_key(&s.id));
    json!({
        "account": account,
        "lab": lab.id,
        "steps_total": lab.steps.len(),
        "steps_done": lab.steps.iter().filter(|s| rec.done.contains_key(&s.id)).count(),
        "current_step": current.map(|s| json!({"id": s.id, "title_en": s.title.en, "title_ko": s.title.ko})),
        "last_change": rec.last_change,
    })
}

#[cfg(test)]
mod tests;
