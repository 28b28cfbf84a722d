//! Fuzz target: `updraft::fuzzing::sigv4` on arbitrary bytes (see src/fuzzing.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| updraft::fuzzing::sigv4(data));
