//! The catalog's read side: scenarios, categories, places and suppliers into messages, and
//! the pages of list calls.

use super::*;

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
    let size =
        v.count_or_default("page.page_size", page.page_size, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX);
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
