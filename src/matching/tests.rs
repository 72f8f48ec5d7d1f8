//! Unit tests of the engine.
//!
//! - The indexed, pruned search returns exactly what a brute-force scan of every stock line
//!   returns (same entries, same order), over many random queries.
//! - The sourcing plan is optimal for its objective (fewest lines, then earliest last arrival),
//!   checked against exhaustive search on small random instances, and never takes more than a
//!   line has.

use super::plan::plan;
use super::search::Candidate;
use super::*;
use crate::catalog::Catalog;
use crate::domain::{CategoryIdx, LatLon, StockLineIdx, SupplierIdx};

/// A small deterministic generator for test inputs (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn indexed_search_equals_brute_force_scan() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    let mut rng = Rng(0x5EED);
    for round in 0..300 {
        let n_categories = 1 + rng.below(3);
        let categories: Vec<CategoryIdx> = (0..n_categories)
            .map(|_| CategoryIdx(rng.below(catalog.categories.len()) as u32))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        // Mostly in and around the cluster, sometimes anywhere in China.
        let (lat, lon) = if rng.unit() < 0.8 {
            (36.0 + 5.0 * rng.unit(), 113.5 + 6.5 * rng.unit())
        } else {
            (20.0 + 25.0 * rng.unit(), 85.0 + 40.0 * rng.unit())
        };
        let query = ShortlistQuery {
            categories,
            quantity: 1.0 + (rng.unit() * 100.0).floor(),
            location: Some(LatLon::new(lat, lon).unwrap()),
            window_hours: [2.0, 6.0, 12.0, 24.0, 72.0][rng.below(5)],
            count: 1 + rng.below(30),
            filters: Filters {
                min_reliability: if rng.unit() < 0.3 { 0.9 } else { 0.0 },
                ..Filters::default()
            },
            weights: if rng.unit() < 0.5 {
                Weights::default()
            } else {
                Weights::normalised([
                    rng.unit(),
                    rng.unit(),
                    rng.unit(),
                    rng.unit(),
                    rng.unit() + 0.01,
                ])
                .unwrap()
            },
        };
        let indexed = shortlist(&catalog, &NoHolds, &query);
        let scanned = shortlist_scan(&catalog, &NoHolds, &query);
        assert_eq!(indexed.entries, scanned.entries, "round {round}: {query:?}");
    }
}

fn candidate(supplier: u32, available: f64, eta_hours: f64) -> Candidate {
    let part =
        ScorePart { criterion: Criterion::Arrival, weight: 0.0, value: 0.0, contribution: 0.0 };
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
        parts: [part; 5],
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
        let entries = plan(&pool, required);
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
    let entries = plan(&[primary, substitute], 5.0);
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].quantity, entries[0].substitute), (3.0, false));
    // 2 units short, at efficiency 0.5: 4 units of the substitute.
    assert_eq!(
        (entries[1].quantity, entries[1].quantity_equivalent, entries[1].substitute),
        (4.0, 2.0, true)
    );
}
