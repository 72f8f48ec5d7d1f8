//! libFuzzer target: arbitrary bytes through the CAP reader and the alert → incidents mapping.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    equipmatch::interop::fuzz::cap_reader(data);
});
