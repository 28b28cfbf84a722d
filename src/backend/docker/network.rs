//! Private addresses: an instance's container joins a Docker network made for its VPC, at its
//! EC2 `PrivateIpAddress`, so that the address DescribeInstances shows is the one the
//! container has (and the host reaches it there: a bridge network's subnet is routed to it).
//!
//! - One bridge network per VPC, `updraft-<owner>-<vpc-id>`, labelled with the owner and the
//!   VPC, created when the VPC's first instance launches. Its subnet is the VPC's CIDR block and
//!   its gateway (the host's side of the bridge) the block's first host address, which EC2
//!   never hands to an instance (every subnet keeps its first four addresses; a subnet that
//!   does not start at the VPC's base does not hold that address at all).
//! - A block that overlaps a route of the host (a LAN, a VPN, another Docker network) cannot
//!   be a bridge without breaking that route: the VPC's instances then go on Docker's default
//!   bridge, with an address that is not their private IP, and the log says why, once per VPC.
//!   Two VPCs with overlapping blocks (the default VPCs of two regions or accounts, or of two
//!   Updraft servers sharing an engine) fall into that case: the first to launch gets the
//!   network.
//! - A network of this owner that overlaps and has no containers left (its VPC went with an
//!   admin reset) is removed to make room. Networks go with the owner's containers at
//!   shutdown and at start.
//! - With `--docker-bridge-addresses` Updraft itself runs in a container and reaches instances
//!   at their addresses: it joins each network it makes (its container is found by its
//!   hostname); where it cannot, the network is given up and the bridge fallback applies.

use std::collections::HashMap;

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkingConfig,
};
use bollard::query_parameters::ListNetworksOptions;

use super::{DockerBackend, OWNER_LABEL, engine_address};
use crate::backend::LaunchSpec;
use crate::services::ec2::network::Cidr;

/// Label carrying a network's VPC id.
pub const VPC_LABEL: &str = "updraft.vpc";

/// The network name of a VPC for an owner.
pub fn network_name(owner: &str, vpc_id: &str) -> String {
    format!("updraft-{owner}-{vpc_id}")
}

/// The IPv4 routes of `/proc/net/route` text, as blocks with their interface; the default
/// route (which overlaps everything) is left out.
pub fn parse_routes(text: &str) -> Vec<(String, Cidr)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (iface, dest, mask) = (f.first()?, f.get(1)?, f.get(7)?);
            // The kernel prints the addresses in memory order: network byte order read as a
            // native integer.
            let dest = u32::from_be(u32::from_str_radix(dest, 16).ok()?);
            let mask = u32::from_be(u32::from_str_radix(mask, 16).ok()?);
            let prefix = mask.count_ones() as u8;
            (prefix > 0).then(|| {
                (
                    (*iface).to_owned(),
                    Cidr {
                        base: dest & mask,
                        prefix,
                    },
                )
            })
        })
        .collect()
}

/// The host's route that `block` overlaps, when the engine runs on this host.
fn host_route_overlapping(block: Cidr) -> Option<String> {
    let local = engine_address().starts_with("unix://");
    let text = local
        .then(|| std::fs::read_to_string("/proc/net/route").ok())
        .flatten()?;
    parse_routes(&text)
        .into_iter()
        .find(|(_, r)| r.overlaps(block))
        .map(|(iface, r)| format!("{r} on {iface}"))
}

/// The endpoint settings that put a container on `network` at `ip`.
pub fn endpoint(network: &str, ip: &str) -> NetworkingConfig {
    let settings = EndpointSettings {
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: Some(ip.to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    NetworkingConfig {
        endpoints_config: Some(HashMap::from([(network.to_owned(), settings)])),
    }
}

impl DockerBackend {
    /// The network an instance of `spec` joins at its private address, or `None` for Docker's
    /// default bridge (the reason is logged once per VPC).
    pub(super) async fn vpc_network(&self, spec: &LaunchSpec) -> Option<String> {
        let mut known = self.networks.lock().await;
        let key = format!("{}/{}/{}", spec.account, spec.region, spec.vpc_id);
        if let Some(decided) = known.get(&key) {
            return decided.clone();
        }
        let decided = match self.make_network(spec).await {
            Ok(name) => {
                tracing::info!(vpc_id = %spec.vpc_id, cidr = %spec.vpc_cidr, network = %name,
                    "docker network for the VPC: instances get their private addresses");
                Some(name)
            }
            Err(why) => {
                tracing::warn!(vpc_id = %spec.vpc_id, cidr = %spec.vpc_cidr, reason = %why,
                    "no docker network for the VPC: its instances go on the default bridge, \
                     at addresses that are not their private IPs");
                None
            }
        };
        known.insert(key, decided.clone());
        decided
    }

    async fn make_network(&self, spec: &LaunchSpec) -> Result<String, String> {
        let docker = self.docker().map_err(|e| e.to_string())?;
        let block = Cidr::parse(&spec.vpc_cidr)
            .filter(|b| b.prefix <= 28)
            .ok_or_else(|| format!("unusable VPC CIDR block {:?}", spec.vpc_cidr))?;
        let owner = &self.settings.owner;
        let name = network_name(owner, &spec.vpc_id);
        self.clear_stale_networks(block, &name).await;
        if let Ok(existing) = docker.inspect_network(&name, None).await {
            // Made by a launch of this run that raced the cache, or kept by --keep-containers.
            let same = existing
                .ipam
                .and_then(|i| i.config)
                .unwrap_or_default()
                .iter()
                .any(|c| c.subnet.as_deref() == Some(&block.to_string()));
            return if same {
                Ok(name)
            } else {
                Err(format!("network {name} exists with another subnet"))
            };
        }
        if let Some(route) = host_route_overlapping(block) {
            return Err(format!(
                "{block} overlaps the host's route {route}; give the VPC a block that does not"
            ));
        }
        let request = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            ipam: Some(Ipam {
                driver: Some("default".into()),
                config: Some(vec![IpamConfig {
                    subnet: Some(block.to_string()),
                    gateway: Some(block.addr(1).to_string()),
                    ..Default::default()
                }]),
                options: None,
            }),
            labels: Some(HashMap::from([
                (OWNER_LABEL.to_owned(), owner.clone()),
                (VPC_LABEL.to_owned(), spec.vpc_id.clone()),
                ("updraft.account".to_owned(), spec.account.clone()),
                ("updraft.region".to_owned(), spec.region.clone()),
            ])),
            ..Default::default()
        };
        docker
            .create_network(request)
            .await
            .map_err(|e| format!("the engine refused {block}: {e}"))?;
        if self.settings.via_bridge
            && let Err(e) = self.join_network(&name).await
        {
            self.remove_network_quietly(&name).await;
            return Err(format!(
                "Updraft's own container cannot join {name} to reach instances there: {e}"
            ));
        }
        Ok(name)
    }

    /// Connect Updraft's own container (named by its hostname, as Docker sets it) to `name`.
    async fn join_network(&self, name: &str) -> Result<(), String> {
        let docker = self.docker().map_err(|e| e.to_string())?;
        let me = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .ok_or("no hostname to find Updraft's container by")?;
        docker
            .connect_network(
                name,
                NetworkConnectRequest {
                    container: me,
                    endpoint_config: None,
                },
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// Remove this owner's networks other than `keep` that overlap `block` and hold no
    /// container (only Updraft's own container, with `--docker-bridge-addresses`).
    async fn clear_stale_networks(&self, block: Cidr, keep: &str) {
        let Ok(docker) = self.docker() else { return };
        let Ok(owned) = docker
            .list_networks(Some(ListNetworksOptions {
                filters: Some(self.owner_filter()),
            }))
            .await
        else {
            return;
        };
        for n in owned {
            let Some(name) = n.name.filter(|n| n != keep) else {
                continue;
            };
            let overlaps = n
                .ipam
                .and_then(|i| i.config)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| Cidr::parse(c.subnet.as_deref()?))
                .any(|c| c.overlaps(block));
            if !overlaps {
                continue;
            }
            let Ok(inspected) = docker.inspect_network(&name, None).await else {
                continue;
            };
            let instances = inspected
                .containers
                .unwrap_or_default()
                .values()
                .filter(|c| {
                    c.name
                        .as_deref()
                        .is_some_and(|n| n.starts_with("updraft-i-"))
                })
                .count();
            if instances == 0 {
                tracing::info!(network = %name, "removing an unused network of an earlier VPC");
                self.remove_network_quietly(&name).await;
            }
        }
    }

    /// Remove a network, Updraft's own container leaving it first (with
    /// `--docker-bridge-addresses`).
    pub(super) async fn remove_network_quietly(&self, name: &str) {
        let Ok(docker) = self.docker() else { return };
        if self.settings.via_bridge
            && let Ok(inspected) = docker.inspect_network(name, None).await
        {
            for id in inspected.containers.unwrap_or_default().into_keys() {
                let request = bollard::models::NetworkDisconnectRequest {
                    container: id,
                    force: Some(true),
                };
                // Best effort: a container that went meanwhile has nothing to leave.
                let _ = docker.disconnect_network(name, request).await;
            }
        }
        if let Err(e) = docker.remove_network(name).await {
            tracing::warn!(network = %name, error = %e, "cannot remove network");
        }
    }

    /// Remove every network labelled with this owner (at start and at shutdown, after the
    /// containers), and forget the VPCs' decisions.
    pub(super) async fn remove_owned_networks(&self) {
        self.networks.lock().await.clear();
        let Ok(docker) = self.docker() else { return };
        let owned = match docker
            .list_networks(Some(ListNetworksOptions {
                filters: Some(self.owner_filter()),
            }))
            .await
        {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list networks");
                return;
            }
        };
        for name in owned.into_iter().filter_map(|n| n.name) {
            self.remove_network_quietly(&name).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_from_proc_and_skip_the_default() {
        let text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let routes = parse_routes(text);
        let shown: Vec<String> = routes.iter().map(|(i, c)| format!("{i} {c}")).collect();
        if cfg!(target_endian = "little") {
            assert_eq!(shown, ["docker0 172.17.0.0/16", "eth0 192.0.2.0/24"]);
        }
        assert_eq!(routes.len(), 2);
        let vpc = Cidr::parse("172.31.0.0/16").unwrap();
        assert!(!routes.iter().any(|(_, r)| r.overlaps(vpc)));
        let clash = Cidr::parse("172.16.0.0/12").unwrap();
        assert!(routes.iter().any(|(_, r)| r.overlaps(clash)));
    }

    #[test]
    fn endpoints_carry_the_private_address() {
        let n = endpoint("updraft-o-vpc-1", "172.31.0.4");
        let e = &n.endpoints_config.unwrap()["updraft-o-vpc-1"];
        assert_eq!(
            e.ipam_config.as_ref().unwrap().ipv4_address.as_deref(),
            Some("172.31.0.4")
        );
        assert_eq!(network_name("o", "vpc-1"), "updraft-o-vpc-1");
    }
}
