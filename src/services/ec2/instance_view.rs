//! Instances as AWS shows them: filters, DescribeInstances (whose `Instance` output is in
//! `instance_out`) and DescribeInstanceStatus.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use super::errors::Ec2Error;
use super::filters::{self, Filter};
pub use super::instance_names::{eni_attachment_id, mac, private_dns, public_dns};
use super::instance_out::{ReservationsOut, Texts, View};
use super::store::{Ec2Store, Instance, InstanceState};
use super::views::{EmptyList, StateOut};
use super::{check_id_shape, dry_run_ok, paginate, tag_filter_values, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::{Reply, Sent};
use crate::state::{AppState, Scope};

/// Seconds a running instance's status checks stay `initializing`.
pub const STATUS_INITIALIZING_SECONDS: f64 = 60.0;

/// Filter names DescribeInstances supports.
const INSTANCE_FILTERS: &[&str] = &[
    "architecture",
    "availability-zone",
    "client-token",
    "dns-name",
    "group-id",
    "group-name",
    "iam-instance-profile.arn",
    "image-id",
    "instance-id",
    "instance-lifecycle",
    "instance-state-code",
    "instance-state-name",
    "instance-type",
    "instance.group-id",
    "instance.group-name",
    "ip-address",
    "key-name",
    "launch-index",
    "monitoring-state",
    "network-interface.network-interface-id",
    "network-interface.subnet-id",
    "owner-id",
    "placement-group-name",
    "private-dns-name",
    "private-ip-address",
    "reservation-id",
    "root-device-name",
    "root-device-type",
    "subnet-id",
    "tag-key",
    "tag-value",
    "tenancy",
    "vpc-id",
];

/// Whether an instance passes the filters.
pub fn instance_matches(s: &Ec2Store, i: &Instance, filters: &[Filter], scope: &Scope) -> bool {
    if filters.is_empty() {
        return true;
    }
    let tags = s.tags_of(&i.id);
    // Computed values only when asked for.
    let computed = |name: &str| -> Option<String> {
        Some(match name {
            "instance-state-code" => i.state.code().to_string(),
            "private-ip-address" => i.private_ip.to_string(),
            "ip-address" => i.public_ip?.to_string(),
            "private-dns-name" => private_dns(i.private_ip, &scope.region),
            "dns-name" => public_dns(i.public_ip?, &scope.region),
            "launch-index" => i.ami_launch_index.to_string(),
            _ => return None,
        })
    };
    filters.iter().all(|f| {
        let owned;
        let have: Vec<&str> = if let Some(t) = tag_filter_values(tags, &f.name) {
            t
        } else {
            match f.name.as_str() {
                "instance-id" => vec![i.id.as_str()],
                "instance-state-name" => vec![i.state.name()],
                "availability-zone" => vec![i.availability_zone.as_str()],
                "image-id" => vec![i.image_id.as_str()],
                "instance-type" => vec![i.instance_type.as_str()],
                "instance-lifecycle" => i.spot_request_id.iter().map(|_| "spot").collect(),
                "subnet-id" | "network-interface.subnet-id" => vec![i.subnet_id.as_str()],
                "vpc-id" => vec![i.vpc_id.as_str()],
                "key-name" => i.key_name.as_deref().into_iter().collect(),
                "reservation-id" => vec![i.reservation_id.as_str()],
                "client-token" => i.client_token.as_deref().into_iter().collect(),
                "group-id" | "instance.group-id" => {
                    i.security_groups.iter().map(String::as_str).collect()
                }
                "group-name" | "instance.group-name" => i
                    .security_groups
                    .iter()
                    .filter_map(|g| s.security_groups.get(g).map(|g| g.name.as_str()))
                    .collect(),
                "monitoring-state" => vec![if i.monitoring { "enabled" } else { "disabled" }],
                "iam-instance-profile.arn" => i
                    .iam_instance_profile
                    .iter()
                    .map(|a| a.arn.as_str())
                    .collect(),
                "architecture" => vec!["x86_64"],
                "root-device-type" => vec!["ebs"],
                "root-device-name" => vec![i.root_device_name.as_str()],
                "tenancy" => vec!["default"],
                "owner-id" => vec![scope.account.as_str()],
                "network-interface.network-interface-id" => vec![i.network_interface_id.as_str()],
                other => {
                    owned = computed(other);
                    owned.as_deref().into_iter().collect()
                }
            }
        };
        f.values
            .iter()
            .any(|p| have.iter().any(|v| filters::wildcard_match(p, v)))
    })
}

/// The instances an exact `tag:KEY` filter (no wildcards) admits, in launch order, from the
/// tag index; `None` when no filter narrows that way. The caller still applies every filter.
fn tag_candidates<'a>(s: &'a Ec2Store, filters: &[Filter]) -> Option<Vec<&'a Instance>> {
    let f = filters
        .iter()
        .find(|f| f.name.starts_with("tag:") && f.values.iter().all(|v| !v.contains(['*', '?'])))?;
    let key = &f.name["tag:".len()..];
    let mut positions: Vec<usize> = f
        .values
        .iter()
        .filter_map(|v| s.ids_tagged(key, v))
        .flatten()
        .filter_map(|id| s.instances.get_index_of(id))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    Some(
        positions
            .into_iter()
            .filter_map(|p| s.instances.get_index(p).map(|(_, i)| &**i))
            .collect(),
    )
}

/// The named instances (each once) in launch order, looked up by id rather than by scanning
/// the store: asking for one instance costs one instance. Ids that do not exist are skipped
/// (the caller has already refused them).
fn id_candidates<'a>(s: &'a Ec2Store, ids: &[String]) -> Vec<&'a Instance> {
    let mut positions: Vec<usize> = ids
        .iter()
        .filter_map(|id| s.instances.get_index_of(id))
        .collect();
    positions.sort_unstable();
    positions.dedup();
    positions
        .into_iter()
        .filter_map(|p| s.instances.get_index(p).map(|(_, i)| &**i))
        .collect()
}

/// Check instance ids: shape first, then existence; AWS names every missing id at once.
pub fn check_instance_ids(s: &Ec2Store, ids: &[String]) -> Result<(), ApiError> {
    for id in ids {
        check_id_shape(id, "i", Ec2Error::InvalidInstanceIDMalformed)?;
    }
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !s.instances.contains_key(*id))
        .map(String::as_str)
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(Ec2Error::InvalidInstanceIDNotFound
            .with(format!("The instance ID '{one}' does not exist"))),
        many => Err(Ec2Error::InvalidInstanceIDNotFound.with(format!(
            "The instance IDs '{}' do not exist",
            many.join(", ")
        ))),
    }
}

/// DescribeInstances' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstancesRequest {
    instance_ids: Vec<String>,
    dry_run: bool,
    filters: Vec<Filter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

impl DescribeInstancesRequest {
    /// Check what needs no state.
    fn check(&self) -> Result<(), ApiError> {
        filters::check_names(&self.filters, INSTANCE_FILTERS)?;
        if self.max_results.is_some() && !self.instance_ids.is_empty() {
            return Err(Ec2Error::InvalidParameterCombination
                .with("The parameter instancesSet cannot be used with the parameter maxResults"));
        }
        Ok(())
    }

    /// The page of matching instances in launch order and the next page's token, or the
    /// error (unknown ids, DryRun, a bad token) before anything is written.
    fn select<'s>(
        &self,
        s: &'s Ec2Store,
        scope: &Scope,
    ) -> Result<(Vec<&'s Instance>, Option<String>), ApiError> {
        check_instance_ids(s, &self.instance_ids)?;
        if self.dry_run {
            return Err(dry_run_ok());
        }
        let candidates: Vec<&Instance> = if self.instance_ids.is_empty() {
            match tag_candidates(s, &self.filters) {
                Some(c) => c,
                None => s.instances.values().map(|i| &**i).collect(),
            }
        } else {
            id_candidates(s, &self.instance_ids)
        };
        let matching: Vec<&Instance> = candidates
            .into_iter()
            .filter(|i| instance_matches(s, i, &self.filters, scope))
            .collect();
        paginate(
            matching,
            self.max_results,
            self.next_token.as_deref(),
            (5, 1000),
        )
    }
}

/// `DescribeInstancesResult`: one page of reservations, borrowing the store.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstancesOut<'a> {
    next_token: Option<String>,
    reservations: ReservationsOut<'a>,
}

/// DescribeInstances: reservations of the matching instances (terminated ones stay visible
/// for an hour, as on AWS). Everything is checked before the output is sent, then the page is
/// written while the store lock is held (no copy of the instances is made).
pub fn describe_instances(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInstancesRequest,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    req.check()?;
    let scope = &ctx.scope;
    with_store(ctx, state, |s| {
        let (page, next_token) = req.select(s, scope)?;
        let texts = RefCell::new(Texts::default());
        reply.send(&DescribeInstancesOut {
            next_token,
            reservations: ReservationsOut {
                view: View::new(s, scope, &texts),
                page: &page,
            },
        })
    })
}

/// DescribeInstanceStatus' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstanceStatusRequest {
    instance_ids: Vec<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    dry_run: bool,
    filters: Vec<Filter>,
    include_all_instances: bool,
}

/// DescribeInstanceStatus: running instances (all with `IncludeAllInstances`), their status
/// checks `initializing` for a minute after boot, then `ok`.
pub fn describe_instance_status(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeInstanceStatusRequest,
) -> Result<DescribeInstanceStatusOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "availability-zone",
            "instance-state-code",
            "instance-state-name",
            "instance-status.reachability",
            "instance-status.status",
            "system-status.reachability",
            "system-status.status",
            "instance-id",
        ],
    )?;
    let now = state.clock.now();
    with_store(ctx, state, |s| {
        check_instance_ids(s, &req.instance_ids)?;
        if req.dry_run {
            return Err(dry_run_ok());
        }
        let mut list = Vec::new();
        for i in s.instances.values() {
            if !req.instance_ids.is_empty() && !req.instance_ids.contains(&i.id) {
                continue;
            }
            if !req.include_all_instances && i.state != InstanceState::Running {
                continue;
            }
            let (system, system_reach) = match (i.state, i.running_since) {
                (InstanceState::Running, Some(t)) if now - t >= STATUS_INITIALIZING_SECONDS => {
                    ("ok", "passed")
                }
                (InstanceState::Running, _) => ("initializing", "initializing"),
                _ => ("not-applicable", ""),
            };
            // An impaired instance fails its instance check; the system check still passes.
            let impaired = i
                .impaired_since
                .filter(|_| i.state == InstanceState::Running);
            let (status, reach) = if impaired.is_some() {
                ("impaired", "failed")
            } else {
                (system, system_reach)
            };
            let code = i.state.code().to_string();
            if !filters::matches_all(&req.filters, |f| match f {
                "availability-zone" => vec![i.availability_zone.as_str()],
                "instance-state-name" => vec![i.state.name()],
                "instance-state-code" => vec![code.as_str()],
                "instance-id" => vec![i.id.as_str()],
                "instance-status.status" => vec![status],
                "system-status.status" => vec![system],
                "instance-status.reachability" => vec![reach],
                "system-status.reachability" => vec![system_reach],
                _ => vec![],
            }) {
                continue;
            }
            let summary = |status, reach: &'static str, since: Option<f64>| StatusSummary {
                details: (!reach.is_empty()).then_some([StatusDetail {
                    impaired_since: since.map(Timestamp),
                    name: "reachability",
                    status: reach,
                }]),
                status,
            };
            let system_summary = summary(system, system_reach, None);
            list.push(InstanceStatusOut {
                availability_zone: i.availability_zone.clone(),
                events: EmptyList,
                instance_id: i.id.clone(),
                instance_state: StateOut(i.state),
                instance_status: summary(status, reach, impaired),
                system_status: system_summary,
                attached_ebs_status: system_summary,
            });
        }
        let (instance_statuses, next_token) =
            paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
        Ok(DescribeInstanceStatusOut {
            instance_statuses,
            next_token,
        })
    })
}

/// `DescribeInstanceStatusResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstanceStatusOut {
    instance_statuses: Vec<InstanceStatusOut>,
    next_token: Option<String>,
}

/// `InstanceStatus`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceStatusOut {
    availability_zone: String,
    events: EmptyList,
    instance_id: String,
    instance_state: StateOut,
    instance_status: StatusSummary,
    system_status: StatusSummary,
    attached_ebs_status: StatusSummary,
}

/// `InstanceStatusSummary` (and `EbsStatusSummary`, the same members).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<[StatusDetail; 1]>,
    status: &'static str,
}

/// `InstanceStatusDetails`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    impaired_since: Option<Timestamp>,
    name: &'static str,
    status: &'static str,
}

/// `LaunchTime` and similar as AWS's text (for messages).
pub fn reason_time(epoch: f64) -> String {
    let iso = Timestamp(epoch).iso8601();
    // 2026-11-28T05:30:00.000Z -> 2026-11-28 05:30:00 GMT
    format!("{} {} GMT", &iso[..10], &iso[11..19])
}
