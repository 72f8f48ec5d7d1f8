//! Fuzz target `scenario_toml`: the body is `equipmatch::fuzzing::scenario_toml`, so `cargo test` replays the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| equipmatch::fuzzing::scenario_toml(data));
