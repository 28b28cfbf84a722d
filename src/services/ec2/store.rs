//! The EC2 data of one (account, region): plain records behind the scope lock.
//!
//! Records keep what AWS shows plus the few flags the lifecycle controller needs. Tags of
//! every resource live in one map keyed by resource id, so CreateTags/DeleteTags/DescribeTags
//! and `tag:` filters work the same for every resource type.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use indexmap::IndexMap;

use super::{images, network, security_groups};
use crate::state::fasthash::FastBuild;
use crate::state::{AppState, Scope, Shared};

/// Tags of one resource, in the order they were set.
pub type Tags = IndexMap<String, String>;

fn unindex(index: &mut HashMap<(String, String), HashSet<String>>, id: &str, k: String, v: String) {
    let key = (k, v);
    if let Some(ids) = index.get_mut(&key) {
        ids.remove(id);
        if ids.is_empty() {
            index.remove(&key);
        }
    }
}

/// The EC2 data of one (account, region).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ec2Store {
    initialized: bool,
    /// VPCs by id.
    pub vpcs: IndexMap<String, Vpc>,
    /// Subnets by id.
    pub subnets: IndexMap<String, Subnet>,
    /// Security groups by id.
    pub security_groups: IndexMap<String, SecurityGroup>,
    /// Instances by id, in launch order (instances of one reservation are adjacent). Fast
    /// hashing: the load balancers' data plane looks instances up on every request.
    pub instances: IndexMap<String, Shared<Instance>, FastBuild>,
    /// Images by id: the region's public images first, then this account's.
    pub images: IndexMap<String, Image>,
    /// Snapshots by id.
    pub snapshots: IndexMap<String, Snapshot>,
    /// Key pairs by name.
    pub key_pairs: IndexMap<String, KeyPair>,
    /// Launch templates by id.
    pub launch_templates: IndexMap<String, LaunchTemplate>,
    /// Tags by resource id (through the methods below, which keep `tag_index` in step).
    tags: HashMap<String, Shared<Tags>>,
    /// (key, value) → ids carrying that tag: exact `tag:` filters cost their matches only.
    /// Not persisted: rebuilt from `tags` on load ([`Ec2Store::rebuild_tag_index`]).
    #[serde(skip)]
    tag_index: HashMap<(String, String), HashSet<String>>,
    /// RunInstances `ClientToken` → (reservation id, the request's other parameters as
    /// canonical JSON): a retry gets the reservation, a different request with the same
    /// token `IdempotentParameterMismatch`.
    pub client_tokens: HashMap<String, (String, String)>,
    /// EBS volumes by id (instances' root and extra volumes).
    pub volumes: IndexMap<String, Shared<super::volumes::Volume>>,
}

impl Ec2Store {
    /// Create what every region has before the first call: the default VPC with its default
    /// subnets and security group, and the public images (with `--public-amis`' extras).
    pub fn ensure_defaults(&mut self, scope: &Scope, state: &AppState) {
        let ids = &state.ids;
        if self.initialized {
            return;
        }
        self.initialized = true;
        // Derived ids: a read of a region without data builds these on a throwaway store
        // (`state::scope::reading`), and they must be the same when a write builds them.
        let seed = format!("default-vpc/{}/{}", scope.account, scope.region);
        ids.derived(&seed, || network::create_default_vpc(self, scope, ids));
        let extra = super::public_amis::images(&scope.region, state.config.public_amis.as_ref());
        for image in images::public_images(&scope.region)
            .into_iter()
            .chain(extra)
        {
            self.images.insert(image.id.clone(), image);
        }
    }

    /// The tags of a resource (empty when it has none).
    pub fn tags_of(&self, id: &str) -> &Tags {
        static EMPTY: std::sync::LazyLock<Tags> = std::sync::LazyLock::new(Tags::new);
        self.tags.get(id).map_or(&EMPTY, |t| t)
    }

    /// Add or overwrite tags on a resource.
    pub fn set_tags(&mut self, id: &str, tags: impl IntoIterator<Item = (String, String)>) {
        let mut tags = tags.into_iter().peekable();
        if tags.peek().is_none() {
            // No entry for untagged resources: most of them are.
            return;
        }
        let entry = self.tags.entry(id.to_owned()).or_default();
        for (k, v) in tags {
            if let Some(old) = entry.insert(k.clone(), v.clone()) {
                unindex(&mut self.tag_index, id, k.clone(), old);
            }
            self.tag_index
                .entry((k, v))
                .or_default()
                .insert(id.to_owned());
        }
    }

    /// Delete one tag of a resource (only when its value is `value`, if given).
    pub fn delete_tag(&mut self, id: &str, key: &str, value: Option<&str>) {
        let Some(tags) = self.tags.get_mut(id) else {
            return;
        };
        if value.is_some_and(|v| tags.get(key).map(String::as_str) != Some(v)) {
            return;
        }
        if let Some(old) = tags.shift_remove(key) {
            unindex(&mut self.tag_index, id, key.to_owned(), old);
        }
        if tags.is_empty() {
            self.tags.remove(id);
        }
    }

    /// Forget every tag of a resource (it was deleted, or DeleteTags named no tags).
    pub fn clear_tags(&mut self, id: &str) {
        if let Some(tags) = self.tags.remove(id) {
            for (k, v) in tags.into_inner() {
                unindex(&mut self.tag_index, id, k, v);
            }
        }
    }

    /// Rebuild the tag index from the tags (after a snapshot is loaded: the index is not kept).
    pub fn rebuild_tag_index(&mut self) {
        self.tag_index.clear();
        for (id, tags) in &self.tags {
            for (k, v) in tags.iter() {
                self.tag_index
                    .entry((k.clone(), v.clone()))
                    .or_default()
                    .insert(id.clone());
            }
        }
    }

    /// Every tagged resource with its tags.
    pub fn all_tags(&self) -> impl Iterator<Item = (&String, &Tags)> {
        self.tags.iter().map(|(id, tags)| (id, &**tags))
    }

    /// Take the tag index out (a snapshot copies the store without it: it is rebuilt on
    /// load); [`Self::put_tag_index`] puts it back.
    pub fn take_tag_index(&mut self) -> HashMap<(String, String), HashSet<String>> {
        std::mem::take(&mut self.tag_index)
    }

    /// Put back what [`Self::take_tag_index`] took.
    pub fn put_tag_index(&mut self, index: HashMap<(String, String), HashSet<String>>) {
        self.tag_index = index;
    }

    /// The ids carrying tag `key` = `value`.
    pub fn ids_tagged(&self, key: &str, value: &str) -> Option<&HashSet<String>> {
        self.tag_index.get(&(key.to_owned(), value.to_owned()))
    }

    /// The default VPC's id, if there is one.
    pub fn default_vpc(&self) -> Option<&Vpc> {
        self.vpcs.values().find(|v| v.is_default)
    }

    /// A security group of `vpc_id` by name.
    pub fn group_by_name(&self, vpc_id: &str, name: &str) -> Option<&SecurityGroup> {
        self.security_groups
            .values()
            .find(|g| g.vpc_id == vpc_id && g.name == name)
    }

    /// Whether a resource id names something that exists (for CreateTags and friends).
    pub fn exists(&self, id: &str) -> bool {
        self.instances.contains_key(id)
            || self.vpcs.contains_key(id)
            || self.subnets.contains_key(id)
            || self.security_groups.contains_key(id)
            || self.images.get(id).is_some_and(|i| !i.public_catalog)
            || self.snapshots.contains_key(id)
            || self.launch_templates.contains_key(id)
            || self.key_pairs.values().any(|k| k.id == id)
            || self.volumes.contains_key(id)
            || self.vpcs.values().any(|v| {
                v.main_route_table_id == id || v.internet_gateway_id.as_deref() == Some(id)
            })
            || self
                .instances
                .values()
                .any(|i| i.root_volume_id == id || i.network_interface_id == id)
    }
}

/// A VPC.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Vpc {
    /// `vpc-…`.
    pub id: String,
    /// IPv4 CIDR block.
    pub cidr: network::Cidr,
    /// The region's default VPC.
    pub is_default: bool,
    /// `dopt-…`.
    pub dhcp_options_id: String,
    /// `vpc-cidr-assoc-…`.
    pub cidr_association_id: String,
    /// Its main route table, `rtb-…`.
    pub main_route_table_id: String,
    /// The main route table's main association, `rtbassoc-…`.
    pub main_association_id: String,
    /// The internet gateway attached to it (the default VPC has one), `igw-…`.
    pub internet_gateway_id: Option<String>,
}

/// A subnet, with the private addresses handed out in it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Subnet {
    /// `subnet-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// IPv4 CIDR block.
    pub cidr: network::Cidr,
    /// Availability Zone name.
    pub availability_zone: String,
    /// Availability Zone id (`use1-az1`).
    pub availability_zone_id: String,
    /// A default subnet of the default VPC.
    pub default_for_az: bool,
    /// Instances get a public IPv4 address.
    pub map_public_ip_on_launch: bool,
    /// Host offsets in use.
    pub allocated: HashSet<u32>,
    /// Where the next allocation starts looking.
    pub cursor: u32,
}

/// One security group rule (a permission expanded to one peer).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SgRule {
    /// `sgr-…`.
    pub id: String,
    /// Egress (else ingress).
    pub egress: bool,
    /// `tcp`, `udp`, `icmp`, `-1` or a protocol number.
    pub protocol: String,
    /// From port (ICMP type), absent for all protocols.
    pub from_port: Option<i64>,
    /// To port (ICMP code).
    pub to_port: Option<i64>,
    /// The peer.
    pub peer: security_groups::Peer,
    /// Description.
    pub description: Option<String>,
}

/// A security group.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SecurityGroup {
    /// `sg-…`.
    pub id: String,
    /// Name, unique in its VPC.
    pub name: String,
    /// Description.
    pub description: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Ingress and egress rules.
    pub rules: Vec<SgRule>,
}

/// Instance states with AWS's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InstanceState {
    /// 0
    Pending,
    /// 16
    Running,
    /// 32
    ShuttingDown,
    /// 48
    Terminated,
    /// 64
    Stopping,
    /// 80
    Stopped,
}

impl InstanceState {
    /// AWS's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
        }
    }

    /// AWS's code (the low byte).
    pub fn code(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Running => 16,
            Self::ShuttingDown => 32,
            Self::Terminated => 48,
            Self::Stopping => 64,
            Self::Stopped => 80,
        }
    }
}

/// An instance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    /// `i-…`.
    pub id: String,
    /// `r-…`.
    pub reservation_id: String,
    /// `ami-…`.
    pub image_id: String,
    /// `t3.micro`, ...
    pub instance_type: String,
    /// Key pair name.
    pub key_name: Option<String>,
    /// Availability Zone.
    pub availability_zone: String,
    /// Subnet.
    pub subnet_id: String,
    /// VPC.
    pub vpc_id: String,
    /// Primary private IPv4.
    pub private_ip: Ipv4Addr,
    /// Public IPv4, while running (default subnets).
    pub public_ip: Option<Ipv4Addr>,
    /// Whether the subnet hands out public addresses (a new one on every start).
    pub wants_public_ip: bool,
    /// Security group ids.
    pub security_groups: Vec<String>,
    /// Current state.
    pub state: InstanceState,
    /// When the current state began (virtual epoch seconds).
    pub state_since: f64,
    /// `StateTransitionReason`.
    pub transition_reason: String,
    /// `StateReason` code (the message is derived).
    #[serde(deserialize_with = "crate::state::persist::fields::opt_static_str")]
    pub state_reason: Option<crate::state::persist::fields::StaticStr>,
    /// LaunchTime (the latest start).
    pub launch_time: f64,
    /// Base64 user data as given.
    pub user_data: Option<String>,
    /// Detailed monitoring.
    pub monitoring: bool,
    /// Position in its reservation.
    pub ami_launch_index: i64,
    /// RunInstances ClientToken.
    pub client_token: Option<String>,
    /// Its IAM instance profile association.
    pub iam_instance_profile: Option<ProfileAssociation>,
    /// Termination protection.
    pub disable_api_termination: bool,
    /// Stop protection.
    pub disable_api_stop: bool,
    /// `stop` or `terminate`.
    pub shutdown_behavior: String,
    /// EBS-optimized.
    pub ebs_optimized: bool,
    /// Metadata options: `HttpTokens`.
    pub http_tokens: String,
    /// Metadata options: `HttpPutResponseHopLimit`.
    pub http_hop_limit: i64,
    /// Metadata options: `HttpEndpoint`.
    pub http_endpoint: String,
    /// Root device (`/dev/xvda`), from the image.
    pub root_device_name: String,
    /// `x86_64` / `arm64`, from the image.
    pub architecture: String,
    /// `windows` for an instance of a Windows image (AWS leaves `Platform` out for Linux).
    pub platform: Option<String>,
    /// `Linux/UNIX`, `Windows`, from the image.
    pub platform_details: String,
    /// Root EBS volume.
    pub root_volume_id: String,
    /// Every EBS volume attached at launch, root first (details in `Ec2Store::volumes`).
    pub volume_ids: Vec<String>,
    /// Primary network interface.
    pub network_interface_id: String,
    /// Launch template it came from (id, version).
    pub launch_template: Option<(String, String)>,
    /// Source/destination checking.
    pub source_dest_check: bool,
    /// The backend has been asked to do what the current state needs.
    pub backend_done: bool,
    /// The backend has created this instance (a later `pending` is a start, not a launch).
    pub launched: bool,
    /// A reboot to hand to the backend.
    pub reboot_pending: bool,
    /// Console output captured once the instance ran.
    pub console_output: Option<String>,
    /// When it last became `running`.
    pub running_since: Option<f64>,
    /// Since when its instance status check fails (`impaired`): set through the admin API
    /// (`POST /_updraft/instances/{id}/impair`), cleared there or when the instance stops.
    pub impaired_since: Option<f64>,
    /// Start of the last period whose `AWS/EC2` datapoint was published (or the period before
    /// the one it was first seen running in); `None` while not running (the metric publisher's).
    pub metrics_published_through: Option<f64>,
    /// `sir-…` of a Spot Instance (`InstanceLifecycle` `spot`); `None` for On-Demand.
    #[serde(default)]
    pub spot_request_id: Option<String>,
}

impl Instance {
    /// `UsageOperation`: the billing code of the image's platform
    /// (<https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/billing-info-fields.html>).
    pub fn usage_operation(&self) -> &'static str {
        if self.platform.as_deref() == Some("windows") {
            "RunInstances:0002"
        } else {
            "RunInstances"
        }
    }
}

/// An instance's association with an IAM instance profile (`iip-assoc-…`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileAssociation {
    /// `iip-assoc-…`.
    pub id: String,
    /// The profile's ARN.
    pub arn: String,
    /// The profile's id (`AIPA…`).
    pub profile_id: String,
    /// When it was made (epoch seconds).
    pub since: f64,
}

/// An image.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Image {
    /// `ami-…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Owner account.
    pub owner_id: String,
    /// `amazon` for Amazon's images.
    pub owner_alias: Option<String>,
    /// `pending`, `available`, ...
    pub state: String,
    /// When created (epoch seconds).
    pub creation_date: f64,
    /// Launchable by everyone.
    pub public: bool,
    /// One of the built-in public images (not taggable by the account).
    pub public_catalog: bool,
    /// `x86_64` / `arm64`.
    pub architecture: String,
    /// `windows` for Windows images (AWS leaves `Platform` out for Linux).
    pub platform: Option<String>,
    /// `Linux/UNIX`, ...
    pub platform_details: String,
    /// `/dev/xvda`, `/dev/sda1`.
    pub root_device_name: String,
    /// Root volume size in GiB.
    pub volume_size: i64,
    /// Block device mappings, root included (RunInstances starts from these).
    pub block_devices: Vec<super::block_devices::Mapping>,
    /// Root snapshot.
    pub snapshot_id: Option<String>,
    /// Instance it was made from.
    pub source_instance_id: Option<String>,
    /// CopyImage source.
    pub source_image_id: Option<String>,
    /// Accounts allowed to launch it (ModifyImageAttribute launchPermission).
    pub launch_permissions: Vec<String>,
    /// The backend has captured it.
    pub backend_done: bool,
    /// Reboot the source instance as part of CreateImage.
    pub reboot_source: bool,
}

/// An EBS snapshot.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// `snap-…`.
    pub id: String,
    /// Source volume.
    pub volume_id: String,
    /// GiB.
    pub volume_size: i64,
    /// `pending`, `completed`.
    pub state: String,
    /// When started.
    pub start_time: f64,
    /// Description.
    pub description: String,
    /// Owner account.
    pub owner_id: String,
}

/// A key pair (the private key is never kept).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeyPair {
    /// `key-…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// `rsa` or `ed25519`.
    pub key_type: String,
    /// Fingerprint as AWS computes it.
    pub fingerprint: String,
    /// OpenSSH public key line.
    pub public_key: String,
    /// When created.
    pub create_time: f64,
}

/// A launch template with its versions.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LaunchTemplate {
    /// `lt-…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Default version number.
    pub default_version: i64,
    /// Latest version number.
    pub latest_version: i64,
    /// When created.
    pub create_time: f64,
    /// Creator ARN.
    pub created_by: String,
    /// Versions by number.
    pub versions: BTreeMap<i64, LaunchTemplateVersion>,
}

/// One launch template version.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LaunchTemplateVersion {
    /// Version number.
    pub number: i64,
    /// Version description.
    pub description: Option<String>,
    /// When created.
    pub create_time: f64,
    /// `LaunchTemplateData` as given.
    pub data: super::launch_data::LaunchTemplateData,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_index_follows_every_change() {
        let mut s = Ec2Store::default();
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        s.set_tags("i-1", [pair("Name", "a"), pair("env", "prod")]);
        s.set_tags("i-2", [pair("Name", "a")]);
        let ids = |s: &Ec2Store, k: &str, v: &str| {
            let mut ids: Vec<String> = s.ids_tagged(k, v).into_iter().flatten().cloned().collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&s, "Name", "a"), ["i-1", "i-2"]);
        s.set_tags("i-1", [pair("Name", "b")]);
        assert_eq!(ids(&s, "Name", "a"), ["i-2"]);
        assert_eq!(ids(&s, "Name", "b"), ["i-1"]);
        s.delete_tag("i-1", "env", Some("dev"));
        assert_eq!(
            ids(&s, "env", "prod"),
            ["i-1"],
            "value mismatch keeps the tag"
        );
        s.delete_tag("i-1", "env", None);
        assert!(ids(&s, "env", "prod").is_empty());
        s.clear_tags("i-2");
        assert!(ids(&s, "Name", "a").is_empty());
        assert!(s.tags_of("i-2").is_empty());
        assert!(s.tag_index.values().all(|ids| !ids.is_empty()));
    }
}
