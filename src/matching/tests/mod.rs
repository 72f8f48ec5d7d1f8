//! Unit tests of the engine.
//!
//! - The indexed, pruned search returns exactly what a brute-force scan of every stock line
//!   returns, options and plans, over many random queries (`equivalence.rs`).
//! - The sourcing plan is optimal for its objective (fewest lines, then earliest last arrival),
//!   checked against exhaustive search on small random instances, and never takes more than a
//!   line has.

mod equivalence;

use super::plan::plan;
use super::search::Candidate;
use super::*;
use crate::catalog::Catalog;
use crate::domain::{CategoryIdx, StockLineIdx, SupplierIdx};

/// A small deterministic generator for test inputs (xorshift64*).
pub(super) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A generated (SYNTHETIC) registry big enough that every category is searched through its
/// index rather than evaluated whole (more than `SMALL_CATEGORY_LINES_MAX` lines each).
pub(super) fn big_catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        use crate::catalog::{CatalogSources, SourceFile, STOCK_LINES_FILE, SUPPLIERS_FILE};
        let base = Catalog::load(&CatalogSources {
            registry_files: crate::catalog::empty_registry(),
            ..CatalogSources::embedded()
        })
        .expect("embedded taxonomy");
        let params =
            crate::generator::Params { suppliers: 20_000, seed: 11, lines_per_supplier: 10 };
        let (mut suppliers, mut lines) = (Vec::new(), Vec::new());
        crate::generator::generate(&base, &params, &mut suppliers, &mut lines).expect("generate");
        let file = |name: &str, bytes: Vec<u8>| SourceFile {
            name: name.into(),
            text: std::borrow::Cow::Owned(String::from_utf8(bytes).expect("utf-8")),
        };
        let sources = CatalogSources {
            registry_files: vec![file(SUPPLIERS_FILE, suppliers), file(STOCK_LINES_FILE, lines)],
            ..CatalogSources::embedded()
        };
        let catalog = Catalog::load(&sources).expect("generated registry loads");
        let searched = (0..catalog.categories.len())
            .filter(|i| {
                catalog.category_index(CategoryIdx(*i as u32)).len()
                    > crate::catalog::SMALL_CATEGORY_LINES_MAX
            })
            .count();
        assert!(searched * 2 > catalog.categories.len(), "most categories go through the index");
        catalog
    })
}

/// The embedded catalog, for plan tests on hand-made candidates (of category 0).
fn test_catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::embedded().expect("embedded catalog"))
}

fn candidate(supplier: u32, available: f64, eta_hours: f64) -> Candidate {
    Candidate {
        line: StockLineIdx(supplier),
        supplier: SupplierIdx(supplier),
        category: CategoryIdx(0),
        substitute: false,
        efficiency: 1.0,
        quantity_from_stock: available,
        quantity_from_production: 0.0,
        distance_km: None,
        eta_hours,
        on_time: true,
        score: 0.0,
        values: [0.0; 5],
    }
}

/// (fewest lines, then earliest last arrival) over every subset.
fn exhaustive(pool: &[Candidate], required: f64) -> (usize, f64) {
    let total: f64 = pool.iter().map(|c| c.quantity_available()).sum();
    let target = required.min(total);
    let mut best = (usize::MAX, f64::INFINITY);
    for mask in 1u32..(1 << pool.len()) {
        let chosen: Vec<&Candidate> =
            pool.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c).collect();
        let sum: f64 = chosen.iter().map(|c| c.quantity_available()).sum();
        if sum < target {
            continue;
        }
        let key = (chosen.len(), chosen.iter().map(|c| c.eta_hours).fold(0.0, f64::max));
        if key.0 < best.0 || (key.0 == best.0 && key.1 < best.1) {
            best = key;
        }
    }
    best
}

#[test]
fn the_plan_is_optimal_against_exhaustive_search() {
    let mut rng = Rng(42);
    for round in 0..2000 {
        let n = 1 + rng.below(10);
        let pool: Vec<Candidate> = (0..n)
            .map(|i| candidate(i as u32, (1 + rng.below(12)) as f64, (1 + rng.below(20)) as f64))
            .collect();
        let required = (1 + rng.below(40)) as f64;
        let entries = plan(test_catalog(), &pool, required);
        let (lines, last) = exhaustive(&pool, required);
        let used = entries.len();
        let latest = entries.iter().map(|e| e.eta_hours).fold(0.0, f64::max);
        assert_eq!(
            (used, latest),
            (lines, last),
            "round {round}: required {required}, pool {pool:?}, plan {entries:?}"
        );
        for entry in &entries {
            let line = pool.iter().find(|c| c.supplier == entry.supplier).unwrap();
            assert!(entry.quantity <= line.quantity_available() && entry.quantity > 0.0);
        }
        let planned: f64 = entries.iter().map(|e| e.quantity_equivalent).sum();
        let total: f64 = pool.iter().map(|c| c.quantity_available()).sum();
        assert!(planned >= required.min(total), "round {round}");
    }
}

#[test]
fn substitutes_only_cover_what_the_required_category_cannot() {
    let mut primary = candidate(1, 3.0, 2.0);
    primary.category = CategoryIdx(0);
    let mut substitute = candidate(2, 100.0, 1.0);
    substitute.substitute = true;
    substitute.efficiency = 0.5;
    let entries = plan(test_catalog(), &[primary, substitute], 5.0);
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].quantity, entries[0].substitute), (3.0, false));
    // 2 units short, at efficiency 0.5: 4 units of the substitute.
    assert_eq!(
        (entries[1].quantity, entries[1].quantity_equivalent, entries[1].substitute),
        (4.0, 2.0, true)
    );
}

#[test]
fn a_substitute_covers_a_shortfall_without_one_unit_too_many() {
    // 21 short at efficiency 0.7 is 30 units (30 × 0.7 = 21), though 21 ÷ 0.7 computes as
    // 30.000000000000004 in floating point.
    let primary = candidate(1, 9.0, 2.0);
    let mut substitute = candidate(2, 100.0, 1.0);
    substitute.substitute = true;
    substitute.efficiency = 0.7;
    let entries = plan(test_catalog(), &[primary, substitute], 30.0);
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[1].quantity, entries[1].substitute), (30.0, true));
    // Never short either: the units taken cover what was missing.
    for (short, efficiency) in [(21.0, 0.7), (10.0, 0.3), (7.0, 0.1), (1.0, 0.9), (33.0, 0.11)] {
        let mut substitute = candidate(2, 1000.0, 1.0);
        substitute.substitute = true;
        substitute.efficiency = efficiency;
        let entries = plan(test_catalog(), &[substitute], short);
        let units = entries[0].quantity;
        assert!(units * efficiency >= short - 1e-9, "{short} at {efficiency}: {units}");
        assert!((units - 1.0) * efficiency < short - 1e-9, "{short} at {efficiency}: {units}");
    }
}

/// A catalog of the embedded scenarios with a registry given as CSV text.
fn catalog_with(suppliers: &str, stock_lines: &str) -> Catalog {
    use crate::catalog::{CatalogSources, SourceFile, STOCK_LINES_FILE, SUPPLIERS_FILE};
    let file = |name: &str, text: &str| SourceFile {
        name: name.into(),
        text: std::borrow::Cow::Owned(text.to_owned()),
    };
    Catalog::load(&CatalogSources {
        registry_files: vec![file(SUPPLIERS_FILE, suppliers), file(STOCK_LINES_FILE, stock_lines)],
        ..CatalogSources::embedded()
    })
    .expect("test registry loads")
}

#[test]
fn the_last_tie_break_is_the_category_id_not_the_taxonomy_order() {
    // One supplier holding every certification, with the same stock in two categories that the
    // taxonomy lists against id order: without a location the two lines tie on every criterion
    // and on the supplier, so only the category id may decide.
    let embedded = Catalog::embedded().expect("embedded catalog");
    let (first, second) = (0..embedded.categories.len())
        .flat_map(|i| (i + 1..embedded.categories.len()).map(move |j| (i, j)))
        .map(|(i, j)| (&embedded.categories[i], &embedded.categories[j]))
        .find(|(a, b)| a.id.as_str() > b.id.as_str())
        .expect("the taxonomy is not in id order");
    let certifications: Vec<&str> = embedded.certifications.iter().map(|c| c.id.as_str()).collect();
    let suppliers = format!(
        "{}\nsup-1,Test supplier,{},,39.6,118.2,{},0.9,manufacturer\n",
        crate::catalog::SUPPLIERS_HEADER.join(","),
        embedded.places[0].id,
        certifications.join(";")
    );
    let stock_lines = format!(
        "{}\nsup-1,{},10,0,4,0\nsup-1,{},10,0,4,0\n",
        crate::catalog::STOCK_LINES_HEADER.join(","),
        first.id,
        second.id
    );
    let catalog = catalog_with(&suppliers, &stock_lines);
    let query = ShortlistQuery {
        categories: vec![
            catalog.category_by_id(first.id.as_str()).unwrap(),
            catalog.category_by_id(second.id.as_str()).unwrap(),
        ],
        quantity: 5.0,
        location: None,
        window_hours: 24.0,
        count: 2,
        filters: Filters::default(),
        weights: Weights::default(),
        prefer_kinds: Vec::new(),
    };
    for result in
        [shortlist(&catalog, &NoHolds, &query), shortlist_scan(&catalog, &NoHolds, &query)]
    {
        let ids: Vec<&str> =
            result.entries.iter().map(|e| catalog.category(e.category).id.as_str()).collect();
        assert_eq!(result.entries[0].score, result.entries[1].score);
        assert_eq!(ids, vec![second.id.as_str(), first.id.as_str()]);
    }
}

#[test]
fn a_search_stopped_at_its_work_bound_says_so() {
    use super::plan_search::{self, Work};
    use super::search::{options, Source, Spec};
    let catalog = big_catalog();
    let category = (0..catalog.categories.len() as u32)
        .map(CategoryIdx)
        .max_by_key(|c| catalog.category_lines(*c).len())
        .unwrap();
    let filters = Filters::default();
    let weights = Weights::default();
    let spec = |lines_examined_max| Spec {
        at: Some(crate::domain::LatLon::new(39.6347, 118.1948).unwrap().unit_vector()),
        window_hours: 72.0,
        quantity_required: 5_000.0,
        max_eta_hours: None,
        filters: &filters,
        weights: &weights,
        held: &NoHolds,
        lines_examined_max,
    };
    let sources = [Source::primary(category)];
    let cut = options(catalog, &sources, &spec(40), 20);
    assert!(cut.cut && cut.examined >= 40, "{} examined", cut.examined);
    assert!(cut.examined < 40 + crate::catalog::LEAF_LINES_MAX);
    let whole = options(catalog, &sources, &spec(LINES_EXAMINED_MAX), 20);
    assert!(!whole.cut && whole.examined > cut.examined);

    let (mut small, mut full) = (Work::default(), Work::default());
    plan_search::plan(catalog, &spec(40), sources[0], &[], 5_000.0, &mut small);
    plan_search::plan(catalog, &spec(LINES_EXAMINED_MAX), sources[0], &[], 5_000.0, &mut full);
    assert!(small.cut && !full.cut && full.examined > small.examined);
}
