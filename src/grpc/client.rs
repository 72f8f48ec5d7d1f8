//! Client-side helpers for the CLI's remote subcommands: connecting, and printing any message
//! as proto3 JSON with the proto field names (via the embedded descriptor set).

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
