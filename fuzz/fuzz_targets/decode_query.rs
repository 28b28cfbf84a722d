//! Fuzz target: `updraft::fuzzing::decode_query` on arbitrary bytes (see src/fuzzing.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| updraft::fuzzing::decode_query(data));
