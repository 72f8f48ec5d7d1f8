//! Repository checks that run as ordinary tests (rust-analyzer's tidy tests):
//! - every service, RPC, message, enum, enum value and field of the proto contract carries a
//!   comment on the line(s) above it;
//! - every Rust source file starts with a `//!` line saying what it is for.

use std::path::{Path, PathBuf};

fn files_with_extension(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_with_extension(&path, extension, out);
        } else if path.extension().is_some_and(|ext| ext == extension) {
            out.push(path);
        }
    }
}

fn is_declaration(line: &str) -> bool {
    let line = line.trim();
    let keyword =
        ["service ", "rpc ", "message ", "enum ", "oneof "].iter().any(|k| line.starts_with(k));
    // A field or enum value: `[repeated|optional] type name = N;` or `NAME = N;`.
    let numbered = line.ends_with(';')
        && line.contains(" = ")
        && !line.starts_with("option ")
        && !line.starts_with("syntax");
    keyword || numbered
}

#[test]
fn every_proto_declaration_has_a_comment() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_with_extension(&root.join("proto"), "proto", &mut files);
    assert!(!files.is_empty());
    let mut missing = Vec::new();
    let mut declarations = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !is_declaration(line) {
                continue;
            }
            declarations += 1;
            let commented = line.contains("//")
                || i.checked_sub(1).is_some_and(|j| lines[j].trim().starts_with("//"));
            if !commented {
                missing.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(declarations > 200, "the check found only {declarations} declarations: is it parsing?");
    assert!(missing.is_empty(), "declarations without a comment:\n{}", missing.join("\n"));
}

#[test]
fn every_rust_file_says_what_it_is_for() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches"] {
        files_with_extension(&root.join(dir), "rs", &mut files);
    }
    let missing: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            !text.lines().take(5).any(|line| line.starts_with("//!"))
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! line: {missing:?}");
}
