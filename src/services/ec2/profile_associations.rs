//! IAM instance profile associations: what RunInstances' `IamInstanceProfile` makes, and
//! Associate/Describe/Replace/DisassociateIamInstanceProfile after launch. An instance has at
//! most one association; it is `associated` as soon as it exists (AWS answers `associating`
//! to Associate and Replace, and `disassociating` to Disassociate, which removes it at once).
//! A terminated instance's association is gone.

use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, invalid, missing};
use super::filters::{self, Filter};
use super::store::{Ec2Store, InstanceState, ProfileAssociation};
use super::{check_id_shape, paginate, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::output::Timestamp;
use crate::services::iam::ProfileRef;
use crate::state::{AppState, IdGen};

/// A new association with `profile`, made at `now`.
pub(super) fn associate(profile: &ProfileRef, ids: &IdGen, now: f64) -> ProfileAssociation {
    ProfileAssociation {
        id: ids.resource("iip-assoc"),
        arn: profile.arn.clone(),
        profile_id: profile.id.clone(),
        since: now,
    }
}

/// `IamInstanceProfile` as an association shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfile {
    arn: String,
    id: String,
}

/// `IamInstanceProfileAssociation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssociationOut {
    association_id: String,
    instance_id: String,
    iam_instance_profile: IamInstanceProfile,
    state: &'static str,
    timestamp: Timestamp,
}

fn association_out(
    instance_id: &str,
    a: &ProfileAssociation,
    state: &'static str,
) -> AssociationOut {
    AssociationOut {
        association_id: a.id.clone(),
        instance_id: instance_id.to_owned(),
        iam_instance_profile: IamInstanceProfile {
            arn: a.arn.clone(),
            id: a.profile_id.clone(),
        },
        state,
        timestamp: Timestamp(a.since),
    }
}

/// The instance holding association `id` (checked for shape first).
fn instance_of(s: &mut Ec2Store, id: &str) -> Result<String, ApiError> {
    check_id_shape(id, "iip-assoc", Ec2Error::InvalidParameterValue)
        .map_err(|_| invalid("Invalid value for associationId."))?;
    s.instances
        .values()
        .find(|i| {
            i.state != InstanceState::Terminated
                && i.iam_instance_profile.as_ref().is_some_and(|a| a.id == id)
        })
        .map(|i| i.id.clone())
        .ok_or_else(|| {
            Ec2Error::InvalidAssociationIDNotFound
                .with(format!("The association ID '{id}' does not exist"))
        })
}

/// `IamInstanceProfileSpecification`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ProfileSpec {
    arn: Option<String>,
    name: Option<String>,
}

/// The profile `spec` names, from the account's IAM (EC2's wording when it has none).
fn resolve(
    ctx: &RequestContext,
    state: &AppState,
    spec: &ProfileSpec,
) -> Result<ProfileRef, ApiError> {
    let profiles = crate::services::iam::profiles_of(state, &ctx.scope.account);
    super::launch_refs::instance_profile(&profiles, spec.name.as_deref(), spec.arn.as_deref())?
        .cloned()
        .ok_or_else(|| missing("IamInstanceProfile"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssociateRequest {
    #[serde(default)]
    iam_instance_profile: ProfileSpec,
    instance_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssociationResponse {
    iam_instance_profile_association: AssociationOut,
}

/// AssociateIamInstanceProfile: an instance that has an association keeps it
/// (`IncorrectState`, AWS's wording).
pub fn associate_iam_instance_profile(
    ctx: &RequestContext,
    state: &AppState,
    req: AssociateRequest,
) -> Result<AssociationResponse, ApiError> {
    let profile = resolve(ctx, state, &req.iam_instance_profile)?;
    let now = state.clock.now();
    with_store(ctx, state, |s| {
        super::instance_view::check_instance_ids(s, std::slice::from_ref(&req.instance_id))?;
        let instance = &mut s.instances[&req.instance_id];
        if instance.state == InstanceState::Terminated {
            return Err(Ec2Error::IncorrectInstanceState.with(format!(
                "The instance '{}' is not in a valid state for this operation.",
                instance.id
            )));
        }
        if instance.iam_instance_profile.is_some() {
            return Err(Ec2Error::IncorrectState.with(format!(
                "There is an existing association for instance {}",
                instance.id
            )));
        }
        let association = associate(&profile, &state.ids, now);
        let out = association_out(&instance.id, &association, "associating");
        instance.iam_instance_profile = Some(association);
        Ok(AssociationResponse {
            iam_instance_profile_association: out,
        })
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplaceRequest {
    #[serde(default)]
    iam_instance_profile: ProfileSpec,
    association_id: String,
}

/// ReplaceIamInstanceProfileAssociation: a new association (new id) with the other profile.
pub fn replace_iam_instance_profile_association(
    ctx: &RequestContext,
    state: &AppState,
    req: ReplaceRequest,
) -> Result<AssociationResponse, ApiError> {
    let profile = resolve(ctx, state, &req.iam_instance_profile)?;
    let now = state.clock.now();
    with_store(ctx, state, |s| {
        let instance_id = instance_of(s, &req.association_id)?;
        let association = associate(&profile, &state.ids, now);
        let out = association_out(&instance_id, &association, "associating");
        s.instances[&instance_id].iam_instance_profile = Some(association);
        Ok(AssociationResponse {
            iam_instance_profile_association: out,
        })
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DisassociateRequest {
    association_id: String,
}

/// DisassociateIamInstanceProfile.
pub fn disassociate_iam_instance_profile(
    ctx: &RequestContext,
    state: &AppState,
    req: DisassociateRequest,
) -> Result<AssociationResponse, ApiError> {
    with_store(ctx, state, |s| {
        let instance_id = instance_of(s, &req.association_id)?;
        let instance = &mut s.instances[&instance_id];
        let association = instance
            .iam_instance_profile
            .take()
            .ok_or_else(ApiError::internal)?;
        Ok(AssociationResponse {
            iam_instance_profile_association: association_out(
                &instance_id,
                &association,
                "disassociating",
            ),
        })
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRequest {
    association_ids: Vec<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeResponse {
    iam_instance_profile_associations: Vec<AssociationOut>,
    next_token: Option<String>,
}

/// DescribeIamInstanceProfileAssociations: by id (each must exist), filtered by `instance-id`
/// and `state`, paged (5 to 1000).
pub fn describe_iam_instance_profile_associations(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeRequest,
) -> Result<DescribeResponse, ApiError> {
    filters::check_names(&req.filters, &["instance-id", "state"])?;
    let all = with_store(ctx, state, |s| {
        for id in &req.association_ids {
            instance_of(s, id)?;
        }
        Ok::<_, ApiError>(
            s.instances
                .values()
                .filter(|i| i.state != InstanceState::Terminated)
                .filter_map(|i| i.iam_instance_profile.as_ref().map(|a| (i, a)))
                .filter(|(_, a)| {
                    req.association_ids.is_empty() || req.association_ids.contains(&a.id)
                })
                .filter(|(i, _)| {
                    filters::matches_all(&req.filters, |name| match name {
                        "instance-id" => vec![i.id.as_str()],
                        "state" => vec!["associated"],
                        _ => Vec::new(),
                    })
                })
                .map(|(i, a)| association_out(&i.id, a, "associated"))
                .collect::<Vec<_>>(),
        )
    })?;
    let (iam_instance_profile_associations, next_token) =
        paginate(all, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(DescribeResponse {
        iam_instance_profile_associations,
        next_token,
    })
}
