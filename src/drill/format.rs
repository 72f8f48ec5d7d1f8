//! The drill file format (`scenarios/drills/*.toml`, documented in `scenarios/drills/README.md`):
//! serde structs private to this file, turned into a validated [`Drill`] against the catalog,
//! with every problem reported by file, line and column like the catalog's.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Drill, Incident, Policy, WhatIf};
use crate::catalog::fields::{catalog_id, keyword, number, provenance, Lower};
use crate::catalog::{Catalog, Problems, SourceText};
use crate::domain::{HolderKind, LatLon, Severity, ZoneTier};
use crate::matching::{AFFECTED_AREA_KM2_MAX, AFFECTED_POPULATION_MAX};

/// The largest drill file accepted (bytes).
pub const DRILL_FILE_BYTES_MAX: usize = 1 << 20;
/// The most incidents one drill may hold: enough for a 100-incident stress drill with room.
pub const INCIDENTS_PER_DRILL_MAX: usize = 1000;
/// The latest incident start and the longest horizon: 30 days, the longest window a scenario
/// may state (`NEEDED_WITHIN_HOURS_MAX`).
pub const HORIZON_HOURS_MAX: f64 = 720.0;
/// The finest and coarsest time steps: lateness is counted in whole steps, and the step sets
/// the size of the cost numbers (horizon ÷ step).
pub const TIME_STEP_HOURS_MIN: f64 = 0.25;
pub const TIME_STEP_HOURS_MAX: f64 = 24.0;
/// The longest deployment accepted for one category (hours).
pub const DEPLOYMENT_HOURS_MAX: f64 = 720.0;
/// The largest stock factor of a what-if (ten times the registry's stock).
pub const STOCK_FACTOR_MAX: f64 = 10.0;
/// The largest road-factor scale of a what-if (roads five times slower than usual).
pub const ROAD_FACTOR_SCALE_MAX: f64 = 5.0;
/// The most ids in each what-if list.
pub const OFFLINE_IDS_MAX: usize = 10_000;

/// Defaults when a drill file leaves a field out (documented in the drill README).
pub const TIME_STEP_HOURS_DEFAULT: f64 = 1.0;
pub const HORIZON_HOURS_DEFAULT: f64 = 168.0;
/// 72 hours: the "golden 72 hours" of rescue (domain-facts §2.1), after which equipment is
/// assumed released unless the drill says otherwise (MODEL).
pub const DEPLOYMENT_HOURS_DEFAULT: f64 = 72.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrillFile {
    id: Spanned<String>,
    name: String,
    summary: String,
    #[serde(default)]
    policy: Option<Spanned<String>>,
    time_step_hours: Option<Spanned<f64>>,
    horizon_hours: Option<Spanned<f64>>,
    #[serde(default = "default_true")]
    surge_production: bool,
    #[serde(default)]
    seed: u64,
    deployment_hours_default: Option<Spanned<f64>>,
    /// Holder kinds whose stock each category uses first (see `passes`).
    #[serde(default)]
    prefer_kinds: Vec<Spanned<String>>,
    source: Spanned<String>,
    grade: Spanned<String>,
    #[serde(default)]
    deployment: Vec<DeploymentEntry>,
    #[serde(default)]
    incident: Vec<IncidentEntry>,
    #[serde(default)]
    what_if: Option<WhatIfEntry>,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploymentEntry {
    category: Spanned<String>,
    hours: Spanned<f64>,
    source: Spanned<String>,
    grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentEntry {
    id: Spanned<String>,
    scenario: Spanned<String>,
    start_hours: Spanned<f64>,
    place: Option<Spanned<String>>,
    latitude: Option<Spanned<f64>>,
    longitude: Option<Spanned<f64>>,
    severity: Spanned<String>,
    affected_population: Spanned<f64>,
    #[serde(default)]
    affected_area_km2: Option<Spanned<f64>>,
    source: Spanned<String>,
    grade: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatIfEntry {
    #[serde(default)]
    suppliers_offline: Vec<Spanned<String>>,
    #[serde(default)]
    places_offline: Vec<Spanned<String>>,
    #[serde(default)]
    zones_offline: Vec<Spanned<String>>,
    #[serde(default)]
    kinds_offline: Vec<Spanned<String>>,
    stock_factor: Option<Spanned<f64>>,
    road_factor_scale: Option<Spanned<f64>>,
    random_suppliers_offline_share: Option<Spanned<f64>>,
    #[serde(default)]
    note: String,
}

/// Parses and validates a drill file against the catalog. On any problem returns them all.
pub fn parse(catalog: &Catalog, name: &str, text: &str) -> Result<Drill, Problems> {
    let mut problems = Problems::default();
    let source = SourceText::new(name, text);
    let drill = parse_into(catalog, &source, &mut problems);
    match drill {
        Some(drill) if problems.is_empty() => Ok(drill),
        _ => {
            if problems.is_empty() {
                problems.push(name, 0, None, "the drill did not load");
            }
            Err(problems)
        }
    }
}

fn parse_into(
    catalog: &Catalog,
    source: &SourceText<'_>,
    problems: &mut Problems,
) -> Option<Drill> {
    if source.text.len() > DRILL_FILE_BYTES_MAX {
        problems.push(
            source.name,
            0,
            None,
            format!("file is larger than {DRILL_FILE_BYTES_MAX} bytes"),
        );
        return None;
    }
    let file: DrillFile = match toml::from_str(source.text) {
        Ok(file) => file,
        Err(error) => {
            let message = format!("malformed TOML: {}", error.message().trim_end_matches('\n'));
            match error.span() {
                Some(span) => source.report(problems, span, message),
                None => problems.push(source.name, 0, None, message),
            }
            return None;
        }
    };
    let id = catalog_id(source, problems, &file.id);
    let drill_provenance = provenance(source, problems, &file.source, &file.grade);
    let policy = match &file.policy {
        None => Some(Policy::Efficiency),
        Some(text) => {
            keyword(source, problems, "policy", text, Policy::parse, &Policy::ALL, Policy::key)
        }
    };
    let prefer_kinds = holder_kinds(source, problems, &file.prefer_kinds);
    let time_step_hours = optional_number(
        source,
        problems,
        "time_step_hours",
        file.time_step_hours.as_ref(),
        TIME_STEP_HOURS_MIN..TIME_STEP_HOURS_MAX,
        Lower::Included,
        TIME_STEP_HOURS_DEFAULT,
    );
    let horizon_hours = optional_number(
        source,
        problems,
        "horizon_hours",
        file.horizon_hours.as_ref(),
        0.0..HORIZON_HOURS_MAX,
        Lower::Excluded,
        HORIZON_HOURS_DEFAULT,
    );
    let deployment_hours_default = optional_number(
        source,
        problems,
        "deployment_hours_default",
        file.deployment_hours_default.as_ref(),
        0.0..DEPLOYMENT_HOURS_MAX,
        Lower::Excluded,
        DEPLOYMENT_HOURS_DEFAULT,
    );

    let deployment_hours = deployment_hours(
        catalog,
        source,
        problems,
        &file.deployment,
        deployment_hours_default.unwrap_or(DEPLOYMENT_HOURS_DEFAULT),
    );

    if file.incident.is_empty() {
        source.report(problems, file.id.span(), "a drill needs at least one [[incident]]");
    }
    if file.incident.len() > INCIDENTS_PER_DRILL_MAX {
        source.report(
            problems,
            file.id.span(),
            format!("a drill may hold at most {INCIDENTS_PER_DRILL_MAX} incidents"),
        );
        return None;
    }
    let horizon = horizon_hours.unwrap_or(HORIZON_HOURS_DEFAULT);
    let incidents = incidents(catalog, source, problems, &file.incident, horizon);

    let what_if = what_if(
        catalog,
        source,
        problems,
        file.what_if.as_ref().unwrap_or(&WhatIfEntry::default()),
    );

    Some(Drill {
        id: id?,
        name: file.name,
        summary: file.summary,
        policy: policy?,
        time_step_hours: time_step_hours?,
        horizon_hours: horizon,
        surge_production: file.surge_production,
        seed: file.seed,
        deployment_hours,
        incidents,
        what_if: what_if?,
        prefer_kinds,
        provenance: drill_provenance?,
    })
}

/// Hours to deploy each category's units once on site: the drill's default, and a
/// `[[deployment]]` entry per category that differs (each category once).
fn deployment_hours(
    catalog: &Catalog,
    source: &SourceText<'_>,
    problems: &mut Problems,
    entries: &[DeploymentEntry],
    default: f64,
) -> Vec<f64> {
    let mut deployment_hours = vec![default; catalog.categories.len()];
    let mut seen_categories = std::collections::HashSet::new();
    for entry in entries {
        let category = catalog.category_by_id(entry.category.get_ref());
        let hours = number(
            source,
            problems,
            "hours",
            &entry.hours,
            0.0..DEPLOYMENT_HOURS_MAX,
            Lower::Excluded,
        );
        provenance(source, problems, &entry.source, &entry.grade);
        match category {
            None => source.report(
                problems,
                entry.category.span(),
                format!("unknown category {:?}", entry.category.get_ref()),
            ),
            Some(category) => {
                if !seen_categories.insert(category) {
                    source.report(
                        problems,
                        entry.category.span(),
                        format!(
                            "category {:?} has two deployment entries",
                            entry.category.get_ref()
                        ),
                    );
                }
                if let Some(hours) = hours {
                    deployment_hours[category.0 as usize] = hours;
                }
            }
        }
    }
    deployment_hours
}

/// The drill's incidents that read, each id once.
fn incidents(
    catalog: &Catalog,
    source: &SourceText<'_>,
    problems: &mut Problems,
    entries: &[IncidentEntry],
    horizon: f64,
) -> Vec<Incident> {
    let mut incidents = Vec::with_capacity(entries.len());
    let mut incident_ids = std::collections::HashSet::new();
    for entry in entries {
        if let Some(incident) = incident(catalog, source, problems, entry, horizon) {
            if !incident_ids.insert(incident.id.clone()) {
                source.report(
                    problems,
                    entry.id.span(),
                    format!("incident id {:?} is used twice", incident.id.as_str()),
                );
            }
            incidents.push(incident);
        }
    }
    incidents
}

/// A list of holder kinds, sorted and without duplicates; unknown ones are located problems.
fn holder_kinds(
    source: &SourceText<'_>,
    problems: &mut Problems,
    list: &[Spanned<String>],
) -> Vec<HolderKind> {
    let mut kinds: Vec<HolderKind> = list
        .iter()
        .filter_map(|text| {
            keyword(
                source,
                problems,
                "holder kind",
                text,
                HolderKind::parse,
                &HolderKind::ALL,
                HolderKind::key,
            )
        })
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

fn incident(
    catalog: &Catalog,
    source: &SourceText<'_>,
    problems: &mut Problems,
    entry: &IncidentEntry,
    horizon_hours: f64,
) -> Option<Incident> {
    let before = problems.total();
    let id = catalog_id(source, problems, &entry.id);
    let scenario = catalog.scenario_by_id(entry.scenario.get_ref()).map(|s| s.id.clone());
    if scenario.is_none() {
        let known: Vec<&str> = catalog.scenarios.iter().map(|s| s.id.as_str()).collect();
        source.report(
            problems,
            entry.scenario.span(),
            format!(
                "unknown scenario {:?}; expected one of {}",
                entry.scenario.get_ref(),
                known.join(", ")
            ),
        );
    }
    let start_hours = number(
        source,
        problems,
        "start_hours",
        &entry.start_hours,
        0.0..horizon_hours,
        Lower::Included,
    );
    let severity = keyword(
        source,
        problems,
        "severity",
        &entry.severity,
        Severity::parse,
        &Severity::ALL,
        Severity::roman,
    );
    let affected_population = number(
        source,
        problems,
        "affected_population",
        &entry.affected_population,
        0.0..AFFECTED_POPULATION_MAX,
        Lower::Included,
    );
    let affected_area_km2 = match &entry.affected_area_km2 {
        Some(value) => number(
            source,
            problems,
            "affected_area_km2",
            value,
            0.0..AFFECTED_AREA_KM2_MAX,
            Lower::Included,
        ),
        None => Some(0.0),
    };
    let provenance = provenance(source, problems, &entry.source, &entry.grade);
    let (place, location) = match (&entry.place, &entry.latitude, &entry.longitude) {
        (Some(place), None, None) => match catalog.place_by_id(place.get_ref()) {
            Some(idx) => (Some(idx), Some(catalog.place(idx).location)),
            None => {
                source.report(
                    problems,
                    place.span(),
                    format!("unknown place {:?} (see scenarios/places.toml)", place.get_ref()),
                );
                (None, None)
            }
        },
        (None, Some(latitude), Some(longitude)) => {
            match LatLon::new(*latitude.get_ref(), *longitude.get_ref()) {
                Ok(at) => (None, Some(at)),
                Err(message) => {
                    source.report(problems, latitude.span(), message);
                    (None, None)
                }
            }
        }
        _ => {
            source.report(
                problems,
                entry.id.span(),
                "give either place = \"id\" or both latitude and longitude, not both and not neither",
            );
            (None, None)
        }
    };
    if problems.total() != before {
        return None;
    }
    Some(Incident {
        id: id?,
        scenario: scenario?,
        start_hours: start_hours?,
        place,
        location: location?,
        severity: severity?,
        affected_population: affected_population?,
        affected_area_km2: affected_area_km2?,
        provenance: provenance?,
    })
}

fn what_if(
    catalog: &Catalog,
    source: &SourceText<'_>,
    problems: &mut Problems,
    entry: &WhatIfEntry,
) -> Option<WhatIf> {
    let before = problems.total();
    for (field, list) in [
        ("suppliers_offline", &entry.suppliers_offline),
        ("places_offline", &entry.places_offline),
        ("zones_offline", &entry.zones_offline),
        ("kinds_offline", &entry.kinds_offline),
    ] {
        if list.len() > OFFLINE_IDS_MAX {
            problems.push(
                source.name,
                0,
                None,
                format!("what_if.{field} lists more than {OFFLINE_IDS_MAX} ids"),
            );
            return None;
        }
    }
    let mut suppliers_offline = Vec::new();
    for id in &entry.suppliers_offline {
        match catalog.supplier_by_id(id.get_ref()) {
            Some(idx) => suppliers_offline.push(idx),
            None => {
                source.report(problems, id.span(), format!("unknown supplier {:?}", id.get_ref()))
            }
        }
    }
    let mut places_offline = Vec::new();
    for id in &entry.places_offline {
        match catalog.place_by_id(id.get_ref()) {
            Some(idx) => places_offline.push(idx),
            None => source.report(problems, id.span(), format!("unknown place {:?}", id.get_ref())),
        }
    }
    let mut zones_offline = Vec::new();
    for zone in &entry.zones_offline {
        if let Some(tier) =
            keyword(source, problems, "zone", zone, ZoneTier::parse, &ZoneTier::ALL, ZoneTier::key)
        {
            zones_offline.push(tier);
        }
    }
    let kinds_offline = holder_kinds(source, problems, &entry.kinds_offline);
    let stock_factor = match &entry.stock_factor {
        Some(value) => {
            number(source, problems, "stock_factor", value, 0.0..STOCK_FACTOR_MAX, Lower::Included)
        }
        None => Some(1.0),
    };
    let road_factor_scale = match &entry.road_factor_scale {
        Some(value) => number(
            source,
            problems,
            "road_factor_scale",
            value,
            0.0..ROAD_FACTOR_SCALE_MAX,
            Lower::Excluded,
        ),
        None => Some(1.0),
    };
    let random_share = match &entry.random_suppliers_offline_share {
        Some(value) => number(
            source,
            problems,
            "random_suppliers_offline_share",
            value,
            0.0..1.0,
            Lower::Included,
        ),
        None => Some(0.0),
    };
    if problems.total() != before {
        return None;
    }
    suppliers_offline.sort_unstable();
    suppliers_offline.dedup();
    places_offline.sort_unstable();
    places_offline.dedup();
    zones_offline.sort_unstable();
    zones_offline.dedup();
    Some(WhatIf {
        suppliers_offline,
        places_offline,
        zones_offline,
        kinds_offline,
        stock_factor: stock_factor?,
        road_factor_scale: road_factor_scale?,
        random_suppliers_offline_share: random_share?,
        note: entry.note.clone(),
    })
}

fn optional_number(
    source: &SourceText<'_>,
    problems: &mut Problems,
    field: &str,
    value: Option<&Spanned<f64>>,
    range: Range<f64>,
    lower: Lower,
    default: f64,
) -> Option<f64> {
    match value {
        Some(value) => number(source, problems, field, value, range, lower),
        None => Some(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::embedded().expect("embedded catalog loads")
    }

    const MINIMAL: &str = r#"
id = "t"
name = "test"
summary = "test drill"
source = "MODEL: test"
grade = "MODEL"

[[incident]]
id = "a"
scenario = "earthquake"
start_hours = 0
place = "tangshan"
severity = "I"
affected_population = 100000
source = "MODEL: test"
grade = "MODEL"
"#;

    #[test]
    fn a_minimal_drill_parses_with_the_documented_defaults() {
        let drill = parse(&catalog(), "t.toml", MINIMAL).expect("parses");
        assert_eq!(drill.policy, Policy::Efficiency);
        assert_eq!(drill.time_step_hours, TIME_STEP_HOURS_DEFAULT);
        assert_eq!(drill.horizon_hours, HORIZON_HOURS_DEFAULT);
        assert!(drill.surge_production);
        assert_eq!(drill.incidents.len(), 1);
        assert!(drill.deployment_hours.iter().all(|h| *h == DEPLOYMENT_HOURS_DEFAULT));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = MINIMAL
            .replace("scenario = \"earthquake\"", "scenario = \"volcano\"")
            .replace("severity = \"I\"", "severity = \"V\"")
            .replace("start_hours = 0", "start_hours = -3");
        let problems = parse(&catalog(), "t.toml", &text).expect_err("refused");
        let lines: Vec<u32> = problems.list.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![10, 11, 13], "{:#?}", problems.list);
        assert!(problems.list[0].message.contains("unknown scenario"));
    }

    #[test]
    fn unknown_fields_and_bad_places_are_refused() {
        let text = MINIMAL.replace("place = \"tangshan\"", "place = \"atlantis\"");
        let problems = parse(&catalog(), "t.toml", &text).expect_err("refused");
        assert!(problems.list[0].message.contains("unknown place"));
        let text = format!("{MINIMAL}\nextra = 1\n");
        let problems = parse(&catalog(), "t.toml", &text).expect_err("refused");
        assert!(problems.list[0].message.contains("malformed TOML"), "{:?}", problems.list);
    }
}
