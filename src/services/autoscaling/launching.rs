//! Launching for a group: the typed EC2 launch request a launch configuration, launch
//! template or mixed instances policy stands for (the override and market the plan picked,
//! see `mixed`), and recording the outcome — a `Pending` member with its activity, or a failed activity and
//! a backoff.

use super::activities::ActivityDetails;
use super::launch_configs;
use super::mixed::Pick;
use super::store::{
    AutoScalingStore, Group, GroupInstance, LifecycleState, TemplateRef, record_activity,
    update_activity,
};
use crate::error::ApiError;
use crate::services::ec2::internal::{LaunchRequest, ProfileSpec, TemplateSpec};
use crate::state::AppState;

/// Longest backoff between failed launches (virtual seconds).
const MAX_BACKOFF: f64 = 300.0;

/// One launch, decided under the lock and made through `ec2::internal::launch`.
pub struct Launch {
    /// Group name.
    pub group: String,
    /// Zone.
    pub zone: String,
    /// Subnet, for VPC groups.
    pub subnet: Option<String>,
    /// What EC2 is asked to launch (with the system and propagated tags).
    pub request: LaunchRequest,
    /// The launch activity's Cause.
    pub cause: String,
    /// The override's WeightedCapacity the member will count for.
    pub weight: Option<String>,
    /// A Spot Instance.
    pub spot: bool,
}

/// The EC2 launch request for one launch of a group; `pick` is the plan's choice for a mixed
/// instances policy (`None`: the policy's first choice for one unit).
pub fn launch_request(
    a: &AutoScalingStore,
    g: &Group,
    zone: String,
    subnet: Option<String>,
    cause: &str,
    pick: Option<&Pick>,
) -> Option<Launch> {
    let first;
    let pick = match pick {
        Some(p) => Some(p),
        None if g.mixed_instances_policy.is_some() => {
            first = super::mixed::plan_launches(g, 0, 1);
            first.first()
        }
        None => None,
    };
    let mut request = LaunchRequest::default();
    if let Some(lc_name) = &g.launch_configuration_name {
        let lc = a.launch_configurations.get(lc_name)?;
        let d = &lc.data;
        request.image_id.clone_from(&d.image_id);
        request.instance_type.clone_from(&d.instance_type);
        request.key_name.clone_from(&d.key_name);
        request.user_data.clone_from(&d.user_data);
        request.ebs_optimized = d.ebs_optimized;
        request.metadata_options.clone_from(&d.metadata_options);
        request.monitoring = Some(launch_configs::monitoring(lc));
        request.iam_instance_profile = d.iam_instance_profile.as_ref().map(|p| {
            if p.starts_with("arn:") {
                ProfileSpec::Arn(p.clone())
            } else {
                ProfileSpec::Name(p.clone())
            }
        });
        if d.security_groups.iter().all(|g| g.starts_with("sg-")) {
            request.security_group_ids.clone_from(&d.security_groups);
        } else {
            request.security_groups.clone_from(&d.security_groups);
        }
    } else {
        let spec = match (&g.launch_template, &g.mixed_instances_policy) {
            (Some(t), _) => t.clone(),
            (None, Some(p)) => {
                let spec = super::groups::mixed_template(p)?;
                TemplateRef {
                    id: spec.launch_template_id.clone().unwrap_or_default(),
                    name: spec.launch_template_name.clone().unwrap_or_default(),
                    version: spec.version.clone(),
                }
            }
            (None, None) => return None,
        };
        let by_id = !spec.id.is_empty();
        request.launch_template = Some(TemplateSpec {
            launch_template_id: by_id.then(|| spec.id.clone()),
            launch_template_name: (!by_id).then(|| spec.name.clone()),
            version: spec.version.clone().unwrap_or_else(|| "$Default".into()),
        });
        if let Some(t) = pick.and_then(|p| p.instance_type.clone()) {
            request.instance_type = Some(t);
        }
        request.spot = pick.is_some_and(|p| p.spot);
    }
    match &subnet {
        Some(s) => request.subnet_id = Some(s.clone()),
        None => request.availability_zone = Some(zone.clone()),
    }
    request
        .system_tags
        .push((super::attach_detach::GROUP_TAG.to_owned(), g.name.clone()));
    for t in g.tags.iter().filter(|t| t.propagate_at_launch) {
        request.system_tags.push((t.key.clone(), t.value.clone()));
    }
    Some(Launch {
        group: g.name.clone(),
        zone,
        subnet,
        request,
        cause: cause.to_owned(),
        weight: pick.and_then(|p| p.weight.clone()),
        spot: pick.is_some_and(|p| p.spot),
    })
}

/// Record a launch's outcome: the instance joins the group `Pending` with its activity, or a
/// failed activity and a backoff.
pub fn record_launch(
    state: &AppState,
    s: &mut crate::state::RegionStores,
    l: &Launch,
    outcome: Result<Vec<String>, ApiError>,
    now: f64,
) {
    let a = &mut s.autoscaling;
    let Some(g) = a.groups.get(&l.group).cloned() else {
        return;
    };
    let details = ActivityDetails::at(l.subnet.as_deref(), &l.zone);
    let activity = state.ids.uuid();
    let id = outcome.as_ref().ok().and_then(|ids| ids.first().cloned());
    let Some(id) = id else {
        let msg = match &outcome {
            Err(e) => format!("{} Launching EC2 instance failed.", e.message),
            Ok(_) => "Launching EC2 instance failed.".to_owned(),
        };
        let desc = "Launching a new EC2 instance".to_owned();
        record_activity(
            a,
            activity.clone(),
            &g,
            desc,
            l.cause.clone(),
            "InProgress",
            0,
            &details,
            None,
            now,
        );
        update_activity(a, &activity, "Failed", 100, Some(&msg), now);
        if let Some(g) = a.groups.get_mut(&l.group) {
            g.launch_failures += 1;
            let backoff = (10.0 * 2f64.powi(g.launch_failures as i32 - 1)).min(MAX_BACKOFF);
            g.next_launch_at = now + backoff;
            tracing::warn!(group = %g.name, error = %msg, retry_in = backoff, "launch failed");
        }
        return;
    };
    let inst = s.ec2.instances.get(&id);
    let template = inst
        .and_then(|i| i.launch_template.clone())
        .map(|(tid, v)| TemplateRef {
            name: s
                .ec2
                .launch_templates
                .get(&tid)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            id: tid,
            version: Some(v),
        });
    let member = GroupInstance {
        id: id.clone(),
        instance_type: inst.map(|i| i.instance_type.clone()).unwrap_or_default(),
        availability_zone: inst
            .map(|i| i.availability_zone.clone())
            .unwrap_or_else(|| l.zone.clone()),
        subnet_id: inst.map(|i| i.subnet_id.clone()).or(l.subnet.clone()),
        lifecycle_state: LifecycleState::Pending,
        state_since: now,
        healthy: true,
        unhealthy_reason: None,
        launch_configuration_name: g.launch_configuration_name.clone(),
        launch_template: template,
        image_id: inst.map(|i| i.image_id.clone()).unwrap_or_default(),
        protected_from_scale_in: g.new_instances_protected_from_scale_in,
        weighted_capacity: l.weight.clone(),
        spot: l.spot,
        launched_at: now,
        in_service_since: None,
        activity_id: Some(activity.clone()),
        lifecycle_action: None,
        launch_hooks_done: false,
        terminate_hooks_done: false,
        deregistered: false,
        termination_reason: None,
        attached: false,
        existing_ec2: false,
    };
    let desc = format!("Launching a new EC2 instance: {id}");
    record_activity(
        a,
        activity,
        &g,
        desc,
        l.cause.clone(),
        "PreInService",
        30,
        &details,
        Some(&id),
        now,
    );
    if let Some(g) = a.groups.get_mut(&l.group) {
        g.launch_failures = 0;
        g.instances.insert(id, member);
    }
}
