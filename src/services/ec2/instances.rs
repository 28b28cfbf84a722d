//! RunInstances: validation, launch templates, placement, addresses, idempotency.
//!
//! Instances are created `pending`; the lifecycle controller boots them on the backend and
//! moves them to `running`. [`launch`] is also the entry point for other services (Auto
//! Scaling) that launch instances on a caller's behalf with their own `aws:` tags.

use std::cell::RefCell;
use std::net::Ipv4Addr;

use base64::Engine;
use serde_json::Value;

use super::block_devices;
use super::images::{shared_images, visible};
use super::instance_out::{ReservationOut, Texts, View, reservation_instances};
pub use super::run_request::LaunchTemplateSpecification;
use super::run_request::RunInstancesRequest;
use super::store::{Ec2Store, Image, Instance, InstanceState};
use super::{check_id_shape, dry_run_ok, instance_types, network, spec_tags};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::{Reply, Sent, parse_input};
use crate::state::{AppState, RegionStores, Scope};

use super::errors::{Ec2Error, invalid, missing};
pub use super::instance_view::{describe_instance_status, describe_instances};

/// Most instances one RunInstances call launches (AWS's default On-Demand limit is in vCPUs;
/// a fixed count keeps one call bounded).
const MAX_PER_CALL: i64 = 1000;
/// Largest user data EC2 accepts (after base64 decoding).
const MAX_USER_DATA: usize = 16 * 1024;

/// RunInstances. The input stays a tree until its launch template is merged in.
pub fn run_instances(
    ctx: &RequestContext,
    state: &AppState,
    input: Value,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    launch_replying(state, &ctx.scope, input, Vec::new(), reply)
}

/// Resolve a launch template version's data (`RequestLaunchTemplateData`) for a spec.
pub fn template_data(
    s: &Ec2Store,
    spec: &LaunchTemplateSpecification,
) -> Result<(String, String, Value), ApiError> {
    let lt = super::launch_templates::find(
        s,
        spec.launch_template_id.as_deref(),
        spec.launch_template_name.as_deref(),
    )?;
    let version = super::launch_templates::resolve_version(lt, spec.version.as_deref())?;
    let data = lt.versions[&version].data.to_tree()?;
    Ok((lt.id.clone(), version.to_string(), data))
}

/// What a launch needs from outside its scope's lock, gathered before taking it: the images
/// other accounts share with this one, and the account's IAM instance profiles (IAM lives in
/// the account's global scope).
pub struct LaunchEnv {
    shared: Vec<Image>,
    profiles: Vec<crate::services::iam::ProfileRef>,
}

impl LaunchEnv {
    /// Gather it (takes other scopes' locks: call it before taking `scope`'s).
    pub fn gather(state: &AppState, scope: &Scope) -> Self {
        Self {
            shared: shared_images(state, scope),
            profiles: crate::services::iam::profiles_of(state, &scope.account),
        }
    }
}

/// A RunInstances input tree as the typed request, its launch template merged in and a
/// `resolve:ssm:` image resolved; with the template's (id, version) when it names one.
type Prepared = (RunInstancesRequest, Option<(String, String)>);

fn prepare(
    stores: &mut RegionStores,
    scope: &Scope,
    state: &AppState,
    input: Value,
) -> Result<Prepared, ApiError> {
    let s = &mut stores.ec2;
    s.ensure_defaults(scope, state);
    let template: Option<LaunchTemplateSpecification> = input
        .get("LaunchTemplate")
        .cloned()
        .map(parse_input)
        .transpose()?;
    let (mut input, from_template) = match &template {
        Some(spec) => {
            let (id, version, data) = template_data(s, spec)?;
            (
                super::launch_templates::merge_template(data, &input),
                Some((id, version)),
            )
        }
        None => (input, None),
    };
    super::launch_refs::resolve_image_id(&stores.ssm, scope, &mut input)?;
    Ok((parse_input(input)?, from_template))
}

/// Launch instances in `scope` from a RunInstances input tree. `system_tags` are added to every
/// instance without the `aws:` check. Returns the `Reservation` output as a tree.
pub fn launch(
    state: &AppState,
    scope: &Scope,
    input: Value,
    system_tags: Vec<(String, String)>,
) -> Result<Value, ApiError> {
    let mut slot = None;
    launch_replying(state, scope, input, system_tags, Reply::Tree(&mut slot))?;
    slot.ok_or_else(ApiError::internal)
}

/// For unit tests: launch one instance of the region's Amazon Linux 2023 image, with `extra`
/// RunInstances members (an object) on top, and return its id.
#[cfg(test)]
pub fn launch_one(state: &AppState, scope: &Scope, extra: Value) -> String {
    let ami = super::images::stable_id(
        "ami",
        &scope.region,
        "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    );
    let mut input = serde_json::json!({"ImageId": ami, "MinCount": 1, "MaxCount": 1});
    if let (Some(input), Value::Object(extra)) = (input.as_object_mut(), extra) {
        input.extend(extra);
    }
    let r = launch(state, scope, input, vec![]).expect("RunInstances");
    r["Instances"][0]["InstanceId"]
        .as_str()
        .expect("an instance id")
        .to_owned()
}

/// [`launch`], sending the `Reservation` through `reply` while the store is locked.
fn launch_replying(
    state: &AppState,
    scope: &Scope,
    input: Value,
    system_tags: Vec<(String, String)>,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    let now = state.clock.now();
    // What the request asks for besides its token, to tell a retry from a different request.
    let fingerprint = match &input {
        Value::Object(map) => {
            let mut map = map.clone();
            map.remove("ClientToken");
            map.remove("DryRun");
            Value::Object(map).to_string()
        }
        other => other.to_string(),
    };
    let env = LaunchEnv::gather(state, scope);
    let result = state.stores.with(scope, |stores| {
        let (req, from_template) = prepare(stores, scope, state, input)?;
        let s = &mut stores.ec2;
        if let Some(token) = req.client_token.as_deref().filter(|t| !t.is_empty())
            && let Some((reservation, earlier)) = s.client_tokens.get(token)
        {
            if *earlier != fingerprint {
                return Err(Ec2Error::IdempotentParameterMismatch.with("Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
                ));
            }
            return send_reservation(s, reservation, scope, reply).map(Some);
        }
        let launch = Launch {
            req: &req,
            from_template,
            system_tags,
            env: &env,
            now,
        };
        let created = create(s, state, scope, launch)?;
        if let (Some(reservation), Some(token)) = (
            &created,
            req.client_token.as_deref().filter(|t| !t.is_empty()),
        ) {
            s.client_tokens
                .insert(token.to_owned(), (reservation.clone(), fingerprint));
        }
        created
            .map(|r| send_reservation(s, &r, scope, reply))
            .transpose()
    })?;
    match result {
        Some(sent) => {
            state.touched(crate::state::Topic::Ec2);
            Ok(sent)
        }
        None => Err(dry_run_ok()),
    }
}

/// Send the reservation `reservation_id` (all its instances) as the `Reservation` output.
fn send_reservation(
    s: &Ec2Store,
    reservation_id: &str,
    scope: &Scope,
    reply: Reply<'_>,
) -> Result<Sent, ApiError> {
    let run = reservation_instances(s, reservation_id);
    let texts = RefCell::new(Texts::default());
    reply.send(&ReservationOut {
        view: View::new(s, scope, &texts),
        run: &run,
    })
}

/// Launch from a RunInstances input tree inside the caller's lock, for another service:
/// `system_tags` go on every instance without the `aws:` check (Auto Scaling's
/// `aws:autoscaling:groupName`). Returns the new instances' ids, in launch order.
pub(super) fn launch_locked(
    stores: &mut RegionStores,
    state: &AppState,
    scope: &Scope,
    env: &LaunchEnv,
    input: Value,
    system_tags: Vec<(String, String)>,
) -> Result<Vec<String>, ApiError> {
    let (req, from_template) = prepare(stores, scope, state, input)?;
    let s = &mut stores.ec2;
    let launch = Launch {
        req: &req,
        from_template,
        system_tags,
        env,
        now: state.clock.now(),
    };
    let reservation = create(s, state, scope, launch)?.ok_or_else(dry_run_ok)?;
    Ok(s.instances
        .values()
        .filter(|i| i.reservation_id == reservation)
        .map(|i| i.id.clone())
        .collect())
}

/// One RunInstances call's inputs besides the store.
struct Launch<'a> {
    req: &'a RunInstancesRequest,
    from_template: Option<(String, String)>,
    system_tags: Vec<(String, String)>,
    env: &'a LaunchEnv,
    now: f64,
}

/// Validate everything, then create the instances; `Ok(None)` for a successful DryRun.
fn create(
    s: &mut Ec2Store,
    state: &AppState,
    scope: &Scope,
    launch: Launch<'_>,
) -> Result<Option<String>, ApiError> {
    let Launch {
        req,
        from_template,
        system_tags,
        env,
        now,
    } = launch;
    let (shared, profiles) = (&env.shared, &env.profiles);
    let ids = &state.ids;
    if req.min_count < 1 {
        return Err(invalid(format!(
            "Invalid value '{}' for MinCount. Must be greater than zero",
            req.min_count
        )));
    }
    if req.max_count < req.min_count {
        return Err(invalid(format!(
            "Invalid value '{}' for MaxCount. Must be greater than or equal to MinCount",
            req.max_count
        )));
    }
    if req.min_count > MAX_PER_CALL {
        return Err(Ec2Error::InstanceLimitExceeded.with(format!(
                "You have requested more instances ({}) than your current instance limit of {MAX_PER_CALL} allows for the specified instance type.",
                req.min_count
            ),
        ));
    }
    let image_id = req.image_id.clone().ok_or_else(|| missing("ImageId"))?;
    check_id_shape(&image_id, "ami", Ec2Error::InvalidAMIIDMalformed)?;
    let image = s
        .images
        .get(&image_id)
        .filter(|i| visible(i, &scope.account))
        .or_else(|| shared.iter().find(|i| i.id == image_id));
    let Some(image) = image else {
        return Err(Ec2Error::InvalidAMIIDNotFound
            .with(format!("The image id '[{image_id}]' does not exist")));
    };
    if image.state != "available" {
        return Err(Ec2Error::InvalidAMIIDUnavailable.with(format!(
            "Image {image_id} is not available: its state is {}",
            image.state
        )));
    }
    let root_device_name = image.root_device_name.clone();
    let (architecture, platform, platform_details) = (
        image.architecture.clone(),
        image.platform.clone(),
        image.platform_details.clone(),
    );
    let devices = block_devices::plan(
        &image.block_devices,
        &root_device_name,
        &req.block_device_mappings,
        &|id: &str| {
            s.snapshots.get(id).map(|n| n.volume_size).or_else(|| {
                image
                    .block_devices
                    .iter()
                    .find(|m| m.spec.snapshot_id.as_deref() == Some(id))
                    .map(|m| m.spec.size)
            })
        },
    )?;
    let instance_type = req
        .instance_type
        .clone()
        .unwrap_or_else(|| "m1.small".into());
    if instance_types::find(&instance_type).is_none() {
        return Err(invalid(format!(
            "Invalid value '{instance_type}' for InstanceType."
        )));
    }
    if let Some(key) = &req.key_name
        && !s.key_pairs.contains_key(key)
    {
        return Err(
            Ec2Error::InvalidKeyPairNotFound.with(format!("The key pair '{key}' does not exist"))
        );
    }
    let shutdown = req
        .instance_initiated_shutdown_behavior
        .clone()
        .unwrap_or_else(|| "stop".into());
    if shutdown != "stop" && shutdown != "terminate" {
        return Err(invalid(format!(
            "Value ({shutdown}) for parameter instanceInitiatedShutdownBehavior is invalid."
        )));
    }
    let user_data = match req.user_data.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(u.trim())
                .map_err(|_| invalid("Invalid BASE64 encoding of user data."))?;
            if decoded.len() > MAX_USER_DATA {
                return Err(invalid(format!(
                    "User data is limited to {MAX_USER_DATA} bytes"
                )));
            }
            Some(u.trim().to_owned())
        }
        None => None,
    };
    // Subnet: SubnetId, the primary network interface's, the zone's default, or the roomiest.
    let nic = req
        .network_interfaces
        .iter()
        .find(|n| n.device_index.unwrap_or(0) == 0);
    let subnet_id = req
        .subnet_id
        .clone()
        .or_else(|| nic.and_then(|n| n.subnet_id.clone()));
    let zone = req.placement.as_ref().and_then(|p| {
        p.availability_zone.clone().or_else(|| {
            let id = p.availability_zone_id.as_ref()?;
            network::zones(&scope.region)
                .into_iter()
                .find(|(_, z)| z == id)
                .map(|(n, _)| n)
        })
    });
    let subnet_id = match (subnet_id, zone) {
        (Some(id), zone) => {
            let subnet = s.subnets.get(&id).ok_or_else(|| {
                Ec2Error::InvalidSubnetIDNotFound
                    .with(format!("The subnet ID '{id}' does not exist"))
            })?;
            if zone.is_some_and(|z| z != subnet.availability_zone) {
                return Err(Ec2Error::InvalidParameterCombination
                    .with("The specified Availability Zone and subnet are in different zones."));
            }
            id
        }
        (None, Some(zone)) => s
            .subnets
            .values()
            .find(|n| n.default_for_az && n.availability_zone == zone)
            .map(|n| n.id.clone())
            .ok_or_else(|| invalid(format!("Invalid availability zone: [{zone}]")))?,
        (None, None) => s
            .subnets
            .values()
            .filter(|n| n.default_for_az)
            .max_by_key(|n| network::available_ips(n))
            .map(|n| n.id.clone())
            .ok_or_else(|| Ec2Error::VPCIdNotSpecified.with("No default VPC for this user"))?,
    };
    let subnet = &s.subnets[&subnet_id];
    let vpc_id = subnet.vpc_id.clone();
    let zone = subnet.availability_zone.clone();
    let wants_public_ip = nic
        .and_then(|n| n.associate_public_ip_address)
        .unwrap_or(subnet.map_public_ip_on_launch);
    // Security groups by id (checked to be in the VPC) and by name.
    let mut groups: Vec<String> = Vec::new();
    let by_id = req
        .security_group_ids
        .iter()
        .chain(nic.map(|n| n.groups.iter()).into_iter().flatten());
    for id in by_id {
        match s.security_groups.get(id) {
            Some(g) if g.vpc_id == vpc_id => groups.push(id.clone()),
            _ => {
                return Err(Ec2Error::InvalidGroupNotFound.with(format!(
                    "The security group '{id}' does not exist in VPC '{vpc_id}'"
                )));
            }
        }
    }
    for name in &req.security_groups {
        let g = s.group_by_name(&vpc_id, name).ok_or_else(|| {
            Ec2Error::InvalidGroupNotFound.with(format!(
                "The security group '{name}' does not exist in VPC '{vpc_id}'"
            ))
        })?;
        groups.push(g.id.clone());
    }
    if groups.is_empty() {
        let default = s.group_by_name(&vpc_id, "default").map(|g| g.id.clone());
        groups.extend(default);
    }
    groups.dedup();
    let requested_ip = req
        .private_ip_address
        .clone()
        .or_else(|| nic.and_then(|n| n.private_ip_address.clone()));
    let requested_ip = match requested_ip {
        Some(text) => {
            if req.max_count > 1 {
                return Err(Ec2Error::InvalidParameterCombination.with(
                    "Cannot specify a private IP address when launching more than one instance",
                ));
            }
            let ip: Ipv4Addr = text
                .parse()
                .map_err(|_| invalid(format!("Invalid private IP address: {text}")))?;
            let subnet = &s.subnets[&subnet_id];
            let offset = u32::from(ip).wrapping_sub(subnet.cidr.base);
            if u64::from(offset) >= subnet.cidr.size() - 1 || offset < 4 {
                return Err(invalid(format!(
                    "Address {ip} does not fall within the subnet's address range"
                )));
            }
            if subnet.allocated.contains(&offset) {
                return Err(
                    Ec2Error::InvalidIPAddressInUse.with(format!("Address {ip} is in use."))
                );
            }
            Some(offset)
        }
        None => None,
    };
    let available = network::available_ips(&s.subnets[&subnet_id]);
    if available < req.min_count {
        return Err(Ec2Error::InsufficientFreeAddressesInSubnet.with(
            "There are not enough free addresses in subnet '".to_owned()
                + &subnet_id
                + "' to satisfy the requested number of instances.",
        ));
    }
    let count = req.max_count.min(available).min(MAX_PER_CALL);
    let mut instance_tags = spec_tags(&req.tag_specifications, "instance")?;
    let volume_tags = spec_tags(&req.tag_specifications, "volume")?;
    instance_tags.extend(system_tags);
    let iam = match &req.iam_instance_profile {
        Some(p) => {
            super::launch_refs::instance_profile(profiles, p.name.as_deref(), p.arn.as_deref())?
        }
        None => None,
    };
    let metadata = req.metadata_options.clone().unwrap_or_default();
    let spot = req.spot_market()?;
    if req.dry_run {
        return Ok(None);
    }

    let reservation_id = ids.resource("r");
    for index in 0..count {
        let id = ids.resource("i");
        let subnet = s.subnets.get_mut(&subnet_id).expect("checked above");
        let private_ip = match requested_ip {
            Some(offset) => {
                subnet.allocated.insert(offset);
                subnet.cidr.addr(offset)
            }
            // Checked above that there is room for `count`.
            None => network::allocate_ip(subnet).unwrap_or(Ipv4Addr::UNSPECIFIED),
        };
        let instance = Instance {
            id: id.clone(),
            reservation_id: reservation_id.clone(),
            image_id: image_id.clone(),
            instance_type: instance_type.clone(),
            key_name: req.key_name.clone(),
            availability_zone: zone.clone(),
            subnet_id: subnet_id.clone(),
            vpc_id: vpc_id.clone(),
            private_ip,
            public_ip: None,
            wants_public_ip,
            security_groups: groups.clone(),
            state: InstanceState::Pending,
            state_since: now,
            transition_reason: String::new(),
            state_reason: Some("pending"),
            launch_time: now,
            user_data: user_data.clone(),
            monitoring: req.monitoring.as_ref().is_some_and(|m| m.enabled),
            ami_launch_index: index,
            client_token: req.client_token.clone(),
            iam_instance_profile: iam.map(|p| super::profile_associations::associate(p, ids, now)),
            disable_api_termination: req.disable_api_termination,
            disable_api_stop: req.disable_api_stop,
            shutdown_behavior: shutdown.clone(),
            ebs_optimized: req.ebs_optimized,
            http_tokens: metadata
                .http_tokens
                .clone()
                .unwrap_or_else(|| "optional".into()),
            http_hop_limit: metadata.http_put_response_hop_limit.unwrap_or(1),
            http_endpoint: metadata
                .http_endpoint
                .clone()
                .unwrap_or_else(|| "enabled".into()),
            root_device_name: root_device_name.clone(),
            architecture: architecture.clone(),
            platform: platform.clone(),
            platform_details: platform_details.clone(),
            root_volume_id: String::new(),
            volume_ids: Vec::with_capacity(devices.len()),
            network_interface_id: ids.resource("eni"),
            launch_template: from_template.clone(),
            source_dest_check: true,
            backend_done: false,
            launched: false,
            reboot_pending: false,
            console_output: None,
            running_since: None,
            impaired_since: None,
            metrics_published_through: None,
            spot_request_id: spot.then(|| ids.resource("sir")),
        };
        let mut instance = instance;
        super::volumes::create_for_launch(
            s,
            ids,
            &mut instance,
            &devices,
            &root_device_name,
            &volume_tags,
        );
        let mut tags = instance_tags.clone();
        if let Some((lt_id, version)) = &from_template {
            tags.push(("aws:ec2launchtemplate:id".into(), lt_id.clone()));
            tags.push(("aws:ec2launchtemplate:version".into(), version.clone()));
        }
        s.set_tags(&id, tags);
        s.instances.insert(id, instance.into());
    }
    tracing::info!(
        reservation_id,
        count,
        instance_type,
        image_id,
        zone,
        "instances launching"
    );
    Ok(Some(reservation_id))
}

/// A public address for a running instance in a default subnet (AWS's 3.x/54.x pools).
pub fn public_ip() -> Ipv4Addr {
    let n: u32 = rand::random();
    let first = if n & 1 == 0 { 3 } else { 54 };
    Ipv4Addr::new(
        first,
        80 + ((n >> 1) % 120) as u8,
        (n >> 9) as u8,
        ((n >> 17) % 253 + 1) as u8,
    )
}
