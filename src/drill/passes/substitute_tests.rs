//! Substitutes in a whole drill, checked against an exhaustive twin.
//!
//! Random tiny registries (one to three stock lines of each drainage category, near and far,
//! with random lead times and sometimes surge production) feed the real drill (`drill::run`) on
//! two incidents of the embedded urban-waterlogging scenario, with short deployments so units
//! released at a site serve again, and substitutes that chain: large drainage trucks
//! stand in for mother-child trucks (0.7); electric drainage vehicles (0.5) and tracked pump
//! stations (0.333) stand in for large trucks. The twin walks the drill's passes in order and,
//! for each pass:
//!
//! - works out on its own what the pass must serve: a category's own demands in full, or what
//!   earlier passes left of the demands it stands in for, in its own units at its efficiency
//!   (the fewest whole units `n` with `n × efficiency ≥ left`, found by counting, not by the
//!   solver's `ceil`), and checks the pass asked for exactly that;
//! - finds the best objective of that pass by enumerating every allocation of those units from
//!   the stock lines' original batches and the units released at the site, feasible only if
//!   the shared replay (`verify_shared`) accepts it together with the category's earlier passes
//!   — no residual arithmetic, no flow — and checks the drill's pass reaches it;
//! - counts what the pass covered, at its efficiency, for the passes after it.
//!
//! Then the report's substituted units are the twin's. Mutations it catches: counting a
//! substitute at 1 instead of its efficiency; dropping the units released at a site. So the drill is
//! optimal pass by pass (lexicographically in its solving order) with substitutes at their
//! efficiency, and never hands out a unit twice.

use super::*;
use crate::catalog::Catalog;
use crate::drill::allocate::{Allocation, Shipment};
use crate::drill::{Origin, Source};
use crate::rng::SplitMix64;

/// The drainage categories of the chain, in the taxonomy's ids.
const CHAIN: [&str; 4] = [
    "drainage-truck-mother-child",
    "drainage-truck-large",
    "electric-drainage-vehicle",
    "tracked-mobile-pump-station",
];

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

/// Two small waterlogging incidents, over Baoding and, `later` hours on, over Xiong'an: a few
/// units of each drainage category each, deployed `deployment` hours past their deadline so
/// that units released at one site can serve later passes from there.
fn drill(catalog: &Catalog, area_km2: u64, later: u64, deployment: u64) -> Drill {
    let incident = |id: &str, start: u64| {
        format!(
            "[[incident]]\nid = \"{id}\"\nscenario = \"urban-waterlogging\"\nstart_hours = {start}\nplace = \"{id}\"\n\
             severity = \"IV\"\naffected_population = 20000\naffected_area_km2 = {area_km2}\nsource = \"test\"\ngrade = \"MODEL\"\n"
        )
    };
    let text = format!(
        "id = \"t\"\nname = \"t\"\nsummary = \"t\"\nsource = \"test\"\ngrade = \"MODEL\"\n\
         surge_production = true\ndeployment_hours_default = {deployment}\n{}{}",
        incident("baoding", 0),
        incident("xiongan", later)
    );
    crate::drill::parse(catalog, "t.toml", &text).unwrap_or_else(|p| panic!("{:#?}", p.list))
}

/// The fewest whole units of a substitute that cover `left` units at `efficiency`.
fn units_to_cover(left: f64, efficiency: f64) -> i64 {
    let mut n = 0i64;
    while (n as f64) * efficiency < left - 1e-9 {
        n += 1;
    }
    n
}

/// The best objective of `pass` over every allocation of its demands (units as the twin
/// worked them out) from the original batches of its stock lines and the units released at
/// the sites, judged feasible only by the shared replay with `prior` (the category's earlier
/// passes).
fn exhaustive_best(pass: &CategoryOutcome, prior: &[CategoryOutcome], units: &[i64]) -> i64 {
    let n_stock = pass.lines.len();
    let n_incidents = pass.problem.n_incidents;
    // The base problem: stock lines with the batches first offered (no residual), no pools.
    let mut base = pass.problem.clone();
    base.lines.truncate(n_stock);
    base.line_travel.truncate(n_stock);
    for (l, line) in pass.lines.iter().enumerate() {
        // Every batch the line was first offered, by the earliest pass that held it (the
        // problems hold only the batches pricing included).
        let first = prior
            .iter()
            .chain([pass])
            .find_map(|p| p.lines.iter().position(|x| x == line).map(|k| p.offered[k].clone()));
        if let Some(first) = first {
            base.lines[l].batches = first;
        }
    }
    for (demand, units) in base.demands.iter_mut().zip(units) {
        demand.units = *units;
    }
    // Releases at each site, by any earlier pass or this one: when pooled units can leave.
    let mut releases: Vec<Vec<f64>> = vec![Vec::new(); n_incidents];
    for p in prior.iter().chain([pass]) {
        for demand in &p.problem.demands {
            if demand.release_hours <= p.problem.horizon_hours {
                releases[demand.incident].push(demand.release_hours);
            }
        }
    }
    // Candidate shipments (problem line, demand, departure, arrival): leaving later than the
    // first moment a unit can leave never helps, so those moments are enough.
    let mut vars = Vec::new();
    for (d, demand) in base.demands.iter().enumerate() {
        for l in 0..n_stock {
            let Some(travel) = base.line_travel[l][d] else { continue };
            let earliest = demand.start_hours + base.lines[l].lead_hours;
            let mut departs: Vec<f64> = base.lines[l]
                .batches
                .iter()
                .map(|b| b.ready_hours.max(earliest))
                .chain([earliest])
                .collect();
            departs.sort_by(f64::total_cmp);
            departs.dedup();
            vars.extend(departs.into_iter().map(|t| (l, d, t, t + travel)));
        }
        for (i, times) in releases.iter().enumerate() {
            let mut departs: Vec<f64> = times.iter().map(|t| t.max(demand.start_hours)).collect();
            departs.sort_by(f64::total_cmp);
            departs.dedup();
            let travel = base.site_travel[i][d];
            vars.extend(departs.into_iter().map(|t| (n_stock + i, d, t, t + travel)));
        }
    }
    vars.retain(|(_, d, _, arrive)| {
        *arrive < base.demands[*d].release_hours - 1e-9 && *arrive <= base.horizon_hours + 1e-9
    });
    let candidate = CategoryOutcome {
        category: pass.category,
        pass: pass.pass,
        demands: Vec::new(),
        lines: pass.lines.clone(),
        site_lines: (0..n_incidents).collect(),
        offered: base.lines.iter().map(|l| l.batches.clone()).collect(),
        problem: base.clone(),
        allocation: Allocation {
            objective: 0,
            min_served_fraction: 0.0,
            served: Vec::new(),
            shipments: Vec::new(),
        },
        walks: Default::default(),
        rounds: 1,
        cut: false,
    };
    let mut search = Search { prior, candidate, vars, amounts: Vec::new(), best: i64::MAX };
    search.amounts = vec![0; search.vars.len()];
    search.go(0);
    search.best
}

/// The enumeration's state: every amount of every candidate shipment, up to what its demand
/// still lacks.
struct Search<'a> {
    prior: &'a [CategoryOutcome],
    candidate: CategoryOutcome,
    vars: Vec<(usize, usize, f64, f64)>,
    amounts: Vec<i64>,
    best: i64,
}

impl Search<'_> {
    fn go(&mut self, k: usize) {
        let base = &self.candidate.problem;
        if k == self.vars.len() {
            let mut served = vec![0i64; base.demands.len()];
            let mut shipments = Vec::new();
            for (v, &(l, d, depart, arrive)) in self.vars.iter().enumerate() {
                if self.amounts[v] > 0 {
                    served[d] += self.amounts[v];
                    shipments.push(Shipment {
                        origin: Origin::Line(l),
                        demand: d,
                        depart_hours: depart,
                        arrive_hours: arrive,
                        units: self.amounts[v],
                        lateness_steps: base.lateness_steps(&base.demands[d], arrive),
                    });
                }
            }
            let objective = base.objective(&shipments, &served);
            if objective >= self.best {
                return;
            }
            let mut candidate = self.candidate.clone();
            candidate.allocation.served = served;
            candidate.allocation.shipments = shipments;
            let mut all = self.prior.to_vec();
            all.push(candidate);
            if verify_shared(&all, base.n_incidents).is_ok() {
                self.best = objective;
            }
            return;
        }
        let d = self.vars[k].1;
        let given: i64 = (0..k).filter(|v| self.vars[*v].1 == d).map(|v| self.amounts[v]).sum();
        for units in 0..=(base.demands[d].units - given) {
            self.amounts[k] = units;
            self.go(k + 1);
        }
        self.amounts[k] = 0;
    }
}

#[test]
fn substitutes_at_their_efficiency_match_an_exhaustive_twin() {
    // Baoding's centre, a works 60 km off and one 250 km off (lateness in whole hours).
    let places = [(38.87, 115.47), (39.40, 115.60), (40.80, 116.00)];
    let mut rng = SplitMix64::new(1414);
    let (mut substituting, mut chained, mut partial, mut pooled) = (0, 0, 0, 0);
    for case in 0..24 {
        let mut suppliers = String::new();
        for (s, (lat, lon)) in places.iter().enumerate() {
            suppliers.push_str(&format!(
                "sup-{s},Test works {s},baoding,,{lat},{lon},,0.9,manufacturer\n"
            ));
        }
        let mut stock = String::new();
        for category in CHAIN {
            let mut holders: Vec<usize> = (0..places.len()).collect();
            for _ in 0..rng.below(3) {
                let s = holders.remove(rng.below(holders.len() as u64) as usize);
                let surge = if rng.below(4) == 0 { 1 } else { 0 };
                stock.push_str(&format!(
                    "sup-{s},{category},{},{surge},{},0\n",
                    rng.below(5),
                    rng.below(8)
                ));
            }
        }
        let catalog = catalog_with(&suppliers, &stock);
        let drill = drill(&catalog, 2 + rng.below(20), rng.below(12), 1 + rng.below(8));
        let outcome = crate::drill::run(&catalog, &drill, Policy::Efficiency, &mut |_| {});
        crate::drill::report::verify(&outcome).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let chain: Vec<_> =
            CHAIN.iter().map(|id| catalog.category_by_id(id).expect("in the taxonomy")).collect();

        // The twin's count of what each demand has been covered with, in its own units.
        let mut covered = vec![0.0f64; outcome.demands.len()];
        let mut substituted = vec![0.0f64; outcome.demands.len()];
        for (p, pass) in outcome.categories.iter().enumerate() {
            if !chain.contains(&pass.category) {
                assert!(pass.allocation.shipments.is_empty(), "case {case}: no stock, no shipment");
                continue;
            }
            // What the pass must serve, worked out from the demands and earlier passes.
            let expected: Vec<(usize, i64)> = match pass.pass {
                Pass::Own => (0..outcome.demands.len())
                    .filter(|d| outcome.demands[*d].category == pass.category)
                    .map(|d| (d, outcome.demands[d].units))
                    .collect(),
                Pass::Substitute { for_category, efficiency } => {
                    let listed = catalog
                        .category(for_category)
                        .substitutes
                        .iter()
                        .find(|s| s.category == pass.category)
                        .expect("the taxonomy lists it");
                    assert_eq!(efficiency, listed.efficiency, "case {case}");
                    (0..outcome.demands.len())
                        .filter(|d| outcome.demands[*d].category == for_category)
                        .map(|d| {
                            let left = outcome.demands[d].units as f64 - covered[d];
                            (d, units_to_cover(left, efficiency))
                        })
                        .filter(|(_, units)| *units > 0)
                        .collect()
                }
                Pass::AfterPreferred => unreachable!("the drill prefers no kind"),
            };
            let asked: Vec<(usize, i64)> = pass
                .demands
                .iter()
                .zip(&pass.problem.demands)
                .map(|(d, demand)| (*d, demand.units))
                .collect();
            assert_eq!(asked, expected, "case {case}, pass {p} {:?}", pass.pass);
            let prior: Vec<CategoryOutcome> = outcome.categories[..p]
                .iter()
                .filter(|q| q.category == pass.category)
                .cloned()
                .collect();
            let units: Vec<i64> = expected.iter().map(|(_, u)| *u).collect();
            let best = exhaustive_best(pass, &prior, &units);
            assert_eq!(
                pass.allocation.objective,
                best,
                "case {case}, pass {p} {:?} of {}: {stock}",
                pass.pass,
                catalog.category(pass.category).id
            );
            let efficiency = pass.efficiency();
            for (k, d) in pass.demands.iter().enumerate() {
                covered[*d] += pass.allocation.served[k] as f64 * efficiency;
                if matches!(pass.pass, Pass::Substitute { .. }) {
                    substituted[*d] += pass.allocation.served[k] as f64 * efficiency;
                }
            }
            if let Pass::Substitute { for_category, .. } = pass.pass {
                let served: i64 = pass.allocation.served.iter().sum();
                if served > 0 {
                    substituting += 1;
                    chained += usize::from(for_category == chain[1] && pass.category == chain[3]);
                    partial += usize::from(
                        expected
                            .iter()
                            .any(|(d, _)| outcome.demands[*d].units as f64 - covered[*d] > 1e-9),
                    );
                }
            }
            pooled += pass
                .allocation
                .shipments
                .iter()
                .filter(|s| matches!(pass.source(s.origin), Source::Site(_)))
                .count();
            // After a category's last pass: every category it stands in for and has no pass
            // for was fully covered already (a pass is skipped only when nothing is left).
            let last = outcome.categories.get(p + 1).is_none_or(|q| q.category != pass.category);
            if last {
                let passes_for: Vec<CategoryIdx> = outcome.categories[..=p]
                    .iter()
                    .filter(|q| q.category == pass.category)
                    .filter_map(|q| match q.pass {
                        Pass::Substitute { for_category, .. } => Some(for_category),
                        _ => None,
                    })
                    .collect();
                for (f, category) in catalog.categories.iter().enumerate() {
                    let f = CategoryIdx(f as u32);
                    if category.substitutes.iter().any(|s| s.category == pass.category)
                        && !passes_for.contains(&f)
                    {
                        for d in
                            (0..outcome.demands.len()).filter(|d| outcome.demands[*d].category == f)
                        {
                            assert!(
                                outcome.demands[d].units as f64 - covered[d] <= 1e-9,
                                "case {case}: {} skipped standing in for {} with units left",
                                catalog.category(pass.category).id,
                                category.id
                            );
                        }
                    }
                }
            }
        }
        for category in &chain {
            assert!(
                outcome.categories.iter().any(|q| q.category == *category && q.pass == Pass::Own),
                "case {case}: the scenario needs every category of the chain"
            );
        }
        // The report's substituted units are the twin's, capped at what own stock left.
        let report = crate::drill::build_report(&catalog, &drill, &outcome);
        for row in report.shortfalls.iter().filter(|r| CHAIN[..2].contains(&r.category_id.as_str()))
        {
            let twin: f64 = (0..outcome.demands.len())
                .filter(|d| {
                    catalog.category(outcome.demands[*d].category).id.as_str() == row.category_id
                        && outcome.demands[*d].stage.key() == row.stage
                })
                .map(|d| {
                    let own = covered[d] - substituted[d];
                    substituted[d].min(outcome.demands[d].units as f64 - own)
                })
                .sum();
            assert!(
                (row.units_substituted - twin).abs() < 1e-6,
                "case {case}: {} {} vs twin {twin}",
                row.category_id,
                row.units_substituted
            );
        }
    }
    // The cases exercise substitutes serving, a second substitute after the first, and
    // substitutes that leave part of the demand.
    assert!(
        substituting > 5 && chained > 0 && partial > 0 && pooled > 0,
        "{substituting} {chained} {partial} {pooled}"
    );
}
