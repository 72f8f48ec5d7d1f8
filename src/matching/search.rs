//! Candidate search for one category: nearest stock lines first through the category's
//! spatial index, scored as they come, stopping as soon as nothing further away can change the
//! answer (or at a hard bound on lines examined).

use ordered_float::OrderedFloat;

use super::eta::{travel_hours, travel_km};
use super::held::HeldStock;
use super::score::{arrival_value, score, zone_value, Criterion, ScorePart, Weights};
use crate::catalog::Catalog;
use crate::domain::{
    great_circle_km, CategoryIdx, CertSet, HolderKind, LatLon, PlaceIdx, StockLineIdx, SupplierIdx,
    ZoneTier,
};

/// The most stock lines one search looks at, per category: a bound on work per request
/// whatever the registry's size. Lines beyond the nearest this many that pass the index are
/// never options.
pub const CANDIDATES_EXAMINED_MAX: usize = 1024;

/// Hard filters: a line that fails one is never an option.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Sorted and without duplicates.
    pub excluded_suppliers: Vec<SupplierIdx>,
    /// Empty means every tier.
    pub zone_tiers: Vec<ZoneTier>,
    /// Sorted; empty means everywhere. A supplier matches by its place or its base.
    pub places: Vec<PlaceIdx>,
    pub required_certifications: CertSet,
    pub max_lead_time_hours: Option<f64>,
    pub min_reliability: f64,
    /// Sorted; empty means every kind of holder.
    pub holder_kinds: Vec<HolderKind>,
}

impl Filters {
    fn admits(&self, catalog: &Catalog, supplier_idx: SupplierIdx, lead_time_hours: f64) -> bool {
        let supplier = catalog.supplier(supplier_idx);
        if self.excluded_suppliers.binary_search(&supplier_idx).is_ok() {
            return false;
        }
        if !self.zone_tiers.is_empty()
            && !self.zone_tiers.contains(&catalog.place(supplier.place).zone)
        {
            return false;
        }
        if !self.places.is_empty()
            && self.places.binary_search(&supplier.place).is_err()
            && supplier.base.is_none_or(|base| self.places.binary_search(&base).is_err())
        {
            return false;
        }
        if !supplier.certifications.contains_all(self.required_certifications) {
            return false;
        }
        if self.max_lead_time_hours.is_some_and(|max| lead_time_hours > max) {
            return false;
        }
        if !self.holder_kinds.is_empty() && self.holder_kinds.binary_search(&supplier.kind).is_err()
        {
            return false;
        }
        supplier.reliability >= self.min_reliability
    }
}

/// What a search needs to know about the request.
pub(super) struct Spec<'a> {
    pub location: Option<LatLon>,
    pub window_hours: f64,
    /// In the requested category's units.
    pub quantity_required: f64,
    /// How many ranked options the caller will keep.
    pub options: usize,
    pub max_eta_hours: Option<f64>,
    pub filters: &'a Filters,
    pub weights: &'a Weights,
    /// Stock promised elsewhere; what a line offers is its on-hand stock net of this.
    pub held: &'a dyn HeldStock,
}

/// Categories with at most this many lines are scanned whole instead of searched through the
/// index.
pub const SCAN_LINES_MAX: usize = 512;

/// The most on-time lines a search gathers for the sourcing plan when they do not yet cover
/// the quantity: the plan is the best among the nearest this many on-time lines.
pub const PLAN_POOL_LINES_MAX: usize = 64;

/// Ranking keys: on time before late, then higher score. `a` ranks strictly below `b`.
fn key_less(a: (bool, f64), b: (bool, f64)) -> bool {
    (a.0, a.1) < (b.0, b.1)
}

/// The largest sum of the non-arrival score parts any line of the category can reach: each
/// criterion at the best value a line of the category has (coverage from the largest stock and
/// surge). Holds only lower availability, so this stays an upper bound with them.
fn others_bound(bounds: &crate::catalog::CategoryBounds, efficiency: f64, spec: &Spec<'_>) -> f64 {
    let available_max =
        bounds.max_quantity_on_hand + bounds.max_surge_per_day * spec.window_hours / 24.0;
    let coverage_max = if spec.quantity_required > 0.0 {
        (available_max * efficiency / spec.quantity_required).min(1.0)
    } else {
        1.0
    };
    let w = spec.weights;
    w.get(Criterion::Coverage) * coverage_max
        + w.get(Criterion::Reliability) * bounds.max_reliability
        + w.get(Criterion::Certification) * bounds.max_certification_fit
        + w.get(Criterion::ZonePolicy) * zone_value(bounds.best_zone, bounds.any_demonstration_base)
}

/// One stock line that could serve a requirement, with its numbers and score.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub line: StockLineIdx,
    pub supplier: SupplierIdx,
    pub category: CategoryIdx,
    /// True when the line is of a substitute category.
    pub substitute: bool,
    /// Units of the requested category one unit of this line counts as (1 unless substitute).
    pub efficiency: f64,
    pub quantity_from_stock: f64,
    /// Surge production that still arrives within the window.
    pub quantity_from_production: f64,
    /// Travel distance (road estimate, or great circle by air); `None` without a location.
    pub distance_km: Option<f64>,
    /// Lead time plus travel time.
    pub eta_hours: f64,
    /// Arrives within the window with something to deliver.
    pub on_time: bool,
    pub score: f64,
    /// The criteria's values, in `Criterion::ALL` order; `parts` turns them into the score's
    /// parts. Kept as values, not parts, so a candidate stays small to move and sort.
    pub values: [f64; 5],
}

impl Candidate {
    pub fn quantity_available(&self) -> f64 {
        self.quantity_from_stock + self.quantity_from_production
    }

    /// The score's parts under the weights that produced the score; they add up to it.
    pub fn parts(&self, weights: &Weights) -> [ScorePart; 5] {
        score(weights, self.values).1
    }
}

pub(super) struct Found {
    pub candidates: Vec<Candidate>,
    pub examined: usize,
    /// The search stopped at `CANDIDATES_EXAMINED_MAX` with lines left unseen.
    pub bound_reached: bool,
}

/// Every line of one category, evaluated with no index and no pruning: the reference the
/// indexed search is tested and benchmarked against.
pub(super) fn scan(
    catalog: &Catalog,
    category: CategoryIdx,
    efficiency: Option<f64>,
    spec: &Spec<'_>,
) -> Found {
    let mut found = Found { candidates: Vec::new(), examined: 0, bound_reached: false };
    for line_idx in catalog.category_lines(category) {
        found.examined += 1;
        if let Some(candidate) =
            evaluate(catalog, StockLineIdx(line_idx as u32), spec.location, efficiency, spec)
        {
            found.candidates.push(candidate);
        }
    }
    found
}

/// Candidates of one category (`efficiency` is `Some` for a substitute).
pub(super) fn search(
    catalog: &Catalog,
    category: CategoryIdx,
    efficiency: Option<f64>,
    spec: &Spec<'_>,
) -> Found {
    let mut found = Found { candidates: Vec::new(), examined: 0, bound_reached: false };
    let Some(location) = spec.location else {
        // Without a location arrival depends on lead time only: every line is a candidate.
        for line_idx in catalog.category_lines(category).take(CANDIDATES_EXAMINED_MAX) {
            found.examined += 1;
            if let Some(candidate) =
                evaluate(catalog, StockLineIdx(line_idx as u32), None, efficiency, spec)
            {
                found.candidates.push(candidate);
            }
        }
        return found;
    };
    let index = catalog.category_index(category);
    if index.len() <= SCAN_LINES_MAX {
        // A small category costs less to evaluate whole than to walk through the R-tree's
        // heap (the profile in BENCHMARKS.md); the answer is the same.
        return scan(catalog, category, efficiency, spec);
    }
    let transport = catalog.category(category).transport;
    let window = spec.window_hours;
    let arrival_weight = spec.weights.get(Criterion::Arrival);
    let efficiency_value = efficiency.unwrap_or(1.0);
    // One nearest-first walk per lead-time bucket, each with its own bounds; at every step the
    // bucket whose next line could rank best goes next (best-first across buckets).
    let mut walks: Vec<_> = index
        .buckets()
        .iter()
        .map(|bucket| {
            (
                bucket.nearest(location).peekable(),
                bucket.bounds.min_lead_time_hours,
                others_bound(&bucket.bounds, efficiency_value, spec),
            )
        })
        .collect();
    // The best (on time, score) keys so far, best first, at most `spec.options` of them.
    let mut top: Vec<(bool, f64)> = Vec::with_capacity(spec.options + 1);
    let mut on_time_quantity = 0.0;
    let mut on_time_lines = 0usize;
    loop {
        if found.examined >= CANDIDATES_EXAMINED_MAX {
            found.bound_reached = true;
            break;
        }
        // The best key any unseen line could have, per bucket: on time only if it could still
        // arrive in the window, and a score at most its arrival bound plus the bucket's best
        // other parts. Buckets that can no longer meet max_eta_hours are done.
        let mut best: Option<(usize, (bool, f64))> = None;
        for (i, (walk, min_lead, others_max)) in walks.iter_mut().enumerate() {
            let Some(&(_, great_circle_lower_bound)) = walk.peek() else { continue };
            let eta_lower_bound = *min_lead + travel_hours(transport, great_circle_lower_bound);
            if spec.max_eta_hours.is_some_and(|max| eta_lower_bound > max) {
                continue;
            }
            let key = (
                eta_lower_bound <= window,
                arrival_weight * arrival_value(eta_lower_bound, window) + *others_max,
            );
            if best.is_none_or(|(_, kept)| key_less(kept, key)) {
                best = Some((i, key));
            }
        }
        let Some((bucket, unseen_best)) = best else { break };
        // The plan's pool is complete when it covers the quantity, when it holds
        // PLAN_POOL_LINES_MAX on-time lines, or when no unseen line can arrive in time.
        let plan_pool_complete = on_time_quantity >= spec.quantity_required
            || on_time_lines >= PLAN_POOL_LINES_MAX
            || !unseen_best.0;
        if plan_pool_complete
            && top.len() >= spec.options
            && top.last().is_some_and(|kth| key_less(unseen_best, *kth))
        {
            break;
        }
        let Some((line_idx, _)) = walks[bucket].0.next() else { break };
        found.examined += 1;
        let Some(candidate) =
            evaluate(catalog, StockLineIdx(line_idx), Some(location), efficiency, spec)
        else {
            continue;
        };
        if candidate.on_time {
            on_time_quantity += candidate.quantity_available() * candidate.efficiency;
            on_time_lines += 1;
        }
        let key = (candidate.on_time, candidate.score);
        let at = top.partition_point(|kept| !key_less(*kept, key));
        if at < spec.options {
            top.insert(at, key);
            top.truncate(spec.options);
        }
        found.candidates.push(candidate);
    }
    found
}

fn evaluate(
    catalog: &Catalog,
    line_idx: StockLineIdx,
    location: Option<LatLon>,
    efficiency: Option<f64>,
    spec: &Spec<'_>,
) -> Option<Candidate> {
    let line = catalog.stock_line(line_idx);
    if !spec.filters.admits(catalog, line.supplier, line.lead_time_hours) {
        return None;
    }
    let supplier = catalog.supplier(line.supplier);
    let category = catalog.category(line.category);
    let (distance_km, travel) = match location {
        Some(location) => {
            let great_circle = great_circle_km(location, supplier.location);
            (
                Some(travel_km(category.transport, great_circle)),
                travel_hours(category.transport, great_circle),
            )
        }
        None => (None, 0.0),
    };
    let eta_hours = line.lead_time_hours + travel;
    if spec.max_eta_hours.is_some_and(|max| eta_hours > max) {
        return None;
    }
    let window = spec.window_hours;
    let quantity_from_stock = (line.quantity_on_hand - spec.held.held(line_idx)).max(0.0);
    // Units made between the stock's departure and the last departure that still arrives in
    // time; whole units only.
    let quantity_from_production = if eta_hours <= window {
        (line.surge_per_day * (window - eta_hours) / 24.0).floor()
    } else {
        0.0
    };
    let available = quantity_from_stock + quantity_from_production;
    if available <= 0.0 {
        return None;
    }
    let efficiency_value = efficiency.unwrap_or(1.0);
    let coverage = if spec.quantity_required > 0.0 {
        (available * efficiency_value / spec.quantity_required).min(1.0)
    } else {
        1.0
    };
    let certification = category.certification_fit(supplier.certifications);
    let zone = zone_value(catalog.place(supplier.place).zone, supplier.base.is_some());
    let values =
        [arrival_value(eta_hours, window), coverage, supplier.reliability, certification, zone];
    let (total, _) = score(spec.weights, values);
    Some(Candidate {
        line: line_idx,
        supplier: line.supplier,
        category: line.category,
        substitute: efficiency.is_some(),
        efficiency: efficiency_value,
        quantity_from_stock,
        quantity_from_production,
        distance_km,
        eta_hours,
        on_time: eta_hours <= window,
        score: total,
        values,
    })
}

/// The ranking rules, in order: on time before late; higher score; supplier id; category id.
/// Supplier indexes follow supplier id order, so the order is total and stable. Only the
/// first `keep` are ordered and kept.
pub(super) fn rank(candidates: &mut Vec<Candidate>, keep: usize) {
    let key = |c: &Candidate| {
        (!c.on_time, std::cmp::Reverse(OrderedFloat(c.score)), c.supplier, c.category)
    };
    if candidates.len() > keep && keep > 0 {
        candidates.select_nth_unstable_by(keep - 1, |a, b| key(a).cmp(&key(b)));
    }
    candidates.truncate(keep);
    candidates.sort_unstable_by_key(key);
}
