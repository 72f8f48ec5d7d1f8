//! Repository checks that run as ordinary tests (rust-analyzer's tidy tests):
//! - every service, RPC, message, enum, enum value and field of the proto contract carries a
//!   comment on the line(s) above it;
//! - every Rust source file starts with a `//!` line saying what it is for;
//! - no test returns early when an environment variable is missing (it would read as "ok"
//!   while testing nothing): a test that needs one is `#[ignore = "why"]` and panics without
//!   it (see `holds_pg`).

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

/// Lines (1-based) where test code reads an environment variable and a `return` follows
/// within the next few lines: the shape of a test that skips by passing.
fn early_returns_on_env(text: &str) -> Vec<usize> {
    /// How many lines after the read may hold the early return.
    const WINDOW_LINES: usize = 8;
    let lines: Vec<&str> = text.lines().collect();
    let returns = |line: &str| {
        let code = line.split("//").next().unwrap_or("");
        code.split(|c: char| !c.is_alphanumeric() && c != '_').any(|word| word == "return")
    };
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.contains("env::var"))
        .filter(|(i, _)| lines[*i..lines.len().min(i + WINDOW_LINES)].iter().any(|l| returns(l)))
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn no_test_passes_by_returning_early_on_a_missing_variable() {
    // The checker catches the shape the PostgreSQL suites had (issue 11, defect g).
    let skipping = r#"
async fn fresh_database() -> Option<String> {
    let Ok(url) = std::env::var("EQUIPMATCH_TEST_PG_URL") else {
        eprintln!("!!! SKIPPED !!!");
        return None;
    };"#;
    assert_eq!(early_returns_on_env(skipping), vec![3]);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests", "benches"] {
        files_with_extension(&root.join(dir), "rs", &mut files);
    }
    let this_file = root.join("tests/it/tidy.rs");
    let found: Vec<String> = files
        .iter()
        .filter(|file| **file != this_file)
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            early_returns_on_env(&text)
                .into_iter()
                .map(move |line| format!("{}:{line}", file.display()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        found.is_empty(),
        "tests that return early on a missing environment variable (pass while testing \
         nothing): mark them #[ignore = \"why\"] and panic instead:\n{}",
        found.join("\n")
    );
}
