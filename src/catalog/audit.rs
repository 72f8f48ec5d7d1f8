//! Read-outs of how far the catalog's numbers can be trusted and whether the taxonomy is used:
//! requirements per provenance grade, and categories no scenario requires without saying why
//! (`stock_only`), and how many holders of each kind the registry lists. `equipmatch check`
//! prints them; tests hold the embedded data to them.

use super::Catalog;
use crate::domain::{Grade, HolderKind};

/// How many requirements (over all scenarios) carry each grade, in `Grade::ALL` order.
pub fn requirement_grades(catalog: &Catalog) -> Vec<(Grade, usize)> {
    let mut counts = [0usize; Grade::ALL.len()];
    for scenario in &catalog.scenarios {
        for requirement in &scenario.requirements {
            counts[requirement.provenance.grade as usize] += 1;
        }
    }
    Grade::ALL.iter().copied().zip(counts).collect()
}

/// Ids of the categories no scenario requires and that are not marked `stock_only`, in id
/// order: taxonomy entries nobody asks for and nobody explained.
pub fn unused_categories(catalog: &Catalog) -> Vec<String> {
    let mut used = vec![false; catalog.categories.len()];
    for scenario in &catalog.scenarios {
        for requirement in &scenario.requirements {
            used[requirement.category.0 as usize] = true;
        }
    }
    let mut unused: Vec<String> = catalog
        .categories
        .iter()
        .zip(used)
        .filter(|(category, used)| !used && category.stock_only.is_none())
        .map(|(category, _)| category.id.to_string())
        .collect();
    unused.sort();
    unused
}

/// Categories marked `stock_only`.
pub fn stock_only_categories(catalog: &Catalog) -> usize {
    catalog.categories.iter().filter(|category| category.stock_only.is_some()).count()
}

/// How many registry rows are of each holder kind, in `HolderKind::ALL` order (every kind,
/// zero included).
pub fn holders_by_kind(catalog: &Catalog) -> Vec<(HolderKind, usize)> {
    let mut counts = [0usize; HolderKind::ALL.len()];
    for supplier in &catalog.suppliers {
        counts[supplier.kind as usize] += 1;
    }
    HolderKind::ALL.iter().copied().zip(counts).collect()
}
