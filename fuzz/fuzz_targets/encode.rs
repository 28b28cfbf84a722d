//! Fuzz target: `updraft::fuzzing::encode` on arbitrary bytes (see src/fuzzing.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| updraft::fuzzing::encode(data));
