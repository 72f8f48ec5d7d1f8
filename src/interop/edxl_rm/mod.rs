//! OASIS EDXL-RM 1.0 (resource messaging): a RequestResource written from a Match (each
//! requirement, or each shortfall, one ResourceInformation with its quantity; the incident as
//! IncidentInformation; the place as a gml:Point), a CommitResource written from a confirmed
//! hold, and a RequestResource from another agency read into a Match. The documents follow the
//! XSDs of `tests/data/interop/schemas/external/edxl-rm/1.0/` (tests validate every one with
//! xmllint).

mod read;
mod write;

pub use read::{read_request, request_to_match, ImportedRequest, RequestedResource};
pub use read::{ResourceOutcome, ResourceRequest, REQUEST_WINDOW_HOURS_DEFAULT};
pub use read::{RESOURCES_PER_REQUEST_MAX, SCHEDULES_PER_RESOURCE_MAX};
pub use write::{commit_resource, request_resource, CommitOptions, RequestOptions};

/// The message namespace (RequestResource, CommitResource…), prefix `rmsg`.
pub const RM_MSG_NS: &str = "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg";
/// The common types' namespace, prefix `rm`.
pub const RM_NS: &str = "urn:oasis:names:tc:emergency:EDXL:RM:1.0";
pub const GML_NS: &str = "http://www.opengis.net/gml";
/// Our value lists: category ids, chain stages, priorities, units, suppliers.
pub const CATEGORY_URN: &str = "urn:equipmatch:category";
pub const STAGE_URN: &str = "urn:equipmatch:chain-stage";
pub const PRIORITY_URN: &str = "urn:equipmatch:priority";
pub const UNIT_URN: &str = "urn:equipmatch:unit";
pub const SUPPLIER_URN: &str = "urn:equipmatch:supplier";
