//! The catalog: scenarios, taxonomy, places and the supplier registry, loaded from files (or
//! from the copies embedded in the binary), validated, indexed and then immutable.
//!
//! Loading never stops at the first problem: `load` returns what it could build and every
//! problem with file, line and reason; `Catalog::load` refuses a catalog with any problem.

mod alert_mapping;
pub mod audit;
mod embedded;
pub(crate) mod fields;
mod files;
mod index;
mod problems;
mod registry;
mod scenarios;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

pub use alert_mapping::{ALERT_MAPPING_FILE, MAPPING_NAMES_MAX, MAPPING_RULES_MAX};
pub use index::{
    CategoryBounds, CategoryIndex, Children, IndexedLine, Node, NodeBounds, LEAD_TIME_BANDS_HOURS,
    LEAF_LINES_MAX, SMALL_CATEGORY_LINES_MAX, STATIC_SCORE_WEIGHTS,
};
pub use problems::{Problem, Problems, SourceText, PROBLEMS_MAX};
pub use registry::{
    CREW_PER_UNIT_MAX, LEAD_TIME_HOURS_MAX, STOCK_LINES_FILE, STOCK_LINES_HEADER, SUPPLIERS_FILE,
    SUPPLIERS_HEADER,
};
pub use scenarios::{CATEGORIES_MAX, NEEDED_WITHIN_HOURS_MAX, PLACES_FILE, TAXONOMY_FILE};

use crate::domain::{
    great_circle_km_units, zone_value, AlertMapping, Category, CategoryIdx, CertSet, Certification,
    HolderKind, Id, LatLon, Place, PlaceIdx, Scenario, StockLine, StockLineIdx, Supplier,
    SupplierIdx, ZoneTier,
};

/// One input file: a display name (a path, or `embedded:scenarios/…`) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Cow<'static, str>,
}

impl SourceFile {
    /// The file name without its folders.
    pub fn base_name(&self) -> &str {
        self.name.rsplit(['/', '\\']).next().unwrap_or(&self.name)
    }
}

/// Where a catalog comes from: the scenario folder's files and the registry's two CSV files.
#[derive(Debug, Clone, Default)]
pub struct CatalogSources {
    pub scenario_files: Vec<SourceFile>,
    pub registry_files: Vec<SourceFile>,
}

impl CatalogSources {
    /// The default data compiled into the binary: `scenarios/` and `registry/sample/`.
    pub fn embedded() -> CatalogSources {
        let to_files = |files: &[(&'static str, &'static str)], folder: &str| {
            files
                .iter()
                .map(|(name, text)| SourceFile {
                    name: format!("embedded:{folder}/{name}"),
                    text: Cow::Borrowed(*text),
                })
                .collect()
        };
        CatalogSources {
            scenario_files: to_files(embedded::SCENARIO_FILES, "scenarios"),
            registry_files: to_files(embedded::REGISTRY_FILES, "registry/sample"),
        }
    }

    /// The embedded data, with either folder replaced by files read from disk. Unreadable
    /// files become problems (file, line 0, reason).
    pub fn from_dirs(
        scenarios: Option<&Path>,
        registry: Option<&Path>,
        problems: &mut Problems,
    ) -> CatalogSources {
        let mut sources = CatalogSources::embedded();
        if let Some(dir) = scenarios {
            sources.scenario_files = read_dir_files(dir, "toml", problems);
        }
        if let Some(dir) = registry {
            sources.registry_files = [SUPPLIERS_FILE, STOCK_LINES_FILE]
                .iter()
                .filter_map(|name| read_file(&dir.join(name), problems))
                .collect();
        }
        sources
    }
}

fn read_file(path: &Path, problems: &mut Problems) -> Option<SourceFile> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(SourceFile { name, text: Cow::Owned(text) }),
            Err(error) => {
                let offset = error.utf8_error().valid_up_to();
                let line = error.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count() + 1;
                problems.push(&name, line as u32, None, "file is not valid UTF-8");
                None
            }
        },
        Err(error) => {
            problems.push(&name, 0, None, format!("cannot read: {error}"));
            None
        }
    }
}

fn read_dir_files(dir: &Path, extension: &str, problems: &mut Problems) -> Vec<SourceFile> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(
                &dir.display().to_string(),
                0,
                None,
                format!("cannot read folder: {error}"),
            );
            return Vec::new();
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == extension))
        .collect();
    paths.sort();
    paths.iter().filter_map(|path| read_file(path, problems)).collect()
}

/// A registry with headers and no rows: for tools that need the taxonomy and places only
/// (the generator).
pub fn empty_registry() -> Vec<SourceFile> {
    vec![
        SourceFile {
            name: SUPPLIERS_FILE.into(),
            text: Cow::Owned(SUPPLIERS_HEADER.join(",") + "\n"),
        },
        SourceFile {
            name: STOCK_LINES_FILE.into(),
            text: Cow::Owned(STOCK_LINES_HEADER.join(",") + "\n"),
        },
    ]
}

/// How many of each thing a catalog holds (what `equipmatch check` prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub scenarios: usize,
    pub categories: usize,
    pub places: usize,
    pub suppliers: usize,
    pub stock_lines: usize,
}

/// What the engine reads of a supplier for every stock line it evaluates, packed apart from
/// the names and ids of `Supplier` so the hot path touches little memory: 64 bytes aligned
/// to 64, one cache line a supplier. Unaligned, three suppliers in four straddled two lines,
/// and at national scale nearly every supplier a search reads is a cache miss (the array is
/// 6.4 MB at 1e5 suppliers), so that was two misses, not one.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(align(64))]
pub struct SupplierPoint {
    /// The position on the unit sphere (`LatLon::unit_vector`).
    pub unit: [f64; 3],
    pub reliability: f64,
    pub certifications: CertSet,
    pub zone: ZoneTier,
    /// The zone policy criterion's value (`domain::zone_value`).
    pub zone_value: f64,
    pub place: PlaceIdx,
    pub base: Option<PlaceIdx>,
    /// Who holds the stock (the `holder_kinds` filter and `prefer_kinds` read it).
    pub kind: HolderKind,
}

// A supplier's point is one cache line (its fields take 62 bytes): growing it past 64 would
// double what the engine reads per supplier.
const _: () = assert!(std::mem::size_of::<SupplierPoint>() == 64);

/// The immutable, validated and indexed catalog every answer is computed from.
#[derive(Debug)]
pub struct Catalog {
    /// A digest of every input file's name and bytes: the same files give the same version.
    pub version: String,
    pub certifications: Vec<Certification>,
    pub categories: Vec<Category>,
    pub places: Vec<Place>,
    /// Sorted by id.
    pub scenarios: Vec<Scenario>,
    /// Sorted by id.
    pub suppliers: Vec<Supplier>,
    /// Per supplier, what the engine reads for every line it evaluates (`SupplierPoint`).
    supplier_points: Vec<SupplierPoint>,
    /// Grouped by category; within a category in the order of its index's leaves (which
    /// depends on the data only, never on file order), so a leaf is a contiguous run.
    pub stock_lines: Vec<StockLine>,
    /// Defaults the load applied to older files, one sentence each (a registry written before
    /// the `kind` column reads as manufacturers): `check` prints them and `serve` logs them, so
    /// no default is silent.
    pub notes: Vec<String>,
    category_ranges: Vec<(u32, u32)>,
    /// Per category, its position in id order: the ranking's last tie-break, so that no output
    /// depends on the taxonomy's file order.
    category_id_rank: Vec<u32>,
    /// Per supplier, its stock line indexes (CSR layout: offsets into `supplier_line_idx`).
    supplier_line_offsets: Vec<u32>,
    supplier_line_idx: Vec<u32>,
    indexes: Vec<CategoryIndex>,
    category_by_id: HashMap<Id, CategoryIdx>,
    place_by_id: HashMap<Id, PlaceIdx>,
    scenario_by_id: HashMap<Id, usize>,
    cert_by_id: HashMap<Id, usize>,
    /// How CAP alerts and EDXL-RM resources map onto the catalog (`cap-events.toml`; a mapping
    /// that maps nothing when the folder has no such file).
    pub alert_mapping: AlertMapping,
    /// Geocode `valueName`s whose values are GB/T 2260 codes (normalised).
    pub geocode_schemes: Vec<String>,
    place_by_admin_code: HashMap<String, PlaceIdx>,
}

/// A catalog that did not load cleanly.
#[derive(Debug, thiserror::Error)]
#[error("the catalog has {} problem(s); first: {}", .problems.total(), .problems.list.first().map_or(String::new(), |p| p.to_string()))]
pub struct LoadError {
    pub problems: Problems,
}

/// What a load built, and what was wrong.
pub struct Loaded {
    pub catalog: Catalog,
    pub problems: Problems,
}

impl Catalog {
    /// Loads and refuses any problem.
    pub fn load(sources: &CatalogSources) -> Result<Catalog, LoadError> {
        let loaded = load(sources);
        if loaded.problems.is_empty() {
            Ok(loaded.catalog)
        } else {
            Err(LoadError { problems: loaded.problems })
        }
    }

    /// The embedded default data; a problem there is a build defect that tests catch.
    pub fn embedded() -> Result<Catalog, LoadError> {
        Catalog::load(&CatalogSources::embedded())
    }

    pub fn counts(&self) -> Counts {
        Counts {
            scenarios: self.scenarios.len(),
            categories: self.categories.len(),
            places: self.places.len(),
            suppliers: self.suppliers.len(),
            stock_lines: self.stock_lines.len(),
        }
    }

    pub fn category(&self, idx: CategoryIdx) -> &Category {
        &self.categories[idx.0 as usize]
    }

    pub fn place(&self, idx: PlaceIdx) -> &Place {
        &self.places[idx.0 as usize]
    }

    pub fn supplier(&self, idx: SupplierIdx) -> &Supplier {
        &self.suppliers[idx.0 as usize]
    }

    pub fn stock_line(&self, idx: StockLineIdx) -> &StockLine {
        &self.stock_lines[idx.0 as usize]
    }

    /// The category of line `idx`: the one whose run holds it (a binary search over the
    /// categories' runs, which tile the lines in category order).
    pub fn line_category(&self, idx: StockLineIdx) -> CategoryIdx {
        let at = self.category_ranges.partition_point(|(_, end)| *end <= idx.0);
        CategoryIdx(at as u32)
    }

    pub fn category_by_id(&self, id: &str) -> Option<CategoryIdx> {
        self.category_by_id.get(id).copied()
    }

    pub fn place_by_id(&self, id: &str) -> Option<PlaceIdx> {
        self.place_by_id.get(id).copied()
    }

    pub fn scenario_by_id(&self, id: &str) -> Option<&Scenario> {
        self.scenario_by_id.get(id).map(|idx| &self.scenarios[*idx])
    }

    pub fn supplier_by_id(&self, id: &str) -> Option<SupplierIdx> {
        // Suppliers are sorted by id: a binary search, and no second copy of 100,000s of ids.
        let found = self.suppliers.binary_search_by(|supplier| supplier.id.as_str().cmp(id));
        found.ok().map(|idx| SupplierIdx(idx as u32))
    }

    /// The place whose GB/T 2260 code this is.
    pub fn place_by_admin_code(&self, code: &str) -> Option<PlaceIdx> {
        self.place_by_admin_code.get(code).copied()
    }

    pub fn certification_by_id(&self, id: &str) -> Option<usize> {
        self.cert_by_id.get(id).copied()
    }

    /// What the engine reads of a supplier, packed (see `SupplierPoint`).
    pub fn supplier_point(&self, idx: SupplierIdx) -> &SupplierPoint {
        &self.supplier_points[idx.0 as usize]
    }

    /// The stock lines of one category (in the order of its index's leaves).
    pub fn category_lines(&self, idx: CategoryIdx) -> std::ops::Range<usize> {
        let (start, end) = self.category_ranges[idx.0 as usize];
        start as usize..end as usize
    }

    /// The category's position among all categories in id order.
    pub fn category_id_rank(&self, idx: CategoryIdx) -> u32 {
        self.category_id_rank[idx.0 as usize]
    }

    /// The search index of one category's stock lines.
    pub fn category_index(&self, idx: CategoryIdx) -> &CategoryIndex {
        &self.indexes[idx.0 as usize]
    }

    /// The stock lines of one category nearest first from `at`, each with its great-circle
    /// distance in km (a lower bound of it, for callers that only prune with it).
    pub fn nearest_lines(
        &self,
        category: CategoryIdx,
        at: LatLon,
    ) -> impl Iterator<Item = (StockLineIdx, f64)> + '_ {
        let first = self.category_lines(category).start as u32;
        let at = at.unit_vector();
        self.category_index(category)
            .nearest(at, move |position| {
                let line = &self.stock_lines[(first + position) as usize];
                great_circle_km_units(at, self.supplier_point(line.supplier).unit)
            })
            .map(move |(position, km)| (StockLineIdx(first + position), km))
    }

    /// A supplier's stock line indexes, in category order.
    pub fn supplier_lines(&self, idx: SupplierIdx) -> impl Iterator<Item = StockLineIdx> + '_ {
        let start = self.supplier_line_offsets[idx.0 as usize] as usize;
        let end = self.supplier_line_offsets[idx.0 as usize + 1] as usize;
        self.supplier_line_idx[start..end].iter().map(|i| StockLineIdx(*i))
    }
}

/// Loads everything it can and collects every problem.
pub fn load(sources: &CatalogSources) -> Loaded {
    let mut problems = Problems::default();
    let data = scenarios::load(&sources.scenario_files, &mut problems);
    let mut notes = Vec::new();
    if data.taxonomy_failed {
        let catalog = assemble(sources, data, Vec::new(), Vec::new(), notes);
        return Loaded { catalog, problems };
    }

    let category_ids: HashMap<&str, CategoryIdx> = data
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), CategoryIdx(i as u32)))
        .collect();
    let place_ids: HashMap<&str, PlaceIdx> =
        data.places.iter().enumerate().map(|(i, p)| (p.id.as_str(), PlaceIdx(i as u32))).collect();
    let cert_ids: HashMap<&str, usize> =
        data.certifications.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let lookups = registry::Lookups {
        places: &data.places,
        place_ids: &place_ids,
        category_ids: &category_ids,
        cert_ids: &cert_ids,
    };
    let find = |name: &str| sources.registry_files.iter().find(|file| file.base_name() == name);
    let loaded_suppliers = match find(SUPPLIERS_FILE) {
        Some(file) => registry::load_suppliers(file, &lookups, &mut problems, &mut notes),
        None => {
            problems.push(SUPPLIERS_FILE, 0, None, "suppliers.csv is missing from the registry");
            Default::default()
        }
    };
    let stock_lines = match find(STOCK_LINES_FILE) {
        Some(file) => {
            registry::load_stock_lines(file, &lookups, &loaded_suppliers, &mut problems, &mut notes)
        }
        None => {
            problems.push(
                STOCK_LINES_FILE,
                0,
                None,
                "stock_lines.csv is missing from the registry",
            );
            Vec::new()
        }
    };
    let catalog = assemble(sources, data, loaded_suppliers.suppliers, stock_lines, notes);
    Loaded { catalog, problems }
}

/// Sorts, cross-indexes and builds the spatial indexes.
fn assemble(
    sources: &CatalogSources,
    data: scenarios::ScenarioData,
    mut suppliers: Vec<Supplier>,
    mut read: Vec<registry::CategoryLine>,
    notes: Vec<String>,
) -> Catalog {
    sort_suppliers(&mut suppliers, &mut read);
    let category_ranges = category_ranges(&read, data.categories.len());
    // Grouped by category, a line's category is where it sits: drop the field.
    let mut stock_lines: Vec<StockLine> = read.iter().map(|row| row.line).collect();
    drop(read);
    let supplier_points = supplier_points(&suppliers, &data.places);
    let indexes =
        build_indexes(&mut stock_lines, &category_ranges, &supplier_points, &data.categories);
    let (supplier_line_offsets, supplier_line_idx) =
        lines_by_supplier(&stock_lines, suppliers.len());
    let category_id_rank = category_id_rank(&data.categories);

    let index_by_id = |ids: Vec<&Id>| {
        ids.into_iter().enumerate().map(|(i, id)| (id.clone(), i)).collect::<HashMap<Id, usize>>()
    };
    let category_by_id = data
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), CategoryIdx(i as u32)))
        .collect();
    let place_by_id =
        data.places.iter().enumerate().map(|(i, p)| (p.id.clone(), PlaceIdx(i as u32))).collect();
    let scenario_by_id = index_by_id(data.scenarios.iter().map(|s| &s.id).collect());
    let place_by_admin_code = data
        .places
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.admin_code.clone().map(|code| (code, PlaceIdx(i as u32))))
        .collect();
    let (alert_mapping, geocode_schemes) = match data.alert_mapping {
        Some(loaded) => (loaded.mapping, loaded.geocode_schemes),
        None => (AlertMapping::empty(), Vec::new()),
    };
    let cert_by_id = index_by_id(data.certifications.iter().map(|c| &c.id).collect());

    Catalog {
        version: version_of(sources),
        certifications: data.certifications,
        categories: data.categories,
        places: data.places,
        scenarios: data.scenarios,
        suppliers,
        supplier_points,
        stock_lines,
        notes,
        category_ranges,
        category_id_rank,
        supplier_line_offsets,
        supplier_line_idx,
        indexes,
        category_by_id,
        place_by_id,
        scenario_by_id,
        cert_by_id,
        alert_mapping,
        geocode_schemes,
        place_by_admin_code,
    }
}

/// Suppliers sorted by id, stock lines renumbered to match and grouped by category (then
/// supplier): output order never depends on file order.
fn sort_suppliers(suppliers: &mut Vec<Supplier>, stock_lines: &mut [registry::CategoryLine]) {
    let mut order: Vec<u32> = (0..suppliers.len() as u32).collect();
    order.sort_unstable_by(|a, b| suppliers[*a as usize].id.cmp(&suppliers[*b as usize].id));
    let mut new_idx = vec![0u32; suppliers.len()];
    for (new, old) in order.iter().enumerate() {
        new_idx[*old as usize] = new as u32;
    }
    let mut slots: Vec<Option<Supplier>> = suppliers.drain(..).map(Some).collect();
    *suppliers = order.iter().filter_map(|old| slots[*old as usize].take()).collect();
    for row in stock_lines.iter_mut() {
        row.line.supplier = SupplierIdx(new_idx[row.line.supplier.0 as usize]);
    }
    stock_lines.sort_unstable_by_key(|row| (row.category, row.line.supplier));
}

/// Each category's run of the (category-grouped) stock lines, as [start, end). The runs
/// tile the lines in category order, empty ones included (an empty run sits where its lines
/// would), so the ends never decrease: `Catalog::line_category` searches them.
fn category_ranges(stock_lines: &[registry::CategoryLine], n_categories: usize) -> Vec<(u32, u32)> {
    let mut category_ranges = Vec::with_capacity(n_categories);
    let mut start = 0usize;
    for category in 0..n_categories as u32 {
        let end = start
            + stock_lines[start..].partition_point(|row| row.category == CategoryIdx(category));
        category_ranges.push((start as u32, end as u32));
        start = end;
    }
    category_ranges
}

/// What evaluating a line reads of its supplier, packed apart from names and ids.
fn supplier_points(suppliers: &[Supplier], places: &[Place]) -> Vec<SupplierPoint> {
    suppliers
        .iter()
        .map(|supplier| {
            let zone = places[supplier.place.0 as usize].zone;
            SupplierPoint {
                unit: supplier.location.unit_vector(),
                reliability: supplier.reliability,
                certifications: supplier.certifications,
                zone,
                zone_value: zone_value(zone, supplier.base.is_some()),
                place: supplier.place,
                base: supplier.base,
                kind: supplier.kind,
            }
        })
        .collect()
}

/// Each category's index, with its lines stored in the index's leaf order.
fn build_indexes(
    stock_lines: &mut [StockLine],
    category_ranges: &[(u32, u32)],
    supplier_points: &[SupplierPoint],
    categories: &[Category],
) -> Vec<CategoryIndex> {
    let mut indexes = Vec::with_capacity(category_ranges.len());
    for (category, &(start, end)) in categories.iter().zip(category_ranges) {
        let (start, end) = (start as usize, end as usize);
        let lines = stock_lines[start..end]
            .iter()
            .enumerate()
            .map(|(position, line)| {
                let point = &supplier_points[line.supplier.0 as usize];
                IndexedLine {
                    unit: point.unit,
                    position: position as u32,
                    lead_time_hours: line.lead_time_hours,
                    quantity_on_hand: line.quantity_on_hand,
                    surge_per_day: line.surge_per_day,
                    reliability: point.reliability,
                    zone: point.zone,
                    zone_value: point.zone_value,
                    certification_fit: category.certification_fit(point.certifications),
                    certifications: point.certifications,
                }
            })
            .collect();
        let (index, order) = CategoryIndex::build(lines);
        let in_order: Vec<StockLine> =
            order.iter().map(|position| stock_lines[start + *position as usize]).collect();
        stock_lines[start..end].copy_from_slice(&in_order);
        indexes.push(index);
    }
    indexes
}

/// Each supplier's stock lines: offsets (one past the last supplier too) into a list of line
/// indexes grouped by supplier.
fn lines_by_supplier(stock_lines: &[StockLine], n_suppliers: usize) -> (Vec<u32>, Vec<u32>) {
    let mut counts = vec![0u32; n_suppliers + 1];
    for line in stock_lines {
        counts[line.supplier.0 as usize + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    let offsets = counts.clone();
    let mut idx = vec![0u32; stock_lines.len()];
    let mut fill = counts;
    for (i, line) in stock_lines.iter().enumerate() {
        let slot = &mut fill[line.supplier.0 as usize];
        idx[*slot as usize] = i as u32;
        *slot += 1;
    }
    (offsets, idx)
}

/// Each category's rank among the categories sorted by id: the last tie-break, so no answer
/// depends on the taxonomy's file order.
fn category_id_rank(categories: &[Category]) -> Vec<u32> {
    let mut by_id: Vec<u32> = (0..categories.len() as u32).collect();
    by_id.sort_unstable_by(|a, b| categories[*a as usize].id.cmp(&categories[*b as usize].id));
    let mut category_id_rank = vec![0u32; categories.len()];
    for (rank, idx) in by_id.iter().enumerate() {
        category_id_rank[*idx as usize] = rank as u32;
    }
    category_id_rank
}

/// FNV-1a over base names and bytes, in name order: stable across runs, platforms and the
/// folder the files came from.
fn version_of(sources: &CatalogSources) -> String {
    let mut files: Vec<&SourceFile> =
        sources.scenario_files.iter().chain(&sources.registry_files).collect();
    files.sort_by(|a, b| a.base_name().cmp(b.base_name()));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        for byte in file.base_name().bytes().chain([0]).chain(file.text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::Catalog;
    use crate::domain::{CategoryIdx, StockLineIdx};

    #[test]
    fn every_supplier_is_found_by_its_id_and_only_by_it() {
        // `supplier_by_id` binary-searches the id-sorted suppliers: checked against their
        // positions, one by one, with ids that sort before, between and after them.
        let catalog = Catalog::embedded().expect("the embedded catalog loads");
        assert!(catalog.suppliers.len() > 100);
        for (i, supplier) in catalog.suppliers.iter().enumerate() {
            assert_eq!(catalog.supplier_by_id(supplier.id.as_str()).map(|s| s.0 as usize), Some(i));
            let between = format!("{}-", supplier.id.as_str());
            assert_eq!(catalog.supplier_by_id(&between), None);
        }
        for unknown in ["", "a", "sup-", "sup-99999999", "zzz"] {
            assert_eq!(catalog.supplier_by_id(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn a_lines_category_is_the_one_whose_run_holds_it() {
        // `line_category` binary-searches the categories' runs: checked against every
        // category's own range, on the embedded registry without the lines of the first, the
        // last and every third category (empty runs at both ends and between others).
        use super::{CatalogSources, SourceFile, STOCK_LINES_FILE};
        let embedded = Catalog::embedded().expect("the embedded catalog loads");
        let n = embedded.categories.len();
        let dropped = |c: usize| c == 0 || c == n - 1 || c.is_multiple_of(3);
        let mut sources = CatalogSources::embedded();
        let file = sources
            .registry_files
            .iter_mut()
            .find(|f| f.name.ends_with(STOCK_LINES_FILE))
            .expect("a stock lines file");
        let text: String = file
            .text
            .lines()
            .enumerate()
            .filter(|(i, row)| {
                let category = row.split(',').nth(1).unwrap_or_default();
                *i == 0 || embedded.category_by_id(category).is_none_or(|c| !dropped(c.0 as usize))
            })
            .map(|(_, row)| format!("{row}\n"))
            .collect();
        *file = SourceFile { name: file.name.clone(), text: std::borrow::Cow::Owned(text) };
        let catalog = Catalog::load(&sources).expect("the thinned registry loads");
        let mut seen = 0;
        for c in 0..n {
            let lines = catalog.category_lines(CategoryIdx(c as u32));
            assert_eq!(lines.is_empty(), dropped(c), "category {c}");
            for line in lines {
                assert_eq!(catalog.line_category(StockLineIdx(line as u32)), CategoryIdx(c as u32));
                seen += 1;
            }
        }
        assert!(seen > 0);
        assert_eq!(seen, catalog.stock_lines.len(), "the runs tile the lines");
    }
}
