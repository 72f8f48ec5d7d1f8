//! The one mapping from `Error` to a gRPC status, with machine-readable details
//! (google.rpc.BadRequest field violations, ResourceInfo, PreconditionFailure, RetryInfo,
//! QuotaFailure, ErrorInfo), so a client can point at the field, know when to come back, or
//! see which right it lacks.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::Error;

/// google.rpc.ErrorInfo's domain for our reasons.
pub const ERROR_DOMAIN: &str = "equipmatch.v1";
/// The trailer in which gRPC clients with a retry policy look for the server's pushback (ms).
pub const RETRY_PUSHBACK_KEY: &str = "grpc-retry-pushback-ms";

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        let message = error.to_string();
        match error {
            Error::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for violation in violations {
                    details.add_bad_request_violation(violation.field, violation.description);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            Error::NotFound { kind, id, field } => {
                let mut details = ErrorDetails::with_resource_info(kind, id, "", message.clone());
                details.add_bad_request_violation(field, message.clone());
                Status::with_error_details(Code::NotFound, message, details)
            }
            Error::AlreadyExists { kind, id, .. } => {
                let details = ErrorDetails::with_resource_info(kind, id, "", message.clone());
                Status::with_error_details(Code::AlreadyExists, message, details)
            }
            Error::FailedPrecondition(violations) => {
                let mut details = ErrorDetails::new();
                for violation in violations {
                    details.add_precondition_failure_violation(
                        violation.kind,
                        violation.subject,
                        violation.description,
                    );
                }
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            Error::Unavailable(_) => Status::new(Code::Unavailable, message),
            Error::ResourceExhausted(_) => Status::new(Code::ResourceExhausted, message),
            Error::Overloaded { retry_after, reason, .. } => {
                let mut details = ErrorDetails::with_retry_info(Some(retry_after));
                details.set_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new());
                let mut status =
                    Status::with_error_details(Code::ResourceExhausted, message, details);
                // gRPC's own retry policy reads this trailer (the server's pushback); RetryInfo
                // is for clients that read details.
                if let Ok(value) = retry_after.as_millis().to_string().parse() {
                    status.metadata_mut().insert(RETRY_PUSHBACK_KEY, value);
                }
                status
            }
            Error::LimitExceeded { limit, subject, description } => {
                let details = ErrorDetails::with_quota_failure_violation(
                    subject,
                    format!("{description} ({limit})"),
                );
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            Error::Internal(_) => Status::new(Code::Internal, message),
            Error::Unauthenticated { reason, .. } => {
                let details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, HashMap::new());
                Status::with_error_details(Code::Unauthenticated, message, details)
            }
            Error::PermissionDenied { reason, metadata, .. } => {
                let metadata: HashMap<String, String> =
                    metadata.into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
                let details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::PermissionDenied, message, details)
            }
        }
    }
}
