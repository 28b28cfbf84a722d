//! Instance types: a realistic table (t1, t2, t3, m5, c5), DescribeInstanceTypes and
//! DescribeInstanceTypeOfferings.

use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{Ec2Error, invalid};
use super::filters::{self, Filter};
use super::{dry_run_ok, network, paginate};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::services::parse_input;
use crate::state::AppState;

/// One instance type: name, vCPUs, memory (MiB), current generation, burstable, network.
#[derive(Debug, Clone, Copy)]
pub struct InstanceType {
    /// `t3.micro`.
    pub name: &'static str,
    /// Default vCPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Current generation.
    pub current: bool,
    /// Burstable (T family).
    pub burstable: bool,
    /// NetworkPerformance text.
    pub network: &'static str,
}

const fn t(
    name: &'static str,
    vcpus: u32,
    memory_mib: u64,
    current: bool,
    burstable: bool,
    network: &'static str,
) -> InstanceType {
    InstanceType {
        name,
        vcpus,
        memory_mib,
        current,
        burstable,
        network,
    }
}

/// The instance types Updraft offers, with AWS's published sizes.
pub const TYPES: &[InstanceType] = &[
    t("t1.micro", 1, 627, false, true, "Very Low"),
    t("t2.nano", 1, 512, true, true, "Low to Moderate"),
    t("t2.micro", 1, 1024, true, true, "Low to Moderate"),
    t("t2.small", 1, 2048, true, true, "Low to Moderate"),
    t("t2.medium", 2, 4096, true, true, "Low to Moderate"),
    t("t2.large", 2, 8192, true, true, "Low to Moderate"),
    t("t2.xlarge", 4, 16384, true, true, "Moderate"),
    t("t2.2xlarge", 8, 32768, true, true, "Moderate"),
    t("t3.nano", 2, 512, true, true, "Up to 5 Gigabit"),
    t("t3.micro", 2, 1024, true, true, "Up to 5 Gigabit"),
    t("t3.small", 2, 2048, true, true, "Up to 5 Gigabit"),
    t("t3.medium", 2, 4096, true, true, "Up to 5 Gigabit"),
    t("t3.large", 2, 8192, true, true, "Up to 5 Gigabit"),
    t("t3.xlarge", 4, 16384, true, true, "Up to 5 Gigabit"),
    t("t3.2xlarge", 8, 32768, true, true, "Up to 5 Gigabit"),
    t("m1.small", 1, 1740, false, false, "Low"),
    t("m5.large", 2, 8192, true, false, "Up to 10 Gigabit"),
    t("m5.xlarge", 4, 16384, true, false, "Up to 10 Gigabit"),
    t("m5.2xlarge", 8, 32768, true, false, "Up to 10 Gigabit"),
    t("m5.4xlarge", 16, 65536, true, false, "Up to 10 Gigabit"),
    t("m5.8xlarge", 32, 131072, true, false, "10 Gigabit"),
    t("m5.12xlarge", 48, 196608, true, false, "12 Gigabit"),
    t("m5.16xlarge", 64, 262144, true, false, "20 Gigabit"),
    t("m5.24xlarge", 96, 393216, true, false, "25 Gigabit"),
    t("c5.large", 2, 4096, true, false, "Up to 10 Gigabit"),
    t("c5.xlarge", 4, 8192, true, false, "Up to 10 Gigabit"),
    t("c5.2xlarge", 8, 16384, true, false, "Up to 10 Gigabit"),
    t("c5.4xlarge", 16, 32768, true, false, "Up to 10 Gigabit"),
    t("c5.9xlarge", 36, 73728, true, false, "12 Gigabit"),
    t("c5.12xlarge", 48, 98304, true, false, "12 Gigabit"),
    t("c5.18xlarge", 72, 147456, true, false, "25 Gigabit"),
    t("c5.24xlarge", 96, 196608, true, false, "25 Gigabit"),
];

/// Look an instance type up by name.
pub fn find(name: &str) -> Option<&'static InstanceType> {
    TYPES.iter().find(|t| t.name == name)
}

fn type_out(t: &InstanceType) -> Value {
    json!({
        "InstanceType": t.name,
        "CurrentGeneration": t.current,
        "FreeTierEligible": matches!(t.name, "t2.micro" | "t3.micro" | "t1.micro"),
        "SupportedUsageClasses": ["on-demand", "spot"],
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": if t.name == "t1.micro" || t.name == "m1.small" { json!(["hvm", "paravirtual"]) } else { json!(["hvm"]) },
        "BareMetal": false,
        "Hypervisor": if t.name.starts_with("t2") || t.name == "t1.micro" || t.name == "m1.small" { "xen" } else { "nitro" },
        "ProcessorInfo": {"SupportedArchitectures": if t.name == "t1.micro" || t.name == "m1.small" { json!(["i386", "x86_64"]) } else { json!(["x86_64"]) }, "SustainedClockSpeedInGhz": 2.5},
        "VCpuInfo": {"DefaultVCpus": t.vcpus, "DefaultCores": t.vcpus.div_ceil(2).max(1), "DefaultThreadsPerCore": if t.vcpus > 1 { 2 } else { 1 }},
        "MemoryInfo": {"SizeInMiB": t.memory_mib},
        "InstanceStorageSupported": false,
        "EbsInfo": {"EbsOptimizedSupport": if t.name.starts_with('t') { "unsupported" } else { "default" }, "EncryptionSupport": "supported", "NvmeSupport": if t.name.starts_with("t2") || t.name == "t1.micro" { "unsupported" } else { "required" }},
        "NetworkInfo": {"NetworkPerformance": t.network, "MaximumNetworkInterfaces": 2 + t.vcpus.min(8) / 2, "Ipv4AddressesPerInterface": 2 + t.vcpus * 2, "Ipv6Supported": t.name != "t1.micro", "EnaSupport": if t.name.starts_with("t2") || t.name == "t1.micro" { "unsupported" } else { "required" }},
        "PlacementGroupInfo": {"SupportedStrategies": ["partition", "spread"]},
        "HibernationSupported": !t.name.starts_with("t1"),
        "BurstablePerformanceSupported": t.burstable,
        "DedicatedHostsSupported": !t.burstable,
        "AutoRecoverySupported": true,
        "SupportedBootModes": ["legacy-bios"],
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInstanceTypesRequest {
    dry_run: bool,
    instance_types: Vec<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// DescribeInstanceTypes.
pub fn describe_instance_types(
    _: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInstanceTypesRequest = parse_input(input)?;
    filters::check_names(
        &req.filters,
        &[
            "instance-type",
            "current-generation",
            "vcpu-info.default-vcpus",
            "memory-info.size-in-mib",
            "burstable-performance-supported",
            "free-tier-eligible",
            "processor-info.supported-architecture",
        ],
    )?;
    if let Some(bad) = req.instance_types.iter().find(|n| find(n).is_none()) {
        return Err(Ec2Error::InvalidInstanceType.with(format!(
            "The following supplied instance types do not exist: [{bad}]"
        )));
    }
    if req.dry_run {
        return Err(dry_run_ok());
    }
    let list: Vec<Value> = TYPES
        .iter()
        .filter(|t| req.instance_types.is_empty() || req.instance_types.iter().any(|n| n == t.name))
        .filter(|t| {
            let (vcpus, mem) = (t.vcpus.to_string(), t.memory_mib.to_string());
            let (cur, burst) = (t.current.to_string(), t.burstable.to_string());
            let free = matches!(t.name, "t2.micro" | "t3.micro" | "t1.micro").to_string();
            filters::matches_all(&req.filters, |f| match f {
                "instance-type" => vec![t.name],
                "current-generation" => vec![cur.as_str()],
                "vcpu-info.default-vcpus" => vec![vcpus.as_str()],
                "memory-info.size-in-mib" => vec![mem.as_str()],
                "burstable-performance-supported" => vec![burst.as_str()],
                "free-tier-eligible" => vec![free.as_str()],
                "processor-info.supported-architecture" => vec!["x86_64"],
                _ => vec![],
            })
        })
        .map(type_out)
        .collect();
    let (list, next_token) = paginate(list, req.max_results, req.next_token.as_deref(), (5, 100))?;
    Ok(json!({"InstanceTypes": list, "NextToken": next_token}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeInstanceTypeOfferingsRequest {
    dry_run: bool,
    location_type: Option<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// DescribeInstanceTypeOfferings: every type in the region and in each of its zones.
pub fn describe_instance_type_offerings(
    ctx: &RequestContext,
    _: &AppState,
    input: Value,
) -> Result<Value, ApiError> {
    let req: DescribeInstanceTypeOfferingsRequest = parse_input(input)?;
    filters::check_names(&req.filters, &["instance-type", "location"])?;
    if req.dry_run {
        return Err(dry_run_ok());
    }
    let region = ctx.scope.region.clone();
    let location_type = req.location_type.clone().unwrap_or_else(|| "region".into());
    let locations: Vec<String> = match location_type.as_str() {
        "region" => vec![region],
        "availability-zone" => network::zones(&region)
            .into_iter()
            .map(|(n, _)| n)
            .collect(),
        "availability-zone-id" => network::zones(&region)
            .into_iter()
            .map(|(_, i)| i)
            .collect(),
        other => {
            return Err(invalid(format!(
                "Value ({other}) for parameter locationType is invalid."
            )));
        }
    };
    let mut list = Vec::new();
    for loc in &locations {
        for t in TYPES.iter().filter(|t| t.current || t.name == "t1.micro") {
            if filters::matches_all(&req.filters, |f| match f {
                "instance-type" => vec![t.name],
                "location" => vec![loc.as_str()],
                _ => vec![],
            }) {
                list.push(
                    json!({"InstanceType": t.name, "LocationType": location_type, "Location": loc}),
                );
            }
        }
    }
    let (list, next_token) = paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(json!({"InstanceTypeOfferings": list, "NextToken": next_token}))
}
