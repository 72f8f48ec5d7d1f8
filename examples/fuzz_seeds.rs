//! Writes the fuzz targets' seed corpus into `fuzz/seeds/<target>/` (`scripts/fuzz.sh seed`):
//! one valid input per request message, the fuzz base's files, real scenario and drill files,
//! CRLF and BOM registry variants, the PyJWT fixture tokens and JWKS, and CAP alerts as
//! agencies write them. An example, not a test: it writes into the repository.

use std::path::Path;

fn main() {
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
