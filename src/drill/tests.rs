//! Drill runs on the embedded catalog: every sample drill under `scenarios/drills/` parses and
//! runs, its allocation passes the independent replay, and the report is deterministic.

use super::*;

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

fn sample_drills() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/drills");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/drills exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("readable")))
        .collect()
}

#[test]
fn every_sample_drill_runs_under_both_policies() {
    let catalog = catalog();
    let drills = sample_drills();
    assert!(drills.len() >= 3, "at least three sample drills");
    for (name, text) in drills {
        let drill =
            parse(&catalog, &name, &text).unwrap_or_else(|p| panic!("{name}: {:#?}", p.list));
        for policy in Policy::ALL {
            let mut calls = Vec::new();
            let outcome = run(&catalog, &drill, policy, &mut |p| calls.push(p));
            let mut solved: Vec<_> = outcome.categories.iter().map(|c| c.category).collect();
            solved.sort_unstable();
            solved.dedup();
            // One event per category solved (a substitute with nothing left to serve counts too).
            let last = calls.last().expect("progress");
            assert_eq!((calls.len(), last.categories_done), (last.categories_total, calls.len()));
            assert!(calls.len() >= solved.len());
            report::verify(&outcome).unwrap_or_else(|e| panic!("{name}: {e}"));
            let report = build_report(&catalog, &drill, &outcome);
            assert_eq!(report.incidents.len(), drill.incidents.len());
            assert!(report.totals.units_required > 0);
            let places = super::geo::MapPlace::from_catalog(&catalog);
            let html = html::render(&report, &places);
            assert!(
                html.contains("<svg") && !html.contains("http://") && !html.contains("https://")
            );
            assert!(
                html.contains("DCW-GMT") && html.contains("<path d=\"M"),
                "the region's outlines"
            );
            assert!(
                html.contains("Kaiping") || html.contains("base-kaiping"),
                "the demonstration bases"
            );
        }
    }
}

#[test]
fn the_report_is_deterministic() {
    let catalog = catalog();
    let (name, text) = &sample_drills()[0];
    let drill = parse(&catalog, name, text).expect("parses");
    let once =
        build_report(&catalog, &drill, &run(&catalog, &drill, Policy::Efficiency, &mut |_| {}));
    let twice =
        build_report(&catalog, &drill, &run(&catalog, &drill, Policy::Efficiency, &mut |_| {}));
    assert_eq!(serde_json::to_string(&once).unwrap(), serde_json::to_string(&twice).unwrap());
}

#[test]
fn taking_suppliers_offline_never_helps() {
    let catalog = catalog();
    let (name, text) = &sample_drills()[0];
    let mut drill = parse(&catalog, name, text).expect("parses");
    drill.what_if = WhatIf::default();
    let base =
        build_report(&catalog, &drill, &run(&catalog, &drill, Policy::Efficiency, &mut |_| {}));
    drill.what_if.random_suppliers_offline_share = 0.5;
    let fewer =
        build_report(&catalog, &drill, &run(&catalog, &drill, Policy::Efficiency, &mut |_| {}));
    assert!(fewer.what_if.suppliers_offline_total > 0);
    assert!(fewer.totals.objective >= base.totals.objective);
}

#[test]
fn a_stopped_run_returns_nothing_after_the_categories_it_did() {
    let catalog = catalog();
    let (name, text) = &sample_drills()[0];
    let drill = parse(&catalog, name, text).expect("parses");
    let done = std::cell::Cell::new(0);
    let outcome = run_until(
        &catalog,
        &drill,
        Policy::Efficiency,
        &mut |progress| done.set(progress.categories_done),
        &|| done.get() >= 2,
    );
    assert!(outcome.is_none());
    assert_eq!(done.get(), 2);
}

/// A stage's coverage over the drill is a priority-weighted mean over its requirements, so it
/// lies between the coverages of that stage in the incidents that have it (each of which is
/// the same mean over fewer requirements), and on time never exceeds final.
#[test]
fn a_stages_coverage_lies_between_its_incidents() {
    let catalog = catalog();
    for (name, text) in sample_drills() {
        let drill = parse(&catalog, &name, &text).expect("parses");
        let outcome = run(&catalog, &drill, Policy::Efficiency, &mut |_| {});
        let report = build_report(&catalog, &drill, &outcome);
        for (k, stage) in report.stages.iter().enumerate() {
            assert!(stage.on_time_coverage <= stage.final_coverage + 1e-12, "{name} {k}");
            let of_incidents: Vec<(f64, f64)> = report
                .incidents
                .iter()
                .map(|incident| &incident.stages[k])
                .filter(|s| s.units_required > 0)
                .map(|s| (s.on_time_coverage, s.final_coverage))
                .collect();
            if of_incidents.is_empty() {
                assert_eq!(stage.units_required, 0, "{name} {k}");
                continue;
            }
            for (pick, value) in [(0, stage.on_time_coverage), (1, stage.final_coverage)] {
                let values = of_incidents.iter().map(|p| if pick == 0 { p.0 } else { p.1 });
                let (low, high) = values
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
                assert!(
                    low - 1e-9 <= value && value <= high + 1e-9,
                    "{name} {k}: {value} not in [{low}, {high}]"
                );
            }
        }
    }
}
