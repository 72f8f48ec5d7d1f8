//! The gRPC layer: generated types, service implementations, conversions and the server. The
//! only module that knows tonic and prost; generated types never leave it.

mod admission;
pub mod alert_convert;
mod alert_service;
pub use alert_service::export_request_resource_in_process;
pub mod auth;
pub mod auth_load;
mod call_layer;
mod catalog_service;
pub mod client;
pub mod convert;
pub mod drill_convert;
mod drill_service;
#[doc(hidden)]
pub mod fuzz;
mod hold_service;
pub mod load;
mod match_service;
pub mod overload_bench;
pub mod score_part;
mod server;
pub mod shortlist_bench;
mod status;
pub mod visibility_bench;
mod web;

pub use auth::{Security, TlsPem};
pub use server::{serve, serve_with_console, ServerHandle, ServerOptions};

/// Generated protobuf and tonic code for `equipmatch.v1`.
#[allow(clippy::all, clippy::pedantic, missing_docs)] // generated code: not ours to lint
pub mod pb {
    tonic::include_proto!("equipmatch.v1");
    pub use super::score_part::ScorePart;

    /// The encoded FileDescriptorSet of the contract, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/equipmatch_descriptor.bin"));
}

use std::time::Instant;

use tonic::{Response, Status};

use crate::error::Error;

/// Ends a call: one structured log line (method, status, latency) and the conversion to a
/// tonic result.
fn finish<T>(
    method: &'static str,
    started: Instant,
    result: Result<T, Error>,
) -> Result<Response<T>, Status> {
    let latency_us = started.elapsed().as_micros() as u64;
    match result {
        Ok(message) => {
            tracing::info!(method, code = "OK", latency_us, "call");
            Ok(Response::new(message))
        }
        Err(error) => {
            let status = Status::from(error);
            tracing::info!(method, code = ?status.code(), latency_us, message = status.message(), "call");
            Err(status)
        }
    }
}
