//! Fuzz target `jwks`: the body is `equipmatch::fuzzing::jwks`, so `cargo test` replays the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| equipmatch::fuzzing::jwks(data));
