//! The catalog's entities: categories, certifications, places, suppliers, stock lines,
//! scenarios and their requirements. Cross-references are dense indexes into the catalog's
//! vectors, resolved once at load.

use super::{ChainStage, Grade, Id, LatLon, MiitClass, PlaceKind, Priority, Provenance, Severity};
use super::{Transport, ZoneTier};

/// Index of a category in `Catalog::categories`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CategoryIdx(pub u32);

/// Index of a place in `Catalog::places`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlaceIdx(pub u32);

/// Index of a supplier in `Catalog::suppliers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SupplierIdx(pub u32);

/// Index of a stock line in `Catalog::stock_lines`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StockLineIdx(pub u32);

/// The most certification schemes a catalog may define: a set of them is one `u64` bitset.
pub const CERTIFICATIONS_MAX: usize = 64;

/// A set of certifications, as bits over `Catalog::certifications` indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CertSet(pub u64);

impl CertSet {
    pub fn insert(&mut self, cert_idx: usize) {
        debug_assert!(cert_idx < CERTIFICATIONS_MAX);
        self.0 |= 1 << cert_idx;
    }

    pub fn contains_all(self, other: CertSet) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn intersection(self, other: CertSet) -> CertSet {
        CertSet(self.0 & other.0)
    }

    /// Indexes in increasing order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..CERTIFICATIONS_MAX).filter(move |bit| self.0 & (1 << bit) != 0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Certification {
    pub id: Id,
    pub name: String,
}

/// Another category that can stand in for this one, at a stated efficiency.
#[derive(Debug, Clone, PartialEq)]
pub struct Substitute {
    pub category: CategoryIdx,
    /// One unit of the substitute counts as this many units of the category; in (0, 1].
    pub efficiency: f64,
    pub note: String,
}

/// An equipment category of the taxonomy.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub id: Id,
    pub name_zh: String,
    pub name_en: String,
    pub aliases: Vec<String>,
    /// The home chain stage; scenarios may require the category in another stage too.
    pub stage: ChainStage,
    pub miit_class: MiitClass,
    /// What one counted item is (vehicle, set, kit…).
    pub unit: String,
    /// What one unit delivers, unit in the name (m3_per_h, beds…).
    pub capability_metric: String,
    pub capability_per_unit: f64,
    pub transport: Transport,
    pub tags: Vec<String>,
    /// Certifications a supplier of this category is expected to hold (the score's
    /// certification-fit criterion); empty when none applies.
    pub certifications: CertSet,
    pub substitutes: Vec<Substitute>,
    pub provenance: Provenance,
}

impl Category {
    /// Share of the category's expected certifications that `held` covers (1 when none are
    /// expected).
    pub fn certification_fit(&self, held: CertSet) -> f64 {
        if self.certifications.is_empty() {
            1.0
        } else {
            f64::from(held.intersection(self.certifications).len())
                / f64::from(self.certifications.len())
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub id: Id,
    pub name_zh: String,
    pub name_en: String,
    pub kind: PlaceKind,
    pub zone: ZoneTier,
    pub location: LatLon,
    /// For a demonstration base, the city or park it belongs to.
    pub host: Option<PlaceIdx>,
    pub specialities: Vec<String>,
    /// Relative share of synthetic suppliers generated here (a model assumption).
    pub supplier_weight: f64,
    pub provenance: Provenance,
    /// The GB/T 2260 administrative division code (six digits), for places that are one:
    /// CAP `<geocode>`s resolve to the place through it.
    pub admin_code: Option<String>,
    /// The division's land area (km²) and where the figure comes from: the affected area of an
    /// alert that names the place only by its code.
    pub area: Option<(f64, Provenance)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Supplier {
    pub id: Id,
    pub name: String,
    pub place: PlaceIdx,
    /// The national demonstration base the supplier sits in, if any.
    pub base: Option<PlaceIdx>,
    pub location: LatLon,
    pub certifications: CertSet,
    /// Share of past orders delivered as promised, in [0, 1].
    pub reliability: f64,
}

/// What one supplier holds of one category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockLine {
    pub supplier: SupplierIdx,
    pub category: CategoryIdx,
    pub quantity_on_hand: f64,
    /// Extra units the supplier can make per day once asked (surge production).
    pub surge_per_day: f64,
    /// Hours from the order until the stock is loaded and leaves.
    pub lead_time_hours: f64,
}

/// "+ `quantity` per `per` units of impact" (people or km²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per: f64,
    pub quantity: f64,
}

/// What a scenario needs of one category in one stage, and how that grows with the incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub category: CategoryIdx,
    pub stage: ChainStage,
    pub priority: Priority,
    pub needed_within_hours: f64,
    pub base_quantity: f64,
    pub per_population: Option<Rate>,
    pub per_area_km2: Option<Rate>,
    pub scales_with_severity: bool,
    pub max_quantity: f64,
    pub provenance: Provenance,
}

impl Requirement {
    /// The quantity rule of `scenarios/README.md`: severity factor × (base + impact terms),
    /// rounded up to whole units and capped at `max_quantity`.
    pub fn quantity(&self, severity_factor: f64, population: f64, area_km2: f64) -> f64 {
        let mut raw = self.base_quantity;
        if let Some(rate) = self.per_population {
            raw += rate.quantity * population / rate.per;
        }
        if let Some(rate) = self.per_area_km2 {
            raw += rate.quantity * area_km2 / rate.per;
        }
        let factor = if self.scales_with_severity { severity_factor } else { 1.0 };
        (factor * raw).ceil().min(self.max_quantity)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub id: Id,
    pub name_zh: String,
    pub name_en: String,
    pub summary: String,
    pub grading: String,
    /// Indexed by `Severity::index()` (IV = 0 … I = 3); non-decreasing.
    pub severity_factor: [f64; 4],
    pub severity_provenance: Provenance,
    /// All requirements, grouped by stage in chain order, in file order within a stage.
    pub requirements: Vec<Requirement>,
}

impl Scenario {
    pub fn severity_factor(&self, severity: Severity) -> f64 {
        self.severity_factor[severity.index()]
    }

    pub fn stage_requirements(&self, stage: ChainStage) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter().filter(move |requirement| requirement.stage == stage)
    }

    /// The weakest grade among the scenario's numbers (for a quick trust read-out).
    pub fn weakest_grade(&self) -> Grade {
        self.requirements
            .iter()
            .map(|requirement| requirement.provenance.grade)
            .chain(std::iter::once(self.severity_provenance.grade))
            .max()
            .unwrap_or(Grade::Model)
    }
}
