//! Drills: several incidents competing for the same stock over time, an optimal allocation per
//! equipment category, and a gap report planners can read.
//!
//! `format` parses and validates a drill file against the catalog; `run` turns the drill into
//! one allocation problem per category and solves each: `candidates` sizes the supply lines to
//! the demand and grows them by pricing until no other line can improve the answer, `allocate`
//! builds the time-expanded network (batches of stock and surge production, travel times) and
//! solves it (a min-cost flow from `flow`); `report` builds the planner's report and `html`
//! renders it as a self-contained page.
//!
//! Pure like `matching`: no I/O, no clock; the only randomness is a seeded SplitMix64 for
//! what-ifs that knock suppliers out at random. Same catalog, drill and policy, same output.

pub mod allocate;
pub mod candidates;
pub mod flow;
pub mod format;
pub mod geo;
pub mod html;
pub mod report;

pub use allocate::{Allocation, Origin, Policy, Shipment};
pub use candidates::{
    CANDIDATE_PAIRS_PER_CATEGORY_MAX, PRICING_ROUNDS_MAX, PRODUCTION_BATCH_HOURS,
};
pub use format::parse;
pub use report::{build_report, DrillReport};

use crate::catalog::Catalog;
use crate::domain::{
    CategoryIdx, ChainStage, Id, Impact, LatLon, PlaceIdx, Priority, Provenance, Severity,
    StockLineIdx, SupplierIdx, Transport, ZoneTier,
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

/// One category's problem and its solution, with the ids to read it back.
#[derive(Debug, Clone)]
pub struct CategoryOutcome {
    pub category: CategoryIdx,
    /// Global demand indexes, in the problem's demand order.
    pub demands: Vec<usize>,
    /// Stock lines, in the problem's line order.
    pub lines: Vec<StockLineIdx>,
    pub problem: allocate::Problem,
    pub allocation: Allocation,
    /// Solve-and-price rounds it took.
    pub rounds: usize,
    /// Whether a limit stopped the pricing before it proved the allocation optimal over every
    /// stock line of the category (it is then optimal over `lines`).
    pub cut: bool,
}

/// Everything a drill run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub policy: Policy,
    pub demands: Vec<DemandInfo>,
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
    let demands = demands(catalog, drill);
    let mut by_category: Vec<Vec<usize>> = vec![Vec::new(); catalog.categories.len()];
    for (d, demand) in demands.iter().enumerate() {
        by_category[demand.category.0 as usize].push(d);
    }
    let categories_total = by_category.iter().filter(|list| !list.is_empty()).count();
    let mut demands = demands;
    let mut categories = Vec::with_capacity(categories_total);
    for (c, demand_ids) in by_category.into_iter().enumerate() {
        if demand_ids.is_empty() {
            continue;
        }
        if stop() {
            return None;
        }
        let category = CategoryIdx(c as u32);
        let solved = match candidates::solve_category(
            catalog,
            drill,
            &offline,
            category,
            &mut demands,
            &demand_ids,
            policy,
        ) {
            Ok(solved) => solved,
            Err(exceeded) => {
                return Some(Err(Error::LimitExceeded {
                    limit: exceeded.limit,
                    subject: format!("category {}", catalog.categories[c].id),
                    description: exceeded.description,
                }))
            }
        };
        debug_assert_eq!(allocate::verify(&solved.problem, &solved.allocation), Ok(()));
        categories.push(CategoryOutcome {
            category,
            demands: demand_ids,
            lines: solved.lines,
            problem: solved.problem,
            allocation: solved.allocation,
            rounds: solved.rounds,
            cut: solved.cut,
        });
        progress(Progress { categories_done: categories.len(), categories_total, category });
    }
    Some(Ok(Outcome { policy, demands, categories, suppliers_offline }))
}

/// Which suppliers the what-if takes out, indexed by supplier.
fn offline_suppliers(catalog: &Catalog, what_if: &WhatIf, seed: u64) -> Vec<bool> {
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
                || what_if.zones_offline.contains(&catalog.place(supplier.place).zone);
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
    let mut demands = Vec::new();
    for (i, incident) in drill.incidents.iter().enumerate() {
        let Some(scenario) = catalog.scenario_by_id(incident.scenario.as_str()) else { continue };
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
