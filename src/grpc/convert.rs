//! Conversions between protobuf messages and domain types. Requests are validated here, every
//! bad field collected into one INVALID_ARGUMENT; names that do not exist become NOT_FOUND.

use super::pb;
use crate::auth::Principal;
use crate::catalog::Catalog;
use crate::domain::Id;
use crate::domain::{
    CertSet, ChainStage, HolderKind, LatLon, MiitClass, Priority, Severity, Transport, ZoneTier,
};
use crate::error::{Error, FieldViolation};
use crate::holds::{
    self, Caller, Hold, HoldState, ListBy, ListQuery, NewHold, NewHoldLine, Outcome, StockRef,
};
use crate::matching::{
    self, Candidate, Filters, MatchQuery, MatchResult, PlanEntry, ShortlistQuery, ShortlistResult,
    Weights, AFFECTED_AREA_KM2_MAX, AFFECTED_POPULATION_MAX, OPTIONS_PER_REQUIREMENT_DEFAULT,
    OPTIONS_PER_REQUIREMENT_MAX, SHORTLIST_CATEGORIES_MAX, SHORTLIST_COUNT_DEFAULT,
    SHORTLIST_COUNT_MAX, SHORTLIST_WINDOW_HOURS_DEFAULT, WEIGHT_MAX,
};

/// The most certifications a request may require.
pub const REQUIRED_CERTIFICATIONS_MAX: usize = 16;
/// The most suppliers a Match may exclude.
pub const EXCLUDED_SUPPLIERS_MAX: usize = 1000;
/// The most places a shortlist may filter on.
pub const PLACE_FILTERS_MAX: usize = 100;
/// The longest time window or ETA bound a request may give (hours): 30 days.
pub const HOURS_MAX: f64 = 720.0;
/// The largest quantity a shortlist may ask for.
pub const SHORTLIST_QUANTITY_MAX: f64 = 1e7;
/// Paging: default and largest page.
pub const PAGE_SIZE_DEFAULT: usize = 100;
pub const PAGE_SIZE_MAX: usize = 1000;

/// The most field violations one INVALID_ARGUMENT carries; past it one more says how many
/// were left out (the details travel in a header, and a request must not choose their size).
pub const VIOLATIONS_MAX: usize = 32;

/// Collects field violations; `finish` turns any into one INVALID_ARGUMENT.
#[derive(Default)]
struct Violations {
    list: Vec<FieldViolation>,
    /// Violations found past `VIOLATIONS_MAX`, counted only.
    left_out: usize,
}

impl Violations {
    fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        if self.list.len() < VIOLATIONS_MAX {
            self.list.push(FieldViolation::new(field, description));
        } else {
            self.left_out += 1;
        }
    }

    fn finish(mut self) -> Result<(), Error> {
        if self.list.is_empty() {
            return Ok(());
        }
        if self.left_out > 0 {
            self.list.push(FieldViolation::new(
                "request",
                format!("{} more violation(s) left out", self.left_out),
            ));
        }
        Err(Error::InvalidArgument(self.list))
    }

    /// A finite number in [min, max] (or (min, max] when `open_min`).
    fn number(&mut self, field: &str, x: f64, min: f64, max: f64, open_min: bool) -> Option<f64> {
        let above_min = if open_min { x > min } else { x >= min };
        if x.is_finite() && above_min && x <= max {
            Some(x)
        } else {
            let open = if open_min { '(' } else { '[' };
            self.add(field, format!("must be a finite number in {open}{min}, {max}], got {x}"));
            None
        }
    }

    fn location(&mut self, field: &str, location: Option<&pb::LatLng>) -> Option<LatLon> {
        let Some(location) = location else {
            self.add(field, "required");
            return None;
        };
        let latitude =
            self.number(&format!("{field}.latitude"), location.latitude, -90.0, 90.0, false);
        let longitude =
            self.number(&format!("{field}.longitude"), location.longitude, -180.0, 180.0, false);
        LatLon::new(latitude?, longitude?).ok()
    }

    fn zone_tiers(&mut self, field: &str, tiers: &[i32]) -> Vec<ZoneTier> {
        let mut out = Vec::new();
        for (i, tier) in tiers.iter().enumerate() {
            match zone_tier_from_pb(*tier) {
                Some(tier) if !out.contains(&tier) => out.push(tier),
                Some(_) => {}
                None => self.add(
                    format!("{field}[{i}]"),
                    format!(
                        "{tier} is not a zone tier (1 core, 2 key, 3 support, 4 outside, 5 metro)"
                    ),
                ),
            }
        }
        out.sort();
        out
    }

    fn holder_kinds(&mut self, field: &str, kinds: &[i32]) -> Vec<HolderKind> {
        let mut out = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            match holder_kind_from_pb(*kind) {
                Some(kind) if !out.contains(&kind) => out.push(kind),
                Some(_) => {}
                None => self.add(
                    format!("{field}[{i}]"),
                    format!(
                        "{kind} is not a holder kind (1 manufacturer, 2 reserve depot, 3 fire and rescue, 4 professional team)"
                    ),
                ),
            }
        }
        out.sort();
        out
    }

    fn certifications(&mut self, catalog: &Catalog, field: &str, ids: &[String]) -> CertSet {
        let mut set = CertSet::default();
        if ids.len() > REQUIRED_CERTIFICATIONS_MAX {
            self.add(field, format!("at most {REQUIRED_CERTIFICATIONS_MAX} certifications"));
            return set;
        }
        for (i, id) in ids.iter().enumerate() {
            match catalog.certification_by_id(id) {
                Some(idx) => set.insert(idx),
                None => self.add(format!("{field}[{i}]"), format!("unknown certification {id:?}")),
            }
        }
        set
    }

    fn weights(&mut self, weights: Option<&pb::Weights>) -> Weights {
        let defaults = Weights::default().as_array();
        let Some(weights) = weights else { return Weights::default() };
        let given = [
            weights.arrival,
            weights.coverage,
            weights.reliability,
            weights.certification,
            weights.zone_policy,
        ];
        let names = ["arrival", "coverage", "reliability", "certification", "zone_policy"];
        let mut raw = defaults;
        let mut ok = true;
        for i in 0..5 {
            if let Some(w) = given[i] {
                match self.number(&format!("weights.{}", names[i]), w, 0.0, WEIGHT_MAX, false) {
                    Some(w) => raw[i] = w,
                    None => ok = false,
                }
            }
        }
        if !ok {
            return Weights::default();
        }
        Weights::normalised(raw).unwrap_or_else(|| {
            self.add("weights", "at least one weight must be above 0");
            Weights::default()
        })
    }
}

pub fn severity_from_pb(value: i32) -> Option<Severity> {
    match pb::Severity::try_from(value).ok()? {
        pb::Severity::Unspecified => None,
        pb::Severity::Iv => Some(Severity::IV),
        pb::Severity::Iii => Some(Severity::III),
        pb::Severity::Ii => Some(Severity::II),
        pb::Severity::I => Some(Severity::I),
    }
}

pub fn severity_to_pb(severity: Severity) -> pb::Severity {
    match severity {
        Severity::IV => pb::Severity::Iv,
        Severity::III => pb::Severity::Iii,
        Severity::II => pb::Severity::Ii,
        Severity::I => pb::Severity::I,
    }
}

pub fn zone_tier_from_pb(value: i32) -> Option<ZoneTier> {
    match pb::ZoneTier::try_from(value).ok()? {
        pb::ZoneTier::Unspecified => None,
        pb::ZoneTier::Core => Some(ZoneTier::Core),
        pb::ZoneTier::Key => Some(ZoneTier::Key),
        pb::ZoneTier::Support => Some(ZoneTier::Support),
        pb::ZoneTier::Metro => Some(ZoneTier::Metro),
        pb::ZoneTier::Outside => Some(ZoneTier::Outside),
    }
}

pub fn holder_kind_from_pb(value: i32) -> Option<HolderKind> {
    match pb::HolderKind::try_from(value).ok()? {
        pb::HolderKind::Unspecified => None,
        pb::HolderKind::Manufacturer => Some(HolderKind::Manufacturer),
        pb::HolderKind::ReserveDepot => Some(HolderKind::ReserveDepot),
        pb::HolderKind::FireRescue => Some(HolderKind::FireRescue),
        pb::HolderKind::ProfessionalTeam => Some(HolderKind::ProfessionalTeam),
    }
}

pub fn holder_kind_to_pb(kind: HolderKind) -> pb::HolderKind {
    match kind {
        HolderKind::Manufacturer => pb::HolderKind::Manufacturer,
        HolderKind::ReserveDepot => pb::HolderKind::ReserveDepot,
        HolderKind::FireRescue => pb::HolderKind::FireRescue,
        HolderKind::ProfessionalTeam => pb::HolderKind::ProfessionalTeam,
    }
}

pub fn zone_tier_to_pb(tier: ZoneTier) -> pb::ZoneTier {
    match tier {
        ZoneTier::Core => pb::ZoneTier::Core,
        ZoneTier::Key => pb::ZoneTier::Key,
        ZoneTier::Support => pb::ZoneTier::Support,
        ZoneTier::Metro => pb::ZoneTier::Metro,
        ZoneTier::Outside => pb::ZoneTier::Outside,
    }
}

pub fn stage_to_pb(stage: ChainStage) -> pb::ChainStage {
    match stage {
        ChainStage::MonitoringWarning => pb::ChainStage::MonitoringWarning,
        ChainStage::SafetyProtection => pb::ChainStage::SafetyProtection,
        ChainStage::EmergencyRescue => pb::ChainStage::EmergencyRescue,
    }
}

pub fn stage_from_pb(value: i32) -> Option<Option<ChainStage>> {
    Some(match pb::ChainStage::try_from(value).ok()? {
        pb::ChainStage::Unspecified => None,
        pb::ChainStage::MonitoringWarning => Some(ChainStage::MonitoringWarning),
        pb::ChainStage::SafetyProtection => Some(ChainStage::SafetyProtection),
        pb::ChainStage::EmergencyRescue => Some(ChainStage::EmergencyRescue),
    })
}

fn priority_to_pb(priority: Priority) -> pb::Priority {
    match priority {
        Priority::Critical => pb::Priority::Critical,
        Priority::Important => pb::Priority::Important,
        Priority::Supporting => pb::Priority::Supporting,
    }
}

fn miit_class_to_pb(class: MiitClass) -> pb::MiitClass {
    match class {
        MiitClass::Monitoring => pb::MiitClass::Monitoring,
        MiitClass::Protection => pb::MiitClass::Protection,
        MiitClass::Rescue => pb::MiitClass::Rescue,
        MiitClass::Service => pb::MiitClass::Service,
    }
}

pub fn miit_class_from_pb(value: i32) -> Option<Option<MiitClass>> {
    Some(match pb::MiitClass::try_from(value).ok()? {
        pb::MiitClass::Unspecified => None,
        pb::MiitClass::Monitoring => Some(MiitClass::Monitoring),
        pb::MiitClass::Protection => Some(MiitClass::Protection),
        pb::MiitClass::Rescue => Some(MiitClass::Rescue),
        pb::MiitClass::Service => Some(MiitClass::Service),
    })
}

fn transport_to_pb(transport: Transport) -> pb::Transport {
    match transport {
        Transport::Light => pb::Transport::Light,
        Transport::Truck => pb::Transport::Truck,
        Transport::Heavy => pb::Transport::Heavy,
        Transport::Air => pb::Transport::Air,
    }
}

/// Validates a Match request against the catalog.
pub fn match_query<'a>(
    catalog: &'a Catalog,
    request: &pb::MatchRequest,
) -> Result<MatchQuery<'a>, Error> {
    let mut v = Violations::default();
    if request.scenario_id.is_empty() {
        v.add("scenario_id", "required");
    }
    let severity = severity_from_pb(request.severity);
    if severity.is_none() {
        v.add("severity", format!("{} is not a severity (1 = IV … 4 = I)", request.severity));
    }
    let location = v.location("location", request.location.as_ref());
    let population = request.affected_population as f64;
    if population > AFFECTED_POPULATION_MAX {
        v.add("affected_population", format!("at most {AFFECTED_POPULATION_MAX}"));
    }
    let area = match request.affected_area_km2 {
        Some(area) => {
            v.number("affected_area_km2", area, 0.0, AFFECTED_AREA_KM2_MAX, false).unwrap_or(0.0)
        }
        None => 0.0,
    };
    let options = match request.options_per_requirement as usize {
        0 => OPTIONS_PER_REQUIREMENT_DEFAULT,
        n if n > OPTIONS_PER_REQUIREMENT_MAX => {
            v.add("options_per_requirement", format!("at most {OPTIONS_PER_REQUIREMENT_MAX}"));
            OPTIONS_PER_REQUIREMENT_DEFAULT
        }
        n => n,
    };
    let constraints = request.constraints.clone().unwrap_or_default();
    let max_eta_hours = constraints
        .max_eta_hours
        .and_then(|h| v.number("constraints.max_eta_hours", h, 0.0, HOURS_MAX, true));
    let required_certifications = v.certifications(
        catalog,
        "constraints.required_certifications",
        &constraints.required_certifications,
    );
    if constraints.excluded_supplier_ids.len() > EXCLUDED_SUPPLIERS_MAX {
        v.add("constraints.excluded_supplier_ids", format!("at most {EXCLUDED_SUPPLIERS_MAX} ids"));
    }
    // Unknown ids are accepted: a supplier not in the catalog can never be offered anyway,
    // and a registry that dropped a supplier must not break a dispatcher's standing exclusions.
    let mut excluded_suppliers: Vec<_> = constraints
        .excluded_supplier_ids
        .iter()
        .filter_map(|id| catalog.supplier_by_id(id))
        .collect();
    excluded_suppliers.sort_unstable();
    excluded_suppliers.dedup();
    let zone_tiers = v.zone_tiers("constraints.zone_tiers", &constraints.zone_tiers);
    let holder_kinds = v.holder_kinds("constraints.holder_kinds", &constraints.holder_kinds);
    let prefer_kinds =
        v.holder_kinds("constraints.prefer_holder_kinds", &constraints.prefer_holder_kinds);
    let weights = v.weights(request.weights.as_ref());
    if pb::MatchView::try_from(request.view).is_err() {
        v.add(
            "view",
            format!(
                "{} is not a view (1 full, 2 no score parts, 3 plan only; 0 = full)",
                request.view
            ),
        );
    }
    // A plan-only answer has no options: the engine need not rank any.
    let options = if request.view() == pb::MatchView::PlanOnly { 0 } else { options };
    v.finish()?;
    let scenario = catalog.scenario_by_id(&request.scenario_id).ok_or_else(|| Error::NotFound {
        kind: "scenario",
        id: request.scenario_id.clone(),
        field: "scenario_id".into(),
    })?;
    Ok(MatchQuery {
        scenario,
        severity: severity.ok_or_else(|| Error::Internal("severity checked above".into()))?,
        location: location.ok_or_else(|| Error::Internal("location checked above".into()))?,
        affected_population: population,
        affected_area_km2: area,
        options_per_requirement: options,
        max_eta_hours,
        filters: Filters {
            excluded_suppliers,
            zone_tiers,
            places: Vec::new(),
            required_certifications,
            max_lead_time_hours: None,
            min_reliability: 0.0,
            holder_kinds,
        },
        weights,
        prefer_kinds,
    })
}

/// Validates a Shortlist request against the catalog.
pub fn shortlist_query(
    catalog: &Catalog,
    request: &pb::ShortlistRequest,
) -> Result<ShortlistQuery, Error> {
    let mut v = Violations::default();
    if request.category_ids.is_empty() {
        v.add("category_ids", "at least one category id is required");
    }
    if request.category_ids.len() > SHORTLIST_CATEGORIES_MAX {
        v.add("category_ids", format!("at most {SHORTLIST_CATEGORIES_MAX} categories"));
    }
    // One pass (a set, not a scan of the earlier ids per id): the list is not bounded yet.
    let mut seen = std::collections::HashSet::with_capacity(request.category_ids.len());
    for (i, id) in request.category_ids.iter().enumerate() {
        if !seen.insert(id.as_str()) {
            v.add(format!("category_ids[{i}]"), format!("{id:?} is listed twice"));
        }
    }
    let quantity =
        v.number("quantity", request.quantity, 0.0, SHORTLIST_QUANTITY_MAX, true).unwrap_or(1.0);
    let location =
        request.location.as_ref().and_then(|location| v.location("location", Some(location)));
    let filters = request.filters.clone().unwrap_or_default();
    let zone_tiers = v.zone_tiers("filters.zone_tiers", &filters.zone_tiers);
    let holder_kinds = v.holder_kinds("filters.holder_kinds", &filters.holder_kinds);
    let prefer_kinds = v.holder_kinds("prefer_holder_kinds", &request.prefer_holder_kinds);
    if filters.place_ids.len() > PLACE_FILTERS_MAX {
        v.add("filters.place_ids", format!("at most {PLACE_FILTERS_MAX} places"));
    }
    let required_certifications = v.certifications(
        catalog,
        "filters.required_certifications",
        &filters.required_certifications,
    );
    let max_lead_time_hours = filters
        .max_lead_time_hours
        .and_then(|h| v.number("filters.max_lead_time_hours", h, 0.0, HOURS_MAX, false));
    let min_reliability = v
        .number("filters.min_reliability", filters.min_reliability, 0.0, 1.0, false)
        .unwrap_or(0.0);
    let count = match request.count as usize {
        0 => SHORTLIST_COUNT_DEFAULT,
        n if n > SHORTLIST_COUNT_MAX => {
            v.add("count", format!("at most {SHORTLIST_COUNT_MAX}"));
            SHORTLIST_COUNT_DEFAULT
        }
        n => n,
    };
    let window_hours = match request.needed_within_hours {
        Some(h) => v
            .number("needed_within_hours", h, 0.0, HOURS_MAX, true)
            .unwrap_or(SHORTLIST_WINDOW_HOURS_DEFAULT),
        None => SHORTLIST_WINDOW_HOURS_DEFAULT,
    };
    let weights = v.weights(request.weights.as_ref());
    v.finish()?;
    let mut categories = Vec::with_capacity(request.category_ids.len());
    for (i, id) in request.category_ids.iter().enumerate() {
        let category = catalog.category_by_id(id).ok_or_else(|| Error::NotFound {
            kind: "category",
            id: id.clone(),
            field: format!("category_ids[{i}]"),
        })?;
        categories.push(category);
    }
    let mut places = Vec::with_capacity(filters.place_ids.len());
    for (i, id) in filters.place_ids.iter().enumerate().take(PLACE_FILTERS_MAX) {
        let place = catalog.place_by_id(id).ok_or_else(|| Error::NotFound {
            kind: "place",
            id: id.clone(),
            field: format!("filters.place_ids[{i}]"),
        })?;
        places.push(place);
    }
    places.sort_unstable();
    places.dedup();
    Ok(ShortlistQuery {
        categories,
        quantity,
        location,
        window_hours,
        count,
        filters: Filters {
            excluded_suppliers: Vec::new(),
            zone_tiers,
            places,
            required_certifications,
            max_lead_time_hours,
            min_reliability,
            holder_kinds,
        },
        weights,
        prefer_kinds,
    })
}

pub fn option_to_pb(
    catalog: &Catalog,
    weights: &Weights,
    candidate: &Candidate,
) -> pb::SupplierOption {
    // Ids copied as they are (`as_str`), not through `Display`'s formatter: a shortlist
    // builds a few hundred of these strings per call.
    let supplier = catalog.supplier(candidate.supplier);
    let line = catalog.stock_line(candidate.line);
    let place = catalog.place(supplier.place);
    pb::SupplierOption {
        supplier_id: supplier.id.as_str().to_owned(),
        supplier_name: supplier.name.clone(),
        place_id: place.id.as_str().to_owned(),
        zone_tier: zone_tier_to_pb(place.zone) as i32,
        demonstration_base: supplier
            .base
            .map(|base| catalog.place(base).id.as_str().to_owned())
            .unwrap_or_default(),
        category_id: catalog.category(candidate.category).id.as_str().to_owned(),
        substitute: candidate.substitute,
        substitute_efficiency: candidate.efficiency,
        quantity_available: candidate.quantity_available(),
        quantity_from_stock: candidate.quantity_from_stock,
        quantity_from_production: candidate.quantity_from_production,
        distance_km: candidate.distance_km,
        eta_hours: candidate.eta_hours,
        lead_time_hours: line.lead_time_hours,
        on_time: candidate.on_time,
        holder_kind: holder_kind_to_pb(supplier.kind) as i32,
        crew_per_unit: line.crew_per_unit,
        score: candidate.score,
        score_parts: candidate
            .parts(weights)
            .iter()
            .map(|part| pb::ScorePart {
                criterion: part.criterion.key().to_owned(),
                weight: part.weight,
                value: part.value,
                contribution: part.contribution,
            })
            .collect(),
    }
}

fn plan_entry_to_pb(catalog: &Catalog, entry: &PlanEntry) -> pb::PlanEntry {
    pb::PlanEntry {
        supplier_id: catalog.supplier(entry.supplier).id.to_string(),
        category_id: catalog.category(entry.category).id.to_string(),
        quantity: entry.quantity,
        quantity_equivalent: entry.quantity_equivalent,
        eta_hours: entry.eta_hours,
        substitute: entry.substitute,
    }
}

/// The full response to a Match.
pub fn match_response(catalog: &Catalog, result: &MatchResult) -> pb::MatchResponse {
    match_response_as(catalog, result, pb::MatchView::Full)
}

/// The response to a Match, with as much as `view` asks for (`MatchView::PlanOnly` queries
/// ask the engine for no options, so there are none to leave out).
pub fn match_response_as(
    catalog: &Catalog,
    result: &MatchResult,
    view: pb::MatchView,
) -> pb::MatchResponse {
    let option = |c: &Candidate| {
        let mut option = option_to_pb(catalog, &result.weights, c);
        if view == pb::MatchView::NoScoreParts {
            option.score_parts = Vec::new();
        }
        option
    };
    pb::MatchResponse {
        scenario_id: result.scenario_id.clone(),
        severity: severity_to_pb(result.severity) as i32,
        catalog_version: result.catalog_version.clone(),
        coverage: result.coverage,
        stages: result
            .stages
            .iter()
            .map(|stage| pb::StageResult {
                stage: stage_to_pb(stage.stage) as i32,
                coverage: stage.coverage,
                requirements: stage
                    .requirements
                    .iter()
                    .map(|requirement| {
                        let category = catalog.category(requirement.category);
                        pb::RequirementResult {
                            category_id: category.id.to_string(),
                            category_name: category.name_en.clone(),
                            unit: category.unit.clone(),
                            quantity_required: requirement.quantity_required,
                            priority: priority_to_pb(requirement.priority) as i32,
                            needed_within_hours: requirement.needed_within_hours,
                            options: requirement.options.iter().map(option).collect(),
                            plan: requirement
                                .plan
                                .iter()
                                .map(|e| plan_entry_to_pb(catalog, e))
                                .collect(),
                            quantity_planned: requirement.quantity_planned,
                            coverage: requirement.coverage,
                            shortfall: requirement.shortfall,
                            quantity_rule: requirement.rule.clone(),
                            source: requirement.provenance.source.clone(),
                            grade: requirement.provenance.grade.key().to_owned(),
                            lines_examined: u32::try_from(requirement.lines_examined)
                                .unwrap_or(u32::MAX),
                            search_cut: requirement.search_cut,
                            quantity_uncapped: requirement.quantity_uncapped,
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn shortlist_response(catalog: &Catalog, result: &ShortlistResult) -> pb::ShortlistResponse {
    pb::ShortlistResponse {
        catalog_version: result.catalog_version.clone(),
        entries: result.entries.iter().map(|c| option_to_pb(catalog, &result.weights, c)).collect(),
        lines_examined: u32::try_from(result.lines_examined).unwrap_or(u32::MAX),
        search_cut: result.search_cut,
    }
}

pub fn scenario_to_pb(scenario: &crate::domain::Scenario) -> pb::Scenario {
    pb::Scenario {
        id: scenario.id.to_string(),
        name_zh: scenario.name_zh.clone(),
        name_en: scenario.name_en.clone(),
        summary: scenario.summary.clone(),
        grading: scenario.grading.clone(),
        severity_factors: Severity::ALL
            .iter()
            .map(|s| pb::SeverityFactor {
                severity: severity_to_pb(*s) as i32,
                factor: scenario.severity_factor(*s),
            })
            .collect(),
        severity_factor_source: scenario.severity_provenance.source.clone(),
        severity_factor_grade: scenario.severity_provenance.grade.key().to_owned(),
        requirements: Vec::new(),
        displaced_share: scenario.displaced_share.as_ref().map(level_table_to_pb),
        rain_excess_mm: scenario.rain_excess_mm.as_ref().map(level_table_to_pb),
        fire_length_to_breadth: scenario.fire_shape.as_ref().map_or(0.0, |f| f.length_to_breadth),
        fire_shape_source: scenario
            .fire_shape
            .as_ref()
            .map_or(String::new(), |f| f.provenance.source.clone()),
        fire_shape_grade: scenario
            .fire_shape
            .as_ref()
            .map_or(String::new(), |f| f.provenance.grade.key().to_owned()),
    }
}

fn level_table_to_pb(table: &crate::domain::LevelTable) -> pb::LevelTable {
    pb::LevelTable {
        values: Severity::ALL
            .iter()
            .map(|s| pb::SeverityValue { severity: severity_to_pb(*s) as i32, value: table.at(*s) })
            .collect(),
        source: table.provenance.source.clone(),
        grade: table.provenance.grade.key().to_owned(),
    }
}

pub fn scenario_with_rules_to_pb(
    catalog: &Catalog,
    scenario: &crate::domain::Scenario,
) -> pb::Scenario {
    let mut message = scenario_to_pb(scenario);
    message.requirements = scenario
        .requirements
        .iter()
        .map(|r| pb::RequirementRule {
            stage: stage_to_pb(r.stage) as i32,
            category_id: catalog.category(r.category).id.to_string(),
            priority: priority_to_pb(r.priority) as i32,
            needed_within_hours: r.needed_within_hours,
            base_quantity: r.base_quantity,
            per_population_people: r.per_population.map_or(0.0, |rate| rate.per),
            per_population_quantity: r.per_population.map_or(0.0, |rate| rate.quantity),
            per_area_km2: r.per_area_km2.map_or(0.0, |rate| rate.per),
            per_area_quantity: r.per_area_km2.map_or(0.0, |rate| rate.quantity),
            scales_with_severity: r.scales_with_severity,
            max_quantity: r.max_quantity.unwrap_or(0.0),
            per_displaced_people: r.per_displaced.map_or(0.0, |rate| rate.per),
            per_displaced_quantity: r.per_displaced.map_or(0.0, |rate| rate.quantity),
            per_fire_line_km: r.per_fire_line_km.map_or(0.0, |rate| rate.per),
            per_fire_line_quantity: r.per_fire_line_km.map_or(0.0, |rate| rate.quantity),
            pumping_hours: r.pumping.map_or(0.0, |pumping| pumping.hours),
            pumping_share: r.pumping.map_or(0.0, |pumping| pumping.share),
            source: r.provenance.source.clone(),
            grade: r.provenance.grade.key().to_owned(),
        })
        .collect();
    message
}

pub fn category_to_pb(catalog: &Catalog, category: &crate::domain::Category) -> pb::Category {
    pb::Category {
        id: category.id.to_string(),
        name_zh: category.name_zh.clone(),
        name_en: category.name_en.clone(),
        aliases: category.aliases.clone(),
        stage: stage_to_pb(category.stage) as i32,
        miit_class: miit_class_to_pb(category.miit_class) as i32,
        unit: category.unit.clone(),
        capability_metric: category.capability_metric.clone(),
        capability_per_unit: category.capability_per_unit,
        transport: transport_to_pb(category.transport) as i32,
        tags: category.tags.clone(),
        certification_ids: category
            .certifications
            .iter()
            .map(|i| catalog.certifications[i].id.to_string())
            .collect(),
        substitutes: category
            .substitutes
            .iter()
            .map(|s| pb::Substitute {
                category_id: catalog.category(s.category).id.to_string(),
                efficiency: s.efficiency,
                note: s.note.clone(),
            })
            .collect(),
        source: category.provenance.source.clone(),
        grade: category.provenance.grade.key().to_owned(),
        stock_only: category.stock_only.clone().unwrap_or_default(),
    }
}

pub fn place_to_pb(catalog: &Catalog, place: &crate::domain::Place) -> pb::Place {
    pb::Place {
        id: place.id.to_string(),
        name_zh: place.name_zh.clone(),
        name_en: place.name_en.clone(),
        kind: place.kind.key().to_owned(),
        zone_tier: zone_tier_to_pb(place.zone) as i32,
        location: Some(pb::LatLng {
            latitude: place.location.latitude(),
            longitude: place.location.longitude(),
        }),
        host_place_id: place.host.map(|h| catalog.place(h).id.to_string()).unwrap_or_default(),
    }
}

pub fn supplier_to_pb(catalog: &Catalog, idx: crate::domain::SupplierIdx) -> pb::Supplier {
    let supplier = catalog.supplier(idx);
    let place = catalog.place(supplier.place);
    pb::Supplier {
        id: supplier.id.to_string(),
        name: supplier.name.clone(),
        place_id: place.id.to_string(),
        location: Some(pb::LatLng {
            latitude: supplier.location.latitude(),
            longitude: supplier.location.longitude(),
        }),
        zone_tier: zone_tier_to_pb(place.zone) as i32,
        demonstration_base: supplier
            .base
            .map(|b| catalog.place(b).id.to_string())
            .unwrap_or_default(),
        certification_ids: supplier
            .certifications
            .iter()
            .map(|i| catalog.certifications[i].id.to_string())
            .collect(),
        reliability: supplier.reliability,
        stock_line_count: catalog.supplier_lines(idx).count() as u32,
        holder_kind: holder_kind_to_pb(supplier.kind) as i32,
    }
}

/// Validates paging: (offset, page size). Tokens are `<catalog version>:<offset>`, so a token
/// from another catalog is refused rather than silently skipping or repeating items.
pub fn page(
    catalog: &Catalog,
    page: Option<&pb::PageRequest>,
    total: usize,
) -> Result<(usize, usize), Error> {
    let page = page.cloned().unwrap_or_default();
    let mut v = Violations::default();
    let size = match page.page_size as usize {
        0 => PAGE_SIZE_DEFAULT,
        n if n > PAGE_SIZE_MAX => {
            v.add("page.page_size", format!("at most {PAGE_SIZE_MAX}"));
            PAGE_SIZE_DEFAULT
        }
        n => n,
    };
    let offset = if page.page_token.is_empty() {
        0
    } else {
        match page.page_token.split_once(':') {
            Some((version, offset)) if version == catalog.version => {
                match offset.parse::<usize>() {
                    Ok(offset) if offset <= total => offset,
                    _ => {
                        v.add("page.page_token", "malformed page token");
                        0
                    }
                }
            }
            Some(_) => {
                v.add(
                    "page.page_token",
                    "the token is from another catalog version: start again from the first page",
                );
                0
            }
            None => {
                v.add("page.page_token", "malformed page token");
                0
            }
        }
    };
    v.finish()?;
    Ok((offset, size))
}

pub fn next_page_token(catalog: &Catalog, offset: usize, size: usize, total: usize) -> String {
    if offset + size < total {
        format!("{}:{}", catalog.version, offset + size)
    } else {
        String::new()
    }
}

/// Re-exported for the CLI's human output.
pub use matching::Criterion;

// ---- Holds ----

/// The request metadata key naming the caller for the audit trail.
pub const CALLER_METADATA_KEY: &str = "x-equipmatch-caller";

/// Who the audit trail names for this call. With auth on, the verified token's subject: the
/// auth layer has removed `x-equipmatch-caller`, and it would be ignored here anyway. With
/// auth off, what the caller wrote there; anonymous when absent, unreadable or too long (the
/// audit trail records what it can rather than refusing a dispatch).
pub fn caller<T>(request: &tonic::Request<T>) -> Caller {
    match request.extensions().get::<Principal>() {
        Some(Principal::Verified(identity)) => verified_caller(&identity.actor()),
        Some(Principal::Unverified) | None => request
            .metadata()
            .get(CALLER_METADATA_KEY)
            .and_then(|value| value.to_str().ok())
            .and_then(Caller::parse)
            .unwrap_or_else(Caller::anonymous),
    }
}

/// `caller` for a stock update: with auth on, the subject and the suppliers of the updated
/// lines it acted for (the supplier claim, where it applies).
pub fn stock_caller<T>(request: &tonic::Request<T>, lines: &[(StockRef, u64)]) -> Caller {
    match request.extensions().get::<Principal>() {
        Some(Principal::Verified(identity)) => verified_caller(&identity.stock_actor(
            lines.iter().map(|(stock, _)| stock.supplier_id.as_str()),
            holds::CALLER_BYTES_MAX,
        )),
        _ => caller(request),
    }
}

/// A verified actor always parses: `sub` is printable ASCII of at most `SUB_BYTES_MAX` bytes
/// (checked at verification), supplier ids are `Id`s, and the budget is `CALLER_BYTES_MAX`
/// (a unit test holds the longest case). The fallback is unreachable by construction.
fn verified_caller(actor: &str) -> Caller {
    Caller::parse(actor).unwrap_or_else(Caller::anonymous)
}

/// May the verified caller (if any) set the stock of the lines this request names? Checked on
/// the raw supplier ids, before validation, so a refused caller learns nothing of the catalog.
pub fn may_update_stock<T>(
    request: &tonic::Request<T>,
    supplier_ids: &[&str],
) -> Result<(), Error> {
    match request.extensions().get::<Principal>() {
        Some(Principal::Verified(identity)) => {
            identity.may_update_stock(supplier_ids.iter().copied())
        }
        Some(Principal::Unverified) | None => Ok(()),
    }
}

impl Violations {
    fn id(&mut self, field: &str, text: &str) -> Option<Id> {
        match Id::parse(text) {
            Ok(id) => Some(id),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// A catalog stock line by ids; an unknown pair is NOT_FOUND (returned, not collected).
    fn stock_line(
        &mut self,
        catalog: &Catalog,
        field: &str,
        supplier_id: &str,
        category_id: &str,
    ) -> Result<Option<StockRef>, Error> {
        let supplier = self.id(&format!("{field}.supplier_id"), supplier_id);
        let category = self.id(&format!("{field}.category_id"), category_id);
        let (Some(supplier), Some(category)) = (supplier, category) else { return Ok(None) };
        match holds::find_stock_line(catalog, supplier.as_str(), category.as_str()) {
            Some(line) => Ok(Some(StockRef::from_catalog(catalog, line))),
            None => Err(Error::NotFound {
                kind: "stock line",
                id: format!("{supplier}/{category}"),
                field: format!("{field}.supplier_id"),
            }),
        }
    }
}

pub fn place_hold(catalog: &Catalog, request: &pb::PlaceHoldRequest) -> Result<NewHold, Error> {
    let mut v = Violations::default();
    let hold_id = v.id("hold_id", &request.hold_id);
    let incident_ref = v.id("incident_ref", &request.incident_ref);
    if request.ttl_seconds == 0 || request.ttl_seconds > holds::TTL_SECONDS_MAX {
        v.add("ttl_seconds", format!("must be in [1, {}]", holds::TTL_SECONDS_MAX));
    }
    if request.lines.is_empty() || request.lines.len() > holds::LINES_PER_HOLD_MAX {
        v.add("lines", format!("1 to {} lines", holds::LINES_PER_HOLD_MAX));
    }
    let mut lines: Vec<NewHoldLine> = Vec::new();
    let mut not_found = None;
    for (i, line) in request.lines.iter().take(holds::LINES_PER_HOLD_MAX).enumerate() {
        let field = format!("lines[{i}]");
        if line.quantity_units == 0 || line.quantity_units > holds::HOLD_LINE_UNITS_MAX {
            v.add(
                format!("{field}.quantity_units"),
                format!("must be in [1, {}]", holds::HOLD_LINE_UNITS_MAX),
            );
        }
        match v.stock_line(catalog, &field, &line.supplier_id, &line.category_id) {
            Ok(Some(stock)) => {
                if lines.iter().any(|l| l.stock.line == stock.line) {
                    v.add(field, "the same (supplier_id, category_id) appears twice");
                } else {
                    lines.push(NewHoldLine { stock, quantity_units: line.quantity_units });
                }
            }
            Ok(None) => {}
            Err(error) => not_found = not_found.or(Some(error)),
        }
    }
    v.finish()?;
    if let Some(error) = not_found {
        return Err(error);
    }
    lines.sort_by(|a, b| {
        (&a.stock.supplier_id, &a.stock.category_id)
            .cmp(&(&b.stock.supplier_id, &b.stock.category_id))
    });
    match (hold_id, incident_ref) {
        (Some(hold_id), Some(incident_ref)) => {
            Ok(NewHold { hold_id, incident_ref, lines, ttl_seconds: request.ttl_seconds })
        }
        _ => Err(Error::Internal("validated ids missing".into())),
    }
}

/// The hold id of Confirm, Release and Get.
pub fn hold_id(text: &str) -> Result<Id, Error> {
    let mut v = Violations::default();
    let id = v.id("hold_id", text);
    v.finish()?;
    id.ok_or_else(|| Error::Internal("validated id missing".into()))
}

pub fn list_holds(request: &pb::ListHoldsRequest) -> Result<ListQuery, Error> {
    let mut v = Violations::default();
    let by = match (request.incident_ref.is_empty(), request.supplier_id.is_empty()) {
        (false, true) => v.id("incident_ref", &request.incident_ref).map(ListBy::Incident),
        (true, false) => v.id("supplier_id", &request.supplier_id).map(ListBy::Supplier),
        _ => {
            v.add("incident_ref", "set exactly one of incident_ref and supplier_id");
            None
        }
    };
    let limit = match request.page_size as usize {
        0 => holds::LIST_PAGE_SIZE_DEFAULT,
        n if n > holds::LIST_PAGE_SIZE_MAX => {
            v.add("page_size", format!("at most {}", holds::LIST_PAGE_SIZE_MAX));
            0
        }
        n => n,
    };
    let after = if request.page_token.is_empty() {
        None
    } else {
        match Id::parse(&request.page_token) {
            Ok(id) => Some(id),
            Err(_) => {
                v.add("page_token", "malformed page token");
                None
            }
        }
    };
    v.finish()?;
    let by = by.ok_or_else(|| Error::Internal("validated list key missing".into()))?;
    Ok(ListQuery { by, after, limit })
}

pub fn update_stock(
    catalog: &Catalog,
    request: &pb::UpdateStockRequest,
) -> Result<Vec<(StockRef, u64)>, Error> {
    let mut v = Violations::default();
    if request.lines.is_empty() || request.lines.len() > holds::STOCK_UPDATE_LINES_MAX {
        v.add("lines", format!("1 to {} lines", holds::STOCK_UPDATE_LINES_MAX));
    }
    let mut lines: Vec<(StockRef, u64)> = Vec::new();
    let mut not_found = None;
    for (i, line) in request.lines.iter().take(holds::STOCK_UPDATE_LINES_MAX).enumerate() {
        let field = format!("lines[{i}]");
        if line.on_hand_units > holds::ON_HAND_UNITS_MAX {
            v.add(
                format!("{field}.on_hand_units"),
                format!("at most {}", holds::ON_HAND_UNITS_MAX),
            );
        }
        match v.stock_line(catalog, &field, &line.supplier_id, &line.category_id) {
            Ok(Some(stock)) => {
                if lines.iter().any(|(l, _)| l.line == stock.line) {
                    v.add(field, "the same (supplier_id, category_id) appears twice");
                } else {
                    lines.push((stock, line.on_hand_units));
                }
            }
            Ok(None) => {}
            Err(error) => not_found = not_found.or(Some(error)),
        }
    }
    v.finish()?;
    match not_found {
        Some(error) => Err(error),
        None => Ok(lines),
    }
}

fn hold_state_to_pb(state: HoldState) -> pb::HoldState {
    match state {
        HoldState::Pending => pb::HoldState::Pending,
        HoldState::Confirmed => pb::HoldState::Confirmed,
        HoldState::Released => pb::HoldState::Released,
        HoldState::Expired => pb::HoldState::Expired,
    }
}

pub fn hold_to_pb(hold: &Hold) -> pb::Hold {
    pb::Hold {
        hold_id: hold.hold_id.to_string(),
        incident_ref: hold.incident_ref.to_string(),
        lines: hold
            .lines
            .iter()
            .map(|line| pb::HoldLine {
                supplier_id: line.supplier_id.to_string(),
                category_id: line.category_id.to_string(),
                quantity_units: line.quantity_units,
            })
            .collect(),
        ttl_seconds: hold.ttl_seconds,
        state: hold_state_to_pb(hold.state) as i32,
        placed_at_unix_ms: hold.placed_at_ms,
        expires_at_unix_ms: hold.expires_at_ms,
        resolved_at_unix_ms: hold.resolved_at_ms.unwrap_or(0),
        placed_by: hold.placed_by.clone(),
        history: hold
            .history
            .iter()
            .map(|event| pb::HoldEvent {
                at_unix_ms: event.at_ms,
                from_state: event.from.map_or(pb::HoldState::Unspecified, hold_state_to_pb) as i32,
                to_state: hold_state_to_pb(event.to) as i32,
                actor: event.actor.clone(),
            })
            .collect(),
    }
}

/// The one hold a command answers with.
pub fn expect_hold(outcome: Outcome) -> Result<pb::Hold, Error> {
    match outcome {
        Outcome::Hold(hold) => Ok(hold_to_pb(&hold)),
        other => Err(Error::Internal(format!("expected a hold, got {other:?}"))),
    }
}

pub fn list_holds_response(outcome: Outcome) -> Result<pb::ListHoldsResponse, Error> {
    match outcome {
        Outcome::Holds { holds, more } => Ok(pb::ListHoldsResponse {
            next_page_token: match (more, holds.last()) {
                (true, Some(last)) => last.hold_id.to_string(),
                _ => String::new(),
            },
            holds: holds.iter().map(hold_to_pb).collect(),
        }),
        other => Err(Error::Internal(format!("expected holds, got {other:?}"))),
    }
}

pub fn update_stock_response(
    lines: &[(StockRef, u64)],
    outcome: Outcome,
) -> Result<pb::UpdateStockResponse, Error> {
    match outcome {
        Outcome::Stock(levels) if levels.len() == lines.len() => Ok(pb::UpdateStockResponse {
            lines: lines
                .iter()
                .zip(levels)
                .map(|((stock, _), level)| pb::StockLevel {
                    supplier_id: stock.supplier_id.to_string(),
                    category_id: stock.category_id.to_string(),
                    on_hand_units: level.on_hand_units,
                    pending_units: level.pending_units,
                    confirmed_units: level.confirmed_units,
                    available_units: level.available_units(),
                })
                .collect(),
        }),
        other => Err(Error::Internal(format!("expected stock levels, got {other:?}"))),
    }
}
