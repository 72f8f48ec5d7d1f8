//! The planner's report of a drill run: coverage per incident and chain stage over time, time to
//! full coverage, shortfalls by category and stage, single points of failure, and which places,
//! demonstration bases and zones supplied what (the industry-chain gap map).
//!
//! Plain data with serde `Serialize`: this is the documented JSON of `equipmatch drill --json`
//! (field names are the contract, units in the names) and what the HTML page is drawn from.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{allocate, Drill, Origin, Outcome};
use crate::catalog::Catalog;
use crate::domain::{ChainStage, MiitClass, ZoneTier};

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
    /// Sorted by category, incident, arrival.
    pub shipments: Vec<ShipmentRow>,
    pub shipments_truncated: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhatIfReport {
    pub suppliers_offline_listed: Vec<String>,
    pub places_offline: Vec<String>,
    pub zones_offline: Vec<String>,
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
    pub units_on_time: i64,
    pub units_late: i64,
    pub units_unmet: i64,
    /// Σ over categories of the efficiency objective (see the drill README).
    pub objective: i64,
    /// The worst served ÷ required over all requirements.
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
    /// Categories of this stage with any unit late or unmet.
    pub categories_short: usize,
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
    /// The category's candidate lines were cut at a limit (`CANDIDATE_PAIRS_PER_CATEGORY_MAX`,
    /// `PRICING_ROUNDS_MAX`) while more might have improved its answer: the shortfall is the
    /// best over the lines considered, and may be smaller with every line of the region.
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

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShipmentRow {
    pub category_id: String,
    pub incident_id: String,
    pub stage: String,
    /// A supplier id, or `site:<incident id>` for equipment redeployed from an incident site.
    pub from: String,
    pub depart_hours: f64,
    pub arrive_hours: f64,
    pub units: i64,
    pub lateness_steps: i64,
}

/// Per demand: arrivals (hours, units), sorted by time.
fn arrivals(outcome: &Outcome) -> Vec<Vec<(f64, i64)>> {
    let mut arrivals = vec![Vec::new(); outcome.demands.len()];
    for category in &outcome.categories {
        for shipment in &category.allocation.shipments {
            arrivals[category.demands[shipment.demand]]
                .push((shipment.arrive_hours, shipment.units));
        }
    }
    for list in &mut arrivals {
        list.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    arrivals
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
    arrivals: &[Vec<(f64, i64)>],
    demands: &[usize],
    t: Option<f64>,
    on_time: bool,
) -> f64 {
    let (mut covered, mut total) = (0.0, 0.0);
    for &d in demands {
        let demand = &outcome.demands[d];
        let weight = super::priority_weight(demand.priority) as f64;
        let limit = if on_time { Some(demand.deadline_hours) } else { t };
        let arrived: i64 = arrivals[d]
            .iter()
            .filter(|(at, _)| limit.is_none_or(|limit| *at <= limit + 1e-9))
            .map(|(_, units)| units)
            .sum();
        covered += weight * (arrived.min(demand.units) as f64 / demand.units as f64);
        total += weight;
    }
    ratio(covered, total)
}

/// The time the last unit of a set of demands arrives, if all of them arrive.
fn full_at(outcome: &Outcome, arrivals: &[Vec<(f64, i64)>], demands: &[usize]) -> Option<f64> {
    let mut last: f64 = 0.0;
    for &d in demands {
        let got: i64 = arrivals[d].iter().map(|(_, u)| u).sum();
        if got < outcome.demands[d].units {
            return None;
        }
        last = last.max(arrivals[d].last().map_or(0.0, |(at, _)| *at));
    }
    Some(last)
}

pub fn build_report(catalog: &Catalog, drill: &Drill, outcome: &Outcome) -> DrillReport {
    let arrivals = arrivals(outcome);
    let series_step =
        drill.time_step_hours.max(drill.horizon_hours / (SERIES_POINTS_MAX - 1) as f64);
    let mut series_hours = Vec::new();
    let mut t = 0.0;
    while t <= drill.horizon_hours + 1e-9 && series_hours.len() < SERIES_POINTS_MAX {
        series_hours.push(t);
        t += series_step;
    }

    let on_time_units = |d: usize| -> i64 {
        let deadline = outcome.demands[d].deadline_hours;
        arrivals[d].iter().filter(|(at, _)| *at <= deadline + 1e-9).map(|(_, u)| u).sum()
    };
    let served_units = |d: usize| -> i64 { arrivals[d].iter().map(|(_, u)| u).sum() };

    let mut incidents = Vec::with_capacity(drill.incidents.len());
    for (i, incident) in drill.incidents.iter().enumerate() {
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
                    units_on_time: ds.iter().map(|d| on_time_units(*d)).sum(),
                    units_served: ds.iter().map(|d| served_units(*d)).sum(),
                    on_time_coverage: coverage_at(outcome, &arrivals, &ds, None, true),
                    final_coverage: coverage_at(outcome, &arrivals, &ds, None, false),
                    hours_to_full_coverage: full_at(outcome, &arrivals, &ds)
                        .map(|at| (at - incident.start_hours).max(0.0)),
                    coverage_series: series_hours
                        .iter()
                        .map(|t| coverage_at(outcome, &arrivals, &ds, Some(*t), false))
                        .collect(),
                }
            })
            .collect();
        incidents.push(IncidentReport {
            id: incident.id.to_string(),
            scenario_id: incident.scenario.to_string(),
            severity: incident.severity.roman().to_owned(),
            start_hours: incident.start_hours,
            place_id: incident.place.map(|p| catalog.place(p).id.to_string()),
            latitude: incident.location.latitude(),
            longitude: incident.location.longitude(),
            affected_population: incident.affected_population,
            units_required: own.iter().map(|d| outcome.demands[*d].units).sum(),
            units_on_time: own.iter().map(|d| on_time_units(*d)).sum(),
            units_served: own.iter().map(|d| served_units(*d)).sum(),
            on_time_coverage: coverage_at(outcome, &arrivals, &own, None, true),
            final_coverage: coverage_at(outcome, &arrivals, &own, None, false),
            hours_to_full_coverage: full_at(outcome, &arrivals, &own)
                .map(|at| (at - incident.start_hours).max(0.0)),
            stages,
            coverage_series: series_hours
                .iter()
                .map(|t| coverage_at(outcome, &arrivals, &own, Some(*t), false))
                .collect(),
        });
    }

    // Shortfalls by category and stage.
    let cut_categories: Vec<u32> =
        outcome.categories.iter().filter(|c| c.cut).map(|c| c.category.0).collect();
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
            candidates_cut: cut_categories.binary_search(&demand.category.0).is_ok(),
        });
        let (on_time, served) = (on_time_units(d), served_units(d));
        entry.units_required += demand.units;
        entry.units_on_time += on_time;
        entry.units_late += served - on_time;
        entry.units_unmet += demand.units - served;
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
            StageGap {
                stage: stage.key().to_owned(),
                units_required: rows.iter().map(|r| r.units_required).sum(),
                units_on_time: rows.iter().map(|r| r.units_on_time).sum(),
                units_late: rows.iter().map(|r| r.units_late).sum(),
                units_unmet: rows.iter().map(|r| r.units_unmet).sum(),
                categories_short: rows.iter().filter(|r| r.units_late + r.units_unmet > 0).count(),
            }
        })
        .collect();
    let mut shortfalls: Vec<Shortfall> =
        shortfalls.into_values().filter(|row| row.units_late + row.units_unmet > 0).collect();
    shortfalls.sort_by(|a, b| {
        (b.units_unmet, b.units_late)
            .cmp(&(a.units_unmet, a.units_late))
            .then(a.category_id.cmp(&b.category_id))
            .then(a.stage.cmp(&b.stage))
    });

    // Single points of failure: a requirement only one supplier, or one place, can serve in time.
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

    // Supply map: units leaving suppliers (not redeployments), by place or base and by zone.
    let mut rows: BTreeMap<u32, (SupplyRow, Vec<u32>)> = BTreeMap::new();
    let mut zone_units: BTreeMap<ZoneTier, Vec<i64>> = BTreeMap::new();
    let mut shipments = Vec::new();
    let mut n_shipments = 0usize;
    for category_outcome in &outcome.categories {
        let category = catalog.category(category_outcome.category);
        for shipment in &category_outcome.allocation.shipments {
            let demand = &outcome.demands[category_outcome.demands[shipment.demand]];
            let stage_at = ChainStage::ALL.iter().position(|s| *s == demand.stage).unwrap_or(0);
            let from = match shipment.origin {
                Origin::Line(l) => {
                    let line = catalog.stock_line(category_outcome.lines[l]);
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
                Origin::Site(i) => format!("site:{}", drill.incidents[i].id),
            };
            n_shipments += 1;
            if shipments.len() < SHIPMENTS_IN_REPORT_MAX {
                shipments.push(ShipmentRow {
                    category_id: category.id.to_string(),
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
    let mut supply_map: Vec<SupplyRow> = rows
        .into_values()
        .map(|(mut row, mut used)| {
            used.sort_unstable();
            used.dedup();
            row.suppliers_used = used.len();
            row
        })
        .collect();
    supply_map.sort_by(|a, b| b.units_total.cmp(&a.units_total).then(a.place_id.cmp(&b.place_id)));
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

    let units_required: i64 = outcome.demands.iter().map(|d| d.units).sum();
    let units_on_time: i64 = (0..outcome.demands.len()).map(on_time_units).sum();
    let units_served: i64 = (0..outcome.demands.len()).map(served_units).sum();
    let totals = Totals {
        incidents: drill.incidents.len(),
        requirements: outcome.demands.len(),
        categories: outcome.categories.len(),
        candidate_lines: outcome.categories.iter().map(|c| c.lines.len()).sum(),
        categories_cut: cut_categories.len(),
        units_required,
        units_on_time,
        units_late: units_served - units_on_time,
        units_unmet: units_required - units_served,
        objective: outcome.categories.iter().map(|c| c.allocation.objective).sum(),
        min_served_fraction: outcome
            .categories
            .iter()
            .map(|c| c.allocation.min_served_fraction)
            .fold(1.0, f64::min),
    };
    let what_if = &drill.what_if;
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
        what_if: WhatIfReport {
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
            stock_factor: what_if.stock_factor,
            road_factor_scale: what_if.road_factor_scale,
            random_suppliers_offline_share: what_if.random_suppliers_offline_share,
            suppliers_offline_total: outcome.suppliers_offline,
            note: what_if.note.clone(),
        },
        totals,
        series_hours,
        incidents,
        stages,
        shortfalls,
        single_points_of_failure,
        supply_map,
        zones,
        shipments_truncated: n_shipments > shipments.len(),
        shipments,
    }
}

/// Checks every category's allocation with the independent replay (`allocate::verify`).
pub fn verify(outcome: &Outcome) -> Result<(), String> {
    for category in &outcome.categories {
        allocate::verify(&category.problem, &category.allocation)
            .map_err(|message| format!("category {}: {message}", category.category.0))?;
    }
    Ok(())
}
