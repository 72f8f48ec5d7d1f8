//! The gRPC edge of engine work: a call's caller and deadline (the `grpc-timeout` header), its
//! admission to the pool, and its one structured log line (caller, method, code, latency, queue
//! wait, run time).

use std::time::{Duration, Instant};

use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use super::convert;
use crate::error::Error;
use crate::exec::{Engine, Work};
use crate::holds::Caller;

/// The header in which a gRPC client states how long it will wait (gRPC over HTTP/2 spec:
/// at most 8 digits and a unit, H M S m u n).
pub const GRPC_TIMEOUT_HEADER: &str = "grpc-timeout";

/// One engine-backed call, from its arrival to its log line.
#[derive(Debug)]
pub struct Call {
    method: &'static str,
    started: Instant,
    caller: Caller,
    deadline: Option<Instant>,
    /// Queue wait and run time, once the pool ran the job.
    timings: Option<(Duration, Duration)>,
}

impl Call {
    /// Notes the arrival, the caller and the deadline. Cheap: no validation here.
    pub fn start<T>(method: &'static str, request: &Request<T>) -> Call {
        let started = Instant::now();
        Call {
            method,
            started,
            caller: convert::caller(request),
            deadline: deadline(request.metadata(), started),
            timings: None,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Admits `f` to the pool and awaits it. Dropping this future (the caller went away, or
    /// its deadline passed) leaves a queued job to be dropped unrun.
    pub async fn run<T, F>(&mut self, engine: &Engine, work: Work, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let done = engine.call(work, self.deadline, f).await?;
        self.timings = Some((done.queue_wait, done.run_time));
        Ok(done.value)
    }

    /// Ends the call: one log line, and the conversion to a tonic result.
    pub fn finish<T>(self, result: Result<T, Error>) -> Result<Response<T>, Status> {
        let latency_us = micros(self.started.elapsed());
        let (queue_wait_us, run_us) = self
            .timings
            .map_or((None, None), |(wait, run)| (Some(micros(wait)), Some(micros(run))));
        let caller = self.caller.as_str();
        let method = self.method;
        match result {
            Ok(message) => {
                tracing::info!(
                    method,
                    caller,
                    code = "OK",
                    latency_us,
                    queue_wait_us,
                    run_us,
                    "call"
                );
                Ok(Response::new(message))
            }
            Err(error) => {
                let status = Status::from(error);
                tracing::info!(
                    method,
                    caller,
                    code = ?status.code(),
                    latency_us,
                    queue_wait_us,
                    run_us,
                    message = status.message(),
                    "call"
                );
                Err(status)
            }
        }
    }
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros().min(u128::from(u64::MAX)) as u64
}

/// The caller's deadline: arrival + `grpc-timeout`. None when the header is absent or
/// malformed (tonic's own timeout layer ignores a malformed one too).
pub fn deadline(metadata: &MetadataMap, arrived: Instant) -> Option<Instant> {
    let text = metadata.get(GRPC_TIMEOUT_HEADER)?.to_str().ok()?;
    arrived.checked_add(parse_grpc_timeout(text)?)
}

/// `grpc-timeout`'s value: 1–8 ASCII digits and a unit.
pub fn parse_grpc_timeout(text: &str) -> Option<Duration> {
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some(match unit {
        'H' => Duration::from_secs(value * 3600),
        'M' => Duration::from_secs(value * 60),
        'S' => Duration::from_secs(value),
        'm' => Duration::from_millis(value),
        'u' => Duration::from_micros(value),
        'n' => Duration::from_nanos(value),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values_parse_by_the_spec() {
        assert_eq!(parse_grpc_timeout("500m"), Some(Duration::from_millis(500)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("99999999u"), Some(Duration::from_micros(99_999_999)));
        assert_eq!(parse_grpc_timeout("7n"), Some(Duration::from_nanos(7)));
        for bad in ["", "m", "500", "123456789m", "5x", "-5m", "5 m", "５m"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }
}
