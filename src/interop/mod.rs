//! Speaking the field's languages: OASIS CAP 1.1/1.2 alerts in (read safely, checked, turned
//! into incidents with their Matches computed), OASIS EDXL-RM 1.0 resource messages out
//! (RequestResource from a Match, CommitResource from a confirmed hold) and in (a
//! RequestResource read into a Match). No tonic here: the gRPC layer wraps this module.

pub mod cap;
pub mod geo;
pub mod time;
pub mod xml;
