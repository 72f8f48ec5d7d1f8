//! Where an alert's area is and how large: polygon area on the sphere and a centroid, circle
//! area π r². Good to a fraction of a percent for alert-sized areas, which is all the quantity
//! rule needs (it scales by the km²).

use crate::domain::{LatLon, EARTH_RADIUS_KM};

use super::cap::{Circle, Polygon};

/// The area of a closed ring on the sphere (km²): the exact area enclosed by the ring when its
/// edges run along parallels' rhumb lines, by the Chamberlain–Duquette formula
/// Σ (λ₂ − λ₁)(2 + sin φ₁ + sin φ₂) R² / 2 (JPL 2007). Longitudes are unwrapped edge by edge,
/// so a ring may cross the antimeridian.
pub fn polygon_area_km2(polygon: &Polygon) -> f64 {
    let mut sum = 0.0;
    for pair in polygon.points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let dlon = unwrap_degrees(b.longitude() - a.longitude()).to_radians();
        sum += dlon * (2.0 + a.latitude().to_radians().sin() + b.latitude().to_radians().sin());
    }
    (sum * EARTH_RADIUS_KM * EARTH_RADIUS_KM / 2.0).abs()
}

/// The centroid of a ring: the area centroid in an equirectangular projection around its first
/// point (x scaled by cos of the mean latitude), which is within metres of the true centroid
/// for alert-sized areas. A degenerate ring (zero area) gives the mean of its distinct points.
pub fn polygon_centroid(polygon: &Polygon) -> LatLon {
    let origin = polygon.points[0];
    let mean_lat =
        polygon.points.iter().map(|p| p.latitude()).sum::<f64>() / polygon.points.len() as f64;
    let scale = mean_lat.to_radians().cos().max(1e-6);
    let project = |p: LatLon| {
        (
            unwrap_degrees(p.longitude() - origin.longitude()) * scale,
            p.latitude() - origin.latitude(),
        )
    };
    let (mut twice_area, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for pair in polygon.points.windows(2) {
        let (x0, y0) = project(pair[0]);
        let (x1, y1) = project(pair[1]);
        let cross = x0 * y1 - x1 * y0;
        twice_area += cross;
        cx += (x0 + x1) * cross;
        cy += (y0 + y1) * cross;
    }
    let (x, y) = if twice_area.abs() > 1e-12 {
        (cx / (3.0 * twice_area), cy / (3.0 * twice_area))
    } else {
        let distinct = &polygon.points[..polygon.points.len() - 1];
        let n = distinct.len() as f64;
        let sum =
            distinct.iter().map(|p| project(*p)).fold((0.0, 0.0), |s, p| (s.0 + p.0, s.1 + p.1));
        (sum.0 / n, sum.1 / n)
    };
    let latitude = (origin.latitude() + y).clamp(-90.0, 90.0);
    let longitude = wrap_longitude(origin.longitude() + x / scale);
    LatLon::new(latitude, longitude).unwrap_or(origin)
}

/// π r² (km²).
pub fn circle_area_km2(circle: &Circle) -> f64 {
    std::f64::consts::PI * circle.radius_km * circle.radius_km
}

/// A longitude difference brought into [-180, 180].
fn unwrap_degrees(delta: f64) -> f64 {
    let mut delta = delta % 360.0;
    if delta > 180.0 {
        delta -= 360.0;
    } else if delta < -180.0 {
        delta += 360.0;
    }
    delta
}

fn wrap_longitude(longitude: f64) -> f64 {
    let wrapped = unwrap_degrees(longitude);
    if wrapped == -180.0 {
        180.0
    } else {
        wrapped
    }
}

/// The weighted mean of points (weights ≥ 0; equal weights when they sum to 0), through unit
/// vectors so that points either side of the antimeridian average sensibly.
pub fn weighted_centre(points: &[(LatLon, f64)]) -> Option<LatLon> {
    if points.is_empty() {
        return None;
    }
    let total: f64 = points.iter().map(|(_, w)| *w).sum();
    let mut v = [0.0; 3];
    for (point, weight) in points {
        let w = if total > 0.0 { *weight } else { 1.0 };
        let u = point.unit_vector();
        for k in 0..3 {
            v[k] += w * u[k];
        }
    }
    let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if norm < 1e-12 {
        return Some(points[0].0);
    }
    let latitude = (v[2] / norm).asin().to_degrees();
    let longitude = v[1].atan2(v[0]).to_degrees();
    LatLon::new(latitude.clamp(-90.0, 90.0), longitude.clamp(-180.0, 180.0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(points: &[(f64, f64)]) -> Polygon {
        Polygon { points: points.iter().map(|(a, b)| LatLon::new(*a, *b).unwrap()).collect() }
    }

    #[test]
    fn a_one_degree_box_has_the_spherical_zone_area() {
        // Exact: R² Δλ (sin φ₂ − sin φ₁).
        let square = ring(&[(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)]);
        let exact = EARTH_RADIUS_KM.powi(2) * 1f64.to_radians() * 1f64.to_radians().sin();
        assert!((polygon_area_km2(&square) - exact).abs() < 1e-6 * exact);
        let centre = polygon_centroid(&square);
        assert!((centre.latitude() - 0.5).abs() < 1e-9 && (centre.longitude() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn area_agrees_with_counting_grid_cells_inside() {
        // An independent method: sum the spherical areas of small grid cells whose centres fall
        // inside the ring (ray casting), over the OASIS thunderstorm polygon.
        let polygon = ring(&[
            (38.47, -120.14),
            (38.34, -119.95),
            (38.52, -119.74),
            (38.62, -119.89),
            (38.47, -120.14),
        ]);
        let step = 0.0025;
        let mut counted = 0.0;
        let mut lat = 38.3;
        while lat < 38.7 {
            let mut lon = -120.2;
            while lon < -119.7 {
                let (clat, clon) = (lat + step / 2.0, lon + step / 2.0);
                if inside(&polygon, clat, clon) {
                    let r = EARTH_RADIUS_KM;
                    counted += r
                        * r
                        * step.to_radians()
                        * ((lat + step).to_radians().sin() - lat.to_radians().sin());
                }
                lon += step;
            }
            lat += step;
        }
        let area = polygon_area_km2(&polygon);
        assert!((area - counted).abs() < 0.02 * area, "formula {area} vs grid {counted}");
        let centre = polygon_centroid(&polygon);
        assert!(inside(&polygon, centre.latitude(), centre.longitude()));
    }

    fn inside(polygon: &Polygon, lat: f64, lon: f64) -> bool {
        let mut inside = false;
        for pair in polygon.points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if (a.latitude() > lat) != (b.latitude() > lat) {
                let t = (lat - a.latitude()) / (b.latitude() - a.latitude());
                if lon < a.longitude() + t * (b.longitude() - a.longitude()) {
                    inside = !inside;
                }
            }
        }
        inside
    }

    #[test]
    fn rings_across_the_antimeridian_are_small_not_global() {
        let across =
            ring(&[(0.0, 179.5), (0.0, -179.5), (1.0, -179.5), (1.0, 179.5), (0.0, 179.5)]);
        let exact = EARTH_RADIUS_KM.powi(2) * 1f64.to_radians() * 1f64.to_radians().sin();
        assert!((polygon_area_km2(&across) - exact).abs() < 1e-6 * exact);
        assert!(polygon_centroid(&across).longitude().abs() > 179.0);
    }

    #[test]
    fn circles_and_weighted_centres() {
        let circle = Circle { centre: LatLon::new(1.0, 2.0).unwrap(), radius_km: 25.0 };
        assert!((circle_area_km2(&circle) - 1963.495).abs() < 1e-3);
        let a = LatLon::new(10.0, 20.0).unwrap();
        let b = LatLon::new(10.0, 22.0).unwrap();
        let centre = weighted_centre(&[(a, 1.0), (b, 1.0)]).unwrap();
        assert!((centre.longitude() - 21.0).abs() < 1e-6);
        let heavy = weighted_centre(&[(a, 0.0), (b, 5.0)]).unwrap();
        assert!((heavy.longitude() - 22.0).abs() < 1e-6);
    }
}
