//! Per-category spatial indexes over stock lines: an R-tree of points on the unit sphere, so
//! that nearest-first iteration follows great-circle distance with no wrap-around cases.
//!
//! One tree per category rather than one shared tree filtered by category: a query only
//! touches the lines that can answer it (performance-facts: 15 µs filtered vs ~1.5 µs direct).

use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::domain::{LatLon, ZoneTier, EARTH_RADIUS_KM};

type Point = GeomWithData<[f32; 3], u32>;

/// What one stock line contributes to its category's index and bounds.
#[derive(Debug, Clone, Copy)]
pub struct IndexedLine {
    pub location: LatLon,
    pub stock_idx: u32,
    pub lead_time_hours: f64,
    pub quantity_on_hand: f64,
    pub surge_per_day: f64,
    pub reliability: f64,
    pub zone: ZoneTier,
    pub in_demonstration_base: bool,
    /// Share of the category's expected certifications the supplier holds (1 if none).
    pub certification_fit: f64,
}

/// The best value any line of the category has for each input of the score: a search uses
/// them to bound the score of lines it has not looked at yet.
#[derive(Debug, Clone, Copy)]
pub struct CategoryBounds {
    pub min_lead_time_hours: f64,
    pub max_quantity_on_hand: f64,
    pub max_surge_per_day: f64,
    pub max_reliability: f64,
    pub max_certification_fit: f64,
    /// The best zone tier present (core < key < support < outside).
    pub best_zone: ZoneTier,
    pub any_demonstration_base: bool,
}

impl Default for CategoryBounds {
    fn default() -> CategoryBounds {
        CategoryBounds {
            min_lead_time_hours: 0.0,
            max_quantity_on_hand: 0.0,
            max_surge_per_day: 0.0,
            max_reliability: 0.0,
            max_certification_fit: 0.0,
            best_zone: ZoneTier::Outside,
            any_demonstration_base: false,
        }
    }
}

/// Upper ends of the lead-time bands (hours) that split a category's lines into buckets: a
/// line with lead time in [band[b-1], band[b]) goes to bucket b, the rest to the last one.
/// Within a bucket the shortest lead time is close to every line's, so the arrival bound of
/// unseen lines is tight, and a search can walk the short-lead buckets further than the rest.
pub const LEAD_TIME_BANDS_HOURS: [f64; 4] = [2.0, 4.0, 8.0, 16.0];

/// The lines of one lead-time band of a category, by position, with their own bounds.
#[derive(Debug, Default)]
pub struct Bucket {
    tree: RTree<Point>,
    pub bounds: CategoryBounds,
}

impl Bucket {
    fn build(lines: &[IndexedLine]) -> Bucket {
        let points = lines
            .iter()
            .map(|line| GeomWithData::new(to_f32(line.location.unit_vector()), line.stock_idx))
            .collect();
        Bucket { tree: RTree::bulk_load(points), bounds: bounds_of(lines) }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Stock line indexes nearest first, each with a lower bound of its great-circle distance
    /// in km (exact up to the f32 rounding of the index, which the bound absorbs).
    pub fn nearest(&self, at: LatLon) -> impl Iterator<Item = (u32, f64)> + '_ {
        self.tree.nearest_neighbor_iter_with_distance_2(&to_f32(at.unit_vector())).map(
            |(point, d2)| {
                let chord = (d2 as f64).sqrt();
                let great_circle = 2.0 * EARTH_RADIUS_KM * (chord / 2.0).min(1.0).asin();
                // f32 coordinates are good to ~1e-7 of the radius (under a metre); 0.01 km of
                // slack keeps this a true lower bound.
                (point.data, (great_circle - 0.01).max(0.0))
            },
        )
    }
}

fn bounds_of(lines: &[IndexedLine]) -> CategoryBounds {
    if lines.is_empty() {
        return CategoryBounds::default();
    }
    let mut bounds =
        CategoryBounds { min_lead_time_hours: f64::INFINITY, ..CategoryBounds::default() };
    for line in lines {
        bounds.min_lead_time_hours = bounds.min_lead_time_hours.min(line.lead_time_hours);
        bounds.max_quantity_on_hand = bounds.max_quantity_on_hand.max(line.quantity_on_hand);
        bounds.max_surge_per_day = bounds.max_surge_per_day.max(line.surge_per_day);
        bounds.max_reliability = bounds.max_reliability.max(line.reliability);
        bounds.max_certification_fit = bounds.max_certification_fit.max(line.certification_fit);
        bounds.best_zone = bounds.best_zone.min(line.zone);
        bounds.any_demonstration_base |= line.in_demonstration_base;
    }
    bounds
}

/// The stock lines of one category: buckets by lead-time band, each an R-tree by position.
#[derive(Debug, Default)]
pub struct CategoryIndex {
    /// Non-empty buckets, shortest lead times first.
    buckets: Vec<Bucket>,
    /// Bounds over every line of the category.
    pub bounds: CategoryBounds,
    len: usize,
}

impl CategoryIndex {
    pub fn build(lines: impl Iterator<Item = IndexedLine>) -> CategoryIndex {
        let lines: Vec<IndexedLine> = lines.collect();
        let mut banded: Vec<Vec<IndexedLine>> = vec![Vec::new(); LEAD_TIME_BANDS_HOURS.len() + 1];
        for line in &lines {
            let band =
                LEAD_TIME_BANDS_HOURS.partition_point(|upper| *upper <= line.lead_time_hours);
            banded[band].push(*line);
        }
        CategoryIndex {
            buckets: banded
                .iter()
                .filter(|band| !band.is_empty())
                .map(|band| Bucket::build(band))
                .collect(),
            bounds: bounds_of(&lines),
            len: lines.len(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Stock line indexes of the whole category nearest first (a merge of the buckets), each
    /// with a lower bound of its great-circle distance in km.
    pub fn nearest(&self, at: LatLon) -> impl Iterator<Item = (u32, f64)> + '_ {
        let mut iters: Vec<_> =
            self.buckets.iter().map(|bucket| bucket.nearest(at).peekable()).collect();
        std::iter::from_fn(move || {
            let next = iters
                .iter_mut()
                .enumerate()
                .filter_map(|(i, it)| it.peek().map(|(_, d)| (i, *d)))
                .min_by(|a, b| a.1.total_cmp(&b.1))?;
            iters[next.0].next()
        })
    }
}

fn to_f32(v: [f64; 3]) -> [f32; 3] {
    [v[0] as f32, v[1] as f32, v[2] as f32]
}
