//! The fuzz targets' inputs as regression tests: every committed corpus entry
//! (`fuzz/seeds/<target>/`) and every input that ever made a target fail
//! (`fuzz/regressions/<target>/`) runs through the same body the fuzzer runs
//! (`equipmatch::fuzzing`), under plain `cargo test`. A panic fails the test and names the file.

use std::path::{Path, PathBuf};

const FUZZ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz");

fn inputs(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let mut paths: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    paths.sort();
    paths
}

#[test]
fn every_committed_fuzz_input_runs_without_a_panic() {
    let mut failed = Vec::new();
    for (name, target) in equipmatch::fuzzing::TARGETS {
        let seeds = inputs(&Path::new(FUZZ).join("seeds").join(name));
        assert!(!seeds.is_empty(), "no committed corpus for {name}: run scripts/fuzz.sh seed");
        let regressions = inputs(&Path::new(FUZZ).join("regressions").join(name));
        for path in seeds.iter().chain(&regressions) {
            let bytes = std::fs::read(path).unwrap();
            if std::panic::catch_unwind(|| target(&bytes)).is_err() {
                failed.push(path.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "fuzz inputs that panic:\n{}", failed.join("\n"));
}
