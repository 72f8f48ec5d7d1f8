//! The server: equipmatch's services (catalog, match, holds, drills, alerts, EDXL-RM) plus the standard health
//! service (SERVING once the catalog is loaded) and server reflection (v1 and v1alpha), built
//! once as one service stack and served on a gRPC listener and, optionally, on the console's
//! listener (gRPC-Web, `web.rs`), until a shutdown signal. Engine work runs on the `exec` pool;
//! `--metrics` serves `/metrics`. The stack carries the auth layer (`auth.rs`), so every
//! listener serves the same authorisation; both listeners speak TLS when configured.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use super::alert_service::{AlertApi, EdxlApi, ALERT_REQUEST_BYTES_MAX};
use super::auth::{AuthLayer, Security};
use super::call_layer::CallLayer;
use super::catalog_service::CatalogApi;
use super::drill_service::{DrillApi, DRILL_REQUEST_BYTES_MAX};
use super::hold_service::HoldApi;
use super::match_service::MatchApi;
use super::pb;
use super::pb::alert_service_server::AlertServiceServer;
use super::pb::catalog_service_server::CatalogServiceServer;
use super::pb::drill_service_server::DrillServiceServer;
use super::pb::edxl_service_server::EdxlServiceServer;
use super::pb::hold_service_server::HoldServiceServer;
use super::pb::match_service_server::MatchServiceServer;
use crate::catalog::Catalog;
use crate::exec::{Engine, EngineConfig};
use crate::holds::HoldStore;
use crate::metrics::Metrics;

/// Limits of the transport, and what the server does with alerts.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The largest request message accepted (bytes); requests are small.
    pub request_bytes_max: usize,
    /// The largest response message sent (bytes): a Match of 50 options for 200 requirements.
    pub response_bytes_max: usize,
    /// Calls in flight per connection; past about 64 only the tail latency grows
    /// (performance-facts), so the excess waits instead of piling up work.
    pub concurrency_per_connection: usize,
    /// Pre-position stock for live alerts at or above this level (`serve --preposition`).
    pub preposition: Option<crate::domain::Severity>,
    /// A folder of CAP alerts read at start and watched (`serve --cap-dir`).
    pub cap_dir: Option<std::path::PathBuf>,
    /// The engine pool: threads, queue, priorities.
    pub engine: EngineConfig,
    /// Where to serve `/metrics` (off when None).
    pub metrics_addr: Option<SocketAddr>,
    /// TLS on the listeners and bearer-token verification (`serve --tls-cert`, `--jwks`).
    pub security: Security,
    /// Serve gRPC server reflection (the contract's schema, no data; open like health, even
    /// with auth on). `serve --no-reflection` turns it off for those who keep the schema private.
    pub reflection: bool,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            request_bytes_max: 256 * 1024,
            response_bytes_max: 32 * 1024 * 1024,
            concurrency_per_connection: 64,
            preposition: None,
            cap_dir: None,
            engine: EngineConfig::default(),
            metrics_addr: None,
            security: Security::default(),
            reflection: true,
        }
    }
}

/// Serves until `shutdown` completes, then drains calls in flight.
pub async fn serve(
    catalog: Arc<Catalog>,
    holds: Arc<dyn HoldStore>,
    listener: TcpListener,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    serve_with_console(catalog, holds, listener, None, options, shutdown).await
}

/// The service stack every listener serves: equipmatch's services, health and (unless turned
/// off) reflection.
/// Both the gRPC listener and the console's gRPC-Web listener serve exactly this, so a tower
/// layer that decides who may call what, or how much may run at once, belongs here and
/// nowhere else: no listener can then bypass it.
async fn service_stack(
    catalog: &Arc<Catalog>,
    holds: &Arc<dyn HoldStore>,
    alerts: Arc<crate::interop::active::ActiveAlerts>,
    engine: &Arc<Engine>,
    options: &ServerOptions,
) -> Result<Routes, Box<dyn std::error::Error + Send + Sync>> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let match_api =
        MatchApi { catalog: catalog.clone(), holds: holds.clone(), engine: engine.clone() };
    let match_service = MatchServiceServer::new(match_api)
        .max_decoding_message_size(options.request_bytes_max)
        .max_encoding_message_size(options.response_bytes_max);
    let catalog_service = CatalogServiceServer::new(CatalogApi { catalog: catalog.clone() })
        .max_decoding_message_size(options.request_bytes_max)
        .max_encoding_message_size(options.response_bytes_max);
    let hold_service =
        HoldServiceServer::new(HoldApi { catalog: catalog.clone(), store: holds.clone() })
            .max_decoding_message_size(options.request_bytes_max)
            .max_encoding_message_size(options.response_bytes_max);

    // A drill request carries a whole drill file: its own, larger request limit.
    let drill_service = DrillServiceServer::new(DrillApi::new(catalog.clone(), engine.clone()))
        .max_decoding_message_size(DRILL_REQUEST_BYTES_MAX)
        .max_encoding_message_size(options.response_bytes_max);

    // A CAP document or an EDXL-RM request: the XML bound, not the small-request one.
    let alert_service = AlertServiceServer::new(AlertApi { catalog: catalog.clone(), alerts })
        .max_decoding_message_size(ALERT_REQUEST_BYTES_MAX)
        .max_encoding_message_size(options.response_bytes_max);
    let edxl_api = EdxlApi {
        catalog: catalog.clone(),
        holds: holds.clone(),
        clock: crate::holds::system_clock(),
    };
    let edxl_service = EdxlServiceServer::new(edxl_api)
        .max_decoding_message_size(ALERT_REQUEST_BYTES_MAX)
        .max_encoding_message_size(options.response_bytes_max);

    // The catalog is loaded and immutable before the server starts: serving from the first call.
    health_reporter.set_serving::<MatchServiceServer<MatchApi>>().await;
    health_reporter.set_serving::<CatalogServiceServer<CatalogApi>>().await;
    health_reporter.set_serving::<HoldServiceServer<HoldApi>>().await;
    health_reporter.set_serving::<DrillServiceServer<DrillApi>>().await;
    health_reporter.set_serving::<AlertServiceServer<AlertApi>>().await;
    health_reporter.set_serving::<EdxlServiceServer<EdxlApi>>().await;
    health_reporter.set_service_status("", ServingStatus::Serving).await;

    let mut routes = RoutesBuilder::default();
    if options.reflection {
        routes.add_service(reflection_v1).add_service(reflection_v1alpha);
    }
    routes
        .add_service(health_service)
        .add_service(match_service)
        .add_service(catalog_service)
        .add_service(hold_service)
        .add_service(drill_service)
        .add_service(alert_service)
        .add_service(edxl_service);
    // One authorisation around the whole router (every route and the fallback), so every
    // service above and every listener that serves this stack goes through it.
    let guarded =
        routes.routes().into_axum_router().layer(AuthLayer::new(options.security.verifier.clone()));
    Ok(Routes::from(guarded))
}

/// Serves gRPC on `listener` and, when given, the console (its pages and gRPC-Web for the same
/// service stack) on `console`, until `shutdown` completes; then drains both.
pub async fn serve_with_console(
    catalog: Arc<Catalog>,
    holds: Arc<dyn HoldStore>,
    listener: TcpListener,
    console: Option<TcpListener>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let metrics_listener = match options.metrics_addr {
        Some(addr) => Some(crate::metrics::bind(addr).await?),
        None => None,
    };
    serve_all(catalog, holds, listener, console, metrics_listener, options, shutdown).await
}

/// `serve_with_console` with the metrics listener already bound (tests bind port 0 first).
async fn serve_all(
    catalog: Arc<Catalog>,
    holds: Arc<dyn HoldStore>,
    listener: TcpListener,
    console: Option<TcpListener>,
    metrics_listener: Option<TcpListener>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let engine = Arc::new(Engine::start(options.engine)?);
    let metrics = Arc::new(Metrics::new(&catalog, engine.clone())?);
    let (metrics_stop, metrics_stopped) = oneshot::channel::<()>();
    if let Some(listener) = metrics_listener {
        tracing::info!(addr = %listener.local_addr()?, "metrics at /metrics");
        let stopped = async {
            let _ = metrics_stopped.await;
        };
        tokio::spawn(crate::metrics::serve_http(listener, metrics.clone(), stopped));
    }
    let (alerts, alert_watcher) =
        super::alert_service::start_alerts(&catalog, &holds, &options).await;
    let stack = service_stack(&catalog, &holds, alerts, &engine, &options).await?;

    let addr = listener.local_addr()?;
    let console_addr = console.as_ref().map(TcpListener::local_addr).transpose()?;
    let counts = catalog.counts();
    tracing::info!(
        %addr,
        console = console_addr.map_or_else(|| "off".to_owned(), |a| a.to_string()),
        catalog_version = %catalog.version,
        scenarios = counts.scenarios,
        categories = counts.categories,
        suppliers = counts.suppliers,
        stock_lines = counts.stock_lines,
        engine_threads = options.engine.dispatch_threads(),
        engine_queue = options.engine.queue_max,
        tls = options.security.tls.is_some(),
        mutual_tls = options.security.tls.as_ref().is_some_and(|tls| tls.client_ca.is_some()),
        auth = options.security.verifier.is_some(),
        "serving"
    );
    // One shutdown signal, heard by both listeners.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    // Calls are counted by service, method and code on both listeners: here around the
    // routes, on the console around the routes inside the gRPC-Web translation.
    let call_layer = CallLayer::new(metrics);
    let mut builder = Server::builder();
    if let Some(tls) = &options.security.tls {
        builder = builder.tls_config(tls.server_config())?;
    }
    let grpc = builder
        .concurrency_limit_per_connection(options.concurrency_per_connection)
        .layer(call_layer.clone())
        .add_routes(stack.clone())
        // TCP_NODELAY: without it a small response waits for the peer's delayed ACK (~40 ms
        // per call on Linux); with it one call costs what the work costs.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            stopped(stop_rx.clone()),
        );
    match console {
        Some(console) => {
            let web = super::web::serve_console(
                stack,
                call_layer,
                console,
                options.clone(),
                stopped(stop_rx),
            );
            let (grpc, web) = tokio::join!(grpc, web);
            grpc?;
            web?;
        }
        None => grpc.await?,
    }
    if let Some(watcher) = alert_watcher {
        watcher.abort();
    }
    engine.shutdown();
    let _ = metrics_stop.send(());
    // Commands whose callers left at their deadline still finish before the process ends.
    holds.flush().await;
    tracing::info!("stopped");
    Ok(())
}

/// A server running in the background (tests, benchmarks): its address and a way to stop it.
pub struct ServerHandle {
    pub local_addr: SocketAddr,
    /// The console's address, when it was started.
    pub console_addr: Option<SocketAddr>,
    /// Where `/metrics` is served, when `ServerOptions::metrics_addr` asked for it.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    join: JoinHandle<Result<(), Box<dyn std::error::Error + Send + Sync>>>,
}

impl ServerHandle {
    /// Binds `addr` (port 0 picks a free port) and serves in a background task.
    pub async fn start(
        catalog: Arc<Catalog>,
        holds: Arc<dyn HoldStore>,
        addr: SocketAddr,
        options: ServerOptions,
    ) -> std::io::Result<ServerHandle> {
        ServerHandle::start_with_console(catalog, holds, addr, None, options).await
    }

    /// Like `start`, plus the console on `console` when given.
    pub async fn start_with_console(
        catalog: Arc<Catalog>,
        holds: Arc<dyn HoldStore>,
        addr: SocketAddr,
        console: Option<SocketAddr>,
        options: ServerOptions,
    ) -> std::io::Result<ServerHandle> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let console = match console {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let console_addr = console.as_ref().map(TcpListener::local_addr).transpose()?;
        let metrics = match options.metrics_addr {
            Some(addr) => Some(crate::metrics::bind(addr).await?),
            None => None,
        };
        let metrics_addr = metrics.as_ref().map(TcpListener::local_addr).transpose()?;
        let (tx, rx) = oneshot::channel::<()>();
        let stopped = async {
            let _ = rx.await;
        };
        let join =
            tokio::spawn(serve_all(catalog, holds, listener, console, metrics, options, stopped));
        Ok(ServerHandle { local_addr, console_addr, metrics_addr, shutdown: Some(tx), join })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops accepting, drains, and waits for the server task.
    pub async fn stop(mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.join).await?
    }
}
