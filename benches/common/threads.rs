//! CPU time of threads and processes, from `/proc` (Linux; 0 elsewhere): what the benchmarks
//! divide by the requests or handshakes served to get a party's CPU per operation.

/// CPU seconds (user + system) used so far by the threads of process `pid` ("self" for this
/// one) whose name starts with `prefix` (every thread when empty); 0 where `/proc` is missing.
pub fn threads_cpu(pid: &str, prefix: &str) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter_map(|stat| {
            let (head, rest) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1;
            if !name.starts_with(prefix) {
                return None;
            }
            let f: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = f.get(11)?.parse().ok()?;
            let system: f64 = f.get(12)?.parse().ok()?;
            Some((user + system) / ticks)
        })
        .sum()
}

/// CPU seconds of process `pid` and its children (nginx's master and workers).
pub fn process_tree_cpu(pid: u32) -> f64 {
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    threads_cpu(&pid.to_string(), "")
        + children
            .split_whitespace()
            .map(|c| threads_cpu(c, ""))
            .sum::<f64>()
}
