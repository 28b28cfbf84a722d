//! Fuzz target: `updraft::fuzzing::request` on arbitrary bytes (see src/fuzzing.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| updraft::fuzzing::request(data));
