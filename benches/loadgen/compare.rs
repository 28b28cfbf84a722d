//! Two (or more) server binaries side by side (part of the `loadgen` bench): each is spawned
//! on a free loopback port, and the same workloads run against them in alternating rounds
//! (A then B, then B then A, ...), so that load from elsewhere on the machine falls on both.
//! Each round reads the server's CPU time (utime + stime) before and after; the figures pool
//! every round: requests/s, p50/p99 latency and server CPU per request.
//!
//!     LOADGEN_COMPARE=/old/updraft,/new/updraft cargo bench --bench loadgen -- --ops DescribeRegions

use std::path::PathBuf;
use std::time::Instant;

use super::startup::{ChildServer, wait_healthy};
use super::throughput::{Stats, cold_request, measure, table};
use super::{Settings, Workload};

pub fn compare(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    workloads: &[&'static Workload],
    binaries: &[&str],
) {
    let mut servers = Vec::with_capacity(binaries.len());
    for binary in binaries {
        let path = PathBuf::from(binary);
        let spawned = Instant::now();
        let mut server = match ChildServer::spawn(&path) {
            Ok(server) => server,
            Err(e) => {
                println!("loadgen: cannot spawn {binary}: {e}");
                return;
            }
        };
        if let Err(e) = wait_healthy(&mut server, spawned) {
            println!("loadgen: {binary}: {e}");
            return;
        }
        servers.push(server);
    }
    println!(
        "== comparison: {} rounds, each {} requests per workload over {} keep-alive connections (cap {} s)",
        s.rounds,
        s.requests,
        s.connections,
        s.cap.as_secs()
    );
    for (binary, server) in binaries.iter().zip(&servers) {
        println!("   {binary} (pid {}, {})", server.pid(), server.addr);
        for &w in workloads {
            if let Err(e) = rt.block_on(super::setup(server.addr, w)) {
                println!("   {}: setup failed: {e}", w.label);
            }
            match rt.block_on(cold_request(server.addr, w)) {
                Ok(text) => println!("   {}: first request {text}", w.label),
                Err(e) => println!("   {}: first request failed: {e}", w.label),
            }
        }
    }
    println!();

    // pooled[binary][workload]
    let mut pooled: Vec<Vec<Stats>> = vec![vec![Stats::default(); workloads.len()]; servers.len()];
    for round in 0..s.rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..servers.len()).collect()
        } else {
            (0..servers.len()).rev().collect()
        };
        for b in order {
            let server = &servers[b];
            for (i, &w) in workloads.iter().enumerate() {
                let stats = rt.block_on(measure(server.addr, s, w, Some(server.pid())));
                pooled[b][i].merge(stats);
            }
        }
    }
    for (b, binary) in binaries.iter().enumerate() {
        let rows: Vec<(&str, Stats)> = workloads
            .iter()
            .zip(&pooled[b])
            .map(|(w, stats)| (w.label, stats.clone()))
            .collect();
        table(binary, &rows);
    }
    if servers.len() == 2 {
        println!("== CPU per request, second binary / first");
        for (i, w) in workloads.iter().enumerate() {
            match (
                pooled[0][i].cpu_us_per_request(),
                pooled[1][i].cpu_us_per_request(),
            ) {
                (Some(a), Some(b)) if a > 0.0 => {
                    println!("   {:<24} {:.2}× ({a:.1} → {b:.1} µs)", w.label, b / a)
                }
                _ => println!("   {:<24} unavailable", w.label),
            }
        }
        println!();
    }
}
