//! Loads `scenarios/cap-events.toml` (how CAP alerts and EDXL-RM resource names map onto the
//! catalog) into a validated `AlertMapping`, with every problem located by file, line and
//! column like the other files. Its serde structs live here, private, because only this file
//! has this format.

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;

use super::fields::{keyword, provenance};
use super::problems::{Problems, SourceText};
use super::SourceFile;
use crate::domain::{
    normalise, normalise_event, AlertMapping, CategoryIdx, ColourRule, EventRule, Id, Provenance,
    ResourceRule, Severity, CAP_SEVERITIES,
};

pub const ALERT_MAPPING_FILE: &str = "cap-events.toml";
/// The most event or resource rules the file may hold.
pub const MAPPING_RULES_MAX: usize = 2_000;
/// The most names (or words, or parameters) one list in the file may hold.
pub const MAPPING_NAMES_MAX: usize = 200;

/// The CAP `<category>` spellings a rule may require.
const CAP_CATEGORIES: [&str; 12] = [
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    severity: SeverityEntry,
    colours: ColoursEntry,
    population: ParametersEntry,
    geocodes: GeocodesEntry,
    #[serde(default)]
    event: Vec<EventEntry>,
    #[serde(default)]
    resource: Vec<ResourceEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeverityEntry {
    #[serde(rename = "Extreme")]
    extreme: Spanned<String>,
    #[serde(rename = "Severe")]
    severe: Spanned<String>,
    #[serde(rename = "Moderate")]
    moderate: Spanned<String>,
    #[serde(rename = "Minor")]
    minor: Spanned<String>,
    #[serde(rename = "Unknown")]
    unknown: Spanned<String>,
    source: Spanned<String>,
    grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColoursEntry {
    parameters: Vec<String>,
    table: Vec<ColourEntry>,
    source: Spanned<String>,
    grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColourEntry {
    words: Vec<String>,
    severity: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParametersEntry {
    parameters: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GeocodesEntry {
    schemes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    event_codes: Vec<Spanned<String>>,
    #[serde(default)]
    categories: Vec<Spanned<String>>,
    #[serde(default)]
    parameters: HashMap<String, String>,
    scenario: Spanned<String>,
    source: Spanned<String>,
    grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceEntry {
    names: Spanned<Vec<String>>,
    category: Spanned<String>,
    source: Spanned<String>,
    grade: Spanned<String>,
}

/// The mapping and the geocode schemes that carry GB/T 2260 codes.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedMapping {
    pub mapping: AlertMapping,
    pub geocode_schemes: Vec<String>,
}

/// Loads the file; `None` (with problems) when it is malformed. Scenario and category ids must
/// exist in the catalog being loaded.
pub(super) fn load(
    file: &SourceFile,
    scenario_ids: &[&str],
    category_ids: &HashMap<&str, CategoryIdx>,
    problems: &mut Problems,
) -> Option<LoadedMapping> {
    let source = SourceText::new(&file.name, &file.text);
    let parsed = super::scenarios::parse_file::<MappingFile>(&source, problems)?;
    let before = problems.total();
    let level = |problems: &mut Problems, value: &Spanned<String>| {
        keyword(
            &source,
            problems,
            "severity",
            value,
            Severity::parse,
            &Severity::ALL,
            Severity::roman,
        )
    };
    let s = &parsed.severity;
    let levels =
        [&s.extreme, &s.severe, &s.moderate, &s.minor, &s.unknown].map(|v| level(problems, v));
    let severity_provenance = provenance(&source, problems, &s.source, &s.grade);

    let mut colours = Vec::new();
    for entry in &parsed.colours.table {
        let severity = level(problems, &entry.severity);
        let words: Vec<String> = entry.words.iter().map(|w| normalise(w)).collect();
        if words.is_empty() || words.iter().any(String::is_empty) {
            source.report(problems, entry.severity.span(), "a colour needs non-empty words");
        }
        if let Some(severity) = severity {
            colours.push(ColourRule { words, severity });
        }
    }
    let colour_provenance =
        provenance(&source, problems, &parsed.colours.source, &parsed.colours.grade);
    for list in
        [&parsed.colours.parameters, &parsed.population.parameters, &parsed.geocodes.schemes]
    {
        if list.len() > MAPPING_NAMES_MAX {
            problems.push(source.name, 0, None, format!("a list longer than {MAPPING_NAMES_MAX}"));
        }
    }
    if parsed.event.len() + parsed.resource.len() > MAPPING_RULES_MAX {
        problems.push(source.name, 0, None, format!("more than {MAPPING_RULES_MAX} rules"));
    }

    let mut events = Vec::new();
    for entry in parsed.event.iter().take(MAPPING_RULES_MAX) {
        if let Some(rule) = event_rule(&source, entry, scenario_ids, &colours, problems) {
            events.push(rule);
        }
    }
    let mut resources = Vec::new();
    for entry in parsed.resource.iter().take(MAPPING_RULES_MAX) {
        let (line, _) = source.position(entry.category.span().start);
        let category = category_ids.get(entry.category.get_ref().as_str()).copied();
        if category.is_none() {
            source.report(
                problems,
                entry.category.span(),
                format!("unknown category {:?}", entry.category.get_ref()),
            );
        }
        let names: Vec<String> = entry.names.get_ref().iter().map(|n| normalise(n)).collect();
        if names.is_empty() || names.iter().any(String::is_empty) {
            source.report(problems, entry.names.span(), "a resource rule needs non-empty names");
        }
        let provenance = provenance(&source, problems, &entry.source, &entry.grade);
        if let (Some(category), Some(provenance)) = (category, provenance) {
            resources.push(ResourceRule {
                names,
                category,
                origin: format!("{}:{line}", file.base_name()),
                provenance,
            });
        }
    }
    if problems.total() != before {
        return None;
    }
    let [Some(a), Some(b), Some(c), Some(d), Some(e)] = levels else { return None };
    debug_assert_eq!(CAP_SEVERITIES.len(), 5);
    Some(LoadedMapping {
        mapping: AlertMapping {
            severity_by_cap: [a, b, c, d, e],
            severity_provenance: severity_provenance?,
            colour_parameters: parsed.colours.parameters.iter().map(|p| normalise(p)).collect(),
            colours,
            colour_provenance: colour_provenance?,
            population_parameters: parsed
                .population
                .parameters
                .iter()
                .map(|p| normalise(p))
                .collect(),
            events,
            resources,
        },
        geocode_schemes: parsed.geocodes.schemes.iter().map(|p| normalise(p)).collect(),
    })
}

fn event_rule(
    source: &SourceText<'_>,
    entry: &EventEntry,
    scenario_ids: &[&str],
    colours: &[ColourRule],
    problems: &mut Problems,
) -> Option<EventRule> {
    let before = problems.total();
    let (line, _) = source.position(entry.scenario.span().start);
    if !scenario_ids.contains(&entry.scenario.get_ref().as_str()) {
        source.report(
            problems,
            entry.scenario.span(),
            format!("unknown scenario {:?}", entry.scenario.get_ref()),
        );
    }
    let names: Vec<String> = entry.names.iter().map(|n| normalise_event(n, colours)).collect();
    if names.iter().any(String::is_empty) {
        source.report(problems, entry.scenario.span(), "an event name is empty");
    }
    let mut event_codes = Vec::new();
    for code in &entry.event_codes {
        match code.get_ref().split_once('=') {
            Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
                event_codes.push((normalise(name), normalise(value)));
            }
            _ => source.report(
                problems,
                code.span(),
                format!("event code {:?} is not valueName=value", code.get_ref()),
            ),
        }
    }
    if names.is_empty() && event_codes.is_empty() && entry.categories.is_empty() {
        source.report(
            problems,
            entry.scenario.span(),
            "a rule needs names, event_codes or categories",
        );
    }
    for category in &entry.categories {
        if !CAP_CATEGORIES.contains(&category.get_ref().as_str()) {
            source.report(
                problems,
                category.span(),
                format!(
                    "unknown CAP category {:?}; expected one of {}",
                    category.get_ref(),
                    CAP_CATEGORIES.join(", ")
                ),
            );
        }
    }
    let mut parameters: Vec<(String, String)> =
        entry.parameters.iter().map(|(k, v)| (normalise(k), normalise(v))).collect();
    parameters.sort();
    let provenance: Option<Provenance> = provenance(source, problems, &entry.source, &entry.grade);
    if problems.total() != before {
        return None;
    }
    Some(EventRule {
        names,
        event_codes,
        categories: entry.categories.iter().map(|c| c.get_ref().clone()).collect(),
        parameters,
        scenario: Id::parse(entry.scenario.get_ref()).ok()?,
        origin: format!("{ALERT_MAPPING_FILE}:{line}"),
        provenance: provenance?,
    })
}
