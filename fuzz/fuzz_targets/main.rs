//! The fuzz binary: runs the target of `updraft::fuzzing::TARGETS` that the environment
//! variable `FUZZ_TARGET` names (see src/fuzzing.rs and scripts/fuzz.sh).
#![no_main]

use std::sync::OnceLock;

use updraft::fuzzing::{TARGETS, Target};

fn target() -> Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    *TARGET.get_or_init(|| {
        let name = std::env::var("FUZZ_TARGET").unwrap_or_default();
        match TARGETS.iter().find(|(n, _)| *n == name) {
            Some((_, run)) => *run,
            None => {
                let known: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
                eprintln!(
                    "FUZZ_TARGET={name:?} names no target; one of {}",
                    known.join(", ")
                );
                std::process::exit(2);
            }
        }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| target()(data));
