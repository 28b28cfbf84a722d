//! Image attributes: DescribeImageAttribute and ModifyImageAttribute (description and
//! launch permissions).

use serde::{Deserialize, Serialize};

use super::block_devices::{Mapping, MappingOut};
use super::errors::{Ec2Error, invalid, missing};
use super::images::own_image;
use super::views::EmptyList;
use super::{AttrValue, dry_run_ok, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::{Reply, Sent};
use crate::state::{AppState, Topic};

/// DescribeImageAttribute's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImageAttributeRequest {
    attribute: String,
    image_id: String,
    dry_run: bool,
}

/// `ImageAttribute`: the image's id and the one attribute asked for (members in model order).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageAttributeOut<'a> {
    description: Option<AttrValue<&'a str>>,
    kernel_id: Option<AttrValue<&'a str>>,
    ramdisk_id: Option<AttrValue<&'a str>>,
    sriov_net_support: Option<AttrValue<&'a str>>,
    boot_mode: Option<AttrValue<&'a str>>,
    deregistration_protection: Option<AttrValue<&'a str>>,
    image_id: &'a str,
    launch_permissions: Option<Vec<LaunchPermissionOut<'a>>>,
    product_codes: Option<EmptyList>,
    block_device_mappings: Option<Vec<MappingOut<'a>>>,
}

/// One `LaunchPermission`: an account, or the group `all`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LaunchPermissionOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
}

/// An `AttributeValue` holding `value` (`None`: an empty one, as AWS shows an unset kernel).
fn attr(value: Option<&str>) -> Option<AttrValue<&str>> {
    Some(AttrValue { value })
}

/// DescribeImageAttribute (description, launchPermission, blockDeviceMapping, ...).
pub fn describe_image_attribute(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeImageAttributeRequest,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    let account = ctx.scope.account.clone();
    with_store(ctx, state, |s| {
        let i = own_image(s, &req.image_id, &account)?;
        let mut out = ImageAttributeOut {
            image_id: &i.id,
            ..ImageAttributeOut::default()
        };
        match req.attribute.as_str() {
            "description" => out.description = attr(i.description.as_deref()),
            "launchPermission" => {
                let mut perms: Vec<LaunchPermissionOut<'_>> = i
                    .launch_permissions
                    .iter()
                    .map(|a| LaunchPermissionOut {
                        user_id: Some(a),
                        group: None,
                    })
                    .collect();
                if i.public {
                    perms.push(LaunchPermissionOut {
                        user_id: None,
                        group: Some("all"),
                    });
                }
                out.launch_permissions = Some(perms);
            }
            "blockDeviceMapping" => {
                out.block_device_mappings =
                    Some(i.block_devices.iter().map(Mapping::image_out).collect());
            }
            "kernel" => out.kernel_id = attr(None),
            "ramdisk" => out.ramdisk_id = attr(None),
            "productCodes" => out.product_codes = Some(EmptyList),
            "sriovNetSupport" => out.sriov_net_support = attr(Some("simple")),
            "bootMode" => out.boot_mode = attr(Some("legacy-bios")),
            "deregistrationProtection" => {
                out.deregistration_protection = attr(Some("disabled"));
            }
            other => {
                return Err(invalid(format!(
                    "Value ({other}) for parameter attribute is invalid. Unknown attribute."
                )));
            }
        }
        if req.dry_run {
            return Err(dry_run_ok());
        }
        reply.send(&out)
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

/// ModifyImageAttribute's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ModifyImageAttributeRequest {
    attribute: Option<String>,
    description: Option<AttrValue<String>>,
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
    req: ModifyImageAttributeRequest,
) -> Result<(), ApiError> {
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
    Ok(())
}
