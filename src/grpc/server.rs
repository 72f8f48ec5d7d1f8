//! The server: equipmatch's services (catalog, match, holds) plus the standard health service (SERVING once the
//! catalog is loaded) and server reflection (v1 and v1alpha), on a TCP listener (TLS when
//! configured), every call through the auth layer, until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use super::auth::{AuthLayer, Security};
use super::catalog_service::CatalogApi;
use super::drill_service::{DrillApi, DRILL_REQUEST_BYTES_MAX};
use super::hold_service::HoldApi;
use super::match_service::MatchApi;
use super::pb;
use super::pb::catalog_service_server::CatalogServiceServer;
use super::pb::drill_service_server::DrillServiceServer;
use super::pb::hold_service_server::HoldServiceServer;
use super::pb::match_service_server::MatchServiceServer;
use crate::catalog::Catalog;
use crate::holds::HoldStore;

/// Limits of the transport.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// The largest request message accepted (bytes); requests are small.
    pub request_bytes_max: usize,
    /// The largest response message sent (bytes): a Match of 50 options for 200 requirements.
    pub response_bytes_max: usize,
    /// Calls in flight per connection; past about 64 only the tail latency grows
    /// (performance-facts), so the excess waits instead of piling up work.
    pub concurrency_per_connection: usize,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            request_bytes_max: 256 * 1024,
            response_bytes_max: 32 * 1024 * 1024,
            concurrency_per_connection: 64,
        }
    }
}

/// Serves until `shutdown` completes, then drains calls in flight.
pub async fn serve(
    catalog: Arc<Catalog>,
    holds: Arc<dyn HoldStore>,
    listener: TcpListener,
    options: ServerOptions,
    security: Security,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let match_service =
        MatchServiceServer::new(MatchApi { catalog: catalog.clone(), holds: holds.clone() })
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
    let drill_service = DrillServiceServer::new(DrillApi::new(catalog.clone()))
        .max_decoding_message_size(DRILL_REQUEST_BYTES_MAX)
        .max_encoding_message_size(options.response_bytes_max);

    // The catalog is loaded and immutable before the server starts: serving from the first call.
    health_reporter.set_serving::<MatchServiceServer<MatchApi>>().await;
    health_reporter.set_serving::<CatalogServiceServer<CatalogApi>>().await;
    health_reporter.set_serving::<HoldServiceServer<HoldApi>>().await;
    health_reporter.set_serving::<DrillServiceServer<DrillApi>>().await;
    health_reporter.set_service_status("", ServingStatus::Serving).await;

    let addr = listener.local_addr()?;
    let counts = catalog.counts();
    tracing::info!(
        %addr,
        catalog_version = %catalog.version,
        scenarios = counts.scenarios,
        categories = counts.categories,
        suppliers = counts.suppliers,
        stock_lines = counts.stock_lines,
        tls = security.tls.is_some(),
        mutual_tls = security.tls.as_ref().is_some_and(|tls| tls.client_ca.is_some()),
        auth = security.verifier.is_some(),
        "serving"
    );
    let mut builder = Server::builder();
    if let Some(tls) = &security.tls {
        builder = builder.tls_config(tls.server_config())?;
    }
    builder
        .concurrency_limit_per_connection(options.concurrency_per_connection)
        // One authorisation for every service on this router: added before any of them.
        .layer(AuthLayer::new(security.verifier.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(match_service)
        .add_service(catalog_service)
        .add_service(hold_service)
        .add_service(drill_service)
        // TCP_NODELAY: without it a small response waits for the peer's delayed ACK (~40 ms
        // per call on Linux); with it one call costs what the work costs.
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await?;
    // Commands whose callers left at their deadline still finish before the process ends.
    holds.flush().await;
    tracing::info!("stopped");
    Ok(())
}

/// A server running in the background (tests, benchmarks): its address and a way to stop it.
pub struct ServerHandle {
    pub local_addr: SocketAddr,
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
        ServerHandle::start_with(catalog, holds, addr, options, Security::default()).await
    }

    /// `start` with TLS and/or token verification.
    pub async fn start_with(
        catalog: Arc<Catalog>,
        holds: Arc<dyn HoldStore>,
        addr: SocketAddr,
        options: ServerOptions,
        security: Security,
    ) -> std::io::Result<ServerHandle> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let join = tokio::spawn(serve(catalog, holds, listener, options, security, async {
            let _ = rx.await;
        }));
        Ok(ServerHandle { local_addr, shutdown: Some(tx), join })
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
