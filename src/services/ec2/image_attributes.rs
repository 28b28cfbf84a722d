//! Image attributes: DescribeImageAttribute and ModifyImageAttribute (description and
//! launch permissions).

use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{Ec2Error, invalid, missing};
use super::images::{image_out, own_image};
use super::{dry_run_ok, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::{AppState, Topic};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeImageAttributeRequest {
    attribute: String,
    image_id: String,
    dry_run: bool,
}

/// DescribeImageAttribute (description, launchPermission, blockDeviceMapping, ...).
pub fn describe_image_attribute(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeImageAttributeRequest = parse_input(input)?;
    let account = ctx.scope.account.clone();
    with_store(ctx, state, |s| {
        let i = own_image(s, &req.image_id, &account)?;
        let mut out = match req.attribute.as_str() {
            "description" => {
                json!({"Description": match &i.description { Some(d) => json!({"Value": d}), None => json!({}) }})
            }
            "launchPermission" => {
                let mut perms: Vec<Value> = i
                    .launch_permissions
                    .iter()
                    .map(|a| json!({"UserId": a}))
                    .collect();
                if i.public {
                    perms.push(json!({"Group": "all"}));
                }
                json!({"LaunchPermissions": perms})
            }
            "blockDeviceMapping" => {
                json!({"BlockDeviceMappings": image_out(s, i)["BlockDeviceMappings"].clone()})
            }
            "kernel" => json!({"KernelId": {}}),
            "ramdisk" => json!({"RamdiskId": {}}),
            "productCodes" => json!({"ProductCodes": []}),
            "sriovNetSupport" => json!({"SriovNetSupport": {"Value": "simple"}}),
            "bootMode" => json!({"BootMode": {"Value": "legacy-bios"}}),
            "deregistrationProtection" => {
                json!({"DeregistrationProtection": {"Value": "disabled"}})
            }
            other => {
                return Err(invalid(format!(
                    "Value ({other}) for parameter attribute is invalid. Unknown attribute."
                )));
            }
        };
        if req.dry_run {
            return Err(dry_run_ok());
        }
        out["ImageId"] = json!(i.id);
        Ok(out)
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct LaunchPermission {
    user_id: Option<String>,
    group: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct LaunchPermissionModifications {
    add: Vec<LaunchPermission>,
    remove: Vec<LaunchPermission>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ModifyImageAttributeRequest {
    attribute: Option<String>,
    description: Option<super::AttrValue<String>>,
    image_id: String,
    launch_permission: Option<LaunchPermissionModifications>,
    operation_type: Option<String>,
    user_groups: Vec<String>,
    user_ids: Vec<String>,
    value: Option<String>,
    dry_run: bool,
}

/// ModifyImageAttribute: description and launch permissions (accounts, or `all` = public).
pub fn modify_image_attribute(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: ModifyImageAttributeRequest = parse_input(input)?;
    let account = ctx.scope.account.clone();
    let mut perms = req.launch_permission.unwrap_or_default();
    // The flat form: Attribute=launchPermission, OperationType=add|remove, UserIds/UserGroups.
    if req.attribute.as_deref() == Some("launchPermission")
        || !req.user_ids.is_empty()
        || !req.user_groups.is_empty()
    {
        let flat: Vec<LaunchPermission> = req
            .user_ids
            .iter()
            .map(|u| LaunchPermission {
                user_id: Some(u.clone()),
                group: None,
            })
            .chain(req.user_groups.iter().map(|g| LaunchPermission {
                user_id: None,
                group: Some(g.clone()),
            }))
            .collect();
        match req.operation_type.as_deref() {
            Some("add") => perms.add.extend(flat),
            Some("remove") => perms.remove.extend(flat),
            _ => {
                return Err(missing("operationType"));
            }
        }
    }
    let description = req.description.and_then(|d| d.value).or(
        if req.attribute.as_deref() == Some("description") {
            req.value
        } else {
            None
        },
    );
    for p in perms.add.iter().chain(&perms.remove) {
        if p.group.as_deref().is_some_and(|g| g != "all") {
            return Err(invalid(
                "The only supported launch permission group is 'all'.",
            ));
        }
        if p.user_id
            .as_deref()
            .is_some_and(|u| u.len() != 12 || !u.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Ec2Error::InvalidAMIAttributeItemValue.with(format!(
                "Invalid attribute item value \"{}\" for userId item type.",
                p.user_id.clone().unwrap_or_default()
            )));
        }
    }
    with_store(ctx, state, |s| {
        own_image(s, &req.image_id, &account)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let Some(i) = s.images.get_mut(&req.image_id) else {
            return Ok(());
        };
        for p in &perms.add {
            if p.group.is_some() {
                i.public = true;
            }
            if let Some(u) = &p.user_id
                && !i.launch_permissions.contains(u)
            {
                i.launch_permissions.push(u.clone());
            }
        }
        for p in &perms.remove {
            if p.group.is_some() {
                i.public = false;
            }
            if let Some(u) = &p.user_id {
                i.launch_permissions.retain(|a| a != u);
            }
        }
        if let Some(d) = description {
            i.description = Some(d);
        }
        Ok(())
    })?;
    state.touched(Topic::Ec2);
    Ok(json!({}))
}
