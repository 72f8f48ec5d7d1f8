//! The synthetic supplier registry generator behind `equipmatch registry generate`.
//!
//! Deterministic: the same taxonomy, places, supplier count and seed give byte-identical CSV
//! on every platform (its own SplitMix64, fixed float formatting, no hash-map iteration).
//! Every supplier it makes is fictional and named so; the data follows the cluster plan's
//! specialisations through the `specialities` of `places.toml` (a model, not a survey).
//! After the manufacturers it writes the region's standing resources (`standing.rs`): reserve
//! depots, fire and rescue detachments and professional teams, real names where public, stock
//! always synthetic.

pub mod standing;
use crate::rng::SplitMix64;

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::catalog::{Catalog, STOCK_LINES_HEADER, SUPPLIERS_HEADER};
use crate::domain::{Category, HolderKind, PlaceKind, Transport, ZoneTier};

/// The most suppliers one run may generate.
pub const GENERATED_SUPPLIERS_MAX: usize = 2_000_000;
/// The most stock lines one supplier may get (on average `lines_per_supplier`).
pub const LINES_PER_SUPPLIER_MAX: usize = 64;

#[derive(Debug, Clone)]
pub struct Params {
    pub suppliers: usize,
    pub seed: u64,
    /// Mean stock lines per supplier.
    pub lines_per_supplier: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// Every row of `suppliers.csv`: manufacturers and standing holders.
    pub suppliers: usize,
    pub stock_lines: usize,
    /// Of `suppliers`, the standing holders (reserve depots, fire and rescue, teams).
    pub standing: usize,
}

/// Reliability written for standing holders (MODEL: government stock and standing forces
/// answer an order nearly always; the criterion is about delivering what was promised).
const STANDING_RELIABILITY: f64 = 0.95;

/// Writes `suppliers.csv` and `stock_lines.csv` for the catalog's taxonomy and places. The
/// catalog's own registry is ignored.
pub fn generate(
    catalog: &Catalog,
    params: &Params,
    suppliers_out: &mut impl Write,
    stock_out: &mut impl Write,
) -> io::Result<Generated> {
    let mut rng = SplitMix64::new(params.seed);
    let places: Vec<usize> =
        (0..catalog.places.len()).filter(|&i| catalog.places[i].supplier_weight > 0.0).collect();
    if places.is_empty() || catalog.categories.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no place with a supplier_weight above 0, or no category",
        ));
    }
    let cumulative: Vec<f64> = places
        .iter()
        .scan(0.0, |sum, &i| {
            *sum += catalog.places[i].supplier_weight;
            Some(*sum)
        })
        .collect();
    let total_weight = *cumulative.last().unwrap_or(&1.0);
    let lines_mean = params.lines_per_supplier.clamp(1, LINES_PER_SUPPLIER_MAX);
    let width = params.suppliers.max(1).to_string().len().max(5);

    writeln!(suppliers_out, "{}", SUPPLIERS_HEADER.join(","))?;
    writeln!(stock_out, "{}", STOCK_LINES_HEADER.join(","))?;
    let mut generated = Generated { suppliers: 0, stock_lines: 0, standing: 0 };
    let mut row = String::with_capacity(256);
    let mut chosen: Vec<usize> = Vec::with_capacity(LINES_PER_SUPPLIER_MAX);
    for n in 0..params.suppliers.min(GENERATED_SUPPLIERS_MAX) {
        let draw = rng.next_f64() * total_weight;
        let place_idx = places[cumulative.partition_point(|c| *c <= draw).min(places.len() - 1)];
        let place = &catalog.places[place_idx];
        let (place_id, base_id) = match (place.kind, place.host) {
            (PlaceKind::DemonstrationBase, Some(host)) => {
                (catalog.place(host).id.as_str(), place.id.as_str())
            }
            _ => (place.id.as_str(), ""),
        };
        // Parks and bases are compact; cities sprawl (MODEL).
        let radius_km = if place.kind == PlaceKind::City { 15.0 } else { 4.0 };
        let (lat, lon) =
            jitter(&mut rng, place.location.latitude(), place.location.longitude(), radius_km);

        // Categories: mostly the place's specialities, the rest from the whole taxonomy.
        let special: Vec<usize> = (0..catalog.categories.len())
            .filter(|&i| {
                catalog.categories[i].tags.iter().any(|tag| place.specialities.contains(tag))
            })
            .collect();
        let n_lines = 1 + rng.below(2 * lines_mean as u64 - 1) as usize;
        chosen.clear();
        let mut attempts = 0;
        while chosen.len() < n_lines && attempts < 8 * LINES_PER_SUPPLIER_MAX {
            attempts += 1;
            let category = if !special.is_empty() && rng.next_f64() < 0.7 {
                special[rng.below(special.len() as u64) as usize]
            } else {
                rng.below(catalog.categories.len() as u64) as usize
            };
            if !chosen.contains(&category) {
                chosen.push(category);
            }
        }
        chosen.sort_unstable();

        let mut certs: Vec<&str> = Vec::new();
        for &category in &chosen {
            for cert in catalog.categories[category].certifications.iter() {
                let id = catalog.certifications[cert].id.as_str();
                if !certs.contains(&id) && rng.next_f64() < 0.8 {
                    certs.push(id);
                }
            }
        }
        if let Some(quality) = catalog.certification_by_id("iso-9001") {
            let id = catalog.certifications[quality].id.as_str();
            if !certs.contains(&id) && rng.next_f64() < 0.6 {
                certs.push(id);
            }
        }
        certs.sort_unstable();
        let reliability = 0.70 + 0.29 * rng.next_f64();
        let supplier_id = format!("sup-{n:0width$}");

        row.clear();
        let _ = writeln!(
            row,
            "{supplier_id},SYNTHETIC {} supplier {n:0width$},{place_id},{base_id},{lat:.5},{lon:.5},{},{reliability:.2},{}",
            place.name_en.replace([',', '"'], " "),
            certs.join(";"),
            HolderKind::Manufacturer.key(),
        );
        suppliers_out.write_all(row.as_bytes())?;
        for &category in &chosen {
            let (on_hand, surge, lead) =
                stock_numbers(&mut rng, &catalog.categories[category], place.zone);
            row.clear();
            let _ = writeln!(
                row,
                "{supplier_id},{},{on_hand},{surge},{lead},0",
                catalog.categories[category].id
            );
            stock_out.write_all(row.as_bytes())?;
        }
        generated.suppliers += 1;
        generated.stock_lines += chosen.len();
    }
    write_standing(catalog, suppliers_out, stock_out, &mut generated)?;
    Ok(generated)
}

/// Writes `standing::STANDING_HOLDERS`: a holder whose place the catalog lacks is left out,
/// and so is a holding of a category the taxonomy lacks (a reduced test taxonomy). Their
/// certifications are those the categories they hold expect (procured equipment is certified).
fn write_standing(
    catalog: &Catalog,
    suppliers_out: &mut impl Write,
    stock_out: &mut impl Write,
    generated: &mut Generated,
) -> io::Result<()> {
    let mut row = String::with_capacity(256);
    for holder in standing::STANDING_HOLDERS {
        let Some(place_idx) = catalog.place_by_id(holder.place) else { continue };
        let place = catalog.place(place_idx);
        let holdings: Vec<(&Category, u64, u32)> = holder
            .holdings
            .iter()
            .filter_map(|holding| {
                let category = catalog.category(catalog.category_by_id(holding.category)?);
                let units = (f64::from(holding.units) * holder.scale).round().max(1.0) as u64;
                Some((category, units, holding.crew_per_unit))
            })
            .collect();
        if holdings.is_empty() {
            continue;
        }
        let mut certs: Vec<&str> = holdings
            .iter()
            .flat_map(|(category, _, _)| category.certifications.iter())
            .map(|cert| catalog.certifications[cert].id.as_str())
            .collect();
        certs.sort_unstable();
        certs.dedup();
        let (lat, lon) =
            holder.at.unwrap_or((place.location.latitude(), place.location.longitude()));
        row.clear();
        let _ = writeln!(
            row,
            "{},\"{}\",{},,{lat:.5},{lon:.5},{},{STANDING_RELIABILITY:.2},{}",
            holder.id,
            holder.name.replace('"', "'"),
            place.id,
            certs.join(";"),
            holder.kind.key(),
        );
        suppliers_out.write_all(row.as_bytes())?;
        let mut sorted = holdings;
        sorted.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        for (category, units, crew) in &sorted {
            row.clear();
            let _ = writeln!(
                row,
                "{},{},{units},0,{},{crew}",
                holder.id, category.id, holder.lead_time_hours
            );
            stock_out.write_all(row.as_bytes())?;
        }
        generated.suppliers += 1;
        generated.standing += 1;
        generated.stock_lines += sorted.len();
    }
    Ok(())
}

/// A point uniformly inside a disk of `radius_km` around (lat, lon), clamped to valid ranges.
fn jitter(rng: &mut SplitMix64, lat: f64, lon: f64, radius_km: f64) -> (f64, f64) {
    let r = radius_km * rng.next_f64().sqrt();
    let theta = std::f64::consts::TAU * rng.next_f64();
    let dlat = r * theta.sin() / 111.32;
    let dlon = r * theta.cos() / (111.32 * lat.to_radians().cos().max(0.01));
    ((lat + dlat).clamp(-90.0, 90.0), (lon + dlon).clamp(-180.0, 180.0))
}

/// On-hand stock, surge production per day and lead time, by unit, vehicle class and zone
/// (MODEL: whole teams and platforms are held in ones and twos, vehicles in a handful,
/// portable items and consumables in dozens to hundreds; suppliers in the cluster keep shorter
/// lead times than distant ones).
fn stock_numbers(rng: &mut SplitMix64, category: &Category, zone: ZoneTier) -> (u64, u64, u64) {
    let on_hand_max = match (category.unit.as_str(), category.transport) {
        ("team-kit" | "vehicle-group" | "centre" | "platform" | "system" | "tasking", _) => 2,
        ("tonne", _) => 200,
        ("piece" | "suit" | "sensor" | "kit" | "tent" | "camera-point" | "km", _) => 80,
        (_, Transport::Air) => 3,
        (_, Transport::Heavy) => 6,
        (_, Transport::Truck) => 12,
        (_, Transport::Light) => 40,
    };
    let on_hand = rng.below(on_hand_max + 1);
    let surge = if rng.next_f64() < 0.5 { 0 } else { 1 + rng.below(on_hand_max / 5 + 1) };
    let lead = match zone {
        ZoneTier::Core | ZoneTier::Key => 1 + rng.below(12),
        ZoneTier::Support | ZoneTier::Metro => 2 + rng.below(18),
        ZoneTier::Outside => 4 + rng.below(44),
    };
    (on_hand, surge, lead)
}

/// The README written beside generated files, so nobody mistakes them for a survey.
pub fn readme(params: &Params, generated: Generated, catalog_version: &str) -> String {
    format!(
        "# SYNTHETIC supplier registry\n\n\
         Every manufacturer here is fictional. These files were made by\n\n\
         ```\nequipmatch registry generate --suppliers {} --seed {} --lines-per-supplier {} --out DIR\n```\n\n\
         from the taxonomy and places of catalog files {catalog_version}: {} rows ({} synthetic\n\
         manufacturers and {} standing holders), {} stock lines.\n\
         Places, categories and the mix of categories per place follow the cluster plan's\n\
         specialisations (`scenarios/places.toml`, `specialities`); quantities, surge production,\n\
         lead times, certifications and reliability are drawn from model assumptions documented in\n\
         `src/generator/mod.rs`. The same command gives byte-identical files.\n\n\
         The standing holders (`kind` reserve-depot, fire-rescue, professional-team; ids `dep-…`,\n\
         `fire-…`, `team-…`) are the region's reserve depots, fire and rescue detachments and\n\
         professional teams: a real name where the holder's existence is public (its source is in\n\
         `src/generator/standing.rs`), else \"SYNTHETIC …\". Their stock is SYNTHETIC in every\n\
         case — no depot or team publishes an inventory — except the Beijing drainage and snow\n\
         fleets, whose counts are sourced, and two medical teams whose counts are what they sent\n\
         to one past event (a floor). Their points are their city's (or town's), not their sites.\n",
        params.suppliers,
        params.seed,
        params.lines_per_supplier,
        generated.suppliers,
        generated.suppliers - generated.standing,
        generated.standing,
        generated.stock_lines
    )
}
