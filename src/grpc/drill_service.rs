//! DrillService: RunDrill streams progress and then the report. The handler validates and
//! admits the drill to the engine's drill lane (its own threads at the lowest priority, so a
//! drill never holds back Match; full → RESOURCE_EXHAUSTED with a retry delay at once); the
//! drill reports through a bounded channel, and the stream always ends with the report or a
//! status — a limit the drill runs into, a defect (INTERNAL), or a shutdown.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::pb::drill_service_server::DrillService;
use super::{admission, convert, drill_convert, pb};
use crate::catalog::Catalog;
use crate::drill;
use crate::error::Error;
use crate::exec::{self, Dropped, Engine, Ran, Refused, Started, Task, Work};
use crate::holds::Caller;

/// Events buffered per stream: a slow reader delays the drill's progress, not memory.
pub const DRILL_EVENTS_BUFFERED: usize = 16;
/// The largest RunDrill request (bytes): a drill file of `DRILL_FILE_BYTES_MAX` plus framing.
pub const DRILL_REQUEST_BYTES_MAX: usize = drill::format::DRILL_FILE_BYTES_MAX + 64 * 1024;

#[derive(Debug, Clone)]
pub struct DrillApi {
    pub catalog: Arc<Catalog>,
    pub engine: Arc<Engine>,
}

impl DrillApi {
    pub fn new(catalog: Arc<Catalog>, engine: Arc<Engine>) -> DrillApi {
        DrillApi { catalog, engine }
    }
}

type Event = Result<pb::RunDrillEvent, Status>;
type EventStream = ReceiverStream<Event>;

#[tonic::async_trait]
impl DrillService for DrillApi {
    type RunDrillStream = EventStream;

    async fn run_drill(
        &self,
        request: Request<pb::RunDrillRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let call = admission::Call::start("RunDrill", &request);
        let (drill, policy) = match drill_convert::drill_request(&self.catalog, request.get_ref()) {
            Ok(parsed) => parsed,
            Err(error) => return call.finish(Err(error)),
        };
        let (tx, rx) = mpsc::channel(DRILL_EVENTS_BUFFERED);
        let job = DrillJob {
            catalog: self.catalog.clone(),
            drill,
            policy,
            tx,
            started: Instant::now(),
            caller: convert::caller(&request),
        };
        match self.engine.submit(Work::Drill, call.deadline(), Box::new(job)) {
            Ok(()) => Ok(Response::new(ReceiverStream::new(rx))),
            Err(refused) => call.finish(Err(Error::from(refused))),
        }
    }
}

/// A drill as the pool runs it: progress and the end of the stream go through `tx`.
struct DrillJob {
    catalog: Arc<Catalog>,
    drill: drill::Drill,
    policy: drill::Policy,
    tx: mpsc::Sender<Event>,
    started: Instant,
    caller: Caller,
}

impl DrillJob {
    /// Runs the drill and ends the stream; returns the code for the log line.
    fn execute(&self) -> &'static str {
        let catalog = &self.catalog;
        let progress_tx = self.tx.clone();
        // A reader that went away closes the channel: stop before the next category instead of
        // keeping a core busy for nobody.
        let report = drill::run_report(
            catalog,
            &self.drill,
            self.policy,
            &mut |progress| {
                let event = pb::run_drill_event::Event::Progress(drill_convert::progress_to_pb(
                    catalog, &progress,
                ));
                let _ = progress_tx.blocking_send(Ok(pb::RunDrillEvent { event: Some(event) }));
            },
            &|| self.tx.is_closed(),
        );
        match report {
            None => "CANCELLED",
            Some(Err(error)) => {
                let _ = self.tx.blocking_send(Err(Status::from(error)));
                "RESOURCE_EXHAUSTED"
            }
            Some(Ok(report)) => {
                let event =
                    pb::run_drill_event::Event::Report(drill_convert::drill_report_to_pb(&report));
                let _ = self.tx.blocking_send(Ok(pb::RunDrillEvent { event: Some(event) }));
                "OK"
            }
        }
    }

    fn log(&self, code: &str, queue_wait: Option<Duration>, run_time: Option<Duration>) {
        tracing::info!(
            method = "RunDrill",
            caller = self.caller.as_str(),
            code,
            latency_us = self.started.elapsed().as_micros() as u64,
            queue_wait_us = queue_wait.map(|d| d.as_micros() as u64),
            run_us = run_time.map(|d| d.as_micros() as u64),
            drill = %self.drill.id,
            "call"
        );
    }
}

impl Task for DrillJob {
    fn abandoned(&self) -> bool {
        self.tx.is_closed()
    }

    fn run(self: Box<Self>, started: &Started<'_>) {
        let queue_wait = Some(started.queue_wait());
        match catch_unwind(AssertUnwindSafe(|| self.execute())) {
            Ok(code) => {
                let run_time = started.end(Ran::Completed);
                self.log(code, queue_wait, Some(run_time));
            }
            Err(payload) => {
                let message = exec::panic_message(&*payload);
                tracing::error!(method = "RunDrill", drill = %self.drill.id, panic = %message, "engine work panicked");
                let run_time = started.end(Ran::Panicked);
                let error = Error::from(Refused::Panicked { work: Work::Drill, message });
                let _ = self.tx.blocking_send(Err(Status::from(error)));
                self.log("INTERNAL", queue_wait, Some(run_time));
            }
        }
    }

    fn dropped(self: Box<Self>, why: Dropped) {
        let error = Error::from(Refused::Dropped { work: Work::Drill, why });
        let _ = self.tx.try_send(Err(Status::from(error)));
        self.log(why.name(), None, None);
    }
}
