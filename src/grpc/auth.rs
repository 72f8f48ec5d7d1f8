//! The gate every call passes: a tower layer around the whole router of the service stack (so
//! every service added to it, today's and tomorrow's, and every listener that serves it — the
//! gRPC port and the console's gRPC-Web — goes through it), and the TLS settings of the
//! listeners. With a verifier, a call to anything but health and reflection needs a verified
//! bearer token whose scopes allow the method (`auth::METHODS`); the layer puts the
//! `auth::Principal` on the request for the handlers, and strips `x-equipmatch-caller` so no
//! handler can mistake a caller's claim for an identity.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::codegen::http;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic::Status;
use tower_layer::Layer;
use tower_service::Service;

use crate::auth::{self, Principal, Verifier};
use crate::error::Error;

/// How long a TLS handshake may take before the connection is dropped: a client that opens
/// a socket and says nothing holds no resources past it.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's certificate chain and key (PEM), and the CA that client certificates must
/// chain to when mutual TLS is on.
#[derive(Clone)]
pub struct TlsPem {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
    pub client_ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsPem").field("mutual", &self.client_ca.is_some()).finish_non_exhaustive()
    }
}

impl TlsPem {
    pub(super) fn server_config(&self) -> ServerTlsConfig {
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert, &self.key))
            .timeout(TLS_HANDSHAKE_TIMEOUT);
        if let Some(ca) = &self.client_ca {
            // Without client_auth_optional, a client without a certificate is refused.
            config = config.client_ca_root(Certificate::from_pem(ca));
        }
        config
    }
}

/// How the server proves itself and checks its callers.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// TLS on the listener; plaintext HTTP/2 when `None`.
    pub tls: Option<TlsPem>,
    /// Bearer-token verification; every caller is trusted (and names itself) when `None`.
    pub verifier: Option<Arc<Verifier>>,
}

/// The layer `server.rs` puts around the router.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: Option<Arc<Verifier>>,
}

impl AuthLayer {
    pub fn new(verifier: Option<Arc<Verifier>>) -> AuthLayer {
        AuthLayer { verifier }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService { inner, verifier: self.verifier.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: Option<Arc<Verifier>>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// The principal for a call to `path`, or the error that refuses it.
fn admit(verifier: &Verifier, path: &str, headers: &http::HeaderMap) -> Result<Principal, Error> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let header = values.next();
    if values.next().is_some() {
        return Err(Error::Unauthenticated {
            reason: "TOKEN_MALFORMED",
            description: "more than one authorization header".into(),
        });
    }
    let token = auth::bearer_token(header.map(|value| value.as_bytes()))?;
    let identity = verifier.verify(token)?;
    identity.may_call(path)?;
    Ok(Principal::Verified(identity))
}

impl<S, B, ResBody> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The inner service was made ready for this call; a clone takes its place for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let principal = match &self.verifier {
            None => Ok(Principal::Unverified),
            Some(_) if auth::access(request.uri().path()) == auth::Access::Open => {
                Ok(Principal::Unverified)
            }
            Some(verifier) => {
                request.headers_mut().remove(super::convert::CALLER_METADATA_KEY);
                admit(verifier, request.uri().path(), request.headers())
            }
        };
        match principal {
            Ok(principal) => {
                // The call's log lines carry the verified subject (the span's field).
                let span = match &principal {
                    Principal::Verified(identity) => {
                        tracing::info_span!("caller", sub = %identity.sub)
                    }
                    Principal::Unverified => tracing::Span::none(),
                };
                request.extensions_mut().insert(principal);
                Box::pin(tracing::Instrument::instrument(inner.call(request), span))
            }
            Err(error) => {
                let path = request.uri().path().to_owned();
                let (reason, sub) = match &error {
                    Error::Unauthenticated { reason, .. } => (*reason, None),
                    Error::PermissionDenied { reason, .. } => {
                        (*reason, token_sub(&self.verifier, request.headers()))
                    }
                    _ => ("", None),
                };
                let status = Status::from(error);
                tracing::info!(method = %path, code = ?status.code(), reason, sub, message = status.message(), "call refused");
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

/// The verified subject of a refused call, for the log line (cached: no second verification).
fn token_sub(verifier: &Option<Arc<Verifier>>, headers: &http::HeaderMap) -> Option<String> {
    let verifier = verifier.as_ref()?;
    let header = headers.get(http::header::AUTHORIZATION)?;
    let token = auth::bearer_token(Some(header.as_bytes())).ok()?;
    verifier.verify(token).ok().map(|identity| identity.sub.clone())
}
