//! Candidate search for one category: nearest stock lines first through the category's
//! spatial index, scored as they come, stopping as soon as nothing further away can change the
//! answer (or at a hard bound on lines examined).

use ordered_float::OrderedFloat;

use super::eta::{travel_hours, travel_km};
use super::held::HeldStock;
use super::score::{arrival_value, score, zone_value, Criterion, ScorePart, Weights};
use crate::catalog::Catalog;
use crate::domain::{
    great_circle_km, CategoryIdx, CertSet, LatLon, PlaceIdx, StockLineIdx, SupplierIdx, ZoneTier,
};

/// The most stock lines one search looks at, per category: a bound on work per request
/// whatever the registry's size. Lines beyond the nearest this many that pass the index are
/// never options.
pub const CANDIDATES_EXAMINED_MAX: usize = 4096;

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
    pub parts: [ScorePart; 5],
}

impl Candidate {
    pub fn quantity_available(&self) -> f64 {
        self.quantity_from_stock + self.quantity_from_production
    }
}

pub(super) struct Found {
    pub candidates: Vec<Candidate>,
    pub examined: usize,
}

/// Every line of one category, evaluated with no index and no pruning: the reference the
/// indexed search is tested and benchmarked against.
pub(super) fn scan(
    catalog: &Catalog,
    category: CategoryIdx,
    efficiency: Option<f64>,
    spec: &Spec<'_>,
) -> Found {
    let mut found = Found { candidates: Vec::new(), examined: 0 };
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
    let mut found = Found { candidates: Vec::new(), examined: 0 };
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
    let transport = catalog.category(category).transport;
    let others_max = 1.0 - spec.weights.get(Criterion::Arrival);
    // The best on-time scores so far, descending, at most `spec.options` of them.
    let mut top_scores: Vec<f64> = Vec::with_capacity(spec.options + 1);
    let mut on_time_quantity = 0.0;
    for (line_idx, great_circle_lower_bound) in index.nearest(location) {
        if found.examined >= CANDIDATES_EXAMINED_MAX {
            break;
        }
        let eta_lower_bound =
            index.min_lead_time_hours + travel_hours(transport, great_circle_lower_bound);
        if spec.max_eta_hours.is_some_and(|max| eta_lower_bound > max) {
            break;
        }
        // Settled: enough on-time options for the caller and enough on-time quantity for the
        // plan. Then a line that must arrive late can neither enter the options (late ranks
        // below on time) nor is it needed for the plan, and a line whose best possible score
        // is below the k-th best cannot enter the options.
        let settled =
            top_scores.len() >= spec.options && on_time_quantity >= spec.quantity_required;
        if settled {
            if eta_lower_bound > spec.window_hours {
                break;
            }
            let bound = spec.weights.get(Criterion::Arrival)
                * arrival_value(eta_lower_bound, spec.window_hours)
                + others_max;
            if top_scores.last().is_some_and(|kth| bound < *kth) {
                break;
            }
        }
        found.examined += 1;
        let Some(candidate) =
            evaluate(catalog, StockLineIdx(line_idx), Some(location), efficiency, spec)
        else {
            continue;
        };
        if candidate.on_time {
            on_time_quantity += candidate.quantity_available() * candidate.efficiency;
            let at = top_scores.partition_point(|s| *s >= candidate.score);
            if at < spec.options {
                top_scores.insert(at, candidate.score);
                top_scores.truncate(spec.options);
            }
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
    let certification = if category.certifications.is_empty() {
        1.0
    } else {
        f64::from(supplier.certifications.intersection(category.certifications).len())
            / f64::from(category.certifications.len())
    };
    let zone = zone_value(catalog.place(supplier.place).zone, supplier.base.is_some());
    let (total, parts) = score(
        spec.weights,
        [arrival_value(eta_hours, window), coverage, supplier.reliability, certification, zone],
    );
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
        parts,
    })
}

/// The ranking rules, in order: on time before late; higher score; supplier id; category id.
/// Supplier indexes follow supplier id order, so the order is total and stable.
pub(super) fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by_key(|c| {
        (!c.on_time, std::cmp::Reverse(OrderedFloat(c.score)), c.supplier, c.category)
    });
}
