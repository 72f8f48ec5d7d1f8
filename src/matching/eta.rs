//! Travel model: road distance from great-circle distance, and hours from a speed per vehicle
//! class. Every constant names its source in domain-facts §4.2 / §2.8.

use crate::domain::Transport;

/// Road distance ≈ 1.25 × great-circle distance (DERIVED, domain-facts §4.2: Baoding–Beijing is
/// ~130 km straight-line and 160–180 km by road).
pub const ROAD_FACTOR: f64 = 1.25;

/// Average speed of light vehicles on expressways (km/h): the top of the 60–70 km/h range
/// domain-facts §4.2 gives for trucks, since vans are faster (MODEL within a sourced range).
pub const LIGHT_SPEED_KMH: f64 = 70.0;
/// Ordinary trucks, 60–70 km/h on expressways (DERIVED, §4.2): the conservative end.
pub const TRUCK_SPEED_KMH: f64 = 60.0;
/// Heavy or oversize rescue vehicles, ≈ 50 km/h (DERIVED, §4.2).
pub const HEAVY_SPEED_KMH: f64 = 50.0;
/// Aircraft and large UAVs, great circle: Wing Loong-2H flew 1,200 km in 4.5 h ≈ 267 km/h
/// (§2.8); 250 km/h allows for climb and routing (MODEL).
pub const AIR_SPEED_KMH: f64 = 250.0;

/// Distance travelled (km) for a great-circle distance: by road for ground vehicles.
pub fn travel_km(transport: Transport, great_circle_km: f64) -> f64 {
    match transport {
        Transport::Air => great_circle_km,
        Transport::Light | Transport::Truck | Transport::Heavy => great_circle_km * ROAD_FACTOR,
    }
}

pub fn speed_kmh(transport: Transport) -> f64 {
    match transport {
        Transport::Light => LIGHT_SPEED_KMH,
        Transport::Truck => TRUCK_SPEED_KMH,
        Transport::Heavy => HEAVY_SPEED_KMH,
        Transport::Air => AIR_SPEED_KMH,
    }
}

/// Hours on the way for a great-circle distance.
pub fn travel_hours(transport: Transport, great_circle_km: f64) -> f64 {
    travel_km(transport, great_circle_km) / speed_kmh(transport)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_vehicles_are_slower_and_air_skips_the_road_factor() {
        assert!(travel_hours(Transport::Heavy, 100.0) > travel_hours(Transport::Truck, 100.0));
        assert_eq!(travel_km(Transport::Air, 100.0), 100.0);
        assert_eq!(travel_km(Transport::Truck, 100.0), 125.0);
        // Tangshan → Beijing, 156 km great circle: 195 km by road, 3.25 h by truck.
        assert!((travel_hours(Transport::Truck, 156.0) - 3.25).abs() < 1e-9);
    }
}
