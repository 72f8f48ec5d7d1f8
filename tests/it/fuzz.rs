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

/// Writes the seed corpus (`scripts/fuzz.sh seed`): one valid input per request message, the
/// fuzz base's files, real scenario and drill files, CRLF and BOM registry variants, the PyJWT
/// fixture tokens and JWKS. Ignored: it writes into the repository.
#[test]
#[ignore = "writes fuzz/seeds; run by scripts/fuzz.sh seed"]
fn write_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read(root.join(path)).unwrap();
    let with = |selector: u8, bytes: &[u8]| [&[selector][..], bytes].concat();
    let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();
    let base = ["taxonomy.toml", "places.toml", "earthquake.toml"];
    for (i, file) in base.iter().enumerate() {
        seeds.push((
            "scenario_toml",
            format!("base-{file}"),
            with(i as u8, &read(&format!("fuzz/base/scenarios/{file}"))),
        ));
    }
    for file in ["flood.toml", "urban-waterlogging.toml"] {
        seeds.push((
            "scenario_toml",
            format!("extra-{file}"),
            with(3, &read(&format!("scenarios/{file}"))),
        ));
    }
    for (i, file) in ["suppliers.csv", "stock_lines.csv"].iter().enumerate() {
        let text = read(&format!("fuzz/base/registry/{file}"));
        let crlf = String::from_utf8(text.clone()).unwrap().replace('\n', "\r\n").into_bytes();
        let bom = [&b"\xef\xbb\xbf"[..], &text].concat();
        seeds.push(("registry_csv", format!("base-{file}"), with(i as u8, &text)));
        seeds.push(("registry_csv", format!("crlf-{file}"), with(i as u8, &crlf)));
        seeds.push(("registry_csv", format!("bom-{file}"), with(i as u8, &bom)));
    }
    seeds.push((
        "drill_file",
        "base-two-shocks.toml".into(),
        equipmatch::fuzzing::BASE_DRILL.as_bytes().to_vec(),
    ));
    for file in ["tangshan-m7-aftershock.toml", "zhangjiakou-ice-fire.toml"] {
        seeds.push(("drill_file", file.into(), read(&format!("scenarios/drills/{file}"))));
    }
    for (i, seed) in equipmatch::grpc::fuzz::seeds().into_iter().enumerate() {
        let message = equipmatch::grpc::fuzz::MESSAGES[i];
        seeds.push(("request", message.to_owned(), seed));
    }
    let tokens: serde_json::Value =
        serde_json::from_slice(&read("tests/fixtures/jwt/tokens.json")).unwrap();
    for (i, token) in tokens["tokens"].as_array().unwrap().iter().enumerate() {
        let header = format!("Bearer {}", token["token"].as_str().unwrap());
        seeds.push(("jwt", format!("fixture-{i:02}"), header.into_bytes()));
    }
    seeds.push(("jwks", "fixture-jwks.json".into(), read("tests/fixtures/jwt/jwks.json")));
    for alg in [equipmatch::auth::Alg::EdDSA, equipmatch::auth::Alg::ES256] {
        let generated = equipmatch::auth::keys::generate(alg).unwrap();
        seeds.push(("jwks", format!("keygen-{}.json", alg.as_str()), generated.jwks.into_bytes()));
    }
    // CAP alerts as agencies write them (interop's target).
    for entry in std::fs::read_dir(root.join("tests/data/cap-team-written")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "xml") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            seeds.push(("cap_reader", name, std::fs::read(&path).unwrap()));
        }
    }
    for (target, name, bytes) in seeds {
        let folder = root.join("fuzz/seeds").join(target);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(name), bytes).unwrap();
    }
}
