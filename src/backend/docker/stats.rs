//! Container stats → an EC2 metrics sample (pure; unit-tested).
//!
//! The engine's counters are cumulative since the container (re)started; the backend keeps
//! the previous reading of each instance and turns the difference into `CPUUtilization` (CPU
//! time over wall time, as a percent of the instance's CPUs) and `Network*` (bytes and packets
//! since the previous sample). A counter that went down means the container restarted: the
//! new reading counts from zero.

use std::time::Instant;

use crate::backend::MetricsSample;

/// Cumulative counters read from the engine at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counters {
    /// When read.
    pub at: Instant,
    /// CPU time used, nanoseconds.
    pub cpu_ns: u64,
    /// Received bytes, all interfaces.
    pub rx_bytes: u64,
    /// Sent bytes.
    pub tx_bytes: u64,
    /// Received packets.
    pub rx_packets: u64,
    /// Sent packets.
    pub tx_packets: u64,
}

impl Counters {
    /// Zero counters at `at` (a container just started).
    pub fn zero(at: Instant) -> Self {
        Self {
            at,
            cpu_ns: 0,
            rx_bytes: 0,
            tx_bytes: 0,
            rx_packets: 0,
            tx_packets: 0,
        }
    }

    /// Counters from an engine stats reading.
    pub fn from_stats(stats: &bollard::models::ContainerStatsResponse, at: Instant) -> Self {
        let cpu_ns = stats
            .cpu_stats
            .as_ref()
            .and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
            .unwrap_or(0);
        let mut c = Self {
            cpu_ns,
            ..Self::zero(at)
        };
        for n in stats.networks.iter().flat_map(|m| m.values()) {
            c.rx_bytes += n.rx_bytes.unwrap_or(0);
            c.tx_bytes += n.tx_bytes.unwrap_or(0);
            c.rx_packets += n.rx_packets.unwrap_or(0);
            c.tx_packets += n.tx_packets.unwrap_or(0);
        }
        c
    }
}

fn delta(now: u64, before: u64) -> u64 {
    if now >= before { now - before } else { now }
}

/// The sample between two readings, CPU as a percent of `cpus` (0–100).
pub fn sample(prev: &Counters, cur: &Counters, cpus: f64) -> MetricsSample {
    let wall_ns = cur.at.saturating_duration_since(prev.at).as_nanos() as f64;
    let cpu = if wall_ns > 0.0 && cpus > 0.0 {
        delta(cur.cpu_ns, prev.cpu_ns) as f64 / (wall_ns * cpus) * 100.0
    } else {
        0.0
    };
    MetricsSample {
        cpu_utilization: cpu.clamp(0.0, 100.0),
        requests: 0,
        network_in_bytes: delta(cur.rx_bytes, prev.rx_bytes),
        network_out_bytes: delta(cur.tx_bytes, prev.tx_bytes),
        network_packets_in: delta(cur.rx_packets, prev.rx_packets),
        network_packets_out: delta(cur.tx_packets, prev.tx_packets),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn cpu_is_normalised_to_the_instance_cpus_and_counters_diffed() {
        let t0 = Instant::now();
        let prev = Counters {
            cpu_ns: 1_000_000_000,
            rx_bytes: 100,
            tx_bytes: 50,
            rx_packets: 3,
            tx_packets: 2,
            ..Counters::zero(t0)
        };
        // One CPU-second over two wall seconds on two CPUs: 25 %.
        let cur = Counters {
            at: t0 + Duration::from_secs(2),
            cpu_ns: 2_000_000_000,
            rx_bytes: 1100,
            tx_bytes: 250,
            rx_packets: 13,
            tx_packets: 7,
        };
        let s = sample(&prev, &cur, 2.0);
        assert!((s.cpu_utilization - 25.0).abs() < 1e-9, "{s:?}");
        assert_eq!(
            (
                s.network_in_bytes,
                s.network_out_bytes,
                s.network_packets_in,
                s.network_packets_out
            ),
            (1000, 200, 10, 5)
        );
        // A busy single CPU instance is 100 %, never more.
        let busy = Counters {
            cpu_ns: prev.cpu_ns + 3_000_000_000,
            ..cur
        };
        assert_eq!(sample(&prev, &busy, 1.0).cpu_utilization, 100.0);
        // A restart reset the counters: the new reading counts from zero.
        let restarted = Counters {
            cpu_ns: 500_000_000,
            rx_bytes: 10,
            ..cur
        };
        let s = sample(&prev, &restarted, 1.0);
        assert!((s.cpu_utilization - 25.0).abs() < 1e-9);
        assert_eq!(s.network_in_bytes, 10);
        assert_eq!(sample(&prev, &prev, 1.0).cpu_utilization, 0.0);
    }
}
