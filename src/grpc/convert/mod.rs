//! Conversions between protobuf messages and domain types. Requests are validated here, every
//! bad field collected into one INVALID_ARGUMENT; names that do not exist become NOT_FOUND.
//! This file holds the limits, the violation collector and the enums every service shares;
//! each service's own conversions are in a file of their own (`matching_pb`, `catalog_pb`, `holds_pb`),
//! re-exported here so callers keep one path.

mod catalog_pb;
mod holds_pb;
mod matching_pb;

pub use catalog_pb::*;
pub use holds_pb::*;
pub use matching_pb::*;

use super::pb;
use crate::auth::Principal;
use crate::catalog::fields::Lower;
use crate::catalog::Catalog;
use crate::domain::Id;
use crate::domain::{
    CertSet, ChainStage, HolderKind, LatLon, MiitClass, Priority, Severity, Transport, ZoneTier,
};
use crate::error::{Error, FieldViolation};
use crate::holds::{
    self, Caller, Hold, HoldState, ListBy, ListQuery, NewHold, NewHoldLine, Outcome, StockRef,
};
use crate::matching::{
    self, Candidate, Filters, MatchQuery, MatchResult, PlanEntry, ShortlistQuery, ShortlistResult,
    Weights, AFFECTED_AREA_KM2_MAX, AFFECTED_POPULATION_MAX, OPTIONS_PER_REQUIREMENT_DEFAULT,
    OPTIONS_PER_REQUIREMENT_MAX, SHORTLIST_CATEGORIES_MAX, SHORTLIST_COUNT_DEFAULT,
    SHORTLIST_COUNT_MAX, SHORTLIST_WINDOW_HOURS_DEFAULT, WEIGHT_MAX,
};

/// The most certifications a request may require.
pub const REQUIRED_CERTIFICATIONS_MAX: usize = 16;
/// The most suppliers a Match may exclude.
pub const EXCLUDED_SUPPLIERS_MAX: usize = 1000;
/// The most places a shortlist may filter on.
pub const PLACE_FILTERS_MAX: usize = 100;
/// The longest time window or ETA bound a request may give (hours): 30 days.
pub const HOURS_MAX: f64 = 720.0;
/// The largest quantity a shortlist may ask for.
pub const SHORTLIST_QUANTITY_MAX: f64 = 1e7;
/// Paging: default and largest page.
pub const PAGE_SIZE_DEFAULT: usize = 100;
pub const PAGE_SIZE_MAX: usize = 1000;

/// The most field violations one INVALID_ARGUMENT carries; past it one more says how many
/// were left out (the details travel in a header, and a request must not choose their size).
pub const VIOLATIONS_MAX: usize = 32;

/// Collects field violations; `finish` turns any into one INVALID_ARGUMENT.
#[derive(Default)]
struct Violations {
    list: Vec<FieldViolation>,
    /// Violations found past `VIOLATIONS_MAX`, counted only.
    left_out: usize,
}

impl Violations {
    fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        if self.list.len() < VIOLATIONS_MAX {
            self.list.push(FieldViolation::new(field, description));
        } else {
            self.left_out += 1;
        }
    }

    fn finish(mut self) -> Result<(), Error> {
        if self.list.is_empty() {
            return Ok(());
        }
        if self.left_out > 0 {
            self.list.push(FieldViolation::new(
                "request",
                format!("{} more violation(s) left out", self.left_out),
            ));
        }
        Err(Error::InvalidArgument(self.list))
    }

    /// A finite number in [min, max] or (min, max], as `lower` says.
    fn number(&mut self, field: &str, x: f64, min: f64, max: f64, lower: Lower) -> Option<f64> {
        let above_min = match lower {
            Lower::Included => x >= min,
            Lower::Excluded => x > min,
        };
        if x.is_finite() && above_min && x <= max {
            Some(x)
        } else {
            let open = match lower {
                Lower::Included => '[',
                Lower::Excluded => '(',
            };
            self.add(field, format!("must be a finite number in {open}{min}, {max}], got {x}"));
            None
        }
    }

    fn location(&mut self, field: &str, location: Option<&pb::LatLng>) -> Option<LatLon> {
        let Some(location) = location else {
            self.add(field, "required");
            return None;
        };
        let latitude = self.number(
            &format!("{field}.latitude"),
            location.latitude,
            -90.0,
            90.0,
            Lower::Included,
        );
        let longitude = self.number(
            &format!("{field}.longitude"),
            location.longitude,
            -180.0,
            180.0,
            Lower::Included,
        );
        LatLon::new(latitude?, longitude?).ok()
    }

    fn zone_tiers(&mut self, field: &str, tiers: &[i32]) -> Vec<ZoneTier> {
        self.enum_set(
            field,
            tiers,
            zone_tier_from_pb,
            "is not a zone tier (1 core, 2 key, 3 support, 4 outside, 5 metro)",
        )
    }

    fn holder_kinds(&mut self, field: &str, kinds: &[i32]) -> Vec<HolderKind> {
        self.enum_set(
            field,
            kinds,
            holder_kind_from_pb,
            "is not a holder kind (1 manufacturer, 2 reserve depot, 3 fire and rescue, 4 professional team)",
        )
    }

    /// A repeated enum field as a sorted set: duplicates dropped, each unknown value a
    /// violation at its index ("`value` `what`").
    fn enum_set<T: Ord>(
        &mut self,
        field: &str,
        values: &[i32],
        from_pb: fn(i32) -> Option<T>,
        what: &str,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for (i, value) in values.iter().enumerate() {
            match from_pb(*value) {
                Some(known) if !out.contains(&known) => out.push(known),
                Some(_) => {}
                None => self.add(format!("{field}[{i}]"), format!("{value} {what}")),
            }
        }
        out.sort();
        out
    }

    /// A count where 0 asks for the default: above `max` is a violation (and the default
    /// stands in, so the other fields are still checked).
    fn count_or_default(&mut self, field: &str, value: u32, default: usize, max: usize) -> usize {
        match value as usize {
            0 => default,
            n if n > max => {
                self.add(field, format!("at most {max}"));
                default
            }
            n => n,
        }
    }

    fn certifications(&mut self, catalog: &Catalog, field: &str, ids: &[String]) -> CertSet {
        let mut set = CertSet::default();
        if ids.len() > REQUIRED_CERTIFICATIONS_MAX {
            self.add(field, format!("at most {REQUIRED_CERTIFICATIONS_MAX} certifications"));
            return set;
        }
        for (i, id) in ids.iter().enumerate() {
            match catalog.certification_by_id(id) {
                Some(idx) => set.insert(idx),
                None => self.add(format!("{field}[{i}]"), format!("unknown certification {id:?}")),
            }
        }
        set
    }

    fn weights(&mut self, weights: Option<&pb::Weights>) -> Weights {
        let defaults = Weights::default().as_array();
        let Some(weights) = weights else { return Weights::default() };
        let given = [
            weights.arrival,
            weights.coverage,
            weights.reliability,
            weights.certification,
            weights.zone_policy,
        ];
        let names = ["arrival", "coverage", "reliability", "certification", "zone_policy"];
        let mut raw = defaults;
        let mut ok = true;
        for i in 0..5 {
            if let Some(w) = given[i] {
                match self.number(
                    &format!("weights.{}", names[i]),
                    w,
                    0.0,
                    WEIGHT_MAX,
                    Lower::Included,
                ) {
                    Some(w) => raw[i] = w,
                    None => ok = false,
                }
            }
        }
        if !ok {
            return Weights::default();
        }
        Weights::normalised(raw).unwrap_or_else(|| {
            self.add("weights", "at least one weight must be above 0");
            Weights::default()
        })
    }
}

pub fn severity_from_pb(value: i32) -> Option<Severity> {
    match pb::Severity::try_from(value).ok()? {
        pb::Severity::Unspecified => None,
        pb::Severity::Iv => Some(Severity::IV),
        pb::Severity::Iii => Some(Severity::III),
        pb::Severity::Ii => Some(Severity::II),
        pb::Severity::I => Some(Severity::I),
    }
}

pub fn severity_to_pb(severity: Severity) -> pb::Severity {
    match severity {
        Severity::IV => pb::Severity::Iv,
        Severity::III => pb::Severity::Iii,
        Severity::II => pb::Severity::Ii,
        Severity::I => pb::Severity::I,
    }
}

pub fn zone_tier_from_pb(value: i32) -> Option<ZoneTier> {
    match pb::ZoneTier::try_from(value).ok()? {
        pb::ZoneTier::Unspecified => None,
        pb::ZoneTier::Core => Some(ZoneTier::Core),
        pb::ZoneTier::Key => Some(ZoneTier::Key),
        pb::ZoneTier::Support => Some(ZoneTier::Support),
        pb::ZoneTier::Metro => Some(ZoneTier::Metro),
        pb::ZoneTier::Outside => Some(ZoneTier::Outside),
    }
}

pub fn holder_kind_from_pb(value: i32) -> Option<HolderKind> {
    match pb::HolderKind::try_from(value).ok()? {
        pb::HolderKind::Unspecified => None,
        pb::HolderKind::Manufacturer => Some(HolderKind::Manufacturer),
        pb::HolderKind::ReserveDepot => Some(HolderKind::ReserveDepot),
        pb::HolderKind::FireRescue => Some(HolderKind::FireRescue),
        pb::HolderKind::ProfessionalTeam => Some(HolderKind::ProfessionalTeam),
    }
}

pub fn holder_kind_to_pb(kind: HolderKind) -> pb::HolderKind {
    match kind {
        HolderKind::Manufacturer => pb::HolderKind::Manufacturer,
        HolderKind::ReserveDepot => pb::HolderKind::ReserveDepot,
        HolderKind::FireRescue => pb::HolderKind::FireRescue,
        HolderKind::ProfessionalTeam => pb::HolderKind::ProfessionalTeam,
    }
}

pub fn zone_tier_to_pb(tier: ZoneTier) -> pb::ZoneTier {
    match tier {
        ZoneTier::Core => pb::ZoneTier::Core,
        ZoneTier::Key => pb::ZoneTier::Key,
        ZoneTier::Support => pb::ZoneTier::Support,
        ZoneTier::Metro => pb::ZoneTier::Metro,
        ZoneTier::Outside => pb::ZoneTier::Outside,
    }
}

pub fn stage_to_pb(stage: ChainStage) -> pb::ChainStage {
    match stage {
        ChainStage::MonitoringWarning => pb::ChainStage::MonitoringWarning,
        ChainStage::SafetyProtection => pb::ChainStage::SafetyProtection,
        ChainStage::EmergencyRescue => pb::ChainStage::EmergencyRescue,
    }
}

pub fn stage_from_pb(value: i32) -> Option<Option<ChainStage>> {
    Some(match pb::ChainStage::try_from(value).ok()? {
        pb::ChainStage::Unspecified => None,
        pb::ChainStage::MonitoringWarning => Some(ChainStage::MonitoringWarning),
        pb::ChainStage::SafetyProtection => Some(ChainStage::SafetyProtection),
        pb::ChainStage::EmergencyRescue => Some(ChainStage::EmergencyRescue),
    })
}

fn priority_to_pb(priority: Priority) -> pb::Priority {
    match priority {
        Priority::Critical => pb::Priority::Critical,
        Priority::Important => pb::Priority::Important,
        Priority::Supporting => pb::Priority::Supporting,
    }
}

fn miit_class_to_pb(class: MiitClass) -> pb::MiitClass {
    match class {
        MiitClass::Monitoring => pb::MiitClass::Monitoring,
        MiitClass::Protection => pb::MiitClass::Protection,
        MiitClass::Rescue => pb::MiitClass::Rescue,
        MiitClass::Service => pb::MiitClass::Service,
    }
}

pub fn miit_class_from_pb(value: i32) -> Option<Option<MiitClass>> {
    Some(match pb::MiitClass::try_from(value).ok()? {
        pb::MiitClass::Unspecified => None,
        pb::MiitClass::Monitoring => Some(MiitClass::Monitoring),
        pb::MiitClass::Protection => Some(MiitClass::Protection),
        pb::MiitClass::Rescue => Some(MiitClass::Rescue),
        pb::MiitClass::Service => Some(MiitClass::Service),
    })
}

fn transport_to_pb(transport: Transport) -> pb::Transport {
    match transport {
        Transport::Light => pb::Transport::Light,
        Transport::Truck => pb::Transport::Truck,
        Transport::Heavy => pb::Transport::Heavy,
        Transport::Air => pb::Transport::Air,
    }
}
