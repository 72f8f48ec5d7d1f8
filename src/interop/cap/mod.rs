//! The Common Alerting Protocol (OASIS CAP 1.1 and 1.2) as equipmatch reads it: the message
//! model, and `read`, which turns bytes into alerts or says, naming the element, why not.
//!
//! A document is one CAP `<alert>`, or an envelope that carries them: a SOAP or UICDS request
//! whose body holds a `cap:alert`, or an EDXL-DE 1.0 distribution whose content objects embed
//! alerts. Each alert found is read on its own, so one bad alert in a feed does not hide the rest.

mod read;

pub use read::{read_document, AREAS_PER_INFO_MAX, GEOCODES_PER_AREA_MAX, INFOS_PER_ALERT_MAX};
pub use read::{ALERTS_PER_DOCUMENT_MAX, PARAMETERS_PER_INFO_MAX, POLYGON_POINTS_MAX};
pub use read::{POLYGONS_PER_AREA_MAX, REFERENCES_PER_ALERT_MAX};

use crate::domain::LatLon;

use super::xml::Refusal;

pub const CAP_1_1_NS: &str = "urn:oasis:names:tc:emergency:cap:1.1";
pub const CAP_1_2_NS: &str = "urn:oasis:names:tc:emergency:cap:1.2";
pub const EDXL_DE_1_0_NS: &str = "urn:oasis:names:tc:emergency:EDXL:DE:1.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapVersion {
    V1_1,
    V1_2,
}

impl CapVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            CapVersion::V1_1 => "1.1",
            CapVersion::V1_2 => "1.2",
        }
    }
}

/// Defines a CAP code list: the variants, their exact spellings, `parse` and `as_str`.
macro_rules! code_list {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The accepted spellings, for messages.
            pub fn spellings() -> String {
                [$($text),+].join(", ")
            }
        }
    };
}

code_list!(
    /// `<status>`: only Actual is live; Exercise and Test are drills; System and Draft are not
    /// actionable.
    Status { Actual = "Actual", Exercise = "Exercise", System = "System", Test = "Test", Draft = "Draft" }
);
code_list!(MsgType { Alert = "Alert", Update = "Update", Cancel = "Cancel", Ack = "Ack", Error = "Error" });
code_list!(Scope { Public = "Public", Restricted = "Restricted", Private = "Private" });
code_list!(Category {
    Geo = "Geo", Met = "Met", Safety = "Safety", Security = "Security", Rescue = "Rescue",
    Fire = "Fire", Health = "Health", Env = "Env", Transport = "Transport", Infra = "Infra",
    Cbrne = "CBRNE", Other = "Other",
});
code_list!(Urgency { Immediate = "Immediate", Expected = "Expected", Future = "Future", Past = "Past", Unknown = "Unknown" });
code_list!(CapSeverity { Extreme = "Extreme", Severe = "Severe", Moderate = "Moderate", Minor = "Minor", Unknown = "Unknown" });
code_list!(Certainty {
    Observed = "Observed", Likely = "Likely", Possible = "Possible", Unlikely = "Unlikely",
    Unknown = "Unknown",
});
code_list!(ResponseType {
    Shelter = "Shelter", Evacuate = "Evacuate", Prepare = "Prepare", Execute = "Execute",
    Avoid = "Avoid", Monitor = "Monitor", Assess = "Assess", AllClear = "AllClear", None = "None",
});

/// A `<references>` entry: an earlier message this one updates, cancels or answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub sender: String,
    pub identifier: String,
    pub sent: String,
}

/// A name/value pair (`eventCode`, `parameter`, `geocode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

/// A closed ring of at least four points (first = last), validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub points: Vec<LatLon>,
}

/// A circle: centre and radius in km (0 for a point).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    pub centre: LatLon,
    pub radius_km: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub description: String,
    pub polygons: Vec<Polygon>,
    pub circles: Vec<Circle>,
    pub geocodes: Vec<NameValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// RFC 3066 tag; `en-US` when the element is absent (the schema's default).
    pub language: String,
    pub categories: Vec<Category>,
    pub event: String,
    pub response_types: Vec<ResponseType>,
    pub urgency: Urgency,
    pub severity: CapSeverity,
    pub certainty: Certainty,
    pub event_codes: Vec<NameValue>,
    pub effective_ms: Option<i64>,
    pub onset_ms: Option<i64>,
    pub expires_ms: Option<i64>,
    pub sender_name: Option<String>,
    pub headline: Option<String>,
    pub parameters: Vec<NameValue>,
    pub areas: Vec<Area>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub version: CapVersion,
    pub identifier: String,
    pub sender: String,
    /// As written (references quote it), and as an instant.
    pub sent: String,
    pub sent_ms: i64,
    pub status: Status,
    pub msg_type: MsgType,
    pub scope: Scope,
    pub references: Vec<Reference>,
    pub infos: Vec<Info>,
    /// Things read past without refusing (an empty CAP 1.1 polygon, ignored references…).
    pub warnings: Vec<String>,
}

impl Alert {
    /// Whether the alert is live: Exercise, Test, System and Draft never are, so they never
    /// hold stock.
    pub fn is_live(&self) -> bool {
        self.status == Status::Actual
    }

    /// The latest `<expires>` of its infos; `None` when no info says.
    pub fn expires_ms(&self) -> Option<i64> {
        self.infos.iter().filter_map(|info| info.expires_ms).max()
    }
}

/// One alert found in a document: where in it (`""` for a bare alert, `contentObject[2]` in
/// an EDXL-DE envelope, `Body/alert[0]` in a wrapper) and what came of reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub location: String,
    pub alert: Result<Alert, Refusal>,
}
