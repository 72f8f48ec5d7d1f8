//! Conversions for DrillService: the RunDrill request into a validated drill and policy, and
//! the drill report to and from its proto message (field for field: the proto3 JSON of
//! `DrillReport` and the report's serde JSON carry the same names and values).

use super::pb;
use crate::catalog::Catalog;
use crate::drill::{self, report, Drill, Policy, Progress};
use crate::error::{Error, FieldViolation};

/// A RunDrill request as a validated drill and the policy to run it with. Every problem of
/// the drill file becomes one field violation on `drill_toml`.
pub fn drill_request(
    catalog: &Catalog,
    request: &pb::RunDrillRequest,
) -> Result<(Drill, Policy), Error> {
    let policy = match pb::DrillPolicy::try_from(request.policy) {
        Ok(pb::DrillPolicy::Unspecified) => None,
        Ok(pb::DrillPolicy::Efficiency) => Some(Policy::Efficiency),
        Ok(pb::DrillPolicy::Equity) => Some(Policy::Equity),
        Err(_) => {
            return Err(Error::InvalidArgument(vec![FieldViolation::new(
                "policy",
                format!("unknown policy {}", request.policy),
            )]))
        }
    };
    if request.drill_toml.len() > drill::format::DRILL_FILE_BYTES_MAX {
        return Err(Error::InvalidArgument(vec![FieldViolation::new(
            "drill_toml",
            format!("longer than {} bytes", drill::format::DRILL_FILE_BYTES_MAX),
        )]));
    }
    let name = if request.file_name.is_empty() { "request" } else { request.file_name.as_str() };
    match drill::parse(catalog, name, &request.drill_toml) {
        Ok(drill) => {
            let policy = policy.unwrap_or(drill.policy);
            Ok((drill, policy))
        }
        Err(problems) => Err(Error::InvalidArgument(
            problems
                .list
                .iter()
                .map(|p| FieldViolation::new("drill_toml", p.to_string()))
                .collect(),
        )),
    }
}

pub fn policy_to_pb(policy: Policy) -> pb::DrillPolicy {
    match policy {
        Policy::Efficiency => pb::DrillPolicy::Efficiency,
        Policy::Equity => pb::DrillPolicy::Equity,
    }
}

pub fn progress_to_pb(catalog: &Catalog, progress: &Progress) -> pb::DrillProgress {
    pb::DrillProgress {
        categories_done: progress.categories_done as u32,
        categories_total: progress.categories_total as u32,
        category_id: catalog.category(progress.category).id.to_string(),
    }
}

pub fn drill_report_to_pb(r: &report::DrillReport) -> pb::DrillReport {
    pb::DrillReport {
        drill_id: r.drill_id.clone(),
        name: r.name.clone(),
        summary: r.summary.clone(),
        policy: r.policy.clone(),
        catalog_version: r.catalog_version.clone(),
        time_step_hours: r.time_step_hours,
        horizon_hours: r.horizon_hours,
        surge_production: r.surge_production,
        seed: r.seed,
        what_if: Some(what_if_report_to_pb(&r.what_if)),
        totals: Some(totals_to_pb(&r.totals)),
        series_hours: r.series_hours.clone(),
        incidents: r.incidents.iter().map(incident_report_to_pb).collect(),
        stages: r.stages.iter().map(stage_gap_to_pb).collect(),
        shortfalls: r.shortfalls.iter().map(shortfall_to_pb).collect(),
        single_points_of_failure: r
            .single_points_of_failure
            .iter()
            .map(single_point_of_failure_to_pb)
            .collect(),
        supply_map: r.supply_map.iter().map(supply_row_to_pb).collect(),
        zones: r.zones.iter().map(zone_row_to_pb).collect(),
        shipments: r.shipments.iter().map(shipment_row_to_pb).collect(),
        shipments_truncated: r.shipments_truncated,
        holder_kinds: r.holder_kinds.iter().map(holder_kind_row_to_pb).collect(),
        standing: r.standing.as_ref().map(standing_cover_to_pb),
        prefer_kinds: r.prefer_kinds.clone(),
    }
}

pub fn drill_report_from_pb(m: pb::DrillReport) -> report::DrillReport {
    report::DrillReport {
        drill_id: m.drill_id,
        name: m.name,
        summary: m.summary,
        policy: m.policy,
        catalog_version: m.catalog_version,
        time_step_hours: m.time_step_hours,
        horizon_hours: m.horizon_hours,
        surge_production: m.surge_production,
        seed: m.seed,
        what_if: what_if_report_from_pb(m.what_if.unwrap_or_default()),
        totals: totals_from_pb(m.totals.unwrap_or_default()),
        series_hours: m.series_hours,
        incidents: m.incidents.into_iter().map(incident_report_from_pb).collect(),
        stages: m.stages.into_iter().map(stage_gap_from_pb).collect(),
        shortfalls: m.shortfalls.into_iter().map(shortfall_from_pb).collect(),
        single_points_of_failure: m
            .single_points_of_failure
            .into_iter()
            .map(single_point_of_failure_from_pb)
            .collect(),
        supply_map: m.supply_map.into_iter().map(supply_row_from_pb).collect(),
        zones: m.zones.into_iter().map(zone_row_from_pb).collect(),
        shipments: m.shipments.into_iter().map(shipment_row_from_pb).collect(),
        shipments_truncated: m.shipments_truncated,
        holder_kinds: m.holder_kinds.into_iter().map(holder_kind_row_from_pb).collect(),
        standing: m.standing.map(standing_cover_from_pb),
        prefer_kinds: m.prefer_kinds,
    }
}

fn holder_kind_row_to_pb(r: &report::HolderKindRow) -> pb::DrillHolderKindRow {
    pb::DrillHolderKindRow {
        kind: r.kind.clone(),
        units_by_stage: r.units_by_stage.clone(),
        units_total: r.units_total,
        share: r.share,
        units_crewed: r.units_crewed,
        crew_people: r.crew_people,
        suppliers_used: r.suppliers_used as u64,
    }
}

fn holder_kind_row_from_pb(m: pb::DrillHolderKindRow) -> report::HolderKindRow {
    report::HolderKindRow {
        kind: m.kind,
        units_by_stage: m.units_by_stage,
        units_total: m.units_total,
        share: m.share,
        units_crewed: m.units_crewed,
        crew_people: m.crew_people,
        suppliers_used: m.suppliers_used as usize,
    }
}

fn standing_cover_to_pb(r: &report::StandingCover) -> pb::DrillStandingCover {
    pb::DrillStandingCover {
        stages: r
            .stages
            .iter()
            .map(|s| pb::DrillStandingStage {
                stage: s.stage.clone(),
                units_required: s.units_required,
                on_time_coverage_standing: s.on_time_coverage_standing,
                final_coverage_standing: s.final_coverage_standing,
                on_time_coverage_all: s.on_time_coverage_all,
                final_coverage_all: s.final_coverage_all,
            })
            .collect(),
        incidents: r
            .incidents
            .iter()
            .map(|i| pb::DrillStandingIncident {
                incident_id: i.incident_id.clone(),
                on_time_coverage_standing: i.on_time_coverage_standing,
                on_time_coverage_all: i.on_time_coverage_all,
            })
            .collect(),
    }
}

fn standing_cover_from_pb(m: pb::DrillStandingCover) -> report::StandingCover {
    report::StandingCover {
        stages: m
            .stages
            .into_iter()
            .map(|s| report::StandingStage {
                stage: s.stage,
                units_required: s.units_required,
                on_time_coverage_standing: s.on_time_coverage_standing,
                final_coverage_standing: s.final_coverage_standing,
                on_time_coverage_all: s.on_time_coverage_all,
                final_coverage_all: s.final_coverage_all,
            })
            .collect(),
        incidents: m
            .incidents
            .into_iter()
            .map(|i| report::StandingIncident {
                incident_id: i.incident_id,
                on_time_coverage_standing: i.on_time_coverage_standing,
                on_time_coverage_all: i.on_time_coverage_all,
            })
            .collect(),
    }
}

fn what_if_report_to_pb(r: &report::WhatIfReport) -> pb::DrillWhatIf {
    pb::DrillWhatIf {
        suppliers_offline_listed: r.suppliers_offline_listed.clone(),
        places_offline: r.places_offline.clone(),
        zones_offline: r.zones_offline.clone(),
        stock_factor: r.stock_factor,
        road_factor_scale: r.road_factor_scale,
        random_suppliers_offline_share: r.random_suppliers_offline_share,
        suppliers_offline_total: r.suppliers_offline_total as u64,
        note: r.note.clone(),
        kinds_offline: r.kinds_offline.clone(),
    }
}

fn what_if_report_from_pb(m: pb::DrillWhatIf) -> report::WhatIfReport {
    report::WhatIfReport {
        suppliers_offline_listed: m.suppliers_offline_listed,
        places_offline: m.places_offline,
        zones_offline: m.zones_offline,
        stock_factor: m.stock_factor,
        road_factor_scale: m.road_factor_scale,
        random_suppliers_offline_share: m.random_suppliers_offline_share,
        suppliers_offline_total: m.suppliers_offline_total as usize,
        note: m.note,
        kinds_offline: m.kinds_offline,
    }
}

fn totals_to_pb(r: &report::Totals) -> pb::DrillTotals {
    pb::DrillTotals {
        incidents: r.incidents as u64,
        requirements: r.requirements as u64,
        categories: r.categories as u64,
        candidate_lines: r.candidate_lines as u64,
        categories_cut: r.categories_cut as u64,
        units_required: r.units_required,
        units_on_time: r.units_on_time,
        units_late: r.units_late,
        units_unmet: r.units_unmet,
        objective: r.objective,
        min_served_fraction: r.min_served_fraction,
        units_substituted: r.units_substituted,
        units_substituted_on_time: r.units_substituted_on_time,
        passes: r.passes as u64,
    }
}

fn totals_from_pb(m: pb::DrillTotals) -> report::Totals {
    report::Totals {
        incidents: m.incidents as usize,
        requirements: m.requirements as usize,
        categories: m.categories as usize,
        candidate_lines: m.candidate_lines as usize,
        categories_cut: m.categories_cut as usize,
        units_required: m.units_required,
        units_on_time: m.units_on_time,
        units_late: m.units_late,
        units_unmet: m.units_unmet,
        objective: m.objective,
        min_served_fraction: m.min_served_fraction,
        units_substituted: m.units_substituted,
        units_substituted_on_time: m.units_substituted_on_time,
        passes: m.passes as usize,
    }
}

fn incident_report_to_pb(r: &report::IncidentReport) -> pb::DrillIncident {
    pb::DrillIncident {
        id: r.id.clone(),
        scenario_id: r.scenario_id.clone(),
        severity: r.severity.clone(),
        start_hours: r.start_hours,
        place_id: r.place_id.clone(),
        latitude: r.latitude,
        longitude: r.longitude,
        affected_population: r.affected_population,
        units_required: r.units_required,
        units_on_time: r.units_on_time,
        units_served: r.units_served,
        on_time_coverage: r.on_time_coverage,
        final_coverage: r.final_coverage,
        hours_to_full_coverage: r.hours_to_full_coverage,
        stages: r.stages.iter().map(stage_coverage_to_pb).collect(),
        coverage_series: r.coverage_series.clone(),
    }
}

fn incident_report_from_pb(m: pb::DrillIncident) -> report::IncidentReport {
    report::IncidentReport {
        id: m.id,
        scenario_id: m.scenario_id,
        severity: m.severity,
        start_hours: m.start_hours,
        place_id: m.place_id,
        latitude: m.latitude,
        longitude: m.longitude,
        affected_population: m.affected_population,
        units_required: m.units_required,
        units_on_time: m.units_on_time,
        units_served: m.units_served,
        on_time_coverage: m.on_time_coverage,
        final_coverage: m.final_coverage,
        hours_to_full_coverage: m.hours_to_full_coverage,
        stages: m.stages.into_iter().map(stage_coverage_from_pb).collect(),
        coverage_series: m.coverage_series,
    }
}

fn stage_coverage_to_pb(r: &report::StageCoverage) -> pb::DrillStageCoverage {
    pb::DrillStageCoverage {
        stage: r.stage.clone(),
        units_required: r.units_required,
        units_on_time: r.units_on_time,
        units_served: r.units_served,
        on_time_coverage: r.on_time_coverage,
        final_coverage: r.final_coverage,
        hours_to_full_coverage: r.hours_to_full_coverage,
        coverage_series: r.coverage_series.clone(),
    }
}

fn stage_coverage_from_pb(m: pb::DrillStageCoverage) -> report::StageCoverage {
    report::StageCoverage {
        stage: m.stage,
        units_required: m.units_required,
        units_on_time: m.units_on_time,
        units_served: m.units_served,
        on_time_coverage: m.on_time_coverage,
        final_coverage: m.final_coverage,
        hours_to_full_coverage: m.hours_to_full_coverage,
        coverage_series: m.coverage_series,
    }
}

fn stage_gap_to_pb(r: &report::StageGap) -> pb::DrillStageGap {
    pb::DrillStageGap {
        stage: r.stage.clone(),
        units_required: r.units_required,
        units_on_time: r.units_on_time,
        units_late: r.units_late,
        units_unmet: r.units_unmet,
        categories_short: r.categories_short as u64,
        units_substituted: r.units_substituted,
        units_substituted_on_time: r.units_substituted_on_time,
        on_time_coverage: r.on_time_coverage,
        final_coverage: r.final_coverage,
    }
}

fn stage_gap_from_pb(m: pb::DrillStageGap) -> report::StageGap {
    report::StageGap {
        stage: m.stage,
        units_required: m.units_required,
        units_on_time: m.units_on_time,
        units_late: m.units_late,
        units_unmet: m.units_unmet,
        categories_short: m.categories_short as usize,
        units_substituted: m.units_substituted,
        units_substituted_on_time: m.units_substituted_on_time,
        on_time_coverage: m.on_time_coverage,
        final_coverage: m.final_coverage,
    }
}

fn shortfall_to_pb(r: &report::Shortfall) -> pb::DrillShortfall {
    pb::DrillShortfall {
        category_id: r.category_id.clone(),
        category_name_en: r.category_name_en.clone(),
        stage: r.stage.clone(),
        miit_class: r.miit_class.clone(),
        incidents: r.incidents as u64,
        units_required: r.units_required,
        units_on_time: r.units_on_time,
        units_late: r.units_late,
        units_unmet: r.units_unmet,
        units_substituted: r.units_substituted,
        units_substituted_on_time: r.units_substituted_on_time,
        candidates_cut: r.candidates_cut,
    }
}

fn shortfall_from_pb(m: pb::DrillShortfall) -> report::Shortfall {
    report::Shortfall {
        category_id: m.category_id,
        category_name_en: m.category_name_en,
        stage: m.stage,
        miit_class: m.miit_class,
        incidents: m.incidents as usize,
        units_required: m.units_required,
        units_on_time: m.units_on_time,
        units_late: m.units_late,
        units_unmet: m.units_unmet,
        units_substituted: m.units_substituted,
        units_substituted_on_time: m.units_substituted_on_time,
        candidates_cut: m.candidates_cut,
    }
}

fn single_point_of_failure_to_pb(
    r: &report::SinglePointOfFailure,
) -> pb::DrillSinglePointOfFailure {
    pb::DrillSinglePointOfFailure {
        category_id: r.category_id.clone(),
        stage: r.stage.clone(),
        incident_id: r.incident_id.clone(),
        kind: r.kind.clone(),
        holder_id: r.holder_id.clone(),
        on_time_suppliers: r.on_time_suppliers as u64,
    }
}

fn single_point_of_failure_from_pb(
    m: pb::DrillSinglePointOfFailure,
) -> report::SinglePointOfFailure {
    report::SinglePointOfFailure {
        category_id: m.category_id,
        stage: m.stage,
        incident_id: m.incident_id,
        kind: m.kind,
        holder_id: m.holder_id,
        on_time_suppliers: m.on_time_suppliers as usize,
    }
}

fn supply_row_to_pb(r: &report::SupplyRow) -> pb::DrillSupplyRow {
    pb::DrillSupplyRow {
        place_id: r.place_id.clone(),
        name_en: r.name_en.clone(),
        kind: r.kind.clone(),
        zone: r.zone.clone(),
        latitude: r.latitude,
        longitude: r.longitude,
        units_total: r.units_total,
        units_by_stage: r.units_by_stage.clone(),
        units_by_miit_class: r.units_by_miit_class.clone(),
        suppliers_used: r.suppliers_used as u64,
    }
}

fn supply_row_from_pb(m: pb::DrillSupplyRow) -> report::SupplyRow {
    report::SupplyRow {
        place_id: m.place_id,
        name_en: m.name_en,
        kind: m.kind,
        zone: m.zone,
        latitude: m.latitude,
        longitude: m.longitude,
        units_total: m.units_total,
        units_by_stage: m.units_by_stage,
        units_by_miit_class: m.units_by_miit_class,
        suppliers_used: m.suppliers_used as usize,
    }
}

fn zone_row_to_pb(r: &report::ZoneRow) -> pb::DrillZoneRow {
    pb::DrillZoneRow {
        zone: r.zone.clone(),
        units_by_stage: r.units_by_stage.clone(),
        units_total: r.units_total,
        share: r.share,
    }
}

fn zone_row_from_pb(m: pb::DrillZoneRow) -> report::ZoneRow {
    report::ZoneRow {
        zone: m.zone,
        units_by_stage: m.units_by_stage,
        units_total: m.units_total,
        share: m.share,
    }
}

fn shipment_row_to_pb(r: &report::ShipmentRow) -> pb::DrillShipment {
    pb::DrillShipment {
        category_id: r.category_id.clone(),
        incident_id: r.incident_id.clone(),
        stage: r.stage.clone(),
        from: r.from.clone(),
        depart_hours: r.depart_hours,
        arrive_hours: r.arrive_hours,
        units: r.units,
        lateness_steps: r.lateness_steps,
        for_category_id: r.for_category_id.clone(),
        pass: r.pass.clone(),
    }
}

fn shipment_row_from_pb(m: pb::DrillShipment) -> report::ShipmentRow {
    report::ShipmentRow {
        category_id: m.category_id,
        incident_id: m.incident_id,
        stage: m.stage,
        from: m.from,
        depart_hours: m.depart_hours,
        arrive_hours: m.arrive_hours,
        units: m.units,
        lateness_steps: m.lateness_steps,
        for_category_id: m.for_category_id,
        pass: m.pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_survives_the_round_trip_through_its_message() {
        let catalog = Catalog::embedded().expect("loads");
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/drills/zhangjiakou-ice-fire.toml");
        let text = std::fs::read_to_string(path).expect("readable");
        let drill = drill::parse(&catalog, path, &text).expect("parses");
        let report = drill::run_report(&catalog, &drill, Policy::Equity, &mut |_| {}, &|| false)
            .expect("never stopped")
            .expect("within the limits");
        assert!(report.standing.is_some());
        assert_eq!(drill_report_from_pb(drill_report_to_pb(&report)), report);
    }
}
