//! Fuzz target `drill_file`: the body is `equipmatch::fuzzing::drill_file`, so `cargo test` replays the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| equipmatch::fuzzing::drill_file(data));
