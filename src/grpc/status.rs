//! The one mapping from `Error` to a gRPC status, with machine-readable details
//! (google.rpc.BadRequest field violations, ResourceInfo, PreconditionFailure), so a client can point at the field.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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
            Error::LimitExceeded { limit, subject, description } => {
                let details = ErrorDetails::with_quota_failure_violation(
                    subject,
                    format!("{description} ({limit})"),
                );
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            Error::Internal(_) => Status::new(Code::Internal, message),
        }
    }
}
