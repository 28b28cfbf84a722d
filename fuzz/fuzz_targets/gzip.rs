//! Fuzz target: `updraft::fuzzing::gzip` on arbitrary bytes (see src/fuzzing.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| updraft::fuzzing::gzip(data));
