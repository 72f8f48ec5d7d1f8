//! The catalog's entities: categories, certifications, places, suppliers, stock lines,
//! scenarios and their requirements. Cross-references are dense indexes into the catalog's
//! vectors, resolved once at load.

use super::{ChainStage, Grade, Id, LatLon, MiitClass, PlaceKind, Priority, Provenance, Severity};
use super::{FireShape, HolderKind, LevelTable, Pumping, Transport, ZoneTier};

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
    /// Why no scenario requires this category, when none does on purpose (installed before an
    /// incident, kept only as a stand-in, …); `None` for a category scenarios use.
    pub stock_only: Option<String>,
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
    /// Who the holder is: a manufacturer or a standing resource.
    pub kind: HolderKind,
}

/// What one supplier holds of one category. The category is not a field: the catalog keeps
/// lines grouped by category and knows each line's from where it sits
/// (`Catalog::line_category`). At national scale (1e6 lines) the field took 8 MB with its
/// padding, 7 % of what `serve` holds resident.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockLine {
    pub supplier: SupplierIdx,
    pub quantity_on_hand: f64,
    /// Extra units the supplier can make per day once asked (surge production).
    pub surge_per_day: f64,
    /// Hours from the order until the stock is loaded and leaves.
    pub lead_time_hours: f64,
    /// Trained people who come with each unit (a fire engine's crew, a team kit's team); 0
    /// when the equipment leaves without operators.
    pub crew_per_unit: u32,
}

// 32 bytes a line: a field more would be 8 MB more at 1e6 lines (issue 11's memory goal).
const _: () = assert!(std::mem::size_of::<StockLine>() == 32);

/// "+ `quantity` per `per` units of impact" (people or km²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per: f64,
    pub quantity: f64,
}

/// What a scenario needs of one category in one stage, and how that grows with the incident
/// (the rule itself is `Scenario::quantity`, in `quantity.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub category: CategoryIdx,
    pub stage: ChainStage,
    pub priority: Priority,
    pub needed_within_hours: f64,
    /// Units at severity factor 1 before impact terms; may be 0 when another term is present.
    pub base_quantity: f64,
    pub per_population: Option<Rate>,
    pub per_area_km2: Option<Rate>,
    /// Per displaced person: affected population × the scenario's displaced share of the level.
    pub per_displaced: Option<Rate>,
    /// Per km of fire line: the perimeter of the burned area (the scenario's fire shape).
    pub per_fire_line_km: Option<Rate>,
    /// Drainage: the scenario's rain excess of the level over the area, pumped within hours.
    pub pumping: Option<Pumping>,
    /// Whether the severity factor multiplies the base, population and area terms.
    pub scales_with_severity: bool,
    /// A cap; `None` when there is none. When it binds, the rule text says so.
    pub max_quantity: Option<f64>,
    pub provenance: Provenance,
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
    /// Share of the affected population displaced from home, per level (for `per_displaced`).
    pub displaced_share: Option<LevelTable>,
    /// Rain (mm over the affected area) left for mobile pumps to remove, per level (for
    /// `pumping`).
    pub rain_excess_mm: Option<LevelTable>,
    /// The burned area's shape, for fire-line lengths (`per_fire_line`).
    pub fire_shape: Option<FireShape>,
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
            .chain(self.displaced_share.iter().map(|table| table.provenance.grade))
            .chain(self.rain_excess_mm.iter().map(|table| table.provenance.grade))
            .chain(self.fire_shape.iter().map(|shape| shape.provenance.grade))
            .max()
            .unwrap_or(Grade::Model)
    }
}
