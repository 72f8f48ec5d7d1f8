//! Column generation is held to an exhaustive twin: the same category solved once with every
//! eligible stock line of the category, every one of its batches and every (line, demand)
//! pair present. On random SYNTHETIC registries and random drills (shortages, late units,
//! surge, what-ifs, both policies) the two must reach the same optimum — the same efficiency
//! objective; under equity the same level and the same objective at it. A category cut at a
//! limit says so and is never better than the twin. The cases are checked to exercise what
//! they should (pricing rounds, surge batches added lazily, unmet and late units).

use std::fmt::Write as _;

use super::*;
use crate::catalog::{CatalogSources, SourceFile, STOCK_LINES_FILE, SUPPLIERS_FILE};
use crate::domain::ZoneTier;
use crate::drill::CategoryOutcome;
use crate::rng::SplitMix64;

/// The embedded scenarios over a generated (SYNTHETIC) registry of `suppliers` suppliers.
fn generated_catalog(suppliers: usize, seed: u64) -> Catalog {
    let base = Catalog::load(&CatalogSources {
        registry_files: crate::catalog::empty_registry(),
        ..CatalogSources::embedded()
    })
    .expect("embedded taxonomy");
    let params = crate::generator::Params { suppliers, seed, lines_per_supplier: 10 };
    let (mut supplier_bytes, mut line_bytes) = (Vec::new(), Vec::new());
    crate::generator::generate(&base, &params, &mut supplier_bytes, &mut line_bytes)
        .expect("generate");
    let file = |name: &str, bytes: Vec<u8>| SourceFile {
        name: name.into(),
        text: std::borrow::Cow::Owned(String::from_utf8(bytes).expect("utf-8")),
    };
    Catalog::load(&CatalogSources {
        registry_files: vec![
            file(SUPPLIERS_FILE, supplier_bytes),
            file(STOCK_LINES_FILE, line_bytes),
        ],
        ..CatalogSources::embedded()
    })
    .expect("generated registry loads")
}

/// A random drill over the region's places: 1–5 incidents, any severity, populations from a
/// village to a city (so some categories run short), what-ifs that cut stock and roads.
fn random_drill(catalog: &Catalog, rng: &mut SplitMix64) -> Drill {
    let places: Vec<&crate::domain::Place> =
        catalog.places.iter().filter(|p| p.zone != ZoneTier::Outside).collect();
    let mut text = format!(
        "id = \"random\"\nname = \"Random\"\nsummary = \"Test.\"\nsource = \"MODEL: test\"\ngrade = \"MODEL\"\n\
         time_step_hours = {}\nhorizon_hours = {}\nsurge_production = {}\nseed = {}\n\
         deployment_hours_default = {}\n",
        [0.5, 1.0, 2.0][rng.below(3) as usize],
        [72.0, 120.0, 168.0][rng.below(3) as usize],
        rng.below(4) != 0,
        rng.below(1000),
        [24.0, 72.0][rng.below(2) as usize],
    );
    for i in 0..1 + rng.below(5) {
        let place = places[rng.below(places.len() as u64) as usize];
        let _ = write!(
            text,
            "\n[[incident]]\nid = \"i{i}\"\nscenario = \"{}\"\nstart_hours = {}\nlatitude = {:.4}\n\
             longitude = {:.4}\nseverity = \"{}\"\naffected_population = {}\naffected_area_km2 = {}\n\
             source = \"MODEL: test\"\ngrade = \"MODEL\"\n",
            catalog.scenarios[rng.below(catalog.scenarios.len() as u64) as usize].id,
            rng.below(48),
            place.location.latitude() + (rng.next_f64() - 0.5) * 0.5,
            place.location.longitude() + (rng.next_f64() - 0.5) * 0.5,
            ["I", "II", "III", "IV"][rng.below(4) as usize],
            [2_000, 50_000, 400_000, 2_000_000][rng.below(4) as usize],
            10 + rng.below(300),
        );
    }
    let _ = write!(
        text,
        "\n[what_if]\nstock_factor = {}\nroad_factor_scale = {}\nrandom_suppliers_offline_share = {}\n",
        [0.3, 1.0, 1.0, 2.0][rng.below(4) as usize],
        [1.0, 1.0, 1.8][rng.below(3) as usize],
        [0.0, 0.0, 0.2][rng.below(3) as usize],
    );
    crate::drill::parse(catalog, "random", &text)
        .unwrap_or_else(|p| panic!("{:#?}\n{text}", p.list))
}

/// The exhaustive twin of `solve_category`: every eligible line, every batch, every pair.
#[allow(clippy::too_many_arguments)]
fn solve_exhaustively(
    catalog: &Catalog,
    drill: &Drill,
    offline: &[bool],
    category: CategoryIdx,
    infos: &[DemandInfo],
    demand_ids: &[usize],
    policy: Policy,
    start: &Start,
) -> (Problem, allocate::Allocation) {
    let unlimited = PairLimits {
        per_category: usize::MAX / 2,
        per_demand_min: usize::MAX / 2,
        scan_online_share_max: 0.0,
    };
    let mut state = Category::new(catalog, drill, offline, category, infos, demand_ids, unlimited);
    state.start(start);
    for line in catalog.category_lines(category) {
        let line_idx = line as u32;
        if !state.eligible(line_idx) {
            continue;
        }
        let l = state.admit(line_idx);
        for k in 0..state.admitted[l].batches.len() {
            state.include(l, k);
        }
        for d in 0..demand_ids.len() {
            let travel = state.travel_to(line_idx, d);
            assert!(state.pair(line_idx, d, travel));
        }
    }
    let allocation = allocate::try_allocate(&state.problem, policy).expect("within the limits");
    (state.problem, allocation)
}

/// What the random cases exercised, so that a test that passes has tested something.
#[derive(Debug, Default)]
struct Exercised {
    categories: usize,
    more_than_one_round: usize,
    surge_batch_added: usize,
    fewer_lines_than_the_category: usize,
    unmet: usize,
    late: usize,
    /// Categories whose walks were sorts of the online lines (`SCAN_ONLINE_SHARE_MAX`).
    scanned: usize,
}

fn compare(cases: usize, seed: u64, limits: PairLimits) -> (Exercised, usize) {
    let mut rng = SplitMix64::new(seed);
    let mut exercised = Exercised::default();
    let mut cut = 0;
    for case in 0..cases {
        let catalog = generated_catalog(120 + rng.below(200) as usize, rng.below(1 << 30));
        let drill = random_drill(&catalog, &mut rng);
        let offline = super::super::offline_suppliers(&catalog, &drill.what_if, drill.seed);
        let mut infos = super::super::demands(&catalog, &drill);
        let mut by_category: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (d, info) in infos.iter().enumerate() {
            by_category.entry(info.category.0).or_default().push(d);
        }
        for (c, demand_ids) in by_category {
            let category = CategoryIdx(c);
            for policy in Policy::ALL {
                let mut state = Category::new(
                    &catalog,
                    &drill,
                    &offline,
                    category,
                    &infos,
                    &demand_ids,
                    limits,
                );
                state.seed(&mut infos, &demand_ids);
                let scanned = state.scanned;
                let solved = state.solve(policy).expect("within the limits");
                allocate::verify(&solved.problem, &solved.allocation)
                    .unwrap_or_else(|e| panic!("case {case} category {c}: {e}"));
                let (full_problem, full) = solve_exhaustively(
                    &catalog,
                    &drill,
                    &offline,
                    category,
                    &infos,
                    &demand_ids,
                    policy,
                    &Start::default(),
                );
                allocate::verify(&full_problem, &full).expect("the twin is feasible");
                let context = format!(
                    "case {case}, category {}, {policy:?}, {} rounds, cut {}",
                    catalog.category(category).id,
                    solved.rounds,
                    solved.cut
                );
                if solved.cut {
                    cut += 1;
                    // Fewer candidates can only do worse (or as well).
                    match policy {
                        Policy::Efficiency => {
                            assert!(solved.allocation.objective >= full.objective, "{context}")
                        }
                        Policy::Equity => assert!(
                            solved.allocation.min_served_fraction <= full.min_served_fraction,
                            "{context}"
                        ),
                    }
                    continue;
                }
                // Efficiency fixes the objective only (equal-cost allocations may serve
                // demands differently); equity fixes the level first, then the objective.
                if policy == Policy::Equity {
                    assert_eq!(
                        solved.allocation.min_served_fraction, full.min_served_fraction,
                        "{context}"
                    );
                }
                assert_eq!(solved.allocation.objective, full.objective, "{context}");
                if policy == Policy::Efficiency {
                    exercised.categories += 1;
                    exercised.more_than_one_round += usize::from(solved.rounds > 1);
                    exercised.scanned += usize::from(scanned);
                    exercised.surge_batch_added +=
                        usize::from(solved.problem.lines.iter().any(|l| {
                            l.batches.iter().any(|b| b.ready_hours > 0.0) && l.batches.len() > 1
                        }));
                    exercised.fewer_lines_than_the_category +=
                        usize::from(solved.problem.lines.len() < full_problem.lines.len());
                    exercised.unmet += usize::from(
                        solved
                            .allocation
                            .served
                            .iter()
                            .zip(&solved.problem.demands)
                            .any(|(s, d)| *s < d.units),
                    );
                    exercised.late += usize::from(
                        solved.allocation.shipments.iter().any(|s| s.lateness_steps > 0),
                    );
                }
            }
        }
    }
    (exercised, cut)
}

#[test]
fn pricing_reaches_the_optimum_over_every_line_of_the_category() {
    let (exercised, cut) = compare(24, 2026, PAIR_LIMITS);
    assert_eq!(cut, 0, "the default limits never bind on these registries");
    let e = &exercised;
    assert!(
        e.categories > 200
            && e.more_than_one_round > 20
            && e.surge_batch_added > 10
            && e.fewer_lines_than_the_category > e.categories / 2
            && e.unmet > 10
            && e.late > 10,
        "{e:?}"
    );
}

/// With the scan threshold at 1, every category of a drill with suppliers offline walks a
/// sort of its online lines instead of the index: the answers still equal the exhaustive twin.
#[test]
fn walks_over_a_sort_of_the_online_lines_reach_the_same_optimum() {
    let limits = PairLimits { scan_online_share_max: 1.0, ..PAIR_LIMITS };
    let (exercised, cut) = compare(24, 2027, limits);
    assert_eq!(cut, 0, "the default limits never bind on these registries");
    assert!(exercised.scanned > 20 && exercised.scanned < exercised.categories, "{exercised:?}");
}

#[test]
fn a_category_cut_at_the_pair_limit_says_so_and_never_beats_the_full_answer() {
    let (_, cut) = compare(6, 77, PairLimits { per_category: 0, per_demand_min: 2, ..PAIR_LIMITS });
    assert!(cut > 5, "{cut} categories cut");
}

/// A solved pass as the drill records it (own pass of `category`).
fn outcome_of(category: CategoryIdx, demand_ids: &[usize], solved: Solved) -> CategoryOutcome {
    CategoryOutcome {
        category,
        pass: crate::drill::Pass::Own,
        demands: demand_ids.to_vec(),
        lines: solved.lines,
        site_lines: solved.site_lines,
        offered: solved.offered,
        walks: solved.walks,
        problem: solved.problem,
        allocation: solved.allocation,
        rounds: solved.rounds,
        cut: solved.cut,
    }
}

/// A later pass (`passes`) starts from what an earlier one left: leftover batches of the lines
/// it held and pools of the units it released at the sites. Pricing from that start must
/// reach the optimum of the same start with every eligible line, batch and pair present; the
/// two passes together never oversubscribe a line or a site (`verify_shared`).
#[test]
fn a_pass_from_leftovers_and_pools_reaches_the_optimum_over_every_line() {
    let mut rng = SplitMix64::new(515);
    let (mut compared, mut with_pools, mut pool_used, mut leftover_used) = (0, 0, 0, 0);
    for case in 0..10 {
        let catalog = generated_catalog(120 + rng.below(200) as usize, rng.below(1 << 30));
        let drill = random_drill(&catalog, &mut rng);
        let offline = super::super::offline_suppliers(&catalog, &drill.what_if, drill.seed);
        let mut infos = super::super::demands(&catalog, &drill);
        let mut by_category: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (d, info) in infos.iter().enumerate() {
            by_category.entry(info.category.0).or_default().push(d);
        }
        for (c, demand_ids) in by_category {
            let category = CategoryIdx(c);
            for policy in Policy::ALL {
                let first = solve_category(
                    &catalog,
                    &drill,
                    &offline,
                    category,
                    &mut infos,
                    &demand_ids,
                    policy,
                )
                .expect("within the limits");
                let first = outcome_of(category, &demand_ids, first);
                let start = crate::drill::passes::leftover(&[&first], drill.incidents.len());
                // The same requirements asked again (as a substitute pass would ask them), half
                // of them or all.
                let mut again: Vec<DemandInfo> =
                    demand_ids.iter().map(|d| infos[*d].clone()).collect();
                for info in &mut again {
                    info.units = (info.units / (1 + rng.below(2) as i64)).max(1);
                }
                let local: Vec<usize> = (0..again.len()).collect();
                let second = solve_category_from(
                    &catalog, &drill, &offline, category, &mut again, &local, policy, &start,
                )
                .expect("within the limits");
                allocate::verify(&second.problem, &second.allocation)
                    .unwrap_or_else(|e| panic!("case {case} category {c}: {e}"));
                let (full_problem, full) = solve_exhaustively(
                    &catalog, &drill, &offline, category, &again, &local, policy, &start,
                );
                allocate::verify(&full_problem, &full).expect("the twin is feasible");
                let context = format!(
                    "case {case}, category {}, {policy:?}, {} rounds, cut {}",
                    catalog.category(category).id,
                    second.rounds,
                    second.cut
                );
                assert!(!second.cut, "{context}");
                if policy == Policy::Equity {
                    assert_eq!(
                        second.allocation.min_served_fraction, full.min_served_fraction,
                        "{context}"
                    );
                }
                assert_eq!(second.allocation.objective, full.objective, "{context}");
                let second = outcome_of(category, &local, second);
                crate::drill::passes::verify_shared(
                    &[first, second.clone()],
                    drill.incidents.len(),
                )
                .unwrap_or_else(|e| panic!("{context}: {e}"));
                compared += 1;
                with_pools += usize::from(!second.site_lines.is_empty());
                for shipment in &second.allocation.shipments {
                    match second.source(shipment.origin) {
                        crate::drill::Source::Site(_) => pool_used += 1,
                        crate::drill::Source::Line(line) => {
                            leftover_used += usize::from(start.leftover.contains_key(&line))
                        }
                    }
                }
            }
        }
    }
    assert!(
        compared > 50 && with_pools > 5 && pool_used > 5 && leftover_used > 20,
        "{compared} {with_pools} {pool_used} {leftover_used}"
    );
}
