//! Match and Shortlist: requests into engine queries (validated, every bad field collected),
//! results into responses (with as much as the Match view asks for).

use super::*;

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
        Some(area) => v
            .number("affected_area_km2", area, 0.0, AFFECTED_AREA_KM2_MAX, Lower::Included)
            .unwrap_or(0.0),
        None => 0.0,
    };
    let options = v.count_or_default(
        "options_per_requirement",
        request.options_per_requirement,
        OPTIONS_PER_REQUIREMENT_DEFAULT,
        OPTIONS_PER_REQUIREMENT_MAX,
    );
    let constraints = request.constraints.clone().unwrap_or_default();
    let max_eta_hours = constraints
        .max_eta_hours
        .and_then(|h| v.number("constraints.max_eta_hours", h, 0.0, HOURS_MAX, Lower::Excluded));
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
    let quantity = v
        .number("quantity", request.quantity, 0.0, SHORTLIST_QUANTITY_MAX, Lower::Excluded)
        .unwrap_or(1.0);
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
        .and_then(|h| v.number("filters.max_lead_time_hours", h, 0.0, HOURS_MAX, Lower::Included));
    let min_reliability = v
        .number("filters.min_reliability", filters.min_reliability, 0.0, 1.0, Lower::Included)
        .unwrap_or(0.0);
    let count =
        v.count_or_default("count", request.count, SHORTLIST_COUNT_DEFAULT, SHORTLIST_COUNT_MAX);
    let window_hours = match request.needed_within_hours {
        Some(h) => v
            .number("needed_within_hours", h, 0.0, HOURS_MAX, Lower::Excluded)
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
                criterion: part.criterion.key().into(),
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
