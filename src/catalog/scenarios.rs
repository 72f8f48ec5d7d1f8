//! Turns the TOML files of `scenarios/` (taxonomy, places, one file per scenario) into validated
//! domain types, reporting every problem with its file, line and column.

use std::collections::HashMap;
use std::ops::Range;

use super::fields::{catalog_id, keyword, number, provenance, Lower};
use super::files::{
    CategoryEntry, CertificationEntry, FireShapeEntry, PlaceEntry, PlacesFile, PumpingEntry,
    RequirementEntry, ScenarioFile, SeverityFactorEntry, TaxonomyFile,
};
use super::problems::{Problems, SourceText};
use super::SourceFile;
use crate::domain::{
    Category, CategoryIdx, CertSet, Certification, ChainStage, FireShape, Grade, Id, LatLon,
    LevelTable, MiitClass, Place, PlaceIdx, PlaceKind, Priority, Provenance, Pumping, Rate,
    Requirement, Scenario, Substitute, Transport, ZoneTier, CERTIFICATIONS_MAX,
};
use toml::Spanned;

/// The largest scenario, taxonomy or places file accepted (bytes).
pub const SCENARIO_FILE_BYTES_MAX: usize = 1 << 20;
/// The most categories a taxonomy may define (ids are dense `u32` indexes; this keeps the
/// per-category indexes and tables small).
pub const CATEGORIES_MAX: usize = 10_000;
/// The most places `places.toml` may define.
pub const PLACES_MAX: usize = 10_000;
/// The most scenario files.
pub const SCENARIOS_MAX: usize = 1_000;
/// The most requirements one scenario may list in one stage.
pub const REQUIREMENTS_PER_STAGE_MAX: usize = 200;
/// The longest `needed_within_hours` accepted: 30 days.
pub const NEEDED_WITHIN_HOURS_MAX: f64 = 720.0;
/// The largest quantity any requirement may ask for.
pub const REQUIREMENT_QUANTITY_MAX: f64 = 1e7;
/// The largest severity factor accepted.
pub const SEVERITY_FACTOR_MAX: f64 = 1e3;
/// The largest rain excess accepted (mm): more than any recorded event's total rainfall.
pub const RAIN_EXCESS_MM_MAX: f64 = 2_000.0;
/// The most elongated fire shape accepted (length ÷ breadth); wind-driven fires reach about 8.
pub const FIRE_LENGTH_TO_BREADTH_MAX: f64 = 10.0;
/// The capability metric a pumping requirement's category must be rated in.
pub const PUMPING_METRIC: &str = "m3_per_h";

pub const TAXONOMY_FILE: &str = "taxonomy.toml";
pub const PLACES_FILE: &str = "places.toml";

/// What `scenarios/` holds once validated; entries with problems are left out.
#[derive(Debug, Default)]
pub(super) struct ScenarioData {
    pub certifications: Vec<Certification>,
    pub categories: Vec<Category>,
    pub places: Vec<Place>,
    pub scenarios: Vec<Scenario>,
    /// The taxonomy did not load, so nothing that refers to it was checked.
    pub taxonomy_failed: bool,
    /// `cap-events.toml`, when present and valid.
    pub alert_mapping: Option<super::alert_mapping::LoadedMapping>,
}

pub(super) fn load(files: &[SourceFile], problems: &mut Problems) -> ScenarioData {
    let mut data = ScenarioData::default();
    let find = |name: &str| files.iter().find(|file| file.base_name() == name);

    let before = problems.total();
    match find(TAXONOMY_FILE) {
        Some(file) => load_taxonomy(file, &mut data, problems),
        None => problems.push(TAXONOMY_FILE, 0, None, "taxonomy.toml is missing"),
    }
    // Everything else refers to the taxonomy: without it, checking the rest would bury the
    // one real problem under thousands of "unknown category" follow-ons.
    if data.categories.is_empty() && problems.total() > before {
        problems.push(
            "scenarios",
            0,
            None,
            "places, scenarios and the registry were not checked: taxonomy.toml did not load",
        );
        data.taxonomy_failed = true;
        return data;
    }
    match find(PLACES_FILE) {
        Some(file) => load_places(file, &mut data, problems),
        None => problems.push(PLACES_FILE, 0, None, "places.toml is missing"),
    }
    let category_ids: HashMap<&str, CategoryIdx> = data
        .categories
        .iter()
        .enumerate()
        .map(|(idx, category)| (category.id.as_str(), CategoryIdx(idx as u32)))
        .collect();
    let scenario_files = scenario_files(files, problems);
    let mut scenario_ids: HashMap<String, String> = HashMap::new();
    for file in scenario_files {
        let Some(scenario) = load_scenario(file, &data.categories, &category_ids, problems) else {
            continue;
        };
        if let Some(first) = scenario_ids.get(scenario.id.as_str()) {
            problems.push(
                &file.name,
                1,
                None,
                format!("duplicate scenario id {:?} (also in {first})", scenario.id.as_str()),
            );
            continue;
        }
        scenario_ids.insert(scenario.id.as_str().to_owned(), file.name.clone());
        data.scenarios.push(scenario);
    }
    data.scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(file) = find(super::alert_mapping::ALERT_MAPPING_FILE) {
        let scenario_ids: Vec<&str> = data.scenarios.iter().map(|s| s.id.as_str()).collect();
        data.alert_mapping =
            super::alert_mapping::load(file, &scenario_ids, &category_ids, problems);
    }
    data
}

/// The scenario files: every `*.toml` but the taxonomy, places and alert mapping, by name; at
/// least one, at most `SCENARIOS_MAX`.
fn scenario_files<'f>(files: &'f [SourceFile], problems: &mut Problems) -> Vec<&'f SourceFile> {
    let mut scenario_files: Vec<&SourceFile> = files
        .iter()
        .filter(|file| {
            let name = file.base_name();
            name.ends_with(".toml")
                && name != TAXONOMY_FILE
                && name != PLACES_FILE
                && name != super::alert_mapping::ALERT_MAPPING_FILE
        })
        .collect();
    scenario_files.sort_by(|a, b| a.name.cmp(&b.name));
    if scenario_files.is_empty() {
        problems.push(
            "scenarios",
            0,
            None,
            "no scenario file (*.toml besides taxonomy and places)",
        );
    }
    if scenario_files.len() > SCENARIOS_MAX {
        problems.push("scenarios", 0, None, format!("more than {SCENARIOS_MAX} scenario files"));
        scenario_files.truncate(SCENARIOS_MAX);
    }
    scenario_files
}

/// Parses a file into its serde struct; a syntax or type error is one located problem.
pub(super) fn parse_file<T: serde::de::DeserializeOwned>(
    source: &SourceText<'_>,
    problems: &mut Problems,
) -> Option<T> {
    if source.text.len() > SCENARIO_FILE_BYTES_MAX {
        problems.push(
            source.name,
            0,
            None,
            format!("file is larger than {SCENARIO_FILE_BYTES_MAX} bytes"),
        );
        return None;
    }
    match toml::from_str::<T>(source.text) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let message = format!("malformed TOML: {}", error.message().trim_end_matches('\n'));
            match error.span() {
                Some(span) => source.report(problems, span, message),
                None => problems.push(source.name, 0, None, message),
            }
            None
        }
    }
}

fn load_taxonomy(file: &SourceFile, data: &mut ScenarioData, problems: &mut Problems) {
    let source = SourceText::new(&file.name, &file.text);
    let Some(taxonomy) = parse_file::<TaxonomyFile>(&source, problems) else { return };

    let cert_ids = load_certifications(&source, &taxonomy.certification, data, problems);

    if taxonomy.category.len() > CATEGORIES_MAX {
        problems.push(source.name, 0, None, format!("more than {CATEGORIES_MAX} categories"));
    }
    // First pass: ids, so substitutes may refer forward.
    let mut category_ids: HashMap<String, CategoryIdx> = HashMap::new();
    let mut accepted: Vec<&CategoryEntry> = Vec::new();
    for entry in taxonomy.category.iter().take(CATEGORIES_MAX) {
        let Some(id) = catalog_id(&source, problems, &entry.id) else { continue };
        if category_ids.contains_key(id.as_str()) {
            source.report(
                problems,
                entry.id.span(),
                format!("duplicate category id {:?}", id.as_str()),
            );
            continue;
        }
        category_ids.insert(id.as_str().to_owned(), CategoryIdx(accepted.len() as u32));
        accepted.push(entry);
    }
    // Second pass: fields. A category with a bad field is still kept (with its id) so that
    // scenarios referring to it do not add follow-on "unknown category" noise; the load fails
    // anyway because a problem was reported.
    for entry in &accepted {
        let category = load_category(&source, entry, &cert_ids, &category_ids, problems);
        data.categories.push(category);
    }
    report_substitute_cycles(&source, &accepted, &data.categories, problems);
}

/// One category's fields (its id was checked in the first pass). A bad field is reported and
/// a placeholder kept in its place, so the category still exists for the scenarios that name
/// it; the load fails on the problem anyway.
fn load_category(
    source: &SourceText<'_>,
    entry: &CategoryEntry,
    cert_ids: &HashMap<String, usize>,
    category_ids: &HashMap<String, CategoryIdx>,
    problems: &mut Problems,
) -> Category {
    let id = Id::parse(entry.id.get_ref()).expect("checked in the first pass");
    let stage = keyword(
        source,
        problems,
        "stage",
        &entry.stage,
        ChainStage::parse,
        &ChainStage::ALL,
        ChainStage::key,
    );
    let miit_class = keyword(
        source,
        problems,
        "miit_class",
        &entry.miit_class,
        MiitClass::parse,
        &MiitClass::ALL,
        MiitClass::key,
    );
    let transport = keyword(
        source,
        problems,
        "transport",
        &entry.transport,
        Transport::parse,
        &Transport::ALL,
        Transport::key,
    );
    let capability = number(
        source,
        problems,
        "capability_per_unit",
        &entry.capability_per_unit,
        0.0..1e12,
        Lower::Excluded,
    );
    let provenance = provenance(source, problems, &entry.source, &entry.grade);
    let certifications = category_certifications(source, entry, cert_ids, problems);
    let substitutes = category_substitutes(source, entry, category_ids, problems);
    let stock_only = category_stock_only(source, entry, problems);
    check_category_texts(source, entry, problems);
    Category {
        id,
        name_zh: entry.name_zh.clone(),
        name_en: entry.name_en.clone(),
        aliases: entry.aliases.clone(),
        stage: stage.unwrap_or(ChainStage::EmergencyRescue),
        miit_class: miit_class.unwrap_or(MiitClass::Rescue),
        unit: entry.unit.clone(),
        capability_metric: entry.capability_metric.clone(),
        capability_per_unit: capability.unwrap_or(1.0),
        transport: transport.unwrap_or(Transport::Truck),
        tags: entry.tags.iter().map(|tag| tag.get_ref().clone()).collect(),
        certifications,
        substitutes,
        stock_only,
        provenance: provenance.unwrap_or(Provenance { source: String::new(), grade: Grade::Model }),
    }
}

/// A category's `stock_only` reason, which must say something.
fn category_stock_only(
    source: &SourceText<'_>,
    entry: &CategoryEntry,
    problems: &mut Problems,
) -> Option<String> {
    entry.stock_only.as_ref().and_then(|reason| {
        if reason.get_ref().trim().is_empty() {
            source.report(
                problems,
                reason.span(),
                "stock_only is empty: say why no scenario requires the category",
            );
            return None;
        }
        Some(reason.get_ref().clone())
    })
}

/// A category's names, unit and capability metric must not be empty (one problem for all).
fn check_category_texts(source: &SourceText<'_>, entry: &CategoryEntry, problems: &mut Problems) {
    for text in [&entry.name_zh, &entry.name_en, &entry.unit, &entry.capability_metric] {
        if text.trim().is_empty() {
            source.report(
                problems,
                entry.id.span(),
                "names, unit and capability_metric must not be empty",
            );
            break;
        }
    }
}

/// The certifications a category expects: each must be declared in the taxonomy.
fn category_certifications(
    source: &SourceText<'_>,
    entry: &CategoryEntry,
    cert_ids: &HashMap<String, usize>,
    problems: &mut Problems,
) -> CertSet {
    let mut certifications = CertSet::default();
    for cert in &entry.certifications {
        match cert_ids.get(cert.get_ref().as_str()) {
            Some(idx) => certifications.insert(*idx),
            None => source.report(
                problems,
                cert.span(),
                format!("unknown certification {:?}", cert.get_ref()),
            ),
        }
    }
    certifications
}

/// A category's substitutes: known categories other than itself, each at an efficiency in
/// (0, 1].
fn category_substitutes(
    source: &SourceText<'_>,
    entry: &CategoryEntry,
    category_ids: &HashMap<String, CategoryIdx>,
    problems: &mut Problems,
) -> Vec<Substitute> {
    let mut substitutes = Vec::new();
    for substitute in &entry.substitute {
        let target = category_ids.get(substitute.id.get_ref().as_str()).copied();
        if target.is_none() {
            source.report(
                problems,
                substitute.id.span(),
                format!("unknown substitute category {:?}", substitute.id.get_ref()),
            );
        }
        if substitute.id.get_ref() == entry.id.get_ref() {
            source.report(
                problems,
                substitute.id.span(),
                "a category cannot substitute for itself",
            );
            continue;
        }
        let efficiency = number(
            source,
            problems,
            "efficiency",
            &substitute.efficiency,
            0.0..1.0,
            Lower::Excluded,
        );
        if let (Some(category), Some(efficiency)) = (target, efficiency) {
            substitutes.push(Substitute { category, efficiency, note: substitute.note.clone() });
        }
    }
    substitutes
}

/// The taxonomy's certifications into `data`, refusing duplicates and those beyond
/// `CERTIFICATIONS_MAX`; returns id → index for the categories' references.
fn load_certifications(
    source: &SourceText<'_>,
    entries: &[CertificationEntry],
    data: &mut ScenarioData,
    problems: &mut Problems,
) -> HashMap<String, usize> {
    let mut cert_ids: HashMap<String, usize> = HashMap::new();
    for entry in entries {
        let Some(id) = catalog_id(source, problems, &entry.id) else { continue };
        if cert_ids.contains_key(id.as_str()) {
            source.report(
                problems,
                entry.id.span(),
                format!("duplicate certification id {:?}", id.as_str()),
            );
            continue;
        }
        if data.certifications.len() >= CERTIFICATIONS_MAX {
            source.report(
                problems,
                entry.id.span(),
                format!("more than {CERTIFICATIONS_MAX} certifications"),
            );
            break;
        }
        cert_ids.insert(id.as_str().to_owned(), data.certifications.len());
        data.certifications.push(Certification { id, name: entry.name.clone() });
    }
    cert_ids
}

/// Depth-first search for cycles in the substitute graph; each cycle is reported once, at the
/// substitute entry that closes it, with the whole path.
fn report_substitute_cycles(
    source: &SourceText<'_>,
    entries: &[&CategoryEntry],
    categories: &[Category],
    problems: &mut Problems,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; categories.len()];
    for root in 0..categories.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // Explicit stack of (category, next substitute to visit): no recursion on data.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(substitute) = categories[node].substitutes.get(*next) {
                *next += 1;
                let target = substitute.category.0 as usize;
                match marks[target] {
                    Mark::New => {
                        marks[target] = Mark::OnPath;
                        stack.push((target, 0));
                    }
                    Mark::OnPath => {
                        let start = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let mut path: Vec<&str> = stack[start..]
                            .iter()
                            .map(|(n, _)| categories[*n].id.as_str())
                            .collect();
                        path.push(categories[target].id.as_str());
                        let span = entries[node]
                            .substitute
                            .iter()
                            .find(|entry| entry.id.get_ref() == categories[target].id.as_str())
                            .map_or(entries[node].id.span(), |entry| entry.id.span());
                        source.report(
                            problems,
                            span,
                            format!("substitute cycle: {}", path.join(" -> ")),
                        );
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
            }
        }
    }
}

fn load_places(file: &SourceFile, data: &mut ScenarioData, problems: &mut Problems) {
    let source = SourceText::new(&file.name, &file.text);
    let Some(places) = parse_file::<PlacesFile>(&source, problems) else { return };
    if places.place.len() > PLACES_MAX {
        problems.push(source.name, 0, None, format!("more than {PLACES_MAX} places"));
    }
    let known_tags: std::collections::HashSet<&str> = data
        .categories
        .iter()
        .flat_map(|category| category.tags.iter().map(String::as_str))
        .collect();
    let mut place_ids: HashMap<String, PlaceIdx> = HashMap::new();
    let mut admin_codes: HashMap<String, String> = HashMap::new();
    let mut accepted: Vec<&PlaceEntry> = Vec::new();
    for entry in places.place.iter().take(PLACES_MAX) {
        let Some(id) = catalog_id(&source, problems, &entry.id) else { continue };
        if place_ids.contains_key(id.as_str()) {
            source.report(
                problems,
                entry.id.span(),
                format!("duplicate place id {:?}", id.as_str()),
            );
            continue;
        }
        place_ids.insert(id.as_str().to_owned(), PlaceIdx(accepted.len() as u32));
        accepted.push(entry);
    }
    let known = KnownIds { places: &place_ids, tags: &known_tags };
    for entry in accepted {
        if let Some(place) = load_place(&source, entry, &known, &mut admin_codes, problems) {
            data.places.push(place);
        }
    }
    // Places with problems were skipped above, so indexes taken before may be stale: if any
    // was skipped the load fails anyway; keep the data consistent by dropping hosts that no
    // longer point at the same id.
    if data.places.len() != place_ids.len() {
        for place in &mut data.places {
            place.host = None;
        }
    }
}

/// The ids and tags a place entry may refer to.
struct KnownIds<'a> {
    places: &'a HashMap<String, PlaceIdx>,
    tags: &'a std::collections::HashSet<&'a str>,
}

/// One place's fields (its id was checked already); None when one did not read (reported).
fn load_place(
    source: &SourceText<'_>,
    entry: &PlaceEntry,
    known: &KnownIds<'_>,
    admin_codes: &mut HashMap<String, String>,
    problems: &mut Problems,
) -> Option<Place> {
    let id = Id::parse(entry.id.get_ref()).expect("checked above");
    let kind = keyword(
        source,
        problems,
        "kind",
        &entry.kind,
        PlaceKind::parse,
        &PlaceKind::ALL,
        PlaceKind::key,
    );
    let zone = keyword(
        source,
        problems,
        "zone",
        &entry.zone,
        ZoneTier::parse,
        &ZoneTier::ALL,
        ZoneTier::key,
    );
    let latitude =
        number(source, problems, "latitude", &entry.latitude, -90.0..90.0, Lower::Included);
    let longitude =
        number(source, problems, "longitude", &entry.longitude, -180.0..180.0, Lower::Included);
    let weight = number(
        source,
        problems,
        "supplier_weight",
        &entry.supplier_weight,
        0.0..1e6,
        Lower::Included,
    );
    let provenance = provenance(source, problems, &entry.source, &entry.grade);
    let host = place_host(source, entry, kind, known.places, problems);
    check_specialities(source, entry, known.tags, problems);
    let location = latitude.zip(longitude).and_then(|(lat, lon)| LatLon::new(lat, lon).ok());
    let admin_code = admin_code(source, problems, entry, admin_codes);
    let area = entry.area.as_ref().and_then(|area| {
        let inner = area.get_ref();
        let km2 = number(source, problems, "area.km2", &inner.km2, 0.0..1e7, Lower::Excluded);
        let area_provenance =
            super::fields::provenance(source, problems, &inner.source, &inner.grade);
        km2.zip(area_provenance)
    });
    let (Some(kind), Some(zone), Some(location), Some(provenance)) =
        (kind, zone, location, provenance)
    else {
        return None;
    };
    Some(Place {
        id,
        name_zh: entry.name_zh.clone(),
        name_en: entry.name_en.clone(),
        kind,
        zone,
        location,
        host,
        specialities: entry.specialities.iter().map(|s| s.get_ref().clone()).collect(),
        supplier_weight: weight.unwrap_or(0.0),
        provenance,
        admin_code,
        area,
    })
}

/// A place's host: a demonstration base names the city or park it belongs to; nothing else
/// has one.
fn place_host(
    source: &SourceText<'_>,
    entry: &PlaceEntry,
    kind: Option<PlaceKind>,
    place_ids: &HashMap<String, PlaceIdx>,
    problems: &mut Problems,
) -> Option<PlaceIdx> {
    match (&entry.host, kind) {
        (Some(host), Some(PlaceKind::DemonstrationBase)) => {
            let found = place_ids.get(host.get_ref().as_str()).copied();
            if found.is_none() {
                source.report(
                    problems,
                    host.span(),
                    format!("unknown host place {:?}", host.get_ref()),
                );
            }
            found
        }
        (Some(host), Some(_)) => {
            source.report(problems, host.span(), "only a demonstration_base has a host");
            None
        }
        (None, Some(PlaceKind::DemonstrationBase)) => {
            source.report(
                problems,
                entry.kind.span(),
                "a demonstration_base needs a host (the city or park it belongs to)",
            );
            None
        }
        _ => None,
    }
}

/// Every speciality of a place must be some category's tag.
fn check_specialities(
    source: &SourceText<'_>,
    entry: &PlaceEntry,
    known_tags: &std::collections::HashSet<&str>,
    problems: &mut Problems,
) {
    for speciality in &entry.specialities {
        if !known_tags.contains(speciality.get_ref().as_str()) {
            source.report(
                problems,
                speciality.span(),
                format!("speciality {:?} is no category's tag", speciality.get_ref()),
            );
        }
    }
}

/// A GB/T 2260 code: six digits, the first not 0, used by one place only.
fn admin_code(
    source: &SourceText<'_>,
    problems: &mut Problems,
    entry: &PlaceEntry,
    seen: &mut HashMap<String, String>,
) -> Option<String> {
    let code = entry.admin_code.as_ref()?;
    let text = code.get_ref();
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) || text.starts_with('0') {
        source.report(
            problems,
            code.span(),
            format!("admin_code {text:?} is not a six-digit GB/T 2260 code"),
        );
        return None;
    }
    if let Some(first) = seen.get(text) {
        source.report(
            problems,
            code.span(),
            format!("admin_code {text} is also the code of place {first:?}"),
        );
        return None;
    }
    seen.insert(text.clone(), entry.id.get_ref().clone());
    Some(text.clone())
}

fn load_scenario(
    file: &SourceFile,
    categories: &[Category],
    category_ids: &HashMap<&str, CategoryIdx>,
    problems: &mut Problems,
) -> Option<Scenario> {
    let source = SourceText::new(&file.name, &file.text);
    let scenario = parse_file::<ScenarioFile>(&source, problems)?;
    let before = problems.total();
    let id = catalog_id(&source, problems, &scenario.id);
    let stem = file.base_name().trim_end_matches(".toml");
    if let Some(id) = &id {
        if id.as_str() != stem {
            source.report(
                problems,
                scenario.id.span(),
                format!("scenario id {:?} differs from the file name {stem:?}", id.as_str()),
            );
        }
    }
    let severity = level_table(
        &source,
        problems,
        "severity_factor",
        &scenario.severity_factor,
        0.0..SEVERITY_FACTOR_MAX,
        Lower::Excluded,
    );
    let displaced_share = scenario.displaced_share.as_ref().and_then(|table| {
        level_table(&source, problems, "displaced_share", table, 0.0..1.0, Lower::Included)
    });
    let rain_excess_mm = scenario.rain_excess_mm.as_ref().and_then(|table| {
        level_table(
            &source,
            problems,
            "rain_excess_mm",
            table,
            0.0..RAIN_EXCESS_MM_MAX,
            Lower::Included,
        )
    });
    let fire_shape =
        scenario.fire_shape.as_ref().and_then(|shape| load_fire_shape(&source, shape, problems));
    let tables = ScenarioTables {
        displaced_share: scenario.displaced_share.is_some(),
        rain_excess_mm: scenario.rain_excess_mm.is_some(),
        fire_shape: scenario.fire_shape.is_some(),
    };

    let mut requirements = Vec::new();
    let stages = [
        (ChainStage::MonitoringWarning, &scenario.monitoring_warning),
        (ChainStage::SafetyProtection, &scenario.safety_protection),
        (ChainStage::EmergencyRescue, &scenario.emergency_rescue),
    ];
    for (stage, entries) in stages {
        let loaded = StageEntries { stage, entries, categories, category_ids, tables: &tables };
        requirements.extend(load_stage_requirements(&source, &loaded, problems));
    }
    if problems.total() != before {
        return None;
    }
    let severity = severity?;
    Some(Scenario {
        id: id?,
        name_zh: scenario.name_zh,
        name_en: scenario.name_en,
        summary: scenario.summary,
        grading: scenario.grading,
        severity_factor: severity.values,
        severity_provenance: severity.provenance,
        displaced_share,
        rain_excess_mm,
        fire_shape,
        requirements,
    })
}

/// A scenario's `[fire_shape]`: the fire's length-to-breadth ratio, with its provenance.
fn load_fire_shape(
    source: &SourceText<'_>,
    shape: &Spanned<FireShapeEntry>,
    problems: &mut Problems,
) -> Option<FireShape> {
    let inner = shape.get_ref();
    let ratio = number(
        source,
        problems,
        "fire_shape.length_to_breadth",
        &inner.length_to_breadth,
        1.0..FIRE_LENGTH_TO_BREADTH_MAX,
        Lower::Included,
    );
    let provenance = provenance(source, problems, &inner.source, &inner.grade);
    Some(FireShape { length_to_breadth: ratio?, provenance: provenance? })
}

/// One chain stage's requirement entries and what reading them needs.
struct StageEntries<'a> {
    stage: ChainStage,
    entries: &'a [RequirementEntry],
    categories: &'a [Category],
    category_ids: &'a HashMap<&'a str, CategoryIdx>,
    tables: &'a ScenarioTables,
}

/// The requirements of one chain stage: at least one, at most `REQUIREMENTS_PER_STAGE_MAX`,
/// each category once.
fn load_stage_requirements(
    source: &SourceText<'_>,
    loaded: &StageEntries<'_>,
    problems: &mut Problems,
) -> Vec<Requirement> {
    let StageEntries { stage, entries, categories, category_ids, tables } = *loaded;
    let mut requirements = Vec::new();
    if entries.is_empty() {
        problems.push(
            source.name,
            1,
            None,
            format!(
                "scenario has no requirement in chain stage {} ([[{}]])",
                stage.name_en(),
                stage.key()
            ),
        );
        return requirements;
    }
    if entries.len() > REQUIREMENTS_PER_STAGE_MAX {
        problems.push(
            source.name,
            1,
            None,
            format!("more than {REQUIREMENTS_PER_STAGE_MAX} requirements in stage {}", stage.key()),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for entry in entries.iter().take(REQUIREMENTS_PER_STAGE_MAX) {
        let Some(requirement) =
            load_requirement(source, stage, entry, categories, category_ids, tables, problems)
        else {
            continue;
        };
        if !seen.insert(requirement.category) {
            source.report(
                problems,
                entry.category.span(),
                format!(
                    "category {:?} is required twice in stage {}",
                    entry.category.get_ref(),
                    stage.key()
                ),
            );
            continue;
        }
        requirements.push(requirement);
    }
    requirements
}

/// Which of the optional scenario tables a file gives (a direct term needs its table).
struct ScenarioTables {
    displaced_share: bool,
    rain_excess_mm: bool,
    fire_shape: bool,
}

/// A value for each level IV…I within `range`, non-decreasing from IV to I, with provenance.
fn level_table(
    source: &SourceText<'_>,
    problems: &mut Problems,
    name: &str,
    table: &Spanned<SeverityFactorEntry>,
    range: Range<f64>,
    lower: Lower,
) -> Option<LevelTable> {
    let entry = table.get_ref();
    let mut values = [0.0; 4];
    let mut complete = true;
    for (slot, (level, value)) in values.iter_mut().zip([
        ("IV", &entry.iv),
        ("III", &entry.iii),
        ("II", &entry.ii),
        ("I", &entry.i),
    ]) {
        match number(source, problems, &format!("{name}.{level}"), value, range.clone(), lower) {
            Some(x) => *slot = x,
            None => complete = false,
        }
    }
    if complete && values.windows(2).any(|pair| pair[0] > pair[1]) {
        source.report(problems, table.span(), format!("{name} must not decrease from IV to I"));
        complete = false;
    }
    let provenance = provenance(source, problems, &entry.source, &entry.grade);
    if !complete {
        return None;
    }
    Some(LevelTable { values, provenance: provenance? })
}

fn load_requirement(
    source: &SourceText<'_>,
    stage: ChainStage,
    entry: &RequirementEntry,
    categories: &[Category],
    category_ids: &HashMap<&str, CategoryIdx>,
    tables: &ScenarioTables,
    problems: &mut Problems,
) -> Option<Requirement> {
    let category = requirement_category(source, entry, categories, category_ids, problems);
    let found = category.map(|idx| &categories[idx.0 as usize]);
    let priority = keyword(
        source,
        problems,
        "priority",
        &entry.priority,
        Priority::parse,
        &Priority::ALL,
        Priority::key,
    );
    let needed = number(
        source,
        problems,
        "needed_within_hours",
        &entry.needed_within_hours,
        0.0..NEEDED_WITHIN_HOURS_MAX,
        Lower::Excluded,
    );
    let (base, max_quantity) = load_base_and_max(source, entry, problems);
    let [per_population, per_area_km2, per_displaced, per_fire_line_km] =
        load_rates(source, entry, tables, problems);
    let pumping = entry
        .pumping
        .as_ref()
        .and_then(|pumping| load_pumping(source, pumping, found, tables, problems));
    if let Some(base) = base {
        let any_term = per_population.is_some()
            || per_area_km2.is_some()
            || entry.per_displaced.is_some()
            || entry.per_fire_line.is_some()
            || entry.pumping.is_some();
        if base == 0.0 && !any_term {
            source.report(
                problems,
                entry.base_quantity.span(),
                "base_quantity is 0 and the rule has no other term: it would never ask for anything",
            );
        }
    }
    let provenance = provenance(source, problems, &entry.source, &entry.grade);
    // None: no cap; Some(None): a cap that did not read (already reported).
    let max_quantity = match max_quantity {
        Some(value) => Some(value?),
        None => None,
    };
    Some(Requirement {
        category: category?,
        stage,
        priority: priority?,
        needed_within_hours: needed?,
        base_quantity: base?,
        per_population,
        per_area_km2,
        per_displaced,
        per_fire_line_km,
        pumping,
        scales_with_severity: entry.scales_with_severity.unwrap_or(true),
        max_quantity,
        provenance: provenance?,
    })
}

/// A requirement's base quantity and its optional cap (`Some(None)`: a cap that did not read),
/// the cap at or above the base.
fn load_base_and_max(
    source: &SourceText<'_>,
    entry: &RequirementEntry,
    problems: &mut Problems,
) -> (Option<f64>, Option<Option<f64>>) {
    let base = number(
        source,
        problems,
        "base_quantity",
        &entry.base_quantity,
        0.0..REQUIREMENT_QUANTITY_MAX,
        Lower::Included,
    );
    let max = entry.max_quantity.as_ref().map(|max| {
        (
            number(
                source,
                problems,
                "max_quantity",
                max,
                1.0..REQUIREMENT_QUANTITY_MAX,
                Lower::Included,
            ),
            max.span(),
        )
    });
    if let (Some(base), Some((Some(max), span))) = (base, &max) {
        if *max < base {
            source.report(
                problems,
                span.clone(),
                format!("max_quantity {max} is below base_quantity {base}"),
            );
        }
    }
    (base, max.map(|(value, _)| value))
}

/// A requirement's rate terms, in order: per population, per km² of area, per displaced
/// person, per km of fire line (each needs its scenario table, where it has one).
fn load_rates(
    source: &SourceText<'_>,
    entry: &RequirementEntry,
    tables: &ScenarioTables,
    problems: &mut Problems,
) -> [Option<Rate>; 4] {
    let per_population = entry.per_population.as_ref().and_then(|rate| {
        let inner = rate.get_ref();
        rate_of(
            source,
            problems,
            rate.span(),
            ("per_population.people", "per_population.quantity"),
            inner.people,
            inner.quantity,
        )
    });
    let per_area_km2 = entry.per_area.as_ref().and_then(|rate| {
        let inner = rate.get_ref();
        rate_of(
            source,
            problems,
            rate.span(),
            ("per_area.km2", "per_area.quantity"),
            inner.km2,
            inner.quantity,
        )
    });
    let per_displaced = entry.per_displaced.as_ref().and_then(|rate| {
        if !tables.displaced_share {
            source.report(
                problems,
                rate.span(),
                "per_displaced needs the scenario's [displaced_share] table",
            );
        }
        let inner = rate.get_ref();
        rate_of(
            source,
            problems,
            rate.span(),
            ("per_displaced.people", "per_displaced.quantity"),
            inner.people,
            inner.quantity,
        )
    });
    let per_fire_line_km = entry.per_fire_line.as_ref().and_then(|rate| {
        if !tables.fire_shape {
            source.report(problems, rate.span(), "per_fire_line needs the scenario's [fire_shape]");
        }
        let inner = rate.get_ref();
        rate_of(
            source,
            problems,
            rate.span(),
            ("per_fire_line.km", "per_fire_line.quantity"),
            inner.km,
            inner.quantity,
        )
    });
    [per_population, per_area_km2, per_displaced, per_fire_line_km]
}

/// The category a requirement names: it must exist and not be `stock_only`.
fn requirement_category(
    source: &SourceText<'_>,
    entry: &RequirementEntry,
    categories: &[Category],
    category_ids: &HashMap<&str, CategoryIdx>,
    problems: &mut Problems,
) -> Option<CategoryIdx> {
    let category = category_ids.get(entry.category.get_ref().as_str()).copied();
    match category.map(|idx| &categories[idx.0 as usize]) {
        None => source.report(
            problems,
            entry.category.span(),
            format!("unknown category {:?}", entry.category.get_ref()),
        ),
        Some(Category { stock_only: Some(reason), .. }) => source.report(
            problems,
            entry.category.span(),
            format!(
                "category {:?} is marked stock_only ({reason}); a scenario cannot require it",
                entry.category.get_ref()
            ),
        ),
        Some(_) => {}
    }
    category
}

/// A requirement's `pumping` term: hours and share in range, on a category rated in m³/h.
fn load_pumping(
    source: &SourceText<'_>,
    pumping: &Spanned<PumpingEntry>,
    category: Option<&Category>,
    tables: &ScenarioTables,
    problems: &mut Problems,
) -> Option<Pumping> {
    if !tables.rain_excess_mm {
        source.report(
            problems,
            pumping.span(),
            "pumping needs the scenario's [rain_excess_mm] table",
        );
    }
    let hours = pumping.get_ref().hours;
    let share = pumping.get_ref().share.unwrap_or(1.0);
    if !share.is_finite() || share <= 0.0 || share > 1.0 {
        source.report(
            problems,
            pumping.span(),
            format!("pumping.share must be a finite number in (0, 1], not {share}"),
        );
        return None;
    }
    if !hours.is_finite() || hours <= 0.0 || hours > NEEDED_WITHIN_HOURS_MAX {
        source.report(
            problems,
            pumping.span(),
            format!(
                "pumping.hours must be a finite number in (0, {NEEDED_WITHIN_HOURS_MAX}], not {hours}"
            ),
        );
        return None;
    }
    let category = category?;
    if category.capability_metric != PUMPING_METRIC {
        source.report(
            problems,
            pumping.span(),
            format!(
                "pumping needs a category rated in {PUMPING_METRIC}; {:?} is rated in {:?}",
                category.id.as_str(),
                category.capability_metric
            ),
        );
        return None;
    }
    Some(Pumping { hours, share, unit_m3_per_h: category.capability_per_unit })
}

fn rate_of(
    source: &SourceText<'_>,
    problems: &mut Problems,
    span: Range<usize>,
    (per_field, quantity_field): (&str, &str),
    per: f64,
    quantity: f64,
) -> Option<Rate> {
    if !per.is_finite() || per <= 0.0 || per > 1e12 {
        source.report(
            problems,
            span,
            format!("{per_field} must be a finite number in (0, 1e12], not {per}"),
        );
        return None;
    }
    if !quantity.is_finite() || quantity <= 0.0 || quantity > REQUIREMENT_QUANTITY_MAX {
        source.report(problems, span, format!("{quantity_field} must be a finite number in (0, {REQUIREMENT_QUANTITY_MAX}], not {quantity}"));
        return None;
    }
    Some(Rate { per, quantity })
}
