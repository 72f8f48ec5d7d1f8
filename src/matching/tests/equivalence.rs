//! "Indexed equals brute force", extended: the search through the category index gives
//! exactly what evaluating every stock line gives (`shortlist_scan`, `match_incident_scan`),
//! for
//!
//! - stock lowered by holds and raised above the catalog by stock overrides (a `HeldStock`
//!   with both, some lines raised a millionfold);
//! - shortlists with and without a location, windows from 2 h to 30 days, every filter
//!   (zone tiers, places, certifications, lead time, reliability, excluded suppliers) and
//!   random weights;
//! - Match with and without `max_eta_hours`, filters and weights, comparing whole requirement
//!   results: options and plans (lines, quantities, arrivals), planned quantity, coverage and
//!   shortfall;
//!
//! and no round is skipped: a search that stopped at its work bound would be counted and the
//! test would fail, naming the rounds. Plus one test per correctness defect of issue 11 that
//! the random rounds could miss: a raised line far away (a), a shortlist without a location
//! in a category larger than the old 1,024-line window (b), a long-window search in a large
//! category (h).

use std::collections::HashMap;

use super::{big_catalog, Rng};
use crate::catalog::Catalog;
use crate::domain::{
    CategoryIdx, CertSet, HeldStock, HolderKind, LatLon, PlaceIdx, Severity, StockLineIdx,
    SupplierIdx, ZoneTier,
};
use crate::matching::*;

/// Holds and stock overrides for tests: `held` as the trait defines it.
#[derive(Debug, Default)]
pub(super) struct TestHolds {
    held: HashMap<StockLineIdx, f64>,
    raised: Vec<StockLineIdx>,
}

impl TestHolds {
    pub(super) fn set(&mut self, line: StockLineIdx, held: f64) {
        self.held.insert(line, held);
        self.raised = self.held.iter().filter(|(_, h)| **h < 0.0).map(|(l, _)| *l).collect();
        self.raised.sort_unstable();
    }

    /// Some lines lowered (partly or wholly held), some raised, a few enormously.
    fn random(catalog: &Catalog, rng: &mut Rng) -> TestHolds {
        let mut holds = TestHolds::default();
        let n_lines = catalog.stock_lines.len();
        for _ in 0..rng.below(400) {
            let line = StockLineIdx(rng.below(n_lines) as u32);
            let on_hand = catalog.stock_line(line).quantity_on_hand;
            holds.set(line, (on_hand * rng.unit() * 1.2).floor());
        }
        for _ in 0..rng.below(60) {
            let line = StockLineIdx(rng.below(n_lines) as u32);
            let raise = if rng.unit() < 0.2 { 1e6 } else { (1 + rng.below(500)) as f64 };
            holds.set(line, -raise);
        }
        holds
    }
}

impl HeldStock for TestHolds {
    fn held(&self, line: StockLineIdx) -> f64 {
        self.held.get(&line).copied().unwrap_or(0.0)
    }

    fn raised(&self) -> &[StockLineIdx] {
        &self.raised
    }
}

fn location(rng: &mut Rng) -> LatLon {
    // Mostly in and around the cluster, sometimes anywhere in China.
    let (lat, lon) = if rng.unit() < 0.8 {
        (36.0 + 5.0 * rng.unit(), 113.5 + 6.5 * rng.unit())
    } else {
        (20.0 + 25.0 * rng.unit(), 85.0 + 40.0 * rng.unit())
    };
    LatLon::new(lat, lon).unwrap()
}

fn weights(rng: &mut Rng) -> Weights {
    if rng.unit() < 0.5 {
        Weights::default()
    } else {
        Weights::normalised([rng.unit(), rng.unit(), rng.unit(), rng.unit(), rng.unit() + 0.01])
            .unwrap()
    }
}

/// Each filter on in some rounds, several at once in a few.
fn filters(catalog: &Catalog, rng: &mut Rng) -> Filters {
    let mut filters = Filters::default();
    if rng.unit() < 0.2 {
        filters.zone_tiers =
            ZoneTier::ALL.into_iter().filter(|_| rng.unit() < 0.5).collect::<Vec<_>>();
    }
    if rng.unit() < 0.15 {
        let mut places: Vec<PlaceIdx> = (0..1 + rng.below(3))
            .map(|_| PlaceIdx(rng.below(catalog.places.len()) as u32))
            .collect();
        places.sort_unstable();
        places.dedup();
        filters.places = places;
    }
    if rng.unit() < 0.15 {
        let mut required = CertSet::default();
        required.insert(rng.below(catalog.certifications.len()));
        filters.required_certifications = required;
    }
    if rng.unit() < 0.15 {
        filters.max_lead_time_hours = Some((1 + rng.below(24)) as f64);
    }
    if rng.unit() < 0.2 {
        filters.min_reliability = 0.7 + 0.25 * rng.unit();
    }
    if rng.unit() < 0.2 {
        let mut excluded: Vec<SupplierIdx> = (0..1 + rng.below(20))
            .map(|_| SupplierIdx(rng.below(catalog.suppliers.len()) as u32))
            .collect();
        excluded.sort_unstable();
        excluded.dedup();
        filters.excluded_suppliers = excluded;
    }
    // Kind filters: manufacturers only, standing resources only, or every holder.
    filters.holder_kinds = match rng.below(4) {
        0 => vec![HolderKind::Manufacturer],
        1 => HolderKind::ALL.iter().copied().filter(|k| k.is_standing()).collect(),
        _ => Vec::new(),
    };
    filters
}

/// No preference most of the time; else one or two holder kinds first (sorted).
fn prefer_kinds(rng: &mut Rng) -> Vec<HolderKind> {
    match rng.below(5) {
        0 => vec![HolderKind::FireRescue],
        1 => vec![HolderKind::ReserveDepot, HolderKind::FireRescue],
        2 => vec![HolderKind::Manufacturer],
        _ => Vec::new(),
    }
}

#[test]
fn shortlists_equal_brute_force_with_holds_overrides_filters_and_no_location() {
    let catalog = big_catalog();
    let mut rng = Rng(0x5EED_0011);
    let mut cut_rounds = Vec::new();
    for round in 0..400 {
        let holds = TestHolds::random(catalog, &mut rng);
        let categories: Vec<CategoryIdx> = (0..1 + rng.below(3))
            .map(|_| CategoryIdx(rng.below(catalog.categories.len()) as u32))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let query = ShortlistQuery {
            categories,
            quantity: 1.0 + (rng.unit() * 200.0).floor(),
            location: if rng.unit() < 0.3 { None } else { Some(location(&mut rng)) },
            window_hours: [2.0, 6.0, 12.0, 24.0, 72.0, 720.0][rng.below(6)],
            count: 1 + rng.below(40),
            filters: filters(catalog, &mut rng),
            weights: weights(&mut rng),
            prefer_kinds: prefer_kinds(&mut rng),
        };
        let indexed = shortlist(catalog, &holds, &query);
        if indexed.search_cut {
            cut_rounds.push(round);
        }
        let scanned = shortlist_scan(catalog, &holds, &query);
        assert_eq!(indexed.entries, scanned.entries, "round {round}: {query:?}");
    }
    assert!(cut_rounds.is_empty(), "searches cut at their work bound in rounds {cut_rounds:?}");
}

#[test]
fn matches_equal_brute_force_options_and_plans_with_holds_filters_and_max_eta() {
    let catalog = big_catalog();
    let mut rng = Rng(0xC0FF_EE11);
    let mut cut_rounds = Vec::new();
    let (mut requirements, mut planned_lines) = (0usize, 0usize);
    for round in 0..60 {
        let holds = TestHolds::random(catalog, &mut rng);
        let scenario = &catalog.scenarios[rng.below(catalog.scenarios.len())];
        let query = MatchQuery {
            scenario,
            severity: Severity::ALL[rng.below(4)],
            location: location(&mut rng),
            affected_population: (rng.below(2_000_000)) as f64,
            affected_area_km2: (rng.below(2000)) as f64,
            options_per_requirement: 1 + rng.below(10),
            max_eta_hours: if rng.unit() < 0.3 { Some(2.0 + 40.0 * rng.unit()) } else { None },
            filters: if rng.unit() < 0.5 { filters(catalog, &mut rng) } else { Filters::default() },
            weights: weights(&mut rng),
            prefer_kinds: prefer_kinds(&mut rng),
        };
        let indexed = match_incident(catalog, &holds, &query);
        let scanned = match_incident_scan(catalog, &holds, &query);
        assert_eq!(indexed.coverage, scanned.coverage, "round {round}");
        for (a, b) in indexed.stages.iter().zip(&scanned.stages) {
            for (x, y) in a.requirements.iter().zip(&b.requirements) {
                let what =
                    format!("round {round}, {} {:?}", scenario.id, catalog.category(x.category).id);
                if x.search_cut {
                    cut_rounds.push(round);
                }
                assert_eq!(x.quantity_required, y.quantity_required, "{what}");
                assert_eq!(x.options, y.options, "{what}: options");
                assert_eq!(x.plan, y.plan, "{what}: plan");
                assert_eq!(x.quantity_planned, y.quantity_planned, "{what}");
                assert_eq!(x.coverage, y.coverage, "{what}");
                assert_eq!(x.shortfall, y.shortfall, "{what}");
                requirements += 1;
                planned_lines += x.plan.len();
            }
        }
    }
    assert!(planned_lines > requirements, "the rounds must plan more than one line on average");
    cut_rounds.dedup();
    assert!(cut_rounds.is_empty(), "searches cut at their work bound in rounds {cut_rounds:?}");
}

/// The category with the most stock lines among those moved by `transport` (any when `None`).
fn largest_category(catalog: &Catalog, air: bool) -> CategoryIdx {
    (0..catalog.categories.len() as u32)
        .map(CategoryIdx)
        .filter(|c| !air || catalog.category(*c).transport == crate::domain::Transport::Air)
        .max_by_key(|c| (catalog.category_lines(*c).len(), std::cmp::Reverse(*c)))
        .unwrap()
}

fn tangshan() -> LatLon {
    LatLon::new(39.6347, 118.1948).unwrap()
}

#[test]
fn a_line_raised_far_above_the_catalog_is_found_however_far_it_is() {
    // (a): an override lifts a distant line to a million units; when coverage decides, it is
    // the best option, although the category's bounds (from the catalog) say no line that far
    // can compete.
    let catalog = big_catalog();
    let category = largest_category(catalog, false);
    let here = tangshan();
    let farthest = catalog
        .category_lines(category)
        .map(|i| StockLineIdx(i as u32))
        .max_by(|a, b| {
            let d = |l: &StockLineIdx| {
                crate::domain::great_circle_km(
                    here,
                    catalog.supplier(catalog.stock_line(*l).supplier).location,
                )
            };
            d(a).total_cmp(&d(b))
        })
        .unwrap();
    let mut holds = TestHolds::default();
    holds.set(farthest, -1e6);
    let query = ShortlistQuery {
        categories: vec![category],
        quantity: 100_000.0,
        location: Some(here),
        window_hours: 720.0,
        count: 3,
        filters: Filters::default(),
        weights: Weights::normalised([0.1, 1.0, 0.1, 0.1, 0.1]).unwrap(),
        prefer_kinds: Vec::new(),
    };
    let indexed = shortlist(catalog, &holds, &query);
    assert_eq!(indexed.entries[0].line, farthest);
    assert_eq!(indexed.entries, shortlist_scan(catalog, &holds, &query).entries);
}

#[test]
fn a_shortlist_without_a_location_considers_every_line_of_a_large_category() {
    // (b): with no location the old search looked at the first 1,024 lines by supplier id.
    let catalog = big_catalog();
    let category = largest_category(catalog, false);
    assert!(catalog.category_lines(category).len() > 1024);
    for window_hours in [6.0, 24.0, 72.0] {
        let query = ShortlistQuery {
            categories: vec![category],
            quantity: 5.0,
            location: None,
            window_hours,
            count: 20,
            filters: Filters::default(),
            weights: Weights::default(),
            prefer_kinds: Vec::new(),
        };
        let indexed = shortlist(catalog, &NoHolds, &query);
        assert!(!indexed.search_cut);
        assert_eq!(indexed.entries, shortlist_scan(catalog, &NoHolds, &query).entries);
    }
}

#[test]
fn a_long_window_search_in_a_large_category_is_exact_and_not_cut() {
    // (h): long windows (and air transport) flatten the arrival term, so the old search hit
    // its 1,024-line bound and answered with the best of what it had looked at.
    let catalog = big_catalog();
    for category in [largest_category(catalog, false), largest_category(catalog, true)] {
        for window_hours in [72.0, 720.0] {
            let query = ShortlistQuery {
                categories: vec![category],
                quantity: 40.0,
                location: Some(tangshan()),
                window_hours,
                count: 20,
                filters: Filters::default(),
                weights: Weights::default(),
                prefer_kinds: Vec::new(),
            };
            let indexed = shortlist(catalog, &NoHolds, &query);
            let what = format!("{} in {window_hours} h", catalog.category(category).id);
            assert!(!indexed.search_cut, "{what}: cut");
            assert_eq!(
                indexed.entries,
                shortlist_scan(catalog, &NoHolds, &query).entries,
                "{what}"
            );
        }
    }
}
