//! The one error type of request handling. No tonic here: `grpc/status.rs` maps each variant
//! to a status code in one table.

/// A field of a request and what is wrong with it (google.rpc.BadRequest.FieldViolation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The proto field path, e.g. `location.latitude` or `constraints.excluded_supplier_ids[2]`.
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> FieldViolation {
        FieldViolation { field: field.into(), description: description.into() }
    }
}

/// A condition the system is not in (google.rpc.PreconditionFailure.Violation), e.g. a stock line
/// short of what a hold asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreconditionViolation {
    /// `STOCK` (a short stock line) or `HOLD_STATE` (a hold in the wrong state).
    pub kind: &'static str,
    /// What it is about: `supplier_id/category_id` or a hold id.
    pub subject: String,
    pub description: String,
    /// For `STOCK`: the units the line can still give.
    pub available_units: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The request is malformed; every bad field is listed.
    #[error("invalid request: {}", summary(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// A scenario, category, supplier or place the request names does not exist.
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String, field: String },
    /// A resource with this id exists with other content (a reused hold id).
    #[error("{kind} {id:?} already exists: {description}")]
    AlreadyExists { kind: &'static str, id: String, description: String },
    /// The request is valid but the state does not allow it; every reason is listed.
    #[error("failed precondition: {}", precondition_summary(.0))]
    FailedPrecondition(Vec<PreconditionViolation>),
    /// The durable store cannot be reached or failed; the caller may retry (idempotently).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The server is overloaded; the caller may retry later.
    #[error("{0}")]
    ResourceExhausted(String),
    /// No verified identity: the call carries no bearer token, or one that fails
    /// verification. `reason` is a stable code (TOKEN_MISSING, TOKEN_EXPIRED, KEY_UNKNOWN…).
    #[error("unauthenticated: {description}")]
    Unauthenticated { reason: &'static str, description: String },
    /// A verified identity without the right to this call: a scope it lacks, or a supplier's
    /// line it may not touch. `metadata` names what is missing.
    #[error("permission denied: {description}")]
    PermissionDenied {
        reason: &'static str,
        description: String,
        metadata: Vec<(&'static str, String)>,
    },
    /// The engine's queue is full or cannot meet the caller's deadline: retry after the delay
    /// (google.rpc.RetryInfo; `reason` goes into google.rpc.ErrorInfo).
    #[error("{message}")]
    Overloaded { message: String, reason: &'static str, retry_after: std::time::Duration },
    /// The request is valid but asks for more than a fixed limit allows (a drill whose network
    /// would exceed `NODES_MAX`); retrying does not help (google.rpc.QuotaFailure).
    #[error("{subject}: {description}")]
    LimitExceeded { limit: &'static str, subject: String, description: String },
    /// A defect: a state the code believes impossible.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

fn precondition_summary(violations: &[PreconditionViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{} {}: {}", v.kind, v.subject, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}
