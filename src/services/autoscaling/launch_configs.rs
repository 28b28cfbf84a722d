//! Launch configurations: Create, Describe, Delete (research §1.3 for the error texts).
//!
//! A configuration is kept as the request tree it came in as (AWS member names), so describing
//! it echoes what was given plus AWS's defaults, and launching maps it onto RunInstances.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::describe::page;
use super::store::LaunchConfiguration;
use super::validation;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::{AppState, ids};

/// `Launch configuration name not found - Launch configuration {name} not found`.
pub fn lc_not_found(name: &str) -> ApiError {
    validation(format!(
        "Launch configuration name not found - Launch configuration {name} not found"
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateInput {
    launch_configuration_name: String,
    image_id: Option<String>,
    instance_id: Option<String>,
    instance_type: Option<String>,
    iam_instance_profile: Option<String>,
}

/// CreateLaunchConfiguration.
pub fn create_launch_configuration(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: CreateInput = parse_input(input.clone())?;
    let name = req.launch_configuration_name.clone();
    let Value::Object(mut data) = input else {
        return Err(ApiError::internal());
    };
    let scope = &ctx.scope;
    let now = state.clock.now();
    // The profile, by name or ARN, must exist in the account's IAM (checked outside this
    // scope's lock: IAM lives in the account's global scope).
    if let Some(profile) = req.iam_instance_profile.as_deref() {
        let profiles = crate::services::iam::profiles_of(state, &scope.account);
        let (name, arn) = if profile.starts_with("arn:") {
            (None, Some(profile))
        } else {
            (Some(profile), None)
        };
        if crate::services::iam::find_profile(&profiles, name, arn).is_none() {
            return Err(validation(format!("Invalid IamInstanceProfile: {profile}")));
        }
    }
    state.stores.with(scope, |s| {
        if s.autoscaling.launch_configurations.contains_key(&name) {
            return Err(ApiError::client(
                "AlreadyExists",
                format!(
                    "Launch Configuration by this name already exists - A launch configuration already exists with the name {name}"
                ),
            ));
        }
        // InstanceId: the configuration takes its image, type, key and groups from a running
        // instance, for the fields the request leaves out.
        if let Some(id) = req.instance_id.as_deref() {
            data.remove("InstanceId");
            let i = s
                .ec2
                .instances
                .get(id)
                .ok_or_else(|| validation(format!("Invalid instance id: {id}")))?;
            let from = [
                ("ImageId", json!(i.image_id)),
                ("InstanceType", json!(i.instance_type)),
                ("KeyName", json!(i.key_name)),
                ("SecurityGroups", json!(i.security_groups)),
            ];
            for (k, v) in from {
                if !v.is_null() {
                    data.entry(k).or_insert(v);
                }
            }
        } else {
            if req.image_id.is_none() {
                return Err(validation(
                    "Valid requests must contain either the ImageId or the InstanceId parameter.",
                ));
            }
            if req.instance_type.is_none() {
                return Err(validation(
                    "Valid requests must contain either the InstanceType or the InstanceId parameter.",
                ));
            }
        }
        let arn = ids::arn(
            "autoscaling",
            &scope.region,
            &scope.account,
            &format!(
                "launchConfiguration:{}:launchConfigurationName/{name}",
                state.ids.uuid()
            ),
        );
        tracing::info!(launch_configuration = %name, "launch configuration created");
        s.autoscaling.launch_configurations.insert(
            name.clone(),
            LaunchConfiguration {
                name,
                arn,
                created_time: now,
                data: Value::Object(data),
            },
        );
        Ok(())
    })?;
    Ok(json!({}))
}

/// Whether detailed monitoring is on for instances launched from this configuration
/// (`InstanceMonitoring.Enabled`, default true in the API).
pub fn monitoring(lc: &LaunchConfiguration) -> bool {
    lc.data
        .pointer("/InstanceMonitoring/Enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// The `LaunchConfiguration` output shape: the stored fields with AWS's defaults.
pub fn render(lc: &LaunchConfiguration) -> Value {
    let mut out = Map::new();
    out.insert("LaunchConfigurationName".into(), json!(lc.name));
    out.insert("LaunchConfigurationARN".into(), json!(lc.arn));
    out.insert("CreatedTime".into(), json!(lc.created_time));
    for (k, default) in [
        ("KernelId", json!("")),
        ("RamdiskId", json!("")),
        ("UserData", json!("")),
        ("KeyName", json!("")),
        ("SecurityGroups", json!([])),
        ("ClassicLinkVPCSecurityGroups", json!([])),
        ("BlockDeviceMappings", json!([])),
        ("EbsOptimized", json!(false)),
        ("InstanceMonitoring", json!({"Enabled": monitoring(lc)})),
    ] {
        out.insert(k.into(), lc.data.get(k).cloned().unwrap_or(default));
    }
    if let Some(obj) = lc.data.as_object() {
        for (k, v) in obj {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Value::Object(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInput {
    launch_configuration_names: Vec<String>,
    max_records: Option<i64>,
    next_token: Option<String>,
}

/// DescribeLaunchConfigurations (unknown names are left out, as AWS does).
pub fn describe_launch_configurations(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInput = parse_input(input)?;
    let all: Vec<Value> = state.stores.with(&ctx.scope, |s| {
        let lcs = &s.autoscaling.launch_configurations;
        if req.launch_configuration_names.is_empty() {
            lcs.values().map(render).collect()
        } else {
            req.launch_configuration_names
                .iter()
                .filter_map(|n| lcs.get(n))
                .map(render)
                .collect()
        }
    });
    let (items, next) = page(all, req.max_records, req.next_token.as_deref(), 50)?;
    let mut out = json!({ "LaunchConfigurations": items });
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DeleteInput {
    launch_configuration_name: String,
}

/// DeleteLaunchConfiguration: refused while a group uses it.
pub fn delete_launch_configuration(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DeleteInput = parse_input(input)?;
    let name = req.launch_configuration_name;
    state.stores.with(&ctx.scope, |s| {
        let a = &mut s.autoscaling;
        if !a.launch_configurations.contains_key(&name) {
            return Err(lc_not_found(&name));
        }
        if let Some(g) = a
            .groups
            .values()
            .find(|g| g.launch_configuration_name.as_deref() == Some(name.as_str()))
        {
            return Err(ApiError::client(
                "ResourceInUse",
                format!(
                    "Cannot delete launch configuration {name} because it is attached to AutoScalingGroup {}",
                    g.name
                ),
            ));
        }
        a.launch_configurations.shift_remove(&name);
        Ok(())
    })?;
    Ok(json!({}))
}
