//! A group's `MixedInstancesPolicy` at work: which instance type and market (On-Demand or Spot)
//! each launch uses, how much capacity each member counts for, and which members a scale-in
//! may take without dropping below the desired capacity.
//!
//! - **Weights** (`Overrides[].WeightedCapacity`): a member counts for its override's weight
//!   (1 without weights); the group's capacity is the sum. AWS launches "until the desired
//!   capacity is totally fulfilled, even if this results in an overage" (LaunchTemplateOverrides
//!   reference), so a launch plan may overshoot by less than the weight it last used; scale-in
//!   takes members only while the capacity stays at or above desired.
//! - **Distribution** (`InstancesDistribution`): `OnDemandBaseCapacity` units (default 0) are
//!   On-Demand; of the capacity above it, `OnDemandPercentageAboveBaseCapacity` percent (default
//!   100) is On-Demand, rounded up in favour of On-Demand; the rest is Spot.
//! - **Allocation**, made deterministic: On-Demand `prioritized` (the default) takes overrides in
//!   the order given, On-Demand `lowest-price` by [`PRICES`] per capacity unit; Spot
//!   `lowest-price` (the default) and `price-capacity-optimized` by [`PRICES`] per unit (Spot
//!   prices are modelled as a fixed fraction of On-Demand, so both markets order alike; every
//!   pool has the same capacity here), `capacity-optimized` and
//!   `capacity-optimized-prioritized` in the order given. Ties keep the order given; types the
//!   table does not know come after the known ones. Within that order a launch takes the first
//!   type whose weight still fits the market's remaining need, else the lightest type (the
//!   smallest overage).

use serde_json::Value;

use super::store::{Group, GroupInstance};
use super::validation;
use crate::error::ApiError;

/// Static On-Demand prices (USD per hour, Linux, us-east-1 list prices) that `lowest-price` and
/// `price-capacity-optimized` order by. Documented, not live: enough to make the choice
/// reproducible.
pub const PRICES: &[(&str, f64)] = &[
    ("t2.nano", 0.0058),
    ("t2.micro", 0.0116),
    ("t2.small", 0.023),
    ("t2.medium", 0.0464),
    ("t2.large", 0.0928),
    ("t3.nano", 0.0052),
    ("t3.micro", 0.0104),
    ("t3.small", 0.0208),
    ("t3.medium", 0.0416),
    ("t3.large", 0.0832),
    ("t3.xlarge", 0.1664),
    ("t3a.micro", 0.0094),
    ("t3a.small", 0.0188),
    ("t3a.medium", 0.0376),
    ("t3a.large", 0.0752),
    ("t4g.micro", 0.0084),
    ("t4g.small", 0.0168),
    ("t4g.medium", 0.0336),
    ("m5.large", 0.096),
    ("m5.xlarge", 0.192),
    ("m6i.large", 0.096),
    ("m7i.large", 0.1008),
    ("c5.large", 0.085),
    ("c5.xlarge", 0.17),
    ("c6i.large", 0.085),
    ("r5.large", 0.126),
];

/// The hourly On-Demand price of a type, if the table knows it.
pub fn price(instance_type: &str) -> Option<f64> {
    PRICES
        .iter()
        .find(|(t, _)| *t == instance_type)
        .map(|(_, p)| *p)
}

/// One `Overrides` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// InstanceType.
    pub instance_type: String,
    /// WeightedCapacity as given (`None` = 1, and the member shows none).
    pub weight: Option<String>,
}

impl Override {
    /// Capacity units one instance of it counts for.
    pub fn units(&self) -> i64 {
        units(self.weight.as_deref())
    }
}

/// A group's mixed instances policy, read from the stored `MixedInstancesPolicy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixed {
    /// Overrides with an instance type, in the order given.
    pub overrides: Vec<Override>,
    /// OnDemandBaseCapacity.
    pub on_demand_base: i64,
    /// OnDemandPercentageAboveBaseCapacity.
    pub on_demand_percent: i64,
    /// OnDemandAllocationStrategy.
    pub on_demand_strategy: String,
    /// SpotAllocationStrategy.
    pub spot_strategy: String,
}

impl Mixed {
    /// The policy of a group, `None` when it has none.
    pub fn of(g: &Group) -> Option<Self> {
        g.mixed_instances_policy.as_ref().map(Self::from_value)
    }

    /// Read a `MixedInstancesPolicy` value (missing members take AWS's defaults).
    pub fn from_value(p: &Value) -> Self {
        let overrides = p
            .pointer("/LaunchTemplate/Overrides")
            .and_then(Value::as_array)
            .map(|o| {
                o.iter()
                    .filter_map(|x| {
                        Some(Override {
                            instance_type: x.get("InstanceType")?.as_str()?.to_owned(),
                            weight: x
                                .get("WeightedCapacity")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let d = p.get("InstancesDistribution");
        let int = |k: &str| d.and_then(|d| d.get(k)).and_then(int_of);
        let text = |k: &str, default: &str| {
            d.and_then(|d| d.get(k))
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        Self {
            overrides,
            on_demand_base: int("OnDemandBaseCapacity").unwrap_or(0).max(0),
            on_demand_percent: int("OnDemandPercentageAboveBaseCapacity")
                .unwrap_or(100)
                .clamp(0, 100),
            on_demand_strategy: text("OnDemandAllocationStrategy", "prioritized"),
            spot_strategy: text("SpotAllocationStrategy", "lowest-price"),
        }
    }

    /// The On-Demand share of `desired` capacity units: the base, then the percentage of the
    /// rest rounded up.
    pub fn on_demand_target(&self, desired: i64) -> i64 {
        let desired = desired.max(0);
        let base = self.on_demand_base.min(desired);
        let above = desired - base;
        base + (above * self.on_demand_percent + 99) / 100
    }

    /// The overrides in the order a market's allocation strategy tries them.
    fn order(&self, spot: bool) -> Vec<&Override> {
        let strategy = if spot {
            &self.spot_strategy
        } else {
            &self.on_demand_strategy
        };
        let mut order: Vec<&Override> = self.overrides.iter().collect();
        if matches!(
            strategy.as_str(),
            "lowest-price" | "price-capacity-optimized"
        ) {
            // Stable sort: ties and unknown types keep the order given.
            order.sort_by(|a, b| {
                let per_unit = |o: &Override| price(&o.instance_type).map(|p| p / o.units() as f64);
                match (per_unit(a), per_unit(b)) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            });
        }
        order
    }

    /// The override a launch in a market uses when `need` units are still missing there.
    fn choose(&self, spot: bool, need: i64) -> Option<&Override> {
        let order = self.order(spot);
        order
            .iter()
            .find(|o| o.units() <= need)
            .or_else(|| order.iter().min_by_key(|o| o.units()))
            .copied()
    }
}

/// What one launch of a mixed group uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// The override's instance type (`None`: the launch template's).
    pub instance_type: Option<String>,
    /// The override's WeightedCapacity as given.
    pub weight: Option<String>,
    /// A Spot Instance (else On-Demand).
    pub spot: bool,
}

/// Capacity units of a `WeightedCapacity` text (1 when absent or unreadable).
pub fn units(weight: Option<&str>) -> i64 {
    weight
        .and_then(|w| w.trim().parse::<i64>().ok())
        .filter(|w| *w >= 1)
        .unwrap_or(1)
}

/// Capacity units a member counts for.
pub fn member_units(i: &GroupInstance) -> i64 {
    units(i.weighted_capacity.as_deref())
}

fn int_of(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The launches that bring a group from `counted` units to at least `target` units: markets
/// by the distribution, types by the allocation strategies. A group without overrides
/// launches `target - counted` plain instances (one unit each).
pub fn plan_launches(g: &Group, counted: i64, target: i64) -> Vec<Pick> {
    let plain = Pick {
        instance_type: None,
        weight: None,
        spot: false,
    };
    let Some(m) = Mixed::of(g) else {
        return vec![plain; (target - counted).max(0) as usize];
    };
    let (mut on_demand, _) = market_units(g);
    let od_target = m.on_demand_target(target);
    let mut total = counted;
    let mut out = Vec::new();
    while total < target {
        let od_need = (od_target - on_demand).min(target - total);
        let spot = od_need <= 0;
        let need = if spot { target - total } else { od_need };
        // No overrides: the template's own type, one unit, still split between markets.
        let (instance_type, weight) = match m.choose(spot, need) {
            Some(o) => (Some(o.instance_type.clone()), o.weight.clone()),
            None => (None, None),
        };
        let u = units(weight.as_deref());
        total += u;
        if !spot {
            on_demand += u;
        }
        out.push(Pick {
            instance_type,
            weight,
            spot,
        });
    }
    out
}

/// Units of the counted members by market: (On-Demand, Spot).
pub fn market_units(g: &Group) -> (i64, i64) {
    g.instances
        .values()
        .filter(|i| i.lifecycle_state.counts())
        .fold((0, 0), |(od, sp), i| {
            if i.spot {
                (od, sp + member_units(i))
            } else {
                (od + member_units(i), sp)
            }
        })
}

/// Scale-in by weight: from `order` (the termination policies' order of preference), the
/// members whose removal keeps the capacity at or above desired; `excess` is counted less
/// desired. Among members that fit, those of the market holding more than its share go first.
pub fn victims_by_weight(g: &Group, order: Vec<String>, excess: i64) -> Vec<String> {
    let share = Mixed::of(g).map(|m| {
        let (od, _) = market_units(g);
        od - m.on_demand_target(g.desired_capacity)
    });
    let mut order = order;
    if let Some(od_surplus) = share {
        // Stable: keep the policies' order within each market.
        let first_spot = od_surplus <= 0;
        order.sort_by_key(|id| g.instances.get(id).map(|i| i.spot != first_spot));
    }
    let mut left = excess;
    let mut out = Vec::new();
    for id in order {
        let Some(i) = g.instances.get(&id) else {
            continue;
        };
        let u = member_units(i);
        if u <= left {
            left -= u;
            out.push(id);
        }
        if left == 0 {
            break;
        }
    }
    out
}

/// Spot allocation strategies AWS accepts.
const SPOT_STRATEGIES: &[&str] = &[
    "lowest-price",
    "capacity-optimized",
    "capacity-optimized-prioritized",
    "price-capacity-optimized",
];

/// Check a `MixedInstancesPolicy` at Create/UpdateAutoScalingGroup: weights 1–999 on all
/// overrides or none, known allocation strategies, a percentage of 0–100, a base of 0 or more.
/// Messages are UNVERIFIED wording.
pub fn check_policy(p: &Value) -> Result<(), ApiError> {
    let overrides = p
        .pointer("/LaunchTemplate/Overrides")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let weights: Vec<Option<&Value>> = overrides
        .iter()
        .map(|o| o.get("WeightedCapacity"))
        .collect();
    for w in weights.iter().flatten() {
        let n = int_of(w);
        if !n.is_some_and(|n| (1..=999).contains(&n)) {
            return Err(validation(format!(
                "Invalid WeightedCapacity {w}: it must be an integer from 1 to 999."
            )));
        }
    }
    if weights.iter().any(Option::is_some) && weights.iter().any(Option::is_none) {
        return Err(validation(
            "If you specify WeightedCapacity for one instance type, you must specify it for all instance types.",
        ));
    }
    let Some(d) = p.get("InstancesDistribution") else {
        return Ok(());
    };
    let text = |k: &str| d.get(k).and_then(Value::as_str);
    if let Some(s) = text("OnDemandAllocationStrategy")
        && !matches!(s, "prioritized" | "lowest-price")
    {
        return Err(validation(format!(
            "Invalid OnDemandAllocationStrategy {s}. Valid values are prioritized and lowest-price."
        )));
    }
    if let Some(s) = text("SpotAllocationStrategy")
        && !SPOT_STRATEGIES.contains(&s)
    {
        return Err(validation(format!(
            "Invalid SpotAllocationStrategy {s}. Valid values are {}.",
            SPOT_STRATEGIES.join(", ")
        )));
    }
    if let Some(v) = d.get("OnDemandPercentageAboveBaseCapacity")
        && !int_of(v).is_some_and(|n| (0..=100).contains(&n))
    {
        return Err(validation(
            "OnDemandPercentageAboveBaseCapacity must be between 0 and 100.",
        ));
    }
    if let Some(v) = d.get("OnDemandBaseCapacity")
        && int_of(v).is_none_or(|n| n < 0)
    {
        return Err(validation("OnDemandBaseCapacity must be 0 or more."));
    }
    Ok(())
}

/// The policy as DescribeAutoScalingGroups shows it: `InstancesDistribution` with AWS's
/// defaults filled in (`prioritized`, base 0, 100 % On-Demand, `lowest-price` with 2 Spot
/// pools).
pub fn with_defaults(p: &Value) -> Value {
    let mut p = p.clone();
    let Some(obj) = p.as_object_mut() else {
        return p;
    };
    let d = obj
        .entry("InstancesDistribution")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Some(d) = d.as_object_mut() {
        let defaults = [
            ("OnDemandAllocationStrategy", Value::from("prioritized")),
            ("OnDemandBaseCapacity", Value::from(0)),
            ("OnDemandPercentageAboveBaseCapacity", Value::from(100)),
            ("SpotAllocationStrategy", Value::from("lowest-price")),
        ];
        for (k, v) in defaults {
            d.entry(k).or_insert(v);
        }
        if d.get("SpotAllocationStrategy").and_then(Value::as_str) == Some("lowest-price") {
            d.entry("SpotInstancePools").or_insert(Value::from(2));
        }
    }
    p
}

#[cfg(test)]
#[path = "mixed_tests.rs"]
mod tests;
