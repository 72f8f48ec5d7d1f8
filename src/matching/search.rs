//! Candidate search: best-first branch and bound over the category indexes (`catalog::index`).
//!
//! A walk keeps the index nodes it has not opened in a heap, keyed by the best a line under
//! the node could do (a bound computed from the node's cap and bounds), and opens the best
//! first; a leaf's lines are evaluated exactly (`evaluate`, the same function the brute-force
//! `scan` uses). A node's key is never above its parent's, so keys come out of the heap in
//! non-increasing order and a caller can stop as soon as the next key cannot change its
//! answer. The options walk (`options`) is here; the plan's walks are in `plan_search.rs`.
//!
//! Lines an override raised above the catalog's on-hand (`HeldStock::raised`) are the one
//! thing the node bounds do not cover: every walk evaluates them first, on their own, and
//! skips them in the leaves.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ordered_float::OrderedFloat;

use super::eta::{travel_hours, travel_km};
use super::score::{arrival_value, score, ScorePart, Weights};
use crate::catalog::{Catalog, Children, Node, SupplierPoint};
use crate::domain::{
    great_circle_km_units, CategoryIdx, CertSet, HeldStock, HolderKind, PlaceIdx, StockLineIdx,
    SupplierIdx, Transport, ZoneTier,
};

/// The most stock lines one search evaluates (the options of a requirement or a shortlist;
/// the plan of a requirement): a bound on work per request whatever the registry's size. Far
/// above what any query needs on a national registry (a category there has ~6,000 lines, and
/// a search evaluates at worst every line of its categories), so it only guards against
/// registries beyond national scale. A search that reaches it stops, answers with what it has,
/// and says so (`Found::cut`, the responses' `search_cut`, the `grpc::metrics` counter).
pub const LINES_EXAMINED_MAX: usize = 1 << 18;

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
    fn admits(
        &self,
        supplier_idx: SupplierIdx,
        supplier: &SupplierPoint,
        lead_time_hours: f64,
    ) -> bool {
        if !self.excluded_suppliers.is_empty()
            && self.excluded_suppliers.binary_search(&supplier_idx).is_ok()
        {
            return false;
        }
        if !self.zone_tiers.is_empty() && !self.zone_tiers.contains(&supplier.zone) {
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

    /// False when no line under `node` can pass: the filters that its bounds can decide.
    fn may_admit(&self, node: &Node) -> bool {
        let b = &node.bounds;
        if b.max_reliability() < self.min_reliability {
            return false;
        }
        if self.max_lead_time_hours.is_some_and(|max| b.min_lead_time_hours() > max) {
            return false;
        }
        if !self.zone_tiers.is_empty()
            && !self.zone_tiers.iter().any(|tier| node.zone_tiers & (1 << *tier as u8) != 0)
        {
            return false;
        }
        b.certifications().contains_all(self.required_certifications)
    }
}

/// What a search needs to know about the request.
pub(super) struct Spec<'a> {
    /// The delivery point on the unit sphere (`LatLon::unit_vector`); none: arrival is the
    /// lead time alone.
    pub at: Option<[f64; 3]>,
    pub window_hours: f64,
    /// In the requested category's units.
    pub quantity_required: f64,
    pub max_eta_hours: Option<f64>,
    pub filters: &'a Filters,
    pub weights: &'a Weights,
    /// Stock promised elsewhere; what a line offers is its on-hand stock net of this.
    pub held: &'a dyn HeldStock,
    /// The work bound of each walk (`LINES_EXAMINED_MAX`; smaller in tests).
    pub lines_examined_max: usize,
}

/// One category searched, and what one of its units counts as (`None`: the category asked
/// for; `Some(efficiency)`: a substitute).
#[derive(Debug, Clone, Copy)]
pub(super) struct Source {
    pub category: CategoryIdx,
    pub efficiency: Option<f64>,
}

impl Source {
    pub fn primary(category: CategoryIdx) -> Source {
        Source { category, efficiency: None }
    }

    fn efficiency_value(&self) -> f64 {
        self.efficiency.unwrap_or(1.0)
    }
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

    /// Available units in the requested category's units.
    pub fn equivalent(&self) -> f64 {
        self.quantity_available() * self.efficiency
    }

    /// The score's parts under the weights that produced the score; they add up to it.
    pub fn parts(&self, weights: &Weights) -> [ScorePart; 5] {
        score(weights, self.values).1
    }
}

/// What a search found, and what it cost.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub candidates: Vec<Candidate>,
    /// Stock lines evaluated.
    pub examined: usize,
    /// A walk stopped at `LINES_EXAMINED_MAX` with lines left that could have changed the
    /// answer: the answer is the best among the lines evaluated.
    pub cut: bool,
}

/// Every line of one category, evaluated with no index and no pruning: the reference the
/// indexed search is tested and benchmarked against.
pub(super) fn scan(catalog: &Catalog, source: Source, spec: &Spec<'_>) -> Found {
    let mut found = Found::default();
    for line_idx in catalog.category_lines(source.category) {
        found.examined += 1;
        if let Some(candidate) = evaluate(catalog, StockLineIdx(line_idx as u32), source, spec) {
            found.candidates.push(candidate);
        }
    }
    found
}

/// The distance (km on the road or in the air, as the category travels) and hours of travel
/// from `at` to a supplier at `supplier`; none and no time without a location.
fn distance_and_travel(
    transport: crate::domain::Transport,
    at: Option<[f64; 3]>,
    supplier: [f64; 3],
) -> (Option<f64>, f64) {
    match at {
        Some(at) => {
            let great_circle = great_circle_km_units(at, supplier);
            (Some(travel_km(transport, great_circle)), travel_hours(transport, great_circle))
        }
        None => (None, 0.0),
    }
}

/// One line, exactly: `None` when a filter or `max_eta_hours` excludes it or it has nothing
/// to offer in the window.
pub(super) fn evaluate(
    catalog: &Catalog,
    line_idx: StockLineIdx,
    source: Source,
    spec: &Spec<'_>,
) -> Option<Candidate> {
    let line = catalog.stock_line(line_idx);
    let supplier = catalog.supplier_point(line.supplier);
    if !spec.filters.admits(line.supplier, supplier, line.lead_time_hours) {
        return None;
    }
    // The line is one of the source's category (walks and ranges are per category).
    debug_assert_eq!(catalog.line_category(line_idx), source.category);
    let category = catalog.category(source.category);
    let (distance_km, travel) = distance_and_travel(category.transport, spec.at, supplier.unit);
    let eta_hours = line.lead_time_hours + travel;
    if spec.max_eta_hours.is_some_and(|max| eta_hours > max) {
        return None;
    }
    let window = spec.window_hours;
    let quantity_from_stock = (line.quantity_on_hand - spec.held.held(line_idx)).max(0.0);
    let quantity_from_production = if eta_hours <= window {
        made_in_window(line.surge_per_day, window, eta_hours)
    } else {
        0.0
    };
    let available = quantity_from_stock + quantity_from_production;
    if available <= 0.0 {
        return None;
    }
    let efficiency_value = source.efficiency_value();
    let coverage = if spec.quantity_required > 0.0 {
        (available * efficiency_value / spec.quantity_required).min(1.0)
    } else {
        1.0
    };
    let certification = category.certification_fit(supplier.certifications);
    let values = [
        arrival_value(eta_hours, window),
        coverage,
        supplier.reliability,
        certification,
        supplier.zone_value,
    ];
    let (total, _) = score(spec.weights, values);
    Some(Candidate {
        line: line_idx,
        supplier: line.supplier,
        category: source.category,
        substitute: source.efficiency.is_some(),
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

/// Whole units made at `surge_per_day` between a departure at `eta` hours and the last
/// departure that still arrives by `window` (eta ≤ window). One function for `evaluate` and
/// the bounds on lines and nodes: the bounds hold bit for bit because they run these very
/// operations on values at least as favourable (floor is monotone, and so is each step).
pub(super) fn made_in_window(surge_per_day: f64, window: f64, eta: f64) -> f64 {
    floor_non_negative(surge_per_day * (window - eta) / 24.0)
}

/// `x.floor()` for x ≥ 0 (and NaN), bit for bit (−0 gives +0, equal to it), without the
/// call into libm that `f64::floor` makes on the baseline x86-64 target (no SSE4.1
/// `roundsd`): truncation is the floor at or above zero, and every `f64` from 2^52 up is a
/// whole number already. Called for every line evaluated and every node bounded.
pub(super) fn floor_non_negative(x: f64) -> f64 {
    debug_assert!(x >= 0.0 || x.is_nan(), "{x}");
    if x < 4_503_599_627_370_496.0 {
        (x as u64) as f64
    } else {
        x
    }
}

/// The ranking key: on time before late; higher score; supplier id; category id. Supplier
/// indexes follow supplier id order and categories are compared by id, so the order is total
/// and stable and never depends on file order. Smaller ranks first.
type RankKey = (bool, Reverse<OrderedFloat<f64>>, SupplierIdx, u32);

fn rank_key(catalog: &Catalog, c: &Candidate) -> RankKey {
    (!c.on_time, Reverse(OrderedFloat(c.score)), c.supplier, catalog.category_id_rank(c.category))
}

/// `rank_key` as one integer, in the same order (smaller ranks first): on time, the score's
/// bits in reverse order (`ordered_bits`), supplier index, category id rank. Comparing it is one
/// `u128` comparison instead of a tuple with float checks: `TopK` compares on every offer.
/// `rank_key` stays the plain statement of the rules: `rank` (and so the brute force
/// `shortlist_scan`) orders by it, so the equivalence tests check this packing against it.
fn packed_rank_key(catalog: &Catalog, c: &Candidate) -> u128 {
    // Each field fits its bits (a supplier index is a `u32`; a category's rank is below the
    // catalog's limit), so the order is exactly `rank_key`'s.
    const _: () = assert!(crate::catalog::CATEGORIES_MAX < 1 << 31);
    (u128::from(!c.on_time) << 127)
        | (u128::from(!ordered_bits(c.score)) << 63)
        | (u128::from(c.supplier.0) << 31)
        | u128::from(catalog.category_id_rank(c.category))
}

/// The ranking rules (`rank_key`). Only the first `keep` are ordered and kept.
pub(super) fn rank(catalog: &Catalog, candidates: &mut Vec<Candidate>, keep: usize) {
    if candidates.len() > keep && keep > 0 {
        candidates.select_nth_unstable_by(keep - 1, |a, b| {
            rank_key(catalog, a).cmp(&rank_key(catalog, b))
        });
    }
    candidates.truncate(keep);
    candidates.sort_unstable_by_key(|c| rank_key(catalog, c));
}

/// The part of a search every walk shares: the catalog, the request, and the bounds that
/// turn a node into what its lines could at best do.
pub(super) struct Bounds<'a> {
    pub catalog: &'a Catalog,
    pub spec: &'a Spec<'a>,
    pub sources: &'a [Source],
}

impl Bounds<'_> {
    fn transport(&self, source: usize) -> Transport {
        self.catalog.category(self.sources[source].category).transport
    }

    /// The earliest any line of `node` that passes the filters could arrive, or `None` when
    /// none can pass them or meet `max_eta_hours`.
    pub fn eta_lower_bound(&self, source: usize, node: &Node) -> Option<f64> {
        if !self.spec.filters.may_admit(node) {
            return None;
        }
        let eta = node.bounds.min_lead_time_hours() + self.travel_lower_bound(source, node);
        if self.spec.max_eta_hours.is_some_and(|max| eta > max) {
            return None;
        }
        Some(eta)
    }

    /// The least travel time (hours) to any line of `node`.
    pub fn travel_lower_bound(&self, source: usize, node: &Node) -> f64 {
        match self.spec.at {
            Some(at) => travel_hours(self.transport(source), node.distance_lower_bound_km(at)),
            None => 0.0,
        }
    }

    /// The most one line can offer in the window, in the requested category's units, from its
    /// own row and `travel`, a lower bound of its travel time (its leaf's
    /// `travel_lower_bound`), without reading its supplier: `None` when it cannot arrive in
    /// the window or by `max_eta_hours`. `evaluate`'s operations in its order, on values at
    /// least as favourable, so the bound holds bit for bit (catalog stock: holds only lower
    /// it, and the lines an override raised are evaluated apart).
    pub fn line_available_upper_bound(
        &self,
        source: usize,
        line_idx: StockLineIdx,
        travel: f64,
    ) -> Option<f64> {
        let line = self.catalog.stock_line(line_idx);
        let eta = line.lead_time_hours + travel;
        let window = self.spec.window_hours;
        if eta > window || self.spec.max_eta_hours.is_some_and(|max| eta > max) {
            return None;
        }
        let production = made_in_window(line.surge_per_day, window, eta);
        Some(
            (line.quantity_on_hand.max(0.0) + production) * self.sources[source].efficiency_value(),
        )
    }

    /// The most any line of the node can offer in the window, in the requested category's
    /// units, given the earliest arrival `eta` (catalog stock: holds only lower it, and the
    /// lines an override raised are evaluated apart).
    pub fn available_upper_bound(&self, source: usize, node: &Node, eta: f64) -> f64 {
        let window = self.spec.window_hours;
        let b = &node.bounds;
        let available = if eta <= window {
            // A line offers stock + ⌊surge × days left⌋: bounded by the node's envelope of
            // stock + surge × days, and by its largest stock plus whole units of its largest
            // surge (whole units: a small surge adds nothing in a short window).
            // The same operations in the same order as `evaluate`, so rounding is monotone.
            let whole_units = made_in_window(b.max_surge_per_day(), window, eta);
            let days = (window - eta) / 24.0;
            b.size_upper_bound(days).min(b.max_quantity_on_hand() + whole_units)
        } else {
            b.max_quantity_on_hand()
        };
        available * self.sources[source].efficiency_value()
    }

    /// The best ranking key any line of the node can have: on time only if it could arrive
    /// in the window, and a score built from the best value of every criterion (`score` is
    /// monotone in each value, so this bounds every line's score).
    fn rank_upper_bound(&self, source: usize, node: &Node) -> Option<ScoreKey> {
        let eta = self.eta_lower_bound(source, node)?;
        let spec = self.spec;
        let available = self.available_upper_bound(source, node, eta);
        let coverage = if spec.quantity_required > 0.0 {
            (available / spec.quantity_required).min(1.0)
        } else {
            1.0
        };
        let b = &node.bounds;
        let values = [
            arrival_value(eta, spec.window_hours),
            coverage,
            b.max_reliability(),
            b.max_certification_fit(),
            b.max_zone_value(),
        ];
        Some((eta <= spec.window_hours, OrderedFloat(score(spec.weights, values).0)))
    }

    /// The lines of `source` an override raised above the catalog, ascending.
    pub fn raised(&self, source: usize) -> &[StockLineIdx] {
        let lines = self.catalog.category_lines(self.sources[source].category);
        let raised = self.spec.held.raised();
        let start = raised.partition_point(|line| (line.0 as usize) < lines.start);
        let end = raised.partition_point(|line| (line.0 as usize) < lines.end);
        &raised[start..end]
    }
}

/// (on time, score): the part of the ranking key a bound can speak for.
type ScoreKey = (bool, OrderedFloat<f64>);

/// A walk's key, packed into the high bits of a `u128` whose unsigned order is the key's
/// order, so that a heap entry compares with one integer comparison (heap pushes and pops
/// were ~17 % of a Match's time at 1e6 with keys compared as tuples of floats).
pub(super) trait WalkKey: Copy + Ord {
    /// At most `KEY_BITS` bits, in the key's order; `from_bits` gives the key back exactly.
    fn to_bits(self) -> u128;
    fn from_bits(bits: u128) -> Self;
}

/// The bits a key may use: the rest of an entry's `u128` holds its source and node.
const KEY_BITS: u32 = 80;

/// An `f64` as a `u64` in the order of `OrderedFloat` (the IEEE total order, with −0 taken
/// as +0 — `OrderedFloat` has them equal — and NaN, which no bound produces, above +∞).
fn ordered_bits(x: f64) -> u64 {
    let bits = (x + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn from_ordered_bits(bits: u64) -> f64 {
    f64::from_bits(if bits >> 63 == 1 { bits & !(1 << 63) } else { !bits })
}

impl WalkKey for ScoreKey {
    fn to_bits(self) -> u128 {
        u128::from(self.0) << 64 | u128::from(ordered_bits(self.1 .0))
    }

    fn from_bits(bits: u128) -> Self {
        (bits >> 64 != 0, OrderedFloat(from_ordered_bits(bits as u64)))
    }
}

impl WalkKey for OrderedFloat<f64> {
    fn to_bits(self) -> u128 {
        u128::from(ordered_bits(self.0))
    }

    fn from_bits(bits: u128) -> Self {
        OrderedFloat(from_ordered_bits(bits as u64))
    }
}

impl WalkKey for Reverse<OrderedFloat<f64>> {
    fn to_bits(self) -> u128 {
        u128::from(!ordered_bits(self.0 .0))
    }

    fn from_bits(bits: u128) -> Self {
        Reverse(OrderedFloat(from_ordered_bits(!(bits as u64))))
    }
}

/// The most sources one walk takes (they are numbered in 16 bits of an entry): far above a
/// requirement's category and substitutes or a shortlist's `SHORTLIST_CATEGORIES_MAX`.
const WALK_SOURCES_MAX: usize = 1 << 16;

/// A node waiting in a walk's heap, packed: the best key its lines could have (high bits),
/// then a fixed order — lower source, then lower node first — so that walks, and the work
/// they report, are deterministic.
fn pack(key_bits: u128, source: usize, node: u32) -> u128 {
    debug_assert!(key_bits >> KEY_BITS == 0 && source < WALK_SOURCES_MAX);
    key_bits << (128 - KEY_BITS)
        | ((WALK_SOURCES_MAX - 1 - source) as u128) << 32
        | u128::from(u32::MAX - node)
}

fn unpack(entry: u128) -> (u128, usize, u32) {
    let source = WALK_SOURCES_MAX - 1 - ((entry >> 32) as usize & (WALK_SOURCES_MAX - 1));
    (entry >> (128 - KEY_BITS), source, u32::MAX - entry as u32)
}

/// A best-first walk over the indexes of several sources. `bound(source, node)` is the best
/// key any line under the node could have (`None`: no line there can count).
pub(super) struct Walk<K> {
    heap: BinaryHeap<u128>,
    key: std::marker::PhantomData<K>,
}

impl<K: WalkKey> Walk<K> {
    pub fn new(bounds: &Bounds<'_>, bound: &impl Fn(usize, &Node) -> Option<K>) -> Walk<K> {
        assert!(bounds.sources.len() <= WALK_SOURCES_MAX, "too many sources for one walk");
        let mut heap = BinaryHeap::new();
        for (source, s) in bounds.sources.iter().enumerate() {
            let index = bounds.catalog.category_index(s.category);
            if let Some(root) = index.root() {
                if let Some(key) = bound(source, index.node(root)) {
                    heap.push(pack(key.to_bits(), source, root));
                }
            }
        }
        Walk { heap, key: std::marker::PhantomData }
    }

    /// The nodes this walk has not opened, keyed again by `bound` (and dropped where it says
    /// none): a walk over the lines this one has not returned, in another order. It spares
    /// the second walk bounding again, from the roots down, the nodes this one already opened.
    /// Its caller must know that this walk's bound pruned no line the second could want.
    pub fn rekey<L: WalkKey>(
        self,
        bounds: &Bounds<'_>,
        bound: &impl Fn(usize, &Node) -> Option<L>,
    ) -> Walk<L> {
        let mut entries = self.heap.into_vec();
        entries.retain_mut(|entry| {
            let (_, source, node) = unpack(*entry);
            let index = bounds.catalog.category_index(bounds.sources[source].category);
            match bound(source, index.node(node)) {
                Some(key) => {
                    *entry = pack(key.to_bits(), source, node);
                    true
                }
                None => false,
            }
        });
        Walk { heap: BinaryHeap::from(entries), key: std::marker::PhantomData }
    }

    /// The best key left: no line not yet returned can do better.
    pub fn peek(&self) -> Option<K> {
        self.heap.peek().map(|entry| K::from_bits(unpack(*entry).0))
    }

    /// The next leaf, best first: its source, its lines (catalog indexes) and its node. A
    /// child's key is capped at its parent's (both bound the child's lines), so keys never
    /// rise along the walk. When a node's best child ranks above everything in the heap, the
    /// walk goes down into it without pushing and popping it: the same order of leaves as
    /// through the heap (entries are totally ordered), for fewer heap operations.
    pub fn next_leaf(
        &mut self,
        bounds: &Bounds<'_>,
        bound: &impl Fn(usize, &Node) -> Option<K>,
    ) -> Option<(usize, std::ops::Range<u32>, u32)> {
        let mut entry = self.heap.pop()?;
        loop {
            let (key_bits, source, node) = unpack(entry);
            let category = bounds.sources[source].category;
            let index = bounds.catalog.category_index(category);
            match index.node(node).children() {
                Children::Lines(lines) => {
                    let first = bounds.catalog.category_lines(category).start as u32;
                    return Some((source, first + lines.start..first + lines.end, node));
                }
                Children::Nodes(children) => {
                    let mut best: Option<u128> = None;
                    for child in children {
                        if let Some(key) = bound(source, index.node(child)) {
                            let child = pack(key.to_bits().min(key_bits), source, child);
                            match best {
                                Some(kept) if kept > child => self.heap.push(child),
                                Some(kept) => {
                                    self.heap.push(kept);
                                    best = Some(child);
                                }
                                None => best = Some(child),
                            }
                        }
                    }
                    entry = match best {
                        Some(best) if self.heap.peek().is_none_or(|top| best > *top) => best,
                        Some(best) => {
                            self.heap.push(best);
                            self.heap.pop()?
                        }
                        None => self.heap.pop()?,
                    };
                }
            }
        }
    }
}

/// Touches the supplier of every line of a leaf before any is evaluated: the loads are
/// independent, so the memory system serves them together instead of one cache miss after
/// another (evaluating a line waits on its supplier's data, scattered across the catalog).
pub(super) fn warm(catalog: &Catalog, lines: impl IntoIterator<Item = u32>) {
    let mut touched = 0u64;
    for line in lines {
        let supplier = catalog.stock_line(StockLineIdx(line)).supplier;
        touched ^= catalog.supplier_point(supplier).certifications.0;
    }
    std::hint::black_box(touched);
}

/// The best `keep` candidates by the ranking rules. The candidates stay where they were put
/// (`slots`); what is kept in rank order is their packed rank keys with their slots, so
/// placing a candidate moves a few small pairs, not candidates, and compares integers.
struct TopK<'a> {
    catalog: &'a Catalog,
    keep: usize,
    slots: Vec<Candidate>,
    /// (packed rank key, slot), best first; at most `keep`.
    ranked: Vec<(u128, u32)>,
    /// The (on time, score) of the last ranked, once `keep` are kept.
    threshold: Option<ScoreKey>,
}

impl<'a> TopK<'a> {
    fn new(catalog: &'a Catalog, keep: usize) -> TopK<'a> {
        TopK {
            catalog,
            keep,
            slots: Vec::with_capacity(keep),
            ranked: Vec::with_capacity(keep + 1),
            threshold: None,
        }
    }

    fn offer(&mut self, candidate: Candidate) {
        // Most offers lose to the last kept on (on time, score) alone.
        let score_key = (candidate.on_time, OrderedFloat(candidate.score));
        if self.threshold.is_some_and(|last| score_key < last) {
            return;
        }
        let key = packed_rank_key(self.catalog, &candidate);
        let at = self.ranked.partition_point(|(kept, _)| *kept < key);
        if at >= self.keep {
            return;
        }
        let slot = if self.ranked.len() == self.keep {
            // Full: the last ranked leaves, and its slot takes the newcomer.
            let (_, slot) = self.ranked.pop().unwrap_or_default();
            self.slots[slot as usize] = candidate;
            slot
        } else {
            self.slots.push(candidate);
            (self.slots.len() - 1) as u32
        };
        self.ranked.insert(at, (key, slot));
        if self.ranked.len() == self.keep {
            let last = &self.slots[self.ranked[self.keep - 1].1 as usize];
            self.threshold = Some((last.on_time, OrderedFloat(last.score)));
        }
    }

    /// The key the next line must reach, once `keep` are kept.
    fn last(&self) -> Option<ScoreKey> {
        self.threshold
    }

    /// The kept candidates in rank order.
    fn into_ranked(self) -> Vec<Candidate> {
        self.ranked.iter().map(|(_, slot)| self.slots[*slot as usize].clone()).collect()
    }
}

/// The best `keep` candidates of the sources by the ranking rules: exactly what ranking every
/// line of them would keep. Stops when the best key any unseen line could have ranks strictly
/// below the `keep`-th kept (a tie could still win on supplier id, so ties are looked at).
pub(super) fn options(
    catalog: &Catalog,
    sources: &[Source],
    spec: &Spec<'_>,
    keep: usize,
) -> Found {
    let bounds = Bounds { catalog, spec, sources };
    let mut top = TopK::new(catalog, keep);
    let mut found = Found::default();
    if keep == 0 {
        return found;
    }
    for (source, s) in sources.iter().enumerate() {
        for line in bounds.raised(source) {
            found.examined += 1;
            if let Some(candidate) = evaluate(catalog, *line, *s, spec) {
                top.offer(candidate);
            }
        }
    }
    let bound = |source: usize, node: &Node| bounds.rank_upper_bound(source, node);
    let mut walk = Walk::new(&bounds, &bound);
    while let Some(best) = walk.peek() {
        if top.last().is_some_and(|last| best < last) {
            break;
        }
        if found.examined >= spec.lines_examined_max {
            found.cut = true;
            break;
        }
        let Some((source, lines, _)) = walk.next_leaf(&bounds, &bound) else { break };
        let raised = bounds.raised(source);
        warm(catalog, lines.clone());
        for line in lines.map(StockLineIdx) {
            if !raised.is_empty() && raised.binary_search(&line).is_ok() {
                continue;
            }
            found.examined += 1;
            if let Some(candidate) = evaluate(catalog, line, sources[source], spec) {
                top.offer(candidate);
            }
        }
    }
    found.candidates = top.into_ranked();
    found
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;

    use ordered_float::OrderedFloat;

    use super::{floor_non_negative, pack, unpack, ScoreKey, WalkKey, WALK_SOURCES_MAX};

    /// Packed entries order exactly as (key, then lower source, then lower node) and give
    /// their key, source and node back, for every kind of key a walk uses.
    #[test]
    fn packed_walk_entries_keep_the_order_and_the_key() {
        let values = [
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            1e-300,
            0.1,
            0.5,
            0.5 + f64::EPSILON,
            1.0,
            3.0,
            72.0,
            1e6,
            f64::MAX,
            f64::INFINITY,
            -1.0,
            -f64::INFINITY,
        ];
        fn check<K: WalkKey + std::fmt::Debug>(keys: &[K]) {
            let (sources, nodes) = ([0usize, 1, 7, WALK_SOURCES_MAX - 1], [0u32, 1, 900, u32::MAX]);
            let mut entries = Vec::new();
            for key in keys {
                assert_eq!(K::from_bits(key.to_bits()), *key, "{key:?}");
                for source in sources {
                    for node in nodes {
                        entries.push((*key, source, node));
                    }
                }
            }
            for a in &entries {
                let packed = pack(a.0.to_bits(), a.1, a.2);
                let (bits, source, node) = unpack(packed);
                assert_eq!((K::from_bits(bits), source, node), *a);
                for b in &entries {
                    let expected = a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2));
                    assert_eq!(packed.cmp(&pack(b.0.to_bits(), b.1, b.2)), expected, "{a:?} {b:?}");
                }
            }
        }
        let floats: Vec<OrderedFloat<f64>> = values.iter().map(|v| OrderedFloat(*v)).collect();
        check(&floats);
        check(&floats.iter().map(|v| Reverse(*v)).collect::<Vec<_>>());
        let scores: Vec<ScoreKey> = floats.iter().flat_map(|v| [(false, *v), (true, *v)]).collect();
        check(&scores);
    }

    /// Bit for bit `f64::floor` on every kind of non-negative input the engine feeds it.
    #[test]
    fn floor_non_negative_is_floor_bit_for_bit() {
        let mut samples = vec![
            0.0,
            f64::MIN_POSITIVE,
            0.5,
            0.999_999_999_999_999_9,
            1.0,
            1.5,
            2.0 - f64::EPSILON,
            12.75,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1e300,
            f64::MAX,
            f64::INFINITY,
        ];
        // Surge × hours left ÷ 24, as the engine computes it.
        for surge in 0..60 {
            for tenths in 0..=720 {
                samples.push(f64::from(surge) * 1.37 * (f64::from(tenths) / 10.0) / 24.0);
            }
        }
        for x in samples {
            assert_eq!(floor_non_negative(x).to_bits(), x.floor().to_bits(), "{x}");
        }
        assert_eq!(floor_non_negative(-0.0), 0.0);
        assert!(floor_non_negative(f64::NAN).is_nan());
    }
}
