//! The server's share of `bench grpc`'s Shortlist phase, in process: the same requests
//! (`load::shortlist_requests`, 8 categories, the default 72 h window) through the same steps
//! a call takes on the server — validation, the search, the response, its protobuf encoding —
//! timed in three nested loops, so a run shows which step a Shortlist's server time goes to
//! without a server, a client or HTTP/2 in the way. `cli::bench`'s `bench inproc` prints it.

use std::time::{Duration, Instant};

use prost::Message;

use super::{convert, load, pb};
use crate::catalog::Catalog;
use crate::matching::{self, NoHolds};

/// What one Shortlist of the gRPC mix costs in process, each row including the ones above it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShortlistMix {
    /// Validation and the search (µs per call, the mean over the mix).
    pub search_us: f64,
    /// ... and building the response message.
    pub response_us: f64,
    /// ... and encoding it (what tonic does before the bytes reach HTTP/2).
    pub encoded_us: f64,
    /// Stock lines examined per call (mean over the mix).
    pub lines_examined: f64,
    /// Encoded response bytes per call (mean over the mix).
    pub response_bytes: f64,
}

/// Runs each step `seconds` (at least 1, at most `load::PHASE_SECONDS_MAX`) on this thread.
/// `None` when a request of the mix does not validate on this catalog (a registry without
/// one of its categories).
pub fn shortlist_mix(catalog: &Catalog, seconds: u64) -> Option<ShortlistMix> {
    let requests = load::shortlist_requests();
    let mut queries = Vec::with_capacity(requests.len());
    for request in &requests {
        queries.push(convert::shortlist_query(catalog, request).ok()?);
    }
    let (mut examined, mut bytes) = (0usize, 0usize);
    for query in &queries {
        let result = matching::shortlist(catalog, &NoHolds, query);
        examined += result.lines_examined;
        bytes += convert::shortlist_response(catalog, &result).encoded_len();
    }
    let n = requests.len();
    let pick = |i: u64| &requests[i as usize % n];
    let search_us = micros_per_call(seconds, |i| {
        let query = convert::shortlist_query(catalog, pick(i)).ok();
        std::hint::black_box(query.map(|q| matching::shortlist(catalog, &NoHolds, &q)));
    });
    let response_us = micros_per_call(seconds, |i| {
        let query = convert::shortlist_query(catalog, pick(i)).ok();
        let result = query.map(|q| matching::shortlist(catalog, &NoHolds, &q));
        std::hint::black_box(result.map(|r| convert::shortlist_response(catalog, &r)));
    });
    let mut buffer = Vec::new();
    let encoded_us = micros_per_call(seconds, |i| {
        let query = convert::shortlist_query(catalog, pick(i)).ok();
        let result = query.map(|q| matching::shortlist(catalog, &NoHolds, &q));
        let response: Option<pb::ShortlistResponse> =
            result.map(|r| convert::shortlist_response(catalog, &r));
        buffer.clear();
        if let Some(response) = response {
            // A full buffer only means a message beyond what any test sends; the time is what
            // is measured here.
            let _ = response.encode(&mut buffer);
        }
        std::hint::black_box(&buffer);
    });
    Some(ShortlistMix {
        search_us,
        response_us,
        encoded_us,
        lines_examined: examined as f64 / n as f64,
        response_bytes: bytes as f64 / n as f64,
    })
}

/// Runs `call` for `seconds` and returns µs per call.
fn micros_per_call(seconds: u64, mut call: impl FnMut(u64)) -> f64 {
    let duration = Duration::from_secs(seconds.clamp(1, load::PHASE_SECONDS_MAX));
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        call(n);
        n += 1;
    }
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}
