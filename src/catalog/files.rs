//! The on-disk TOML formats of `scenarios/` as serde structs. Private to `catalog`: they become
//! validated domain types in `scenarios.rs` and never leave this module.
//!
//! Fields that later checks may complain about are `Spanned`, so a problem points at the line
//! and column of the offending value. Unknown fields are refused (a typo is never a silent
//! default).

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TaxonomyFile {
    #[serde(default)]
    pub certification: Vec<CertificationEntry>,
    #[serde(default)]
    pub category: Vec<CategoryEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CertificationEntry {
    pub id: Spanned<String>,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CategoryEntry {
    pub id: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub stage: Spanned<String>,
    pub miit_class: Spanned<String>,
    pub unit: String,
    pub capability_metric: String,
    pub capability_per_unit: Spanned<f64>,
    pub transport: Spanned<String>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub certifications: Vec<Spanned<String>>,
    /// Why no scenario requires the category (it is installed in advance, or kept only as a
    /// stand-in); absent for a category scenarios use.
    pub stock_only: Option<Spanned<String>>,
    pub source: Spanned<String>,
    pub grade: Spanned<String>,
    #[serde(default)]
    pub substitute: Vec<SubstituteEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubstituteEntry {
    pub id: Spanned<String>,
    pub efficiency: Spanned<f64>,
    pub note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlacesFile {
    #[serde(default)]
    pub place: Vec<PlaceEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlaceEntry {
    pub id: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    pub kind: Spanned<String>,
    pub zone: Spanned<String>,
    pub latitude: Spanned<f64>,
    pub longitude: Spanned<f64>,
    pub host: Option<Spanned<String>>,
    #[serde(default)]
    pub specialities: Vec<Spanned<String>>,
    pub supplier_weight: Spanned<f64>,
    pub source: Spanned<String>,
    pub grade: Spanned<String>,
    /// GB/T 2260 code, for places that are an administrative division.
    pub admin_code: Option<Spanned<String>>,
    /// The division's area and its source.
    pub area: Option<Spanned<PlaceAreaEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlaceAreaEntry {
    pub km2: Spanned<f64>,
    pub source: Spanned<String>,
    pub grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
    pub id: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    pub summary: String,
    pub grading: String,
    pub severity_factor: Spanned<SeverityFactorEntry>,
    pub displaced_share: Option<Spanned<SeverityFactorEntry>>,
    pub rain_excess_mm: Option<Spanned<SeverityFactorEntry>>,
    pub fire_shape: Option<Spanned<FireShapeEntry>>,
    #[serde(default)]
    pub monitoring_warning: Vec<RequirementEntry>,
    #[serde(default)]
    pub safety_protection: Vec<RequirementEntry>,
    #[serde(default)]
    pub emergency_rescue: Vec<RequirementEntry>,
}

/// A value per severity level with its provenance: the severity factor, the displaced share,
/// the rain excess.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SeverityFactorEntry {
    #[serde(rename = "IV")]
    pub iv: Spanned<f64>,
    #[serde(rename = "III")]
    pub iii: Spanned<f64>,
    #[serde(rename = "II")]
    pub ii: Spanned<f64>,
    #[serde(rename = "I")]
    pub i: Spanned<f64>,
    pub source: Spanned<String>,
    pub grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FireShapeEntry {
    pub length_to_breadth: Spanned<f64>,
    pub source: Spanned<String>,
    pub grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RequirementEntry {
    pub category: Spanned<String>,
    pub priority: Spanned<String>,
    pub needed_within_hours: Spanned<f64>,
    pub base_quantity: Spanned<f64>,
    pub per_population: Option<Spanned<PopulationRateEntry>>,
    pub per_area: Option<Spanned<AreaRateEntry>>,
    pub per_displaced: Option<Spanned<PopulationRateEntry>>,
    pub per_fire_line: Option<Spanned<FireLineRateEntry>>,
    pub pumping: Option<Spanned<PumpingEntry>>,
    pub scales_with_severity: Option<bool>,
    pub max_quantity: Option<Spanned<f64>>,
    pub source: Spanned<String>,
    pub grade: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PopulationRateEntry {
    pub people: f64,
    pub quantity: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AreaRateEntry {
    pub km2: f64,
    pub quantity: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FireLineRateEntry {
    pub km: f64,
    pub quantity: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PumpingEntry {
    pub hours: f64,
    pub share: Option<f64>,
}
