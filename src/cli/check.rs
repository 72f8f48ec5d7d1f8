//! `equipmatch check`: load everything, report every problem; exit 0 when clean, 1 when not.

use std::process::ExitCode;

use super::DataArgs;
use crate::catalog::{self, audit, Problems};

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
    let grades = audit::requirement_grades(&loaded.catalog);
    let requirements: usize = grades.iter().map(|(_, n)| n).sum();
    let unused = audit::unused_categories(&loaded.catalog);
    let stock_only = audit::stock_only_categories(&loaded.catalog);
    let holders = audit::holders_by_kind(&loaded.catalog);
    if json {
        let holders_json: serde_json::Map<String, serde_json::Value> =
            holders.iter().map(|(kind, n)| (kind.key().to_owned(), (*n).into())).collect();
        let grades_json: serde_json::Map<String, serde_json::Value> =
            grades.iter().map(|(grade, n)| (grade.key().to_owned(), (*n).into())).collect();
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
            "requirements": requirements,
            "grades": grades_json,
            "unused_categories": unused,
            "stock_only_categories": stock_only,
            "holders_by_kind": holders_json,
            "notes": loaded.catalog.notes,
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
        for note in &loaded.catalog.notes {
            println!("note: {note}");
        }
        let by_grade: Vec<String> =
            grades.iter().map(|(grade, n)| format!("{} {n}", grade.key())).collect();
        println!("{requirements} requirements by grade: {}", by_grade.join(", "));
        println!(
            "categories no scenario requires: {} marked stock_only, {} unexplained{}",
            stock_only,
            unused.len(),
            if unused.is_empty() { String::new() } else { format!(": {}", unused.join(", ")) }
        );
        let by_kind: Vec<String> =
            holders.iter().map(|(kind, n)| format!("{} {n}", kind.key())).collect();
        println!("holders by kind: {}", by_kind.join(", "));
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
