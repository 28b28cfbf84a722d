//! Instance types: a realistic table (t1, t2, t3, m5, c5), DescribeInstanceTypes and
//! DescribeInstanceTypeOfferings.

use serde::{Deserialize, Serialize};

use super::errors::{Ec2Error, invalid};
use super::filters::{self, Filter};
use super::{dry_run_ok, network, paginate};
use crate::context::RequestContext;
use crate::error::ApiError;
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

/// `InstanceTypeInfo` (members in model order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TypeOut {
    instance_type: &'static str,
    current_generation: bool,
    free_tier_eligible: bool,
    supported_usage_classes: [&'static str; 2],
    supported_root_device_types: [&'static str; 1],
    supported_virtualization_types: &'static [&'static str],
    bare_metal: bool,
    hypervisor: &'static str,
    processor_info: ProcessorOut,
    v_cpu_info: VCpuOut,
    memory_info: MemoryOut,
    instance_storage_supported: bool,
    ebs_info: EbsInfoOut,
    network_info: NetworkOut,
    placement_group_info: PlacementOut,
    hibernation_supported: bool,
    burstable_performance_supported: bool,
    dedicated_hosts_supported: bool,
    auto_recovery_supported: bool,
    supported_boot_modes: [&'static str; 1],
}

/// `ProcessorInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessorOut {
    supported_architectures: &'static [&'static str],
    sustained_clock_speed_in_ghz: f64,
}

/// `VCpuInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct VCpuOut {
    default_v_cpus: u32,
    default_cores: u32,
    default_threads_per_core: u32,
}

/// `MemoryInfo`.
#[derive(Debug, Serialize)]
struct MemoryOut {
    #[serde(rename = "SizeInMiB")]
    size_in_mib: u64,
}

/// `EbsInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EbsInfoOut {
    ebs_optimized_support: &'static str,
    encryption_support: &'static str,
    nvme_support: &'static str,
}

/// `NetworkInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkOut {
    network_performance: &'static str,
    maximum_network_interfaces: u32,
    ipv4_addresses_per_interface: u32,
    ipv6_supported: bool,
    ena_support: &'static str,
}

/// `PlacementGroupInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PlacementOut {
    supported_strategies: [&'static str; 2],
}

fn type_out(t: &InstanceType) -> TypeOut {
    // The previous-generation types run paravirtual images on Xen, and 32-bit ones too.
    let old = t.name == "t1.micro" || t.name == "m1.small";
    let xen_nic = t.name.starts_with("t2") || t.name == "t1.micro";
    TypeOut {
        instance_type: t.name,
        current_generation: t.current,
        free_tier_eligible: free_tier(t),
        supported_usage_classes: ["on-demand", "spot"],
        supported_root_device_types: ["ebs"],
        supported_virtualization_types: if old {
            &["hvm", "paravirtual"]
        } else {
            &["hvm"]
        },
        bare_metal: false,
        hypervisor: if t.name.starts_with("t2") || old {
            "xen"
        } else {
            "nitro"
        },
        processor_info: ProcessorOut {
            supported_architectures: if old {
                &["i386", "x86_64"]
            } else {
                &["x86_64"]
            },
            sustained_clock_speed_in_ghz: 2.5,
        },
        v_cpu_info: VCpuOut {
            default_v_cpus: t.vcpus,
            default_cores: t.vcpus.div_ceil(2).max(1),
            default_threads_per_core: if t.vcpus > 1 { 2 } else { 1 },
        },
        memory_info: MemoryOut {
            size_in_mib: t.memory_mib,
        },
        instance_storage_supported: false,
        ebs_info: EbsInfoOut {
            ebs_optimized_support: if t.name.starts_with('t') {
                "unsupported"
            } else {
                "default"
            },
            encryption_support: "supported",
            nvme_support: if xen_nic { "unsupported" } else { "required" },
        },
        network_info: NetworkOut {
            network_performance: t.network,
            maximum_network_interfaces: 2 + t.vcpus.min(8) / 2,
            ipv4_addresses_per_interface: 2 + t.vcpus * 2,
            ipv6_supported: t.name != "t1.micro",
            ena_support: if xen_nic { "unsupported" } else { "required" },
        },
        placement_group_info: PlacementOut {
            supported_strategies: ["partition", "spread"],
        },
        hibernation_supported: !t.name.starts_with("t1"),
        burstable_performance_supported: t.burstable,
        dedicated_hosts_supported: !t.burstable,
        auto_recovery_supported: true,
        supported_boot_modes: ["legacy-bios"],
    }
}

/// Whether the free tier covers the type.
fn free_tier(t: &InstanceType) -> bool {
    matches!(t.name, "t2.micro" | "t3.micro" | "t1.micro")
}

/// `DescribeInstanceTypesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstanceTypesOut {
    instance_types: Vec<TypeOut>,
    next_token: Option<String>,
}

/// DescribeInstanceTypes' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstanceTypesRequest {
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
    req: DescribeInstanceTypesRequest,
) -> Result<DescribeInstanceTypesOut, ApiError> {
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
    let list: Vec<&InstanceType> = TYPES
        .iter()
        .filter(|t| req.instance_types.is_empty() || req.instance_types.iter().any(|n| n == t.name))
        .filter(|t| {
            let (vcpus, mem) = (t.vcpus.to_string(), t.memory_mib.to_string());
            let (cur, burst) = (t.current.to_string(), t.burstable.to_string());
            let free = free_tier(t).to_string();
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
        .collect();
    let (page, next_token) = paginate(list, req.max_results, req.next_token.as_deref(), (5, 100))?;
    Ok(DescribeInstanceTypesOut {
        instance_types: page.into_iter().map(type_out).collect(),
        next_token,
    })
}

/// DescribeInstanceTypeOfferings' input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstanceTypeOfferingsRequest {
    dry_run: bool,
    location_type: Option<String>,
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// `InstanceTypeOffering`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OfferingOut {
    instance_type: &'static str,
    location_type: String,
    location: String,
}

/// `DescribeInstanceTypeOfferingsResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstanceTypeOfferingsOut {
    instance_type_offerings: Vec<OfferingOut>,
    next_token: Option<String>,
}

/// DescribeInstanceTypeOfferings: every type in the region and in each of its zones.
pub fn describe_instance_type_offerings(
    ctx: &RequestContext,
    _: &AppState,
    req: DescribeInstanceTypeOfferingsRequest,
) -> Result<DescribeInstanceTypeOfferingsOut, ApiError> {
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
                list.push(OfferingOut {
                    instance_type: t.name,
                    location_type: location_type.clone(),
                    location: loc.clone(),
                });
            }
        }
    }
    let (instance_type_offerings, next_token) =
        paginate(list, req.max_results, req.next_token.as_deref(), (5, 1000))?;
    Ok(DescribeInstanceTypeOfferingsOut {
        instance_type_offerings,
        next_token,
    })
}
