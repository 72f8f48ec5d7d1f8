//! A tower layer around every gRPC call of the server: it counts calls by service, method and
//! final status code and times them (for `/metrics`), and turns a panic in a handler into
//! INTERNAL for that one call (logged) instead of a reset stream.
//!
//! The code is read where gRPC puts it: the `grpc-status` header of a trailers-only answer
//! (every error from a handler), else the trailers at the end of the body. A call whose body is
//! dropped before its trailers (the client went away, or the server's deadline cut it) counts
//! as CANCELLED. Only the contract's own paths become labels (anything else is `unknown`), so a
//! client cannot grow the metrics by inventing paths.

use std::collections::HashSet;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::Frame;
use prost::Message;
use tonic::body::Body;
use tonic::Status;
use tower_layer::Layer;
use tower_service::Service;

use crate::metrics::Metrics;

/// Canonical gRPC code names, indexed by code number.
const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];
const CANCELLED: usize = 1;
const UNKNOWN: usize = 2;
const INTERNAL: usize = 13;

/// Services outside our contract that the server also answers.
const OTHER_PATHS: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

#[derive(Debug, Clone)]
pub struct CallLayer {
    metrics: Arc<Metrics>,
    known: Arc<HashSet<String>>,
}

impl CallLayer {
    pub fn new(metrics: Arc<Metrics>) -> CallLayer {
        let mut known: HashSet<String> = OTHER_PATHS.iter().map(|p| (*p).to_owned()).collect();
        for set in [super::pb::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET] {
            let Ok(set) = prost_types::FileDescriptorSet::decode(set) else { continue };
            for file in set.file {
                for service in &file.service {
                    for method in &service.method {
                        known.insert(format!(
                            "/{}.{}/{}",
                            file.package(),
                            service.name(),
                            method.name()
                        ));
                    }
                }
            }
        }
        CallLayer { metrics, known: Arc::new(known) }
    }
}

impl<S> Layer<S> for CallLayer {
    type Service = CallService<S>;

    fn layer(&self, inner: S) -> CallService<S> {
        CallService { inner, layer: self.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct CallService<S> {
    inner: S,
    layer: CallLayer,
}

impl<S, B> Service<http::Request<B>> for CallService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let (service, method) = if self.layer.known.contains(path) {
            let (service, method) = path[1..].split_once('/').unwrap_or(("unknown", "unknown"));
            (service.to_owned(), method.to_owned())
        } else {
            ("unknown".to_owned(), "unknown".to_owned())
        };
        let record = Record {
            metrics: self.layer.metrics.clone(),
            service,
            method,
            started: Instant::now(),
            done: false,
        };
        let future = CatchUnwind { inner: Box::pin(self.inner.call(request)), panicked: false };
        Box::pin(async move {
            let mut record = record;
            match future.await {
                Err(message) => {
                    tracing::error!(
                        service = %record.service,
                        method = %record.method,
                        panic = %message,
                        "a handler panicked; answering INTERNAL"
                    );
                    record.finish(INTERNAL);
                    Ok(Status::internal("the call failed with a defect on the server").into_http())
                }
                Ok(Err(error)) => {
                    record.finish(UNKNOWN);
                    Err(error)
                }
                Ok(Ok(response)) => match code_of(response.headers()) {
                    Some(code) => {
                        record.finish(code);
                        Ok(response)
                    }
                    None => {
                        let (parts, body) = response.into_parts();
                        let body = Body::new(MeteredBody { inner: body, record });
                        Ok(http::Response::from_parts(parts, body))
                    }
                },
            }
        })
    }
}

/// The numeric `grpc-status` of a header map, if present and known.
fn code_of(headers: &http::HeaderMap) -> Option<usize> {
    let code: usize = headers.get("grpc-status")?.to_str().ok()?.parse().ok()?;
    Some(if code < CODE_NAMES.len() { code } else { UNKNOWN })
}

/// One call's labels and start; records exactly once (CANCELLED if dropped unrecorded).
struct Record {
    metrics: Arc<Metrics>,
    service: String,
    method: String,
    started: Instant,
    done: bool,
}

impl Record {
    fn finish(&mut self, code: usize) {
        if !self.done {
            self.done = true;
            self.metrics.record_call(
                &self.service,
                &self.method,
                CODE_NAMES[code],
                self.started.elapsed(),
            );
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        self.finish(CANCELLED);
    }
}

/// The response body, watched for its trailers.
struct MeteredBody {
    inner: Body,
    record: Record,
}

impl http_body::Body for MeteredBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(code_of) {
                    this.record.finish(code);
                }
            }
            Poll::Ready(Some(Err(status))) => this.record.finish(status.code() as usize),
            Poll::Ready(None) => this.record.finish(UNKNOWN),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A future whose panic becomes `Err(message)` (and which is never polled again after it).
struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
    panicked: bool,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.panicked {
            return Poll::Pending;
        }
        let inner = self.inner.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                self.panicked = true;
                Poll::Ready(Err(crate::exec::panic_message(&*payload)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_follow_the_code_numbers() {
        for (n, name) in CODE_NAMES.iter().enumerate() {
            let code = tonic::Code::from_i32(n as i32);
            let expected = format!("{code:?}");
            assert_eq!(name.replace('_', "").to_lowercase(), expected.to_lowercase(), "{n}");
        }
    }
}
