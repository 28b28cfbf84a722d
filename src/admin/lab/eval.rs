//! Checks run on the server: each probe calls its service's operation in-process for the
//! caller's (account, region), as a read that creates nothing, then selects and tests items
//! with the lab's expressions. What a probe saves feeds later probes and "do it for me".

use serde_json::{Value, json};

use super::def::{Call, Lab, Probe};
use super::expr::{self, Vars};
use super::progress::LabRecord;
use super::wire;
use crate::context::RequestContext;
use crate::protocol::models;
use crate::state::{AppState, Scope, scope::reading};

/// What a step's checks saw now.
#[derive(Debug, Clone, Default)]
pub struct StepResult {
    /// Every probe met its need.
    pub holds: bool,
    /// Names the probes found.
    pub found: Vec<String>,
}

/// Run a read in-process; `None` when a reference is not saved yet or the call fails.
fn read(state: &AppState, scope: &Scope, call: &Call, vars: &Vars) -> Option<Value> {
    let params = wire::fill(&call.params, vars).ok()?;
    if call.service == "inbox" {
        return Some(inbox(state, scope));
    }
    let def = models::by_name(call.service)?;
    let ctx = RequestContext {
        request_id: "lab-check".into(),
        scope: scope.clone(),
        service: def.name,
        operation: call.operation.clone(),
        protocol: def.form_protocol,
        access_key_id: None,
    };
    reading(|| crate::services::dispatch(&ctx, state, params)).ok()
}

/// The account's own e-mail inbox in this region, with each confirmation's token.
fn inbox(state: &AppState, scope: &Scope) -> Value {
    let messages: Vec<Value> = reading(|| {
        state.stores.with(scope, |s| {
            s.sns
                .inbox
                .iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .collect()
        })
    });
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|mut m| {
            let token = m["confirm_url"].as_str().and_then(|u| {
                let query = u.split_once('?')?.1;
                form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "Token")
                    .map(|(_, v)| v.into_owned())
            });
            if let Some(t) = token {
                m["token"] = Value::String(t);
            }
            m
        })
        .collect();
    json!({ "Messages": messages })
}

/// Run one probe: whether it holds, what it found; its saves go into `vars`.
fn probe(state: &AppState, scope: &Scope, p: &Probe, vars: &mut Vars) -> StepResult {
    let Some(answer) = read(state, scope, &p.call, vars) else {
        return StepResult::default();
    };
    let mut items = match &p.items {
        Some(path) => expr::walk(&answer, path, vars),
        None => vec![answer],
    };
    if let Some(f) = &p.filter {
        items.retain(|i| f.holds(i, vars));
    }
    let holds = p.need.holds(&json!({ "count": items.len() }), vars);
    let values = |path: &expr::Path| -> Vec<String> {
        items
            .iter()
            .flat_map(|i| expr::walk(i, path, vars))
            .map(|v| expr::text(&v))
            .collect()
    };
    let found = p.found.as_ref().map(values).unwrap_or_default();
    let saved: Vec<(String, Vec<String>)> = p
        .save
        .iter()
        .map(|(name, path)| (name.clone(), values(path)))
        .collect();
    vars.extend(saved);
    StepResult { holds, found }
}

/// Evaluate the lookups and every step's checks, in file order.
pub fn evaluate(state: &AppState, lab: &Lab, scope: &Scope) -> (Vec<StepResult>, Vars) {
    let mut vars = Vars::new();
    for l in &lab.lookups {
        probe(state, scope, l, &mut vars);
    }
    let results = lab
        .steps
        .iter()
        .map(|s| {
            let mut r = StepResult {
                holds: true,
                found: Vec::new(),
            };
            for p in &s.check {
                let one = probe(state, scope, p, &mut vars);
                r.holds &= one.holds;
                r.found.extend(one.found);
            }
            r.found.dedup();
            r
        })
        .collect();
    (results, vars)
}

/// Evaluate and record the steps that hold for the first time; the account's record after.
pub fn record(state: &AppState, lab: &Lab, scope: &Scope) -> (Vec<StepResult>, LabRecord) {
    let (results, _) = evaluate(state, lab, scope);
    let now = state.clock.now();
    let global = Scope::new(scope.account.clone(), "");
    let rec = state.stores.with(&global, |s| {
        let progress = s.lab.get_mut();
        progress.current = Some(lab.id.clone());
        let rec = progress.labs.entry(lab.id.clone()).or_default();
        rec.region.clone_from(&scope.region);
        for (step, r) in lab.steps.iter().zip(&results) {
            let ready = step.after.as_ref().is_none_or(|a| rec.done.contains_key(a));
            if r.holds && ready && !rec.done.contains_key(&step.id) {
                rec.done.insert(step.id.clone(), now);
                rec.last_change = Some(now);
                tracing::info!(account = %scope.account, lab = %lab.id, step = %step.id, "lab step done");
            }
        }
        rec.clone()
    });
    (results, rec)
}

/// `GET /_updraft/lab/{id}/status`: per step done/pending, what holds now, found names and
/// when it first turned green.
pub fn status(state: &AppState, lab: &Lab, scope: &Scope) -> Value {
    let (results, rec) = record(state, lab, scope);
    let steps: Vec<Value> = lab
        .steps
        .iter()
        .zip(&results)
        .map(|(s, r)| {
            let first = rec.done.get(&s.id).copied();
            json!({"id": s.id, "done": first.is_some(), "holds": r.holds, "found": r.found, "first_done": first})
        })
        .collect();
    json!({"lab": lab.id, "account": scope.account, "region": scope.region, "now": state.clock.now(), "steps": steps})
}

/// Who saves `name`: the step (or "a lookup"), for the message when it is missing.
fn saver(lab: &Lab, name: &str) -> String {
    let saves = |p: &Probe| p.save.iter().any(|(n, _)| n == name);
    lab.steps
        .iter()
        .find(|s| s.check.iter().any(saves))
        .map_or_else(
            || "a lookup".to_owned(),
            |s| format!("step {} ({})", s.id, s.title.en),
        )
}

/// Call `n` of `step`'s "do it for me", with its references filled in from the state now, as
/// the form the console sends: `{service, operation, form: [[k, v]…], shown, count}`.
pub fn resolve_call(
    state: &AppState,
    lab: &Lab,
    step: usize,
    n: usize,
    scope: &Scope,
) -> Result<Value, String> {
    let s = &lab.steps[step];
    let call = s
        .calls
        .get(n)
        .ok_or_else(|| format!("step {} has {} calls", s.id, s.calls.len()))?;
    let (_, vars) = evaluate(state, lab, scope);
    let params = wire::fill(&call.params, &vars).map_err(|name| {
        format!(
            "this call needs `{name}`, which {} finds: do that first",
            saver(lab, &name)
        )
    })?;
    let shown = format!("{} {} {}", call.service, call.operation, params);
    if call.service == "updraft" {
        let id = params["InstanceId"].as_str().unwrap_or_default();
        return Ok(json!({
            "service": call.service, "operation": call.operation, "shown": shown, "count": s.calls.len(),
            "admin": format!("instances/{id}/stress"), "body": {"cpu_percent": params["CpuPercent"]},
        }));
    }
    let def = models::by_name(call.service).ok_or("unknown service")?;
    let op = def.operation(&call.operation).ok_or("unknown operation")?;
    let flavor = if def.name == "ec2" {
        crate::protocol::query::FormFlavor::Ec2
    } else {
        crate::protocol::query::FormFlavor::Query
    };
    let form = wire::encode(def.model(), op.input.as_ref(), &params, flavor);
    Ok(json!({
        "service": call.service,
        "operation": call.operation,
        "form": form,
        "shown": shown,
        "count": s.calls.len(),
    }))
}
