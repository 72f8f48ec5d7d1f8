//! Fuzz target `registry_csv`: the body is `equipmatch::fuzzing::registry_csv`, so `cargo test` replays the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| equipmatch::fuzzing::registry_csv(data));
