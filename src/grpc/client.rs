//! Client-side helpers for the CLI's remote subcommands: connecting (TLS, bearer token), and
//! printing any message as proto3 JSON with the proto field names (via the embedded descriptor set).

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use tonic::transport::Channel;

use super::pb;

pub use super::pb::alert_service_client::AlertServiceClient;
pub use super::pb::catalog_service_client::CatalogServiceClient;
pub use super::pb::drill_service_client::DrillServiceClient;
pub use super::pb::edxl_service_client::EdxlServiceClient;
pub use super::pb::hold_service_client::HoldServiceClient;
pub use super::pb::match_service_client::MatchServiceClient;

/// What a client proves itself with: a bearer token, the CA to trust for `https://`, and a
/// client certificate for mutual TLS.
#[derive(Clone, Default)]
pub struct Credentials {
    /// A compact JWS, sent as `authorization: Bearer …` on every call.
    pub token: Option<String>,
    /// The CA certificate (PEM) the server's certificate must chain to; the system's roots
    /// when `None`.
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate and key (PEM).
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &self.token.as_ref().map(|_| "(redacted)"))
            .field("ca", &self.ca_pem.is_some())
            .field("client_identity", &self.client_identity.is_some())
            .finish()
    }
}

/// Puts the bearer token on every call.
#[derive(Clone)]
pub struct Bearer(Option<tonic::metadata::AsciiMetadataValue>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel that sends the credentials' token with every call.
pub type AuthChannel = tonic::service::interceptor::InterceptedService<Channel, Bearer>;

/// Opens a channel to `url` with credentials: TLS for `https://` (trusting `ca_pem`, or the
/// system's roots), and the bearer token on every call. A token is only sent in the clear
/// to a loopback address.
pub async fn connect_with(
    url: &str,
    credentials: &Credentials,
) -> Result<AuthChannel, Box<dyn std::error::Error + Send + Sync>> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
    let mut endpoint = Endpoint::from_shared(url.to_owned())?
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30));
    let uri = endpoint.uri().clone();
    if uri.scheme_str() == Some("https") {
        let mut tls = ClientTlsConfig::new();
        tls = match &credentials.ca_pem {
            Some(ca) => tls.ca_certificate(Certificate::from_pem(ca)),
            None => tls.with_native_roots(),
        };
        if let Some((cert, key)) = &credentials.client_identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        endpoint = endpoint.tls_config(tls)?;
    } else {
        if credentials.ca_pem.is_some() || credentials.client_identity.is_some() {
            return Err(format!("TLS options given but {url} is not https://").into());
        }
        let loopback = match uri.host() {
            Some("localhost") => true,
            Some(host) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
            None => false,
        };
        if credentials.token.is_some() && !loopback {
            return Err(format!(
                "refusing to send a bearer token in the clear to {url}: use https:// (and --ca)"
            )
            .into());
        }
    }
    let bearer = match &credentials.token {
        Some(token) => {
            let mut value: tonic::metadata::AsciiMetadataValue = format!("Bearer {token}")
                .parse()
                .map_err(|_| "the token is not printable ASCII")?;
            // Never indexed by HPACK, never printed by a Debug.
            value.set_sensitive(true);
            Some(value)
        }
        None => None,
    };
    let channel = endpoint.connect().await?;
    Ok(tonic::service::interceptor::InterceptedService::new(channel, Bearer(bearer)))
}

/// Opens a channel to `url` (e.g. `http://127.0.0.1:50051`).
pub async fn connect(url: &str) -> Result<Channel, Box<dyn std::error::Error + Send + Sync>> {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())?
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30));
    Ok(endpoint.connect().await?)
}

/// A message as pretty proto3 JSON with the proto field names, enums by name, and every field
/// present (defaults included), so the JSON mirrors the proto message exactly.
pub fn to_json<M: Message>(
    message: &M,
    full_name: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET)?;
    let descriptor = pool
        .get_message_by_name(full_name)
        .ok_or_else(|| format!("no message {full_name} in the contract"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())?;
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false);
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    dynamic.serialize_with_options(&mut serializer, &options)?;
    Ok(String::from_utf8(out)?)
}
