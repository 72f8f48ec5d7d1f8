//! DrillService: RunDrill streams progress and then the report. The drill runs on a blocking
//! thread (it is CPU work, seconds on a national registry) and reports through a bounded
//! channel; at most `DRILLS_IN_FLIGHT_MAX` drills run at once.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::pb::drill_service_server::DrillService;
use super::{drill_convert, pb};
use crate::catalog::Catalog;
use crate::drill;
use crate::error::Error;

/// Drills running at once per server: each keeps a core busy, and the machine also answers
/// Match calls. Past this the call fails fast with RESOURCE_EXHAUSTED instead of queueing.
pub const DRILLS_IN_FLIGHT_MAX: usize = 2;
/// Events buffered per stream: a slow reader delays the drill's progress, not memory.
pub const DRILL_EVENTS_BUFFERED: usize = 16;
/// The largest RunDrill request (bytes): a drill file of `DRILL_FILE_BYTES_MAX` plus framing.
pub const DRILL_REQUEST_BYTES_MAX: usize = drill::format::DRILL_FILE_BYTES_MAX + 64 * 1024;

#[derive(Debug, Clone)]
pub struct DrillApi {
    pub catalog: Arc<Catalog>,
    pub in_flight: Arc<Semaphore>,
}

impl DrillApi {
    pub fn new(catalog: Arc<Catalog>) -> DrillApi {
        DrillApi { catalog, in_flight: Arc::new(Semaphore::new(DRILLS_IN_FLIGHT_MAX)) }
    }
}

type EventStream = ReceiverStream<Result<pb::RunDrillEvent, Status>>;

#[tonic::async_trait]
impl DrillService for DrillApi {
    type RunDrillStream = EventStream;

    async fn run_drill(
        &self,
        request: Request<pb::RunDrillRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let started = Instant::now();
        let refuse = |error: Error| {
            let status = Status::from(error);
            tracing::info!(method = "RunDrill", code = ?status.code(), latency_us = started.elapsed().as_micros() as u64, message = status.message(), "call");
            status
        };
        let (drill, policy) =
            drill_convert::drill_request(&self.catalog, request.get_ref()).map_err(refuse)?;
        let permit = self.in_flight.clone().try_acquire_owned().map_err(|_| {
            refuse(Error::ResourceExhausted(format!(
                "{DRILLS_IN_FLIGHT_MAX} drills are running; retry later"
            )))
        })?;
        let (tx, rx) = mpsc::channel(DRILL_EVENTS_BUFFERED);
        let catalog = self.catalog.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            // A reader that went away closes the channel: stop before the next category
            // instead of keeping a core busy for nobody.
            let progress_tx = tx.clone();
            let report = drill::run_report(
                &catalog,
                &drill,
                policy,
                &mut |progress| {
                    let event = pb::run_drill_event::Event::Progress(
                        drill_convert::progress_to_pb(&catalog, &progress),
                    );
                    let _ = progress_tx.blocking_send(Ok(pb::RunDrillEvent { event: Some(event) }));
                },
                &|| tx.is_closed(),
            );
            let Some(report) = report else {
                tracing::info!(
                    method = "RunDrill",
                    code = "CANCELLED",
                    latency_us = started.elapsed().as_micros() as u64,
                    "call"
                );
                return;
            };
            let event =
                pb::run_drill_event::Event::Report(drill_convert::drill_report_to_pb(&report));
            let _ = tx.blocking_send(Ok(pb::RunDrillEvent { event: Some(event) }));
            tracing::info!(
                method = "RunDrill",
                code = "OK",
                latency_us = started.elapsed().as_micros() as u64,
                drill = %report.drill_id,
                categories = report.totals.categories,
                "call"
            );
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
