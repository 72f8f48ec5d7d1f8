//! The one mapping from `Error` to a gRPC status, with machine-readable details
//! (google.rpc.BadRequest field violations, ResourceInfo, PreconditionFailure, ErrorInfo), so a client can point at the field.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::ERROR_DOMAIN;
use crate::error::Error;

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
