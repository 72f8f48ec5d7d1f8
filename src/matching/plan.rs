//! The sourcing plan: covers a requirement with the fewest suppliers, and among plans with that
//! many, the one whose last delivery arrives earliest. Primary-category lines first;
//! substitutes only for what they cannot cover.

use std::cmp::Reverse;

use ordered_float::OrderedFloat;

use super::search::Candidate;
use crate::catalog::Catalog;
use crate::domain::{CategoryIdx, StockLineIdx, SupplierIdx};

/// One delivery of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEntry {
    pub line: StockLineIdx,
    pub supplier: SupplierIdx,
    pub category: CategoryIdx,
    pub substitute: bool,
    /// In the line's own units; never more than the line has available in the window.
    pub quantity: f64,
    /// In the requested category's units (quantity × efficiency).
    pub quantity_equivalent: f64,
    pub eta_hours: f64,
}

pub(super) fn plan(catalog: &Catalog, pool: &[Candidate], required: f64) -> Vec<PlanEntry> {
    let primaries: Vec<&Candidate> = pool.iter().filter(|c| c.on_time && !c.substitute).collect();
    let mut entries = fewest_then_earliest(catalog, &primaries, required);
    let covered: f64 = entries.iter().map(|entry| entry.quantity_equivalent).sum();
    if !is_covered(covered, required) {
        let substitutes: Vec<&Candidate> =
            pool.iter().filter(|c| c.on_time && c.substitute).collect();
        entries.extend(fewest_then_earliest(catalog, &substitutes, required - covered));
    }
    entries
}

/// Relative slack under which a quantity counts as covered: floating point cannot represent
/// most efficiencies exactly (0.7 × 30 is not quite 21), and a plan must not take a whole unit
/// more for a difference of 1e-15.
const COVERED_TOLERANCE: f64 = 1e-12;

/// `planned` covers `required` up to `COVERED_TOLERANCE`.
pub(super) fn is_covered(planned: f64, required: f64) -> bool {
    planned >= required * (1.0 - COVERED_TOLERANCE)
}

/// The fewest whole units of a line at `efficiency` that cover `remaining` (in the required
/// category's units): 21 short at 0.7 is 30 units, although 21 ÷ 0.7 computes as
/// 30.000000000000004.
fn units_to_cover(remaining: f64, efficiency: f64) -> f64 {
    let units = (remaining / efficiency).ceil();
    let fewer = units - 1.0;
    if fewer >= 1.0 && fewer * efficiency >= remaining * (1.0 - COVERED_TOLERANCE) {
        fewer
    } else {
        units
    }
}

/// The plan's order of preference among lines: largest (in the required category's units)
/// first, then earliest, then supplier id, then category id. Total: a line is one supplier's
/// stock of one category.
pub(super) type SizeKey = (Reverse<OrderedFloat<f64>>, OrderedFloat<f64>, SupplierIdx, u32);

pub(super) fn size_key(catalog: &Catalog, c: &Candidate) -> SizeKey {
    (
        Reverse(OrderedFloat(c.equivalent())),
        OrderedFloat(c.eta_hours),
        c.supplier,
        catalog.category_id_rank(c.category),
    )
}

/// Exact for its objective on the given candidates: the fewest lines (largest first is optimal
/// for one quantity), then the earliest possible last arrival (binary search over deadlines:
/// allowing later arrivals never needs more lines). `candidates` are on time.
pub(super) fn fewest_then_earliest(
    catalog: &Catalog,
    candidates: &[&Candidate],
    required: f64,
) -> Vec<PlanEntry> {
    if candidates.is_empty() || required <= 0.0 {
        return Vec::new();
    }
    // Keys computed once (they look the category up); unique per line, so an unstable sort
    // gives the one order.
    let mut keyed: Vec<(SizeKey, &Candidate)> =
        candidates.iter().map(|c| (size_key(catalog, c), *c)).collect();
    keyed.sort_unstable_by_key(|(key, _)| *key);
    let sorted: Vec<&Candidate> = keyed.into_iter().map(|(_, c)| c).collect();
    let total: f64 = sorted.iter().map(|c| c.equivalent()).sum();
    let target = required.min(total);
    let lines_needed = {
        let mut sum = 0.0;
        sorted
            .iter()
            .position(|c| {
                sum += c.equivalent();
                sum >= target
            })
            .map_or(sorted.len(), |at| at + 1)
    };
    if lines_needed == sorted.len() {
        // Every line is needed (they cannot cover the quantity, or only all of them can):
        // the last arrival is the latest, whatever the order.
        return entries(catalog, sorted, required);
    }
    // Top `lines_needed` by size among those arriving by `deadline`.
    let pick = |deadline: f64| -> Vec<&Candidate> {
        sorted.iter().filter(|c| c.eta_hours <= deadline).take(lines_needed).copied().collect()
    };
    // The same sum as over `pick(deadline)`, in the same order, without collecting it.
    let covers = |deadline: f64| {
        let chosen = sorted.iter().filter(|c| c.eta_hours <= deadline).take(lines_needed);
        chosen.map(|c| c.equivalent()).sum::<f64>() >= target
    };
    let mut deadlines: Vec<f64> = sorted.iter().map(|c| c.eta_hours).collect();
    deadlines.sort_unstable_by(f64::total_cmp);
    deadlines.dedup();
    let first_covering = deadlines.partition_point(|deadline| !covers(*deadline));
    let deadline = deadlines[first_covering.min(deadlines.len() - 1)];
    entries(catalog, pick(deadline), required)
}

/// The plan's entries for the lines chosen: earliest first, each taking what is still
/// missing (in whole units, at most what the line has).
pub(super) fn entries(
    catalog: &Catalog,
    mut chosen: Vec<&Candidate>,
    required: f64,
) -> Vec<PlanEntry> {
    chosen.sort_by_key(|c| {
        (OrderedFloat(c.eta_hours), c.supplier, catalog.category_id_rank(c.category))
    });
    let mut remaining = required;
    let mut entries = Vec::with_capacity(chosen.len());
    for candidate in chosen {
        if remaining <= required * COVERED_TOLERANCE {
            break;
        }
        let quantity =
            units_to_cover(remaining, candidate.efficiency).min(candidate.quantity_available());
        let quantity_equivalent = quantity * candidate.efficiency;
        remaining -= quantity_equivalent;
        entries.push(PlanEntry {
            line: candidate.line,
            supplier: candidate.supplier,
            category: candidate.category,
            substitute: candidate.substitute,
            quantity,
            quantity_equivalent,
            eta_hours: candidate.eta_hours,
        });
    }
    entries
}
