//! The `ec2` service: operation table and the helpers every EC2 handler shares. Operations of
//! the model that are not in [`OPERATIONS`] answer `NotImplemented` naming them.
//!
//! Handlers take the scope lock once through [`with_store`], validate everything before the
//! first write (a failed call changes nothing), and leave asynchronous effects (boot, stop,
//! image capture) to the instance lifecycle controller, as AWS shows them.

pub mod block_devices;
pub mod errors;
pub mod filters;
mod image_attributes;
mod image_catalog;
mod image_copies;
pub mod images;
mod instance_attributes;
pub mod instance_names;
pub mod instance_ops;
pub mod instance_out;
pub mod instance_types;
pub mod instance_view;
pub mod instances;
mod interfaces;
pub mod internal;
mod key_pairs;
pub mod launch_data;
pub mod launch_refs;
mod launch_template_views;
pub mod launch_templates;
pub mod network;
mod profile_associations;
pub mod public_amis;
pub(crate) mod regions;
mod route_tables;
mod run_request;
pub mod security_groups;
mod sg_rules;
mod snapshots;
pub mod store;
pub mod tags;
pub mod views;
mod volumes;
mod vpcs;

pub use errors::Ec2Error;
use errors::invalid;
pub use store::Ec2Store;

use serde::{Deserialize, Serialize};

use super::{Handler, Replying, Typed, TypedOperation};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// Operations with typed handlers (see `services::Typed`), sorted by name.
pub const TYPED_OPERATIONS: &[(&str, &dyn TypedOperation)] = &[
    (
        "AssociateIamInstanceProfile",
        &Typed(profile_associations::associate_iam_instance_profile),
    ),
    (
        "AuthorizeSecurityGroupEgress",
        &Typed(sg_rules::authorize_security_group_egress),
    ),
    (
        "AuthorizeSecurityGroupIngress",
        &Typed(sg_rules::authorize_security_group_ingress),
    ),
    ("CopyImage", &Typed(image_copies::copy_image)),
    ("CreateImage", &Typed(images::create_image)),
    ("CreateKeyPair", &Typed(key_pairs::create_key_pair)),
    (
        "CreateLaunchTemplate",
        &Typed(launch_templates::create_launch_template),
    ),
    (
        "CreateLaunchTemplateVersion",
        &Typed(launch_templates::create_launch_template_version),
    ),
    (
        "CreateSecurityGroup",
        &Typed(security_groups::create_security_group),
    ),
    ("CreateSubnet", &Typed(vpcs::create_subnet)),
    ("CreateTags", &Typed(tags::create_tags)),
    ("CreateVpc", &Typed(vpcs::create_vpc)),
    ("DeleteKeyPair", &Typed(key_pairs::delete_key_pair)),
    (
        "DeleteLaunchTemplate",
        &Typed(launch_templates::delete_launch_template),
    ),
    (
        "DeleteLaunchTemplateVersions",
        &Typed(launch_templates::delete_launch_template_versions),
    ),
    (
        "DeleteSecurityGroup",
        &Typed(security_groups::delete_security_group),
    ),
    ("DeleteSnapshot", &Typed(snapshots::delete_snapshot)),
    ("DeleteSubnet", &Typed(vpcs::delete_subnet)),
    ("DeleteTags", &Typed(tags::delete_tags)),
    ("DeleteVpc", &Typed(vpcs::delete_vpc)),
    ("DeregisterImage", &Typed(image_copies::deregister_image)),
    (
        "DescribeAccountAttributes",
        &Typed(network::describe_account_attributes),
    ),
    (
        "DescribeAvailabilityZones",
        &Typed(network::describe_availability_zones),
    ),
    (
        "DescribeIamInstanceProfileAssociations",
        &Typed(profile_associations::describe_iam_instance_profile_associations),
    ),
    (
        "DescribeImageAttribute",
        &Replying(image_attributes::describe_image_attribute),
    ),
    ("DescribeImages", &Replying(images::describe_images)),
    (
        "DescribeInstanceAttribute",
        &Replying(instance_attributes::describe_instance_attribute),
    ),
    (
        "DescribeInstanceStatus",
        &Typed(instance_view::describe_instance_status),
    ),
    (
        "DescribeInstanceTypeOfferings",
        &Typed(instance_types::describe_instance_type_offerings),
    ),
    (
        "DescribeInstanceTypes",
        &Typed(instance_types::describe_instance_types),
    ),
    (
        "DescribeInstances",
        &Replying(instance_view::describe_instances),
    ),
    (
        "DescribeInternetGateways",
        &Typed(route_tables::describe_internet_gateways),
    ),
    ("DescribeKeyPairs", &Typed(key_pairs::describe_key_pairs)),
    (
        "DescribeLaunchTemplateVersions",
        &Typed(launch_templates::describe_launch_template_versions),
    ),
    (
        "DescribeLaunchTemplates",
        &Typed(launch_templates::describe_launch_templates),
    ),
    (
        "DescribeNetworkInterfaces",
        &Typed(interfaces::describe_network_interfaces),
    ),
    ("DescribeRegions", &Typed(regions::describe_regions)),
    (
        "DescribeRouteTables",
        &Typed(route_tables::describe_route_tables),
    ),
    (
        "DescribeSecurityGroupRules",
        &Typed(security_groups::describe_security_group_rules),
    ),
    (
        "DescribeSecurityGroups",
        &Typed(security_groups::describe_security_groups),
    ),
    (
        "DescribeSnapshots",
        &Replying(snapshots::describe_snapshots),
    ),
    ("DescribeSubnets", &Typed(vpcs::describe_subnets)),
    ("DescribeTags", &Typed(tags::describe_tags)),
    ("DescribeVolumes", &Replying(volumes::describe_volumes)),
    ("DescribeVpcs", &Typed(vpcs::describe_vpcs)),
    (
        "DisassociateIamInstanceProfile",
        &Typed(profile_associations::disassociate_iam_instance_profile),
    ),
    ("GetConsoleOutput", &Typed(instance_ops::get_console_output)),
    (
        "GetLaunchTemplateData",
        &Typed(instance_ops::get_launch_template_data),
    ),
    ("ImportKeyPair", &Typed(key_pairs::import_key_pair)),
    (
        "ModifyImageAttribute",
        &Typed(image_attributes::modify_image_attribute),
    ),
    (
        "ModifyInstanceAttribute",
        &Typed(instance_attributes::modify_instance_attribute),
    ),
    (
        "ModifyLaunchTemplate",
        &Typed(launch_templates::modify_launch_template),
    ),
    ("MonitorInstances", &Typed(instance_ops::monitor_instances)),
    ("RebootInstances", &Typed(instance_ops::reboot_instances)),
    (
        "ReplaceIamInstanceProfileAssociation",
        &Typed(profile_associations::replace_iam_instance_profile_association),
    ),
    (
        "RevokeSecurityGroupEgress",
        &Typed(sg_rules::revoke_security_group_egress),
    ),
    (
        "RevokeSecurityGroupIngress",
        &Typed(sg_rules::revoke_security_group_ingress),
    ),
    ("RunInstances", &Replying(instances::run_instances)),
    ("StartInstances", &Typed(instance_ops::start_instances)),
    ("StopInstances", &Typed(instance_ops::stop_instances)),
    (
        "TerminateInstances",
        &Typed(instance_ops::terminate_instances),
    ),
    (
        "UnmonitorInstances",
        &Typed(instance_ops::unmonitor_instances),
    ),
];

/// Implemented operations and their handlers, sorted by name.
pub const OPERATIONS: &[(&str, Handler)] = &[];

/// What EC2 answers to a `DryRun` request that would have succeeded.
pub fn dry_run_ok() -> ApiError {
    Ec2Error::DryRunOperation
        .with("Request would have succeeded, but DryRun flag is set.")
        .with_status(412)
}

/// Run `f` on the request scope's EC2 store (created with its defaults on first use), under
/// the short scope lock.
pub fn with_store<R>(
    ctx: &RequestContext,
    state: &AppState,
    f: impl FnOnce(&mut Ec2Store) -> R,
) -> R {
    state.stores.with(&ctx.scope, |s| {
        s.ec2.ensure_defaults(&ctx.scope, state);
        f(&mut s.ec2)
    })
}

/// A tag as EC2 takes and returns it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value (EC2 stores a missing value as empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `TagSpecifications.N`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagSpecification {
    /// `instance`, `volume`, `security-group`, ...
    pub resource_type: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// The tags `specs` give resources of `resource_type`, checked as AWS checks them.
pub fn spec_tags(
    specs: &[TagSpecification],
    resource_type: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for spec in specs {
        if spec.resource_type.as_deref() == Some(resource_type) {
            for tag in &spec.tags {
                check_tag(tag)?;
                out.push((tag.key.clone(), tag.value.clone().unwrap_or_default()));
            }
        }
    }
    Ok(out)
}

/// Tag keys may not be empty, longer than 127 characters or start with `aws:` (the last
/// only for callers other than AWS services, which add such tags themselves).
pub fn check_tag(tag: &Tag) -> Result<(), ApiError> {
    if tag.key.is_empty() || tag.key.chars().count() > 127 {
        return Err(invalid(format!(
            "Tag key must be between 1 and 127 characters long: '{}'",
            tag.key
        )));
    }
    if tag.key.to_ascii_lowercase().starts_with("aws:") {
        return Err(invalid(
            "Tag keys starting with 'aws:' are reserved for internal use",
        ));
    }
    if tag
        .value
        .as_deref()
        .is_some_and(|v| v.chars().count() > 255)
    {
        return Err(invalid(format!(
            "Tag value for key '{}' is longer than 255 characters",
            tag.key
        )));
    }
    Ok(())
}

/// Tags as the output `TagList`.
pub fn tag_list(tags: &store::Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: Some(v.clone()),
        })
        .collect()
}

/// Values of the tag filters (`tag:KEY`, `tag-key`, `tag-value`) for a resource's tags, or
/// `None` when `name` is not a tag filter.
pub fn tag_filter_values<'a>(tags: &'a store::Tags, name: &str) -> Option<Vec<&'a str>> {
    if let Some(key) = name.strip_prefix("tag:") {
        return Some(tags.get(key).map(String::as_str).into_iter().collect());
    }
    match name {
        "tag-key" => Some(tags.keys().map(String::as_str).collect()),
        "tag-value" => Some(tags.values().map(String::as_str).collect()),
        _ => None,
    }
}

/// One page of `items` for `MaxResults`/`NextToken` (the token is the offset of the next item).
pub fn paginate<T>(
    items: Vec<T>,
    max_results: Option<i64>,
    next_token: Option<&str>,
    bounds: (i64, i64),
) -> Result<(Vec<T>, Option<String>), ApiError> {
    use crate::services::paging::{Paging, Token, page};
    let token = next_token.filter(|t| !t.is_empty());
    let bad_token = || invalid(format!("Invalid NextToken: {}", token.unwrap_or_default()));
    // The token is checked before MaxResults, as EC2 does.
    if token.is_some_and(|t| Token::Offset.decode(t).is_none_or(|at| at > items.len())) {
        return Err(bad_token());
    }
    let limit = match max_results {
        None => usize::MAX,
        Some(max) => {
            let (low, high) = bounds;
            if !(low..=high).contains(&max) {
                return Err(invalid(format!(
                    "Value ( {max} ) for parameter maxResults is invalid. Expecting a value between {low} and {high}."
                )));
            }
            max as usize
        }
    };
    page(items, token, limit, Paging::OFFSET).map_err(|_| bad_token())
}

/// Check that `id` looks like `prefix-` + hex; else the operation's `.Malformed` error.
pub fn check_id_shape(id: &str, prefix: &str, malformed: Ec2Error) -> Result<(), ApiError> {
    let ok = id
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (8..=17).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
    if ok {
        Ok(())
    } else {
        Err(malformed.with(format!("Invalid id: \"{id}\" (expecting \"{prefix}-...\")")))
    }
}

/// `Return: true` results.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReturnResult {
    /// Always true on success.
    pub r#return: bool,
}

/// An `AttributeValue` / `AttributeBooleanValue` wrapper (`{"Value": ...}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttrValue<T> {
    /// The value.
    pub value: Option<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_offset_and_checks_bounds() {
        let items: Vec<u32> = (0..10).collect();
        let (page, next) = paginate(items.clone(), Some(5), None, (5, 1000)).unwrap();
        assert_eq!(page, vec![0, 1, 2, 3, 4]);
        let (page, next) = paginate(items.clone(), Some(5), next.as_deref(), (5, 1000)).unwrap();
        assert_eq!(page, vec![5, 6, 7, 8, 9]);
        assert_eq!(next, None);
        assert!(paginate(items.clone(), Some(4), None, (5, 1000)).is_err());
        assert!(paginate(items.clone(), None, Some("x"), (5, 1000)).is_err());
        assert_eq!(paginate(items, None, None, (5, 1000)).unwrap().0.len(), 10);
    }

    #[test]
    fn ids_are_checked_for_shape() {
        let malformed = Ec2Error::InvalidInstanceIDMalformed;
        assert!(check_id_shape("i-0123456789abcdef0", "i", malformed).is_ok());
        assert!(check_id_shape("i-12345678", "i", malformed).is_ok());
        assert_eq!(
            check_id_shape("foo", "i", malformed).unwrap_err().code,
            "InvalidInstanceID.Malformed"
        );
        assert!(check_id_shape("i-xyz12345", "i", malformed).is_err());
    }
}
