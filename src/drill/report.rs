//! The planner's report of a drill run: coverage per incident and chain stage over time, time to
//! full coverage, shortfalls by category and stage, single points of failure, and which places,
//! demonstration bases and zones supplied what (the industry-chain gap map).
//!
//! Plain data with serde `Serialize`: this is the documented JSON of `equipmatch drill --json`
//! (field names are the contract, units in the names) and what the HTML page is drawn from.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{allocate, CategoryOutcome, DemandInfo, Drill, Outcome, Pass, Source};
use crate::catalog::Catalog;
use crate::domain::{ChainStage, HolderKind, MiitClass, ZoneTier};

/// The most points of a coverage time series.
pub const SERIES_POINTS_MAX: usize = 200;
/// The most shipments listed in a report (the totals always count all of them).
pub const SHIPMENTS_IN_REPORT_MAX: usize = 20_000;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DrillReport {
    pub drill_id: String,
    pub name: String,
    pub summary: String,
    pub policy: String,
    pub catalog_version: String,
    pub time_step_hours: f64,
    pub horizon_hours: f64,
    pub surge_production: bool,
    pub seed: u64,
    pub what_if: WhatIfReport,
    pub totals: Totals,
    /// The times (hours from the drill start) of every coverage series.
    pub series_hours: Vec<f64>,
    pub incidents: Vec<IncidentReport>,
    pub stages: Vec<StageGap>,
    /// Sorted by units unmet, then units late, descending; then category id.
    pub shortfalls: Vec<Shortfall>,
    pub single_points_of_failure: Vec<SinglePointOfFailure>,
    /// Per supplying place or demonstration base, sorted by units supplied descending, then id.
    pub supply_map: Vec<SupplyRow>,
    pub zones: Vec<ZoneRow>,
    /// Units supplied per holder kind (manufacturers and the standing resources), in
    /// `HolderKind::ALL` order, with the crews that came with them.
    pub holder_kinds: Vec<HolderKindRow>,
    /// What the standing resources alone cover before any manufacturer is called: the same
    /// drill with every manufacturer offline. `None` when it was not run.
    pub standing: Option<StandingCover>,
    /// Holder kinds the drill used first (`prefer_kinds`), in order.
    pub prefer_kinds: Vec<String>,
    /// Sorted by category, incident, arrival.
    pub shipments: Vec<ShipmentRow>,
    pub shipments_truncated: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhatIfReport {
    pub suppliers_offline_listed: Vec<String>,
    pub places_offline: Vec<String>,
    pub zones_offline: Vec<String>,
    pub kinds_offline: Vec<String>,
    pub stock_factor: f64,
    pub road_factor_scale: f64,
    pub random_suppliers_offline_share: f64,
    /// Suppliers out of the drill for any reason.
    pub suppliers_offline_total: usize,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Totals {
    pub incidents: usize,
    pub requirements: usize,
    pub categories: usize,
    pub candidate_lines: usize,
    /// Categories whose candidate lines were cut at a limit before pricing proved their
    /// allocation optimal over every line of the category (see `Shortfall::candidates_cut`).
    pub categories_cut: usize,
    pub units_required: i64,
    /// Units of the required category itself, on time.
    pub units_on_time: i64,
    pub units_late: i64,
    /// Units neither the category nor its substitutes delivered (rounded up per requirement).
    pub units_unmet: i64,
    /// Required units covered by substitutes before release, at their efficiency.
    pub units_substituted: f64,
    /// Of those, covered by the deadline.
    pub units_substituted_on_time: f64,
    /// Σ over passes of the efficiency objective (see the drill README; a substitute pass
    /// counts in the substitute's units).
    pub objective: i64,
    /// The allocation passes solved (`own`, `after_preferred`, `substitute`).
    pub passes: usize,
    /// The worst (served + substituted) ÷ required over all requirements.
    pub min_served_fraction: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentReport {
    pub id: String,
    pub scenario_id: String,
    pub severity: String,
    pub start_hours: f64,
    pub place_id: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub affected_population: f64,
    pub units_required: i64,
    pub units_on_time: i64,
    pub units_served: i64,
    /// Priority-weighted share of each requirement's units delivered by its deadline.
    pub on_time_coverage: f64,
    /// Priority-weighted share delivered within the horizon (late included).
    pub final_coverage: f64,
    /// Hours from the incident's start until every requirement is fully delivered; `None`
    /// when that never happens within the horizon.
    pub hours_to_full_coverage: Option<f64>,
    pub stages: Vec<StageCoverage>,
    /// Priority-weighted coverage at each of `series_hours`.
    pub coverage_series: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageCoverage {
    pub stage: String,
    pub units_required: i64,
    pub units_on_time: i64,
    pub units_served: i64,
    pub on_time_coverage: f64,
    pub final_coverage: f64,
    pub hours_to_full_coverage: Option<f64>,
    pub coverage_series: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageGap {
    pub stage: String,
    pub units_required: i64,
    pub units_on_time: i64,
    pub units_late: i64,
    pub units_unmet: i64,
    pub units_substituted: f64,
    pub units_substituted_on_time: f64,
    /// Categories of this stage with any unit late or unmet.
    pub categories_short: usize,
    /// Priority-weighted coverage of the stage's requirements (each requirement's share of its
    /// units, capped at 1) by their deadlines and by the horizon: what the stage bars draw, so
    /// a requirement of thousands of relief items counts as one requirement, not as thousands.
    pub on_time_coverage: f64,
    pub final_coverage: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Shortfall {
    pub category_id: String,
    pub category_name_en: String,
    pub stage: String,
    pub miit_class: String,
    pub incidents: usize,
    pub units_required: i64,
    pub units_on_time: i64,
    pub units_late: i64,
    pub units_unmet: i64,
    pub units_substituted: f64,
    pub units_substituted_on_time: f64,
    /// A pass serving the category's demands (its own, or a substitute's) had its candidate
    /// lines cut at a limit (`CANDIDATE_PAIRS_PER_CATEGORY_MAX`, `PRICING_ROUNDS_MAX`) while
    /// more might have improved its answer: the shortfall is the best over the lines
    /// considered, and may be smaller with every line of the region.
    pub candidates_cut: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SinglePointOfFailure {
    pub category_id: String,
    pub stage: String,
    pub incident_id: String,
    /// `supplier` (one supplier alone can deliver in time), `place` (several, all at one
    /// place or base) or `none` (nobody can).
    pub kind: String,
    /// The supplier or place id; empty for `none`.
    pub holder_id: String,
    pub on_time_suppliers: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SupplyRow {
    /// The demonstration base a supplier sits in, else its place.
    pub place_id: String,
    pub name_en: String,
    pub kind: String,
    pub zone: String,
    pub latitude: f64,
    pub longitude: f64,
    pub units_total: i64,
    /// Units per chain stage, in chain order.
    pub units_by_stage: Vec<i64>,
    /// Units per MIIT class: monitoring, protection, rescue, service.
    pub units_by_miit_class: Vec<i64>,
    pub suppliers_used: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ZoneRow {
    pub zone: String,
    pub units_by_stage: Vec<i64>,
    pub units_total: i64,
    pub share: f64,
}

/// Units one holder kind supplied (leaving its stock; redeployments excluded).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HolderKindRow {
    pub kind: String,
    pub units_by_stage: Vec<i64>,
    pub units_total: i64,
    pub share: f64,
    /// Units that came with a crew (`crew_per_unit` above 0), and the people in those crews.
    pub units_crewed: i64,
    pub crew_people: i64,
    pub suppliers_used: usize,
}

/// What the standing resources (reserve depots, fire and rescue, professional teams) cover
/// alone, before any manufacturer, next to what every holder covers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StandingCover {
    /// Per chain stage, in chain order.
    pub stages: Vec<StandingStage>,
    /// Per incident, in drill order.
    pub incidents: Vec<StandingIncident>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StandingStage {
    pub stage: String,
    pub units_required: i64,
    /// Priority-weighted coverage by the deadline with standing resources alone …
    pub on_time_coverage_standing: f64,
    /// … and by the horizon.
    pub final_coverage_standing: f64,
    /// The same with every holder (this report's allocation).
    pub on_time_coverage_all: f64,
    pub final_coverage_all: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StandingIncident {
    pub incident_id: String,
    pub on_time_coverage_standing: f64,
    pub on_time_coverage_all: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShipmentRow {
    /// The category shipped (a substitute's own category when `for_category_id` is set).
    pub category_id: String,
    /// The required category a substitute stood in for; empty for the category's own units.
    pub for_category_id: String,
    /// The allocation pass: `own`, `after_preferred` or `substitute`.
    pub pass: String,
    pub incident_id: String,
    pub stage: String,
    /// A supplier id, or `site:<incident id>` for equipment redeployed from an incident site.
    pub from: String,
    pub depart_hours: f64,
    pub arrive_hours: f64,
    pub units: i64,
    pub lateness_steps: i64,
}

/// One arrival at a demand: when, how many units of the required category it counts for
/// (a substitute's units × its efficiency), and whether they are the category's own units.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    at: f64,
    units: f64,
    own: bool,
}

/// Per demand: arrivals, sorted by time.
fn arrivals(outcome: &Outcome) -> Vec<Vec<Arrival>> {
    let mut arrivals = vec![Vec::new(); outcome.demands.len()];
    for category in &outcome.categories {
        let efficiency = category.efficiency();
        let own = !matches!(category.pass, Pass::Substitute { .. });
        for shipment in &category.allocation.shipments {
            arrivals[category.demands[shipment.demand]].push(Arrival {
                at: shipment.arrive_hours,
                units: shipment.units as f64 * efficiency,
                own,
            });
        }
    }
    for list in &mut arrivals {
        list.sort_by(|a, b| a.at.total_cmp(&b.at));
    }
    arrivals
}

/// Units (of the required category) arrived for demand `d` by `limit` (`None`: ever).
fn arrived(arrivals: &[Vec<Arrival>], d: usize, limit: Option<f64>, own: Option<bool>) -> f64 {
    arrivals[d]
        .iter()
        .filter(|a| limit.is_none_or(|limit| a.at <= limit + 1e-9))
        .filter(|a| own.is_none_or(|own| a.own == own))
        .map(|a| a.units)
        .sum()
}

fn ratio(part: f64, total: f64) -> f64 {
    if total > 0.0 {
        part / total
    } else {
        1.0
    }
}

/// Weighted coverage of a set of demands at time `t` (`None`: at the end, however late).
fn coverage_at(
    outcome: &Outcome,
    arrivals: &[Vec<Arrival>],
    demands: &[usize],
    t: Option<f64>,
    on_time: bool,
) -> f64 {
    let (mut covered, mut total) = (0.0, 0.0);
    for &d in demands {
        let demand = &outcome.demands[d];
        let weight = super::priority_weight(demand.priority) as f64;
        let limit = if on_time { Some(demand.deadline_hours) } else { t };
        let got = arrived(arrivals, d, limit, None);
        covered += weight * (got.min(demand.units as f64) / demand.units as f64);
        total += weight;
    }
    ratio(covered, total)
}

/// The time the last unit of a set of demands arrives, if all of them arrive.
fn full_at(outcome: &Outcome, arrivals: &[Vec<Arrival>], demands: &[usize]) -> Option<f64> {
    let mut last: f64 = 0.0;
    for &d in demands {
        let units = outcome.demands[d].units as f64;
        let mut got = 0.0;
        let mut full = None;
        for arrival in &arrivals[d] {
            got += arrival.units;
            if got >= units - 1e-9 {
                full = Some(arrival.at);
                break;
            }
        }
        last = last.max(full?);
    }
    Some(last)
}

/// Priority-weighted coverage of the demands of one stage (all stages: `None`), by the
/// deadline and by the horizon. The sweep reads it too.
pub(crate) fn stage_coverage(outcome: &Outcome, stage: Option<ChainStage>) -> (f64, f64) {
    let arrivals = arrivals(outcome);
    let ds: Vec<usize> = (0..outcome.demands.len())
        .filter(|d| stage.is_none_or(|stage| outcome.demands[*d].stage == stage))
        .collect();
    (
        coverage_at(outcome, &arrivals, &ds, None, true),
        coverage_at(outcome, &arrivals, &ds, None, false),
    )
}

/// Adds, per demand, the units of its category that `passes` delivered by its deadline
/// (substitutes at their efficiency) — what `coverage_due_within` reads.
pub fn add_on_time_units(passes: &[CategoryOutcome], demands: &[DemandInfo], on_time: &mut [f64]) {
    for pass in passes {
        let efficiency = pass.efficiency();
        for shipment in &pass.allocation.shipments {
            let d = pass.demands[shipment.demand];
            if shipment.arrive_hours <= demands[d].deadline_hours + 1e-9 {
                on_time[d] += shipment.units as f64 * efficiency;
            }
        }
    }
}

/// Per chain stage (chain order), then over all stages: the priority-weighted share of the
/// units due within `hours` of their incident's start (window ≤ `hours`) that arrived by
/// their deadline, from `on_time` (`add_on_time_units`); `None` where nothing is due that
/// early. What the sweep calls "on-time coverage at 24 h" (with `hours` = 24).
pub fn coverage_due_within(
    demands: &[DemandInfo],
    on_time: &[f64],
    hours: f64,
) -> (Vec<Option<f64>>, Option<f64>) {
    let mut sums = [(0.0, 0.0); 4];
    for (demand, arrived) in demands.iter().zip(on_time) {
        if demand.window_hours > hours + 1e-9 {
            continue;
        }
        let weight = super::priority_weight(demand.priority) as f64;
        let covered = weight * arrived.min(demand.units as f64) / demand.units as f64;
        let stage = ChainStage::ALL.iter().position(|s| *s == demand.stage).unwrap_or(0);
        for at in [stage, 3] {
            sums[at].0 += covered;
            sums[at].1 += weight;
        }
    }
    let share = |(covered, total): (f64, f64)| (total > 0.0).then(|| covered / total);
    (sums[..3].iter().map(|sum| share(*sum)).collect(), share(sums[3]))
}

pub fn build_report(catalog: &Catalog, drill: &Drill, outcome: &Outcome) -> DrillReport {
    let units = Units { outcome, arrivals: arrivals(outcome) };
    let series_hours = series_hours(drill);
    let incidents = drill
        .incidents
        .iter()
        .enumerate()
        .map(|(i, incident)| incident_report(catalog, outcome, &units, &series_hours, i, incident))
        .collect();
    let cut_categories = cut_categories(outcome);
    let (shortfalls, stages) = shortfalls(catalog, &units, &cut_categories);
    let supply = supply(catalog, drill, outcome);
    DrillReport {
        drill_id: drill.id.to_string(),
        name: drill.name.clone(),
        summary: drill.summary.clone(),
        policy: outcome.policy.key().to_owned(),
        catalog_version: catalog.version.clone(),
        time_step_hours: drill.time_step_hours,
        horizon_hours: drill.horizon_hours,
        surge_production: drill.surge_production,
        seed: drill.seed,
        what_if: what_if_report(catalog, drill, outcome),
        totals: totals(drill, &units, cut_categories.len()),
        series_hours,
        incidents,
        stages,
        shortfalls,
        single_points_of_failure: single_points_of_failure(catalog, drill, outcome),
        supply_map: supply.map,
        zones: supply.zones,
        holder_kinds: holder_kinds(catalog, outcome),
        standing: None,
        prefer_kinds: drill.prefer_kinds.iter().map(|k| k.key().to_owned()).collect(),
        shipments_truncated: supply.shipments_total > supply.shipments.len(),
        shipments: supply.shipments,
    }
}

/// The times of every coverage series: the drill's step, coarser when the horizon would need
/// more than `SERIES_POINTS_MAX` points.
fn series_hours(drill: &Drill) -> Vec<f64> {
    let step = drill.time_step_hours.max(drill.horizon_hours / (SERIES_POINTS_MAX - 1) as f64);
    let mut series_hours = Vec::new();
    let mut t = 0.0;
    while t <= drill.horizon_hours + 1e-9 && series_hours.len() < SERIES_POINTS_MAX {
        series_hours.push(t);
        t += step;
    }
    series_hours
}

/// What reached each demand: the category's own units (whole), and what substitutes covered
/// (in its units, capped at what its own units left).
struct Units<'a> {
    outcome: &'a Outcome,
    arrivals: Vec<Vec<Arrival>>,
}

impl Units<'_> {
    fn on_time(&self, d: usize) -> i64 {
        let deadline = self.outcome.demands[d].deadline_hours;
        arrived(&self.arrivals, d, Some(deadline), Some(true)).round() as i64
    }

    fn served(&self, d: usize) -> i64 {
        arrived(&self.arrivals, d, None, Some(true)).round() as i64
    }

    fn substituted(&self, d: usize, on_time: bool) -> f64 {
        let demand = &self.outcome.demands[d];
        let limit = on_time.then_some(demand.deadline_hours);
        let own = arrived(&self.arrivals, d, limit, Some(true));
        // `+ 0.0`: an empty float sum is −0.0, which would print as "-0".
        arrived(&self.arrivals, d, limit, Some(false)).min((demand.units as f64 - own).max(0.0))
            + 0.0
    }

    fn unmet(&self, d: usize) -> i64 {
        let left = self.outcome.demands[d].units as f64
            - self.served(d) as f64
            - self.substituted(d, false);
        if left <= 1e-9 {
            0
        } else {
            (left - 1e-9).ceil() as i64
        }
    }

    fn demands(&self) -> std::ops::Range<usize> {
        0..self.outcome.demands.len()
    }
}

/// Coverage of one incident, whole and per chain stage, over time.
fn incident_report(
    catalog: &Catalog,
    outcome: &Outcome,
    units: &Units<'_>,
    series_hours: &[f64],
    i: usize,
    incident: &super::Incident,
) -> IncidentReport {
    let arrivals = &units.arrivals;
    let own: Vec<usize> =
        (0..outcome.demands.len()).filter(|d| outcome.demands[*d].incident == i).collect();
    let stages = ChainStage::ALL
        .iter()
        .map(|stage| {
            let ds: Vec<usize> =
                own.iter().copied().filter(|d| outcome.demands[*d].stage == *stage).collect();
            StageCoverage {
                stage: stage.key().to_owned(),
                units_required: ds.iter().map(|d| outcome.demands[*d].units).sum(),
                units_on_time: ds.iter().map(|d| units.on_time(*d)).sum(),
                units_served: ds.iter().map(|d| units.served(*d)).sum(),
                on_time_coverage: coverage_at(outcome, arrivals, &ds, None, true),
                final_coverage: coverage_at(outcome, arrivals, &ds, None, false),
                hours_to_full_coverage: full_at(outcome, arrivals, &ds)
                    .map(|at| (at - incident.start_hours).max(0.0)),
                coverage_series: series_hours
                    .iter()
                    .map(|t| coverage_at(outcome, arrivals, &ds, Some(*t), false))
                    .collect(),
            }
        })
        .collect();
    IncidentReport {
        id: incident.id.to_string(),
        scenario_id: incident.scenario.to_string(),
        severity: incident.severity.roman().to_owned(),
        start_hours: incident.start_hours,
        place_id: incident.place.map(|p| catalog.place(p).id.to_string()),
        latitude: incident.location.latitude(),
        longitude: incident.location.longitude(),
        affected_population: incident.affected_population,
        units_required: own.iter().map(|d| outcome.demands[*d].units).sum(),
        units_on_time: own.iter().map(|d| units.on_time(*d)).sum(),
        units_served: own.iter().map(|d| units.served(*d)).sum(),
        on_time_coverage: coverage_at(outcome, arrivals, &own, None, true),
        final_coverage: coverage_at(outcome, arrivals, &own, None, false),
        hours_to_full_coverage: full_at(outcome, arrivals, &own)
            .map(|at| (at - incident.start_hours).max(0.0)),
        stages,
        coverage_series: series_hours
            .iter()
            .map(|t| coverage_at(outcome, arrivals, &own, Some(*t), false))
            .collect(),
    }
}

/// The categories whose candidate lines were cut, sorted: counted by the category demanded
/// (a cut substitute pass counts for the one it stood in for).
fn cut_categories(outcome: &Outcome) -> Vec<u32> {
    let mut cut: Vec<u32> = outcome
        .categories
        .iter()
        .filter(|c| c.cut)
        .map(|c| match c.pass {
            Pass::Substitute { for_category, .. } => for_category.0,
            Pass::Own | Pass::AfterPreferred => c.category.0,
        })
        .collect();
    cut.sort_unstable();
    cut.dedup();
    cut
}

/// Shortfalls by category and stage (those short or substituted, worst first), and their sums
/// per chain stage.
fn shortfalls(
    catalog: &Catalog,
    units: &Units<'_>,
    cut_categories: &[u32],
) -> (Vec<Shortfall>, Vec<StageGap>) {
    let outcome = units.outcome;
    let mut shortfalls: BTreeMap<(u32, ChainStage), Shortfall> = BTreeMap::new();
    let mut incidents_per: BTreeMap<(u32, ChainStage), Vec<usize>> = BTreeMap::new();
    for (d, demand) in outcome.demands.iter().enumerate() {
        let category = catalog.category(demand.category);
        let key = (demand.category.0, demand.stage);
        let entry = shortfalls.entry(key).or_insert_with(|| Shortfall {
            category_id: category.id.to_string(),
            category_name_en: category.name_en.clone(),
            stage: demand.stage.key().to_owned(),
            miit_class: category.miit_class.key().to_owned(),
            incidents: 0,
            units_required: 0,
            units_on_time: 0,
            units_late: 0,
            units_unmet: 0,
            units_substituted: 0.0,
            units_substituted_on_time: 0.0,
            candidates_cut: cut_categories.binary_search(&demand.category.0).is_ok(),
        });
        let (on_time, served) = (units.on_time(d), units.served(d));
        entry.units_required += demand.units;
        entry.units_on_time += on_time;
        entry.units_late += served - on_time;
        entry.units_unmet += units.unmet(d);
        entry.units_substituted += units.substituted(d, false);
        entry.units_substituted_on_time += units.substituted(d, true);
        incidents_per.entry(key).or_default().push(demand.incident);
    }
    for (key, list) in &mut incidents_per {
        list.sort_unstable();
        list.dedup();
        if let Some(entry) = shortfalls.get_mut(key) {
            entry.incidents = list.len();
        }
    }
    let stages = ChainStage::ALL
        .iter()
        .map(|stage| {
            let rows: Vec<&Shortfall> =
                shortfalls.iter().filter(|((_, s), _)| s == stage).map(|(_, row)| row).collect();
            let ds: Vec<usize> =
                units.demands().filter(|d| outcome.demands[*d].stage == *stage).collect();
            StageGap {
                on_time_coverage: coverage_at(outcome, &units.arrivals, &ds, None, true),
                final_coverage: coverage_at(outcome, &units.arrivals, &ds, None, false),
                stage: stage.key().to_owned(),
                units_required: rows.iter().map(|r| r.units_required).sum(),
                units_on_time: rows.iter().map(|r| r.units_on_time).sum(),
                units_late: rows.iter().map(|r| r.units_late).sum(),
                units_unmet: rows.iter().map(|r| r.units_unmet).sum(),
                units_substituted: rows.iter().map(|r| r.units_substituted).sum(),
                units_substituted_on_time: rows.iter().map(|r| r.units_substituted_on_time).sum(),
                categories_short: rows.iter().filter(|r| r.units_late + r.units_unmet > 0).count(),
            }
        })
        .collect();
    let mut shortfalls: Vec<Shortfall> = shortfalls
        .into_values()
        .filter(|row| row.units_late + row.units_unmet > 0 || row.units_substituted > 0.0)
        .collect();
    shortfalls.sort_by(|a, b| {
        (b.units_unmet, b.units_late)
            .cmp(&(a.units_unmet, a.units_late))
            .then(a.category_id.cmp(&b.category_id))
            .then(a.stage.cmp(&b.stage))
    });
    (shortfalls, stages)
}

/// Requirements only one supplier, or one place, can serve in time (or none), sorted.
fn single_points_of_failure(
    catalog: &Catalog,
    drill: &Drill,
    outcome: &Outcome,
) -> Vec<SinglePointOfFailure> {
    let mut single_points_of_failure = Vec::new();
    for demand in &outcome.demands {
        let suppliers = &demand.on_time_suppliers;
        let (kind, holder_id) = match suppliers.as_slice() {
            [] => ("none", String::new()),
            [only] => ("supplier", catalog.supplier(*only).id.to_string()),
            [first, rest @ ..] => {
                let home = |s: crate::domain::SupplierIdx| {
                    let supplier = catalog.supplier(s);
                    supplier.base.unwrap_or(supplier.place)
                };
                if rest.iter().all(|s| home(*s) == home(*first)) {
                    ("place", catalog.place(home(*first)).id.to_string())
                } else {
                    continue;
                }
            }
        };
        single_points_of_failure.push(SinglePointOfFailure {
            category_id: catalog.category(demand.category).id.to_string(),
            stage: demand.stage.key().to_owned(),
            incident_id: drill.incidents[demand.incident].id.to_string(),
            kind: kind.to_owned(),
            holder_id,
            on_time_suppliers: suppliers.len(),
        });
    }
    single_points_of_failure.sort_by(|a, b| {
        (&a.kind, &a.category_id, &a.stage, &a.incident_id).cmp(&(
            &b.kind,
            &b.category_id,
            &b.stage,
            &b.incident_id,
        ))
    });
    single_points_of_failure
}

/// Where the units came from: per supplying place or base, per zone, and the shipments.
struct Supply {
    map: Vec<SupplyRow>,
    zones: Vec<ZoneRow>,
    /// The first `SHIPMENTS_IN_REPORT_MAX`.
    shipments: Vec<ShipmentRow>,
    shipments_total: usize,
}

/// The supply map: units leaving suppliers (not redeployments), by place or base and by zone.
fn supply(catalog: &Catalog, drill: &Drill, outcome: &Outcome) -> Supply {
    let mut rows: BTreeMap<u32, (SupplyRow, Vec<u32>)> = BTreeMap::new();
    let mut zone_units: BTreeMap<ZoneTier, Vec<i64>> = BTreeMap::new();
    let mut shipments = Vec::new();
    let mut n_shipments = 0usize;
    for category_outcome in &outcome.categories {
        let category = catalog.category(category_outcome.category);
        let for_category_id = match category_outcome.pass {
            Pass::Substitute { for_category, .. } => catalog.category(for_category).id.to_string(),
            Pass::Own | Pass::AfterPreferred => String::new(),
        };
        for shipment in &category_outcome.allocation.shipments {
            let demand = &outcome.demands[category_outcome.demands[shipment.demand]];
            let stage_at = ChainStage::ALL.iter().position(|s| *s == demand.stage).unwrap_or(0);
            let from = match category_outcome.source(shipment.origin) {
                Source::Line(line_idx) => {
                    let line = catalog.stock_line(line_idx);
                    let supplier = catalog.supplier(line.supplier);
                    let home = supplier.base.unwrap_or(supplier.place);
                    let place = catalog.place(home);
                    let (row, used) = rows.entry(home.0).or_insert_with(|| {
                        (
                            SupplyRow {
                                place_id: place.id.to_string(),
                                name_en: place.name_en.clone(),
                                kind: place.kind.key().to_owned(),
                                zone: place.zone.key().to_owned(),
                                latitude: place.location.latitude(),
                                longitude: place.location.longitude(),
                                units_total: 0,
                                units_by_stage: vec![0; ChainStage::ALL.len()],
                                units_by_miit_class: vec![0; MiitClass::ALL.len()],
                                suppliers_used: 0,
                            },
                            Vec::new(),
                        )
                    });
                    row.units_total += shipment.units;
                    row.units_by_stage[stage_at] += shipment.units;
                    let class_at =
                        MiitClass::ALL.iter().position(|c| *c == category.miit_class).unwrap_or(0);
                    row.units_by_miit_class[class_at] += shipment.units;
                    used.push(line.supplier.0);
                    let zone = catalog.place(supplier.place).zone;
                    zone_units.entry(zone).or_insert_with(|| vec![0; ChainStage::ALL.len()])
                        [stage_at] += shipment.units;
                    supplier.id.to_string()
                }
                Source::Site(i) => format!("site:{}", drill.incidents[i].id),
            };
            n_shipments += 1;
            if shipments.len() < SHIPMENTS_IN_REPORT_MAX {
                shipments.push(ShipmentRow {
                    category_id: category.id.to_string(),
                    for_category_id: for_category_id.clone(),
                    pass: category_outcome.pass.key().to_owned(),
                    incident_id: drill.incidents[demand.incident].id.to_string(),
                    stage: demand.stage.key().to_owned(),
                    from,
                    depart_hours: shipment.depart_hours,
                    arrive_hours: shipment.arrive_hours,
                    units: shipment.units,
                    lateness_steps: shipment.lateness_steps,
                });
            }
        }
    }
    let mut map: Vec<SupplyRow> = rows
        .into_values()
        .map(|(mut row, mut used)| {
            used.sort_unstable();
            used.dedup();
            row.suppliers_used = used.len();
            row
        })
        .collect();
    map.sort_by(|a, b| b.units_total.cmp(&a.units_total).then(a.place_id.cmp(&b.place_id)));
    let zone_total: i64 = zone_units.values().flatten().sum();
    let zones = ZoneTier::ALL
        .iter()
        .map(|zone| {
            let units_by_stage =
                zone_units.get(zone).cloned().unwrap_or_else(|| vec![0; ChainStage::ALL.len()]);
            let units_total = units_by_stage.iter().sum();
            ZoneRow {
                zone: zone.key().to_owned(),
                units_by_stage,
                units_total,
                share: ratio(units_total as f64, zone_total as f64),
            }
        })
        .collect();
    Supply { map, zones, shipments, shipments_total: n_shipments }
}

/// The drill's totals.
fn totals(drill: &Drill, units: &Units<'_>, categories_cut: usize) -> Totals {
    let outcome = units.outcome;
    let units_required: i64 = outcome.demands.iter().map(|d| d.units).sum();
    let units_on_time: i64 = units.demands().map(|d| units.on_time(d)).sum();
    let units_served: i64 = units.demands().map(|d| units.served(d)).sum();
    let mut categories: Vec<u32> = outcome.demands.iter().map(|d| d.category.0).collect();
    categories.sort_unstable();
    categories.dedup();
    let mut candidate_lines: Vec<(u32, u32)> = outcome
        .categories
        .iter()
        .flat_map(|c| c.lines.iter().map(move |line| (c.category.0, line.0)))
        .collect();
    candidate_lines.sort_unstable();
    candidate_lines.dedup();
    Totals {
        incidents: drill.incidents.len(),
        requirements: outcome.demands.len(),
        categories: categories.len(),
        candidate_lines: candidate_lines.len(),
        categories_cut,
        units_required,
        units_on_time,
        units_late: units_served - units_on_time,
        units_unmet: units.demands().map(|d| units.unmet(d)).sum(),
        units_substituted: units.demands().map(|d| units.substituted(d, false)).sum(),
        units_substituted_on_time: units.demands().map(|d| units.substituted(d, true)).sum(),
        objective: outcome.categories.iter().map(|c| c.allocation.objective).sum(),
        passes: outcome.categories.len(),
        min_served_fraction: units
            .demands()
            .map(|d| {
                let demand = &outcome.demands[d];
                let got = units.served(d) as f64 + units.substituted(d, false);
                ratio(got.min(demand.units as f64), demand.units as f64)
            })
            .fold(1.0, f64::min),
    }
}

/// The what-if the drill ran, with ids for names.
fn what_if_report(catalog: &Catalog, drill: &Drill, outcome: &Outcome) -> WhatIfReport {
    let what_if = &drill.what_if;
    WhatIfReport {
        suppliers_offline_listed: what_if
            .suppliers_offline
            .iter()
            .map(|s| catalog.supplier(*s).id.to_string())
            .collect(),
        places_offline: what_if
            .places_offline
            .iter()
            .map(|p| catalog.place(*p).id.to_string())
            .collect(),
        zones_offline: what_if.zones_offline.iter().map(|z| z.key().to_owned()).collect(),
        kinds_offline: what_if.kinds_offline.iter().map(|k| k.key().to_owned()).collect(),
        stock_factor: what_if.stock_factor,
        road_factor_scale: what_if.road_factor_scale,
        random_suppliers_offline_share: what_if.random_suppliers_offline_share,
        suppliers_offline_total: outcome.suppliers_offline,
        note: what_if.note.clone(),
    }
}

/// Units leaving each holder kind's stock (redeployments excluded), by the stage of the
/// demand they serve, with their crews.
fn holder_kinds(catalog: &Catalog, outcome: &Outcome) -> Vec<HolderKindRow> {
    let n_stages = ChainStage::ALL.len();
    let mut rows: Vec<HolderKindRow> = HolderKind::ALL
        .iter()
        .map(|kind| HolderKindRow {
            kind: kind.key().to_owned(),
            units_by_stage: vec![0; n_stages],
            units_total: 0,
            share: 0.0,
            units_crewed: 0,
            crew_people: 0,
            suppliers_used: 0,
        })
        .collect();
    let mut used: Vec<Vec<u32>> = vec![Vec::new(); HolderKind::ALL.len()];
    for category_outcome in &outcome.categories {
        for shipment in &category_outcome.allocation.shipments {
            let Source::Line(line_idx) = category_outcome.source(shipment.origin) else {
                continue;
            };
            let line = catalog.stock_line(line_idx);
            let kind = catalog.supplier(line.supplier).kind as usize;
            let demand = &outcome.demands[category_outcome.demands[shipment.demand]];
            let stage_at = ChainStage::ALL.iter().position(|s| *s == demand.stage).unwrap_or(0);
            let row = &mut rows[kind];
            row.units_by_stage[stage_at] += shipment.units;
            row.units_total += shipment.units;
            if line.crew_per_unit > 0 {
                row.units_crewed += shipment.units;
                row.crew_people += shipment.units * i64::from(line.crew_per_unit);
            }
            used[kind].push(line.supplier.0);
        }
    }
    let total: i64 = rows.iter().map(|row| row.units_total).sum();
    for (row, mut used) in rows.iter_mut().zip(used) {
        used.sort_unstable();
        used.dedup();
        row.suppliers_used = used.len();
        row.share = ratio(row.units_total as f64, total as f64);
    }
    rows
}

/// The standing-resources section: `standing_only` is the same drill with every manufacturer
/// offline (`drill::run_report` runs it), `all` this report's own run.
pub fn standing_cover(drill: &Drill, all: &Outcome, standing_only: &Outcome) -> StandingCover {
    let stages = ChainStage::ALL
        .iter()
        .map(|stage| {
            let (on_time_all, final_all) = stage_coverage(all, Some(*stage));
            let (on_time_standing, final_standing) = stage_coverage(standing_only, Some(*stage));
            StandingStage {
                stage: stage.key().to_owned(),
                units_required: all
                    .demands
                    .iter()
                    .filter(|d| d.stage == *stage)
                    .map(|d| d.units)
                    .sum(),
                on_time_coverage_standing: on_time_standing,
                final_coverage_standing: final_standing,
                on_time_coverage_all: on_time_all,
                final_coverage_all: final_all,
            }
        })
        .collect();
    let incident_cover = |outcome: &Outcome, i: usize| -> f64 {
        let arrivals = arrivals(outcome);
        let ds: Vec<usize> =
            (0..outcome.demands.len()).filter(|d| outcome.demands[*d].incident == i).collect();
        coverage_at(outcome, &arrivals, &ds, None, true)
    };
    let incidents = drill
        .incidents
        .iter()
        .enumerate()
        .map(|(i, incident)| StandingIncident {
            incident_id: incident.id.to_string(),
            on_time_coverage_standing: incident_cover(standing_only, i),
            on_time_coverage_all: incident_cover(all, i),
        })
        .collect();
    StandingCover { stages, incidents }
}

/// Checks every pass's allocation with the independent replay (`allocate::verify`), then all
/// passes of each category together against the stock and site pools they share.
pub fn verify(outcome: &Outcome) -> Result<(), String> {
    for category in &outcome.categories {
        allocate::verify(&category.problem, &category.allocation)
            .map_err(|message| format!("category {}: {message}", category.category.0))?;
    }
    let n_incidents = outcome.demands.iter().map(|d| d.incident + 1).max().unwrap_or(0);
    super::passes::verify_shared(&outcome.categories, n_incidents)
}
