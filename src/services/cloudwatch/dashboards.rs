//! Dashboards: named JSON documents. CloudWatch dashboards are global to an account (their ARN
//! has no region), so they live in the account's region-less scope.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::anomaly::Empty;
use super::errors::CloudWatchError;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::errors::ErrorCode;
use crate::services::paging::page_after;
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
    CloudWatchError::InvalidParameterInput.with(message)
}

fn not_found(name: &str) -> ApiError {
    CloudWatchError::ResourceNotFound.with(format!("Dashboard {name} does not exist"))
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

/// `PutDashboardInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutDashboardInput {
    dashboard_name: String,
    dashboard_body: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// `PutDashboardOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutDashboardOutput {
    dashboard_validation_messages: Vec<ValidationMessage>,
}

/// A `DashboardValidationMessage` (Updraft checks only that the body is a JSON object, and
/// refuses one that is not, so it never answers one).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidationMessage {
    data_path: String,
    message: String,
}

/// PutDashboard: create or replace.
pub fn put_dashboard(
    ctx: &RequestContext,
    state: &AppState,
    req: PutDashboardInput,
) -> Result<PutDashboardOutput, ApiError> {
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
    Ok(PutDashboardOutput {
        dashboard_validation_messages: Vec::new(),
    })
}

/// `GetDashboardInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetDashboardInput {
    dashboard_name: String,
}

/// `GetDashboardOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetDashboardOutput {
    dashboard_arn: String,
    dashboard_body: String,
    dashboard_name: String,
}

/// GetDashboard.
pub fn get_dashboard(
    ctx: &RequestContext,
    state: &AppState,
    req: GetDashboardInput,
) -> Result<GetDashboardOutput, ApiError> {
    let found = state.stores.with(&global(ctx), |s| {
        s.cloudwatch_dashboards
            .get()
            .and_then(|d| d.get(&req.dashboard_name))
            .cloned()
    });
    let d = found.ok_or_else(|| not_found(&req.dashboard_name))?;
    Ok(GetDashboardOutput {
        dashboard_arn: d.arn,
        dashboard_body: d.body,
        dashboard_name: req.dashboard_name,
    })
}

/// `ListDashboardsInput`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListDashboardsInput {
    dashboard_name_prefix: Option<String>,
    next_token: Option<String>,
}

/// `DashboardEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DashboardEntry {
    dashboard_name: String,
    dashboard_arn: String,
    last_modified: Timestamp,
    size: usize,
}

/// `ListDashboardsOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDashboardsOutput {
    dashboard_entries: Vec<DashboardEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// ListDashboards: by name, with a prefix filter and pages of 1,000. The token is the last
/// name of the previous page, so pages stay stable while dashboards come and go.
pub fn list_dashboards(
    ctx: &RequestContext,
    state: &AppState,
    req: ListDashboardsInput,
) -> Result<ListDashboardsOutput, ApiError> {
    let prefix = req.dashboard_name_prefix.unwrap_or_default();
    let (dashboard_entries, next_token) = state.stores.with(&global(ctx), |s| {
        let named = s
            .cloudwatch_dashboards
            .get()
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.starts_with(&prefix));
        let (page, next) = page_after(named, req.next_token.as_deref(), PAGE, |(name, _)| {
            name.as_str()
        });
        let entries = page
            .into_iter()
            .map(|(name, d)| DashboardEntry {
                dashboard_name: name.clone(),
                dashboard_arn: d.arn.clone(),
                last_modified: Timestamp(d.last_modified),
                size: d.body.len(),
            })
            .collect();
        (entries, next)
    });
    Ok(ListDashboardsOutput {
        dashboard_entries,
        next_token,
    })
}

/// `DeleteDashboardsInput`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteDashboardsInput {
    dashboard_names: Vec<String>,
}

/// DeleteDashboards: all or nothing; an unknown name deletes none.
pub fn delete_dashboards(
    ctx: &RequestContext,
    state: &AppState,
    req: DeleteDashboardsInput,
) -> Result<Empty, ApiError> {
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
    Ok(Empty {})
}
