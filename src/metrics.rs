//! Metrics for operators, in Prometheus text exposition (the `prometheus` crate encodes it),
//! served over HTTP at `/metrics` by `serve --metrics ADDR`.
//!
//! One `Registry` per server, so tests and several servers in one process never mix their
//! counts; the engine's counters are read from the pool at scrape time (`EngineCollector`), not
//! copied. The hold store's commit latency and batch size are process-wide (one store per
//! process; several in a test binary simply add up) because the store is opened before, and
//! independently of, a server.
//!
//! What it exposes (every name prefixed `equipmatch_` but the standard `process_*`):
//!
//! - `grpc_calls_total{service,method,code}`, `grpc_call_duration_seconds{service,method}`;
//! - `engine_admitted_total{work}`, `engine_rejected_total{work,reason}` (queue_full,
//!   deadline), `engine_dropped_total{work,reason}` (deadline_passed, deadline_unreachable,
//!   caller_gone, shutting_down: queued work never run), `engine_completed_total{work}`,
//!   `engine_panics_total{work}`, `engine_queue_wait_seconds_total{work}`,
//!   `engine_run_seconds_total{work}`, `engine_service_time_estimate_seconds{work}`;
//! - `engine_queue_depth{lane}`, `engine_running{lane}`, `engine_threads{lane}`,
//!   `engine_capacity{lane}`, `engine_busy_seconds_total{lane}`;
//! - `hold_commit_duration_seconds`, `hold_commit_batch_commands`;
//! - `engine_searches_cut_total{method}` (Match, Shortlist): searches stopped at their work
//!   bound, whose answers say `search_cut`;
//! - `catalog_info{version}` (1), `catalog_items{kind}`;
//! - `process_resident_memory_bytes`, `process_cpu_seconds_total`, … (Linux).
//!
//! **Invariant:** no tonic here; label values come from fixed sets (the gRPC layer maps
//! unknown paths to `unknown`), so the number of series is bounded.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use tokio::net::TcpListener;

use crate::catalog::Catalog;
use crate::exec::{Dropped, Engine, Lane, Work};

/// Scrapes served at once; more wait for the accept loop (a scrape is cheap, a scraper
/// rarely runs more than one).
pub const METRICS_CONNECTIONS_MAX: usize = 16;
/// The longest a scrape connection may stay open.
pub const METRICS_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// The content type of the text exposition format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Latency buckets (seconds): 0.25 ms … ~16 s, doubling.
fn latency_buckets() -> Vec<f64> {
    prometheus::exponential_buckets(0.000_25, 2.0, 17).unwrap_or_default()
}

static HOLD_COMMIT_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    Histogram::with_opts(
        HistogramOpts::new(
            "equipmatch_hold_commit_duration_seconds",
            "Time of one hold-store transaction, begin to durable commit",
        )
        .buckets(latency_buckets()),
    )
    .expect("valid histogram options")
});

static HOLD_COMMIT_BATCH: LazyLock<Histogram> = LazyLock::new(|| {
    Histogram::with_opts(
        HistogramOpts::new(
            "equipmatch_hold_commit_batch_commands",
            "Commands committed together in one hold-store transaction",
        )
        .buckets(prometheus::exponential_buckets(1.0, 2.0, 10).unwrap_or_default()),
    )
    .expect("valid histogram options")
});

static SEARCHES_CUT: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "equipmatch_engine_searches_cut_total",
            "Engine searches (Match requirements, Shortlists) stopped at their work bound \
             (matching::LINES_EXAMINED_MAX) before proving their answer",
        ),
        &["method"],
    )
    .expect("valid counter options")
});

/// Counts `cut` searches of one call (nothing when 0) and logs them: each such answer says so
/// itself (`search_cut`), the counter makes it visible without reading responses. Process-wide
/// like the hold-store histograms: the engine runs below any one server.
pub fn searches_cut(method: &'static str, cut: usize) {
    if cut == 0 {
        return;
    }
    let counter = SEARCHES_CUT.with_label_values(&[method]);
    counter.inc_by(cut as u64);
    tracing::warn!(
        method,
        cut,
        searches_cut_total = counter.get(),
        "search stopped at its work bound"
    );
}

/// Searches cut at their work bound since the process started, for one method.
pub fn searches_cut_total(method: &'static str) -> u64 {
    SEARCHES_CUT.with_label_values(&[method]).get()
}

/// Records one committed hold-store transaction (called by the stores after each commit).
pub fn hold_commit(elapsed: Duration, commands: usize) {
    HOLD_COMMIT_SECONDS.observe(elapsed.as_secs_f64());
    HOLD_COMMIT_BATCH.observe(commands as f64);
}

/// One server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    calls: IntCounterVec,
    call_seconds: HistogramVec,
}

impl Metrics {
    pub fn new(catalog: &Catalog, engine: Arc<Engine>) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let calls = IntCounterVec::new(
            Opts::new("equipmatch_grpc_calls_total", "gRPC calls by service, method and code"),
            &["service", "method", "code"],
        )?;
        let call_seconds = HistogramVec::new(
            HistogramOpts::new(
                "equipmatch_grpc_call_duration_seconds",
                "gRPC call latency at the server, arrival to the final status",
            )
            .buckets(latency_buckets()),
            &["service", "method"],
        )?;
        registry.register(Box::new(calls.clone()))?;
        registry.register(Box::new(call_seconds.clone()))?;
        registry.register(Box::new(EngineCollector::new(engine)?))?;
        registry.register(Box::new(HOLD_COMMIT_SECONDS.clone()))?;
        registry.register(Box::new(HOLD_COMMIT_BATCH.clone()))?;
        registry.register(Box::new(SEARCHES_CUT.clone()))?;

        let info = IntGaugeVec::new(
            Opts::new("equipmatch_catalog_info", "The served catalog's version (value 1)"),
            &["version"],
        )?;
        info.with_label_values(&[catalog.version.as_str()]).set(1);
        registry.register(Box::new(info))?;
        let items = IntGaugeVec::new(
            Opts::new("equipmatch_catalog_items", "Entries of the served catalog by kind"),
            &["kind"],
        )?;
        let counts = catalog.counts();
        for (kind, n) in [
            ("scenarios", counts.scenarios),
            ("categories", counts.categories),
            ("places", counts.places),
            ("suppliers", counts.suppliers),
            ("stock_lines", counts.stock_lines),
        ] {
            items.with_label_values(&[kind]).set(n as i64);
        }
        registry.register(Box::new(items))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(Metrics { registry, calls, call_seconds })
    }

    /// Counts one finished gRPC call (the gRPC layer calls this).
    pub fn record_call(&self, service: &str, method: &str, code: &str, elapsed: Duration) {
        self.calls.with_label_values(&[service, method, code]).inc();
        self.call_seconds.with_label_values(&[service, method]).observe(elapsed.as_secs_f64());
    }

    /// The text exposition of everything registered.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(%error, "encoding metrics failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The engine pool's counters and gauges, read from the pool at each scrape.
struct EngineCollector {
    engine: Arc<Engine>,
    descs: Vec<Desc>,
}

/// The engine's metric families, built fresh from one snapshot.
struct EngineFamilies {
    admitted: IntCounterVec,
    rejected: IntCounterVec,
    dropped: IntCounterVec,
    completed: IntCounterVec,
    panics: IntCounterVec,
    queue_wait: prometheus::CounterVec,
    run: prometheus::CounterVec,
    estimate: prometheus::GaugeVec,
    queue_depth: IntGaugeVec,
    running: IntGaugeVec,
    threads: IntGaugeVec,
    capacity: IntGaugeVec,
    busy: prometheus::CounterVec,
}

impl EngineFamilies {
    fn new() -> Result<EngineFamilies, prometheus::Error> {
        let work = &["work"];
        let lane = &["lane"];
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
        };
        let seconds = |name: &str, help: &str, labels: &[&str]| {
            prometheus::CounterVec::new(Opts::new(name, help), labels)
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels)
        };
        Ok(EngineFamilies {
            admitted: counter("equipmatch_engine_admitted_total", "Engine jobs admitted", work)?,
            rejected: counter(
                "equipmatch_engine_rejected_total",
                "Engine jobs refused at admission (queue_full, or a deadline the queue cannot meet)",
                &["work", "reason"],
            )?,
            dropped: counter(
                "equipmatch_engine_dropped_total",
                "Admitted engine jobs dropped before they started (never run)",
                &["work", "reason"],
            )?,
            completed: counter("equipmatch_engine_completed_total", "Engine jobs run to the end", work)?,
            panics: counter("equipmatch_engine_panics_total", "Engine jobs that panicked (answered INTERNAL)", work)?,
            queue_wait: seconds(
                "equipmatch_engine_queue_wait_seconds_total",
                "Time run jobs spent queued",
                work,
            )?,
            run: seconds("equipmatch_engine_run_seconds_total", "Time spent running jobs", work)?,
            estimate: prometheus::GaugeVec::new(
                Opts::new(
                    "equipmatch_engine_service_time_estimate_seconds",
                    "The running estimate of a job's run time that admission uses",
                ),
                work,
            )?,
            queue_depth: gauge("equipmatch_engine_queue_depth", "Jobs waiting in the lane's queue", lane)?,
            running: gauge("equipmatch_engine_running", "Jobs running in the lane", lane)?,
            threads: gauge("equipmatch_engine_threads", "Threads of the lane", lane)?,
            capacity: gauge(
                "equipmatch_engine_capacity",
                "Jobs the lane holds at most (threads + queue)",
                lane,
            )?,
            busy: seconds(
                "equipmatch_engine_busy_seconds_total",
                "Time the lane's threads spent running jobs (pool busy time)",
                lane,
            )?,
        })
    }

    fn collectors(&self) -> [&dyn Collector; 13] {
        [
            &self.admitted,
            &self.rejected,
            &self.dropped,
            &self.completed,
            &self.panics,
            &self.queue_wait,
            &self.run,
            &self.estimate,
            &self.queue_depth,
            &self.running,
            &self.threads,
            &self.capacity,
            &self.busy,
        ]
    }
}

impl EngineCollector {
    fn new(engine: Arc<Engine>) -> Result<EngineCollector, prometheus::Error> {
        let families = EngineFamilies::new()?;
        let descs =
            families.collectors().iter().flat_map(|c| c.desc().into_iter().cloned()).collect();
        Ok(EngineCollector { engine, descs })
    }
}

impl Collector for EngineCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Ok(families) = EngineFamilies::new() else { return Vec::new() };
        let snapshot = self.engine.snapshot();
        for (w, work) in Work::ALL.into_iter().enumerate() {
            let stats = &snapshot.work[w];
            let name = work.name();
            families.admitted.with_label_values(&[name]).inc_by(stats.admitted);
            families
                .rejected
                .with_label_values(&[name, "queue_full"])
                .inc_by(stats.rejected_queue_full);
            families
                .rejected
                .with_label_values(&[name, "deadline"])
                .inc_by(stats.rejected_deadline);
            for (d, why) in Dropped::ALL.into_iter().enumerate() {
                families.dropped.with_label_values(&[name, why.name()]).inc_by(stats.dropped[d]);
            }
            families.completed.with_label_values(&[name]).inc_by(stats.completed);
            families.panics.with_label_values(&[name]).inc_by(stats.panicked);
            families.queue_wait.with_label_values(&[name]).inc_by(stats.queue_wait.as_secs_f64());
            families.run.with_label_values(&[name]).inc_by(stats.run_time.as_secs_f64());
            families.estimate.with_label_values(&[name]).set(stats.estimate.as_secs_f64());
        }
        for (l, lane) in Lane::ALL.into_iter().enumerate() {
            let stats = &snapshot.lanes[l];
            let name = lane.name();
            families.queue_depth.with_label_values(&[name]).set(stats.queued as i64);
            families.running.with_label_values(&[name]).set(stats.running as i64);
            families.threads.with_label_values(&[name]).set(stats.threads as i64);
            families.capacity.with_label_values(&[name]).set(stats.capacity as i64);
            families.busy.with_label_values(&[name]).inc_by(stats.busy.as_secs_f64());
        }
        families.collectors().iter().flat_map(|c| c.collect()).collect()
    }
}

/// Serves `GET /metrics` (and `HEAD`) over HTTP/1.1 on `listener` until `shutdown` completes;
/// any other path is 404, any other method 405.
pub async fn serve_http(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    use hyper::service::service_fn;
    let slots = Arc::new(tokio::sync::Semaphore::new(METRICS_CONNECTIONS_MAX));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, _) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "metrics listener: accept failed");
                    continue;
                }
            },
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = service_fn(move |request| {
                let metrics = metrics.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(&metrics, &request)) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            match tokio::time::timeout(METRICS_CONNECTION_TIMEOUT, connection).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::debug!(%error, "metrics connection ended with an error"),
                Err(_) => tracing::debug!("metrics connection timed out"),
            }
        });
    }
}

fn respond<B>(metrics: &Metrics, request: &http::Request<B>) -> http::Response<Full<Bytes>> {
    let response = |status: http::StatusCode, content_type: &str, body: String| {
        http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    };
    if request.uri().path() != "/metrics" {
        return response(
            http::StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics\n".into(),
        );
    }
    match *request.method() {
        http::Method::GET => response(http::StatusCode::OK, TEXT_CONTENT_TYPE, metrics.render()),
        http::Method::HEAD => response(http::StatusCode::OK, TEXT_CONTENT_TYPE, String::new()),
        _ => response(http::StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET /metrics\n".into()),
    }
}

/// Binds the metrics listener; warns when it is reachable beyond this machine (the endpoint
/// has no authentication: counts only, but still the operator's to expose).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "metrics are served without authentication beyond loopback");
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_cut_counts_cut_searches_only() {
        let before = searches_cut_total("Shortlist");
        searches_cut("Shortlist", 0);
        searches_cut("Shortlist", 2);
        // Other tests in this binary may count too: at least ours.
        assert!(searches_cut_total("Shortlist") >= before + 2);
    }
}
