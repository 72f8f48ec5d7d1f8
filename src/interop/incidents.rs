//! From a CAP alert to incidents: each `<info>` is read through the catalog's `AlertMapping`
//! (scenario from the event, response level from a warning colour or the CAP severity, place
//! and area from polygons, circles, GB/T 2260 geocodes or the area's name, population from a
//! parameter) and then a Match is computed for every incident that has a scenario and a place.
//!
//! **One incident per info, except translations.** Infos of one alert that resolve to the same
//! place, area and level and do not map to two different scenarios are one incident (CAP
//! carries one info per language; CAP-AU repeats an info per geocode scheme): counting them
//! twice would double the demand. The incident keeps every info index and language, and the
//! first mapped info's event. Pure: no I/O, no clock.

use crate::catalog::Catalog;
use crate::domain::{
    normalise, normalise_event, EventRule, Id, LatLon, PlaceIdx, Provenance, Severity,
};
use crate::matching::{
    self, Filters, HeldStock, MatchQuery, MatchResult, Weights, AFFECTED_AREA_KM2_MAX,
    AFFECTED_POPULATION_MAX, OPTIONS_PER_REQUIREMENT_DEFAULT,
};

use super::cap::{Alert, Area, CapSeverity, Certainty, Info, Urgency};
use super::geo;

/// Why an incident has (or lacks) a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    Mapped { scenario: Id, origin: String, provenance: Provenance },
    Unmapped { reason: String },
}

/// One incident of an alert, with how each of its inputs was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// The infos it stands for (several when they are translations of one another).
    pub info_indexes: Vec<usize>,
    pub languages: Vec<String>,
    pub event: String,
    pub mapping: Mapping,
    pub severity: Severity,
    /// e.g. `warning colour 红色 in parameter 预警级别` or `CAP severity Severe`.
    pub severity_basis: String,
    pub urgency: Urgency,
    pub cap_severity: CapSeverity,
    pub certainty: Certainty,
    pub location: Option<LatLon>,
    pub affected_area_km2: Option<f64>,
    /// Each area part and how it was read, or why there is no location.
    pub location_basis: String,
    /// The place a geocode or area name resolved to (the first, when several).
    pub place: Option<PlaceIdx>,
    pub affected_population: Option<f64>,
    pub population_basis: String,
    /// Not a live alert (Exercise, Test, System, Draft): never holds stock.
    pub exercise: bool,
    pub expires_ms: Option<i64>,
}

impl Incident {
    pub fn scenario_id(&self) -> Option<&str> {
        match &self.mapping {
            Mapping::Mapped { scenario, .. } => Some(scenario.as_str()),
            Mapping::Unmapped { .. } => None,
        }
    }

    /// Whether the incident can be matched: it has a scenario and a place.
    pub fn matchable(&self) -> bool {
        self.scenario_id().is_some() && self.location.is_some()
    }
}

/// The incidents of an alert, translations merged (see the module doc).
pub fn incidents(catalog: &Catalog, alert: &Alert) -> Vec<Incident> {
    let mut out: Vec<Incident> = Vec::new();
    for (index, info) in alert.infos.iter().enumerate() {
        let incident = read_info(catalog, alert, index, info);
        let same = out.iter_mut().find(|other| {
            other.location == incident.location
                && other.affected_area_km2 == incident.affected_area_km2
                && other.severity == incident.severity
                && match (other.scenario_id(), incident.scenario_id()) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        });
        match same {
            Some(other) => {
                other.info_indexes.push(index);
                if !other.languages.contains(&info.language) {
                    other.languages.push(info.language.clone());
                }
                if other.scenario_id().is_none() && incident.scenario_id().is_some() {
                    other.mapping = incident.mapping;
                    other.event = incident.event;
                }
            }
            None => out.push(incident),
        }
    }
    out
}

fn read_info(catalog: &Catalog, alert: &Alert, index: usize, info: &Info) -> Incident {
    let (severity, severity_basis) = severity(catalog, info);
    let located = locate(catalog, index, &info.areas);
    let (affected_population, population_basis) = population(catalog, info);
    Incident {
        info_indexes: vec![index],
        languages: vec![info.language.clone()],
        event: info.event.clone(),
        mapping: scenario(catalog, info),
        severity,
        severity_basis,
        urgency: info.urgency,
        cap_severity: info.severity,
        certainty: info.certainty,
        location: located.location,
        affected_area_km2: located.area_km2,
        location_basis: located.basis,
        place: located.place,
        affected_population,
        population_basis,
        exercise: !alert.is_live(),
        expires_ms: info.expires_ms,
    }
}

fn scenario(catalog: &Catalog, info: &Info) -> Mapping {
    let mapping = &catalog.alert_mapping;
    let event = normalise_event(&info.event, &mapping.colours);
    let codes: Vec<(String, String)> =
        info.event_codes.iter().map(|c| (normalise(&c.name), normalise(&c.value))).collect();
    let parameters: Vec<(String, String)> =
        info.parameters.iter().map(|p| (normalise(&p.name), normalise(&p.value))).collect();
    let categories: Vec<&str> = info.categories.iter().map(|c| c.as_str()).collect();
    let rule = mapping
        .events
        .iter()
        .find(|rule| rule_matches(rule, &event, &codes, &parameters, &categories));
    match rule {
        Some(rule) => Mapping::Mapped {
            scenario: rule.scenario.clone(),
            origin: rule.origin.clone(),
            provenance: rule.provenance.clone(),
        },
        None => Mapping::Unmapped {
            reason: format!(
                "no rule of cap-events.toml maps event {:?} (categories {})",
                info.event,
                categories.join(", ")
            ),
        },
    }
}

fn rule_matches(
    rule: &EventRule,
    event: &str,
    codes: &[(String, String)],
    parameters: &[(String, String)],
    categories: &[&str],
) -> bool {
    let category_ok = rule.categories.is_empty()
        || rule.categories.iter().any(|c| categories.contains(&c.as_str()));
    let parameters_ok = rule.parameters.iter().all(|wanted| parameters.contains(wanted));
    let named = rule.names.is_empty() && rule.event_codes.is_empty()
        || rule.names.iter().any(|name| name == event)
        || rule.event_codes.iter().any(|code| codes.contains(code));
    category_ok && parameters_ok && named
}

/// The level: a Chinese warning colour in a listed parameter, else in the headline as
/// `<colour>预警`, else the CAP severity through the table.
fn severity(catalog: &Catalog, info: &Info) -> (Severity, String) {
    let mapping = &catalog.alert_mapping;
    for parameter in &info.parameters {
        if !mapping.colour_parameters.contains(&normalise(&parameter.name)) {
            continue;
        }
        let value = normalise(&parameter.value);
        for rule in &mapping.colours {
            if let Some(word) = rule.words.iter().find(|w| value.contains(w.as_str())) {
                return (
                    rule.severity,
                    format!("warning colour {word} in parameter {}", parameter.name),
                );
            }
        }
    }
    if let Some(headline) = &info.headline {
        let headline = normalise(headline);
        let found = mapping
            .colours
            .iter()
            .flat_map(|rule| rule.words.iter().map(move |w| (rule.severity, w)))
            .filter_map(|(severity, word)| {
                headline.find(&format!("{word}预警")).map(|at| (at, severity, word))
            })
            .min_by_key(|(at, _, _)| *at);
        if let Some((_, severity, word)) = found {
            return (severity, format!("warning colour {word} in the headline"));
        }
    }
    let level = mapping.severity_for_cap(info.severity.as_str()).unwrap_or(Severity::IV);
    (level, format!("CAP severity {} ({})", info.severity.as_str(), "cap-events.toml [severity]"))
}

struct Located {
    location: Option<LatLon>,
    area_km2: Option<f64>,
    basis: String,
    place: Option<PlaceIdx>,
}

/// Polygons and circles where an area has them; otherwise its GB/T 2260 geocodes; otherwise
/// its name. The parts of all areas are combined: the centre weighted by area, the areas added
/// (an overlap is counted twice: an upper bound, said in the basis).
fn locate(catalog: &Catalog, info_index: usize, areas: &[Area]) -> Located {
    let mut parts: Vec<(LatLon, Option<f64>)> = Vec::new();
    let mut basis: Vec<String> = Vec::new();
    let mut place = None;
    for (area_index, area) in areas.iter().enumerate() {
        let at = format!("info[{info_index}].area[{area_index}]");
        if !area.polygons.is_empty() || !area.circles.is_empty() {
            for polygon in &area.polygons {
                let centre = geo::polygon_centroid(polygon);
                let km2 = geo::polygon_area_km2(polygon);
                basis.push(format!(
                    "{at} polygon: centroid {:.4},{:.4}, {km2:.1} km²",
                    centre.latitude(),
                    centre.longitude()
                ));
                parts.push((centre, Some(km2)));
            }
            for circle in &area.circles {
                let km2 = geo::circle_area_km2(circle);
                basis.push(format!(
                    "{at} circle: centre {:.4},{:.4}, radius {} km, π r² = {km2:.1} km²",
                    circle.centre.latitude(),
                    circle.centre.longitude(),
                    circle.radius_km
                ));
                parts.push((circle.centre, Some(km2)));
            }
            continue;
        }
        let mut resolved_any = false;
        for geocode in &area.geocodes {
            if !catalog.geocode_schemes.contains(&normalise(&geocode.name)) {
                continue;
            }
            match resolve_code(catalog, &geocode.value) {
                Some((idx, exact)) => {
                    let found = catalog.place(idx);
                    let km2 = if exact { found.area.as_ref().map(|(km2, _)| *km2) } else { None };
                    basis.push(match (exact, km2) {
                        (true, Some(km2)) => format!(
                            "{at} geocode {} → place {} ({km2} km², grade {})",
                            geocode.value,
                            found.id,
                            found.area.as_ref().map_or("", |(_, p)| p.grade.key())
                        ),
                        (true, None) => format!(
                            "{at} geocode {} → place {} (its area is not in places.toml)",
                            geocode.value, found.id
                        ),
                        (false, _) => format!(
                            "{at} geocode {} → place {} through its city or province (area unknown)",
                            geocode.value, found.id
                        ),
                    });
                    parts.push((found.location, km2));
                    place = place.or(Some(idx));
                    resolved_any = true;
                }
                None => basis.push(format!(
                    "{at} geocode {} ({}) is no place of the catalog",
                    geocode.value, geocode.name
                )),
            }
        }
        if resolved_any {
            continue;
        }
        let named = places_named(catalog, &area.description);
        for idx in &named {
            let found = catalog.place(*idx);
            let km2 = found.area.as_ref().map(|(km2, _)| *km2);
            basis.push(format!(
                "{at} areaDesc {:?} → place {}{}",
                area.description,
                found.id,
                km2.map_or(" (area unknown)".to_owned(), |k| format!(" ({k} km²)"))
            ));
            parts.push((found.location, km2));
            place = place.or(Some(*idx));
        }
        if named.is_empty() {
            basis.push(format!(
                "{at} has no polygon or circle, no GB/T 2260 geocode of a catalog place, and its name {:?} is no place",
                area.description
            ));
        }
    }
    if areas.is_empty() {
        basis.push(format!("info[{info_index}] has no area"));
    }
    let weighted: Vec<(LatLon, f64)> = parts.iter().map(|(p, a)| (*p, a.unwrap_or(0.0))).collect();
    let known: Vec<f64> = parts.iter().filter_map(|(_, a)| *a).collect();
    let area_km2 = (!known.is_empty()).then(|| known.iter().sum::<f64>());
    if parts.len() > 1 {
        basis.push("areas added (overlaps counted twice), centre weighted by area".into());
    }
    Located { location: geo::weighted_centre(&weighted), area_km2, basis: basis.join("; "), place }
}

/// A GB/T 2260 code (6 digits, or the first 6 of a 9- or 12-digit township code) to a place:
/// the code itself, else its city (`xxxx00`), else its province (`xx0000`). `exact` says
/// whether the code itself matched.
fn resolve_code(catalog: &Catalog, value: &str) -> Option<(PlaceIdx, bool)> {
    let value = value.trim();
    if !matches!(value.len(), 6 | 9 | 12) || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = &value[..6];
    if let Some(idx) = catalog.place_by_admin_code(code) {
        return Some((idx, true));
    }
    let city = format!("{}00", &code[..4]);
    let province = format!("{}0000", &code[..2]);
    [city, province]
        .iter()
        .filter(|parent| parent.as_str() != code)
        .find_map(|parent| catalog.place_by_admin_code(parent))
        .map(|idx| (idx, false))
}

/// Places an `areaDesc` names: split at list separators, each part compared with the places'
/// Chinese names (with or without 市/区/县/新区) and English names.
fn places_named(catalog: &Catalog, description: &str) -> Vec<PlaceIdx> {
    let mut out = Vec::new();
    let separators = [',', '，', '、', ';', '；', '/'];
    for part in description.split(&separators[..]) {
        let part = normalise(part);
        if part.is_empty() {
            continue;
        }
        let bare = ["新区", "市", "区", "县"]
            .iter()
            .find_map(|suffix| part.strip_suffix(suffix).filter(|s| !s.is_empty()))
            .unwrap_or(&part);
        let found = catalog.places.iter().position(|place| {
            let zh = normalise(&place.name_zh);
            zh == part || zh == bare || normalise(&place.name_en) == part
        });
        if let Some(idx) = found {
            let idx = PlaceIdx(idx as u32);
            if !out.contains(&idx) {
                out.push(idx);
            }
        }
    }
    out
}

/// The affected population from the first listed parameter whose value reads as a number of
/// people ("120000", "1,200,000人", "12万", "1.2亿").
fn population(catalog: &Catalog, info: &Info) -> (Option<f64>, String) {
    let names = &catalog.alert_mapping.population_parameters;
    for parameter in &info.parameters {
        if !names.contains(&normalise(&parameter.name)) {
            continue;
        }
        if let Some(people) = parse_people(&parameter.value) {
            return (Some(people), format!("parameter {} = {}", parameter.name, parameter.value));
        }
    }
    (None, "not stated in the alert (0 used in the quantity rule)".into())
}

fn parse_people(text: &str) -> Option<f64> {
    let mut text: String =
        text.chars().filter(|c| !c.is_whitespace() && *c != ',' && *c != '，').collect();
    text = text.trim_end_matches('人').to_owned();
    let (number, factor) = if let Some(n) = text.strip_suffix('万') {
        (n, 1e4)
    } else if let Some(n) = text.strip_suffix('亿') {
        (n, 1e8)
    } else {
        (text.as_str(), 1.0)
    };
    let people = number.parse::<f64>().ok()? * factor;
    (people.is_finite() && (0.0..=AFFECTED_POPULATION_MAX).contains(&people))
        .then(|| people.round())
}

/// The Match of a matchable incident on the given held stock, with default options, weights
/// and no constraints; `None` when it has no scenario or no place.
pub fn match_incident(
    catalog: &Catalog,
    held: &dyn HeldStock,
    incident: &Incident,
) -> Option<MatchResult> {
    let scenario = catalog.scenario_by_id(incident.scenario_id()?)?;
    let query = MatchQuery {
        scenario,
        severity: incident.severity,
        location: incident.location?,
        affected_population: incident.affected_population.unwrap_or(0.0),
        affected_area_km2: incident.affected_area_km2.unwrap_or(0.0).min(AFFECTED_AREA_KM2_MAX),
        options_per_requirement: OPTIONS_PER_REQUIREMENT_DEFAULT,
        max_eta_hours: None,
        filters: Filters::default(),
        weights: Weights::default(),
        prefer_kinds: Vec::new(),
    };
    Some(matching::match_incident(catalog, held, &query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_read_in_chinese_and_plain_forms() {
        assert_eq!(parse_people("120000"), Some(120000.0));
        assert_eq!(parse_people("1,200,000人"), Some(1_200_000.0));
        assert_eq!(parse_people("12万"), Some(120_000.0));
        assert_eq!(parse_people("1.2亿"), Some(120_000_000.0));
        assert_eq!(parse_people("many"), None);
        assert_eq!(parse_people("-5"), None);
    }
}
