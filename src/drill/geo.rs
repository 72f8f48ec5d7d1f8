//! The report map's geography: the outlines of Beijing, Tianjin and Hebei (the console's
//! `console/geo/jingjinji.json`, DCW-GMT, credited there), the places a map marks, and labels
//! that do not collide — the same greedy placement as the console's `labels.js`.

use serde::Deserialize;

/// The embedded outlines (LGPL-3.0-or-later, DCW-GMT; see console/geo/README.md).
const OUTLINES_JSON: &str = include_str!("../../console/geo/jingjinji.json");

/// The credit line every map drawing the outlines carries.
pub const CREDIT: &str = "Province outlines: DCW-GMT (LGPL-3.0+), simplified";

#[derive(Debug, Deserialize)]
pub struct Outlines {
    pub regions: Vec<Region>,
}

#[derive(Debug, Deserialize)]
pub struct Region {
    pub id: String,
    pub name_en: String,
    /// Closed rings of (longitude, latitude) in degrees.
    pub rings: Vec<Vec<[f64; 2]>>,
}

/// The outlines, parsed (a unit test guarantees the embedded file parses).
pub fn outlines() -> Result<Outlines, serde_json::Error> {
    serde_json::from_str(OUTLINES_JSON)
}

/// A place a map marks: a zone city or park, or a demonstration base.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPlace {
    pub id: String,
    pub name_en: String,
    /// city | park | demonstration_base.
    pub kind: String,
    /// core | key | support | outside.
    pub zone: String,
    pub latitude: f64,
    pub longitude: f64,
}

impl MapPlace {
    /// The catalog's places a map marks: every demonstration base, every place in a zone, and
    /// the two city centres.
    pub fn from_catalog(catalog: &crate::catalog::Catalog) -> Vec<MapPlace> {
        catalog
            .places
            .iter()
            .map(|place| MapPlace {
                id: place.id.to_string(),
                name_en: place.name_en.clone(),
                kind: place.kind.key().to_owned(),
                zone: place.zone.key().to_owned(),
                latitude: place.location.latitude(),
                longitude: place.location.longitude(),
            })
            .filter(MapPlace::marked)
            .collect()
    }

    pub fn marked(&self) -> bool {
        self.kind == "demonstration_base"
            || self.zone != "outside"
            || self.id == "beijing"
            || self.id == "tianjin"
    }
}

/// A label to place: its marker's centre and radius, its text, and how much it matters.
#[derive(Debug, Clone)]
pub struct LabelItem {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub text: String,
    pub priority: u32,
    pub font_size: f64,
}

/// A label's box (top-left corner, size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl LabelBox {
    pub fn overlaps(&self, other: &LabelBox) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// Positions tried around a marker, in order: right, left, above, below, then the diagonals.
const POSITIONS: [(f64, f64); 8] = [
    (1.0, 0.0),
    (-1.0, 0.0),
    (0.0, -1.0),
    (0.0, 1.0),
    (1.0, -1.0),
    (1.0, 1.0),
    (-1.0, -1.0),
    (-1.0, 1.0),
];
/// Gap between a marker's edge and its label (px).
const GAP: f64 = 3.0;
/// The most labels one map places (bounds the quadratic search).
pub const LABELS_MAX: usize = 400;

/// A width estimate: CJK glyphs are square, Latin ones about 0.6 of the font size.
pub fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().map(|c| if u32::from(c) > 0x2e80 { font_size } else { font_size * 0.6 }).sum()
}

/// Places labels most important first (ties by input order), each at the first of eight
/// positions around its marker that overlaps no placed label, no reserved box, no other marker
/// and stays in the `w` × `h` frame; `None` for a label with no free position (not drawn).
pub fn place_labels(
    items: &[LabelItem],
    w: f64,
    h: f64,
    reserved: &[LabelBox],
) -> Vec<Option<LabelBox>> {
    let markers: Vec<LabelBox> = items
        .iter()
        .map(|i| LabelBox { x: i.x - i.r, y: i.y - i.r, w: 2.0 * i.r, h: 2.0 * i.r })
        .collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| items[*b].priority.cmp(&items[*a].priority).then(a.cmp(b)));
    let mut placed: Vec<LabelBox> = reserved.to_vec();
    let mut result = vec![None; items.len()];
    for &i in order.iter().take(LABELS_MAX) {
        let item = &items[i];
        let bw = text_width(&item.text, item.font_size);
        let bh = item.font_size + 2.0;
        for (dx, dy) in POSITIONS {
            let along = if dx == 0.0 { 0.0 } else { bw / 2.0 };
            let cx = item.x + dx * (item.r + GAP + along);
            let cy = item.y + dy * (item.r + GAP + bh / 2.0);
            let candidate = LabelBox { x: cx - bw / 2.0, y: cy - bh / 2.0, w: bw, h: bh };
            let inside = candidate.x >= 0.0
                && candidate.y >= 0.0
                && candidate.x + bw <= w
                && candidate.y + bh <= h;
            if !inside
                || placed.iter().any(|other| candidate.overlaps(other))
                || markers.iter().enumerate().any(|(j, m)| j != i && candidate.overlaps(m))
            {
                continue;
            }
            placed.push(candidate);
            result[i] = Some(candidate);
            break;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_outlines_parse_and_cover_the_region() {
        let outlines = outlines().expect("console/geo/jingjinji.json parses");
        let ids: Vec<&str> = outlines.regions.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["CN.BJ", "CN.TJ", "CN.HE"]);
        for region in &outlines.regions {
            assert!(!region.rings.is_empty());
            for ring in &region.rings {
                assert!(ring.len() >= 4);
                for [lon, lat] in ring {
                    assert!((113.0..=120.5).contains(lon) && (36.0..=43.0).contains(lat));
                }
            }
        }
    }

    /// Brute force over every pair: no placed label overlaps another, a reserved box or a
    /// marker other than its own, and every placed label is inside the frame.
    #[test]
    fn placed_labels_never_collide() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..50 {
            let n = 5 + (next() * 60.0) as usize;
            let items: Vec<LabelItem> = (0..n)
                .map(|i| LabelItem {
                    x: next() * 520.0,
                    y: next() * 420.0,
                    r: 2.0 + next() * 6.0,
                    text: if i % 3 == 0 { format!("城市{i}") } else { format!("place-{i}") },
                    priority: (next() * 5.0) as u32,
                    font_size: 11.0,
                })
                .collect();
            let reserved = [LabelBox { x: 200.0, y: 200.0, w: 60.0, h: 16.0 }];
            let boxes = place_labels(&items, 520.0, 420.0, &reserved);
            let placed: Vec<(usize, LabelBox)> =
                boxes.iter().enumerate().filter_map(|(i, b)| b.map(|b| (i, b))).collect();
            assert!(!placed.is_empty());
            for (k, (i, a)) in placed.iter().enumerate() {
                assert!(a.x >= 0.0 && a.y >= 0.0 && a.x + a.w <= 520.0 && a.y + a.h <= 420.0);
                assert!(!a.overlaps(&reserved[0]));
                for (_, b) in &placed[k + 1..] {
                    assert!(!a.overlaps(b), "two labels overlap");
                }
                for (j, item) in items.iter().enumerate() {
                    let marker = LabelBox {
                        x: item.x - item.r,
                        y: item.y - item.r,
                        w: 2.0 * item.r,
                        h: 2.0 * item.r,
                    };
                    assert!(*i == j || !a.overlaps(&marker), "a label covers a marker");
                }
            }
        }
    }

    #[test]
    fn a_label_with_no_room_is_dropped_not_stacked() {
        let item = |text: &str, priority| LabelItem {
            x: 10.0,
            y: 10.0,
            r: 1.0,
            text: text.into(),
            priority,
            font_size: 11.0,
        };
        let w = 10.0 + 1.0 + GAP + text_width("aaaa", 11.0) + 1.0;
        let boxes = place_labels(&[item("aaaa", 2), item("bbbb", 1)], w, 20.0, &[]);
        assert!(boxes[0].is_some());
        assert!(boxes[1].is_none());
    }
}
