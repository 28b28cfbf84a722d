//! Dashboards: named JSON documents. CloudWatch dashboards are global to an account (their ARN
//! has no region), so they live in the account's region-less scope.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::{parse_input, to_output};
use crate::state::{AppState, Scope, Topic};

/// One stored dashboard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dashboard {
    body: String,
    last_modified: f64,
    arn: String,
    tags: Vec<Tag>,
}

/// Dashboards by name, sorted.
pub type Dashboards = BTreeMap<String, Dashboard>;

/// A resource tag.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    key: String,
    value: String,
}

const PAGE: usize = 1000;

fn global(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.scope.account.clone(), "")
}

fn invalid_input(message: impl Into<String>) -> ApiError {
    ApiError::client("InvalidParameterInput", message)
}

fn not_found(name: &str) -> ApiError {
    ApiError::client(
        "ResourceNotFound",
        format!("Dashboard {name} does not exist"),
    )
    .with_status(404)
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 255 {
        return Err(invalid_input(
            "The value for field DashboardName must be between 1 and 255 characters long.",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid_input(
            "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutDashboardInput {
    dashboard_name: String,
    dashboard_body: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutDashboardOutput {
    dashboard_validation_messages: Vec<Value>,
}

/// PutDashboard: create or replace.
pub fn put_dashboard(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: PutDashboardInput = parse_input(input)?;
    check_name(&req.dashboard_name)?;
    match serde_json::from_str::<Value>(&req.dashboard_body) {
        Ok(Value::Object(_)) => {}
        _ => {
            return Err(invalid_input(
                "The field DashboardBody must be a valid JSON object",
            ));
        }
    }
    let now = state.clock.now();
    let arn = format!(
        "arn:aws:cloudwatch::{}:dashboard/{}",
        ctx.scope.account, req.dashboard_name
    );
    state.stores.with(&global(ctx), |s| {
        let tags = match s
            .cloudwatch_dashboards
            .get()
            .and_then(|d| d.get(&req.dashboard_name))
        {
            Some(old) if req.tags.is_empty() => old.tags.clone(),
            _ => req.tags,
        };
        s.cloudwatch_dashboards.get_mut().insert(
            req.dashboard_name,
            Dashboard {
                body: req.dashboard_body,
                last_modified: now,
                arn,
                tags,
            },
        );
    });
    state.touched(Topic::CloudWatch);
    to_output(&PutDashboardOutput {
        dashboard_validation_messages: Vec::new(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetDashboardInput {
    dashboard_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetDashboardOutput {
    dashboard_arn: String,
    dashboard_body: String,
    dashboard_name: String,
}

/// GetDashboard.
pub fn get_dashboard(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: GetDashboardInput = parse_input(input)?;
    let found = state.stores.with(&global(ctx), |s| {
        s.cloudwatch_dashboards
            .get()
            .and_then(|d| d.get(&req.dashboard_name))
            .cloned()
    });
    let d = found.ok_or_else(|| not_found(&req.dashboard_name))?;
    to_output(&GetDashboardOutput {
        dashboard_arn: d.arn,
        dashboard_body: d.body,
        dashboard_name: req.dashboard_name,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListDashboardsInput {
    dashboard_name_prefix: Option<String>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DashboardEntry {
    dashboard_name: String,
    dashboard_arn: String,
    last_modified: f64,
    size: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListDashboardsOutput {
    dashboard_entries: Vec<DashboardEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// ListDashboards: by name, with a prefix filter and pages of 1,000. The token is the last
/// name of the previous page, so pages stay stable while dashboards come and go.
pub fn list_dashboards(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: ListDashboardsInput = parse_input(input)?;
    let prefix = req.dashboard_name_prefix.unwrap_or_default();
    let mut entries: Vec<DashboardEntry> = state.stores.with(&global(ctx), |s| {
        s.cloudwatch_dashboards
            .get()
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.starts_with(&prefix))
            .filter(|(name, _)| {
                req.next_token
                    .as_ref()
                    .is_none_or(|after| name.as_str() > after.as_str())
            })
            .take(PAGE + 1)
            .map(|(name, d)| DashboardEntry {
                dashboard_name: name.clone(),
                dashboard_arn: d.arn.clone(),
                last_modified: d.last_modified,
                size: d.body.len(),
            })
            .collect()
    });
    let next_token = (entries.len() > PAGE).then(|| {
        entries.truncate(PAGE);
        entries
            .last()
            .map(|e| e.dashboard_name.clone())
            .unwrap_or_default()
    });
    to_output(&ListDashboardsOutput {
        dashboard_entries: entries,
        next_token,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteDashboardsInput {
    dashboard_names: Vec<String>,
}

/// DeleteDashboards: all or nothing; an unknown name deletes none.
pub fn delete_dashboards(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DeleteDashboardsInput = parse_input(input)?;
    state.stores.with(&global(ctx), |s| {
        if let Some(missing) = req.dashboard_names.iter().find(|n| {
            !s.cloudwatch_dashboards
                .get()
                .is_some_and(|d| d.contains_key(*n))
        }) {
            return Err(not_found(missing));
        }
        for name in &req.dashboard_names {
            s.cloudwatch_dashboards.get_mut().remove(name);
        }
        Ok(())
    })?;
    state.touched(Topic::CloudWatch);
    Ok(Value::Object(serde_json::Map::new()))
}
