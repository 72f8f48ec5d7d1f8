//! Per-category search indexes over stock lines, built for the engine's question: "which lines
//! could still rank among the best, or still help the plan?".
//!
//! Each category's lines are split into buckets by lead-time band; each bucket is a binary
//! tree down to leaves of at most `LEAF_LINES_MAX` lines, split at every level along the axis
//! where its lines spread most in score terms: position on the sphere (x, y, z), lead time,
//! size (stock and a day of surge) or static score (reliability, certification fit and zone
//! policy under the default weights). Far apart, nodes split by position; within one city,
//! where dozens of suppliers sit a few km apart, they split by static score or size — bands
//! on the static score that form where they pay. Every node keeps a spherical cap holding its
//! lines and the best value any of them has for each input of the score (`NodeBounds`), so a
//! search can bound, for a whole node, the arrival time, what its lines offer in a window and
//! their score, before looking at any of them. The catalog stores each category's lines in
//! leaf order, so a leaf is a contiguous run of `Catalog::stock_lines`.
//!
//! Why split on more than position: with long windows or air transport the arrival term
//! barely separates near from far, and a tree by position alone bounds every node's other
//! criteria by the best line anywhere in it. The axis weights (`AXIS_WEIGHTS`) only choose how
//! lines are grouped, never what a bound says: they were tuned on the 1e6-line registry for
//! the fewest lines examined (BENCHMARKS.md).
//!
//! The index holds no copy of the lines' data (the catalog's arrays are the only one): nodes
//! of 64 bytes aligned to 64 (one cache line each, never two), about one per four lines, with
//! their bounds in `f32` rounded outward.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::domain::{great_circle_km_units, CertSet, ZoneTier, EARTH_RADIUS_KM};

/// The most lines in one leaf: a leaf is evaluated whole once its bound makes it worth it.
pub const LEAF_LINES_MAX: usize = 8;

/// Categories with at most this many lines are one leaf: evaluating them whole costs less
/// than walking a tree.
pub const SMALL_CATEGORY_LINES_MAX: usize = 64;

/// Upper ends of the lead-time bands (hours): a line with lead time in [band[b-1], band[b])
/// goes to bucket b, the rest to the last one.
pub const LEAD_TIME_BANDS_HOURS: [f64; 4] = [2.0, 4.0, 8.0, 16.0];

/// How much one unit along each split axis counts when choosing where to split: per km of
/// position (the arrival term's slope at a 12 h window), per hour of lead time, per share of
/// the category's largest size, per unit of static score. Tuned, not derived (see the module).
const AXIS_WEIGHTS: AxisWeights =
    AxisWeights { per_km: 4e-4, per_lead_hour: 5e-3, size: 0.05, static_score: 0.1 };

#[derive(Debug, Clone, Copy)]
struct AxisWeights {
    per_km: f64,
    per_lead_hour: f64,
    size: f64,
    static_score: f64,
}

/// The default weights of reliability, certification fit and zone policy
/// (`matching::Weights::default`; a matching test checks they agree). They only choose how
/// lines are grouped: any weights give correct bounds, these give the tightest.
pub const STATIC_SCORE_WEIGHTS: [f64; 3] = [0.15, 0.10, 0.10];

/// Slack (km) taken off every distance bound: the caps are computed in floating point, and a
/// bound must stay below the distance the engine computes for any line in the cap.
const DISTANCE_SLACK_KM: f64 = 0.01;

/// What one stock line contributes to its category's index.
#[derive(Debug, Clone, Copy)]
pub struct IndexedLine {
    /// The supplier's position on the unit sphere.
    pub unit: [f64; 3],
    /// Its position among the category's lines as given (sorted by supplier id).
    pub position: u32,
    pub lead_time_hours: f64,
    pub quantity_on_hand: f64,
    pub surge_per_day: f64,
    pub reliability: f64,
    pub zone: ZoneTier,
    /// The zone policy value (zone tier and demonstration base).
    pub zone_value: f64,
    /// Share of the category's expected certifications the supplier holds (1 if none).
    pub certification_fit: f64,
    pub certifications: CertSet,
}

impl IndexedLine {
    fn static_score(&self) -> f64 {
        let [r, c, z] = STATIC_SCORE_WEIGHTS;
        r * self.reliability + c * self.certification_fit + z * self.zone_value
    }
}

/// The best value any line of a category has for each input of the score and of the filters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryBounds {
    pub min_lead_time_hours: f64,
    pub max_quantity_on_hand: f64,
    pub max_surge_per_day: f64,
    /// The largest stock plus one day, and plus three days, of surge: with the two maxima
    /// above, samples of the upper envelope of stock + surge × days (convex in days), which
    /// bounds what lines offer in a window much tighter than the two maxima alone (the line
    /// with the most stock is rarely the one with the most surge).
    pub max_size_1_day: f64,
    pub max_size_3_days: f64,
    pub max_reliability: f64,
    pub max_certification_fit: f64,
    pub max_zone_value: f64,
    /// Zone tiers present, one bit per `ZoneTier as u8`.
    pub zone_tiers: u8,
    /// Every certification some line's supplier holds.
    pub certifications: CertSet,
}

impl Default for CategoryBounds {
    fn default() -> CategoryBounds {
        CategoryBounds {
            min_lead_time_hours: f64::INFINITY,
            max_quantity_on_hand: 0.0,
            max_surge_per_day: 0.0,
            max_size_1_day: 0.0,
            max_size_3_days: 0.0,
            max_reliability: 0.0,
            max_certification_fit: 0.0,
            max_zone_value: 0.0,
            zone_tiers: 0,
            certifications: CertSet::default(),
        }
    }
}

impl CategoryBounds {
    fn add(&mut self, line: &IndexedLine) {
        self.min_lead_time_hours = self.min_lead_time_hours.min(line.lead_time_hours);
        self.max_quantity_on_hand = self.max_quantity_on_hand.max(line.quantity_on_hand);
        self.max_surge_per_day = self.max_surge_per_day.max(line.surge_per_day);
        self.max_size_1_day = self.max_size_1_day.max(line.quantity_on_hand + line.surge_per_day);
        self.max_size_3_days =
            self.max_size_3_days.max(line.quantity_on_hand + 3.0 * line.surge_per_day);
        self.max_reliability = self.max_reliability.max(line.reliability);
        self.max_certification_fit = self.max_certification_fit.max(line.certification_fit);
        self.max_zone_value = self.max_zone_value.max(line.zone_value);
        self.zone_tiers |= 1 << line.zone as u8;
        self.certifications = CertSet(self.certifications.0 | line.certifications.0);
    }

    fn of(lines: &[IndexedLine]) -> CategoryBounds {
        let mut bounds = CategoryBounds::default();
        for line in lines {
            bounds.add(line);
        }
        bounds
    }
}

/// `CategoryBounds` of one node, in `f32` rounded outward (maxima up, the minimum down), so
/// they stay bounds and a node stays small. Read them through the methods, in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeBounds {
    min_lead_time_hours: f32,
    max_quantity_on_hand: f32,
    max_surge_per_day: f32,
    max_size_1_day: f32,
    max_size_3_days: f32,
    max_reliability: f32,
    max_certification_fit: f32,
    max_zone_value: f32,
    /// Every certification some line's supplier holds, as two halves of the `CertSet` bits
    /// (so the bounds align to 4 bytes and take 40; read through `certifications`). The zone
    /// tiers present are in the node (`Node::zone_tiers`), where they fill its padding.
    certifications: [u32; 2],
}

/// The smallest `f32` at or above `x` (x ≥ 0, finite).
fn up(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y) < x {
        f32::from_bits(y.to_bits() + 1)
    } else {
        y
    }
}

/// The largest `f32` at or below `x` (x ≥ 0, finite).
fn down(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y) > x {
        f32::from_bits(y.to_bits() - 1)
    } else {
        y
    }
}

impl NodeBounds {
    fn of(lines: &[IndexedLine]) -> NodeBounds {
        let b = CategoryBounds::of(lines);
        NodeBounds {
            min_lead_time_hours: down(b.min_lead_time_hours),
            max_quantity_on_hand: up(b.max_quantity_on_hand),
            max_surge_per_day: up(b.max_surge_per_day),
            max_size_1_day: up(b.max_size_1_day),
            max_size_3_days: up(b.max_size_3_days),
            max_reliability: up(b.max_reliability),
            max_certification_fit: up(b.max_certification_fit),
            max_zone_value: up(b.max_zone_value),
            certifications: [b.certifications.0 as u32, (b.certifications.0 >> 32) as u32],
        }
    }

    /// Every certification some line's supplier holds.
    pub fn certifications(&self) -> CertSet {
        CertSet(u64::from(self.certifications[0]) | (u64::from(self.certifications[1]) << 32))
    }

    pub fn min_lead_time_hours(&self) -> f64 {
        f64::from(self.min_lead_time_hours)
    }

    pub fn max_quantity_on_hand(&self) -> f64 {
        f64::from(self.max_quantity_on_hand)
    }

    pub fn max_surge_per_day(&self) -> f64 {
        f64::from(self.max_surge_per_day)
    }

    pub fn max_reliability(&self) -> f64 {
        f64::from(self.max_reliability)
    }

    pub fn max_certification_fit(&self) -> f64 {
        f64::from(self.max_certification_fit)
    }

    pub fn max_zone_value(&self) -> f64 {
        f64::from(self.max_zone_value)
    }

    /// An upper bound of stock + surge × `days` over the node's lines (`days` ≥ 0): the
    /// envelope is convex in `days`, so it lies under the chords between its samples (0, 1
    /// and 3 days), and past the last one it grows by at most the largest surge. A relative
    /// 1e-12 of slack absorbs the rounding of the interpolation.
    pub fn size_upper_bound(&self, days: f64) -> f64 {
        let f0 = self.max_quantity_on_hand();
        let (f1, f3) = (f64::from(self.max_size_1_day), f64::from(self.max_size_3_days));
        let envelope = if days <= 1.0 {
            f0 + (f1 - f0) * days
        } else if days <= 3.0 {
            f1 + (f3 - f1) * (days - 1.0) / 2.0
        } else {
            f3 + self.max_surge_per_day() * (days - 3.0)
        };
        let separate = f0 + self.max_surge_per_day() * days;
        envelope.min(separate) * (1.0 + 1e-12) + 1e-9
    }
}

/// A node of a category's tree: a cap on the sphere holding its lines, their bounds, and its
/// children (nodes) or its lines (a leaf). 64 bytes aligned to 64, so bounding a node reads
/// one cache line (at 68 bytes, most nodes straddled two).
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub struct Node {
    /// The cap's centre (a unit vector, rounded to `f32`) and its great-circle radius (km),
    /// measured from that rounded centre: every line of the node lies within `radius_km`.
    center: [f32; 3],
    radius_km: f32,
    pub bounds: NodeBounds,
    /// Children are nodes `first..first + count`; a leaf's lines are the category's lines
    /// `first..first + count` (positions in leaf order). A node has at most
    /// `SMALL_CATEGORY_LINES_MAX` lines or `LEAD_TIME_BANDS_HOURS.len() + 1` children, so the
    /// count fits a byte.
    first: u32,
    count: u8,
    leaf: bool,
    /// Zone tiers present among the node's lines, one bit per `ZoneTier as u8`.
    pub zone_tiers: u8,
}

// A node is one cache line; the count must hold a small category's lines.
const _: () = assert!(std::mem::size_of::<Node>() == 64);
const _: () = assert!(SMALL_CATEGORY_LINES_MAX <= u8::MAX as usize);
const _: () = assert!(LEAD_TIME_BANDS_HOURS.len() < u8::MAX as usize);

/// What a node holds: child nodes, or a run of the category's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Children {
    Nodes(std::ops::Range<u32>),
    Lines(std::ops::Range<u32>),
}

impl Node {
    pub fn children(&self) -> Children {
        let range = self.first..self.first + u32::from(self.count);
        if self.leaf {
            Children::Lines(range)
        } else {
            Children::Nodes(range)
        }
    }

    fn center(&self) -> [f64; 3] {
        self.center.map(f64::from)
    }

    /// A lower bound of the great-circle distance (km) from the unit vector `at` to any line
    /// of the node: to the centre, less the radius. The distance to the centre is taken as
    /// the chord (× the Earth's radius), never longer than the arc and within 0.01 % of it
    /// up to 1,000 km, which spares an `asin` per node.
    pub fn distance_lower_bound_km(&self, at: [f64; 3]) -> f64 {
        let c = self.center();
        let (dx, dy, dz) = (at[0] - c[0], at[1] - c[1], at[2] - c[2]);
        let chord_km = (dx * dx + dy * dy + dz * dz).sqrt() * EARTH_RADIUS_KM;
        (chord_km - f64::from(self.radius_km) - DISTANCE_SLACK_KM).max(0.0)
    }
}

/// The index of one category: its tree (node 0 is the root) and the bounds over all its lines.
#[derive(Debug, Default)]
pub struct CategoryIndex {
    nodes: Vec<Node>,
    /// Bounds over every line of the category.
    pub bounds: CategoryBounds,
    len: usize,
}

impl CategoryIndex {
    /// Builds the index of one category's lines (given sorted by supplier id) and returns the
    /// order in which the catalog must store them: `order[k]` is the `position` of the line
    /// that goes `k`-th. The order depends only on the lines' data, with ties broken by
    /// position, so it never depends on file order.
    pub fn build(mut lines: Vec<IndexedLine>) -> (CategoryIndex, Vec<u32>) {
        let bounds = CategoryBounds::of(&lines);
        let len = lines.len();
        if lines.is_empty() {
            return (CategoryIndex::default(), Vec::new());
        }
        let largest =
            lines.iter().map(|line| line.quantity_on_hand + line.surge_per_day).fold(0.0, f64::max);
        let per_size = if largest > 0.0 { AXIS_WEIGHTS.size / largest } else { 0.0 };
        let mut builder = Builder { nodes: Vec::new(), order: Vec::with_capacity(len), per_size };
        builder.nodes.push(cap_node(&lines));
        if len <= SMALL_CATEGORY_LINES_MAX {
            builder.fill_leaf(0, &lines);
        } else {
            let buckets = lead_time_buckets(&mut lines);
            let first = builder.reserve(buckets.len());
            let root = &mut builder.nodes[0];
            (root.first, root.count, root.leaf) = (first, buckets.len() as u8, false);
            for (k, bucket) in buckets.into_iter().enumerate() {
                let bucket = &mut lines[bucket];
                builder.nodes[first as usize + k] = cap_node(bucket);
                builder.split(first + k as u32, bucket);
            }
        }
        (CategoryIndex { nodes: builder.nodes, bounds, len }, builder.order)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The root, when the category has lines.
    pub fn root(&self) -> Option<u32> {
        (!self.nodes.is_empty()).then_some(0)
    }

    pub fn node(&self, idx: u32) -> &Node {
        &self.nodes[idx as usize]
    }

    /// Every node (for tests of the invariants).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The category's line positions (in leaf order) nearest first from `at`, each with the
    /// distance `distance(position)` gives: the great-circle distance to the line, as the
    /// caller measures it (it must not be below the node caps' bound, which holds for
    /// `great_circle_km` and `great_circle_km_units` up to `DISTANCE_SLACK_KM`).
    pub fn nearest<'a>(
        &'a self,
        at: [f64; 3],
        distance: impl Fn(u32) -> f64 + 'a,
    ) -> impl Iterator<Item = (u32, f64)> + 'a {
        let mut heap: BinaryHeap<Nearest> = BinaryHeap::new();
        if let Some(root) = self.root() {
            let km = self.node(root).distance_lower_bound_km(at);
            heap.push(Nearest { km, node: true, idx: root });
        }
        std::iter::from_fn(move || loop {
            let next = heap.pop()?;
            if !next.node {
                return Some((next.idx, next.km));
            }
            match self.node(next.idx).children() {
                Children::Nodes(children) => {
                    for child in children {
                        let km = self.node(child).distance_lower_bound_km(at).max(next.km);
                        heap.push(Nearest { km, node: true, idx: child });
                    }
                }
                Children::Lines(lines) => {
                    for position in lines {
                        heap.push(Nearest { km: distance(position), node: false, idx: position });
                    }
                }
            }
        })
    }
}

/// A heap entry of `nearest`: smallest distance first, nodes before lines at equal distance
/// (a node may still hold a line at that distance), then by index.
#[derive(Debug, PartialEq)]
struct Nearest {
    km: f64,
    node: bool,
    idx: u32,
}

impl Eq for Nearest {}

impl Ord for Nearest {
    fn cmp(&self, other: &Nearest) -> Ordering {
        other.km.total_cmp(&self.km).then(self.node.cmp(&other.node)).then(other.idx.cmp(&self.idx))
    }
}

impl PartialOrd for Nearest {
    fn partial_cmp(&self, other: &Nearest) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Sorts the lines by lead-time band (then position) and returns the non-empty bands as
/// ranges of `lines`, shortest lead times first.
fn lead_time_buckets(lines: &mut [IndexedLine]) -> Vec<std::ops::Range<usize>> {
    let band = |line: &IndexedLine| {
        LEAD_TIME_BANDS_HOURS.partition_point(|upper| *upper <= line.lead_time_hours)
    };
    lines.sort_unstable_by(|a, b| band(a).cmp(&band(b)).then(a.position.cmp(&b.position)));
    let mut buckets = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let lead_band = band(&lines[start]);
        let end = start + lines[start..].partition_point(|line| band(line) == lead_band);
        buckets.push(start..end);
        start = end;
    }
    buckets
}

/// A node with the cap and bounds of `lines` (children set by the caller). The centre is the
/// normalised mean position, rounded to `f32`; the radius is measured from the rounded centre
/// and rounded up.
fn cap_node(lines: &[IndexedLine]) -> Node {
    let mut sum = [0.0f64; 3];
    for line in lines {
        for (s, u) in sum.iter_mut().zip(line.unit) {
            *s += u;
        }
    }
    let norm = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]).sqrt();
    let center = if norm > 1e-12 { sum.map(|s| s / norm) } else { lines[0].unit };
    let center = center.map(|c| c as f32);
    let exact = center.map(f64::from);
    let radius_km =
        lines.iter().map(|line| great_circle_km_units(exact, line.unit)).fold(0.0, f64::max);
    Node {
        center,
        radius_km: up(radius_km),
        bounds: NodeBounds::of(lines),
        first: 0,
        count: 0,
        leaf: false,
        zone_tiers: lines.iter().fold(0, |tiers, line| tiers | 1 << line.zone as u8),
    }
}

struct Builder {
    nodes: Vec<Node>,
    order: Vec<u32>,
    /// Axis weight per unit of size: `AXIS_WEIGHTS.size` over the category's largest.
    per_size: f64,
}

impl Builder {
    /// Appends `n` placeholder nodes and returns the index of the first.
    fn reserve(&mut self, n: usize) -> u32 {
        let first = self.nodes.len() as u32;
        let placeholder = Node {
            center: [0.0; 3],
            radius_km: 0.0,
            bounds: NodeBounds::of(&[]),
            first: 0,
            count: 0,
            leaf: true,
            zone_tiers: 0,
        };
        self.nodes.resize(self.nodes.len() + n, placeholder);
        first
    }

    fn fill_leaf(&mut self, node: u32, lines: &[IndexedLine]) {
        let node = &mut self.nodes[node as usize];
        node.leaf = true;
        node.first = self.order.len() as u32;
        node.count = lines.len() as u8;
        self.order.extend(lines.iter().map(|line| line.position));
    }

    /// Makes `node` (whose cap and bounds are set) a leaf, or splits its lines in two halves
    /// along the axis where they spread most, recursively. Depth is logarithmic: each split
    /// halves the lines.
    fn split(&mut self, node: u32, lines: &mut [IndexedLine]) {
        if lines.len() <= LEAF_LINES_MAX {
            self.fill_leaf(node, lines);
            return;
        }
        let coordinate = |line: &IndexedLine, axis: usize| self.coordinate(line, axis);
        let extent = |axis: usize| {
            let (lo, hi) = lines.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| {
                let x = coordinate(l, axis);
                (lo.min(x), hi.max(x))
            });
            hi - lo
        };
        let axis = (0..AXES).max_by(|a, b| extent(*a).total_cmp(&extent(*b))).unwrap_or(0);
        lines.sort_unstable_by(|a, b| {
            coordinate(a, axis).total_cmp(&coordinate(b, axis)).then(a.position.cmp(&b.position))
        });
        // Halves rounded to whole leaves, so leaves come out full.
        let half = (lines.len() / 2).div_ceil(LEAF_LINES_MAX) * LEAF_LINES_MAX;
        let (left, right) = lines.split_at_mut(half.min(lines.len() - 1));
        let first = self.reserve(2);
        let parent = &mut self.nodes[node as usize];
        (parent.first, parent.count, parent.leaf) = (first, 2, false);
        for (k, part) in [left, right].into_iter().enumerate() {
            self.nodes[first as usize + k] = cap_node(part);
            self.split(first + k as u32, part);
        }
    }

    /// A line's coordinate on one split axis (x, y, z, lead time, size, static score), in the
    /// units of `AXIS_WEIGHTS`.
    fn coordinate(&self, line: &IndexedLine, axis: usize) -> f64 {
        match axis {
            0..=2 => line.unit[axis] * EARTH_RADIUS_KM * AXIS_WEIGHTS.per_km,
            3 => line.lead_time_hours * AXIS_WEIGHTS.per_lead_hour,
            4 => (line.quantity_on_hand + line.surge_per_day) * self.per_size,
            _ => line.static_score() * AXIS_WEIGHTS.static_score,
        }
    }
}

/// The split's axes: x, y, z, lead time, size, static score.
const AXES: usize = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LatLon;

    fn line(position: u32, lat: f64, lon: f64, lead: f64) -> IndexedLine {
        IndexedLine {
            unit: LatLon::new(lat, lon).unwrap().unit_vector(),
            position,
            lead_time_hours: lead,
            quantity_on_hand: f64::from(position % 7),
            surge_per_day: f64::from(position % 3),
            reliability: 0.7 + f64::from(position % 30) / 100.0,
            zone: ZoneTier::ALL[(position % 4) as usize],
            zone_value: 0.4 + f64::from(position % 5) / 10.0,
            certification_fit: f64::from(position % 2),
            certifications: CertSet(u64::from(position % 5)),
        }
    }

    fn lines(n: u32) -> Vec<IndexedLine> {
        (0..n)
            .map(|i| {
                let a = f64::from(i.wrapping_mul(2_654_435_761) % 10_000) / 10_000.0;
                let b = f64::from(i.wrapping_mul(40_503) % 10_000) / 10_000.0;
                line(i, 20.0 + 25.0 * a, 85.0 + 40.0 * b, f64::from(1 + i % 40))
            })
            .collect()
    }

    /// Every line once; every leaf within its cap and bounds, and every node's bounds and cap
    /// holding all the lines below it.
    #[test]
    fn the_tree_holds_every_line_once_within_its_nodes_caps_and_bounds() {
        for n in [1, 10, SMALL_CATEGORY_LINES_MAX as u32, 65, 300, 2000] {
            let input = lines(n);
            let (index, order) = CategoryIndex::build(input.clone());
            let mut seen = order.clone();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "{n} lines");
            let stored: Vec<IndexedLine> = order.iter().map(|p| input[*p as usize]).collect();
            // Lines below each node, checked against its cap and bounds.
            fn below(index: &CategoryIndex, node: u32, out: &mut Vec<u32>) {
                match index.node(node).children() {
                    Children::Lines(lines) => out.extend(lines),
                    Children::Nodes(nodes) => nodes.for_each(|c| below(index, c, out)),
                }
            }
            let mut leaf_lines = 0;
            for (idx, node) in index.nodes().iter().enumerate() {
                let mut positions = Vec::new();
                below(&index, idx as u32, &mut positions);
                assert!(!positions.is_empty());
                for position in &positions {
                    let line = &stored[*position as usize];
                    assert!(node.distance_lower_bound_km(line.unit) == 0.0);
                    assert!(
                        great_circle_km_units(node.center(), line.unit)
                            <= f64::from(node.radius_km)
                    );
                    let b = &node.bounds;
                    assert!(b.min_lead_time_hours() <= line.lead_time_hours);
                    assert!(b.max_quantity_on_hand() >= line.quantity_on_hand);
                    assert!(b.max_surge_per_day() >= line.surge_per_day);
                    for days in [0.0, 0.1, 0.5, 1.0, 1.7, 3.0, 4.5, 30.0] {
                        let size = line.quantity_on_hand + line.surge_per_day * days;
                        assert!(b.size_upper_bound(days) >= size, "{days} days");
                    }
                    assert!(b.max_reliability() >= line.reliability);
                    assert!(b.max_certification_fit() >= line.certification_fit);
                    assert!(b.max_zone_value() >= line.zone_value);
                    assert!(node.zone_tiers & (1 << line.zone as u8) != 0);
                    assert!(b.certifications().contains_all(line.certifications));
                }
                if let Children::Lines(lines) = node.children() {
                    assert!(lines.len() <= LEAF_LINES_MAX.max(SMALL_CATEGORY_LINES_MAX));
                    leaf_lines += lines.len();
                }
            }
            assert_eq!(leaf_lines, n as usize);
        }
    }

    #[test]
    fn nearest_yields_every_line_nearest_first() {
        let input = lines(700);
        let (index, order) = CategoryIndex::build(input.clone());
        let at = LatLon::new(39.6, 118.2).unwrap().unit_vector();
        let distance = |position: u32| {
            great_circle_km_units(at, input[order[position as usize] as usize].unit)
        };
        let walked: Vec<(u32, f64)> = index.nearest(at, distance).collect();
        assert_eq!(walked.len(), 700);
        assert!(walked.windows(2).all(|w| w[0].1 <= w[1].1));
        let mut positions: Vec<u32> = walked.iter().map(|(p, _)| *p).collect();
        positions.sort_unstable();
        assert_eq!(positions, (0..700).collect::<Vec<_>>());
    }

    #[test]
    fn a_far_point_has_a_positive_distance_bound() {
        let (index, _) = CategoryIndex::build(lines(300));
        let root = index.node(index.root().unwrap());
        // The lines cover 20–45° N, 85–125° E; the South Pole is far from all of them.
        let pole = LatLon::new(-90.0, 0.0).unwrap().unit_vector();
        assert!(root.distance_lower_bound_km(pole) > 0.25 * EARTH_RADIUS_KM);
    }
}
