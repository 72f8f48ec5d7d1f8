//! Passes: what a later pass sees of the stock earlier passes used, checked three ways.
//!
//! - `residual_batches` on a hand-worked ledger, and on random ledgers: any schedule the
//!   residual allows keeps the combined ledger non-negative, and the residual hands out
//!   everything that is left (its total equals the smallest balance from the first event on);
//! - exhaustive search on tiny instances: a second pass (a substitute's) solved on the residual
//!   problem is as good as the best allocation of its demands found by enumerating every
//!   shipment from the original stock and the first pass's released units, judged only by the
//!   shared replay (`verify_shared`) — so the residual loses nothing and oversubscribes nothing;
//! - random larger instances: the second pass carries the Bellman-Ford certificate (through
//!   `allocate`'s own debug assertion and an explicit certify) and both passes together pass
//!   the shared replay; the replay catches a second pass that takes a unit the first took.

use super::*;
use crate::domain::HolderKind;
use crate::drill::allocate::{Demand, Line};
use crate::drill::Origin;
use crate::rng::SplitMix64;

fn batch(ready_hours: f64, units: i64) -> Batch {
    Batch { ready_hours, units }
}

#[test]
fn residual_batches_hand_worked() {
    // 5 ready at 0, 3 more at 10; 4 taken at 2, 2 taken at 12.
    // Balance: t0 5, t2 1, t10 4, t12 2. Suffix minimum: t0 1, t2 1, t10 2, t12 2.
    // So 1 unit is free from 0 and 1 more from 10.
    let left = residual_batches(&[batch(0.0, 5), batch(10.0, 3)], &[(2.0, 4), (12.0, 2)]);
    assert_eq!(left, vec![batch(0.0, 1), batch(10.0, 1)]);
    // Nothing taken: the batches themselves.
    assert_eq!(
        residual_batches(&[batch(0.0, 2), batch(5.0, 1)], &[]),
        vec![batch(0.0, 2), batch(5.0, 1)]
    );
    // Everything taken: nothing left.
    assert!(residual_batches(&[batch(0.0, 2)], &[(1.0, 2)]).is_empty());
}

#[test]
fn residual_batches_never_oversubscribe_and_hand_out_everything_left() {
    let mut rng = SplitMix64::new(77);
    for case in 0..500 {
        let ready: Vec<Batch> =
            (0..1 + rng.below(4)).map(|k| batch(k as f64 * 6.0, 1 + rng.below(5) as i64)).collect();
        // A feasible earlier schedule: take at random times what the ledger allows.
        let mut taken = Vec::new();
        for _ in 0..rng.below(5) {
            let at = rng.below(30) as f64;
            let ledger = |taken: &[(f64, i64)], t: f64| -> i64 {
                let made: i64 = ready.iter().filter(|b| b.ready_hours <= t).map(|b| b.units).sum();
                made - taken.iter().filter(|(a, _)| *a <= t).map(|(_, u)| u).sum::<i64>()
            };
            // The most that can leave at `at` without driving any later balance negative.
            let room =
                (0..=40).map(|t| t as f64).filter(|t| *t >= at).map(|t| ledger(&taken, t)).min();
            if let Some(room) = room.filter(|r| *r > 0) {
                taken.push((at, 1 + rng.below(room as u64) as i64));
            }
        }
        let left = residual_batches(&ready, &taken);
        // Take everything the residual offers as soon as it is offered: the combined ledger
        // stays non-negative.
        let mut events: Vec<(f64, i64)> = ready.iter().map(|b| (b.ready_hours, b.units)).collect();
        events.extend(taken.iter().map(|(a, u)| (*a, -u)));
        events.extend(left.iter().map(|b| (b.ready_hours, -b.units)));
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut balance = 0;
        for (at, change) in &events {
            balance += change;
            assert!(balance >= 0, "case {case}: negative at {at}: {ready:?} {taken:?} {left:?}");
        }
        // And it is the most: by every hour t it has offered exactly the smallest balance
        // over [t, end] — any more and a later balance would go negative.
        let balance_at = |t: f64| -> i64 {
            let made: i64 = ready.iter().filter(|b| b.ready_hours <= t).map(|b| b.units).sum();
            made - taken.iter().filter(|(a, _)| *a <= t).map(|(_, u)| u).sum::<i64>()
        };
        for t in 0..=40 {
            let offered: i64 =
                left.iter().filter(|b| b.ready_hours <= t as f64).map(|b| b.units).sum();
            let most = (t..=40).map(|u| balance_at(u as f64)).min().unwrap_or(0).max(0);
            assert_eq!(offered, most, "case {case} at {t}: {ready:?} {taken:?} {left:?}");
        }
    }
}

/// A first pass: one category's own demands at two incidents, two stock lines, with
/// releases inside the horizon so its units return to the sites.
fn first_pass(rng: &mut SplitMix64, n_lines: usize, units_max: u64) -> CategoryOutcome {
    let n_incidents = 2;
    let lines: Vec<Line> = (0..n_lines)
        .map(|_| Line {
            batches: vec![batch(0.0, 1 + rng.below(units_max) as i64)]
                .into_iter()
                .chain(
                    (rng.below(2) == 0)
                        .then(|| batch(8.0 + rng.below(6) as f64, 1 + rng.below(units_max) as i64)),
                )
                .collect(),
            lead_hours: rng.below(3) as f64,
        })
        .collect();
    let demands: Vec<Demand> = (0..2)
        .map(|i| {
            let start = if i == 0 { 0.0 } else { rng.below(6) as f64 };
            let deadline = start + 2.0 + rng.below(6) as f64;
            Demand {
                incident: i,
                start_hours: start,
                deadline_hours: deadline,
                release_hours: deadline + 4.0 + rng.below(8) as f64,
                units: 1 + rng.below(units_max) as i64,
                weight: 1 + rng.below(3) as i64,
            }
        })
        .collect();
    let line_travel =
        (0..n_lines).map(|_| (0..2).map(|_| Some(1.0 + rng.below(6) as f64)).collect()).collect();
    let site_travel = vec![vec![0.0, 3.0], vec![3.0, 0.0]];
    let problem = Problem {
        step_hours: 1.0,
        horizon_hours: 40.0,
        n_incidents,
        lines,
        demands,
        line_travel,
        site_travel,
    };
    let allocation = allocate::allocate(&problem, Policy::Efficiency);
    CategoryOutcome {
        category: CategoryIdx(0),
        pass: Pass::Own,
        demands: vec![0, 1],
        lines: (0..n_lines as u32).map(|l| StockLineIdx(100 + l)).collect(),
        site_lines: Vec::new(),
        offered: problem.lines.iter().map(|l| l.batches.clone()).collect(),
        problem,
        allocation,
        walks: Default::default(),
        rounds: 1,
        cut: false,
    }
}

/// The second pass's base problem: demands of another category at the same two incidents
/// (releases past the horizon, so this pass makes no pools of its own), the same stock lines
/// with their original batches.
fn second_base(rng: &mut SplitMix64, first: &CategoryOutcome, units_max: u64) -> Problem {
    let n_lines = first.lines.len();
    let demands: Vec<Demand> = (0..1 + rng.below(2) as usize)
        .map(|k| {
            let incident = k % 2;
            let start = first.problem.demands[incident].start_hours;
            let deadline = start + 6.0 + rng.below(12) as f64;
            Demand {
                incident,
                start_hours: start,
                deadline_hours: deadline,
                release_hours: 100.0,
                units: 1 + rng.below(units_max) as i64,
                weight: 1 + rng.below(3) as i64,
            }
        })
        .collect();
    let line_travel = (0..n_lines)
        .map(|_| demands.iter().map(|_| Some(1.0 + rng.below(6) as f64)).collect())
        .collect();
    let site_travel = (0..2)
        .map(|from| demands.iter().map(|d| if d.incident == from { 0.0 } else { 3.0 }).collect())
        .collect();
    Problem {
        step_hours: 1.0,
        horizon_hours: 40.0,
        n_incidents: 2,
        lines: first.problem.lines.clone(),
        demands,
        line_travel,
        site_travel,
    }
}

/// The best second-pass objective over every allocation of its demands from the original
/// stock lines and the sites' pools, judged feasible only by `verify_shared` with the first
/// pass: no residual arithmetic involved.
fn brute_force_second(first: &CategoryOutcome, base: &Problem, site_lines: &[usize]) -> i64 {
    // Candidate shipments: (problem line, demand, departure, arrival, lateness steps).
    let n_stock = first.lines.len();
    let mut vars = Vec::new();
    for (d, demand) in base.demands.iter().enumerate() {
        for l in 0..n_stock {
            let earliest = demand.start_hours + base.lines[l].lead_hours;
            let mut departs: Vec<f64> = base.lines[l]
                .batches
                .iter()
                .map(|b| b.ready_hours.max(earliest))
                .chain([earliest])
                .collect();
            departs.sort_by(f64::total_cmp);
            departs.dedup();
            let travel = base.line_travel[l][d].expect("every line is a candidate");
            for depart in departs {
                vars.push((l, d, depart, depart + travel));
            }
        }
        for (k, &incident) in site_lines.iter().enumerate() {
            let mut departs: Vec<f64> = first
                .problem
                .demands
                .iter()
                .filter(|fd| fd.incident == incident)
                .map(|fd| fd.release_hours.max(demand.start_hours))
                .collect();
            departs.sort_by(f64::total_cmp);
            departs.dedup();
            for depart in departs {
                let arrive = depart + base.site_travel[incident][d];
                vars.push((n_stock + k, d, depart, arrive));
            }
        }
    }
    vars.retain(|(_, d, _, arrive)| {
        *arrive < base.demands[*d].release_hours - 1e-9 && *arrive <= base.horizon_hours + 1e-9
    });
    let mut best = i64::MAX;
    let mut amounts = vec![0i64; vars.len()];
    enumerate(first, base, site_lines, &vars, 0, &mut amounts, &mut best);
    best
}

#[allow(clippy::too_many_arguments)] // a recursive search's state
fn enumerate(
    first: &CategoryOutcome,
    base: &Problem,
    site_lines: &[usize],
    vars: &[(usize, usize, f64, f64)],
    k: usize,
    amounts: &mut Vec<i64>,
    best: &mut i64,
) {
    if k == vars.len() {
        let mut served = vec![0i64; base.demands.len()];
        let mut shipments = Vec::new();
        for (v, &(l, d, depart, arrive)) in vars.iter().enumerate() {
            if amounts[v] > 0 {
                served[d] += amounts[v];
                shipments.push(allocate::Shipment {
                    origin: Origin::Line(l),
                    demand: d,
                    depart_hours: depart,
                    arrive_hours: arrive,
                    units: amounts[v],
                    lateness_steps: base.lateness_steps(&base.demands[d], arrive),
                });
            }
        }
        if served.iter().zip(&base.demands).any(|(s, d)| *s > d.units) {
            return;
        }
        let candidate = CategoryOutcome {
            category: first.category,
            pass: Pass::Substitute { for_category: CategoryIdx(1), efficiency: 1.0 },
            demands: Vec::new(),
            lines: first.lines.clone(),
            site_lines: site_lines.to_vec(),
            offered: offered(base, first.lines.len()),
            problem: base.clone(),
            allocation: allocate::Allocation {
                objective: 0,
                min_served_fraction: 0.0,
                served: served.clone(),
                shipments: shipments.clone(),
            },
            walks: Default::default(),
            rounds: 1,
            cut: false,
        };
        if verify_shared(&[first.clone(), candidate], 2).is_ok() {
            *best = (*best).min(base.objective(&shipments, &served));
        }
        return;
    }
    // Only as many units as the demand still lacks: the search stays small.
    let d = vars[k].1;
    let given: i64 = (0..k).filter(|v| vars[*v].1 == d).map(|v| amounts[v]).sum();
    for units in 0..=(base.demands[d].units - given) {
        amounts[k] = units;
        enumerate(first, base, site_lines, vars, k + 1, amounts, best);
    }
    amounts[k] = 0;
}

#[test]
fn a_second_pass_matches_exhaustive_search_over_the_shared_stock() {
    let mut rng = SplitMix64::new(4242);
    let (mut used_sites, mut used_leftovers) = (0, 0);
    for case in 0..60 {
        let n_lines = 1 + rng.below(2) as usize;
        let first = first_pass(&mut rng, n_lines, 3);
        let base = second_base(&mut rng, &first, 2);
        let (problem, site_lines) = residual_problem(base.clone(), &first.lines, &[&first], 2);
        let second = allocate::allocate(&problem, Policy::Efficiency);
        allocate::verify(&problem, &second).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let outcome = CategoryOutcome {
            category: first.category,
            pass: Pass::Substitute { for_category: CategoryIdx(1), efficiency: 1.0 },
            demands: Vec::new(),
            lines: first.lines.clone(),
            site_lines: site_lines.clone(),
            offered: offered(&problem, first.lines.len()),
            problem: problem.clone(),
            allocation: second.clone(),
            walks: Default::default(),
            rounds: 1,
            cut: false,
        };
        verify_shared(&[first.clone(), outcome.clone()], 2)
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        let expected = brute_force_second(&first, &base, &site_lines);
        assert_eq!(second.objective, expected, "case {case}: {problem:#?}\n{first:#?}");
        used_sites += usize::from(
            second.shipments.iter().any(|s| matches!(outcome.source(s.origin), Source::Site(_))),
        );
        used_leftovers += usize::from(
            second
                .shipments
                .iter()
                .any(|s| matches!(s.origin, Origin::Line(l) if l < first.lines.len())),
        );
    }
    // The cases exercise both kinds of leftover: stock lines and released units.
    assert!(used_sites > 3 && used_leftovers > 10, "{used_sites} {used_leftovers}");
}

#[test]
fn larger_second_passes_are_certified_and_the_replay_catches_a_stolen_unit() {
    let mut rng = SplitMix64::new(99);
    let mut caught = 0;
    for case in 0..30 {
        let first = first_pass(&mut rng, 6, 12);
        let base = second_base(&mut rng, &first, 20);
        let (problem, site_lines) = residual_problem(base, &first.lines, &[&first], 2);
        let second = allocate::allocate(&problem, Policy::Efficiency);
        assert_eq!(second, allocate::allocate(&problem, Policy::Efficiency), "deterministic");
        let equity = allocate::allocate(&problem, Policy::Equity);
        allocate::verify(&problem, &equity).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let mut outcome = CategoryOutcome {
            category: first.category,
            pass: Pass::Substitute { for_category: CategoryIdx(1), efficiency: 0.5 },
            demands: Vec::new(),
            lines: first.lines.clone(),
            site_lines,
            offered: offered(&problem, first.lines.len()),
            problem,
            allocation: second,
            walks: Default::default(),
            rounds: 1,
            cut: false,
        };
        verify_shared(&[first.clone(), outcome.clone()], 2)
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        // Ship from stock line 0, at its last batch, everything it ever made: unless the
        // first pass took nothing from it, the shared replay must object.
        let batches = &first.problem.lines[0].batches;
        let made: i64 = batches.iter().map(|b| b.units).sum();
        let last = batches.last().map_or(0.0, |b| b.ready_hours);
        let first_took: i64 = first
            .allocation
            .shipments
            .iter()
            .filter(|s| s.origin == Origin::Line(0))
            .map(|s| s.units)
            .sum();
        if first_took > 0 {
            outcome.allocation.shipments.push(allocate::Shipment {
                origin: Origin::Line(0),
                demand: 0,
                depart_hours: last,
                arrive_hours: last + 1.0,
                units: made,
                lateness_steps: 0,
            });
            assert!(verify_shared(&[first.clone(), outcome], 2).is_err(), "case {case}");
            caught += 1;
        }
    }
    assert!(caught > 5, "{caught}");
}

// -------------------------------------------------------------------------------------------
// On the embedded scenarios with a tiny registry: what the passes do in a drill
// -------------------------------------------------------------------------------------------

/// The embedded scenarios with a registry of the given rows (new-format CSV, no header).
fn catalog_with(suppliers: &str, stock_lines: &str) -> Catalog {
    use crate::catalog::{CatalogSources, SourceFile, STOCK_LINES_FILE, SUPPLIERS_FILE};
    let file = |name: &str, header: &[&str], rows: &str| SourceFile {
        name: name.to_owned(),
        text: std::borrow::Cow::Owned(format!("{}\n{rows}", header.join(","))),
    };
    let sources = CatalogSources {
        registry_files: vec![
            file(SUPPLIERS_FILE, &crate::catalog::SUPPLIERS_HEADER, suppliers),
            file(STOCK_LINES_FILE, &crate::catalog::STOCK_LINES_HEADER, stock_lines),
        ],
        ..CatalogSources::embedded()
    };
    Catalog::load(&sources).expect("the test registry loads")
}

/// A one-incident drill: urban waterlogging over Baoding.
fn waterlogging_drill(catalog: &Catalog, extra: &str) -> Drill {
    let text = format!(
        "id = \"t\"\nname = \"t\"\nsummary = \"t\"\nsource = \"test\"\ngrade = \"MODEL\"\n{extra}\n\
         [[incident]]\nid = \"baoding\"\nscenario = \"urban-waterlogging\"\nstart_hours = 0\nplace = \"baoding\"\n\
         severity = \"III\"\naffected_population = 200000\naffected_area_km2 = 20\nsource = \"test\"\ngrade = \"MODEL\"\n"
    );
    crate::drill::parse(catalog, "t.toml", &text).unwrap_or_else(|p| panic!("{:#?}", p.list))
}

fn demand_of(outcome: &crate::drill::Outcome, catalog: &Catalog, category: &str) -> usize {
    let category = catalog.category_by_id(category).expect("category");
    outcome.demands.iter().position(|d| d.category == category).expect("the scenario requires it")
}

/// Electric drainage vehicles stand in for large drainage trucks at 0.5, after their own
/// demand: the scenario needs some of them itself; the rest serve the trucks' demand.
#[test]
fn a_substitute_serves_after_its_own_demand_at_its_efficiency() {
    let catalog = catalog_with(
        "sup-1,Test works,baoding,,38.87,115.47,,0.9,manufacturer\n",
        "sup-1,electric-drainage-vehicle,400,0,1,0\n",
    );
    let drill = waterlogging_drill(&catalog, "");
    let outcome = crate::drill::run(&catalog, &drill, Policy::Efficiency, &mut |_| {});
    crate::drill::report::verify(&outcome).expect("replays");
    let own = demand_of(&outcome, &catalog, "electric-drainage-vehicle");
    let trucks = demand_of(&outcome, &catalog, "drainage-truck-large");
    let own_units = outcome.demands[own].units;
    let truck_units = outcome.demands[trucks].units;
    assert!(own_units < 400, "the test needs stock left after the own demand");
    let served_by = |pass: fn(&Pass) -> bool, d: usize| -> i64 {
        outcome
            .categories
            .iter()
            .filter(|c| pass(&c.pass))
            .flat_map(|c| c.allocation.shipments.iter().filter(move |s| c.demands[s.demand] == d))
            .map(|s| s.units)
            .sum()
    };
    assert_eq!(served_by(|p| *p == Pass::Own, own), own_units, "own demand first, in full");
    let substituted = served_by(|p| matches!(p, Pass::Substitute { .. }), trucks);
    // What is left after the own demand, up to ceil(truck units ÷ 0.5).
    assert_eq!(substituted, (400 - own_units).min(2 * truck_units));
    let report = crate::drill::build_report(&catalog, &drill, &outcome);
    let row =
        report.shortfalls.iter().find(|r| r.category_id == "drainage-truck-large").expect("listed");
    assert!(
        (row.units_substituted - (substituted as f64 * 0.5).min(truck_units as f64)).abs() < 1e-9
    );
    assert_eq!(
        row.units_unmet,
        (truck_units as f64 - row.units_substituted - 1e-9).ceil().max(0.0) as i64
    );
    assert!(report.shipments.iter().any(|s| s.for_category_id == "drainage-truck-large"
        && s.category_id == "electric-drainage-vehicle"
        && s.pass == "substitute"));
}

/// With too little of the substitute for its own demand, nothing of it stands in.
#[test]
fn a_substitute_short_for_its_own_demand_serves_nothing_else() {
    let catalog = catalog_with(
        "sup-1,Test works,baoding,,38.87,115.47,,0.9,manufacturer\n",
        "sup-1,electric-drainage-vehicle,1,0,1,0\n",
    );
    let drill = waterlogging_drill(&catalog, "");
    let outcome = crate::drill::run(&catalog, &drill, Policy::Efficiency, &mut |_| {});
    assert!(outcome.demands[demand_of(&outcome, &catalog, "electric-drainage-vehicle")].units > 1);
    assert!(outcome
        .categories
        .iter()
        .filter(|c| matches!(c.pass, Pass::Substitute { .. }))
        .all(|c| c.allocation.shipments.is_empty()
            || c.category.0 != catalog.category_by_id("electric-drainage-vehicle").unwrap().0));
}

/// prefer_kinds: the fire-rescue holder's life jackets all go first (a manufacturer nearby
/// could deliver everything on time too); the manufacturer serves only what they leave.
/// Without the preference the allocation is free to take the manufacturer's.
#[test]
fn preferred_holders_serve_first_and_the_rest_serve_what_they_leave() {
    let catalog = catalog_with(
        "fire-1,Test fire detachment,baoding,,38.60,115.20,,0.95,fire-rescue\n\
         sup-1,Test works,baoding,,38.87,115.47,,0.9,manufacturer\n",
        "fire-1,life-jacket,10,0,1,0\nsup-1,life-jacket,100000,0,1,0\n",
    );
    let kind_of = |outcome: &crate::drill::Outcome, pass: Pass| -> Vec<HolderKind> {
        let mut kinds: Vec<HolderKind> = outcome
            .categories
            .iter()
            .filter(|c| c.pass == pass && catalog.category(c.category).id.as_str() == "life-jacket")
            .flat_map(|c| c.allocation.shipments.iter().map(move |s| (c, s)))
            .filter_map(|(c, s)| match c.source(s.origin) {
                Source::Line(line) => {
                    Some(catalog.supplier(catalog.stock_line(line).supplier).kind)
                }
                Source::Site(_) => None,
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    };
    let preferring = waterlogging_drill(&catalog, "prefer_kinds = [\"fire-rescue\"]");
    let outcome = crate::drill::run(&catalog, &preferring, Policy::Efficiency, &mut |_| {});
    crate::drill::report::verify(&outcome).expect("replays");
    assert_eq!(kind_of(&outcome, Pass::Own), vec![HolderKind::FireRescue]);
    assert_eq!(kind_of(&outcome, Pass::AfterPreferred), vec![HolderKind::Manufacturer]);
    let jackets = demand_of(&outcome, &catalog, "life-jacket");
    let first: i64 = outcome
        .categories
        .iter()
        .filter(|c| c.pass == Pass::Own && c.demands.contains(&jackets))
        .flat_map(|c| c.allocation.shipments.iter())
        .map(|s| s.units)
        .sum();
    assert_eq!(first, 10, "every preferred unit goes first");
    let report = crate::drill::build_report(&catalog, &preferring, &outcome);
    assert!(report.shortfalls.iter().all(|r| r.category_id != "life-jacket"), "fully served");
    assert!(outcome.demands[jackets].units > 10);
    assert_eq!(report.prefer_kinds, vec!["fire-rescue".to_owned()]);

    let plain = waterlogging_drill(&catalog, "");
    let outcome = crate::drill::run(&catalog, &plain, Policy::Efficiency, &mut |_| {});
    assert!(kind_of(&outcome, Pass::Own).contains(&HolderKind::Manufacturer));
    assert!(kind_of(&outcome, Pass::AfterPreferred).is_empty(), "one pass without preference");
}

/// The standing-resources run takes every manufacturer out, and the report says what it
/// covered; with manufacturers offline already there is nothing to compare.
#[test]
fn the_standing_section_is_the_drill_without_manufacturers() {
    let catalog = catalog_with(
        "fire-1,Test fire detachment,baoding,,38.60,115.20,,0.95,fire-rescue\n\
         sup-1,Test works,baoding,,38.87,115.47,,0.9,manufacturer\n",
        "fire-1,life-jacket,10,0,1,0\nsup-1,life-jacket,100000,0,1,0\n",
    );
    let drill = waterlogging_drill(&catalog, "");
    let standing =
        crate::drill::standing_only(&catalog, &drill).expect("there is a standing holder");
    let outcome = crate::drill::run(&catalog, &standing, Policy::Efficiency, &mut |_| {});
    for pass in &outcome.categories {
        for shipment in &pass.allocation.shipments {
            if let Source::Line(line) = pass.source(shipment.origin) {
                assert!(catalog.supplier(catalog.stock_line(line).supplier).kind.is_standing());
            }
        }
    }
    let report =
        crate::drill::run_report(&catalog, &drill, Policy::Efficiency, &mut |_| {}, &|| false)
            .expect("not stopped")
            .expect("within the limits");
    let cover = report.standing.expect("standing section");
    let protection = &cover.stages[1];
    assert!(protection.on_time_coverage_standing < protection.on_time_coverage_all);
    assert_eq!(crate::drill::standing_only(&catalog, &standing), None);
}

/// The batches of a problem's first `n_stock` lines: what a pass built by hand offered them.
fn offered(problem: &Problem, n_stock: usize) -> Vec<Vec<Batch>> {
    problem.lines[..n_stock].iter().map(|l| l.batches.clone()).collect()
}
