//! Drills: several incidents competing for the same stock over time, an optimal allocation per
//! equipment category, and a gap report planners can read.
//!
//! `format` parses and validates a drill file against the catalog; `run` turns the drill into
//! allocation problems per category and solves each: `candidates` sizes the supply lines to
//! the demand and grows them by pricing until no other line can improve the answer (from a
//! fresh start, or from what earlier passes left), `allocate` builds the time-expanded network
//! (batches of stock and surge production, travel times) and solves it (a min-cost flow from
//! `flow`); `passes` orders them — a category's own stock first (preferred holder kinds before
//! the rest when the drill prefers some), then substitutes for what it left unserved;
//! `report` builds the planner's report and `html` renders it as a self-contained page.
//!
//! Pure like `matching`: no I/O, no clock; the only randomness is a seeded SplitMix64 for
//! what-ifs that knock suppliers out at random. Same catalog, drill and policy, same output.

pub mod allocate;
pub mod candidates;
pub mod flow;
pub mod format;
pub mod geo;
pub mod html;
pub mod passes;
pub mod report;
pub mod sweep;
pub mod sweep_html;

pub use allocate::{Allocation, Origin, Policy, Shipment};
pub use candidates::{
    CANDIDATE_PAIRS_PER_CATEGORY_MAX, PRICING_ROUNDS_MAX, PRODUCTION_BATCH_HOURS,
};
pub use format::parse;
pub use passes::Pass;
pub use report::{build_report, DrillReport};

use crate::catalog::Catalog;
use crate::domain::{
    CategoryIdx, ChainStage, HolderKind, Id, Impact, LatLon, PlaceIdx, Priority, Provenance,
    Severity, StockLineIdx, SupplierIdx, Transport, ZoneTier,
};
use crate::error::Error;
use crate::matching::eta::travel_hours;
use crate::rng::SplitMix64;

/// A validated drill.
#[derive(Debug, Clone, PartialEq)]
pub struct Drill {
    pub id: Id,
    pub name: String,
    pub summary: String,
    /// The file's policy; a caller may override it.
    pub policy: Policy,
    /// Lateness is counted in whole steps of this many hours.
    pub time_step_hours: f64,
    /// Nothing arrives, and no batch is made, after this many hours from the drill start.
    pub horizon_hours: f64,
    pub surge_production: bool,
    pub seed: u64,
    /// Per category (indexed like `Catalog::categories`): hours a unit stays deployed after the
    /// requirement's deadline before it is released at the incident site.
    pub deployment_hours: Vec<f64>,
    pub incidents: Vec<Incident>,
    pub what_if: WhatIf,
    /// Holder kinds whose stock each category uses first; the rest serves only what they leave
    /// unserved (`passes`). Empty: every holder at once, one optimal allocation. Sorted.
    pub prefer_kinds: Vec<HolderKind>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: Id,
    pub scenario: Id,
    /// Hours after the drill start at which the incident happens and its equipment is ordered.
    pub start_hours: f64,
    pub place: Option<PlaceIdx>,
    pub location: LatLon,
    pub severity: Severity,
    pub affected_population: f64,
    pub affected_area_km2: f64,
    pub provenance: Provenance,
}

/// What-if toggles: the world the drill is played in.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    /// Sorted, no duplicates.
    pub suppliers_offline: Vec<SupplierIdx>,
    /// Sorted; a supplier is offline if its place or its demonstration base is listed.
    pub places_offline: Vec<PlaceIdx>,
    pub zones_offline: Vec<ZoneTier>,
    /// Sorted; a supplier of a listed kind is out (`manufacturer`: standing resources alone).
    pub kinds_offline: Vec<HolderKind>,
    /// Multiplies every line's on-hand stock (rounded down to whole units).
    pub stock_factor: f64,
    /// Multiplies ground travel times (a damaged or congested road network); air is unchanged.
    pub road_factor_scale: f64,
    /// Share of the remaining suppliers knocked out at random, drawn with the drill's seed.
    pub random_suppliers_offline_share: f64,
    pub note: String,
}

impl Default for WhatIf {
    fn default() -> WhatIf {
        WhatIf {
            suppliers_offline: Vec::new(),
            places_offline: Vec::new(),
            zones_offline: Vec::new(),
            kinds_offline: Vec::new(),
            stock_factor: 1.0,
            road_factor_scale: 1.0,
            random_suppliers_offline_share: 0.0,
            note: String::new(),
        }
    }
}

/// One requirement of one incident: a demand for units of a category.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandInfo {
    pub incident: usize,
    pub category: CategoryIdx,
    pub stage: ChainStage,
    pub priority: Priority,
    pub units: i64,
    pub window_hours: f64,
    pub deadline_hours: f64,
    pub release_hours: f64,
    /// Suppliers (not offline) that can have something there by the deadline from stock,
    /// sorted: all of them when they share one home (place or demonstration base) or there are
    /// none — what a single point of failure needs —, otherwise at least two homes' worth.
    pub on_time_suppliers: Vec<SupplierIdx>,
}

/// One allocation pass of one category (the category whose stock is shipped): its problem and
/// solution, with the ids to read it back.
#[derive(Debug, Clone)]
pub struct CategoryOutcome {
    pub category: CategoryIdx,
    /// What the pass serves: the category's own demands, what its preferred holders left, or
    /// another category's demands at an efficiency.
    pub pass: Pass,
    /// Global demand indexes, in the problem's demand order (for a substitute pass, demands of
    /// the category stood in for; the problem's units are in this category's units).
    pub demands: Vec<usize>,
    /// Stock lines, in the problem's line order; problem lines past them are pools of units
    /// earlier passes released at incident sites (`site_lines`).
    pub lines: Vec<StockLineIdx>,
    /// Problem line `lines.len() + k` is the pool at incident `site_lines[k]`.
    pub site_lines: Vec<usize>,
    /// Per stock line: every batch the pass offered it with (the problem holds the ones
    /// pricing included; later passes see what is left of all of them).
    pub offered: Vec<Vec<allocate::Batch>>,
    /// What the pass's walks over the category's lines read (`passes::own_searches`).
    pub walks: candidates::Walks,
    pub problem: allocate::Problem,
    pub allocation: Allocation,
    /// Solve-and-price rounds it took.
    pub rounds: usize,
    /// Whether a limit stopped the pricing before it proved the allocation optimal over every
    /// stock line of the category (it is then optimal over `lines` and the pools).
    pub cut: bool,
}

/// Where a shipment of a pass leaves from, in the drill's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Line(StockLineIdx),
    /// Units released at an incident site (by this pass or an earlier one), redeployed.
    Site(usize),
}

impl CategoryOutcome {
    pub fn source(&self, origin: Origin) -> Source {
        match origin {
            Origin::Line(l) if l < self.lines.len() => Source::Line(self.lines[l]),
            Origin::Line(l) => Source::Site(self.site_lines[l - self.lines.len()]),
            Origin::Site(i) => Source::Site(i),
        }
    }

    /// How many units of the demanded category one shipped unit counts for.
    pub fn efficiency(&self) -> f64 {
        match self.pass {
            Pass::Own | Pass::AfterPreferred => 1.0,
            Pass::Substitute { efficiency, .. } => efficiency,
        }
    }
}

/// Everything a drill run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub policy: Policy,
    pub demands: Vec<DemandInfo>,
    /// Every pass, in solving order (`passes::solve_order`, then the passes of a category).
    pub categories: Vec<CategoryOutcome>,
    pub suppliers_offline: usize,
}

/// Progress of a run, reported after each category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub categories_done: usize,
    pub categories_total: usize,
    pub category: CategoryIdx,
}

pub fn priority_weight(priority: Priority) -> i64 {
    match priority {
        Priority::Critical => 3,
        Priority::Important => 2,
        Priority::Supporting => 1,
    }
}

/// Runs a drill: every category's allocation under `policy`, in category order. For drills
/// known to be within the limits (tests, benchmarks): it panics on `Error::LimitExceeded`,
/// which `run_until` returns instead (the server and the CLI use that).
pub fn run(
    catalog: &Catalog,
    drill: &Drill,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
) -> Outcome {
    match run_until(catalog, drill, policy, progress, &|| false) {
        Some(Ok(outcome)) => outcome,
        Some(Err(error)) => panic!("the drill exceeds a limit: {error}"),
        None => unreachable!("a run that is never stopped completes"),
    }
}

/// `run`, checking `stop` before each category: `None` when it said stop (a server's client
/// went away, so the remaining categories would be computed for nobody);
/// `Some(Err(Error::LimitExceeded))` when a category is too large to solve.
pub fn run_until(
    catalog: &Catalog,
    drill: &Drill,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
    stop: &dyn Fn() -> bool,
) -> Option<Result<Outcome, Error>> {
    let offline = offline_suppliers(catalog, &drill.what_if, drill.seed);
    let suppliers_offline = offline.iter().filter(|o| **o).count();
    let mut demands = demands(catalog, drill);
    let mut by_category: Vec<Vec<usize>> = vec![Vec::new(); catalog.categories.len()];
    for (d, demand) in demands.iter().enumerate() {
        by_category[demand.category.0 as usize].push(d);
    }
    let order = passes::solve_order(catalog, &by_category);
    let categories_total = order.len();
    let mut solver = passes::Solver::new(catalog, drill, policy, &offline, &demands);
    for (done, &category) in order.iter().enumerate() {
        if stop() {
            return None;
        }
        if let Err(error) = solver.solve_category(category, &mut demands, &by_category) {
            return Some(Err(error));
        }
        progress(Progress { categories_done: done + 1, categories_total, category });
    }
    Some(Ok(Outcome { policy, demands, categories: solver.into_outcomes(), suppliers_offline }))
}

/// A drill's full report: the run under `policy`, and — when the registry holds standing
/// resources and manufacturers are not offline already — the same drill with every
/// manufacturer offline, for the report's standing-resources section. Progress is reported
/// for the first run; `stop` is checked in both. `None` when `stop` said stop; an error when a
/// category exceeds a limit (as `run_until`).
pub fn run_report(
    catalog: &Catalog,
    drill: &Drill,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
    stop: &dyn Fn() -> bool,
) -> Option<Result<DrillReport, crate::error::Error>> {
    Some(run_report_outcome(catalog, drill, policy, progress, stop)?.map(|(report, _)| report))
}

/// `run_report`, and the outcome of the run under `policy` (the benchmark reads its pricing).
pub fn run_report_outcome(
    catalog: &Catalog,
    drill: &Drill,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
    stop: &dyn Fn() -> bool,
) -> Option<Result<(DrillReport, Outcome), crate::error::Error>> {
    let outcome = match run_until(catalog, drill, policy, progress, stop)? {
        Ok(outcome) => outcome,
        Err(error) => return Some(Err(error)),
    };
    let mut report = build_report(catalog, drill, &outcome);
    if let Some(standing_drill) = standing_only(catalog, drill) {
        let standing = match run_until(catalog, &standing_drill, policy, &mut |_| {}, stop)? {
            Ok(standing) => standing,
            Err(error) => return Some(Err(error)),
        };
        report.standing = Some(report::standing_cover(drill, &outcome, &standing));
    }
    Some(Ok((report, outcome)))
}

/// The drill with every manufacturer offline (standing resources alone); `None` when they are
/// offline already or the registry has no standing holder.
pub fn standing_only(catalog: &Catalog, drill: &Drill) -> Option<Drill> {
    let any_standing = catalog.suppliers.iter().any(|supplier| supplier.kind.is_standing());
    if !any_standing || drill.what_if.kinds_offline.contains(&HolderKind::Manufacturer) {
        return None;
    }
    let mut standing = drill.clone();
    standing.what_if.kinds_offline.push(HolderKind::Manufacturer);
    standing.what_if.kinds_offline.sort_unstable();
    standing.prefer_kinds.clear();
    Some(standing)
}

/// Which suppliers the what-if takes out, indexed by supplier.
pub(crate) fn offline_suppliers(catalog: &Catalog, what_if: &WhatIf, seed: u64) -> Vec<bool> {
    let mut rng = SplitMix64::new(seed);
    catalog
        .suppliers
        .iter()
        .enumerate()
        .map(|(i, supplier)| {
            let listed = what_if.suppliers_offline.binary_search(&SupplierIdx(i as u32)).is_ok()
                || what_if.places_offline.binary_search(&supplier.place).is_ok()
                || supplier
                    .base
                    .is_some_and(|base| what_if.places_offline.binary_search(&base).is_ok())
                || what_if.zones_offline.contains(&catalog.place(supplier.place).zone)
                || what_if.kinds_offline.contains(&supplier.kind);
            // One draw per supplier whatever the lists say, so adding a listed supplier does
            // not reshuffle which others the seed knocks out.
            let draw =
                if what_if.random_suppliers_offline_share > 0.0 { rng.next_f64() } else { 1.0 };
            listed || draw < what_if.random_suppliers_offline_share
        })
        .collect()
}

/// Every requirement of every incident with a positive quantity, in incident order, then
/// chain stage, then the scenario's order.
fn demands(catalog: &Catalog, drill: &Drill) -> Vec<DemandInfo> {
    demands_with(drill, &|id| catalog.scenario_by_id(id))
}

/// `demands` with the scenarios `scenario_for` gives (the sweep passes altered copies).
pub(crate) fn demands_with<'s>(
    drill: &Drill,
    scenario_for: &dyn Fn(&str) -> Option<&'s crate::domain::Scenario>,
) -> Vec<DemandInfo> {
    let mut demands = Vec::new();
    for (i, incident) in drill.incidents.iter().enumerate() {
        let Some(scenario) = scenario_for(incident.scenario.as_str()) else { continue };
        let impact = Impact {
            severity: incident.severity,
            affected_population: incident.affected_population,
            affected_area_km2: incident.affected_area_km2,
        };
        for requirement in &scenario.requirements {
            let units = scenario.quantity(requirement, &impact).units;
            if units < 1.0 {
                continue;
            }
            let deadline_hours = incident.start_hours + requirement.needed_within_hours;
            demands.push(DemandInfo {
                incident: i,
                category: requirement.category,
                stage: requirement.stage,
                priority: requirement.priority,
                units: units as i64,
                window_hours: requirement.needed_within_hours,
                deadline_hours,
                release_hours: deadline_hours
                    + drill.deployment_hours[requirement.category.0 as usize],
                on_time_suppliers: Vec::new(),
            });
        }
    }
    demands
}

/// Ground travel scales with the what-if's road factor; air does not use roads.
fn travel(transport: Transport, great_circle: f64, road_factor_scale: f64) -> f64 {
    let hours = travel_hours(transport, great_circle);
    if transport == Transport::Air {
        hours
    } else {
        hours * road_factor_scale
    }
}

#[cfg(test)]
mod tests;
