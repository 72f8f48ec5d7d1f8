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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The request is malformed; every bad field is listed.
    #[error("invalid request: {}", summary(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// A scenario, category, supplier or place the request names does not exist.
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String, field: String },
    /// The server is overloaded; the caller may retry later.
    #[error("{0}")]
    ResourceExhausted(String),
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
