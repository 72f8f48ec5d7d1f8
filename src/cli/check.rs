//! `equipmatch check`: load everything, report every problem; exit 0 when clean, 1 when not.

use std::process::ExitCode;

use super::DataArgs;
use crate::catalog::{self, Problems};

pub fn run(data: &DataArgs, json: bool) -> ExitCode {
    let mut read_problems = Problems::default();
    let sources = data.sources(&mut read_problems);
    let loaded = catalog::load(&sources);
    let mut problems = read_problems;
    problems.dropped += loaded.problems.dropped;
    for problem in loaded.problems.list {
        problems.push(&problem.file, problem.line, problem.column, problem.message);
    }
    problems.list.sort();
    let counts = loaded.catalog.counts();
    if json {
        let errors: Vec<serde_json::Value> = problems
            .list
            .iter()
            .map(|p| serde_json::json!({"file": p.file, "line": p.line, "column": p.column, "message": p.message}))
            .collect();
        let report = serde_json::json!({
            "scenarios": counts.scenarios,
            "categories": counts.categories,
            "places": counts.places,
            "suppliers": counts.suppliers,
            "stock_lines": counts.stock_lines,
            "catalog_version": loaded.catalog.version,
            "errors": errors,
            "errors_not_listed": problems.dropped,
        });
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        for problem in &problems.list {
            println!("{problem}");
        }
        if problems.dropped > 0 {
            println!("… and {} more problem(s) not listed", problems.dropped);
        }
        println!(
            "{} scenarios, {} categories, {} places, {} suppliers, {} stock lines; {} problem(s)",
            counts.scenarios,
            counts.categories,
            counts.places,
            counts.suppliers,
            counts.stock_lines,
            problems.total()
        );
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
