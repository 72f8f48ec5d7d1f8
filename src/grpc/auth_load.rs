//! The load behind `equipmatch bench auth`: GetSupplier — a cheap call that, unlike health,
//! needs a token when auth is on — from N connections × M calls in flight for a fixed time.

use std::time::{Duration, Instant};

use super::client::{AuthChannel, CatalogServiceClient};
use super::load::BoxError;
use super::pb;

/// The most connections and calls in flight per connection.
pub const CONNECTIONS_MAX: usize = 64;
pub const IN_FLIGHT_MAX: usize = 1024;
/// The suppliers the calls cycle through.
const SUPPLIER_IDS_MAX: u32 = 100;

/// Calls/s and latency of one measured phase (the same measure as `bench grpc`'s phases).
pub type Load = super::load::PhaseResult;

/// Runs GetSupplier for `warmup`, then measures for `measure`.
pub async fn get_supplier_load(
    channels: &[AuthChannel],
    in_flight: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<Load, BoxError> {
    let first = channels.first().ok_or("no connection")?;
    let page = CatalogServiceClient::new(first.clone())
        .list_suppliers(pb::ListSuppliersRequest {
            page: Some(pb::PageRequest { page_size: SUPPLIER_IDS_MAX, page_token: String::new() }),
            ..Default::default()
        })
        .await?
        .into_inner();
    let ids: Vec<String> = page.suppliers.into_iter().map(|s| s.id).collect();
    if ids.is_empty() {
        return Err("the server lists no suppliers".into());
    }
    let start = Instant::now() + warmup;
    let end = start + measure;
    let mut tasks = Vec::new();
    for (c, channel) in channels.iter().take(CONNECTIONS_MAX).enumerate() {
        for w in 0..in_flight.clamp(1, IN_FLIGHT_MAX) {
            let mut catalog = CatalogServiceClient::new(channel.clone());
            let ids = ids.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies: Vec<u32> = Vec::new();
                let mut errors = 0u64;
                let mut i = c * 131 + w * 17;
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    i += 1;
                    let request =
                        pb::GetSupplierRequest { supplier_id: ids[i % ids.len()].clone() };
                    let ok = catalog.get_supplier(request).await.is_ok();
                    let done = Instant::now();
                    if now >= start && done <= end {
                        latencies.push((done - now).as_micros().min(u128::from(u32::MAX)) as u32);
                        errors += u64::from(!ok);
                    }
                }
                (latencies, errors)
            }));
        }
    }
    super::load::collect_phase(tasks, measure).await
}
