//! Speaking the field's languages: OASIS CAP 1.1/1.2 alerts in (read safely, checked, turned
//! into incidents with their Matches computed), OASIS EDXL-RM 1.0 resource messages out
//! (RequestResource from a Match, CommitResource from a confirmed hold) and in (a
//! RequestResource read into a Match). No tonic here: the gRPC layer wraps this module.

pub mod active;
pub mod cap;
pub mod edxl_rm;
pub mod fuzz;
pub mod geo;
pub mod incidents;
pub mod time;
pub mod xml;

use crate::catalog::Catalog;
use crate::matching::{HeldStock, MatchResult};

use self::cap::Alert;
use self::incidents::Incident;
use self::xml::Refusal;

/// One alert of a document, read and answered, or refused.
#[derive(Debug, Clone)]
pub struct AlertReading {
    /// Where in the document (`""` for a bare alert; see `cap::Found`).
    pub location: String,
    pub outcome: Result<AnsweredAlert, Refusal>,
}

/// An accepted alert with its incidents and their Matches.
#[derive(Debug, Clone)]
pub struct AnsweredAlert {
    pub alert: Alert,
    pub incidents: Vec<AnsweredIncident>,
}

impl AnsweredAlert {
    /// Identifiers an Update or Cancel references (an Alert's references are only mentions).
    pub fn cancels(&self) -> Vec<String> {
        match self.alert.msg_type {
            cap::MsgType::Update | cap::MsgType::Cancel => {
                self.alert.references.iter().map(|r| r.identifier.clone()).collect()
            }
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AnsweredIncident {
    pub incident: Incident,
    /// `None` when the incident is unmapped or has no place.
    pub answer: Option<MatchResult>,
}

/// Reads a CAP document and answers each incident of each alert on `held`. The document is
/// refused as a whole only when it is not XML, breaks a bound, or carries no CAP alert.
pub fn read_and_answer(
    catalog: &Catalog,
    held: &dyn HeldStock,
    bytes: &[u8],
) -> Result<Vec<AlertReading>, Refusal> {
    let found = cap::read_document(bytes)?;
    Ok(found
        .into_iter()
        .map(|found| AlertReading {
            location: found.location,
            outcome: found.alert.map(|alert| answer_alert(catalog, held, alert)),
        })
        .collect())
}

/// The incidents of an accepted alert, each with its Match. Only an Alert or an Update makes
/// incidents: a Cancel withdraws, and an Ack or Error answers a message, whatever infos they
/// carry.
pub fn answer_alert(catalog: &Catalog, held: &dyn HeldStock, alert: Alert) -> AnsweredAlert {
    if !matches!(alert.msg_type, cap::MsgType::Alert | cap::MsgType::Update) {
        return AnsweredAlert { alert, incidents: Vec::new() };
    }
    let incidents = incidents::incidents(catalog, &alert)
        .into_iter()
        .map(|incident| {
            let answer = incidents::match_incident(catalog, held, &incident);
            AnsweredIncident { incident, answer }
        })
        .collect();
    AnsweredAlert { alert, incidents }
}

/// A file's bytes, refusing one larger than the XML bound before reading it whole.
pub fn read_file_bounded(path: &std::path::Path) -> Result<Vec<u8>, Refusal> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|error| Refusal::whole(format!("cannot read: {error}")))?;
    let mut bytes = Vec::new();
    file.take(xml::XML_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| Refusal::whole(format!("cannot read: {error}")))?;
    if bytes.len() > xml::XML_BYTES_MAX {
        return Err(Refusal::whole(format!("larger than {} bytes", xml::XML_BYTES_MAX)));
    }
    Ok(bytes)
}
