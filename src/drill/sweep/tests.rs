//! The sweep's shortcuts change nothing: every step and every moved assumption read the same
//! coverage as solving the altered drill whole (every category, no reused problems, no
//! shortcut), on the sample drills; break points are read the way the docs say.

use super::*;

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

fn sample(name: &str, catalog: &Catalog) -> Drill {
    let path = format!("{}/scenarios/drills/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("readable");
    super::super::parse(catalog, &path, &text).expect("parses")
}

/// Coverage of the altered drill solved whole: every category, fresh candidate search.
fn whole(engine: &Engine<'_>, drill: &Drill, demands: Vec<DemandInfo>, at_hours: f64) -> SweepStep {
    let offline = offline_suppliers(engine.catalog, &drill.what_if, drill.seed);
    let outcome = engine.solve(drill, &offline, demands, None, None).expect("within the limits");
    let arrived = on_time(&outcome.categories, &outcome.demands);
    step_of("whole", 0.0, &outcome.demands, &arrived, at_hours)
}

#[test]
fn moved_assumptions_read_what_the_whole_altered_drill_reads() {
    let catalog = catalog();
    for name in ["tangshan-m7-aftershock", "baoding-xiongan-rainstorm", "zhangjiakou-ice-fire"] {
        let drill = sample(name, &catalog);
        let at_hours = SWEEP_AT_HOURS_DEFAULT;
        let mut engine = Engine::new(&catalog, &drill, drill.policy, at_hours);
        let baseline = engine.full(&drill, None).expect("within the limits");
        let baseline_on_time = on_time(&baseline.categories, &baseline.demands);
        let own = passes::own_searches(&baseline.categories, &baseline.demands);
        let as_written = step_of("", 0.0, &baseline.demands, &baseline_on_time, at_hours);
        let demands = demands_with(&drill, &|id| catalog.scenario_by_id(id));
        assert_eq!(
            as_written.coverage_by_stage,
            whole(&engine, &drill, demands, at_hours).coverage_by_stage
        );
        let assumptions = assumptions(&catalog, &drill);
        assert!(assumptions.len() > 10, "{name}: {}", assumptions.len());
        // Every table and deployment item, and every fifth rule (the rest take the same path).
        let picked = assumptions
            .iter()
            .enumerate()
            .filter(|(k, a)| !matches!(a, Assumption::Rule { .. }) || k % 5 == 0);
        let mut checked = 0;
        for (_, assumption) in picked {
            for factor in [0.5, 1.5] {
                let (demands, arrived) = engine
                    .moved(&baseline, &baseline_on_time, assumption, factor, Some(&own))
                    .expect("within the limits");
                let fast = step_of("", factor, &demands, &arrived, at_hours);
                let whole_demands = match assumption {
                    Assumption::DeploymentHours => {
                        let mut moved = drill.clone();
                        for hours in &mut moved.deployment_hours {
                            *hours *= factor;
                        }
                        let demands = demands_with(&moved, &|id| catalog.scenario_by_id(id));
                        let expected = whole(&engine, &moved, demands, at_hours);
                        assert_eq!(
                            fast.coverage_by_stage, expected.coverage_by_stage,
                            "{name} {assumption:?} ×{factor}"
                        );
                        checked += 1;
                        continue;
                    }
                    _ => demands.clone(),
                };
                let expected = whole(&engine, &drill, whole_demands, at_hours);
                assert_eq!(
                    fast.coverage_by_stage,
                    expected.coverage_by_stage,
                    "{name} {} ×{factor}",
                    describe(&catalog, assumption).0
                );
                checked += 1;
            }
        }
        assert!(checked > 8, "{name}: {checked}");
    }
}

#[test]
fn steps_read_what_the_whole_stepped_drill_reads() {
    let catalog = catalog();
    let drill = sample("tangshan-m7-aftershock", &catalog);
    for vary in Vary::ALL {
        let spec = SweepSpec {
            vary,
            steps: 3,
            from: if vary == Vary::Stock { 2.0 } else { 0.5 },
            to: if vary == Vary::Stock { 0.5 } else { 2.0 },
            threshold: 0.8,
            at_hours: SWEEP_AT_HOURS_DEFAULT,
            policy: drill.policy,
        };
        let report = sweep(&catalog, &drill, &spec).expect("within the limits");
        let engine = Engine::new(&catalog, &drill, drill.policy, spec.at_hours);
        for ((label, _, stepped), step) in step_drills(&drill, &spec).into_iter().zip(&report.steps)
        {
            let demands = demands_with(&stepped, &|id| catalog.scenario_by_id(id));
            let expected = whole(&engine, &stepped, demands, spec.at_hours);
            assert_eq!(step.label, label);
            assert_eq!(step.coverage_by_stage, expected.coverage_by_stage, "{vary:?} {label}");
        }
        assert_eq!(report.break_points.len(), 3);
        assert!(report.runs >= 1 + report.steps.len() - 1);
    }
}

#[test]
fn more_people_never_improve_coverage_in_the_sample_drill() {
    // Not a law of the allocation (priorities trade off), but what the sample drill shows, and
    // what the break points rely on reading: coverage over all stages never rises with the
    // population in the default range.
    let catalog = catalog();
    let drill = sample("tangshan-m7-aftershock", &catalog);
    let spec = SweepSpec {
        vary: Vary::Population,
        steps: 5,
        from: SCALE_FROM_DEFAULT,
        to: SCALE_TO_DEFAULT,
        threshold: SWEEP_THRESHOLD_DEFAULT,
        at_hours: SWEEP_AT_HOURS_DEFAULT,
        policy: drill.policy,
    };
    let report = sweep(&catalog, &drill, &spec).expect("within the limits");
    let all: Vec<f64> =
        report.steps.iter().map(|s| s.coverage.expect("something is due")).collect();
    assert!(all.windows(2).all(|w| w[1] <= w[0] + 1e-9), "{all:?}");
    // The ×1 step is the drill as written.
    assert_eq!(report.steps[2].coverage, report.baseline.coverage);
    // Sorted by how far each assumption moves the shortfall.
    assert!(report
        .sensitivity
        .windows(2)
        .all(|w| w[0].moves_shortfall_by >= w[1].moves_shortfall_by));
}

fn step(label: &str, coverage: [Option<f64>; 3]) -> SweepStep {
    SweepStep {
        label: label.into(),
        value: 0.0,
        coverage_by_stage: coverage.to_vec(),
        coverage: None,
        shortfall: 0.0,
    }
}

#[test]
fn break_points_are_read_as_documented() {
    let steps = vec![
        step("a", [Some(0.9), Some(0.7), None]),
        step("b", [Some(0.85), Some(0.6), None]),
        step("c", [Some(0.79), Some(0.5), None]),
    ];
    let falls = break_point("m", &steps, 0, 0.8);
    assert_eq!(
        (falls.status.as_str(), falls.last_above.as_deref(), falls.first_below.as_deref()),
        ("falls_below", Some("b"), Some("c"))
    );
    assert_eq!((falls.coverage_last_above, falls.coverage_first_below), (Some(0.85), Some(0.79)));
    let every = break_point("p", &steps, 1, 0.8);
    assert_eq!(
        (every.status.as_str(), every.first_below.as_deref()),
        ("below_at_every_step", Some("a"))
    );
    assert_eq!(break_point("r", &steps, 2, 0.8).status, "nothing_due");
    assert_eq!(break_point("m", &steps, 0, 0.5).status, "never_below");
}
