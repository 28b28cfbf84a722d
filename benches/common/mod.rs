//! What several benchmarks measure the same way: a process's CPU time and resident set from
//! `/proc` (Linux; elsewhere they read as absent), mean wall and CPU time of repeated calls,
//! latency percentiles, and whether the run is `cargo test --benches`' quick one; the set-up
//! several benchmarks share (`query`: a frozen region and whole query requests; `classic`: an
//! in-process server and backend with a Classic load balancer between them).
//!
//! A module of each benchmark that names it (`mod common;`), not a target of its own: a file
//! `benches/common.rs` would be discovered by cargo as one more benchmark.

// Each benchmark uses some of these helpers, never all.
#![allow(dead_code)]

pub mod classic;
pub mod nginx;
pub mod query;
pub mod threads;

/// utime + stime of process `pid` (`"self"` for this one), in seconds: fields 14 and 15 of
/// `/proc/<pid>/stat`, in clock ticks of 1/100 s (Linux's default `USER_HZ`).
pub fn cpu_seconds_of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields that follow start after its `)`, and
    // `fields[0]` is field 3 (the state).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// CPU time (user + system) this process has used, in seconds, or 0. On a shared, busy
/// machine wall time mostly measures the queue for a core; CPU time is the cost.
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("self").unwrap_or(0.0)
}

/// Mean wall and CPU milliseconds of `runs` calls of `f`.
pub fn timed(runs: u32, mut f: impl FnMut()) -> (f64, f64) {
    let (wall, cpu) = (std::time::Instant::now(), cpu_seconds());
    for _ in 0..runs {
        f();
    }
    (
        wall.elapsed().as_secs_f64() * 1000.0 / f64::from(runs),
        (cpu_seconds() - cpu) * 1000.0 / f64::from(runs),
    )
}

/// Resident set size of process `pid` (`"self"` for this one) in KiB: `VmRSS` of
/// `/proc/<pid>/status`.
pub fn rss_kib_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// This process's resident set size in KiB, or 0 where `/proc` is absent.
pub fn rss_kib() -> u64 {
    rss_kib_of("self").unwrap_or(0)
}

/// The value at `fraction` (0 to 1) of `sorted`, nearest rank; 0 for no values.
pub fn percentile(sorted: &[u32], fraction: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// `cargo test --benches` runs each benchmark once without `--bench`: use small sizes then.
pub fn quick() -> bool {
    !std::env::args().any(|a| a == "--bench")
}
