//! Value types of the domain: scenarios, severity, chain stages, categories, places, suppliers
//! and stock lines. No I/O and no wire types here; the catalog builds these from files and the
//! gRPC layer converts them to and from protobuf.

mod alerting;
mod entities;
mod geo;
mod held;
mod ids;
mod quantity;

pub use alerting::{
    normalise, normalise_event, AlertMapping, ColourRule, EventRule, ResourceRule, CAP_SEVERITIES,
};
pub use entities::*;
pub use geo::{great_circle_km, great_circle_km_units, LatLon, EARTH_RADIUS_KM};
pub use held::{HeldStock, NoHolds};
pub use ids::{Id, IdError};
pub use quantity::{
    ellipse_perimeter_km, rule_number, FireShape, Impact, LevelTable, Pumping, Quantity,
};

use std::fmt;

/// National emergency response level, I (特别重大, red) is the most severe, IV (一般, blue) the least.
///
/// The derive order puts IV first so that `Ord` means "less severe < more severe".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    IV,
    III,
    II,
    I,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::IV, Severity::III, Severity::II, Severity::I];

    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim() {
            "I" | "1" => Some(Severity::I),
            "II" | "2" => Some(Severity::II),
            "III" | "3" => Some(Severity::III),
            "IV" | "4" => Some(Severity::IV),
            _ => None,
        }
    }

    pub fn roman(self) -> &'static str {
        match self {
            Severity::I => "I",
            Severity::II => "II",
            Severity::III => "III",
            Severity::IV => "IV",
        }
    }

    /// The Chinese grade name (特别重大 … 一般).
    pub fn name_zh(self) -> &'static str {
        match self {
            Severity::I => "特别重大",
            Severity::II => "重大",
            Severity::III => "较大",
            Severity::IV => "一般",
        }
    }

    /// The warning colour that goes with the level (Emergency Response Law art. 42).
    pub fn warning_colour(self) -> &'static str {
        match self {
            Severity::I => "red",
            Severity::II => "orange",
            Severity::III => "yellow",
            Severity::IV => "blue",
        }
    }

    /// Index 0..4 with IV = 0, for per-level tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.roman())
    }
}

/// A stage of the plan's chain: monitoring & early warning → safety protection → emergency rescue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChainStage {
    MonitoringWarning,
    SafetyProtection,
    EmergencyRescue,
}

impl ChainStage {
    /// In chain order.
    pub const ALL: [ChainStage; 3] =
        [ChainStage::MonitoringWarning, ChainStage::SafetyProtection, ChainStage::EmergencyRescue];

    pub fn key(self) -> &'static str {
        match self {
            ChainStage::MonitoringWarning => "monitoring_warning",
            ChainStage::SafetyProtection => "safety_protection",
            ChainStage::EmergencyRescue => "emergency_rescue",
        }
    }

    pub fn parse(text: &str) -> Option<ChainStage> {
        ChainStage::ALL.into_iter().find(|stage| stage.key() == text)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ChainStage::MonitoringWarning => "监测预警",
            ChainStage::SafetyProtection => "安全防护",
            ChainStage::EmergencyRescue => "应急救援",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ChainStage::MonitoringWarning => "monitoring & early warning",
            ChainStage::SafetyProtection => "safety protection",
            ChainStage::EmergencyRescue => "emergency rescue",
        }
    }
}

/// The four top classes of the MIIT 《安全应急产业分类指导目录（2021年版）》.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MiitClass {
    /// 监测预警类
    Monitoring,
    /// 安全防护类
    Protection,
    /// 应急救援处置类
    Rescue,
    /// 安全应急服务类
    Service,
}

impl MiitClass {
    pub const ALL: [MiitClass; 4] =
        [MiitClass::Monitoring, MiitClass::Protection, MiitClass::Rescue, MiitClass::Service];

    pub fn key(self) -> &'static str {
        match self {
            MiitClass::Monitoring => "monitoring",
            MiitClass::Protection => "protection",
            MiitClass::Rescue => "rescue",
            MiitClass::Service => "service",
        }
    }

    pub fn parse(text: &str) -> Option<MiitClass> {
        MiitClass::ALL.into_iter().find(|class| class.key() == text)
    }
}

/// How much a requirement matters to the incident; the order is most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Critical,
    Important,
    Supporting,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Critical, Priority::Important, Priority::Supporting];

    pub fn key(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::Important => "important",
            Priority::Supporting => "supporting",
        }
    }

    pub fn parse(text: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|priority| priority.key() == text)
    }
}

/// Where a place stands in the cluster plan's geography.
///
/// The order is the zone policy's order (core best): the search's bounds take the minimum tier
/// of a category's lines as its best, so `zone_value` must never increase along it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ZoneTier {
    Core,
    Key,
    Support,
    /// 京津腹地: Beijing and Tianjin outside the plan's named parks — inside the cluster the
    /// three provinces build jointly, but not one of its designated zones.
    Metro,
    Outside,
}

impl ZoneTier {
    pub const ALL: [ZoneTier; 5] =
        [ZoneTier::Core, ZoneTier::Key, ZoneTier::Support, ZoneTier::Metro, ZoneTier::Outside];

    pub fn key(self) -> &'static str {
        match self {
            ZoneTier::Core => "core",
            ZoneTier::Key => "key",
            ZoneTier::Support => "support",
            ZoneTier::Metro => "metro",
            ZoneTier::Outside => "outside",
        }
    }

    pub fn parse(text: &str) -> Option<ZoneTier> {
        ZoneTier::ALL.into_iter().find(|tier| tier.key() == text)
    }
}

/// What kind of resource holder a registry row is: who keeps the stock and how it answers a
/// call. Manufacturers sell from stock and make more; the others are **standing resources**
/// held for emergencies (government reserve depots, the fire and rescue corps, professional
/// rescue teams), which usually come with their own crews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HolderKind {
    /// A manufacturer or dealer (生产企业): stock on hand plus surge production.
    Manufacturer,
    /// A government reserve depot (应急物资储备库 / 救灾物资储备库): national, provincial or
    /// municipal relief and flood-control stock.
    ReserveDepot,
    /// The fire and rescue corps (消防救援队伍): stations' vehicles and kit, with crews.
    FireRescue,
    /// A professional rescue team (专业救援队伍): mine, hazchem, earthquake, engineering,
    /// medical or power teams, with crews.
    ProfessionalTeam,
}

impl HolderKind {
    pub const ALL: [HolderKind; 4] = [
        HolderKind::Manufacturer,
        HolderKind::ReserveDepot,
        HolderKind::FireRescue,
        HolderKind::ProfessionalTeam,
    ];

    pub fn key(self) -> &'static str {
        match self {
            HolderKind::Manufacturer => "manufacturer",
            HolderKind::ReserveDepot => "reserve-depot",
            HolderKind::FireRescue => "fire-rescue",
            HolderKind::ProfessionalTeam => "professional-team",
        }
    }

    pub fn parse(text: &str) -> Option<HolderKind> {
        HolderKind::ALL.into_iter().find(|kind| kind.key() == text)
    }

    /// Whether the holder is a standing resource (anything but a manufacturer).
    pub fn is_standing(self) -> bool {
        self != HolderKind::Manufacturer
    }
}

/// The cluster plan's zone policy as a score value: core 1.0, key 0.85, support 0.7, metro 0.7,
/// outside 0.4, and +0.15 (up to 1) inside a national demonstration base.
pub fn zone_value(zone: ZoneTier, in_demonstration_base: bool) -> f64 {
    let base = match zone {
        ZoneTier::Core => 1.0,
        ZoneTier::Key => 0.85,
        ZoneTier::Support => 0.7,
        // Inside the jointly built cluster but not a designated zone: ranked with the support
        // tier, the plan's lowest designated one (see scenarios/README.md).
        ZoneTier::Metro => 0.7,
        ZoneTier::Outside => 0.4,
    };
    if in_demonstration_base {
        (base + 0.15_f64).min(1.0)
    } else {
        base
    }
}

/// What kind of place an entry of `places.toml` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaceKind {
    City,
    Park,
    DemonstrationBase,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 3] =
        [PlaceKind::City, PlaceKind::Park, PlaceKind::DemonstrationBase];

    pub fn key(self) -> &'static str {
        match self {
            PlaceKind::City => "city",
            PlaceKind::Park => "park",
            PlaceKind::DemonstrationBase => "demonstration_base",
        }
    }

    pub fn parse(text: &str) -> Option<PlaceKind> {
        PlaceKind::ALL.into_iter().find(|kind| kind.key() == text)
    }
}

/// The vehicle class that carries a category to the incident; it sets the travel speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// Vans and portable kit.
    Light,
    /// Ordinary trucks.
    Truck,
    /// Oversize and heavy vehicles: cranes, rigs, large pump trucks.
    Heavy,
    /// Aircraft and large UAVs that fly themselves there (great circle, no road factor).
    Air,
}

impl Transport {
    pub const ALL: [Transport; 4] =
        [Transport::Light, Transport::Truck, Transport::Heavy, Transport::Air];

    pub fn key(self) -> &'static str {
        match self {
            Transport::Light => "light",
            Transport::Truck => "truck",
            Transport::Heavy => "heavy",
            Transport::Air => "air",
        }
    }

    pub fn parse(text: &str) -> Option<Transport> {
        Transport::ALL.into_iter().find(|transport| transport.key() == text)
    }
}

/// How far a number in the catalog can be trusted (see `scenarios/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    A,
    B,
    C,
    GeneralKnowledge,
    Derived,
    Model,
}

impl Grade {
    pub const ALL: [Grade; 6] =
        [Grade::A, Grade::B, Grade::C, Grade::GeneralKnowledge, Grade::Derived, Grade::Model];

    pub fn key(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::GeneralKnowledge => "GK",
            Grade::Derived => "DERIVED",
            Grade::Model => "MODEL",
        }
    }

    pub fn parse(text: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|grade| grade.key() == text)
    }
}

/// Where a number comes from: a source note and its grade.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    pub source: String,
    pub grade: Grade,
}
