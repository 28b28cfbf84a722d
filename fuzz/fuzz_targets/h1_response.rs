//! Fuzz target: `updraft::fuzzing::h1_response` on arbitrary bytes (see src/fuzzing.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| updraft::fuzzing::h1_response(data));
