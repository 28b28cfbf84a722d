//! Network: Availability Zones, the default VPC with one default subnet per AZ, CIDR blocks,
//! private address allocation, and DescribeAccountAttributes. VPC and subnet operations are
//! in `vpcs`.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::errors::invalid;
use super::filters::{self, Filter};
use super::store::{Ec2Store, SecurityGroup, SgRule, Subnet, Vpc};
use super::views::EmptyList;
use super::{dry_run_ok, with_store};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::{AppState, IdGen, Scope};

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cidr {
    /// Network address.
    pub base: u32,
    /// Prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parse `a.b.c.d/n` (the address must be the network address).
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = text.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let base = u32::from(addr);
        (base & !Self::host_mask(prefix) == base).then_some(Self { base, prefix })
    }

    fn host_mask(prefix: u8) -> u32 {
        if prefix == 0 {
            u32::MAX
        } else {
            u32::MAX >> prefix
        }
    }

    /// Number of addresses.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Whether `other` lies inside this block.
    pub fn contains(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && (other.base & !Self::host_mask(self.prefix)) == self.base
    }

    /// Whether the two blocks share an address.
    pub fn overlaps(self, other: Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// The address at `offset`.
    pub fn addr(self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.base.wrapping_add(offset))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

/// AWS keeps the first four addresses and the last of every subnet.
pub(super) const RESERVED_LOW: u32 = 4;

/// Hand out the next free private address of a subnet.
pub fn allocate_ip(subnet: &mut Subnet) -> Option<Ipv4Addr> {
    let size = subnet.cidr.size() as u32;
    let usable = size.saturating_sub(RESERVED_LOW + 1);
    if subnet.allocated.len() as u32 >= usable {
        return None;
    }
    let mut offset = subnet.cursor.max(RESERVED_LOW);
    loop {
        if offset >= size - 1 {
            offset = RESERVED_LOW;
        }
        if subnet.allocated.insert(offset) {
            subnet.cursor = offset + 1;
            return Some(subnet.cidr.addr(offset));
        }
        offset += 1;
    }
}

/// Give a private address back.
pub fn release_ip(subnet: &mut Subnet, ip: Ipv4Addr) {
    subnet
        .allocated
        .remove(&u32::from(ip).wrapping_sub(subnet.cidr.base));
}

/// Available addresses, as `AvailableIpAddressCount`.
pub fn available_ips(subnet: &Subnet) -> i64 {
    (subnet.cidr.size() as i64 - i64::from(RESERVED_LOW) - 1 - subnet.allocated.len() as i64).max(0)
}

/// The AZ letters a region offers to a new account.
pub fn zone_letters(region: &str) -> &'static str {
    match region {
        "us-east-1" => "abcdef",
        "us-west-1" => "ac",
        "us-west-2" | "ap-northeast-2" | "eu-central-1" => "abcd",
        "ap-northeast-1" => "acd",
        "ca-central-1" => "abd",
        _ => "abc",
    }
}

/// `use1`, `apne2`, ...: the prefix of zone ids.
pub fn region_code(region: &str) -> String {
    let mut parts = region.split('-');
    let (Some(area), Some(dir), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        return region.to_owned();
    };
    let dir = match dir {
        "northeast" => "ne",
        "southeast" => "se",
        "northwest" => "nw",
        "southwest" => "sw",
        other => &other[..1],
    };
    format!("{area}{dir}{n}")
}

/// (zone name, zone id) of a region.
pub fn zones(region: &str) -> Vec<(String, String)> {
    let code = region_code(region);
    zone_letters(region)
        .chars()
        .enumerate()
        .map(|(i, letter)| (format!("{region}{letter}"), format!("{code}-az{}", i + 1)))
        .collect()
}

/// Add the default VPC (172.31.0.0/16), its default subnets (a /20 per AZ) and its default
/// security group.
pub fn create_default_vpc(store: &mut Ec2Store, scope: &Scope, ids: &IdGen) {
    let cidr = Cidr {
        base: u32::from(Ipv4Addr::new(172, 31, 0, 0)),
        prefix: 16,
    };
    let vpc_id = add_vpc(store, ids, cidr, true);
    for (i, (zone, zone_id)) in zones(&scope.region).into_iter().enumerate() {
        let cidr = Cidr {
            base: cidr.base + ((i as u32) << 12),
            prefix: 20,
        };
        let id = ids.resource("subnet");
        store.subnets.insert(
            id.clone(),
            Subnet {
                id,
                vpc_id: vpc_id.clone(),
                cidr,
                availability_zone: zone,
                availability_zone_id: zone_id,
                default_for_az: true,
                map_public_ip_on_launch: true,
                allocated: Default::default(),
                cursor: RESERVED_LOW,
            },
        );
    }
}

pub(super) fn add_vpc(store: &mut Ec2Store, ids: &IdGen, cidr: Cidr, is_default: bool) -> String {
    let vpc_id = ids.resource("vpc");
    store.vpcs.insert(
        vpc_id.clone(),
        Vpc {
            id: vpc_id.clone(),
            cidr,
            is_default,
            dhcp_options_id: ids.resource("dopt"),
            cidr_association_id: ids.resource("vpc-cidr-assoc"),
            main_route_table_id: ids.resource("rtb"),
            main_association_id: ids.resource("rtbassoc"),
            // A default VPC comes with an attached internet gateway; CreateVpc makes none.
            internet_gateway_id: is_default.then(|| ids.resource("igw")),
        },
    );
    let sg_id = ids.resource("sg");
    let rules = vec![
        SgRule {
            id: ids.resource("sgr"),
            egress: false,
            protocol: "-1".into(),
            from_port: None,
            to_port: None,
            peer: super::security_groups::Peer::Group(sg_id.clone()),
            description: None,
        },
        super::security_groups::default_egress(ids),
    ];
    store.security_groups.insert(
        sg_id.clone(),
        SecurityGroup {
            id: sg_id,
            name: "default".into(),
            description: "default VPC security group".into(),
            vpc_id: vpc_id.clone(),
            rules,
        },
    );
    vpc_id
}

/// DescribeAvailabilityZones's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAvailabilityZonesRequest {
    zone_names: Vec<String>,
    zone_ids: Vec<String>,
    all_availability_zones: bool,
    dry_run: bool,
    filters: Vec<Filter>,
}

/// `AvailabilityZone`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AvailabilityZoneOut {
    opt_in_status: &'static str,
    messages: EmptyList,
    region_name: String,
    zone_name: String,
    zone_id: String,
    group_name: String,
    network_border_group: String,
    zone_type: &'static str,
    state: &'static str,
}

/// `DescribeAvailabilityZonesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAvailabilityZonesOut {
    availability_zones: Vec<AvailabilityZoneOut>,
}

/// DescribeAvailabilityZones.
pub fn describe_availability_zones(
    ctx: &RequestContext,
    _: &AppState,
    req: DescribeAvailabilityZonesRequest,
) -> Result<DescribeAvailabilityZonesOut, ApiError> {
    filters::check_names(
        &req.filters,
        &[
            "group-name",
            "message",
            "opt-in-status",
            "region-name",
            "state",
            "zone-id",
            "zone-name",
            "zone-type",
        ],
    )?;
    let region = &ctx.scope.region;
    let all = zones(region);
    for name in &req.zone_names {
        if !all.iter().any(|(z, _)| z == name) {
            return Err(invalid(format!("The zone '{name}' does not exist.")));
        }
    }
    if req.dry_run {
        return Err(dry_run_ok());
    }
    let _ = req.all_availability_zones; // no Local Zones or Wavelength Zones to add
    let availability_zones = all
        .into_iter()
        .filter(|(name, id)| {
            (req.zone_names.is_empty() || req.zone_names.contains(name))
                && (req.zone_ids.is_empty() || req.zone_ids.contains(id))
                && filters::matches_all(&req.filters, |f| match f {
                    "zone-name" => vec![name.as_str()],
                    "zone-id" => vec![id.as_str()],
                    "region-name" | "group-name" => vec![region.as_str()],
                    "state" => vec!["available"],
                    "opt-in-status" => vec!["opt-in-not-required"],
                    "zone-type" => vec!["availability-zone"],
                    _ => vec![],
                })
        })
        .map(|(zone_name, zone_id)| AvailabilityZoneOut {
            opt_in_status: "opt-in-not-required",
            messages: EmptyList,
            region_name: region.clone(),
            zone_name,
            zone_id,
            group_name: region.clone(),
            network_border_group: region.clone(),
            zone_type: "availability-zone",
            state: "available",
        })
        .collect();
    Ok(DescribeAvailabilityZonesOut { availability_zones })
}

/// DescribeAccountAttributes's input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAccountAttributesRequest {
    dry_run: bool,
    attribute_names: Vec<String>,
}

/// `AccountAttribute`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountAttributeOut {
    attribute_name: &'static str,
    attribute_values: [AttributeValueOut; 1],
}

/// `AccountAttributeValue`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeValueOut {
    attribute_value: String,
}

/// `DescribeAccountAttributesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAccountAttributesOut {
    account_attributes: Vec<AccountAttributeOut>,
}

/// DescribeAccountAttributes: the limits and platform facts of a current account.
pub fn describe_account_attributes(
    ctx: &RequestContext,
    state: &AppState,
    req: DescribeAccountAttributesRequest,
) -> Result<DescribeAccountAttributesOut, ApiError> {
    if req.dry_run {
        return Err(dry_run_ok());
    }
    let default_vpc = with_store(ctx, state, |s| {
        s.default_vpc()
            .map_or_else(|| "none".to_owned(), |v| v.id.clone())
    });
    let all = [
        ("supported-platforms", "VPC".to_owned()),
        ("default-vpc", default_vpc),
        ("max-instances", "20".to_owned()),
        ("vpc-max-security-groups-per-interface", "5".to_owned()),
        ("max-elastic-ips", "5".to_owned()),
        ("vpc-max-elastic-ips", "5".to_owned()),
    ];
    let account_attributes = all
        .into_iter()
        .filter(|(n, _)| {
            req.attribute_names.is_empty() || req.attribute_names.iter().any(|a| a == n)
        })
        .map(|(attribute_name, attribute_value)| AccountAttributeOut {
            attribute_name,
            attribute_values: [AttributeValueOut { attribute_value }],
        })
        .collect();
    Ok(DescribeAccountAttributesOut { account_attributes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_contain_and_overlap() {
        let vpc = Cidr::parse("172.31.0.0/16").unwrap();
        let a = Cidr::parse("172.31.16.0/20").unwrap();
        assert!(vpc.contains(a) && !a.contains(vpc) && a.overlaps(vpc));
        assert!(!a.overlaps(Cidr::parse("172.31.32.0/20").unwrap()));
        assert!(Cidr::parse("172.31.0.1/16").is_none(), "host bits set");
        assert!(Cidr::parse("300.0.0.0/8").is_none());
        assert_eq!(a.to_string(), "172.31.16.0/20");
        assert_eq!(a.size(), 4096);
    }

    #[test]
    fn addresses_skip_reserved_ones_and_are_reused_after_release() {
        let mut subnet = Subnet {
            id: "subnet-1".into(),
            vpc_id: "vpc-1".into(),
            cidr: Cidr::parse("10.0.0.0/28").unwrap(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            default_for_az: false,
            map_public_ip_on_launch: false,
            allocated: Default::default(),
            cursor: 0,
        };
        let got: Vec<Ipv4Addr> = std::iter::from_fn(|| allocate_ip(&mut subnet)).collect();
        assert_eq!(got.len(), 11, "16 - 4 low - broadcast");
        assert_eq!(got[0], Ipv4Addr::new(10, 0, 0, 4));
        assert_eq!(got[10], Ipv4Addr::new(10, 0, 0, 14));
        assert_eq!(available_ips(&subnet), 0);
        release_ip(&mut subnet, Ipv4Addr::new(10, 0, 0, 7));
        assert_eq!(allocate_ip(&mut subnet), Some(Ipv4Addr::new(10, 0, 0, 7)));
    }

    #[test]
    fn zones_have_aws_names_and_ids() {
        let z = zones("ap-northeast-1");
        assert_eq!(z[1], ("ap-northeast-1c".to_owned(), "apne1-az2".to_owned()));
        assert_eq!(zones("us-east-1").len(), 6);
        assert_eq!(region_code("eu-west-2"), "euw2");
    }
}
