//! Build script: compiles the proto contract with a pure-Rust protobuf compiler (no system
//! `protoc` needed), writes the descriptor set for server reflection, and embeds the default
//! catalog files (`scenarios/`, `registry/sample/`) into the binary.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;

const PROTOS: [&str; 6] = [
    "proto/equipmatch/v1/common.proto",
    "proto/equipmatch/v1/catalog.proto",
    "proto/equipmatch/v1/match.proto",
    "proto/equipmatch/v1/hold.proto",
    "proto/equipmatch/v1/drill.proto",
    "proto/equipmatch/v1/alert.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // tonic-prost-build does not emit rerun-if-changed (grpc-rust issue 2511): say it here,
    // or every build reruns this script.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-changed=registry/sample");
    println!("cargo:rerun-if-changed=console");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let descriptors = protox::compile(PROTOS, ["proto"])?;
    fs::write(out_dir.join("equipmatch_descriptor.bin"), descriptors.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Written by hand with the same wire format, so a response's criterion names are
        // static text rather than a `String` each (`src/grpc/score_part.rs`).
        .extern_path(".equipmatch.v1.ScorePart", "crate::grpc::score_part::ScorePart")
        .compile_fds(descriptors)?;

    let mut embedded = String::new();
    embed(&mut embedded, "SCENARIO_FILES", Path::new("scenarios"), "toml")?;
    embed(&mut embedded, "REGISTRY_FILES", Path::new("registry/sample"), "csv")?;
    fs::write(out_dir.join("embedded_files.rs"), embedded)?;

    // The console's files, the contract it encodes with and the sample drills it offers: all
    // in the binary, so `serve` needs no other file at run time.
    let mut assets = Vec::new();
    collect_assets(Path::new("console"), "", &mut assets)?;
    for proto in PROTOS {
        let name = Path::new(proto).file_name().and_then(|n| n.to_str()).ok_or("proto name")?;
        assets.push((format!("proto/{name}"), PathBuf::from(proto)));
    }
    let mut drills = Vec::new();
    for entry in fs::read_dir("scenarios/drills")? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let name = path.file_name().and_then(|n| n.to_str()).ok_or("drill name")?;
            drills.push(name.to_owned());
            assets.push((format!("drills/{name}"), path));
        }
    }
    drills.sort();
    assets.sort();
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let mut out =
        String::from("/// The console's files: (path under /assets/, bytes), sorted by path.\n");
    out.push_str("pub static CONSOLE_ASSETS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &assets {
        let full = manifest_dir.join(path);
        writeln!(out, "    ({name:?}, include_bytes!({:?})),", full.display().to_string())?;
    }
    out.push_str("];\n/// The sample drills' file names, sorted.\n");
    writeln!(out, "pub static SAMPLE_DRILLS: &[&str] = &{drills:?};")?;
    fs::write(out_dir.join("console_assets.rs"), out)?;
    Ok(())
}

/// Writes `pub static NAME: &[(&str, &str)]` with every `*.EXT` file of `dir`, sorted by name.
fn embed(
    out: &mut String,
    name: &str,
    dir: &Path,
    extension: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let mut files: Vec<PathBuf> = fs::read_dir(manifest_dir.join(dir))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    writeln!(out, "/// Embedded `{}/*.{extension}` files: (file name, text).", dir.display())?;
    writeln!(out, "pub static {name}: &[(&str, &str)] = &[")?;
    for path in files {
        let file_name = path.file_name().and_then(|n| n.to_str()).ok_or("non-UTF-8 file name")?;
        writeln!(out, "    ({file_name:?}, include_str!({:?})),", path.display().to_string())?;
    }
    writeln!(out, "];")?;
    Ok(())
}

/// Every file under `dir` (recursively), named by its path relative to `console/`; tests and
/// their node_modules are not assets.
fn collect_assets(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), Box<dyn std::error::Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).ok_or("non-UTF-8 file name")?;
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        let relative = format!("{prefix}{name}");
        if path.is_dir() {
            collect_assets(&path, &format!("{relative}/"), out)?;
        } else {
            out.push((relative, path));
        }
    }
    Ok(())
}
