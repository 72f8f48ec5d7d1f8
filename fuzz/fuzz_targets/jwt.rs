//! Fuzz target `jwt`: the body is `equipmatch::fuzzing::jwt`, so `cargo test` replays the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| equipmatch::fuzzing::jwt(data));
