//! The console's listener: its pages (`crate::console`, which knows no tonic) and gRPC-Web
//! (tonic-web) for the very service stack the gRPC listener serves — the same services
//! behind the same tower layers, so the browser gets no rule the gRPC clients do not. One
//! origin (no CORS); HTTP/1.1, which browsers' fetch speaks to a plain-text server, and HTTP/2.

use std::future::Future;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_web::GrpcWebLayer;

use super::call_layer::CallLayer;
use super::server::ServerOptions;

/// Serves the console on `listener` until `shutdown` completes.
pub(super) async fn serve_console(
    stack: Routes,
    call_layer: CallLayer,
    listener: TcpListener,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Every path the console's router does not claim goes to the service stack, through
    // the gRPC-Web translation (which answers 400 to an HTTP/1.1 request that is not gRPC-Web)
    // and then the call layer, which sees plain gRPC: the console's calls are counted (and a
    // handler's panic answered) as the gRPC listener's are.
    let grpc_web = axum::Router::new()
        .fallback_service(tower_layer::Layer::layer(&call_layer, stack))
        .layer(GrpcWebLayer::new());
    let app = crate::console::router().merge(grpc_web);
    // TLS when the server has it: a browser's token must not cross the network in clear.
    let mut builder = Server::builder();
    if let Some(tls) = &options.security.tls {
        builder = builder.tls_config(tls.server_config())?;
    }
    builder
        .accept_http1(true)
        .concurrency_limit_per_connection(options.concurrency_per_connection)
        .serve_with_incoming_shutdown(
            app,
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await?;
    Ok(())
}
