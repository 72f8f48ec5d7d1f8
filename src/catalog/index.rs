//! Per-category spatial indexes over stock lines: an R-tree of points on the unit sphere, so
//! that nearest-first iteration follows great-circle distance with no wrap-around cases.
//!
//! One tree per category rather than one shared tree filtered by category: a query only
//! touches the lines that can answer it (performance-facts: 15 µs filtered vs ~1.5 µs direct).

use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::domain::{LatLon, EARTH_RADIUS_KM};

type Point = GeomWithData<[f32; 3], u32>;

/// The stock lines of one category, by position.
#[derive(Debug, Default)]
pub struct CategoryIndex {
    tree: RTree<Point>,
    /// The shortest lead time of any line in the category: the pruning bound of a search
    /// uses it as the best case for lines not yet seen.
    pub min_lead_time_hours: f64,
}

impl CategoryIndex {
    /// `lines`: (position, stock line index, lead time).
    pub fn build(lines: impl Iterator<Item = (LatLon, u32, f64)>) -> CategoryIndex {
        let mut min_lead_time_hours = f64::INFINITY;
        let points: Vec<Point> = lines
            .map(|(at, stock_idx, lead)| {
                min_lead_time_hours = min_lead_time_hours.min(lead);
                GeomWithData::new(to_f32(at.unit_vector()), stock_idx)
            })
            .collect();
        if points.is_empty() {
            min_lead_time_hours = 0.0;
        }
        CategoryIndex { tree: RTree::bulk_load(points), min_lead_time_hours }
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

    /// Every stock line index, in no particular order (for brute-force comparisons).
    pub fn all(&self) -> impl Iterator<Item = u32> + '_ {
        self.tree.iter().map(|point| point.data)
    }
}

fn to_f32(v: [f64; 3]) -> [f32; 3] {
    [v[0] as f32, v[1] as f32, v[2] as f32]
}
