//! Catalog loading: shipped files load clean; each error class is reported with its file and line.
//!
//! Properties checked:
//! - the shipped `scenarios/` and `registry/sample/` load without a problem, embedded and from
//!   disk, and hold what the service promises (≥ 10 scenarios with all three chain stages,
//!   ≥ 80 categories covering the four MIIT classes, the five demonstration bases, Beijing and
//!   Tianjin, a non-empty `source` on every category and requirement);
//! - a small hand-made fixture loads clean, so every broken variant of it fails for the one
//!   reason it was broken for;
//! - one load of a fixture broken in many places reports every problem (not just the first),
//!   each exactly once, with the exact file, line and reason: unknown category, unknown place,
//!   duplicate ids (category, supplier, supplier × category stock line), coordinates out of
//!   range, negative and non-finite quantities, a scenario missing a chain stage, a substitute
//!   cycle, malformed TOML and CSV, unknown certifications, unknown TOML fields, a scenario id
//!   that differs from its file name;
//! - a bad CSV header is reported on line 1;
//! - a registry saved with CRLF line ends (as spreadsheets do) gets every problem at the same
//!   line and column as with LF;
//! - a supplier row that did not load is reported once on its stock lines (pointing at the
//!   row), not as an unknown supplier on each of them;
//! - `equipmatch check --json` exits 1 on the broken fixture with counts and every error
//!   located, and exits 0 with no errors on the shipped data;
//! - `equipmatch registry generate` is deterministic per seed, depends on the seed, produces a
//!   registry that loads clean, and reproduces the committed `registry/sample/` byte for byte.
//!
//! Fixtures are built in the test (in memory, or written to a fresh folder under the system
//! temp dir for the CLI) so that each stays tiny and says what is broken: every broken TOML line
//! carries a `# BROKEN: …` comment, every broken CSV row a telling value, and the expected line
//! numbers are computed from the fixture text.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use equipmatch::catalog::{self, Catalog, CatalogSources, Problem, Problems, SourceFile};
use equipmatch::domain::{ChainStage, MiitClass, PlaceKind};

// -------------------------------------------------------------------------------------------
// Fixture builders
// -------------------------------------------------------------------------------------------

const TAXONOMY: &str = "scenarios/taxonomy.toml";
const PLACES: &str = "scenarios/places.toml";
const FLOOD: &str = "scenarios/flood.toml";
const SUPPLIERS: &str = "registry/suppliers.csv";
const STOCK_LINES: &str = "registry/stock_lines.csv";

const SUPPLIERS_HEADER: &str =
    "supplier_id,name,place_id,base_id,latitude,longitude,certifications,reliability";
const STOCK_LINES_HEADER: &str =
    "supplier_id,category_id,quantity_on_hand,surge_per_day,lead_time_hours";

/// A catalog folder pair held in memory: (path relative to the fixture root, text). Paths start
/// with `scenarios/` or `registry/`.
#[derive(Debug, Clone)]
struct Fixture {
    files: Vec<(String, String)>,
}

impl Fixture {
    /// The smallest catalog that loads clean: one certification, four categories (one per
    /// stage, plus a truck whose substitute is the pump), two places, one scenario with a
    /// requirement in every stage, one supplier with two stock lines.
    fn clean() -> Fixture {
        let taxonomy = [
            "[[certification]]\nid = \"ccc\"\nname = \"China Compulsory Certification\"\n"
                .to_owned(),
            category("water-level-sensor", "monitoring_warning", "monitoring"),
            category("helmet", "safety_protection", "protection"),
            category("pump", "emergency_rescue", "rescue"),
            category("drainage-truck", "emergency_rescue", "rescue"),
            substitute("pump", 0.05),
        ]
        .join("");
        let places =
            [place("tangshan", 39.6347, 118.1948), place("tianjin", 39.1256, 117.1902)].join("");
        let flood = scenario(
            "flood",
            &[
                ("monitoring_warning", "water-level-sensor"),
                ("safety_protection", "helmet"),
                ("emergency_rescue", "pump"),
            ],
        );
        let suppliers =
            format!("{SUPPLIERS_HEADER}\nsup-1,Tangshan pump works,tangshan,,39.6,118.2,ccc,0.9\n");
        let stock_lines = format!("{STOCK_LINES_HEADER}\nsup-1,pump,10,1,4\nsup-1,helmet,50,0,2\n");
        Fixture {
            files: vec![
                (TAXONOMY.into(), taxonomy),
                (PLACES.into(), places),
                (FLOOD.into(), flood),
                (SUPPLIERS.into(), suppliers),
                (STOCK_LINES.into(), stock_lines),
            ],
        }
    }

    fn text(&self, path: &str) -> &str {
        let found = self.files.iter().find(|(name, _)| name == path);
        &found.unwrap_or_else(|| panic!("fixture has no file {path}")).1
    }

    /// Replaces the file at `path`, or adds it.
    fn with(mut self, path: &str, text: impl Into<String>) -> Fixture {
        let text = text.into();
        match self.files.iter_mut().find(|(name, _)| name == path) {
            Some(file) => file.1 = text,
            None => self.files.push((path.to_owned(), text)),
        }
        self
    }

    /// Appends `more` to the file at `path`.
    fn append(self, path: &str, more: &str) -> Fixture {
        let text = format!("{}{more}", self.text(path));
        self.with(path, text)
    }

    fn sources(&self) -> CatalogSources {
        let files_under = |folder: &str| {
            self.files
                .iter()
                .filter(|(name, _)| name.starts_with(folder))
                .map(|(name, text)| SourceFile {
                    name: name.clone(),
                    text: Cow::Owned(text.clone()),
                })
                .collect()
        };
        CatalogSources {
            scenario_files: files_under("scenarios/"),
            registry_files: files_under("registry/"),
        }
    }

    fn load(&self) -> Problems {
        catalog::load(&self.sources()).problems
    }

    /// Writes the fixture under `root` (`root/scenarios/…`, `root/registry/…`).
    fn write_to(&self, root: &Path) {
        for (name, text) in &self.files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().expect("fixture paths have a folder"))
                .expect("create fixture folder");
            std::fs::write(&path, text).expect("write fixture file");
        }
    }
}

/// One `[[category]]` table; every field valid, tagged `drainage` and requiring `ccc`.
fn category(id: &str, stage: &str, miit_class: &str) -> String {
    format!(
        r#"
[[category]]
id = "{id}"
name_zh = "测试设备"
name_en = "Test {id}"
stage = "{stage}"
miit_class = "{miit_class}"
unit = "unit"
capability_metric = "units"
capability_per_unit = 1.0
transport = "truck"
tags = ["drainage"]
certifications = ["ccc"]
source = "test fixture"
grade = "MODEL"
"#
    )
}

/// A `[[category.substitute]]` table for the category just above it.
fn substitute(id: &str, efficiency: f64) -> String {
    format!(
        "\n[[category.substitute]]\nid = \"{id}\"\nefficiency = {efficiency:?}\nnote = \"test fixture\"\n"
    )
}

/// One `[[place]]` table: a city in the core zone.
fn place(id: &str, latitude: f64, longitude: f64) -> String {
    format!(
        r#"
[[place]]
id = "{id}"
name_zh = "测试城市"
name_en = "Test {id}"
kind = "city"
zone = "core"
latitude = {latitude:?}
longitude = {longitude:?}
specialities = ["drainage"]
supplier_weight = 1.0
source = "test fixture"
grade = "GK"
"#
    )
}

/// A scenario file with one requirement per (stage, category) pair.
fn scenario(id: &str, requirements: &[(&str, &str)]) -> String {
    let mut text = format!(
        r#"id = "{id}"
name_zh = "测试情景"
name_en = "Test {id}"
summary = "A test scenario."
grading = "Test grading."

[severity_factor]
IV = 1.0
III = 1.5
II = 2.5
I = 4.0
source = "test fixture"
grade = "MODEL"
"#
    );
    for (stage, category) in requirements {
        text.push_str(&requirement(stage, category));
    }
    text
}

fn requirement(stage: &str, category: &str) -> String {
    format!(
        r#"
[[{stage}]]
category = "{category}"
priority = "critical"
needed_within_hours = 6.0
base_quantity = 1.0
max_quantity = 10.0
source = "test fixture"
grade = "MODEL"
"#
    )
}

/// Replaces the one occurrence of `old` in `text` (panics if there is not exactly one).
fn edit(text: &str, old: &str, new: &str) -> String {
    assert_eq!(text.matches(old).count(), 1, "{old:?} must occur exactly once in:\n{text}");
    text.replacen(old, new, 1)
}

/// The 1-based number of the one line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u32 {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .map(|(idx, _)| idx + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{needle:?} must be on exactly one line of:\n{text}");
    lines[0] as u32
}

fn listing(problems: &[Problem]) -> String {
    problems.iter().map(|problem| format!("  {problem}\n")).collect()
}

/// Asserts that a problem with exactly this file and line, and a message containing
/// `message`, was reported.
fn assert_reported(problems: &[Problem], file: &str, line: u32, message: &str) {
    assert!(
        problems.iter().any(|p| p.file == file && p.line == line && p.message.contains(message)),
        "expected {file}:{line}: …{message}…; the load reported:\n{}",
        listing(problems)
    );
}

/// A fresh empty folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("equipmatch-it-catalog-{label}-{}-{unique}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the built `equipmatch` binary.
fn equipmatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_equipmatch"))
        .args(args)
        .output()
        .expect("run the equipmatch binary")
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// Runs `check --json` with the given extra arguments: (exit code, parsed report).
fn check_json(args: &[&str]) -> (i32, serde_json::Value) {
    let output = equipmatch(&[&["check", "--json"], args].concat());
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "check --json printed no JSON ({error}); stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().expect("check exits normally"), report)
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// -------------------------------------------------------------------------------------------
// The broken fixture: many problems in one load
// -------------------------------------------------------------------------------------------

const EARTHQUAKE: &str = "scenarios/earthquake.toml";
const NO_PROTECTION: &str = "scenarios/no-protection.toml";
const TYPO: &str = "scenarios/typo.toml";
const SYNTAX: &str = "scenarios/syntax.toml";

/// The clean fixture broken in every way the loader must catch, one problem per broken line.
fn broken_fixture() -> Fixture {
    let clean = Fixture::clean();
    let taxonomy = [
        // A second "pump".
        edit(
            &category("pump", "emergency_rescue", "rescue"),
            "id = \"pump\"",
            "id = \"pump\"  # BROKEN: duplicate category id",
        ),
        // A certification the taxonomy does not define.
        edit(
            &category("rope", "emergency_rescue", "rescue"),
            "certifications = [\"ccc\"]",
            "certifications = [\"ccc\", \"iso-9999\"]  # BROKEN: unknown certification",
        ),
        // cycle-a stands in for cycle-b and cycle-b for cycle-a.
        category("cycle-a", "emergency_rescue", "rescue"),
        substitute("cycle-b", 0.5),
        category("cycle-b", "emergency_rescue", "rescue"),
        edit(
            &substitute("cycle-a", 0.5),
            "id = \"cycle-a\"",
            "id = \"cycle-a\"  # BROKEN: closes the cycle",
        ),
    ]
    .join("");
    let places = edit(
        &place("north-of-the-pole", 95.0, 117.0),
        "latitude = 95.0",
        "latitude = 95.0  # BROKEN: latitude",
    );
    let unknown_category = edit(
        &requirement("emergency_rescue", "no-such-category"),
        "category = \"no-such-category\"",
        "category = \"no-such-category\"  # BROKEN: unknown category",
    );
    let all_stages = [
        ("monitoring_warning", "water-level-sensor"),
        ("safety_protection", "helmet"),
        ("emergency_rescue", "pump"),
    ];
    let earthquake = edit(
        &scenario("quake", &all_stages),
        "id = \"quake\"",
        "id = \"quake\"  # BROKEN: not the file name",
    );
    let no_protection = scenario(
        "no-protection",
        &[("monitoring_warning", "water-level-sensor"), ("emergency_rescue", "pump")],
    );
    let typo = edit(
        &scenario("typo", &all_stages),
        "max_quantity = 10.0\nsource = \"test fixture\"\ngrade = \"MODEL\"\n\n[[safety_protection]]",
        "max_quantity = 10.0\nmax_quantiy = 10.0  # BROKEN: unknown field\nsource = \"test fixture\"\ngrade = \"MODEL\"\n\n[[safety_protection]]",
    );
    let syntax = edit(
        &scenario("syntax", &all_stages),
        "name_en = \"Test syntax\"",
        "name_en = = \"Test syntax\"  # BROKEN: syntax error",
    );
    let suppliers = [
        "sup-1,Second supplier with id sup-1,tangshan,,39.6,118.2,ccc,0.9",
        "sup-2,Supplier in no known place,atlantis,,39.6,118.2,ccc,0.9",
        "sup-3,Supplier off the map,tangshan,,39.6,200.0,ccc,0.9",
        "sup-4,Supplier with an unknown certification,tangshan,,39.6,118.2,ccc;iso-9999,0.9",
        "sup-5,Supplier with a missing field,tangshan,,39.6,118.2,0.9",
    ]
    .map(|row| row.to_owned() + "\n")
    .concat();
    let stock_lines = [
        "sup-1,pump,3,0,4",
        "sup-1,water-level-sensor,-5,0,4",
        "sup-1,drainage-truck,NaN,0,4",
        "sup-1,water-level-sensor,2,inf,4",
        "sup-1,helmet,1,0",
    ]
    .map(|row| row.to_owned() + "\n")
    .concat();
    clean
        .append(TAXONOMY, &taxonomy)
        .append(PLACES, &places)
        .append(FLOOD, &unknown_category)
        .with(EARTHQUAKE, earthquake)
        .with(NO_PROTECTION, no_protection)
        .with(TYPO, typo)
        .with(SYNTAX, syntax)
        .append(SUPPLIERS, &suppliers)
        .append(STOCK_LINES, &stock_lines)
}

/// How many problems the broken fixture holds: one per `BROKEN` comment in the TOML files
/// (taxonomy 3, places 1, flood 1, earthquake 1, typo 1, syntax 1), the missing stage of
/// no-protection.toml, and one per bad CSV row (suppliers 5, stock lines 5).
const BROKEN_PROBLEMS: usize = 8 + 1 + 5 + 5;

struct BrokenLoad {
    fixture: Fixture,
    problems: Vec<Problem>,
}

impl BrokenLoad {
    /// Asserts the problem on the line of `file` that contains `needle`.
    fn assert_at(&self, file: &str, needle: &str, message: &str) {
        assert_reported(&self.problems, file, line_of(self.fixture.text(file), needle), message);
    }
}

/// The broken fixture, loaded once: every error-class test below reads this one load, so
/// together they prove that a load reports every problem, not just the first.
fn broken() -> &'static BrokenLoad {
    static LOADED: OnceLock<BrokenLoad> = OnceLock::new();
    LOADED.get_or_init(|| {
        let fixture = broken_fixture();
        let problems = fixture.load();
        assert_eq!(problems.dropped, 0);
        BrokenLoad { fixture, problems: problems.list }
    })
}

// -------------------------------------------------------------------------------------------
// 1. The shipped data
// -------------------------------------------------------------------------------------------

#[test]
fn the_embedded_catalog_loads_clean() {
    if let Err(error) = Catalog::embedded() {
        panic!("the shipped catalog has problems:\n{}", listing(&error.problems.list));
    }
}

#[test]
fn the_shipped_folders_load_clean_from_disk() {
    let mut problems = Problems::default();
    let sources = CatalogSources::from_dirs(
        Some(&manifest_dir().join("scenarios")),
        Some(&manifest_dir().join("registry/sample")),
        &mut problems,
    );
    assert!(problems.is_empty(), "reading failed:\n{}", listing(&problems.list));
    let loaded = catalog::load(&sources);
    assert!(loaded.problems.is_empty(), "problems:\n{}", listing(&loaded.problems.list));
    let embedded = Catalog::embedded().expect("embedded catalog");
    assert_eq!(loaded.catalog.counts(), embedded.counts());
    assert_eq!(loaded.catalog.version, embedded.version, "the embedded files are the shipped ones");
}

#[test]
fn the_shipped_catalog_is_big_enough() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    let counts = catalog.counts();
    assert!(counts.scenarios >= 10, "{counts:?}");
    assert!(counts.categories >= 80, "{counts:?}");
    assert!(counts.suppliers > 0 && counts.stock_lines > 0, "{counts:?}");
}

#[test]
fn the_shipped_categories_use_all_four_miit_classes() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    let used: BTreeSet<MiitClass> = catalog.categories.iter().map(|c| c.miit_class).collect();
    assert_eq!(used, MiitClass::ALL.into_iter().collect());
}

#[test]
fn every_shipped_scenario_has_requirements_in_all_three_stages() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    for scenario in &catalog.scenarios {
        for stage in ChainStage::ALL {
            assert!(
                scenario.stage_requirements(stage).next().is_some(),
                "scenario {} has no requirement in stage {}",
                scenario.id.as_str(),
                stage.key()
            );
        }
    }
}

#[test]
fn the_shipped_places_include_the_five_demonstration_bases_beijing_and_tianjin() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    let bases: BTreeSet<&str> = catalog
        .places
        .iter()
        .filter(|place| place.kind == PlaceKind::DemonstrationBase)
        .map(|place| place.id.as_str())
        .collect();
    let expected: BTreeSet<&str> =
        ["base-baoding-htz", "base-huaian", "base-kaiping", "base-luquan", "base-zgc-fengtai"]
            .into();
    assert_eq!(bases, expected);
    for base in &expected {
        let place = catalog.place(catalog.place_by_id(base).expect("base"));
        assert!(place.host.is_some(), "demonstration base {base} has no host");
    }
    for city in ["beijing", "tianjin"] {
        assert!(catalog.place_by_id(city).is_some(), "no place {city}");
    }
}

#[test]
fn every_shipped_category_and_requirement_has_a_source() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    for category in &catalog.categories {
        assert!(
            !category.provenance.source.trim().is_empty(),
            "category {} has no source",
            category.id.as_str()
        );
    }
    for scenario in &catalog.scenarios {
        assert!(!scenario.severity_provenance.source.trim().is_empty(), "{}", scenario.id.as_str());
        for requirement in &scenario.requirements {
            assert!(
                !requirement.provenance.source.trim().is_empty(),
                "scenario {}: requirement for {} has no source",
                scenario.id.as_str(),
                catalog.category(requirement.category).id.as_str()
            );
        }
    }
}

// -------------------------------------------------------------------------------------------
// 2. Every error class, located
// -------------------------------------------------------------------------------------------

#[test]
fn the_clean_fixture_loads_clean() {
    let problems = Fixture::clean().load();
    assert!(problems.is_empty(), "the base fixture must be clean:\n{}", listing(&problems.list));
}

#[test]
fn one_load_reports_every_problem_exactly_once() {
    let broken = broken();
    assert_eq!(
        broken.problems.len(),
        BROKEN_PROBLEMS,
        "one problem per broken line and nothing else; the load reported:\n{}",
        listing(&broken.problems)
    );
}

#[test]
fn an_unknown_category_in_a_requirement_is_located() {
    broken().assert_at(FLOOD, "BROKEN: unknown category", "unknown category \"no-such-category\"");
}

#[test]
fn an_unknown_place_in_suppliers_csv_is_located() {
    broken().assert_at(SUPPLIERS, "atlantis", "unknown place \"atlantis\"");
}

#[test]
fn a_duplicate_category_id_is_located_at_the_second_definition() {
    broken().assert_at(TAXONOMY, "BROKEN: duplicate category id", "duplicate category id \"pump\"");
}

#[test]
fn a_duplicate_supplier_id_is_located_at_the_second_row() {
    broken().assert_at(
        SUPPLIERS,
        "Second supplier with id sup-1",
        "duplicate supplier id \"sup-1\"",
    );
}

#[test]
fn a_duplicate_stock_line_is_located_at_the_second_row() {
    let broken = broken();
    let text = broken.fixture.text(STOCK_LINES);
    let first = line_of(text, "sup-1,pump,10");
    broken.assert_at(
        STOCK_LINES,
        "sup-1,pump,3",
        &format!("duplicate stock line: this supplier already lists this category on line {first}"),
    );
}

#[test]
fn a_place_latitude_out_of_range_is_located() {
    broken().assert_at(PLACES, "BROKEN: latitude", "latitude must be a finite number in [-90, 90]");
}

#[test]
fn a_supplier_longitude_out_of_range_is_located() {
    broken().assert_at(SUPPLIERS, "Supplier off the map", "longitude: coordinate out of range");
}

#[test]
fn a_negative_stock_quantity_is_located() {
    broken().assert_at(STOCK_LINES, "-5", "quantity_on_hand: must be a finite number");
}

#[test]
fn non_finite_stock_numbers_are_located() {
    let broken = broken();
    broken.assert_at(STOCK_LINES, "NaN", "quantity_on_hand: must be a finite number");
    broken.assert_at(STOCK_LINES, "inf", "surge_per_day: must be a finite number");
}

#[test]
fn a_scenario_missing_a_chain_stage_is_reported_on_line_1() {
    assert_reported(&broken().problems, NO_PROTECTION, 1, "[[safety_protection]]");
}

#[test]
fn a_substitute_cycle_is_located_where_it_closes() {
    broken().assert_at(
        TAXONOMY,
        "BROKEN: closes the cycle",
        "substitute cycle: cycle-a -> cycle-b -> cycle-a",
    );
}

#[test]
fn malformed_toml_is_located() {
    broken().assert_at(SYNTAX, "BROKEN: syntax error", "malformed TOML");
}

#[test]
fn a_csv_row_with_the_wrong_number_of_fields_is_located() {
    let broken = broken();
    broken.assert_at(SUPPLIERS, "Supplier with a missing field", "expected 8 fields, found 7");
    broken.assert_at(STOCK_LINES, "sup-1,helmet,1,0", "expected 5 fields, found 4");
}

#[test]
fn unknown_certifications_are_located() {
    let broken = broken();
    broken.assert_at(
        TAXONOMY,
        "BROKEN: unknown certification",
        "unknown certification \"iso-9999\"",
    );
    broken.assert_at(
        SUPPLIERS,
        "Supplier with an unknown certification",
        "unknown certification \"iso-9999\"",
    );
}

#[test]
fn an_unknown_toml_field_is_located() {
    broken().assert_at(TYPO, "BROKEN: unknown field", "unknown field `max_quantiy`");
}

#[test]
fn a_scenario_id_that_differs_from_the_file_name_is_located() {
    broken().assert_at(
        EARTHQUAKE,
        "BROKEN: not the file name",
        "scenario id \"quake\" differs from the file name \"earthquake\"",
    );
}

#[test]
fn a_bad_csv_header_is_reported_on_line_1() {
    let fixture = Fixture::clean()
        .with(SUPPLIERS, edit(Fixture::clean().text(SUPPLIERS), "place_id,", "city_id,"))
        .with(
            STOCK_LINES,
            edit(Fixture::clean().text(STOCK_LINES), STOCK_LINES_HEADER, "supplier_id,category_id"),
        );
    let problems = fixture.load().list;
    assert_reported(&problems, SUPPLIERS, 1, &format!("header must be exactly {SUPPLIERS_HEADER}"));
    assert_reported(
        &problems,
        STOCK_LINES,
        1,
        &format!("header must be exactly {STOCK_LINES_HEADER}"),
    );
}

// -------------------------------------------------------------------------------------------
// 3. `equipmatch check`
// -------------------------------------------------------------------------------------------

#[test]
fn check_json_on_a_broken_folder_exits_1_and_locates_every_problem() {
    let dir = TempDir::new("check-broken");
    let fixture = broken_fixture();
    fixture.write_to(dir.path());
    let (scenarios, registry) = (dir.path().join("scenarios"), dir.path().join("registry"));
    let (code, report) =
        check_json(&["--scenarios", path_arg(&scenarios), "--registry", path_arg(&registry)]);

    assert_eq!(code, 1, "{report:#}");
    for key in ["scenarios", "categories", "places", "suppliers", "stock_lines"] {
        assert!(report[key].is_u64(), "count {key} missing from {report:#}");
    }
    let errors: Vec<Problem> = report["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {report:#}"))
        .iter()
        .map(|error| Problem {
            file: error["file"].as_str().expect("error.file").to_owned(),
            line: error["line"].as_u64().expect("error.line") as u32,
            column: error["column"].as_u64().map(|column| column as u32),
            message: error["message"].as_str().expect("error.message").to_owned(),
        })
        .collect();
    assert_eq!(errors.len(), BROKEN_PROBLEMS, "problems:\n{}", listing(&errors));
    // Files are named by the path they were read from; spot-check one per file kind.
    let on_disk = |name: &str| dir.path().join(name).display().to_string();
    let text = |name: &str| fixture.text(name);
    assert_reported(
        &errors,
        &on_disk(FLOOD),
        line_of(text(FLOOD), "BROKEN: unknown category"),
        "unknown category \"no-such-category\"",
    );
    assert_reported(
        &errors,
        &on_disk(TAXONOMY),
        line_of(text(TAXONOMY), "BROKEN: closes the cycle"),
        "substitute cycle",
    );
    assert_reported(
        &errors,
        &on_disk(SUPPLIERS),
        line_of(text(SUPPLIERS), "atlantis"),
        "unknown place",
    );
    assert_reported(
        &errors,
        &on_disk(STOCK_LINES),
        line_of(text(STOCK_LINES), "NaN"),
        "quantity_on_hand",
    );
}

#[test]
fn check_json_on_the_shipped_data_exits_0_without_errors() {
    let (code, report) = check_json(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    let counts = Catalog::embedded().expect("embedded catalog").counts();
    assert_eq!(report["scenarios"], counts.scenarios);
    assert_eq!(report["categories"], counts.categories);
    assert_eq!(report["places"], counts.places);
    assert_eq!(report["suppliers"], counts.suppliers);
    assert_eq!(report["stock_lines"], counts.stock_lines);
}

// -------------------------------------------------------------------------------------------
// 4. `equipmatch registry generate`
// -------------------------------------------------------------------------------------------

const GENERATED_FILES: [&str; 3] = ["suppliers.csv", "stock_lines.csv", "README.md"];

/// Runs `registry generate` into `out` with the given flags and asserts it succeeded.
fn generate(out: &Path, suppliers: u32, seed: u64, extra: &[&str]) {
    let (suppliers, seed) = (suppliers.to_string(), seed.to_string());
    let args = [
        &["registry", "generate", "--suppliers", &suppliers, "--seed", &seed][..],
        extra,
        &["--out", path_arg(out)],
    ]
    .concat();
    let output = equipmatch(&args);
    assert!(
        output.status.success(),
        "registry generate {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Asserts two files are byte-identical, showing the first differing line if not.
fn assert_same_bytes(expected: &Path, actual: &Path) {
    let (a, b) = (read(expected), read(actual));
    if a != b {
        let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        let first = a.lines().zip(b.lines()).position(|(x, y)| x != y);
        let line = first.unwrap_or_else(|| a.lines().count().min(b.lines().count()));
        panic!(
            "{} and {} differ from line {}:\n  {:?}\n  {:?}",
            expected.display(),
            actual.display(),
            line + 1,
            a.lines().nth(line),
            b.lines().nth(line)
        );
    }
}

#[test]
fn the_generator_gives_identical_bytes_for_the_same_seed() {
    let (one, two) = (TempDir::new("gen-one"), TempDir::new("gen-two"));
    generate(one.path(), 200, 7, &[]);
    generate(two.path(), 200, 7, &[]);
    for file in GENERATED_FILES {
        assert_same_bytes(&one.path().join(file), &two.path().join(file));
    }
}

#[test]
fn the_generator_gives_different_bytes_for_another_seed() {
    let (seven, eight) = (TempDir::new("gen-seed7"), TempDir::new("gen-seed8"));
    generate(seven.path(), 200, 7, &[]);
    generate(eight.path(), 200, 8, &[]);
    for file in ["suppliers.csv", "stock_lines.csv"] {
        assert_ne!(read(&seven.path().join(file)), read(&eight.path().join(file)), "{file}");
    }
}

#[test]
fn a_generated_registry_loads_clean() {
    let dir = TempDir::new("gen-check");
    generate(dir.path(), 200, 7, &[]);
    let (code, report) = check_json(&["--registry", path_arg(dir.path())]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["holders_by_kind"]["manufacturer"], 200, "{report:#}");
}

#[test]
fn the_committed_sample_registry_is_what_the_generator_makes_now() {
    let dir = TempDir::new("gen-sample");
    generate(dir.path(), 300, 2024, &["--lines-per-supplier", "8"]);
    let sample = manifest_dir().join("registry/sample");
    for file in GENERATED_FILES {
        // On failure: regenerate with
        // `equipmatch registry generate --suppliers 300 --seed 2024 --lines-per-supplier 8 --out registry/sample`.
        assert_same_bytes(&sample.join(file), &dir.path().join(file));
    }
}

// -------------------------------------------------------------------------------------------
// 5. The rule's direct terms (displaced share, fire line, pumping) and `stock_only`
// -------------------------------------------------------------------------------------------

/// A scenario-level per-level table (`[displaced_share]`, `[rain_excess_mm]`).
fn level_table(name: &str, values: [f64; 4]) -> String {
    let [iv, iii, ii, i] = values;
    format!(
        "\n[{name}]\nIV = {iv:?}\nIII = {iii:?}\nII = {ii:?}\nI = {i:?}\nsource = \"test fixture\"\ngrade = \"MODEL\"\n"
    )
}

/// A requirement on `category` in the rescue stage with one extra line (a term) and base 0.
fn term_requirement(category: &str, term: &str) -> String {
    format!(
        "\n[[emergency_rescue]]\ncategory = \"{category}\"\npriority = \"critical\"\nneeded_within_hours = 6.0\nbase_quantity = 0.0\n{term}\nsource = \"test fixture\"\ngrade = \"MODEL\"\n"
    )
}

/// The clean fixture with a drainage truck rated 3,000 m³/h and a flood scenario using all
/// three direct terms, with their tables.
fn direct_terms_fixture() -> Fixture {
    let clean = Fixture::clean();
    let taxonomy = edit(
        clean.text(TAXONOMY),
        "name_en = \"Test drainage-truck\"\nstage = \"emergency_rescue\"\nmiit_class = \"rescue\"\nunit = \"unit\"\ncapability_metric = \"units\"\ncapability_per_unit = 1.0",
        "name_en = \"Test drainage-truck\"\nstage = \"emergency_rescue\"\nmiit_class = \"rescue\"\nunit = \"unit\"\ncapability_metric = \"m3_per_h\"\ncapability_per_unit = 3000.0",
    );
    let flood = [
        clean.text(FLOOD).to_owned(),
        term_requirement("drainage-truck", "pumping = { hours = 6.0 }"),
        term_requirement("helmet", "per_displaced = { people = 3.0, quantity = 1.0 }"),
        term_requirement("water-level-sensor", "per_fire_line = { km = 1.0, quantity = 2.0 }"),
        level_table("displaced_share", [0.02, 0.05, 0.1, 0.2]),
        level_table("rain_excess_mm", [10.0, 20.0, 35.0, 50.0]),
        "\n[fire_shape]\nlength_to_breadth = 1.0\nsource = \"test fixture\"\ngrade = \"MODEL\"\n"
            .to_owned(),
    ]
    .join("");
    clean.with(TAXONOMY, taxonomy).with(FLOOD, flood)
}

#[test]
fn the_direct_terms_load_with_their_tables_and_give_hand_computed_quantities() {
    let fixture = direct_terms_fixture();
    let loaded = catalog::load(&fixture.sources());
    assert!(loaded.problems.is_empty(), "{}", listing(&loaded.problems.list));
    let catalog = loaded.catalog;
    let scenario = catalog.scenario_by_id("flood").expect("flood");
    let impact = |severity, population, area| equipmatch::domain::Impact {
        severity,
        affected_population: population,
        affected_area_km2: area,
    };
    let units = |category: &str, impact: &equipmatch::domain::Impact| {
        let idx = catalog.category_by_id(category).expect("category");
        let requirement = scenario
            .requirements
            .iter()
            .find(|r| r.category == idx && r.stage == ChainStage::EmergencyRescue)
            .expect("requirement");
        scenario.quantity(requirement, impact).units
    };
    use equipmatch::domain::Severity;
    // 150 km² × 50 mm = 7.5e6 m³ ÷ 6 h = 1.25e6 m³/h ÷ 3,000 m³/h = 416.7 → 417 trucks.
    assert_eq!(units("drainage-truck", &impact(Severity::I, 0.0, 150.0)), 417.0);
    // 900,000 people × 0.1 displaced at level II ÷ 3 = 30,000.
    assert_eq!(units("helmet", &impact(Severity::II, 900_000.0, 0.0)), 30_000.0);
    // 2 per km of the perimeter of a 120 km² circle (38.833 km) = 77.67 → 78.
    assert_eq!(units("water-level-sensor", &impact(Severity::IV, 0.0, 120.0)), 78.0);
}

#[test]
fn a_direct_term_without_its_scenario_table_is_located() {
    let clean = Fixture::clean();
    let flood = [
        clean.text(FLOOD).to_owned(),
        term_requirement(
            "helmet",
            "per_displaced = { people = 3.0, quantity = 1.0 } # BROKEN: no table",
        ),
        term_requirement(
            "drainage-truck",
            "per_fire_line = { km = 1.0, quantity = 1.0 } # BROKEN: no shape",
        ),
    ]
    .join("");
    let problems = clean.with(FLOOD, flood.clone()).load();
    assert_reported(
        &problems.list,
        FLOOD,
        line_of(&flood, "BROKEN: no table"),
        "needs the scenario's [displaced_share] table",
    );
    assert_reported(
        &problems.list,
        FLOOD,
        line_of(&flood, "BROKEN: no shape"),
        "needs the scenario's [fire_shape]",
    );
    assert_eq!(problems.total(), 2, "{}", listing(&problems.list));
}

#[test]
fn pumping_by_a_category_not_rated_in_m3_per_h_is_located() {
    let clean = Fixture::clean();
    let flood = [
        clean.text(FLOOD).to_owned(),
        term_requirement("drainage-truck", "pumping = { hours = 6.0 } # BROKEN: rated in units"),
        level_table("rain_excess_mm", [10.0, 20.0, 35.0, 50.0]),
    ]
    .join("");
    let problems = clean.with(FLOOD, flood.clone()).load();
    assert_reported(
        &problems.list,
        FLOOD,
        line_of(&flood, "BROKEN: rated in units"),
        "pumping needs a category rated in m3_per_h; \"drainage-truck\" is rated in \"units\"",
    );
    assert_eq!(problems.total(), 1, "{}", listing(&problems.list));
}

#[test]
fn a_level_table_that_decreases_and_a_rule_that_asks_nothing_are_located() {
    let clean = Fixture::clean();
    let flood = [
        edit(clean.text(FLOOD), "base_quantity = 1.0\nmax_quantity = 10.0\nsource = \"test fixture\"\ngrade = \"MODEL\"\n\n[[safety_protection]]", "base_quantity = 0.0 # BROKEN: nothing asked\nsource = \"test fixture\"\ngrade = \"MODEL\"\n\n[[safety_protection]]"),
        "\n[displaced_share] # BROKEN: decreases\nIV = 0.1\nIII = 0.2\nII = 0.3\nI = 0.25\nsource = \"test fixture\"\ngrade = \"MODEL\"\n".to_owned(),
    ]
    .join("");
    let problems = clean.with(FLOOD, flood.clone()).load();
    assert_reported(
        &problems.list,
        FLOOD,
        line_of(&flood, "BROKEN: nothing asked"),
        "would never ask for anything",
    );
    assert_reported(
        &problems.list,
        FLOOD,
        line_of(&flood, "BROKEN: decreases"),
        "displaced_share must not decrease from IV to I",
    );
    assert_eq!(problems.total(), 2, "{}", listing(&problems.list));
}

#[test]
fn a_stock_only_category_that_a_scenario_requires_is_located() {
    let clean = Fixture::clean();
    let taxonomy = edit(
        clean.text(TAXONOMY),
        "name_en = \"Test helmet\"",
        "name_en = \"Test helmet\"\nstock_only = \"issued to every worker before any incident\"",
    );
    let problems = clean.clone().with(TAXONOMY, taxonomy).load();
    assert_reported(
        &problems.list,
        FLOOD,
        line_of(clean.text(FLOOD), "category = \"helmet\""),
        "category \"helmet\" is marked stock_only (issued to every worker before any incident); a scenario cannot require it",
    );
    assert_eq!(problems.total(), 1, "{}", listing(&problems.list));
}

#[test]
fn check_json_counts_requirements_per_grade_and_lists_unused_categories() {
    let dir = TempDir::new("check-audit");
    let clean = Fixture::clean();
    clean.write_to(dir.path());
    let (scenarios, registry) = (dir.path().join("scenarios"), dir.path().join("registry"));
    let args = ["--scenarios", path_arg(&scenarios), "--registry", path_arg(&registry)];
    let (code, report) = check_json(&args);
    assert_eq!(code, 0, "{report:#}");
    // Three requirements, all MODEL; the substitute-only drainage truck is unexplained.
    assert_eq!(report["requirements"], 3, "{report:#}");
    assert_eq!(
        report["grades"],
        serde_json::json!({"A": 0, "B": 0, "C": 0, "GK": 0, "DERIVED": 0, "MODEL": 3}),
        "{report:#}"
    );
    assert_eq!(report["unused_categories"], serde_json::json!(["drainage-truck"]), "{report:#}");
    // Saying why (stock_only) takes it off the list.
    let taxonomy = edit(
        clean.text(TAXONOMY),
        "name_en = \"Test drainage-truck\"",
        "name_en = \"Test drainage-truck\"\nstock_only = \"kept only as the pump's stand-in\"",
    );
    std::fs::write(scenarios.join("taxonomy.toml"), taxonomy).expect("rewrite taxonomy");
    let (code, report) = check_json(&args);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["unused_categories"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["stock_only_categories"], 1, "{report:#}");
}

// -------------------------------------------------------------------------------------------
// 6. What spreadsheets and national-scale registries produce
// -------------------------------------------------------------------------------------------

/// (line, column, message) of every problem in `file`, in order.
fn located(problems: &[Problem], file: &str) -> Vec<(u32, Option<u32>, String)> {
    problems
        .iter()
        .filter(|p| p.file == file)
        .map(|p| (p.line, p.column, p.message.clone()))
        .collect()
}

#[test]
fn a_crlf_registry_reports_every_problem_where_the_lf_one_does() {
    // Spreadsheets save CSV with CRLF line ends: the same bad rows must be located at the same
    // line and column either way.
    let lf = broken_fixture();
    let crlf = lf
        .clone()
        .with(SUPPLIERS, lf.text(SUPPLIERS).replace('\n', "\r\n"))
        .with(STOCK_LINES, lf.text(STOCK_LINES).replace('\n', "\r\n"));
    let (lf_problems, crlf_problems) = (lf.load().list, crlf.load().list);
    for file in [SUPPLIERS, STOCK_LINES] {
        let expected = located(&lf_problems, file);
        assert!(!expected.is_empty());
        assert_eq!(located(&crlf_problems, file), expected, "{file} with CRLF line ends");
    }
    // And the columns point at the bad field, not at column 1.
    let text = lf.text(SUPPLIERS);
    let off_the_map = line_of(text, "Supplier off the map");
    assert!(
        crlf_problems.iter().any(|p| p.file == SUPPLIERS
            && p.line == off_the_map
            && p.column == Some(43)
            && p.message.contains("longitude")),
        "{}",
        listing(&crlf_problems)
    );
}

#[test]
fn a_supplier_row_that_did_not_load_is_reported_once_not_on_each_of_its_stock_lines() {
    // At national scale one bad supplier row would otherwise bury its cause under one
    // "unknown supplier" per stock line.
    let fixture = Fixture::clean()
        .append(SUPPLIERS, "sup-9,Supplier in no known place,atlantis,,39.6,118.2,ccc,0.9\n")
        .append(STOCK_LINES, "sup-9,pump,3,0,4\nsup-9,helmet,2,0,4\nsup-9,drainage-truck,1,0,4\n");
    let problems = fixture.load().list;
    let supplier_row = line_of(fixture.text(SUPPLIERS), "sup-9");
    let first_stock_row = line_of(fixture.text(STOCK_LINES), "sup-9,pump");
    let in_stock_lines = located(&problems, STOCK_LINES);
    assert_eq!(in_stock_lines.len(), 1, "{}", listing(&problems));
    let (line, _, message) = &in_stock_lines[0];
    assert_eq!(*line, first_stock_row);
    assert!(
        message.contains(&format!("\"sup-9\" was not loaded (see {SUPPLIERS}:{supplier_row})"))
            && message.contains("3 stock lines"),
        "{message}"
    );
    // A supplier id that is nowhere in suppliers.csv is still an unknown supplier, per row.
    let typo = Fixture::clean().append(STOCK_LINES, "sup-x,pump,3,0,4\n");
    assert_reported(&typo.load().list, STOCK_LINES, 4, "unknown supplier \"sup-x\"");
}
