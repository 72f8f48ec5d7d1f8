//! Fuzz target `request`: the body is `equipmatch::fuzzing::request`, so `cargo test` replays the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| equipmatch::fuzzing::request(data));
